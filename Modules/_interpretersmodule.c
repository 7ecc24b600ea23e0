/* _interpreters module: create interpreters and run code in them (PEP 554)
 *
 * The public APIs are Lib/interpreters.py and Lib/concurrent/interpreters/.
 * This file has the module definition and the interpreter functions; the
 * other files are in _interpreters/ (see module.h for what each does).
 */

#ifndef Py_BUILD_CORE_BUILTIN
#  define Py_BUILD_CORE_MODULE 1
#endif

#include "Python.h"
#include "pycore_frame.h"         // _PyFrame_Push()
#include "pycore_interp.h"        // PyInterpreterState.id
#include "pycore_moduleobject.h"  // _PyModule_GetState()
#include "pycore_pathconfig.h"    // _PyPathConfig_ComputeSysPath0()
#include "pycore_pylifecycle.h"   // _Py_NewInterpreterWithOwnGIL()
#include "pycore_pystate.h"       // _PyThreadState_GET()

#include "marshal.h"              // PyMarshal_ReadObjectFromString()

#include "_interpreters/module.h"
#include "_interpreters/buffers.h"
#include "_interpreters/crossdata.h"
#include "_interpreters/excinfo.h"
#include "_interpreters/finalize.h"
#include "_interpreters/interrupt.h"
#include "_interpreters/process.h"
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

PyInterpreterState *
interp_find(int64_t id)
{
    return _PyInterpreterState_FindID(id);
}

int64_t *
interp_list_ids(Py_ssize_t *count)
{
    return _PyInterpreterState_ListIDs(count);
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

   An OS thread may only have one thread state per interpreter, and cannot
   wait for itself: so code never runs, and destroy() never finalizes, in
   an interpreter that the calling OS thread is already inside, further
   out.  Each OS thread keeps the chain of its switches for that.
*/

typedef struct interp_switch {
    int64_t id;
    PyThreadState *tstate;      /* the target's thread state */
    PyThreadState *caller;      /* the caller's thread state */
    /* The switch of this OS thread that the caller runs in, or NULL */
    struct interp_switch *outer;
} interp_switch;

/* Return 1 if the calling OS thread is inside interp further out than
   its current thread state: it switched to another interpreter from
   there, through this module or through anything else (the first thread
   state of an OS thread is the one PyGILState_GetThisThreadState()
   remembers).  Else return 0. */
static int
interp_is_entered_further_out(PyInterpreterState *interp)
{
    interp_switch *sw = runstate_thread_switch();
    for (; sw != NULL; sw = sw->outer) {
        if (sw->caller->interp == interp) {
            return 1;
        }
    }
    PyThreadState *first = PyGILState_GetThisThreadState();
    return first != NULL && first->interp == interp;
}

/* Mark interpreter id running and make a thread state of it current; the
   run has a timeout if deadline (a monotonic clock time) is not negative.
   Return 0, or -1 with an exception set in the caller. */
static int
interp_enter(interpreters_state *st, int64_t id, _PyTime_t deadline,
             interp_switch *sw)
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
    if (interp_is_entered_further_out(interp)) {
        PyErr_Format(st->InterpreterError,
                     "interpreter %lld is already running in this thread",
                     (long long)id);
        return -1;
    }
    uintptr_t token = runstate_thread_token();
    PyThreadState *tstate, *stale;
    int err = runstate_start(id, token, deadline, &tstate, &stale);
    if (err < 0) {
        interp_set_runstate_error(st, err, id);
        return -1;
    }
    if (stale != NULL) {
        /* Made for another OS thread (perhaps a dead one whose thread ID
           the calling thread now has): never use it in this one. */
        PyThreadState_Delete(stale);
    }
    if (tstate == NULL) {
        tstate = PyThreadState_New(interp);
        if (tstate == NULL) {
            (void)runstate_stop(id, NULL, 0, 0, NULL);
            PyErr_NoMemory();
            return -1;
        }
        runstate_attach(id, tstate);
    }
    sw->id = id;
    sw->tstate = tstate;
    sw->caller = caller;
    sw->outer = runstate_thread_switch();
    if (runstate_set_thread_switch(sw) < 0) {
        (void)runstate_stop(id, NULL, 0, 0, NULL);
        PyThreadState_Delete(tstate);
        PyErr_NoMemory();
        return -1;
    }
    PyThreadState *swapped = PyThreadState_Swap(tstate);
    assert(swapped == caller);
    (void)swapped;
    return 0;
}

/* Leave the interpreter interp_enter() entered, with no exception set
   there, and mark it no longer running.  Return 1 if the run's deadline
   passed, else 0. */
static int
interp_exit(interp_switch *sw)
{
    PyThreadState *tstate = sw->tstate;
    assert(_PyThreadState_GET() == tstate);
    assert(!PyErr_Occurred());

    /* The code has returned: an interrupt must not reach the finalizers
       that clearing the thread state runs. */
    (void)_PyThreadState_ClearInterrupt(tstate);

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
    /* Setting back a value this thread had set cannot fail. */
    (void)runstate_set_thread_switch(sw->outer);
    uintptr_t token = runstate_thread_token();
    if (token == 0) {
        reusable = 0;
    }
    int timed_out;
    PyThreadState *unused = runstate_stop(sw->id,
                                          as_main || reusable ? tstate : NULL,
                                          as_main, token, &timed_out);
    if (!as_main && !reusable) {
        PyThreadState_Delete(tstate);
    }
    if (unused != NULL) {
        PyThreadState_Delete(unused);
    }
    return timed_out;
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

/* Destroy interpreter id (interp).  Return 0, or -1 with an exception set
   in the caller. */
static int
interp_destroy(interpreters_state *st, PyInterpreterState *interp,
               int64_t id)
{
    if (interp_is_entered_further_out(interp)) {
        /* Its threading module would wait for the calling thread. */
        PyErr_Format(st->InterpreterError,
                     "cannot destroy interpreter %lld from a thread that "
                     "runs in it", (long long)id);
        return -1;
    }
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
    case FINALIZE_RUNNING:
        PyErr_Format(st->InterpreterError,
                     "interpreter %lld is running", (long long)id);
        break;
    case FINALIZE_DAEMON_THREADS:
        PyErr_Format(st->InterpreterError,
                     "interpreter %lld has daemon threads still running",
                     (long long)id);
        break;
    case FINALIZE_THREADS:
        PyErr_Format(st->InterpreterError,
                     "interpreter %lld still has threads running after "
                     "it was shut down", (long long)id);
        break;
    case FINALIZE_HOOKS:
        PyErr_Format(st->InterpreterError,
                     "interpreter %lld kept registering atexit hooks "
                     "after it was shut down", (long long)id);
        break;
    }
    if (interp_check_signals() < 0) {
        return -1;
    }
    return 0;
}


/* ------------------------------------------------------------------------
   The main interpreter's sys.path[0]

   In 3.11 a new interpreter gets sys.path from the path configuration
   only: the script's directory ('' for -c and the REPL) is prepended by
   pymain_run_python() to the main interpreter's sys.path alone.  Code
   that hands the script's own helpers to a subinterpreter then fails to
   import them.  As 3.13 does (gh-109853), create() gives the new
   interpreter the same sys.path[0].

   This is done here rather than in Py_NewInterpreter(): 3.13 keeps the
   value in a new PyConfig field (sys_path_0), which would change the
   size of a public structure in a bugfix release (3.12 appends a field
   to _PyRuntimeState instead, and has Modules/main.c fill it); a core
   patch would also change what embedders' Py_NewInterpreter() returns
   in a 3.11 bugfix release.  Only the module promises this behaviour.

   The value is computed from the main interpreter's configuration as
   pymain_run_python() computes it (not copied from its sys.path, which
   the program may have changed, and which belongs to another
   interpreter), and only when that function prepended something: not
   with -P, -I or PYTHONSAFEPATH (config->safe_path).  It is computed
   once and kept as text, so that a later os.chdir() does not change it
   for a relative script path; the module computes it when it is first
   imported in the main interpreter, normally before any chdir().
   Every write holds the main GIL, which shared-GIL interpreters use too;
   an interpreter with its own GIL only reads a value written before it
   was created (see main_path0_compute()).
*/

static int main_path0_known = 0;
static wchar_t *main_path0 = NULL;   /* NULL: nothing to prepend */

/* Return 1 if the main interpreter runs config->run_filename as a
   directory or a zip archive holding __main__.py, which
   pymain_run_python() puts itself first on sys.path, 0 if it runs a
   script (or no file), -1 with an exception set on error.

   pymain_get_importer() tells them apart by asking the import system for
   an importer for the file: in the main interpreter, ask the same
   (PyImport_GetImporter() finds the answer that call left in
   sys.path_importer_cache).  Elsewhere, the import system to ask is
   another interpreter's: only a directory is recognized then. */
static int
main_path0_runs_importable(const PyConfig *config)
{
    if (config->run_filename == NULL) {
        return 0;
    }
    if (!_Py_IsMainInterpreter(PyInterpreterState_Get())) {
        struct stat st;
        return (_Py_wstat(config->run_filename, &st) == 0
                && S_ISDIR(st.st_mode));
    }
    PyObject *filename = PyUnicode_FromWideChar(config->run_filename, -1);
    if (filename == NULL) {
        return -1;
    }
    PyObject *importer = PyImport_GetImporter(filename);
    Py_DECREF(filename);
    if (importer == NULL) {
        /* No importer at all: not something pymain_run_python() put on
           sys.path either. */
        if (!PyErr_ExceptionMatches(PyExc_Exception)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    int res = (importer != Py_None);
    Py_DECREF(importer);
    return res;
}

static int
main_path0_compute(void)
{
    if (main_path0_known) {
        return 0;
    }
    if (_PyInterpreterState_HasOwnGIL(PyInterpreterState_Get())) {
        /* Only holders of the main GIL write the value: the module's
           first import in the main interpreter does, before create() can
           make an interpreter with its own GIL.  One that gets here all
           the same (its embedder made it, and the main interpreter never
           imported the module) prepends nothing. */
        return 0;
    }
    const PyConfig *config =
        _PyInterpreterState_GetConfig(_PyInterpreterState_Main());
    if (config->safe_path) {
        main_path0_known = 1;
        return 0;
    }

    wchar_t *text = NULL;
    int runs_importable = main_path0_runs_importable(config);
    if (runs_importable < 0) {
        return -1;
    }
    if (runs_importable) {
        /* "python DIR" and "python APP.zip" run its __main__ module with
           DIR or APP.zip itself first on sys.path. */
        text = _PyMem_RawWcsdup(config->run_filename);
        if (text == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    else {
        PyObject *path0 = NULL;
        int res = _PyPathConfig_ComputeSysPath0(&config->argv, &path0);
        if (res < 0) {
            return -1;
        }
        if (res > 0) {
            wchar_t *wide = PyUnicode_AsWideCharString(path0, NULL);
            Py_DECREF(path0);
            if (wide == NULL) {
                return -1;
            }
            text = _PyMem_RawWcsdup(wide);
            PyMem_Free(wide);
            if (text == NULL) {
                PyErr_NoMemory();
                return -1;
            }
        }
    }
    main_path0 = text;
    main_path0_known = 1;
    return 0;
}

/* Prepend the main interpreter's sys.path[0] to the current
   interpreter's sys.path (called in a new interpreter). */
static int
main_path0_prepend(void)
{
    if (main_path0_compute() < 0) {
        return -1;
    }
    if (main_path0 == NULL) {
        return 0;
    }
    PyObject *sys_path = PySys_GetObject("path");   /* borrowed */
    if (sys_path == NULL || !PyList_Check(sys_path)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.path is not a list");
        return -1;
    }
    PyObject *path0 = PyUnicode_FromWideChar(main_path0, -1);
    if (path0 == NULL) {
        return -1;
    }
    int res = PyList_Insert(sys_path, 0, path0);
    Py_DECREF(path0);
    return res;
}


/* ------------------------------------------------------------------------
   Module functions
*/

/* Refuse an interpreter with its own GIL, with InterpreterError saying
   why, where this build cannot offer one safely; return 0 if it can.

   Every interpreter reaches the same statically allocated objects (None,
   small ints, the static types, ...).  Only a build whose Py_INCREF() and
   Py_DECREF() leave immortal objects alone (configure
   --with-immortal-objects) keeps two GILs from writing their counts at
   once.  The module's OWN_GIL_AVAILABLE tells the same in advance. */
#ifdef Py_IMMORTAL_OBJECTS
#  define OWN_GIL_AVAILABLE 1
#else
#  define OWN_GIL_AVAILABLE 0
#endif

static int
own_gil_refused(interpreters_state *st)
{
    if (OWN_GIL_AVAILABLE) {
        return 0;
    }
    PyErr_SetString(st->InterpreterError,
                    "interpreters with their own GIL need a Python built "
                    "with immortal objects (./configure "
                    "--with-immortal-objects)");
    return -1;
}

/*[clinic input]
_interpreters.create

    *
    own_gil: bool = False

Create a new interpreter and return its ID.

The interpreter stays idle until code is run in it.  Code running in it
may start threads.  With own_gil true, it has a GIL of its own: its
threads run Python code at the same time as other interpreters', and it
imports only the extension modules known to be safe there.
[clinic start generated code]*/

static PyObject *
_interpreters_create_impl(PyObject *module, int own_gil)
/*[clinic end generated code: output=d9352a2fa98246a3 input=056468817ebc2221]*/
{
    interpreters_state *st = interpreters_get_state(module);
    if (runstate_is_shutting_down()) {
        interp_set_runstate_error(st, RUNSTATE_SHUTDOWN, 0);
        return NULL;
    }
    if (own_gil && own_gil_refused(st) < 0) {
        return NULL;
    }

    /* XXX Py_NewInterpreter() exits the process on some errors of the
       new interpreter's initialization (Py_ExitStatusException()).  The
       own-GIL variant raises instead. */
    PyThreadState *caller = _PyThreadState_GET();
    PyThreadState *tstate0 = (own_gil ? _Py_NewInterpreterWithOwnGIL()
                                      : Py_NewInterpreter());
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
    if (main_path0_prepend() < 0) {
        /* The exception belongs to the new interpreter: it is reported
           there and replaced by one of the caller's. */
        PyErr_Print();
        Py_EndInterpreter(tstate0);
        PyThreadState_Swap(caller);
        PyErr_SetString(st->InterpreterError,
                        "interpreter creation failed: cannot set sys.path[0]");
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
the main interpreter, the current one, one that the calling thread is
inside, one that is running (on a thread state of another module's too),
and one that still has daemon threads.  If a finalizer started a daemon
thread that still runs once the interpreter is shut down, raise
InterpreterError and leave it shut down but usable: its atexit and
threading hooks ran, its threading main thread stopped; destroy() may be
called again.
[clinic start generated code]*/

static PyObject *
_interpreters_destroy_impl(PyObject *module, int64_t id)
/*[clinic end generated code: output=6ae695c5621984d1 input=4e1dd72f27979e67]*/
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
_interpreters.interrupt -> bool

    id: interpid
    /
    *
    unwind: bool = False

Interrupt the code running in the interpreter.

It raises KeyboardInterrupt where it next checks for signals, in the
thread that runs it through this module (run_string(), exec_code(),
call() or set_main_attrs()); a blocking call there is woken up where
possible.  With unwind, it is raised again at every check after the code
caught it, until the run ends.  Threads of the interpreter that the
code started are not touched, nor other interpreters whose code it runs
meanwhile (the interrupt comes when their run returns).  Return True if
code was running, else False.
[clinic start generated code]*/

static int
_interpreters_interrupt_impl(PyObject *module, int64_t id, int unwind)
/*[clinic end generated code: output=38329e918fd1cf20 input=46df93885c547fd2]*/
{
    interpreters_state *st = interpreters_get_state(module);
    if (interp_look_up(st, id) == NULL) {
        return -1;
    }
    int res = runstate_interrupt(id, unwind);
    if (res < 0) {
        interp_set_runstate_error(st, res, id);
        return -1;
    }
    if (res == 0) {
        return 0;
    }
    /* Without the watchdog, the thread is woken up once only, which is
       enough unless it blocks again at once. */
    (void)interrupt_watchdog_poke();
    return 1;
}


/* Timeouts of run_string() and exec_code() */

/* Set *deadline to when a run with the given timeout (seconds, or None)
   is to stop, as a monotonic clock time, or to -1 for None, and make
   sure the watchdog runs.  Return 0, or -1 with an exception set. */
static int
timeout_to_deadline(PyObject *timeout, _PyTime_t *deadline)
{
    *deadline = -1;
    if (timeout == Py_None) {
        return 0;
    }
    if (!PyFloat_Check(timeout) && !PyLong_Check(timeout)) {
        PyErr_Format(PyExc_TypeError,
                     "timeout must be a number or None, not %.100s",
                     Py_TYPE(timeout)->tp_name);
        return -1;
    }
    _PyTime_t duration;
    if (_PyTime_FromSecondsObject(&duration, timeout,
                                  _PyTime_ROUND_CEILING) < 0)
    {
        return -1;
    }
    if (duration <= 0) {
        PyErr_SetString(PyExc_ValueError, "timeout must be positive");
        return -1;
    }
    if (interrupt_watchdog_poke() < 0) {
        PyErr_SetString(PyExc_RuntimeError,
                        "cannot start the thread that enforces timeouts");
        return -1;
    }
    *deadline = _PyTime_Add(_PyTime_GetMonotonicClock(), duration);
    return 0;
}

/* Back in the caller of a run that failed (info says how), or whose
   deadline passed, or both: raise RunFailedError, or RunTimeoutError,
   also when the code caught the interrupt and then ended without an
   error: it did not complete in time.  Clear info. */
static void
raise_run_failed(interpreters_state *st, excinfo *info, int failed,
                 int timed_out)
{
    if (!failed) {
        excinfo_set_interrupted(info);
    }
    (void)excinfo_raise(info, timed_out ? st->RunTimeoutError
                                        : st->RunFailedError);
    excinfo_clear(info);
}

/* In the target, after interp_enter() with a deadline: have the watchdog
   take it into account. */
static void
watch_deadline(_PyTime_t deadline)
{
    if (deadline >= 0) {
        /* It runs (see timeout_to_deadline()): a poke cannot fail but
           when the process exits, and then nothing is waited for. */
        (void)interrupt_watchdog_poke();
    }
}

/*[clinic input]
_interpreters.run_string

    id: interpid
    code: unicode
    /
    *
    timeout: object = None

Run source code in the interpreter's __main__ module.

The code runs in the calling OS thread, which blocks until it is done.
Raise InterpreterError if the interpreter is already running and
RunFailedError if the code raises an exception it does not catch
(SystemExit included).  With a timeout (in seconds), code still running
after it is interrupted, as interrupt(unwind=True) does, and the
error is RunTimeoutError, a subclass of RunFailedError and TimeoutError.
[clinic start generated code]*/

static PyObject *
_interpreters_run_string_impl(PyObject *module, int64_t id, PyObject *code,
                              PyObject *timeout)
/*[clinic end generated code: output=52820a39a4378b16 input=b80e6c963dfd15ab]*/
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

    _PyTime_t deadline;
    if (timeout_to_deadline(timeout, &deadline) < 0) {
        return NULL;
    }
    interp_switch sw;
    if (interp_enter(st, id, deadline, &sw) < 0) {
        return NULL;
    }
    watch_deadline(deadline);
    excinfo info = EXCINFO_INIT;
    int failed = exec_source(source, size, &info);
    int timed_out = interp_exit(&sw);

    if (failed || timed_out) {
        raise_run_failed(st, &info, failed, timed_out);
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

/* What could not cross between the interpreters in call() or
   set_main_attrs() */
typedef enum {
    CROSSED_ALL = 0,
    NOT_CROSSED_CALLABLE,
    NOT_CROSSED_ARGS,
    NOT_CROSSED_KWARGS,
    NOT_CROSSED_VALUE,
    NOT_CROSSED_RESULT,         /* could not leave the target */
} not_crossed;

static const char *const not_crossed_names[] = {
    [NOT_CROSSED_CALLABLE] = "the callable",
    [NOT_CROSSED_ARGS] = "the arguments",
    [NOT_CROSSED_KWARGS] = "the keyword arguments",
    [NOT_CROSSED_VALUE] = "a value",
    [NOT_CROSSED_RESULT] = "the result",
};

/* In the target interpreter: rebuilding what, of a call or of the values
   bound in __main__, failed.  Return what could not cross, or
   CROSSED_ALL if the failure is KeyboardInterrupt: the run was
   interrupted (see interrupt()) while it imported what it needed, which
   the caller is to learn as such. */
static not_crossed
decode_failure(not_crossed what)
{
    return PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) ? CROSSED_ALL
                                                           : what;
}

/* Back in the caller: raise NotShareableError because what could not
   cross, to or from interpreter id.  info describes the exception that
   was raised there, which becomes the __cause__ if it can be rebuilt
   here. */
static void
raise_not_crossed(interpreters_state *st, not_crossed what, int64_t id,
                  excinfo *info)
{
    assert(what != CROSSED_ALL);
    PyObject *reason;
    if (what == NOT_CROSSED_RESULT) {
        /* Encoding it raised NotShareableError there: keep its message. */
        reason = PyUnicode_DecodeUTF8(info->msg.data, info->msg.size,
                                      "surrogatepass");
    }
    else {
        reason = excinfo_summary(info);
    }
    if (reason == NULL) {
        return;
    }
    PyObject *cause = excinfo_cause(info);
    if (cause != NULL) {
        PyErr_Restore(Py_NewRef(Py_TYPE(cause)), cause, NULL);
    }
    if (what == NOT_CROSSED_RESULT) {
        xdata_raise_not_shareable(
            st, "the result cannot leave interpreter %lld: %U",
            (long long)id, reason);
    }
    else {
        xdata_raise_not_shareable(
            st, "cannot rebuild %s in interpreter %lld: %U",
            not_crossed_names[what], (long long)id, reason);
    }
    Py_DECREF(reason);
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

/* Call func(*args, **kwargs) in the target interpreter, as if from code
   run in its __main__.

   Builtins such as eval(), exec(), dir(), vars(), locals() and globals()
   work on the namespaces of the Python frame that calls them, and a call
   from C has none.  Running a code object that makes the call would need
   to bind func and its arguments to names of __main__, where dir() and
   globals() would see them.  So push a frame that runs nothing, whose
   globals and locals are __main__'s namespace, the frame of a module body
   about to start.  The eval loop considers such a frame incomplete: it
   never becomes a frame object, so it shows up in no traceback and no
   sys._getframe(), but PyEval_GetGlobals() and PyEval_GetLocals() find
   it.  A Python function pushes its own frame: it is called directly.
   Return a new reference, or NULL with an exception set. */
static PyObject *
call_in_main_frame(PyObject *func, PyObject *args, PyObject *kwargs)
{
    if (PyFunction_Check(func)) {
        return PyObject_Call(func, args, kwargs);
    }
    PyObject *ns = interp_main_dict();
    if (ns == NULL) {
        return NULL;
    }
    PyObject *code = (PyObject *)PyCode_NewEmpty("<interpreters call>",
                                                 "<module>", 0);
    if (code == NULL) {
        Py_DECREF(ns);
        return NULL;
    }
    PyObject *frame_func = PyFunction_New(code, ns);
    Py_DECREF(code);
    if (frame_func == NULL) {
        Py_DECREF(ns);
        return NULL;
    }
    PyThreadState *tstate = _PyThreadState_GET();
    /* Steals the reference to frame_func. */
    _PyInterpreterFrame *frame = _PyFrame_Push(
        tstate, (PyFunctionObject *)frame_func);
    if (frame == NULL) {
        Py_DECREF(ns);
        return NULL;
    }
    frame->f_locals = ns;       /* Steals the reference. */
    frame->previous = tstate->cframe->current_frame;
    tstate->cframe->current_frame = frame;

    PyObject *result = PyObject_Call(func, args, kwargs);
    if (result == NULL && !PyErr_Occurred()) {
        PyErr_Format(PyExc_SystemError,
                     "%R returned NULL without setting an exception", func);
    }

    assert(tstate->cframe->current_frame == frame);
    tstate->cframe->current_frame = frame->previous;
    _PyFrame_Clear(frame);
    _PyThreadState_PopFrame(tstate, frame);
    return result;
}

/* In the target interpreter: encoding the result raised NotShareableError.
   Describe it in info, for its message, which names the result, but send
   its __cause__, which says why, as the exception to rebuild in the
   caller: that becomes the __cause__ there (a pickled exception loses its
   own __cause__). */
static void
capture_result_error(excinfo *info)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *cause = NULL;
    if (value != NULL && PyExceptionInstance_Check(value)) {
        cause = PyException_GetCause(value);
    }
    PyErr_Restore(type, value, tb);
    if (cause == NULL) {
        excinfo_capture(info, EXCINFO_WITH_EXCEPTION);
        return;
    }
    excinfo_capture(info, 0);
    info->exc = xdata_encode_exception(cause);
    if (info->exc == NULL) {
        /* The caller will do without it. */
        PyErr_Clear();
    }
    Py_DECREF(cause);
}

typedef struct {
    xdata *func;
    int func_by_name;           /* func holds (module name, qualname) */
    xdata *args;
    xdata *kwargs;              /* NULL if none */
    xdata *result;
    int result_flags;           /* to encode the result */
    not_crossed not_shareable;
    excinfo info;
} call_data;

/* In the target interpreter: decode and make the call, and encode its
   result.  Return 0, or -1 with the exception described in data->info
   (and data->not_shareable set if it is about crossing). */
static int
call_in_target(call_data *data)
{
    PyObject *func = NULL, *args = NULL, *kwargs = NULL, *result = NULL;
    func = xdata_decode(NULL, data->func);
    if (func != NULL && data->func_by_name) {
        Py_SETREF(func, callable_from_names(func));
    }
    if (func == NULL) {
        data->not_shareable = decode_failure(NOT_CROSSED_CALLABLE);
        goto error;
    }
    args = xdata_decode(NULL, data->args);
    if (args == NULL) {
        data->not_shareable = decode_failure(NOT_CROSSED_ARGS);
        goto error;
    }
    if (data->kwargs != NULL) {
        kwargs = xdata_decode(NULL, data->kwargs);
        if (kwargs == NULL) {
            data->not_shareable = decode_failure(NOT_CROSSED_KWARGS);
            goto error;
        }
    }
    if (!PyTuple_Check(args) || (kwargs != NULL && !PyDict_Check(kwargs))) {
        PyErr_SetString(PyExc_SystemError, "bad call arguments");
        goto error;
    }
    result = call_in_main_frame(func, args, kwargs);
    if (result == NULL) {
        goto error;
    }
    data->result = xdata_encode(NULL, result, data->result_flags);
    if (data->result == NULL && not_shareable_error_occurred()) {
        data->not_shareable = NOT_CROSSED_RESULT;
        capture_result_error(&data->info);
        goto done;
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
    *
    fake_main: bool = False

Call callable(*args, **kwargs) in the interpreter and return the result.

The call runs in the calling OS thread, which blocks until it is done.
The callable, the arguments and the result cross between the
interpreters like queue items; a function defined in __main__ crosses
as its code, unless it is a closure, and runs in the interpreter's
__main__.  If fake_main is true, the functions and classes of __main__
found in the callable and the arguments, and the globals they use,
cross instead into the interpreter's "<fake __main__>" module, which
keeps what it holds from one call to the next, and objects of the
classes of that module come back as objects of this __main__'s.
Raise NotShareableError if one of them cannot cross, InterpreterError
if the interpreter is already running and RunFailedError if the call
raises.  The error's __cause__ is then the original exception, rebuilt
here if possible.
[clinic start generated code]*/

static PyObject *
_interpreters_call_impl(PyObject *module, int64_t id, PyObject *callable,
                        PyObject *args, PyObject *kwargs, int fake_main)
/*[clinic end generated code: output=0231f2fafa39c547 input=ad3303491c0016ec]*/
{
    interpreters_state *st = interpreters_get_state(module);
    PyObject *result = NULL;
    call_data data = {NULL, 0, NULL, NULL, NULL, 0, CROSSED_ALL,
                      EXCINFO_INIT};
    int flags = fake_main ? XDATA_MAIN_AS_FAKE : 0;

    data.result_flags = fake_main ? XDATA_FAKE_AS_MAIN : 0;

    /* Look the interpreter up before encoding anything, for the error. */
    if (interp_look_up(st, id) == NULL) {
        return NULL;
    }
    PyObject *names;
    if (callable_names(callable, &names) < 0) {
        return NULL;
    }
    if (names != NULL) {
        data.func = xdata_encode(st, names, 0);
        data.func_by_name = 1;
        Py_DECREF(names);
    }
    else {
        data.func = xdata_encode(st, callable,
                                 fake_main ? flags : XDATA_FUNCTIONS);
    }
    if (data.func == NULL) {
        goto done;
    }
    data.args = xdata_encode(st, args, flags);
    if (data.args == NULL) {
        goto done;
    }
    if (PyDict_GET_SIZE(kwargs) > 0) {
        data.kwargs = xdata_encode(st, kwargs, flags);
        if (data.kwargs == NULL) {
            goto done;
        }
    }

    interp_switch sw;
    if (interp_enter(st, id, -1, &sw) < 0) {
        goto done;
    }
    int failed = call_in_target(&data);
    interp_exit(&sw);

    if (failed) {
        if (data.not_shareable != CROSSED_ALL) {
            raise_not_crossed(st, data.not_shareable, id, &data.info);
        }
        else {
            (void)excinfo_raise(&data.info, st->RunFailedError);
        }
    }
    else {
        result = xdata_decode(st, data.result);
        if (result == NULL) {
            xdata_raise_not_shareable(
                st, "cannot rebuild the result in interpreter %lld",
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
                    not_crossed *not_shareable)
{
    PyObject *ns = interp_main_dict();
    if (ns == NULL) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = xdata_decode(NULL, pairs[i]);
        if (pair == NULL) {
            *not_shareable = decode_failure(NOT_CROSSED_VALUE);
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

/* Replace the NotShareableError that encoding the pair (name, value)
   raised, which names the pair's tuple, with one that names name and the
   type of its value; the reason (the pickling error) stays its
   __cause__.  Leave any other exception as it is. */
static void
name_not_shareable(interpreters_state *st, PyObject *name, PyObject *value)
{
    if (!PyErr_ExceptionMatches(st->NotShareableError)) {
        return;
    }
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    PyObject *cause = exc != NULL ? PyException_GetCause(exc) : NULL;
    Py_XDECREF(type);
    Py_XDECREF(exc);
    Py_XDECREF(tb);
    if (cause != NULL) {
        /* xdata_raise_not_shareable() makes the current exception the
           cause. */
        PyErr_Restore(Py_NewRef(Py_TYPE(cause)), cause,
                      PyException_GetTraceback(cause));
    }
    xdata_raise_not_shareable(st, "cannot bind %R: '%.100s' object is "
                              "not shareable", name, Py_TYPE(value)->tp_name);
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
        pairs[count] = xdata_encode(st, pair, 0);
        Py_DECREF(pair);
        if (pairs[count] == NULL) {
            name_not_shareable(st, name, value);
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
    if (interp_enter(st, id, -1, &sw) < 0) {
        goto done;
    }
    excinfo info = EXCINFO_INIT;
    not_crossed not_shareable = CROSSED_ALL;
    int failed = set_attrs_in_target(pairs, count, &info, &not_shareable);
    interp_exit(&sw);
    if (failed) {
        if (not_shareable != CROSSED_ALL) {
            raise_not_crossed(st, not_shareable, id, &info);
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

/* ------------------------------------------------------------------------
   Running code objects (concurrent.interpreters' exec())

   A code object cannot leave the interpreter that made it: it crosses as
   marshal data, copied to raw memory, and is rebuilt in the target.
*/

/* Return NULL if code can run as the body of __main__, else why not. */
static const char *
code_check_runnable(PyCodeObject *code)
{
    if (code->co_argcount > 0
        || code->co_posonlyargcount > 0
        || code->co_kwonlyargcount > 0
        || (code->co_flags & (CO_VARARGS | CO_VARKEYWORDS)))
    {
        return "arguments not supported";
    }
    if (code->co_ncellvars > 0 || code->co_nfreevars > 0) {
        return "closures not supported";
    }
    return NULL;
}

/* In the target interpreter: rebuild the code object from its marshal
   data and run it in __main__.  Return 0, or -1 with the exception
   described in info. */
static int
exec_marshalled_code(const char *data, Py_ssize_t size, excinfo *info)
{
    PyObject *ns = NULL, *result = NULL;
    PyObject *code = PyMarshal_ReadObjectFromString(data, size);
    if (code == NULL) {
        goto error;
    }
    if (!PyCode_Check(code)) {
        PyErr_SetString(PyExc_SystemError, "bad marshal data for code");
        goto error;
    }
    ns = interp_main_dict();
    if (ns == NULL) {
        goto error;
    }
    result = PyEval_EvalCode(code, ns, ns);
    if (result == NULL) {
        goto error;
    }
    Py_DECREF(result);
    Py_DECREF(ns);
    Py_DECREF(code);
    return 0;

error:
    Py_XDECREF(ns);
    Py_XDECREF(code);
    /* Like run_string(): the exception itself is not sent. */
    excinfo_capture(info, 0);
    return -1;
}

/*[clinic input]
_interpreters.exec_code

    id: interpid
    code: object(subclass_of='&PyCode_Type')
    /
    *
    timeout: object = None

Run a code object in the interpreter's __main__ module.

It must take no arguments and use no closure cells: ValueError
otherwise.  It runs with __main__.__dict__ as its globals and locals,
and blocks like run_string(), which describes the errors and the
timeout.
[clinic start generated code]*/

static PyObject *
_interpreters_exec_code_impl(PyObject *module, int64_t id, PyObject *code,
                             PyObject *timeout)
/*[clinic end generated code: output=6fd0891cb62d6f6f input=8159ab9918bc23ec]*/
{
    interpreters_state *st = interpreters_get_state(module);
    const char *why = code_check_runnable((PyCodeObject *)code);
    if (why != NULL) {
        PyErr_Format(PyExc_ValueError, "bad code object (%s)", why);
        return NULL;
    }
    if (interp_look_up(st, id) == NULL) {
        return NULL;
    }
    _PyTime_t deadline;
    if (timeout_to_deadline(timeout, &deadline) < 0) {
        return NULL;
    }
    PyObject *bytes = PyMarshal_WriteObjectToString(code, Py_MARSHAL_VERSION);
    if (bytes == NULL) {
        return NULL;
    }
    /* The bytes object belongs to this interpreter: copy its data. */
    Py_ssize_t size = PyBytes_GET_SIZE(bytes);
    char *data = PyMem_RawMalloc(size > 0 ? size : 1);
    if (data == NULL) {
        Py_DECREF(bytes);
        return PyErr_NoMemory();
    }
    memcpy(data, PyBytes_AS_STRING(bytes), size);
    Py_DECREF(bytes);

    interp_switch sw;
    if (interp_enter(st, id, deadline, &sw) < 0) {
        PyMem_RawFree(data);
        return NULL;
    }
    watch_deadline(deadline);
    excinfo info = EXCINFO_INIT;
    int failed = exec_marshalled_code(data, size, &info);
    int timed_out = interp_exit(&sw);
    PyMem_RawFree(data);

    if (failed || timed_out) {
        raise_run_failed(st, &info, failed, timed_out);
    }
    if (interp_check_signals() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}


/* ------------------------------------------------------------------------
   Where interpreters come from, and closing them on last reference
   (concurrent.interpreters)
*/

/*[clinic input]
_interpreters.whence

    id: interpid
    /

Return where the interpreter was created, as concurrent.interpreters says.

'runtime init' for the main interpreter, '_interpreters module' for
those that create() made, 'legacy C-API' for others (Py_NewInterpreter()
makes all of them in 3.11).
[clinic start generated code]*/

static PyObject *
_interpreters_whence_impl(PyObject *module, int64_t id)
/*[clinic end generated code: output=94614db3f5fda5e1 input=fcf678bd344a8449]*/
{
    interpreters_state *st = interpreters_get_state(module);
    PyInterpreterState *interp = interp_look_up(st, id);
    if (interp == NULL) {
        return NULL;
    }
    const char *whence;
    if (interp == _PyInterpreterState_Main()) {
        whence = "runtime init";
    }
    else if (runstate_contains(id)) {
        whence = "_interpreters module";
    }
    else {
        /* XXX One that create() is still initializing is reported as
           made by the C-API until create() has recorded it. */
        whence = "legacy C-API";
    }
    return PyUnicode_FromString(whence);
}

/*[clinic input]
_interpreters.incref

    id: interpid
    /
    *
    autoclose: bool = False

Count one more reference to an interpreter that create() made.

With autoclose, decref() closes the interpreter when the count drops
back to zero.  Raise InterpreterNotFoundError if there is no such
interpreter, InterpreterError if create() did not make it.
[clinic start generated code]*/

static PyObject *
_interpreters_incref_impl(PyObject *module, int64_t id, int autoclose)
/*[clinic end generated code: output=f03584cfe95576cf input=8bd70c5bf4aaa7e7]*/
{
    interpreters_state *st = interpreters_get_state(module);
    if (interp_look_up(st, id) == NULL) {
        return NULL;
    }
    int err = runstate_incref(id, autoclose);
    if (err < 0) {
        interp_set_runstate_error(st, err, id);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Return the number of thread states of interp.
   XXX This walks the list without the runtime's HEAD_LOCK, which is
   private to pystate.c: the GIL that all interpreters share in 3.11 keeps
   it stable, as threads add and remove their states with it held. */
static int
interp_count_tstates(PyInterpreterState *interp)
{
    int count = 0;
    PyThreadState *tstate = PyInterpreterState_ThreadHead(interp);
    for (; tstate != NULL; tstate = PyThreadState_Next(tstate)) {
        count++;
    }
    return count;
}

/* The last reference to interp (id), marked autoclose, went: destroy it
   if that can be done now.  Return 0 whether it was destroyed or left
   alive, or -1 with an exception set on errors other than a refusal. */
static int
interp_close_unreferenced(interpreters_state *st, PyInterpreterState *interp,
                          int64_t id, int known_tstates)
{
    PyInterpreterState *current = PyInterpreterState_Get();
    if (interp == current || interp == _PyInterpreterState_Main()
        || current->finalizing || _Py_IsFinalizing())
    {
        return 0;
    }
    /* Other thread states are threads still running there, which
       destroy() would wait for: never block the thread that happened to
       drop the last reference (it may be one they wait for). */
    if (interp_count_tstates(interp) > known_tstates) {
        return 0;
    }
    if (interp_destroy(st, interp, id) < 0) {
        if (!PyErr_ExceptionMatches(st->InterpreterError)) {
            return -1;
        }
        /* Refused: it stays alive until closed or the process exits. */
        PyErr_Clear();
    }
    return 0;
}

/*[clinic input]
_interpreters.decref

    id: interpid
    /

Count one reference less to an interpreter that create() made.

If it was the last one and incref() was called with autoclose, close the
interpreter now, unless it cannot be closed at this moment (code runs in
it, a thread started there still runs, the calling thread is inside it,
or the process exits): then leave it alive.  Do nothing for an
interpreter that no longer exists.
[clinic start generated code]*/

static PyObject *
_interpreters_decref_impl(PyObject *module, int64_t id)
/*[clinic end generated code: output=4b5003956bdff4db input=774d49a5abbfcfaa]*/
{
    interpreters_state *st = interpreters_get_state(module);
    PyInterpreterState *interp = interp_find(id);
    if (interp == NULL) {
        Py_RETURN_NONE;
    }
    int known_tstates;
    int res = runstate_decref(id, PyInterpreterState_Get()->id,
                              &known_tstates);
    if (res == 1
        && interp_close_unreferenced(st, interp, id, known_tstates) < 0)
    {
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
    return xdata_is_shareable(interpreters_get_state(module), obj);
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
    Py_VISIT(st->RunTimeoutError);
    Py_VISIT(st->NotShareableError);
    Py_VISIT(st->QueueError);
    Py_VISIT(st->QueueNotFoundError);
    Py_VISIT(st->QueueEmpty);
    Py_VISIT(st->QueueFull);
    Py_VISIT(st->QueueType);
    Py_VISIT(st->SharedBufferType);
    return xdata_module_traverse(st, visit, arg);
}

static int
interpreters_clear(PyObject *module)
{
    interpreters_state *st = interpreters_get_state(module);
    Py_CLEAR(st->InterpreterError);
    Py_CLEAR(st->InterpreterNotFoundError);
    Py_CLEAR(st->RunFailedError);
    Py_CLEAR(st->RunTimeoutError);
    Py_CLEAR(st->NotShareableError);
    Py_CLEAR(st->QueueError);
    Py_CLEAR(st->QueueNotFoundError);
    Py_CLEAR(st->QueueEmpty);
    Py_CLEAR(st->QueueFull);
    Py_CLEAR(st->QueueType);
    Py_CLEAR(st->SharedBufferType);
    xdata_module_clear(st);
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
    _INTERPRETERS_EXEC_CODE_METHODDEF
    _INTERPRETERS_WHENCE_METHODDEF
    _INTERPRETERS_INTERRUPT_METHODDEF
    _INTERPRETERS_INCREF_METHODDEF
    _INTERPRETERS_DECREF_METHODDEF
    {NULL, NULL}
};

int
interpreters_add_exception(PyObject *module, PyObject **exc,
                           const char *name, const char *doc,
                           PyObject *bases)
{
    *exc = PyErr_NewExceptionWithDoc(name, doc, bases, NULL);
    if (*exc == NULL) {
        return -1;
    }
    const char *shortname = strrchr(name, '.') + 1;
    return PyModule_AddObjectRef(module, shortname, *exc);
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

    /* Before the program may chdir() (see main_path0_compute()). */
    if (_Py_IsMainInterpreter(PyInterpreterState_Get())
        && main_path0_compute() < 0)
    {
        return -1;
    }

    if (interpreters_add_exception(
            module, &st->InterpreterError, "interpreters.InterpreterError",
            "An operation on an interpreter failed.",
            PyExc_RuntimeError) < 0)
    {
        return -1;
    }
    if (interpreters_add_exception(
            module, &st->InterpreterNotFoundError,
            "interpreters.InterpreterNotFoundError",
            "No interpreter has the given ID.", st->InterpreterError) < 0)
    {
        return -1;
    }
    if (interpreters_add_exception(
            module, &st->RunFailedError, "interpreters.RunFailedError",
            "Code run in an interpreter raised an exception.\n"
            "\n"
            "The excinfo attribute describes it.",
            st->InterpreterError) < 0)
    {
        return -1;
    }
    PyObject *bases = PyTuple_Pack(2, st->RunFailedError,
                                   PyExc_TimeoutError);
    if (bases == NULL) {
        return -1;
    }
    int res = interpreters_add_exception(
        module, &st->RunTimeoutError, "interpreters.RunTimeoutError",
        "Code run in an interpreter did not finish within its timeout.\n"
        "\n"
        "It was interrupted; the excinfo attribute describes the\n"
        "KeyboardInterrupt it raised.",
        bases);
    Py_DECREF(bases);
    if (res < 0) {
        return -1;
    }
    bases = PyTuple_Pack(2, st->InterpreterError, PyExc_ValueError);
    if (bases == NULL) {
        return -1;
    }
    res = interpreters_add_exception(
        module, &st->NotShareableError, "interpreters.NotShareableError",
        "An object cannot cross between interpreters.", bases);
    Py_DECREF(bases);
    if (res < 0) {
        return -1;
    }

    /* Whether create(own_gil=True) can succeed: callers that will need
       such interpreters later (InterpreterPoolExecutor) refuse at once. */
    if (PyModule_AddObjectRef(module, "OWN_GIL_AVAILABLE",
                              OWN_GIL_AVAILABLE ? Py_True : Py_False) < 0)
    {
        return -1;
    }

    if (xdata_module_exec(module, st) < 0) {
        return -1;
    }
    if (queues_module_exec(module, st) < 0) {
        return -1;
    }
    if (buffers_module_exec(module, st) < 0) {
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
