/* Stopping code that runs in an interpreter: waking up its thread, and
 * the watchdog thread.
 *
 * Interpreter.interrupt() and the timeouts of run()/exec() ask the core
 * to raise KeyboardInterrupt in the thread state of the run (see
 * _PyThreadState_RequestInterrupt()).  That reaches the eval loop at once,
 * but a thread blocked in a system call must be woken up for it: this
 * file sends it SIGURG, whose handler does nothing, so that the call
 * fails with EINTR and the blocking function checks for signals
 * (PEP 475), where the core raises the interrupt.  SIGURG is ignored by
 * default and rarely used (Go's runtime chose it for the same purpose);
 * the handler is installed the first time it is needed, only if SIGURG
 * still has its default disposition, and a thread is only woken while the
 * handler is still ours: a program that handles SIGURG itself never gets
 * one from us, and its blocking calls then wait until they return.
 *
 * A signal sent just before the thread blocks is lost, and code may
 * catch the interrupt and block again: so the watchdog, a C thread that
 * never takes a GIL, wakes the thread again every WAKE_INTERVAL while the
 * interrupt is pending.  It also interrupts the runs whose timeout
 * expired.  What to do is in the registry (runstate_watch()); the
 * watchdog only keeps time.  It starts the first time it is needed and
 * stops when the process exits.
 */

#ifndef Py_INTERPRETERS_INTERRUPT_H
#define Py_INTERPRETERS_INTERRUPT_H

#include "module.h"

/* How often a thread with a pending interrupt is woken up again */
#define INTERRUPT_WAKE_INTERVAL_MS 10

/* Wake up the OS thread thread_id (a PyThread_get_thread_ident() value)
   if it is blocked in a system call.  The caller guarantees that the
   thread is alive (the registry lock, held, keeps its run from ending).
   No GIL needed.  Does nothing where it cannot be done. */
extern void interrupt_wake_thread(unsigned long thread_id);

/* Have the watchdog look at the registry now, starting it if need be.
   Call with the GIL held and without the registry lock.  Return 0, or -1
   if the watchdog cannot run (no memory, no thread, or the process is
   exiting): then pending interrupts are only woken up once and timeouts
   do not expire. */
extern int interrupt_watchdog_poke(void);

/* Stop the watchdog and wait until it has stopped.  Called once, when
   the process exits, with the GIL held. */
extern void interrupt_watchdog_stop(void);

/* In the child of fork(): the watchdog thread did not survive. */
extern void interrupt_after_fork_child(void);

#endif /* !Py_INTERPRETERS_INTERRUPT_H */
