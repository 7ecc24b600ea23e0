/* What happens to the interpreters of _interpreters when the process
 * exits or forks: see process.h.
 *
 * Py_FinalizeEx() aborts with "remaining subinterpreters" if any
 * interpreter but the main one still exists when it deletes the main
 * interpreter, at its very end.  It never finalizes them itself.  So the
 * main interpreter's _interpreters module registers an atexit hook (when
 * a subinterpreter imports _interpreters first, it has the main
 * interpreter import it too), which runs after the threading module has
 * joined the non-daemon threads: every interpreter that _interpreters
 * created and that can be finalized is finalized there, like destroy()
 * does.  What cannot (code still runs in it, in a daemon thread, or a
 * daemon thread of its own is alive) is abandoned: removed from the
 * runtime's list of interpreters and never freed.  The threads still using
 * it stop for good when they next try to take the GIL, as daemon threads
 * always do once finalization started.  What a daemon thread was
 * destroying meanwhile is abandoned later, when the main interpreter
 * clears its dict.
 *
 * The child of os.fork() has only the main interpreter (and the thread
 * that forked): the queues forget the waiters of the threads that are
 * gone.
 */

#include "module.h"
#include "finalize.h"
#include "process.h"
#include "runstate.h"
#include "pycore_ceval.h"         // _PyEval_AddPendingCall()
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

/* Abandon what is left of our interpreters, in case the atexit hook could
   not see to everything: a daemon thread was destroying one.  Called when
   the main interpreter clears its dict (PyInterpreterState_GetDict()),
   late in its finalization, when no other thread can run any more, and
   before it checks that no other interpreter is left.  (The main
   interpreter's _interpreters module may never be freed: a daemon thread
   stuck in one of its functions keeps it alive.) */
static void
interp_abandon_remaining(PyObject *capsule)
{
    if (!_Py_IsFinalizing()) {
        /* Someone removed the capsule from the dict. */
        return;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    Py_ssize_t count;
    int64_t *ids = interp_list_ids(&count);
    if (ids == NULL) {
        PyErr_Restore(type, value, tb);
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
    PyErr_Restore(type, value, tb);
}

/*[clinic input]
_interpreters._at_exit

Finalize the interpreters still alive when the process exits.

Registered with atexit by the main interpreter.
[clinic start generated code]*/

static PyObject *
_interpreters__at_exit_impl(PyObject *module)
/*[clinic end generated code: output=4cfca76f5bcf1aa9 input=b1e6ea9884ac554a]*/
{
    if (runstate_shutdown()) {
        Py_RETURN_NONE;
    }
    Py_ssize_t count;
    int64_t *ids = interp_list_ids(&count);
    if (ids == NULL) {
        return NULL;
    }
    /* Newest first: an interpreter made by another one is finalized
       before it, as for Py_FinalizeEx(). */
    for (Py_ssize_t i = count - 1; i >= 0; i--) {
        interp_finalize_at_exit(ids[i]);
    }
    PyMem_Free(ids);
    Py_RETURN_NONE;
}

/* Not a module attribute: only atexit has it. */
static PyMethodDef interpreters_at_exit_def[] = {
    _INTERPRETERS__AT_EXIT_METHODDEF
};

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
    queues_fini_runtime();
    runstate_fini();
}

#define FINALIZATION_HOOK_KEY "_interpreters.finalization_hook"

/* A pending call of the main interpreter, run by its main thread: import
   _interpreters there, which registers its exit hooks.  A pending call
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

/* In a subinterpreter: the atexit hook must be in the main interpreter,
   which may never import _interpreters itself.  Have its main thread do
   so the next time it runs Python code, at the latest just before it
   calls the atexit hooks when the process exits
   (_Py_FinishPendingCalls()). */
static void
request_main_exit_hooks(void)
{
    if (!runstate_request_exit_hooks()) {
        return;
    }
    if (_PyEval_AddPendingCall(_PyInterpreterState_Main(), import_in_main,
                               NULL) < 0)
    {
        /* Its queue of pending calls is full: the next import retries. */
        runstate_cancel_exit_hooks_request();
    }
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
    if (!_Py_IsMainInterpreter(PyInterpreterState_Get())) {
        request_main_exit_hooks();
        return 0;
    }
    PyObject *interp_dict = PyInterpreterState_GetDict(
                                PyInterpreterState_Get());
    if (interp_dict == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *capsule = PyCapsule_New(interpreters_at_exit_def,
                                      FINALIZATION_HOOK_KEY,
                                      interp_abandon_remaining);
    if (capsule == NULL) {
        return -1;
    }
    int err = PyDict_SetItemString(interp_dict, FINALIZATION_HOOK_KEY,
                                   capsule);
    Py_DECREF(capsule);
    if (err < 0) {
        return -1;
    }

    PyObject *func = PyCFunction_New(interpreters_at_exit_def, module);
    if (func == NULL) {
        return -1;
    }
    PyObject *atexit = PyImport_ImportModule("atexit");
    if (atexit == NULL) {
        Py_DECREF(func);
        return -1;
    }
    PyObject *res = PyObject_CallMethod(atexit, "register", "O", func);
    Py_DECREF(atexit);
    Py_DECREF(func);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    runstate_exit_hooks_registered();
    return register_fork_hook(module);
}
