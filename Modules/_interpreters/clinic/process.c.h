/*[clinic input]
preserve
[clinic start generated code]*/

PyDoc_STRVAR(_interpreters__at_exit__doc__,
"_at_exit($module, /)\n"
"--\n"
"\n"
"Finalize the interpreters still alive when the process exits.\n"
"\n"
"Registered with atexit by the main interpreter.");

#define _INTERPRETERS__AT_EXIT_METHODDEF    \
    {"_at_exit", (PyCFunction)_interpreters__at_exit, METH_NOARGS, _interpreters__at_exit__doc__},

static PyObject *
_interpreters__at_exit_impl(PyObject *module);

static PyObject *
_interpreters__at_exit(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return _interpreters__at_exit_impl(module);
}

#if defined(HAVE_FORK)

PyDoc_STRVAR(_interpreters__after_fork_child__doc__,
"_after_fork_child($module, /)\n"
"--\n"
"\n"
"Forget what the threads that did not survive os.fork() left behind.\n"
"\n"
"Registered with os.register_at_fork() by the main interpreter.  The\n"
"child has only the main interpreter and the thread that forked.");

#define _INTERPRETERS__AFTER_FORK_CHILD_METHODDEF    \
    {"_after_fork_child", (PyCFunction)_interpreters__after_fork_child, METH_NOARGS, _interpreters__after_fork_child__doc__},

static PyObject *
_interpreters__after_fork_child_impl(PyObject *module);

static PyObject *
_interpreters__after_fork_child(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    return _interpreters__after_fork_child_impl(module);
}

#endif /* defined(HAVE_FORK) */

#ifndef _INTERPRETERS__AFTER_FORK_CHILD_METHODDEF
    #define _INTERPRETERS__AFTER_FORK_CHILD_METHODDEF
#endif /* !defined(_INTERPRETERS__AFTER_FORK_CHILD_METHODDEF) */
/*[clinic end generated code: output=f9b0f78cef1249dd input=a9049054013a1b77]*/
