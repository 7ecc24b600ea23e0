/*[clinic input]
preserve
[clinic start generated code]*/

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
/*[clinic end generated code: output=f98b008446fbd882 input=a9049054013a1b77]*/
