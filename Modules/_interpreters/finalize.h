/* Finalizing an interpreter that _interpreters created.
 *
 * Py_EndInterpreter() aborts the process if the interpreter still has a
 * thread state other than the caller's, and leaves the waiting for its
 * threads to the threading module.  interp_finalize() does what
 * Py_EndInterpreter() would do first, then clears what runs finalizers
 * (which may start threads), and only calls Py_EndInterpreter() once it
 * has checked, last, that it will succeed.  Else it gives up, leaving the
 * interpreter alive.
 */

#ifndef Py_INTERPRETERS_FINALIZE_H
#define Py_INTERPRETERS_FINALIZE_H

#include "module.h"

/* Why interp_finalize() gave up */
typedef enum {
    FINALIZE_OK = 0,
    FINALIZE_NOMEM,
    FINALIZE_RUNNING,           /* code runs on one of the thread states
                                   of ours, borrowed by another module
                                   (before shutting down, or after) */
    FINALIZE_DAEMON_THREADS,    /* it has daemon threads (before shutting
                                   down) */
    FINALIZE_THREADS,           /* it still has other threads (after) */
    FINALIZE_HOOKS,             /* atexit hooks kept registering atexit
                                   hooks (after) */
} finalize_result;

/* Finalize interp, which is neither the current, nor the main, nor a
   running interpreter, nor one the calling OS thread runs in, and which
   the caller marked as being destroyed.  tstate0 is the thread state it
   was created with, *main the state of its threading module's main thread
   or NULL; *main is set to NULL if that goes.

   Py_EndInterpreter() aborts the process if any other thread state of the
   interpreter is left once it has waited for the non-daemon threads: so
   first refuse if daemon threads run there or if code runs on one of
   our thread states, then shut down as Py_EndInterpreter() does (the
   threading module's hooks, waiting for the non-daemon threads, the
   atexit hooks), clear our thread states, run the atexit hooks that
   finalizers registered meanwhile and wait for the non-daemon threads
   they started, and refuse if anything is left.  At exit (at_exit set),
   go on after daemon threads are found, to run the interpreter's atexit
   hooks before giving up.

   A refusal before shutting down leaves the interpreter as it was.  A
   refusal after (FINALIZE_THREADS, FINALIZE_HOOKS, or FINALIZE_RUNNING
   found late) leaves
   it shut down but usable: its threading module's hooks and its atexit
   hooks ran (each once), its threading main thread is stopped, the
   thread states of ours are cleared, and a later call waits again for
   the non-daemon threads and runs the hooks registered since.

   Once the interpreter is gone, tell the queues
   (queues_interp_destroyed()).  Return FINALIZE_OK, or why the
   interpreter is still alive (no exception set). */
extern finalize_result interp_finalize(PyInterpreterState *interp,
                                       PyThreadState *tstate0,
                                       PyThreadState **main, int at_exit);

#endif /* !Py_INTERPRETERS_FINALIZE_H */
