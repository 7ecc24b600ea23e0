/* The run state of interpreters, shared by all of them.
 *
 * For every interpreter that _interpreters created, a registry entry says
 * whether code runs in it through this module and whether it is being
 * destroyed.  The registry is plain C data protected by a lock: every
 * interpreter sees the same entries.  _interpreters only runs code in and
 * destroys the interpreters it has entries for: the ones that other code
 * created, and its own while Py_NewInterpreter() still initializes them,
 * are not its to touch.
 *
 * The functions below never raise: they return 0 or a negative
 * RUNSTATE_* code that the caller turns into an exception once it no
 * longer holds the lock.  They must be called with the GIL held.
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

/* Set up the registry if it is not set up yet.  Return 1 if this call did
   it, 0 if it was already done, or RUNSTATE_NOMEM. */
extern int runstate_init(void);

/* Free the registry.  Called once the main interpreter is gone, when no
   thread can run Python code any more. */
extern void runstate_fini(void);

/* Record interpreter id, just created by _interpreters with the thread
   state tstate0.  Fail with RUNSTATE_SHUTDOWN once runstate_shutdown()
   was called. */
extern int runstate_add(int64_t id, PyThreadState *tstate0);

/* Mark interpreter id running.  *spare receives a thread state of the
   interpreter that a previous run cleared and left for reuse, or NULL. */
extern int runstate_start(int64_t id, PyThreadState **spare);

/* Return 1 if interpreter id has a main thread state (see runstate_stop()),
   else 0. */
extern int runstate_has_main(int64_t id);

/* Mark interpreter id no longer running, and hand over tstate, a thread
   state of it that the caller no longer uses (or NULL): to keep as its
   main thread state if as_main is set and it has none yet, else, cleared,
   for reuse by the next run.  Return a thread state that the caller must
   delete (tstate if it was not kept), or NULL. */
extern PyThreadState *runstate_stop(int64_t id, PyThreadState *tstate,
                                    int as_main);

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

/* The main interpreter is exiting: make runstate_add() fail from now on.
   Return 1 if runstate_shutdown() was already called, else 0. */
extern int runstate_shutdown(void);

/* Return 1 after runstate_shutdown(), else 0. */
extern int runstate_is_shutting_down(void);

/* Interpreter id, still running or unable to finalize when the process
   exits, is left behind, never to be freed: keep no thread state of it for
   reuse. */
extern void runstate_abandon(int64_t id);

/* The main interpreter registered its exit hooks. */
extern void runstate_exit_hooks_registered(void);

/* Return 1 if the main interpreter has no exit hooks and nobody asked it
   for them yet: the caller is to ask it now.  Else return 0. */
extern int runstate_request_exit_hooks(void);

/* The request that runstate_request_exit_hooks() allowed could not be
   made: let the next caller try again. */
extern void runstate_cancel_exit_hooks_request(void);

#endif /* !Py_INTERPRETERS_RUNSTATE_H */
