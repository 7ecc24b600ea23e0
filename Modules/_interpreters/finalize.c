/* Finalizing an interpreter that _interpreters created: see finalize.h.
 *
 * Everything here runs in the interpreter being finalized, with a thread
 * state of its own, except interp_finalize() itself, which switches to it.
 */

#include "module.h"
#include "finalize.h"
#include "buffers.h"
#include "pycore_interp.h"        // PyInterpreterState.atexit
#include "pycore_pylifecycle.h"   // _PyAtExit_Call()
#include "pycore_pystate.h"       // _PyThreadState_GET()


/* Return 1 if tstate is one of the n thread states in array, else 0. */
static int
tstate_in(PyThreadState *tstate, PyThreadState *const *array, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (array[i] == tstate) {
            return 1;
        }
    }
    return 0;
}

/* In the target interpreter: return 1 if a thread of it other than the
   current one and those in ours (thread states of this module's) is a
   daemon thread of the threading module, which threading._shutdown()
   would not wait for, 0 if not, -1 with an exception set on error.
   Threads not started by the threading module cannot be seen here:
   interp_has_other_threads() finds them later. */
static int
interp_has_daemon_threads(PyThreadState *const *ours, size_t nours)
{
    PyThreadState *current = _PyThreadState_GET();
    PyObject *threading = PyImport_GetModule(&_Py_ID(threading));
    if (threading == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    int res = -1;
    PyObject *daemons = NULL, *ident = NULL;
    PyObject *threads = PyObject_CallMethod(threading, "enumerate", NULL);
    if (threads == NULL) {
        goto done;
    }
    PyObject *seq = PySequence_Fast(threads, "enumerate() must return "
                                             "a sequence");
    if (seq == NULL) {
        goto done;
    }
    Py_SETREF(threads, seq);
    daemons = PySet_New(NULL);
    if (daemons == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(threads); i++) {
        PyObject *thread = PySequence_Fast_GET_ITEM(threads, i);
        PyObject *daemon = PyObject_GetAttrString(thread, "daemon");
        if (daemon == NULL) {
            goto done;
        }
        int is_daemon = PyObject_IsTrue(daemon);
        Py_DECREF(daemon);
        if (is_daemon < 0) {
            goto done;
        }
        if (!is_daemon) {
            continue;
        }
        /* _DummyThread objects (foreign OS threads that called
           current_thread() here) are daemons too, but none of this
           interpreter's thread states but ours can have their ident. */
        ident = PyObject_GetAttrString(thread, "ident");
        if (ident == NULL || PySet_Add(daemons, ident) < 0) {
            goto done;
        }
        Py_CLEAR(ident);
    }
    res = 0;
    PyThreadState *ts = PyInterpreterState_ThreadHead(current->interp);
    for (; ts != NULL; ts = PyThreadState_Next(ts)) {
        if (ts == current || tstate_in(ts, ours, nours)) {
            continue;
        }
        ident = PyLong_FromUnsignedLong(ts->thread_id);
        if (ident == NULL) {
            res = -1;
            goto done;
        }
        int found = PySet_Contains(daemons, ident);
        Py_CLEAR(ident);
        if (found != 0) {
            res = found;
            goto done;
        }
    }

done:
    Py_XDECREF(ident);
    Py_XDECREF(daemons);
    Py_XDECREF(threads);
    Py_DECREF(threading);
    return res;
}

/* Return 1 if interp has thread states other than the current one and
   those in ours (NULL entries skipped), else 0. */
static int
interp_has_other_threads(PyInterpreterState *interp,
                         PyThreadState *const *ours, size_t nours)
{
    PyThreadState *current = _PyThreadState_GET();
    PyThreadState *ts = PyInterpreterState_ThreadHead(interp);
    for (; ts != NULL; ts = PyThreadState_Next(ts)) {
        if (ts != current && !tstate_in(ts, ours, nours)) {
            return 1;
        }
    }
    return 0;
}

/* Return 1 if code runs on one of the n thread states in array (NULL
   entries skipped), else 0.  Our thread states never run code while the
   interpreter is being destroyed: one that does was borrowed by another
   module (_xxsubinterpreters runs code on the head thread state of an
   interpreter), and runs in a thread that let the GIL go meanwhile.  The
   GIL, which all interpreters share, keeps that from changing while the
   caller holds it. */
static int
tstates_run_code(PyThreadState *const *array, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (array[i] != NULL && array[i]->cframe->current_frame != NULL) {
            return 1;
        }
    }
    return 0;
}

/* How many times interp_finalize() runs the atexit hooks that finalizers,
   hooks and threads register while it shuts the interpreter down */
#define FINALIZE_MAX_ROUNDS 3

/* Return 1 if interp has atexit hooks that did not run yet, else 0. */
static int
interp_has_atexit_hooks(PyInterpreterState *interp)
{
    return (interp->atexit.ncallbacks > 0
            || interp->atexit_ll_callbacks != NULL);
}

/* In the target interpreter: call threading._shutdown() if the threading
   module was imported.  It calls the hooks of threading._register_atexit()
   and waits for all non-daemon threads, releasing the GIL meanwhile. */
static void
interp_shutdown_threads(void)
{
    PyObject *threading = PyImport_GetModule(&_Py_ID(threading));
    if (threading == NULL) {
        if (PyErr_Occurred()) {
            PyErr_WriteUnraisable(NULL);
        }
        return;
    }
    PyObject *res = PyObject_CallMethodNoArgs(threading, &_Py_ID(_shutdown));
    if (res == NULL) {
        /* A hook raised, and _shutdown() stopped there, before joining the
           threads.  Report it, drop the hooks so that each runs once, as
           at the exit of the main interpreter, and finish the job. */
        PyErr_WriteUnraisable(threading);
        PyObject *hooks = PyObject_GetAttrString(threading,
                                                 "_threading_atexits");
        if (hooks == NULL || !PyList_Check(hooks)
            || PyList_SetSlice(hooks, 0, PY_SSIZE_T_MAX, NULL) < 0)
        {
            PyErr_Clear();
        }
        Py_XDECREF(hooks);
        res = PyObject_CallMethodNoArgs(threading, &_Py_ID(_shutdown));
        if (res == NULL) {
            PyErr_WriteUnraisable(threading);
        }
    }
    Py_XDECREF(res);
    Py_DECREF(threading);
}

/* In the target interpreter: wait for the non-daemon threads of the
   threading module, but its main thread, that are still alive.  Once
   threading._shutdown() ran, later calls return at once: threads started
   since (by an atexit hook, a finalizer, or after a refused destroy())
   are joined here. */
static void
interp_join_threads(void)
{
    PyObject *threading = PyImport_GetModule(&_Py_ID(threading));
    if (threading == NULL) {
        if (PyErr_Occurred()) {
            PyErr_WriteUnraisable(NULL);
        }
        return;
    }
    PyObject *threads = NULL, *main = NULL, *seq = NULL;
    main = PyObject_CallMethod(threading, "main_thread", NULL);
    if (main == NULL) {
        goto error;
    }
    threads = PyObject_CallMethod(threading, "enumerate", NULL);
    if (threads == NULL) {
        goto error;
    }
    seq = PySequence_Fast(threads, "enumerate() must return a sequence");
    if (seq == NULL) {
        goto error;
    }
    unsigned long current = PyThread_get_thread_ident();
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *thread = PySequence_Fast_GET_ITEM(seq, i);
        if (thread == main) {
            continue;
        }
        PyObject *daemon = PyObject_GetAttrString(thread, "daemon");
        if (daemon == NULL) {
            goto error;
        }
        int is_daemon = PyObject_IsTrue(daemon);
        Py_DECREF(daemon);
        if (is_daemon < 0) {
            goto error;
        }
        if (is_daemon) {
            continue;
        }
        PyObject *ident = PyObject_GetAttrString(thread, "ident");
        if (ident == NULL) {
            goto error;
        }
        int same = (PyLong_Check(ident)
                    && PyLong_AsUnsignedLong(ident) == current);
        Py_DECREF(ident);
        if (PyErr_Occurred()) {
            goto error;
        }
        if (same) {
            continue;
        }
        PyObject *res = PyObject_CallMethod(thread, "join", NULL);
        if (res == NULL) {
            goto error;
        }
        Py_DECREF(res);
    }
    goto done;

error:
    PyErr_WriteUnraisable(threading);
done:
    Py_XDECREF(seq);
    Py_XDECREF(threads);
    Py_XDECREF(main);
    Py_DECREF(threading);
}

/* In the target interpreter: delete *main, the thread state of the
   threading module's main thread (see interp_exit()), and set *main to
   NULL.  That releases the main thread's lock. */
static void
interp_delete_main(PyThreadState **main)
{
    PyThreadState_Clear(*main);
    PyThreadState_Delete(*main);
    *main = NULL;
}

/* In the target interpreter: once threading._shutdown() ran and the main
   thread's state is gone, make the threading module see that its main
   thread stopped.  Else each later call, Py_EndInterpreter()'s too, would
   call the threading atexit hooks again. */
static void
interp_stop_main_thread(void)
{
    PyObject *threading = PyImport_GetModule(&_Py_ID(threading));
    if (threading == NULL) {
        PyErr_Clear();
        return;
    }
    PyObject *main = PyObject_CallMethod(threading, "main_thread", NULL);
    Py_DECREF(threading);
    if (main == NULL) {
        PyErr_Clear();
        return;
    }
    /* A thread only notices that it stopped when asked. */
    PyObject *res = PyObject_CallMethod(main, "is_alive", NULL);
    Py_DECREF(main);
    if (res == NULL) {
        PyErr_Clear();
    }
    Py_XDECREF(res);
}

/* In the target interpreter: flush sys.stdout and sys.stderr, as
   Py_FinalizeEx() does for the main interpreter. */
static void
interp_flush_std_files(void)
{
    const char *names[] = {"stdout", "stderr"};
    for (size_t i = 0; i < Py_ARRAY_LENGTH(names); i++) {
        PyObject *file = PySys_GetObject(names[i]);
        if (file == NULL || file == Py_None) {
            continue;
        }
        PyObject *res = PyObject_CallMethod(file, "flush", NULL);
        if (res == NULL) {
            PyErr_Clear();
        }
        Py_XDECREF(res);
    }
}

finalize_result
interp_finalize(PyInterpreterState *interp, PyThreadState *tstate0,
                PyThreadState **main, int at_exit)
{
    PyThreadState *tstate = PyThreadState_New(interp);
    if (tstate == NULL) {
        return FINALIZE_NOMEM;
    }
    PyThreadState *caller = PyThreadState_Swap(tstate);
    /* tstate too: interp_finalize() itself runs no code on it, so a frame
       there is another module's. */
    PyThreadState *ours[3] = {tstate, tstate0, *main};
    int gc_enabled = -1;

    finalize_result res = FINALIZE_OK;
    if (tstates_run_code(ours, 3)) {
        res = FINALIZE_RUNNING;
        goto refused;
    }
    if (!at_exit) {
        int found = interp_has_daemon_threads(ours + 1, 2);
        if (found != 0) {
            if (found < 0) {
                PyErr_WriteUnraisable(NULL);
            }
            res = FINALIZE_DAEMON_THREADS;
            goto refused;
        }
    }

    /* What Py_EndInterpreter() does, in the same order.  Called from the
       main thread, threading._shutdown() stops it.  Called from another
       thread, it waits for the main thread like for the others: for its
       thread state to go. */
    if (*main != NULL && (*main)->thread_id != PyThread_get_thread_ident()) {
        interp_delete_main(main);
        ours[2] = NULL;
    }
    /* XXX If it is interrupted (Ctrl-C), threads may be left: the
       interpreter is then left alive, as below. */
    interp_shutdown_threads();
    if (ours[2] == NULL) {
        interp_stop_main_thread();
    }
    interp_join_threads();
    _PyAtExit_Call(interp);
    interp_flush_std_files();

    /* Clear what Py_EndInterpreter() would, before it checks that no other
       thread is left: finalizers run there, and may start threads.  Not
       while another module runs code on our thread states, which the GIL
       let it start meanwhile. */
    if (tstates_run_code(ours, 3)) {
        res = FINALIZE_RUNNING;
        goto refused;
    }
    if (*main != NULL) {
        interp_delete_main(main);
        ours[2] = NULL;
    }
    /* Also if threading._shutdown() raised before it stopped the main
       thread: Py_EndInterpreter() calls it again. */
    interp_stop_main_thread();
    PyThreadState_Clear(tstate0);
    /* The finalizers that ran may have registered atexit hooks and started
       threads, and so may those hooks and threads: run the hooks and wait
       for the non-daemon threads until nothing new comes up. */
    for (int round = 0; ; round++) {
        _PyAtExit_Call(interp);
        interp_join_threads();
        PyGC_Collect();
        if (!interp_has_atexit_hooks(interp)) {
            break;
        }
        if (round == FINALIZE_MAX_ROUNDS) {
            res = FINALIZE_HOOKS;
            goto refused;
        }
    }

    /* Check last, and let nothing run between the check and
       Py_EndInterpreter()'s own that could start a thread: no collection,
       no atexit hook (none is left), no threading hook
       (threading._shutdown() returns at once now).  Python code still runs
       there and may let the GIL go, but no other thread has a thread state
       of the interpreter any more, and none may run code on ours: this
       module refuses an interpreter being destroyed, and
       _xxsubinterpreters one whose head thread state runs code. */
    gc_enabled = PyGC_Disable();
    if (tstates_run_code(ours, 3)) {
        res = FINALIZE_RUNNING;
        goto refused;
    }
    if (interp_has_other_threads(interp, ours, 3)) {
        res = FINALIZE_THREADS;
        goto refused;
    }

    int64_t id = PyInterpreterState_GetID(interp);
    /* tstate keeps the interpreter from having no thread state. */
    PyThreadState_Delete(tstate0);
    /* Py_EndInterpreter(), handing what the interpreter still exports to
       the main interpreter, then swap back to caller. */
    buffers_end_interpreter(tstate, caller);
    /* Its queue items bound to it go, now that it can put no more. */
    queues_interp_destroyed(id);
    return FINALIZE_OK;

refused:
    if (gc_enabled > 0) {
        PyGC_Enable();
    }
    PyThreadState_Clear(tstate);
    PyThreadState_Swap(caller);
    PyThreadState_Delete(tstate);
    return res;
}
