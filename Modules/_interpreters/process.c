/* What happens to the interpreters of _interpreters when the process
 * exits or forks: see process.h.
 *
 * Py_FinalizeEx() aborts with "remaining subinterpreters" if any
 * interpreter but the main one still exists when it deletes the main
 * interpreter, at its very end.  It never finalizes them itself.  So the
 * first interpreter that executes _interpreters registers a C exit hook
 * with the main interpreter (_PyAtExit_AddCallback(), patch 0010): it
 * runs after the threading module has joined the non-daemon threads and
 * after the atexit hooks, and needs neither an import nor a Python object
 * in the main interpreter.  Every interpreter that _interpreters created
 * and that can be finalized is finalized there, like destroy() does.
 * What cannot (code still runs in it, in a daemon thread, or a daemon
 * thread of its own is alive, or a daemon thread was destroying it) is
 * abandoned: removed from the runtime's list of interpreters and never
 * freed.  The threads still using it stop for good when they next try to
 * take the GIL, as daemon threads always do once finalization started.
 *
 * The child of os.fork() has only the main interpreter (and the thread
 * that forked): the queues forget the waiters of the threads that are
 * gone.  That hook is an os.register_at_fork() one, so the main
 * interpreter registers it; when a subinterpreter imports _interpreters
 * first, it has the main interpreter import it too.
 *
 * Both hooks are registered once per process, however often the module is
 * imported again.
 */

#include "module.h"
#include "buffers.h"
#include "finalize.h"
#include "interrupt.h"
#include "process.h"
#include "runstate.h"
#include "pycore_ceval.h"         // _PyEval_AddPendingCall()
#include "pycore_pylifecycle.h"   // _PyAtExit_AddCallback()
#include "pycore_pystate.h"       // _PyInterpreterState_Main()

/*[clinic input]
module _interpreters
[clinic start generated code]*/
/*[clinic end generated code: output=da39a3ee5e6b4b0d input=bfd967980a0de892]*/

#include "clinic/process.c.h"


/* Remove interp from the runtime's list of interpreters, for good: see
   _PyInterpreterState_Abandon(). */
static void
interp_abandon(PyInterpreterState *interp, int64_t id)
{
    _PyInterpreterState_Abandon(interp);
    runstate_abandon(id);
}

/* Finalize or abandon interpreter id, if it is one of ours. */
static void
interp_finalize_at_exit(int64_t id)
{
    PyInterpreterState *interp = interp_find(id);
    if (interp == NULL || interp == _PyInterpreterState_Main()) {
        return;
    }
    PyThreadState *tstate0, *main, *spare;
    int err = runstate_begin_destroy(id, &tstate0, &main, &spare);
    if (err == RUNSTATE_UNKNOWN) {
        /* Not ours: whoever created it handles it, e.g.
           _xxsubinterpreters when its last interpreter ID object goes. */
        return;
    }
    if (err == RUNSTATE_DESTROYING) {
        /* By a daemon thread: it may still finish.  Else
           interp_abandon_remaining() sees to it. */
        return;
    }
    if (err < 0) {
        /* Code runs in it, in a daemon thread (or a thread that
           threading._shutdown() gave up on). */
        interp_abandon(interp, id);
        return;
    }
    if (spare != NULL) {
        PyThreadState_Delete(spare);
    }
    finalize_result res = interp_finalize(interp, tstate0, &main, 1);
    runstate_end_destroy(id, res == FINALIZE_OK, main);
    if (res != FINALIZE_OK) {
        interp_abandon(interp, id);
    }
}

/* Abandon what is left of our interpreters once the others are
   finalized: the ones that a daemon thread was destroying (the thread
   stops for good when it next takes the GIL).  Called with the GIL held,
   and the main interpreter's finalization does not release it before no
   other thread may take it any more: no other thread can create or
   delete interpreters meanwhile. */
static void
interp_abandon_remaining(void)
{
    Py_ssize_t count;
    int64_t *ids = interp_list_ids(&count);
    if (ids == NULL) {
        PyErr_WriteUnraisable(NULL);
        return;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyInterpreterState *interp = interp_find(ids[i]);
        if (interp != NULL && interp != _PyInterpreterState_Main()
            && runstate_contains(ids[i]))
        {
            interp_abandon(interp, ids[i]);
        }
    }
    PyMem_Free(ids);
}

/* The exit hook: finalize the interpreters still alive when the process
   exits.  Called by the main interpreter's _PyAtExit_Call(), after its
   threading module joined the non-daemon threads and after its atexit
   hooks (which may still use interpreters), before its finalization
   starts, in the main thread, with no exception set. */
static void
interpreters_at_exit(void *Py_UNUSED(data))
{
    if (runstate_shutdown()) {
        return;
    }
    /* From now on, nothing is waited for: interrupts wake their thread
       once, timeouts no longer expire. */
    interrupt_watchdog_stop();
    Py_ssize_t count;
    int64_t *ids = interp_list_ids(&count);
    if (ids == NULL) {
        PyErr_WriteUnraisable(NULL);
    }
    else {
        /* Newest first: an interpreter made by another one is finalized
           before it, as for Py_FinalizeEx(). */
        for (Py_ssize_t i = count - 1; i >= 0; i--) {
            interp_finalize_at_exit(ids[i]);
        }
        PyMem_Free(ids);
    }
    interp_abandon_remaining();
}

#ifdef HAVE_FORK
/*[clinic input]
_interpreters._after_fork_child

Forget what the threads that did not survive os.fork() left behind.

Registered with os.register_at_fork() by the main interpreter.  The
child has only the main interpreter and the thread that forked.
[clinic start generated code]*/

static PyObject *
_interpreters__after_fork_child_impl(PyObject *module)
/*[clinic end generated code: output=3154f77083a35bc2 input=1b7e301b0ec4d68a]*/
{
    runstate_after_fork_child();
    interrupt_after_fork_child();
    queues_after_fork_child();
    Py_RETURN_NONE;
}

/* Not a module attribute: only os.register_at_fork() has it. */
static PyMethodDef interpreters_after_fork_child_def[] = {
    _INTERPRETERS__AFTER_FORK_CHILD_METHODDEF
};
#endif

/* Free what all interpreters share, once the main interpreter is gone
   (registered with Py_AtExit()). */
static void
interpreters_fini_runtime(void)
{
    /* First: the queues' items may hold views of exports, which can no
       longer be released. */
    buffers_fini_runtime();
    queues_fini_runtime();
    /* Stopped at exit already, unless the exit hook never ran. */
    interrupt_watchdog_stop();
    runstate_fini();
}

/* A pending call of the main interpreter, run by its main thread: import
   _interpreters there, which registers the fork hook.  A pending call
   that fails raises in whatever code the main thread runs: report the
   error instead. */
static int
import_in_main(void *Py_UNUSED(arg))
{
    PyObject *module = PyImport_ImportModule("_interpreters");
    if (module == NULL) {
        PyErr_WriteUnraisable(NULL);
        return 0;
    }
    Py_DECREF(module);
    return 0;
}

/* In a subinterpreter: the fork hook must be in the main interpreter,
   which may never import _interpreters itself.  Have its main thread do
   so the next time it runs Python code.  (Nothing but the queues' waiters
   depends on it: see queues_after_fork_child().) */
static void
request_main_fork_hook(void)
{
    if (!runstate_request_fork_hook()) {
        return;
    }
    if (_PyEval_AddPendingCall(_PyInterpreterState_Main(), import_in_main,
                               NULL) < 0)
    {
        /* Its queue of pending calls is full: the next import retries. */
        runstate_cancel_fork_hook_request();
    }
}

/* Register the exit hook with the main interpreter, from C: nothing the
   main interpreter imports (or fails to import) can keep it away. */
static int
register_exit_hook(void)
{
    if (!runstate_claim_exit_hook()) {
        return 0;
    }
    if (_PyAtExit_AddCallback(_PyInterpreterState_Main(),
                              interpreters_at_exit, NULL) < 0)
    {
        runstate_release_exit_hook();
        return -1;
    }
    return 0;
}

/* In the main interpreter: register what runs in the child of
   os.fork(). */
static int
register_fork_hook(PyObject *module)
{
#ifdef HAVE_FORK
    PyObject *func = PyCFunction_New(interpreters_after_fork_child_def,
                                     module);
    if (func == NULL) {
        return -1;
    }
    PyObject *os = PyImport_ImportModule("os");
    if (os == NULL) {
        Py_DECREF(func);
        return -1;
    }
    PyObject *register_at_fork = PyObject_GetAttrString(os,
                                                        "register_at_fork");
    Py_DECREF(os);
    if (register_at_fork == NULL) {
        Py_DECREF(func);
        return -1;
    }
    PyObject *kwargs = Py_BuildValue("{sO}", "after_in_child", func);
    Py_DECREF(func);
    if (kwargs == NULL) {
        Py_DECREF(register_at_fork);
        return -1;
    }
    PyObject *empty = PyTuple_New(0);
    PyObject *res = NULL;
    if (empty != NULL) {
        res = PyObject_Call(register_at_fork, empty, kwargs);
        Py_DECREF(empty);
    }
    Py_DECREF(register_at_fork);
    Py_DECREF(kwargs);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
#endif
    return 0;
}

int
register_process_hooks(PyObject *module, int first_init)
{
    if (first_init) {
        /* XXX If all the 32 slots are taken, what all interpreters share
           is never freed. */
        (void)Py_AtExit(interpreters_fini_runtime);
    }
    if (register_exit_hook() < 0) {
        return -1;
    }
    if (!_Py_IsMainInterpreter(PyInterpreterState_Get())) {
        request_main_fork_hook();
        return 0;
    }
    if (!runstate_claim_fork_hook()) {
        return 0;
    }
    if (register_fork_hook(module) < 0) {
        runstate_release_fork_hook();
        return -1;
    }
    return 0;
}
