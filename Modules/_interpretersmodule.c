/* _interpreters module: create interpreters and run code in them (PEP 554)
 *
 * The public API is Lib/interpreters.py.  This file has the module
 * definition and the interpreter functions; the queues are in
 * _interpreters/queues.c, how objects cross between interpreters in
 * _interpreters/crossdata.c.
 */

#ifndef Py_BUILD_CORE_BUILTIN
#  define Py_BUILD_CORE_MODULE 1
#endif

#include "Python.h"
#include "pycore_ceval.h"         // _PyEval_AddPendingCall()
#include "pycore_interp.h"        // PyInterpreterState.id
#include "pycore_moduleobject.h"  // _PyModule_GetState()
#include "pycore_pylifecycle.h"   // _PyAtExit_Call()
#include "pycore_pystate.h"       // _PyThreadState_GET()

#include "_interpreters/module.h"
#include "_interpreters/crossdata.h"
#include "_interpreters/excinfo.h"
#include "_interpreters/runstate.h"

/*[clinic input]
module _interpreters
[clinic start generated code]*/
/*[clinic end generated code: output=da39a3ee5e6b4b0d input=bfd967980a0de892]*/


/* ------------------------------------------------------------------------
   Module state
*/

interpreters_state *
interpreters_get_state(PyObject *module)
{
    interpreters_state *st = _PyModule_GetState(module);
    assert(st != NULL);
    return st;
}

/* Return sys.modules[name], a new reference, or NULL, with an exception
   set only on error.  Unlike PyImport_GetModule(), skip the check that the
   module finished initializing, which raises and clears an AttributeError
   each time: some callers run for every call(). */
static PyObject *
get_imported_module(PyObject *name)
{
    PyObject *modules = PyImport_GetModuleDict();
    if (!PyDict_CheckExact(modules)) {
        return PyImport_GetModule(name);
    }
    return Py_XNewRef(PyDict_GetItemWithError(modules, name));
}

interpreters_state *
interpreters_current_state(void)
{
    PyObject *name = PyUnicode_FromString("_interpreters");
    if (name == NULL) {
        return NULL;
    }
    PyObject *module = get_imported_module(name);
    if (module != NULL && PyModule_Check(module)
        && PyModule_GetDef(module) == &interpreters_moduledef
        && !interpreters_get_state(module)->initialized)
    {
        /* Another thread is importing it: wait for it, as import does. */
        Py_CLEAR(module);
    }
    if (module == NULL && !PyErr_Occurred()) {
        module = PyImport_Import(name);
    }
    Py_DECREF(name);
    if (module == NULL) {
        return NULL;
    }
    if (!PyModule_Check(module)
        || PyModule_GetDef(module) != &interpreters_moduledef)
    {
        PyErr_SetString(PyExc_RuntimeError,
                        "sys.modules['_interpreters'] was replaced");
        Py_DECREF(module);
        return NULL;
    }
    interpreters_state *st = interpreters_get_state(module);
    /* sys.modules keeps the module, and so st, alive. */
    Py_DECREF(module);
    return st;
}


/* ------------------------------------------------------------------------
   Interpreter IDs
*/

#define HEAD_LOCK(runtime) \
    PyThread_acquire_lock((runtime)->interpreters.mutex, WAIT_LOCK)
#define HEAD_UNLOCK(runtime) \
    PyThread_release_lock((runtime)->interpreters.mutex)

/* Argument Clinic converter for interpreter IDs: a non-negative int.
   IDs too large for int64_t cannot exist: they become -1, which
   interp_look_up() finds no interpreter for. */
static int
interp_id_converter(PyObject *arg, void *ptr)
{
    if (!PyLong_Check(arg)) {
        PyErr_Format(PyExc_TypeError,
                     "interpreter ID must be an int, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return 0;
    }
    int overflow;
    long long id = PyLong_AsLongLongAndOverflow(arg, &overflow);
    if (id == -1 && PyErr_Occurred()) {
        return 0;
    }
    if (overflow < 0 || (overflow == 0 && id < 0)) {
        PyErr_SetString(PyExc_ValueError,
                        "interpreter ID must be a non-negative int");
        return 0;
    }
    *(int64_t *)ptr = overflow > 0 ? -1 : (int64_t)id;
    return 1;
}

/*[python input]
class interpid_converter(CConverter):
    type = 'int64_t'
    converter = 'interp_id_converter'
[python start generated code]*/
/*[python end generated code: output=da39a3ee5e6b4b0d input=a1dd997cac8b0cb2]*/

#include "clinic/_interpretersmodule.c.h"

/* Return the interpreter with the given ID, or NULL (no exception set). */
static PyInterpreterState *
interp_find(int64_t id)
{
    if (id < 0) {
        return NULL;
    }
    _PyRuntimeState *runtime = &_PyRuntime;
    HEAD_LOCK(runtime);
    PyInterpreterState *interp = runtime->interpreters.head;
    while (interp != NULL && interp->id != id) {
        interp = interp->next;
    }
    HEAD_UNLOCK(runtime);
    return interp;
}

/* Like interp_find(), but raise InterpreterNotFoundError if there is no
   such interpreter. */
static PyInterpreterState *
interp_look_up(interpreters_state *st, int64_t id)
{
    PyInterpreterState *interp = interp_find(id);
    if (interp == NULL) {
        if (id < 0) {
            PyErr_SetString(st->InterpreterNotFoundError,
                            "no interpreter with that ID (out of range)");
        }
        else {
            PyErr_Format(st->InterpreterNotFoundError,
                         "no interpreter with ID %lld", (long long)id);
        }
    }
    return interp;
}

/* Raise the exception for a RUNSTATE_* error code. */
static void
interp_set_runstate_error(interpreters_state *st, int err, int64_t id)
{
    switch (err) {
    case RUNSTATE_NOMEM:
        PyErr_NoMemory();
        break;
    case RUNSTATE_RUNNING:
        PyErr_Format(st->InterpreterError,
                     "interpreter %lld is already running", (long long)id);
        break;
    case RUNSTATE_DESTROYING:
        PyErr_Format(st->InterpreterError,
                     "interpreter %lld is being destroyed", (long long)id);
        break;
    case RUNSTATE_SHUTDOWN:
        PyErr_SetString(st->InterpreterError,
                        "cannot create interpreters: the process is "
                        "exiting");
        break;
    case RUNSTATE_UNKNOWN:
        PyErr_Format(st->InterpreterError,
                     "interpreter %lld was not created by _interpreters "
                     "(or is still being created)", (long long)id);
        break;
    default:
        Py_UNREACHABLE();
    }
}


/* ------------------------------------------------------------------------
   Running code in another interpreter

   The code runs in the calling OS thread, on a thread state of the target
   interpreter that is current only while it runs.  Making a thread state
   each time would cost a mmap() and a munmap() of its frame stack, more
   than running "pass" itself: so a run leaves the thread state, cleared,
   in the registry, and the next run reuses it if it comes from the same
   OS thread, the one it was made for.  The registry also marks the
   interpreter running, which is what is_running() reports and what keeps
   a second run, or destroy(), away meanwhile.
*/

typedef struct {
    int64_t id;
    PyThreadState *tstate;      /* the target's thread state */
    PyThreadState *caller;      /* the caller's thread state */
} interp_switch;

/* Mark interpreter id running and make a thread state of it current.
   Return 0, or -1 with an exception set in the caller. */
static int
interp_enter(interpreters_state *st, int64_t id, interp_switch *sw)
{
    PyInterpreterState *interp = interp_look_up(st, id);
    if (interp == NULL) {
        return -1;
    }
    PyThreadState *caller = _PyThreadState_GET();
    if (interp == caller->interp || interp == _PyInterpreterState_Main()) {
        interp_set_runstate_error(st, RUNSTATE_RUNNING, id);
        return -1;
    }
    PyThreadState *tstate;
    int err = runstate_start(id, &tstate);
    if (err < 0) {
        interp_set_runstate_error(st, err, id);
        return -1;
    }
    if (tstate != NULL && tstate->thread_id != PyThread_get_thread_ident()) {
        /* Made for another OS thread: never use it in this one. */
        PyThreadState_Delete(tstate);
        tstate = NULL;
    }
    if (tstate == NULL) {
        tstate = PyThreadState_New(interp);
        if (tstate == NULL) {
            (void)runstate_stop(id, NULL, 0);
            PyErr_NoMemory();
            return -1;
        }
    }
    sw->id = id;
    sw->tstate = tstate;
    sw->caller = PyThreadState_Swap(tstate);
    assert(sw->caller == caller);
    return 0;
}

/* Leave the interpreter interp_enter() entered, with no exception set
   there, and mark it no longer running. */
static void
interp_exit(interp_switch *sw)
{
    PyThreadState *tstate = sw->tstate;
    assert(_PyThreadState_GET() == tstate);
    assert(!PyErr_Occurred());

    /* The threading module makes the thread state that imports it the
       state of its main thread: it holds a lock that the thread state
       releases when cleared, and threading._shutdown() expects the main
       thread's lock held until then, when the interpreter finalizes.  So
       keep that thread state as it is until then. */
    int as_main = (tstate->on_delete != NULL && !runstate_has_main(sw->id));
    int reusable = 0;
    if (!as_main) {
        /* Clearing a thread state does not undo sys.settrace() or
           sys.setprofile() completely, nor _thread._set_sentinel(): after
           those, make a new thread state next time. */
        reusable = (tstate->c_tracefunc == NULL
                    && tstate->c_profilefunc == NULL
                    && tstate->on_delete == NULL);
        PyThreadState_Clear(tstate);
    }
    PyThreadState_Swap(sw->caller);
    PyThreadState *unused = runstate_stop(sw->id,
                                          as_main || reusable ? tstate : NULL,
                                          as_main);
    if (!as_main && !reusable) {
        PyThreadState_Delete(tstate);
    }
    if (unused != NULL) {
        PyThreadState_Delete(unused);
    }
}

/* Back in the caller after running code elsewhere, with or without an
   exception set.  Signals are only handled in the main interpreter: one
   that arrived meanwhile is handled now (KeyboardInterrupt for SIGINT).
   Return -1 with an exception set if there is one, else 0. */
static int
interp_check_signals(void)
{
    if (!PyErr_Occurred()) {
        return PyErr_CheckSignals();
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (PyErr_CheckSignals() < 0) {
        _PyErr_ChainExceptions(type, value, tb);
    }
    else {
        PyErr_Restore(type, value, tb);
    }
    return -1;
}

/* Return the current interpreter's __main__.__dict__, a new reference, or
   NULL with an exception set. */
static PyObject *
interp_main_dict(void)
{
    PyObject *modules = PyImport_GetModuleDict();
    PyObject *main = NULL;
    if (PyDict_CheckExact(modules)) {
        main = PyDict_GetItemWithError(modules, &_Py_ID(__main__));
        Py_XINCREF(main);
    }
    if (main == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        /* sys.modules is odd, or has no __main__: do what
           PyRun_SimpleString() does. */
        main = PyImport_AddModuleObject(&_Py_ID(__main__));
        Py_XINCREF(main);
        if (main == NULL) {
            return NULL;
        }
    }
    PyObject *ns;
    if (PyModule_Check(main)) {
        ns = Py_NewRef(PyModule_GetDict(main));
    }
    else {
        ns = PyObject_GetAttrString(main, "__dict__");
        if (ns != NULL && !PyDict_Check(ns)) {
            PyErr_SetString(PyExc_TypeError,
                            "__main__.__dict__ is not a dict");
            Py_CLEAR(ns);
        }
    }
    Py_DECREF(main);
    return ns;
}


/* Compiled code, cached per interpreter

   Programs often run the same small snippets again and again.  Each
   interpreter keeps the code objects it compiled for run_string() in a
   dict, stored in its PyInterpreterState_GetDict(), keyed by source text.
   The dict is bounded: when full, the oldest entry goes.
*/

#define CODE_CACHE_KEY "_interpreters.code_cache"
#define CODE_CACHE_MAX_ENTRIES 64
#define CODE_CACHE_MAX_SOURCE 8192      /* bytes: compile longer ones
                                           each time */

/* Compile source, like exec(source) would. */
static PyObject *
compile_source(const char *source)
{
    PyCompilerFlags cf = _PyCompilerFlags_INIT;
    cf.cf_flags = PyCF_SOURCE_IS_UTF8 | PyCF_IGNORE_COOKIE;
    return Py_CompileStringExFlags(source, "<string>", Py_file_input, &cf,
                                   -1);
}

/* Return a code object for source (UTF-8, size bytes, NUL-terminated), a
   new reference, or NULL with an exception set (SyntaxError...). */
static PyObject *
code_cache_get(const char *source, Py_ssize_t size)
{
    if (size > CODE_CACHE_MAX_SOURCE) {
        return compile_source(source);
    }
    PyObject *interp_dict = PyInterpreterState_GetDict(
                                PyInterpreterState_Get());
    if (interp_dict == NULL) {
        return compile_source(source);
    }
    PyObject *cache_key = PyUnicode_FromString(CODE_CACHE_KEY);
    if (cache_key == NULL) {
        return NULL;
    }
    PyObject *key = NULL, *code = NULL;
    PyObject *cache = PyDict_GetItemWithError(interp_dict, cache_key);
    if (cache == NULL) {
        if (PyErr_Occurred()) {
            goto done;
        }
        cache = PyDict_New();
        if (cache == NULL) {
            goto done;
        }
        int res = PyDict_SetItem(interp_dict, cache_key, cache);
        Py_DECREF(cache);
        if (res < 0) {
            goto done;
        }
    }
    if (!PyDict_CheckExact(cache)) {
        PyErr_SetString(PyExc_TypeError,
                        "interpreter dict entry " CODE_CACHE_KEY
                        " is not a dict");
        goto done;
    }

    key = PyUnicode_DecodeUTF8(source, size, NULL);
    if (key == NULL) {
        goto done;
    }
    code = PyDict_GetItemWithError(cache, key);
    if (code != NULL) {
        Py_INCREF(code);
        goto done;
    }
    if (PyErr_Occurred()) {
        goto done;
    }

    code = compile_source(source);
    if (code == NULL) {
        goto done;
    }
    if (PyDict_GET_SIZE(cache) >= CODE_CACHE_MAX_ENTRIES) {
        /* Dicts keep insertion order: the first key is the oldest. */
        Py_ssize_t pos = 0;
        PyObject *oldest, *value;
        if (PyDict_Next(cache, &pos, &oldest, &value)) {
            Py_INCREF(oldest);
            int res = PyDict_DelItem(cache, oldest);
            Py_DECREF(oldest);
            if (res < 0) {
                Py_CLEAR(code);
                goto done;
            }
        }
    }
    if (PyDict_SetItem(cache, key, code) < 0) {
        Py_CLEAR(code);
        goto done;
    }

done:
    Py_XDECREF(key);
    Py_DECREF(cache_key);
    return code;
}

/* In the target interpreter: run source in __main__.  Return 0, or -1
   with the exception described in info (and cleared). */
static int
exec_source(const char *source, Py_ssize_t size, excinfo *info)
{
    PyObject *code = code_cache_get(source, size);
    if (code == NULL) {
        goto error;
    }
    PyObject *ns = interp_main_dict();
    if (ns == NULL) {
        Py_DECREF(code);
        goto error;
    }
    PyObject *res = PyEval_EvalCode(code, ns, ns);
    Py_DECREF(ns);
    Py_DECREF(code);
    if (res == NULL) {
        goto error;
    }
    Py_DECREF(res);
    return 0;

error:
    excinfo_capture(info, 0);
    return -1;
}


/* ------------------------------------------------------------------------
   Creating and destroying interpreters
*/

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

/* Why interp_finalize() gave up */
typedef enum {
    FINALIZE_OK = 0,
    FINALIZE_NOMEM,
    FINALIZE_DAEMON_THREADS,    /* it has daemon threads (before joining) */
    FINALIZE_THREADS,           /* it still has other threads (after) */
} finalize_result;

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
   those in ours, else 0. */
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
static finalize_result
interp_finalize(PyInterpreterState *interp, PyThreadState *tstate0,
                PyThreadState **main, int at_exit)
{
    PyThreadState *tstate = PyThreadState_New(interp);
    if (tstate == NULL) {
        return FINALIZE_NOMEM;
    }
    PyThreadState *caller = PyThreadState_Swap(tstate);
    PyThreadState *ours[2] = {tstate0, *main};

    finalize_result res = FINALIZE_OK;
    if (!at_exit) {
        int found = interp_has_daemon_threads(ours, 2);
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
        ours[1] = NULL;
    }
    /* XXX If it is interrupted (Ctrl-C), a new destroy() does not wait
       for the threads any more: it fails until they are done. */
    interp_shutdown_threads();
    if (ours[1] == NULL) {
        interp_stop_main_thread();
    }
    _PyAtExit_Call(interp);
    interp_flush_std_files();
    /* XXX A thread started by an atexit hook is only noticed here: then
       the interpreter is left alive, without its atexit hooks, and a new
       destroy() does not wait for its non-daemon threads. */
    if (interp_has_other_threads(interp, ours, 2)) {
        res = FINALIZE_THREADS;
        goto refused;
    }

    if (*main != NULL) {
        interp_delete_main(main);
    }
    /* Also if threading._shutdown() raised before it stopped the main
       thread: Py_EndInterpreter() calls it again. */
    interp_stop_main_thread();
    /* tstate keeps the interpreter from having no thread state. */
    PyThreadState_Clear(tstate0);
    PyThreadState_Delete(tstate0);
    Py_EndInterpreter(tstate);
    /* Py_EndInterpreter() leaves no current thread state. */
    PyThreadState_Swap(caller);
    return FINALIZE_OK;

refused:
    PyThreadState_Clear(tstate);
    PyThreadState_Swap(caller);
    PyThreadState_Delete(tstate);
    return res;
}

/* Destroy interpreter id (interp).  Return 0, or -1 with an exception set
   in the caller. */
static int
interp_destroy(interpreters_state *st, PyInterpreterState *interp,
               int64_t id)
{
    PyThreadState *tstate0, *main, *spare;
    int err = runstate_begin_destroy(id, &tstate0, &main, &spare);
    if (err < 0) {
        if (err == RUNSTATE_RUNNING) {
            PyErr_Format(st->InterpreterError,
                         "interpreter %lld is running", (long long)id);
        }
        else {
            interp_set_runstate_error(st, err, id);
        }
        return -1;
    }
    if (spare != NULL) {
        PyThreadState_Delete(spare);
    }

    finalize_result res = interp_finalize(interp, tstate0, &main, 0);
    runstate_end_destroy(id, res == FINALIZE_OK, main);
    switch (res) {
    case FINALIZE_OK:
        break;
    case FINALIZE_NOMEM:
        PyErr_NoMemory();
        break;
    case FINALIZE_DAEMON_THREADS:
        PyErr_Format(st->InterpreterError,
                     "interpreter %lld has daemon threads still running",
                     (long long)id);
        break;
    case FINALIZE_THREADS:
        PyErr_Format(st->InterpreterError,
                     "interpreter %lld still has threads running",
                     (long long)id);
        break;
    }
    if (interp_check_signals() < 0) {
        return -1;
    }
    return 0;
}


/* ------------------------------------------------------------------------
   When the process exits

   Py_FinalizeEx() aborts with "remaining subinterpreters" if any
   interpreter but the main one still exists when it deletes the main
   interpreter, at its very end.  It never finalizes them itself.  So the
   main interpreter's _interpreters module registers an atexit hook (when
   a subinterpreter imports _interpreters first, it has the main
   interpreter import it too), which runs after the threading module has
   joined the non-daemon threads:
   every interpreter that _interpreters created and that can be finalized
   is finalized there, like destroy() does.  What cannot (code still runs
   in it, in a daemon thread, or a daemon thread of its own is alive) is
   abandoned: removed from the runtime's list of interpreters and never
   freed.  The threads still using it stop for good when they next try to
   take the GIL, as daemon threads always do once finalization started.
   What a daemon thread was destroying meanwhile is abandoned later, when
   the main interpreter clears its dict.
*/

/* Remove interp from the runtime's list of interpreters. */
static void
interp_abandon(PyInterpreterState *interp, int64_t id)
{
    _PyRuntimeState *runtime = &_PyRuntime;
    HEAD_LOCK(runtime);
    PyInterpreterState **p = &runtime->interpreters.head;
    while (*p != NULL && *p != interp) {
        p = &(*p)->next;
    }
    if (*p != NULL) {
        *p = interp->next;
        interp->next = NULL;
    }
    HEAD_UNLOCK(runtime);
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

/* Return a new array with the IDs of all interpreters, in creation order,
   and set *count, or return NULL with an exception set. */
static int64_t *
interp_list_ids(Py_ssize_t *count)
{
    _PyRuntimeState *runtime = &_PyRuntime;
    Py_ssize_t size = 8;
    int64_t *ids = PyMem_New(int64_t, size);
    if (ids == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (;;) {
        Py_ssize_t n = 0;
        HEAD_LOCK(runtime);
        PyInterpreterState *interp = runtime->interpreters.head;
        for (; interp != NULL; interp = interp->next) {
            if (n < size) {
                ids[n] = interp->id;
            }
            n++;
        }
        HEAD_UNLOCK(runtime);
        if (n <= size) {
            /* The list is newest first. */
            for (Py_ssize_t i = 0; i < n / 2; i++) {
                int64_t id = ids[i];
                ids[i] = ids[n - 1 - i];
                ids[n - 1 - i] = id;
            }
            *count = n;
            return ids;
        }
        /* Too small (more interpreters may exist by now): again. */
        PyMem_Free(ids);
        size = n + 8;
        ids = PyMem_New(int64_t, size);
        if (ids == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
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


/* ------------------------------------------------------------------------
   Module functions
*/

/*[clinic input]
_interpreters.create

Create a new interpreter and return its ID.

The interpreter stays idle until code is run in it.  Code running in it
may start threads.
[clinic start generated code]*/

static PyObject *
_interpreters_create_impl(PyObject *module)
/*[clinic end generated code: output=e513b98b2da7c673 input=132d448648704fa1]*/
{
    interpreters_state *st = interpreters_get_state(module);
    if (runstate_is_shutting_down()) {
        interp_set_runstate_error(st, RUNSTATE_SHUTDOWN, 0);
        return NULL;
    }

    /* XXX Py_NewInterpreter() exits the process on some errors of the
       new interpreter's initialization (Py_ExitStatusException()). */
    PyThreadState *caller = _PyThreadState_GET();
    PyThreadState *tstate0 = Py_NewInterpreter();
    if (tstate0 == NULL) {
        /* Py_NewInterpreter() may leave no current thread state. */
        PyThreadState_Swap(caller);
        if (PyErr_Occurred()) {
            /* An audit hook refused */
            _PyErr_FormatFromCause(st->InterpreterError,
                                   "interpreter creation failed");
        }
        else {
            PyErr_SetString(st->InterpreterError,
                            "interpreter creation failed");
        }
        return NULL;
    }
    int64_t id = tstate0->interp->id;
    int err = runstate_add(id, tstate0);
    if (err < 0) {
        Py_EndInterpreter(tstate0);
        PyThreadState_Swap(caller);
        interp_set_runstate_error(st, err, id);
        return NULL;
    }

    PyThreadState_Swap(caller);
    /* If this fails, list_all() still finds the new interpreter. */
    return PyLong_FromLongLong(id);
}

/*[clinic input]
_interpreters.destroy

    id: interpid
    /

Finalize and destroy the interpreter.

Wait for the non-daemon threads it started.  Raise InterpreterError for
the main interpreter, the current one, one that is running, and one that
still has daemon threads.
[clinic start generated code]*/

static PyObject *
_interpreters_destroy_impl(PyObject *module, int64_t id)
/*[clinic end generated code: output=6ae695c5621984d1 input=227e7e76e4fdc70f]*/
{
    interpreters_state *st = interpreters_get_state(module);
    PyInterpreterState *interp = interp_look_up(st, id);
    if (interp == NULL) {
        return NULL;
    }
    if (interp == _PyInterpreterState_Main()) {
        PyErr_SetString(st->InterpreterError,
                        "cannot destroy the main interpreter");
        return NULL;
    }
    if (interp == PyInterpreterState_Get()) {
        PyErr_SetString(st->InterpreterError,
                        "cannot destroy the current interpreter");
        return NULL;
    }
    if (interp_destroy(st, interp, id) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/*[clinic input]
_interpreters.list_all

Return the IDs of all existing interpreters, the main one included.
[clinic start generated code]*/

static PyObject *
_interpreters_list_all_impl(PyObject *module)
/*[clinic end generated code: output=fb81f7aecea156a5 input=efcb20e22c4177f2]*/
{
    Py_ssize_t count;
    int64_t *ids = interp_list_ids(&count);
    if (ids == NULL) {
        return NULL;
    }
    PyObject *list = PyList_New(count);
    if (list == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *id = PyLong_FromLongLong(ids[i]);
        if (id == NULL) {
            Py_CLEAR(list);
            goto done;
        }
        PyList_SET_ITEM(list, i, id);
    }
done:
    PyMem_Free(ids);
    return list;
}

/*[clinic input]
_interpreters.get_current

Return the ID of the current interpreter.
[clinic start generated code]*/

static PyObject *
_interpreters_get_current_impl(PyObject *module)
/*[clinic end generated code: output=03161c8fcc0136eb input=ea209cde771cf3d8]*/
{
    return PyLong_FromLongLong(PyInterpreterState_Get()->id);
}

/*[clinic input]
_interpreters.get_main

Return the ID of the main interpreter.
[clinic start generated code]*/

static PyObject *
_interpreters_get_main_impl(PyObject *module)
/*[clinic end generated code: output=9647288aff735557 input=9fea1fd2f1f9b63d]*/
{
    return PyLong_FromLongLong(_PyInterpreterState_Main()->id);
}

/*[clinic input]
_interpreters.is_running -> bool

    id: interpid
    /

Return whether code is running in the interpreter.

That is the case while run_string() or call() runs code in it, from any
thread.  The main interpreter and the current one are always running.
[clinic start generated code]*/

static int
_interpreters_is_running_impl(PyObject *module, int64_t id)
/*[clinic end generated code: output=1dee965f1770025b input=5bf3c96103254e16]*/
{
    interpreters_state *st = interpreters_get_state(module);
    PyInterpreterState *interp = interp_look_up(st, id);
    if (interp == NULL) {
        return -1;
    }
    if (interp == PyInterpreterState_Get()
        || interp == _PyInterpreterState_Main())
    {
        return 1;
    }
    return runstate_is_running(id);
}

/*[clinic input]
_interpreters.run_string

    id: interpid
    code: unicode
    /

Run source code in the interpreter's __main__ module.

The code runs in the calling OS thread, which blocks until it is done.
Raise InterpreterError if the interpreter is already running and
RunFailedError if the code raises an exception it does not catch
(SystemExit included).
[clinic start generated code]*/

static PyObject *
_interpreters_run_string_impl(PyObject *module, int64_t id, PyObject *code)
/*[clinic end generated code: output=e5f90f40ba366c65 input=d9546d512527c367]*/
{
    interpreters_state *st = interpreters_get_state(module);
    Py_ssize_t size;
    const char *source = PyUnicode_AsUTF8AndSize(code, &size);
    if (source == NULL) {
        return NULL;
    }
    if (strlen(source) != (size_t)size) {
        PyErr_SetString(PyExc_ValueError,
                        "source code string cannot contain null bytes");
        return NULL;
    }

    interp_switch sw;
    if (interp_enter(st, id, &sw) < 0) {
        return NULL;
    }
    excinfo info = EXCINFO_INIT;
    int failed = exec_source(source, size, &info);
    interp_exit(&sw);

    if (failed) {
        (void)excinfo_raise(&info, st->RunFailedError);
        excinfo_clear(&info);
    }
    if (interp_check_signals() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}


/* call() and set_main_attrs() */

/* In the target interpreter: return 1 if the current exception is its
   NotShareableError, else 0. */
static int
not_shareable_error_occurred(void)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    interpreters_state *st = interpreters_current_state();
    if (st == NULL) {
        PyErr_Clear();
    }
    PyErr_Restore(type, value, tb);
    return st != NULL && PyErr_ExceptionMatches(st->NotShareableError);
}

/* Back in the caller: raise NotShareableError because what could not
   cross, to or from interpreter id.  info describes the exception that
   was raised there, which becomes the __cause__ if it can be rebuilt
   here. */
static void
raise_not_shareable(interpreters_state *st, const char *what, int64_t id,
                    excinfo *info)
{
    PyObject *msg;
    if (strcmp(what, "the result") == 0) {
        /* Encoding it raised NotShareableError there: keep its message. */
        PyObject *reason = PyUnicode_DecodeUTF8(info->msg.data,
                                                info->msg.size,
                                                "surrogatepass");
        if (reason == NULL) {
            return;
        }
        msg = PyUnicode_FromFormat(
            "the result cannot leave interpreter %lld: %U",
            (long long)id, reason);
        Py_DECREF(reason);
    }
    else {
        PyObject *reason = excinfo_summary(info);
        if (reason == NULL) {
            return;
        }
        msg = PyUnicode_FromFormat(
            "cannot rebuild %s in interpreter %lld: %U",
            what, (long long)id, reason);
        Py_DECREF(reason);
    }
    if (msg == NULL) {
        return;
    }
    PyObject *err = PyObject_CallOneArg(st->NotShareableError, msg);
    Py_DECREF(msg);
    if (err == NULL) {
        return;
    }
    PyObject *cause = excinfo_cause(info);
    if (cause != NULL) {
        PyException_SetCause(err, cause);
    }
    PyErr_SetObject((PyObject *)Py_TYPE(err), err);
    Py_DECREF(err);
}

/* Callables that cross by name

   pickle sends builtins, classes and the functions of importable modules
   by module and qualified name, once it checked that the names lead back
   to the object.  call() does the same without pickle, which costs more
   than the rest of a call: it encodes the two names.  Functions of
   __main__, and whatever fails the check, cross like other objects
   (XDATA_FUNCTIONS).
*/

/* Resolve the dotted name qualname in module, as pickle does.  Return a
   new reference, or NULL with an exception set. */
static PyObject *
resolve_qualname(PyObject *module, PyObject *qualname)
{
    PyObject *dot = PyUnicode_FromStringAndSize(".", 1);
    if (dot == NULL) {
        return NULL;
    }
    PyObject *names = PyUnicode_Split(qualname, dot, -1);
    Py_DECREF(dot);
    if (names == NULL) {
        return NULL;
    }
    PyObject *obj = Py_NewRef(module);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names); i++) {
        Py_SETREF(obj, PyObject_GetAttr(obj, PyList_GET_ITEM(names, i)));
        if (obj == NULL) {
            break;
        }
    }
    Py_DECREF(names);
    return obj;
}

/* Set *names to (module name, qualified name), a new reference, if
   callable can cross by name, else to NULL.  Return 0, or -1 with an
   exception set if the tuple cannot be made. */
static int
callable_names(PyObject *callable, PyObject **names)
{
    *names = NULL;
    if (!PyCFunction_Check(callable) && !PyFunction_Check(callable)
        && !PyType_Check(callable))
    {
        return 0;
    }
    PyObject *modname = NULL, *qualname = NULL, *module = NULL;
    PyObject *found = NULL;
    int res = 0;
    /* A bound builtin method has no __module__: it does not qualify. */
    if (_PyObject_LookupAttr(callable, &_Py_ID(__module__), &modname) < 0
        || modname == NULL || !PyUnicode_CheckExact(modname)
        || _PyUnicode_EqualToASCIIString(modname, "__main__"))
    {
        goto done;
    }
    if (_PyObject_LookupAttr(callable, &_Py_ID(__qualname__), &qualname) < 0
        || qualname == NULL || !PyUnicode_CheckExact(qualname))
    {
        goto done;
    }
    module = get_imported_module(modname);
    if (module == NULL) {
        goto done;
    }
    found = resolve_qualname(module, qualname);
    if (found == callable) {
        *names = PyTuple_Pack(2, modname, qualname);
        if (*names == NULL) {
            res = -1;
        }
    }

done:
    if (res == 0) {
        /* The slow way will tell what is wrong, if anything is. */
        PyErr_Clear();
    }
    Py_XDECREF(found);
    Py_XDECREF(module);
    Py_XDECREF(qualname);
    Py_XDECREF(modname);
    return res;
}

/* In the target interpreter: import names[0] and find names[1] in it.
   Return a new reference, or NULL with an exception set. */
static PyObject *
callable_from_names(PyObject *names)
{
    if (!PyTuple_Check(names) || PyTuple_GET_SIZE(names) != 2) {
        PyErr_SetString(PyExc_SystemError, "bad callable names");
        return NULL;
    }
    PyObject *modname = PyTuple_GET_ITEM(names, 0);
    PyObject *module = get_imported_module(modname);
    if (module == NULL) {
        if (PyErr_Occurred()) {
            return NULL;
        }
        module = PyImport_Import(modname);
        if (module == NULL) {
            return NULL;
        }
    }
    PyObject *callable = resolve_qualname(module, PyTuple_GET_ITEM(names, 1));
    Py_DECREF(module);
    return callable;
}

typedef struct {
    xdata *func;
    int func_by_name;           /* func holds (module name, qualname) */
    xdata *args;
    xdata *kwargs;              /* NULL if none */
    xdata *result;
    /* What could not cross, if something could not */
    const char *not_shareable;
    excinfo info;
} call_data;

/* In the target interpreter: decode and make the call, and encode its
   result.  Return 0, or -1 with the exception described in data->info
   (and data->not_shareable set if it is about crossing). */
static int
call_in_target(call_data *data)
{
    PyObject *func = NULL, *args = NULL, *kwargs = NULL, *result = NULL;
    func = xdata_decode(data->func);
    if (func != NULL && data->func_by_name) {
        Py_SETREF(func, callable_from_names(func));
    }
    if (func == NULL) {
        data->not_shareable = "the callable";
        goto error;
    }
    args = xdata_decode(data->args);
    if (args == NULL) {
        data->not_shareable = "the arguments";
        goto error;
    }
    if (data->kwargs != NULL) {
        kwargs = xdata_decode(data->kwargs);
        if (kwargs == NULL) {
            data->not_shareable = "the keyword arguments";
            goto error;
        }
    }
    if (!PyTuple_Check(args) || (kwargs != NULL && !PyDict_Check(kwargs))) {
        PyErr_SetString(PyExc_SystemError, "bad call arguments");
        goto error;
    }
    result = PyObject_Call(func, args, kwargs);
    if (result == NULL) {
        goto error;
    }
    data->result = xdata_encode(result, 0);
    if (data->result == NULL && not_shareable_error_occurred()) {
        data->not_shareable = "the result";
    }
    if (data->result == NULL) {
        goto error;
    }
    goto done;

error:
    excinfo_capture(&data->info, EXCINFO_WITH_EXCEPTION);
done:
    Py_XDECREF(func);
    Py_XDECREF(args);
    Py_XDECREF(kwargs);
    Py_XDECREF(result);
    return data->result == NULL ? -1 : 0;
}

/*[clinic input]
_interpreters.call

    id: interpid
    callable: object
    args: object(subclass_of='&PyTuple_Type')
    kwargs: object(subclass_of='&PyDict_Type')
    /

Call callable(*args, **kwargs) in the interpreter and return the result.

The call runs in the calling OS thread, which blocks until it is done.
The callable, the arguments and the result cross between the
interpreters like queue items; a function defined in __main__ crosses
as its code, unless it is a closure.  Raise NotShareableError if one
of them cannot cross, InterpreterError if the interpreter is already
running and RunFailedError if the call raises.  The error's __cause__
is then the original exception, rebuilt here if possible.
[clinic start generated code]*/

static PyObject *
_interpreters_call_impl(PyObject *module, int64_t id, PyObject *callable,
                        PyObject *args, PyObject *kwargs)
/*[clinic end generated code: output=a3ab13875ff2d040 input=e176fb757c1960d3]*/
{
    interpreters_state *st = interpreters_get_state(module);
    PyObject *result = NULL;
    call_data data = {NULL, 0, NULL, NULL, NULL, NULL, EXCINFO_INIT};

    /* Look the interpreter up before encoding anything, for the error. */
    if (interp_look_up(st, id) == NULL) {
        return NULL;
    }
    PyObject *names;
    if (callable_names(callable, &names) < 0) {
        return NULL;
    }
    if (names != NULL) {
        data.func = xdata_encode(names, 0);
        data.func_by_name = 1;
        Py_DECREF(names);
    }
    else {
        data.func = xdata_encode(callable, XDATA_FUNCTIONS);
    }
    if (data.func == NULL) {
        goto done;
    }
    data.args = xdata_encode(args, 0);
    if (data.args == NULL) {
        goto done;
    }
    if (PyDict_GET_SIZE(kwargs) > 0) {
        data.kwargs = xdata_encode(kwargs, 0);
        if (data.kwargs == NULL) {
            goto done;
        }
    }

    interp_switch sw;
    if (interp_enter(st, id, &sw) < 0) {
        goto done;
    }
    int failed = call_in_target(&data);
    interp_exit(&sw);

    if (failed) {
        if (data.not_shareable != NULL) {
            raise_not_shareable(st, data.not_shareable, id, &data.info);
        }
        else {
            (void)excinfo_raise(&data.info, st->RunFailedError);
        }
    }
    else {
        result = xdata_decode(data.result);
        if (result == NULL) {
            _PyErr_FormatFromCause(st->NotShareableError,
                                   "cannot rebuild the result in "
                                   "interpreter %lld",
                                   (long long)PyInterpreterState_Get()->id);
        }
    }
    if (interp_check_signals() < 0) {
        Py_CLEAR(result);
    }

done:
    xdata_free(data.func);
    xdata_free(data.args);
    xdata_free(data.kwargs);
    xdata_free(data.result);
    excinfo_clear(&data.info);
    return result;
}

/* In the target interpreter: bind the names and values of the n pairs
   in __main__.  Return 0, or -1 with the exception described in info
   (and *not_shareable set if a value could not be rebuilt). */
static int
set_attrs_in_target(xdata *const *pairs, Py_ssize_t n, excinfo *info,
                    int *not_shareable)
{
    PyObject *ns = interp_main_dict();
    if (ns == NULL) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = xdata_decode(pairs[i]);
        if (pair == NULL) {
            *not_shareable = 1;
            goto error;
        }
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
            Py_DECREF(pair);
            PyErr_SetString(PyExc_SystemError, "bad name-value pair");
            goto error;
        }
        int res = PyDict_SetItem(ns, PyTuple_GET_ITEM(pair, 0),
                                 PyTuple_GET_ITEM(pair, 1));
        Py_DECREF(pair);
        if (res < 0) {
            goto error;
        }
    }
    Py_DECREF(ns);
    return 0;

error:
    Py_XDECREF(ns);
    excinfo_capture(info, EXCINFO_WITH_EXCEPTION);
    return -1;
}

/*[clinic input]
_interpreters.set_main_attrs

    id: interpid
    ns: object(subclass_of='&PyDict_Type')
    /

Bind the names and values of the dict ns in the interpreter's __main__.

The values cross like queue items.  Raise NotShareableError if one
cannot cross, and InterpreterError if the interpreter is running.
[clinic start generated code]*/

static PyObject *
_interpreters_set_main_attrs_impl(PyObject *module, int64_t id, PyObject *ns)
/*[clinic end generated code: output=4aa4558a707e4131 input=b2acee7c38703314]*/
{
    interpreters_state *st = interpreters_get_state(module);

    if (interp_look_up(st, id) == NULL) {
        return NULL;
    }
    /* Encode each (name, value) pair on its own: a pair that can cross
       directly does so, even if another one has to be pickled. */
    Py_ssize_t n = PyDict_GET_SIZE(ns);
    xdata **pairs = PyMem_New(xdata *, n > 0 ? n : 1);
    if (pairs == NULL) {
        return PyErr_NoMemory();
    }
    Py_ssize_t count = 0;
    Py_ssize_t pos = 0;
    PyObject *name, *value;
    while (PyDict_Next(ns, &pos, &name, &value)) {
        if (!PyUnicode_Check(name)) {
            PyErr_Format(PyExc_TypeError,
                         "names must be str, not %.100s",
                         Py_TYPE(name)->tp_name);
            goto done;
        }
        if (count == n) {
            /* Encoding a value changed ns. */
            PyErr_SetString(PyExc_RuntimeError,
                            "dictionary changed size during iteration");
            goto done;
        }
        PyObject *pair = PyTuple_Pack(2, name, value);
        if (pair == NULL) {
            goto done;
        }
        pairs[count] = xdata_encode(pair, 0);
        Py_DECREF(pair);
        if (pairs[count] == NULL) {
            goto done;
        }
        count++;
    }
    if (count != PyDict_GET_SIZE(ns)) {
        PyErr_SetString(PyExc_RuntimeError,
                        "dictionary changed size during iteration");
        goto done;
    }

    interp_switch sw;
    if (interp_enter(st, id, &sw) < 0) {
        goto done;
    }
    excinfo info = EXCINFO_INIT;
    int not_shareable = 0;
    int failed = set_attrs_in_target(pairs, count, &info, &not_shareable);
    interp_exit(&sw);
    if (failed) {
        if (not_shareable) {
            raise_not_shareable(st, "a value", id, &info);
        }
        else {
            (void)excinfo_raise(&info, st->RunFailedError);
        }
        excinfo_clear(&info);
    }
    (void)interp_check_signals();

done:
    for (Py_ssize_t i = 0; i < count; i++) {
        xdata_free(pairs[i]);
    }
    PyMem_Free(pairs);
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/*[clinic input]
_interpreters.is_shareable -> bool

    obj: object
    /

Return whether obj crosses between interpreters without pickle.

That is the case for None, bool, int, float, str, bytes, Queue and
tuples of these.
[clinic start generated code]*/

static int
_interpreters_is_shareable_impl(PyObject *module, PyObject *obj)
/*[clinic end generated code: output=8db7c0bd79143ec6 input=0a017124fbab74f7]*/
{
    return xdata_is_shareable(obj);
}


/* ------------------------------------------------------------------------
   Module
*/

static int
interpreters_traverse(PyObject *module, visitproc visit, void *arg)
{
    interpreters_state *st = interpreters_get_state(module);
    Py_VISIT(st->InterpreterError);
    Py_VISIT(st->InterpreterNotFoundError);
    Py_VISIT(st->RunFailedError);
    Py_VISIT(st->NotShareableError);
    Py_VISIT(st->QueueError);
    Py_VISIT(st->QueueNotFoundError);
    Py_VISIT(st->QueueEmpty);
    Py_VISIT(st->QueueFull);
    Py_VISIT(st->QueueType);
    return 0;
}

static int
interpreters_clear(PyObject *module)
{
    interpreters_state *st = interpreters_get_state(module);
    Py_CLEAR(st->InterpreterError);
    Py_CLEAR(st->InterpreterNotFoundError);
    Py_CLEAR(st->RunFailedError);
    Py_CLEAR(st->NotShareableError);
    Py_CLEAR(st->QueueError);
    Py_CLEAR(st->QueueNotFoundError);
    Py_CLEAR(st->QueueEmpty);
    Py_CLEAR(st->QueueFull);
    Py_CLEAR(st->QueueType);
    return 0;
}

static void
interpreters_free(void *module)
{
    (void)interpreters_clear((PyObject *)module);
}

static PyMethodDef interpreters_methods[] = {
    _INTERPRETERS_CREATE_METHODDEF
    _INTERPRETERS_DESTROY_METHODDEF
    _INTERPRETERS_LIST_ALL_METHODDEF
    _INTERPRETERS_GET_CURRENT_METHODDEF
    _INTERPRETERS_GET_MAIN_METHODDEF
    _INTERPRETERS_IS_RUNNING_METHODDEF
    _INTERPRETERS_RUN_STRING_METHODDEF
    _INTERPRETERS_CALL_METHODDEF
    _INTERPRETERS_SET_MAIN_ATTRS_METHODDEF
    _INTERPRETERS_IS_SHAREABLE_METHODDEF
    {NULL, NULL}
};

/* Create an exception type, store it in *exc and add it to the module. */
static int
add_exception(PyObject *module, PyObject **exc, const char *name,
              const char *doc, PyObject *bases)
{
    *exc = PyErr_NewExceptionWithDoc(name, doc, bases, NULL);
    if (*exc == NULL) {
        return -1;
    }
    const char *shortname = strrchr(name, '.') + 1;
    return PyModule_AddObjectRef(module, shortname, *exc);
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

/* Register the hooks that run when the process exits, or forks. */
static int
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

static int
interpreters_exec(PyObject *module)
{
    interpreters_state *st = interpreters_get_state(module);

    int first_init = runstate_init();
    if (first_init < 0) {
        PyErr_NoMemory();
        return -1;
    }

    if (add_exception(module, &st->InterpreterError,
                      "interpreters.InterpreterError",
                      "An operation on an interpreter failed.",
                      PyExc_RuntimeError) < 0)
    {
        return -1;
    }
    if (add_exception(module, &st->InterpreterNotFoundError,
                      "interpreters.InterpreterNotFoundError",
                      "No interpreter has the given ID.",
                      st->InterpreterError) < 0)
    {
        return -1;
    }
    if (add_exception(module, &st->RunFailedError,
                      "interpreters.RunFailedError",
                      "Code run in an interpreter raised an exception.\n"
                      "\n"
                      "The excinfo attribute describes it.",
                      st->InterpreterError) < 0)
    {
        return -1;
    }
    PyObject *bases = PyTuple_Pack(2, st->InterpreterError,
                                   PyExc_ValueError);
    if (bases == NULL) {
        return -1;
    }
    int res = add_exception(module, &st->NotShareableError,
                            "interpreters.NotShareableError",
                            "An object cannot cross between interpreters.",
                            bases);
    Py_DECREF(bases);
    if (res < 0) {
        return -1;
    }

    if (queues_module_exec(module, st) < 0) {
        return -1;
    }
    if (register_process_hooks(module, first_init) < 0) {
        return -1;
    }
    st->initialized = 1;
    return 0;
}

static PyModuleDef_Slot interpreters_slots[] = {
    {Py_mod_exec, interpreters_exec},
    {0, NULL},
};

PyDoc_STRVAR(interpreters_doc,
"Create interpreters and run code in them.\n\
\n\
This module is an implementation detail of the interpreters module.");

struct PyModuleDef interpreters_moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_interpreters",
    .m_doc = interpreters_doc,
    .m_size = sizeof(interpreters_state),
    .m_methods = interpreters_methods,
    .m_slots = interpreters_slots,
    .m_traverse = interpreters_traverse,
    .m_clear = interpreters_clear,
    .m_free = interpreters_free,
};

PyMODINIT_FUNC
PyInit__interpreters(void)
{
    return PyModuleDef_Init(&interpreters_moduledef);
}
