/* The run state of interpreters, shared by all of them.
 *
 * For every interpreter that _interpreters created, a registry entry says
 * whether code runs in it through this module, whether it is being
 * destroyed, and how many Interpreter objects of concurrent.interpreters,
 * in all interpreters, refer to it (the last one may close it).  The
 * registry is plain C data protected by a lock: every interpreter sees the
 * same entries.  _interpreters only runs code in and destroys the
 * interpreters it has entries for: the ones that other code created, and
 * its own while Py_NewInterpreter() still initializes them, are not its
 * to touch.
 *
 * Per OS thread, it also keeps a token that tells the thread apart from
 * any other the process ever had, and the chain of the thread's switches
 * to other interpreters (see interp_enter()).
 *
 * The registry also knows the run in progress in each interpreter, to
 * interrupt it (see interrupt.h).
 *
 * The functions below never raise: they return 0 or a negative
 * RUNSTATE_* code that the caller turns into an exception once it no
 * longer holds the lock.  They must be called with the GIL held, except
 * runstate_watch().
 */

#ifndef Py_INTERPRETERS_RUNSTATE_H
#define Py_INTERPRETERS_RUNSTATE_H

#include "module.h"

/* Error codes */
#define RUNSTATE_NOMEM          (-1)
#define RUNSTATE_RUNNING        (-2)    /* code runs in the interpreter */
#define RUNSTATE_DESTROYING     (-3)    /* the interpreter is being
                                           destroyed */
#define RUNSTATE_SHUTDOWN       (-4)    /* the process is exiting */
#define RUNSTATE_UNKNOWN        (-5)    /* no entry for the interpreter */

/* Set up the registry and the per-OS-thread keys if they are not set up
   yet.  Return 1 if this call did it, 0 if it was already done, or
   RUNSTATE_NOMEM. */
extern int runstate_init(void);

/* Free the registry.  Called once the main interpreter is gone, when no
   thread can run Python code any more. */
extern void runstate_fini(void);

/* Record interpreter id, just created by _interpreters with the thread
   state tstate0.  Fail with RUNSTATE_SHUTDOWN once runstate_shutdown()
   was called. */
extern int runstate_add(int64_t id, PyThreadState *tstate0);

/* Mark interpreter id running, from the OS thread whose token is token
   (see runstate_thread_token()), until deadline (a monotonic clock time)
   or without a timeout if deadline is negative.  *tstate receives a
   thread state of the interpreter that a previous run from the same OS
   thread cleared and left for reuse, or NULL: the caller is then to make
   one and call runstate_attach().  *stale receives one left by another
   OS thread, or NULL, which the caller must delete. */
extern int runstate_start(int64_t id, uintptr_t token, _PyTime_t deadline,
                          PyThreadState **tstate, PyThreadState **stale);

/* The run of interpreter id that runstate_start() began without a thread
   state runs with tstate, made by the calling thread. */
extern void runstate_attach(int64_t id, PyThreadState *tstate);

/* Interrupt the run in progress in interpreter id (see
   _PyThreadState_RequestInterrupt()), with unwinding if unwind is set,
   and wake up its thread.  Return 1 if interpreter id runs, else 0, or
   RUNSTATE_NOMEM. */
extern int runstate_interrupt(int64_t id, int unwind);

/* Called by the watchdog (see interrupt.h), without a GIL, at time now:
   interrupt the runs whose deadline passed and wake up again the threads
   whose interrupt is still pending.  Return when to be called again (a
   monotonic clock time), or -1 if there is nothing to watch. */
extern _PyTime_t runstate_watch(_PyTime_t now);

/* Return 1 if interpreter id has a main thread state (see runstate_stop()),
   else 0. */
extern int runstate_has_main(int64_t id);

/* Mark interpreter id no longer running, and hand over tstate, a thread
   state of it that the caller no longer uses (or NULL): to keep as its
   main thread state if as_main is set and it has none yet, else, cleared,
   for reuse by the next run from the OS thread whose token is token.
   An interrupt requested for the run and not taken is dropped.  Set
   *timed_out (if not NULL) to 1 if the run's deadline passed, else 0.
   Return a thread state that the caller must delete (tstate if it was
   not kept), or NULL. */
extern PyThreadState *runstate_stop(int64_t id, PyThreadState *tstate,
                                    int as_main, uintptr_t token,
                                    int *timed_out);

/* Return 1 if interpreter id has an entry, else 0. */
extern int runstate_contains(int64_t id);

/* Return 1 if code runs in interpreter id through this module, else 0. */
extern int runstate_is_running(int64_t id);

/* Mark interpreter id as being destroyed.  *tstate0 receives the thread
   state it was created with, *main its main thread state (or NULL), and
   *spare its spare thread state (or NULL), which the caller must
   delete. */
extern int runstate_begin_destroy(int64_t id, PyThreadState **tstate0,
                                  PyThreadState **main,
                                  PyThreadState **spare);

/* End what runstate_begin_destroy() started: forget interpreter id if it
   was destroyed, else clear its mark and record main, its main thread
   state, NULL if it was deleted meanwhile. */
extern void runstate_end_destroy(int64_t id, int destroyed,
                                 PyThreadState *main);

/* Count one more Interpreter object of concurrent.interpreters (in any
   interpreter) for interpreter id; with autoclose, mark id to be closed
   when the last of them goes (see runstate_decref()).  Return 0 or
   RUNSTATE_UNKNOWN. */
extern int runstate_incref(int64_t id, int autoclose);

/* Count one Interpreter object less for interpreter id, released by code
   running in interpreter current_id.  Return 1 if that was the last one
   of an interpreter marked autoclose that can be closed now (it is idle,
   the process is not exiting and current_id is not being destroyed): the
   caller is to close it, and *known_tstates receives how many thread
   states of it the registry holds, which the caller compares with how
   many it has, to leave it alone while other threads run there.  Else
   return 0, or RUNSTATE_UNKNOWN if id has no entry or no reference. */
extern int runstate_decref(int64_t id, int64_t current_id,
                           int *known_tstates);

/* The main interpreter is exiting: make runstate_add() fail from now on.
   Return 1 if runstate_shutdown() was already called, else 0. */
extern int runstate_shutdown(void);

/* Return 1 after runstate_shutdown(), else 0. */
extern int runstate_is_shutting_down(void);

/* Interpreter id, still running or unable to finalize when the process
   exits, is left behind, never to be freed: keep no thread state of it for
   reuse. */
extern void runstate_abandon(int64_t id);

/* The hooks of the process (see process.h) are set up once per process,
   whichever interpreter imports _interpreters first and however often it
   is imported again.  Return 1 if the caller is the first to ask for the
   exit hook and is to register it now, else 0. */
extern int runstate_claim_exit_hook(void);

/* Registering the exit hook that runstate_claim_exit_hook() allowed
   failed: let the next caller try again. */
extern void runstate_release_exit_hook(void);

/* The same for the fork hook, which only the main interpreter can
   register: in the main interpreter, runstate_claim_fork_hook() returns 1
   to the first caller, who registers it and calls
   runstate_release_fork_hook() if that failed. */
extern int runstate_claim_fork_hook(void);
extern void runstate_release_fork_hook(void);

/* In a subinterpreter: return 1 if the fork hook is not registered and
   nobody asked the main interpreter for it yet: the caller is to ask it
   now.  Else return 0. */
extern int runstate_request_fork_hook(void);

/* The request that runstate_request_fork_hook() allowed could not be
   made: let the next caller try again. */
extern void runstate_cancel_fork_hook_request(void);

/* In the child of fork(): forget the runs of the threads that did not
   survive, and make the lock usable. */
extern void runstate_after_fork_child(void);

/* Per OS thread: what the calling OS thread is doing in interpreters.
   Thread IDs (pthread_self()) are reused once a thread exits, so they
   cannot tell a thread state made by a dead thread from one of the
   calling thread: tokens can. */

/* Return the token of the calling OS thread, unique for the life of the
   process, or 0 if it could not be recorded (no memory). */
extern uintptr_t runstate_thread_token(void);

/* Return what the calling OS thread last recorded with
   runstate_set_thread_switch() (its innermost switch to another
   interpreter, see interp_enter()), or NULL. */
extern void *runstate_thread_switch(void);

/* Record sw for the calling OS thread.  Return 0 or RUNSTATE_NOMEM. */
extern int runstate_set_thread_switch(void *sw);

#endif /* !Py_INTERPRETERS_RUNSTATE_H */
