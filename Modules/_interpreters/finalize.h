/* Finalizing an interpreter that _interpreters created.
 *
 * Py_EndInterpreter() aborts the process if the interpreter still has a
 * thread state other than the caller's, and leaves the waiting for its
 * threads to the threading module.  interp_finalize() does what
 * Py_EndInterpreter() would do first, and gives up, leaving the
 * interpreter alive, where it would abort.
 */

#ifndef Py_INTERPRETERS_FINALIZE_H
#define Py_INTERPRETERS_FINALIZE_H

#include "module.h"

/* Why interp_finalize() gave up */
typedef enum {
    FINALIZE_OK = 0,
    FINALIZE_NOMEM,
    FINALIZE_DAEMON_THREADS,    /* it has daemon threads (before joining) */
    FINALIZE_THREADS,           /* it still has other threads (after) */
} finalize_result;

/* Finalize interp, which is neither the current, nor the main, nor a
   running interpreter, and which the caller marked as being destroyed.
   tstate0 is the thread state it was created with, *main the state of
   its threading module's main thread or NULL; *main is set to NULL if
   that goes.

   Py_EndInterpreter() aborts the process if any other thread state of the
   interpreter is left once it has waited for the non-daemon threads: so
   first refuse if daemon threads run there, then wait for the others
   ourselves, and refuse if anything is left.  At exit (at_exit set), go
   on after daemon threads are found, to run the interpreter's atexit
   hooks before giving up.

   Return FINALIZE_OK, or why the interpreter is still alive (no
   exception set). */
extern finalize_result interp_finalize(PyInterpreterState *interp,
                                       PyThreadState *tstate0,
                                       PyThreadState **main, int at_exit);

#endif /* !Py_INTERPRETERS_FINALIZE_H */
