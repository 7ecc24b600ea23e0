/*[clinic input]
preserve
[clinic start generated code]*/

PyDoc_STRVAR(_interpreters_create__doc__,
"create($module, /, *, own_gil=False)\n"
"--\n"
"\n"
"Create a new interpreter and return its ID.\n"
"\n"
"The interpreter stays idle until code is run in it.  Code running in it\n"
"may start threads.  With own_gil true, it has a GIL of its own: its\n"
"threads run Python code at the same time as other interpreters\', and it\n"
"imports only the extension modules known to be safe there.");

#define _INTERPRETERS_CREATE_METHODDEF    \
    {"create", _PyCFunction_CAST(_interpreters_create), METH_FASTCALL|METH_KEYWORDS, _interpreters_create__doc__},

static PyObject *
_interpreters_create_impl(PyObject *module, int own_gil);

static PyObject *
_interpreters_create(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    static const char * const _keywords[] = {"own_gil", NULL};
    static _PyArg_Parser _parser = {NULL, _keywords, "create", 0};
    PyObject *argsbuf[1];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 0;
    int own_gil = 0;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 0, 0, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    if (!noptargs) {
        goto skip_optional_kwonly;
    }
    own_gil = PyObject_IsTrue(args[0]);
    if (own_gil < 0) {
        goto exit;
    }
skip_optional_kwonly:
    return_value = _interpreters_create_impl(module, own_gil);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_destroy__doc__,
"destroy($module, id, /)\n"
"--\n"
"\n"
"Finalize and destroy the interpreter.\n"
"\n"
"Wait for the non-daemon threads it started.  Raise InterpreterError for\n"
"the main interpreter, the current one, one that the calling thread is\n"
"inside, one that is running (on a thread state of another module\'s too),\n"
"and one that still has daemon threads.  If a finalizer started a daemon\n"
"thread that still runs once the interpreter is shut down, raise\n"
"InterpreterError and leave it shut down but usable: its atexit and\n"
"threading hooks ran, its threading main thread stopped; destroy() may be\n"
"called again.");

#define _INTERPRETERS_DESTROY_METHODDEF    \
    {"destroy", (PyCFunction)_interpreters_destroy, METH_O, _interpreters_destroy__doc__},

static PyObject *
_interpreters_destroy_impl(PyObject *module, int64_t id);

static PyObject *
_interpreters_destroy(PyObject *module, PyObject *arg)
{
    PyObject *return_value = NULL;
    int64_t id;

    if (!interp_id_converter(arg, &id)) {
        goto exit;
    }
    return_value = _interpreters_destroy_impl(module, id);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_list_all__doc__,
"list_all($module, /)\n"
"--\n"
"\n"
"Return the IDs of all existing interpreters, the main one included.");

#define _INTERPRETERS_LIST_ALL_METHODDEF    \
    {"list_all", (PyCFunction)_interpreters_list_all, METH_NOARGS, _interpreters_list_all__doc__},

static PyObject *
_interpreters_list_all_impl(PyObject *module);

static PyObject *
_interpreters_list_all(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return _interpreters_list_all_impl(module);
}

PyDoc_STRVAR(_interpreters_get_current__doc__,
"get_current($module, /)\n"
"--\n"
"\n"
"Return the ID of the current interpreter.");

#define _INTERPRETERS_GET_CURRENT_METHODDEF    \
    {"get_current", (PyCFunction)_interpreters_get_current, METH_NOARGS, _interpreters_get_current__doc__},

static PyObject *
_interpreters_get_current_impl(PyObject *module);

static PyObject *
_interpreters_get_current(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return _interpreters_get_current_impl(module);
}

PyDoc_STRVAR(_interpreters_get_main__doc__,
"get_main($module, /)\n"
"--\n"
"\n"
"Return the ID of the main interpreter.");

#define _INTERPRETERS_GET_MAIN_METHODDEF    \
    {"get_main", (PyCFunction)_interpreters_get_main, METH_NOARGS, _interpreters_get_main__doc__},

static PyObject *
_interpreters_get_main_impl(PyObject *module);

static PyObject *
_interpreters_get_main(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return _interpreters_get_main_impl(module);
}

PyDoc_STRVAR(_interpreters_is_running__doc__,
"is_running($module, id, /)\n"
"--\n"
"\n"
"Return whether code is running in the interpreter.\n"
"\n"
"That is the case while run_string() or call() runs code in it, from any\n"
"thread.  The main interpreter and the current one are always running.");

#define _INTERPRETERS_IS_RUNNING_METHODDEF    \
    {"is_running", (PyCFunction)_interpreters_is_running, METH_O, _interpreters_is_running__doc__},

static int
_interpreters_is_running_impl(PyObject *module, int64_t id);

static PyObject *
_interpreters_is_running(PyObject *module, PyObject *arg)
{
    PyObject *return_value = NULL;
    int64_t id;
    int _return_value;

    if (!interp_id_converter(arg, &id)) {
        goto exit;
    }
    _return_value = _interpreters_is_running_impl(module, id);
    if ((_return_value == -1) && PyErr_Occurred()) {
        goto exit;
    }
    return_value = PyBool_FromLong((long)_return_value);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_interrupt__doc__,
"interrupt($module, id, /, *, unwind=False)\n"
"--\n"
"\n"
"Interrupt the code running in the interpreter.\n"
"\n"
"It raises KeyboardInterrupt where it next checks for signals, in the\n"
"thread that runs it through this module (run_string(), exec_code(),\n"
"call() or set_main_attrs()); a blocking call there is woken up where\n"
"possible.  With unwind, it is raised again at every check after the code\n"
"caught it, until the run ends.  Threads of the interpreter that the\n"
"code started are not touched, nor other interpreters whose code it runs\n"
"meanwhile (the interrupt comes when their run returns).  Return True if\n"
"code was running, else False.");

#define _INTERPRETERS_INTERRUPT_METHODDEF    \
    {"interrupt", _PyCFunction_CAST(_interpreters_interrupt), METH_FASTCALL|METH_KEYWORDS, _interpreters_interrupt__doc__},

static int
_interpreters_interrupt_impl(PyObject *module, int64_t id, int unwind);

static PyObject *
_interpreters_interrupt(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    static const char * const _keywords[] = {"", "unwind", NULL};
    static _PyArg_Parser _parser = {NULL, _keywords, "interrupt", 0};
    PyObject *argsbuf[2];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 1;
    int64_t id;
    int unwind = 0;
    int _return_value;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 1, 1, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    if (!interp_id_converter(args[0], &id)) {
        goto exit;
    }
    if (!noptargs) {
        goto skip_optional_kwonly;
    }
    unwind = PyObject_IsTrue(args[1]);
    if (unwind < 0) {
        goto exit;
    }
skip_optional_kwonly:
    _return_value = _interpreters_interrupt_impl(module, id, unwind);
    if ((_return_value == -1) && PyErr_Occurred()) {
        goto exit;
    }
    return_value = PyBool_FromLong((long)_return_value);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_run_string__doc__,
"run_string($module, id, code, /, *, timeout=None)\n"
"--\n"
"\n"
"Run source code in the interpreter\'s __main__ module.\n"
"\n"
"The code runs in the calling OS thread, which blocks until it is done.\n"
"Raise InterpreterError if the interpreter is already running and\n"
"RunFailedError if the code raises an exception it does not catch\n"
"(SystemExit included).  With a timeout (in seconds), code still running\n"
"after it is interrupted, as interrupt(unwind=True) does, and the\n"
"error is RunTimeoutError, a subclass of RunFailedError and TimeoutError.");

#define _INTERPRETERS_RUN_STRING_METHODDEF    \
    {"run_string", _PyCFunction_CAST(_interpreters_run_string), METH_FASTCALL|METH_KEYWORDS, _interpreters_run_string__doc__},

static PyObject *
_interpreters_run_string_impl(PyObject *module, int64_t id, PyObject *code,
                              PyObject *timeout);

static PyObject *
_interpreters_run_string(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    static const char * const _keywords[] = {"", "", "timeout", NULL};
    static _PyArg_Parser _parser = {NULL, _keywords, "run_string", 0};
    PyObject *argsbuf[3];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 2;
    int64_t id;
    PyObject *code;
    PyObject *timeout = Py_None;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 2, 2, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    if (!interp_id_converter(args[0], &id)) {
        goto exit;
    }
    if (!PyUnicode_Check(args[1])) {
        _PyArg_BadArgument("run_string", "argument 2", "str", args[1]);
        goto exit;
    }
    if (PyUnicode_READY(args[1]) == -1) {
        goto exit;
    }
    code = args[1];
    if (!noptargs) {
        goto skip_optional_kwonly;
    }
    timeout = args[2];
skip_optional_kwonly:
    return_value = _interpreters_run_string_impl(module, id, code, timeout);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_call__doc__,
"call($module, id, callable, args, kwargs, /, *, fake_main=False)\n"
"--\n"
"\n"
"Call callable(*args, **kwargs) in the interpreter and return the result.\n"
"\n"
"The call runs in the calling OS thread, which blocks until it is done.\n"
"The callable, the arguments and the result cross between the\n"
"interpreters like queue items; a function defined in __main__ crosses\n"
"as its code, unless it is a closure, and runs in the interpreter\'s\n"
"__main__.  If fake_main is true, the functions and classes of __main__\n"
"found in the callable and the arguments, and the globals they use,\n"
"cross instead into the interpreter\'s \"<fake __main__>\" module, which\n"
"keeps what it holds from one call to the next, and objects of the\n"
"classes of that module come back as objects of this __main__\'s.\n"
"Raise NotShareableError if one of them cannot cross, InterpreterError\n"
"if the interpreter is already running and RunFailedError if the call\n"
"raises.  The error\'s __cause__ is then the original exception, rebuilt\n"
"here if possible.");

#define _INTERPRETERS_CALL_METHODDEF    \
    {"call", _PyCFunction_CAST(_interpreters_call), METH_FASTCALL|METH_KEYWORDS, _interpreters_call__doc__},

static PyObject *
_interpreters_call_impl(PyObject *module, int64_t id, PyObject *callable,
                        PyObject *args, PyObject *kwargs, int fake_main);

static PyObject *
_interpreters_call(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    static const char * const _keywords[] = {"", "", "", "", "fake_main", NULL};
    static _PyArg_Parser _parser = {NULL, _keywords, "call", 0};
    PyObject *argsbuf[5];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 4;
    int64_t id;
    PyObject *callable;
    PyObject *__clinic_args;
    PyObject *kwargs;
    int fake_main = 0;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 4, 4, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    if (!interp_id_converter(args[0], &id)) {
        goto exit;
    }
    callable = args[1];
    if (!PyTuple_Check(args[2])) {
        _PyArg_BadArgument("call", "argument 3", "tuple", args[2]);
        goto exit;
    }
    __clinic_args = args[2];
    if (!PyDict_Check(args[3])) {
        _PyArg_BadArgument("call", "argument 4", "dict", args[3]);
        goto exit;
    }
    kwargs = args[3];
    if (!noptargs) {
        goto skip_optional_kwonly;
    }
    fake_main = PyObject_IsTrue(args[4]);
    if (fake_main < 0) {
        goto exit;
    }
skip_optional_kwonly:
    return_value = _interpreters_call_impl(module, id, callable, __clinic_args, kwargs, fake_main);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_set_main_attrs__doc__,
"set_main_attrs($module, id, ns, /)\n"
"--\n"
"\n"
"Bind the names and values of the dict ns in the interpreter\'s __main__.\n"
"\n"
"The values cross like queue items.  Raise NotShareableError if one\n"
"cannot cross, and InterpreterError if the interpreter is running.");

#define _INTERPRETERS_SET_MAIN_ATTRS_METHODDEF    \
    {"set_main_attrs", _PyCFunction_CAST(_interpreters_set_main_attrs), METH_FASTCALL, _interpreters_set_main_attrs__doc__},

static PyObject *
_interpreters_set_main_attrs_impl(PyObject *module, int64_t id, PyObject *ns);

static PyObject *
_interpreters_set_main_attrs(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int64_t id;
    PyObject *ns;

    if (!_PyArg_CheckPositional("set_main_attrs", nargs, 2, 2)) {
        goto exit;
    }
    if (!interp_id_converter(args[0], &id)) {
        goto exit;
    }
    if (!PyDict_Check(args[1])) {
        _PyArg_BadArgument("set_main_attrs", "argument 2", "dict", args[1]);
        goto exit;
    }
    ns = args[1];
    return_value = _interpreters_set_main_attrs_impl(module, id, ns);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_exec_code__doc__,
"exec_code($module, id, code, /, *, timeout=None)\n"
"--\n"
"\n"
"Run a code object in the interpreter\'s __main__ module.\n"
"\n"
"It must take no arguments and use no closure cells: ValueError\n"
"otherwise.  It runs with __main__.__dict__ as its globals and locals,\n"
"and blocks like run_string(), which describes the errors and the\n"
"timeout.");

#define _INTERPRETERS_EXEC_CODE_METHODDEF    \
    {"exec_code", _PyCFunction_CAST(_interpreters_exec_code), METH_FASTCALL|METH_KEYWORDS, _interpreters_exec_code__doc__},

static PyObject *
_interpreters_exec_code_impl(PyObject *module, int64_t id, PyObject *code,
                             PyObject *timeout);

static PyObject *
_interpreters_exec_code(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    static const char * const _keywords[] = {"", "", "timeout", NULL};
    static _PyArg_Parser _parser = {NULL, _keywords, "exec_code", 0};
    PyObject *argsbuf[3];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 2;
    int64_t id;
    PyObject *code;
    PyObject *timeout = Py_None;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 2, 2, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    if (!interp_id_converter(args[0], &id)) {
        goto exit;
    }
    if (!PyObject_TypeCheck(args[1], &PyCode_Type)) {
        _PyArg_BadArgument("exec_code", "argument 2", (&PyCode_Type)->tp_name, args[1]);
        goto exit;
    }
    code = args[1];
    if (!noptargs) {
        goto skip_optional_kwonly;
    }
    timeout = args[2];
skip_optional_kwonly:
    return_value = _interpreters_exec_code_impl(module, id, code, timeout);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_whence__doc__,
"whence($module, id, /)\n"
"--\n"
"\n"
"Return where the interpreter was created, as concurrent.interpreters says.\n"
"\n"
"\'runtime init\' for the main interpreter, \'_interpreters module\' for\n"
"those that create() made, \'legacy C-API\' for others (Py_NewInterpreter()\n"
"makes all of them in 3.11).");

#define _INTERPRETERS_WHENCE_METHODDEF    \
    {"whence", (PyCFunction)_interpreters_whence, METH_O, _interpreters_whence__doc__},

static PyObject *
_interpreters_whence_impl(PyObject *module, int64_t id);

static PyObject *
_interpreters_whence(PyObject *module, PyObject *arg)
{
    PyObject *return_value = NULL;
    int64_t id;

    if (!interp_id_converter(arg, &id)) {
        goto exit;
    }
    return_value = _interpreters_whence_impl(module, id);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_incref__doc__,
"incref($module, id, /, *, autoclose=False)\n"
"--\n"
"\n"
"Count one more reference to an interpreter that create() made.\n"
"\n"
"With autoclose, decref() closes the interpreter when the count drops\n"
"back to zero.  Raise InterpreterNotFoundError if there is no such\n"
"interpreter, InterpreterError if create() did not make it.");

#define _INTERPRETERS_INCREF_METHODDEF    \
    {"incref", _PyCFunction_CAST(_interpreters_incref), METH_FASTCALL|METH_KEYWORDS, _interpreters_incref__doc__},

static PyObject *
_interpreters_incref_impl(PyObject *module, int64_t id, int autoclose);

static PyObject *
_interpreters_incref(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    static const char * const _keywords[] = {"", "autoclose", NULL};
    static _PyArg_Parser _parser = {NULL, _keywords, "incref", 0};
    PyObject *argsbuf[2];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 1;
    int64_t id;
    int autoclose = 0;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 1, 1, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    if (!interp_id_converter(args[0], &id)) {
        goto exit;
    }
    if (!noptargs) {
        goto skip_optional_kwonly;
    }
    autoclose = PyObject_IsTrue(args[1]);
    if (autoclose < 0) {
        goto exit;
    }
skip_optional_kwonly:
    return_value = _interpreters_incref_impl(module, id, autoclose);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_decref__doc__,
"decref($module, id, /)\n"
"--\n"
"\n"
"Count one reference less to an interpreter that create() made.\n"
"\n"
"If it was the last one and incref() was called with autoclose, close the\n"
"interpreter now, unless it cannot be closed at this moment (code runs in\n"
"it, a thread started there still runs, the calling thread is inside it,\n"
"or the process exits): then leave it alive.  Do nothing for an\n"
"interpreter that no longer exists.");

#define _INTERPRETERS_DECREF_METHODDEF    \
    {"decref", (PyCFunction)_interpreters_decref, METH_O, _interpreters_decref__doc__},

static PyObject *
_interpreters_decref_impl(PyObject *module, int64_t id);

static PyObject *
_interpreters_decref(PyObject *module, PyObject *arg)
{
    PyObject *return_value = NULL;
    int64_t id;

    if (!interp_id_converter(arg, &id)) {
        goto exit;
    }
    return_value = _interpreters_decref_impl(module, id);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_is_shareable__doc__,
"is_shareable($module, obj, /)\n"
"--\n"
"\n"
"Return whether obj crosses between interpreters without pickle.\n"
"\n"
"That is the case for None, bool, int, float, str, bytes, Queue and\n"
"tuples of these.");

#define _INTERPRETERS_IS_SHAREABLE_METHODDEF    \
    {"is_shareable", (PyCFunction)_interpreters_is_shareable, METH_O, _interpreters_is_shareable__doc__},

static int
_interpreters_is_shareable_impl(PyObject *module, PyObject *obj);

static PyObject *
_interpreters_is_shareable(PyObject *module, PyObject *obj)
{
    PyObject *return_value = NULL;
    int _return_value;

    _return_value = _interpreters_is_shareable_impl(module, obj);
    if ((_return_value == -1) && PyErr_Occurred()) {
        goto exit;
    }
    return_value = PyBool_FromLong((long)_return_value);

exit:
    return return_value;
}
/*[clinic end generated code: output=879f1d385072a9fa input=a9049054013a1b77]*/
