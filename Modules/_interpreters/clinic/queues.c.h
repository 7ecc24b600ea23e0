/*[clinic input]
preserve
[clinic start generated code]*/

PyDoc_STRVAR(queue_new__doc__,
"Queue(id)\n"
"--\n"
"\n"
"A handle for an existing cross-interpreter queue, found by its id.\n"
"\n"
"Queues are made by create_queue().  Any interpreter can put objects in a\n"
"queue and get copies of them out of it, through handles of its own.  A\n"
"queue lives while any handle (in any interpreter) or any item in a queue\n"
"refers to it.  Handles for the same queue compare equal.\n"
"\n"
"Raise TypeError if id is not an int, ValueError if it is negative and\n"
"QueueNotFoundError if there is no queue with that id.");

static PyObject *
queue_new_impl(PyTypeObject *type, PyObject *id);

static PyObject *
queue_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *return_value = NULL;
    static const char * const _keywords[] = {"id", NULL};
    static _PyArg_Parser _parser = {NULL, _keywords, "Queue", 0};
    PyObject *argsbuf[1];
    PyObject * const *fastargs;
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    PyObject *id;

    fastargs = _PyArg_UnpackKeywords(_PyTuple_CAST(args)->ob_item, nargs, kwargs, NULL, &_parser, 1, 1, 0, argsbuf);
    if (!fastargs) {
        goto exit;
    }
    id = fastargs[0];
    return_value = queue_new_impl(type, id);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_Queue_put__doc__,
"put($self, /, obj, block=True, timeout=None)\n"
"--\n"
"\n"
"Put a copy of obj at the end of the queue.\n"
"\n"
"If the queue is full and block is true, block until there is room: at\n"
"most timeout seconds if timeout is a non-negative number, else for as\n"
"long as it takes.  Then, or at once if block is false (timeout is ignored\n"
"then), raise QueueFull if the queue is still full.\n"
"\n"
"Shareable objects (see is_shareable()) are copied, others pickled: raise\n"
"NotShareableError if obj cannot be pickled.  Nothing is put on failure.");

#define _INTERPRETERS_QUEUE_PUT_METHODDEF    \
    {"put", _PyCFunction_CAST(_interpreters_Queue_put), METH_FASTCALL|METH_KEYWORDS, _interpreters_Queue_put__doc__},

static PyObject *
_interpreters_Queue_put_impl(queueobject *self, PyObject *obj, int block,
                             PyObject *timeout);

static PyObject *
_interpreters_Queue_put(queueobject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    static const char * const _keywords[] = {"obj", "block", "timeout", NULL};
    static _PyArg_Parser _parser = {NULL, _keywords, "put", 0};
    PyObject *argsbuf[3];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 1;
    PyObject *obj;
    int block = 1;
    PyObject *timeout = Py_None;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 1, 3, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    obj = args[0];
    if (!noptargs) {
        goto skip_optional_pos;
    }
    if (args[1]) {
        block = PyObject_IsTrue(args[1]);
        if (block < 0) {
            goto exit;
        }
        if (!--noptargs) {
            goto skip_optional_pos;
        }
    }
    timeout = args[2];
skip_optional_pos:
    return_value = _interpreters_Queue_put_impl(self, obj, block, timeout);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_Queue_put_nowait__doc__,
"put_nowait($self, /, obj)\n"
"--\n"
"\n"
"Put a copy of obj at the end of the queue without blocking.\n"
"\n"
"Equivalent to put(obj, block=False): raise QueueFull if the queue is\n"
"full.");

#define _INTERPRETERS_QUEUE_PUT_NOWAIT_METHODDEF    \
    {"put_nowait", _PyCFunction_CAST(_interpreters_Queue_put_nowait), METH_FASTCALL|METH_KEYWORDS, _interpreters_Queue_put_nowait__doc__},

static PyObject *
_interpreters_Queue_put_nowait_impl(queueobject *self, PyObject *obj);

static PyObject *
_interpreters_Queue_put_nowait(queueobject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    static const char * const _keywords[] = {"obj", NULL};
    static _PyArg_Parser _parser = {NULL, _keywords, "put_nowait", 0};
    PyObject *argsbuf[1];
    PyObject *obj;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 1, 1, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    obj = args[0];
    return_value = _interpreters_Queue_put_nowait_impl(self, obj);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_Queue_get__doc__,
"get($self, /, block=True, timeout=None)\n"
"--\n"
"\n"
"Remove the oldest item from the queue and return it.\n"
"\n"
"If the queue is empty and block is true, block until an item is put: at\n"
"most timeout seconds if timeout is a non-negative number, else for as\n"
"long as it takes.  Then, or at once if block is false (timeout is ignored\n"
"then), raise QueueEmpty if the queue is still empty.\n"
"\n"
"The item is a new object of this interpreter, equal to the one that was\n"
"put.  A pickled item is unpickled here: if that fails, the item is lost,\n"
"and the error raised.");

#define _INTERPRETERS_QUEUE_GET_METHODDEF    \
    {"get", _PyCFunction_CAST(_interpreters_Queue_get), METH_FASTCALL|METH_KEYWORDS, _interpreters_Queue_get__doc__},

static PyObject *
_interpreters_Queue_get_impl(queueobject *self, int block, PyObject *timeout);

static PyObject *
_interpreters_Queue_get(queueobject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    static const char * const _keywords[] = {"block", "timeout", NULL};
    static _PyArg_Parser _parser = {NULL, _keywords, "get", 0};
    PyObject *argsbuf[2];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 0;
    int block = 1;
    PyObject *timeout = Py_None;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 0, 2, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    if (!noptargs) {
        goto skip_optional_pos;
    }
    if (args[0]) {
        block = PyObject_IsTrue(args[0]);
        if (block < 0) {
            goto exit;
        }
        if (!--noptargs) {
            goto skip_optional_pos;
        }
    }
    timeout = args[1];
skip_optional_pos:
    return_value = _interpreters_Queue_get_impl(self, block, timeout);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_Queue_get_nowait__doc__,
"get_nowait($self, /)\n"
"--\n"
"\n"
"Remove the oldest item from the queue and return it without blocking.\n"
"\n"
"Equivalent to get(block=False): raise QueueEmpty if the queue is empty.");

#define _INTERPRETERS_QUEUE_GET_NOWAIT_METHODDEF    \
    {"get_nowait", (PyCFunction)_interpreters_Queue_get_nowait, METH_NOARGS, _interpreters_Queue_get_nowait__doc__},

static PyObject *
_interpreters_Queue_get_nowait_impl(queueobject *self);

static PyObject *
_interpreters_Queue_get_nowait(queueobject *self, PyObject *Py_UNUSED(ignored))
{
    return _interpreters_Queue_get_nowait_impl(self);
}

PyDoc_STRVAR(_interpreters_Queue_empty__doc__,
"empty($self, /)\n"
"--\n"
"\n"
"Return True if the queue is empty, False otherwise.\n"
"\n"
"Other interpreters may change that at any time.");

#define _INTERPRETERS_QUEUE_EMPTY_METHODDEF    \
    {"empty", (PyCFunction)_interpreters_Queue_empty, METH_NOARGS, _interpreters_Queue_empty__doc__},

static int
_interpreters_Queue_empty_impl(queueobject *self);

static PyObject *
_interpreters_Queue_empty(queueobject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *return_value = NULL;
    int _return_value;

    _return_value = _interpreters_Queue_empty_impl(self);
    if ((_return_value == -1) && PyErr_Occurred()) {
        goto exit;
    }
    return_value = PyBool_FromLong((long)_return_value);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_Queue_full__doc__,
"full($self, /)\n"
"--\n"
"\n"
"Return True if the queue is full, False otherwise.\n"
"\n"
"Other interpreters may change that at any time.  An unbounded queue is\n"
"never full.");

#define _INTERPRETERS_QUEUE_FULL_METHODDEF    \
    {"full", (PyCFunction)_interpreters_Queue_full, METH_NOARGS, _interpreters_Queue_full__doc__},

static int
_interpreters_Queue_full_impl(queueobject *self);

static PyObject *
_interpreters_Queue_full(queueobject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *return_value = NULL;
    int _return_value;

    _return_value = _interpreters_Queue_full_impl(self);
    if ((_return_value == -1) && PyErr_Occurred()) {
        goto exit;
    }
    return_value = PyBool_FromLong((long)_return_value);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_Queue_qsize__doc__,
"qsize($self, /)\n"
"--\n"
"\n"
"Return the number of items in the queue.\n"
"\n"
"Other interpreters may change it at any time.");

#define _INTERPRETERS_QUEUE_QSIZE_METHODDEF    \
    {"qsize", (PyCFunction)_interpreters_Queue_qsize, METH_NOARGS, _interpreters_Queue_qsize__doc__},

static Py_ssize_t
_interpreters_Queue_qsize_impl(queueobject *self);

static PyObject *
_interpreters_Queue_qsize(queueobject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *return_value = NULL;
    Py_ssize_t _return_value;

    _return_value = _interpreters_Queue_qsize_impl(self);
    if ((_return_value == -1) && PyErr_Occurred()) {
        goto exit;
    }
    return_value = PyLong_FromSsize_t(_return_value);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_Queue___reduce____doc__,
"__reduce__($self, /)\n"
"--\n"
"\n"
"Return the state of the handle for pickle: its queue id.\n"
"\n"
"copy and pickle make handles for the same queue.  An unpickled handle\n"
"only works in the same process, while the queue exists.");

#define _INTERPRETERS_QUEUE___REDUCE___METHODDEF    \
    {"__reduce__", (PyCFunction)_interpreters_Queue___reduce__, METH_NOARGS, _interpreters_Queue___reduce____doc__},

static PyObject *
_interpreters_Queue___reduce___impl(queueobject *self);

static PyObject *
_interpreters_Queue___reduce__(queueobject *self, PyObject *Py_UNUSED(ignored))
{
    return _interpreters_Queue___reduce___impl(self);
}

PyDoc_STRVAR(_interpreters__QueueBase__create__doc__,
"_create($type, maxsize, unboundop, /)\n"
"--\n"
"\n"
"Create a queue and return a new object of this class for it.\n"
"\n"
"unboundop is the default of _put() for the queue.");

#define _INTERPRETERS__QUEUEBASE__CREATE_METHODDEF    \
    {"_create", _PyCFunction_CAST(_interpreters__QueueBase__create), METH_FASTCALL|METH_CLASS, _interpreters__QueueBase__create__doc__},

static PyObject *
_interpreters__QueueBase__create_impl(PyTypeObject *type, Py_ssize_t maxsize,
                                      int unboundop);

static PyObject *
_interpreters__QueueBase__create(PyTypeObject *type, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    Py_ssize_t maxsize;
    int unboundop;

    if (!_PyArg_CheckPositional("_create", nargs, 2, 2)) {
        goto exit;
    }
    {
        Py_ssize_t ival = -1;
        PyObject *iobj = _PyNumber_Index(args[0]);
        if (iobj != NULL) {
            ival = PyLong_AsSsize_t(iobj);
            Py_DECREF(iobj);
        }
        if (ival == -1 && PyErr_Occurred()) {
            goto exit;
        }
        maxsize = ival;
    }
    unboundop = _PyLong_AsInt(args[1]);
    if (unboundop == -1 && PyErr_Occurred()) {
        goto exit;
    }
    return_value = _interpreters__QueueBase__create_impl(type, maxsize, unboundop);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters__QueueBase__register_shareable__doc__,
"_register_shareable($type, /)\n"
"--\n"
"\n"
"Make the objects of this class (exactly) cross between interpreters.\n"
"\n"
"They arrive as the object that this class in the receiving interpreter\n"
"(imported from concurrent.interpreters._queues) gives for the queue id.");

#define _INTERPRETERS__QUEUEBASE__REGISTER_SHAREABLE_METHODDEF    \
    {"_register_shareable", (PyCFunction)_interpreters__QueueBase__register_shareable, METH_NOARGS|METH_CLASS, _interpreters__QueueBase__register_shareable__doc__},

static PyObject *
_interpreters__QueueBase__register_shareable_impl(PyTypeObject *type);

static PyObject *
_interpreters__QueueBase__register_shareable(PyTypeObject *type, PyObject *Py_UNUSED(ignored))
{
    return _interpreters__QueueBase__register_shareable_impl(type);
}

PyDoc_STRVAR(_interpreters__QueueBase__list_ids__doc__,
"_list_ids()\n"
"--\n"
"\n"
"Return the ids of all the queues that exist, the newest first.");

#define _INTERPRETERS__QUEUEBASE__LIST_IDS_METHODDEF    \
    {"_list_ids", (PyCFunction)_interpreters__QueueBase__list_ids, METH_NOARGS|METH_STATIC, _interpreters__QueueBase__list_ids__doc__},

static PyObject *
_interpreters__QueueBase__list_ids_impl();

static PyObject *
_interpreters__QueueBase__list_ids(void *null, PyObject *Py_UNUSED(ignored))
{
    return _interpreters__QueueBase__list_ids_impl();
}

PyDoc_STRVAR(_interpreters__QueueBase__put__doc__,
"_put($self, obj, block, timeout, unboundop, /)\n"
"--\n"
"\n"
"Put a copy of obj in the queue, like Queue.put().\n"
"\n"
"unboundop says what happens to the item if the current interpreter is\n"
"destroyed before the item is taken: UNBOUND_REMOVE (1) drops it, with\n"
"UNBOUND_ERROR (2) or UNBOUND (3), _get() reports it; -1 stands for the\n"
"queue\'s default.");

#define _INTERPRETERS__QUEUEBASE__PUT_METHODDEF    \
    {"_put", _PyCFunction_CAST(_interpreters__QueueBase__put), METH_FASTCALL, _interpreters__QueueBase__put__doc__},

static PyObject *
_interpreters__QueueBase__put_impl(queueobject *self, PyObject *obj,
                                   int block, PyObject *timeout,
                                   int unboundop);

static PyObject *
_interpreters__QueueBase__put(queueobject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    PyObject *obj;
    int block;
    PyObject *timeout;
    int unboundop;

    if (!_PyArg_CheckPositional("_put", nargs, 4, 4)) {
        goto exit;
    }
    obj = args[0];
    block = PyObject_IsTrue(args[1]);
    if (block < 0) {
        goto exit;
    }
    timeout = args[2];
    unboundop = _PyLong_AsInt(args[3]);
    if (unboundop == -1 && PyErr_Occurred()) {
        goto exit;
    }
    return_value = _interpreters__QueueBase__put_impl(self, obj, block, timeout, unboundop);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters__QueueBase__get__doc__,
"_get($self, block, timeout, /)\n"
"--\n"
"\n"
"Remove the oldest item from the queue, like Queue.get().\n"
"\n"
"Return (obj, None), or (None, unboundop) if the interpreter that put\n"
"the item was destroyed since.");

#define _INTERPRETERS__QUEUEBASE__GET_METHODDEF    \
    {"_get", _PyCFunction_CAST(_interpreters__QueueBase__get), METH_FASTCALL, _interpreters__QueueBase__get__doc__},

static PyObject *
_interpreters__QueueBase__get_impl(queueobject *self, int block,
                                   PyObject *timeout);

static PyObject *
_interpreters__QueueBase__get(queueobject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *return_value = NULL;
    int block;
    PyObject *timeout;

    if (!_PyArg_CheckPositional("_get", nargs, 2, 2)) {
        goto exit;
    }
    block = PyObject_IsTrue(args[0]);
    if (block < 0) {
        goto exit;
    }
    timeout = args[1];
    return_value = _interpreters__QueueBase__get_impl(self, block, timeout);

exit:
    return return_value;
}

PyDoc_STRVAR(_interpreters_create_queue__doc__,
"create_queue($module, /, maxsize=0)\n"
"--\n"
"\n"
"Create a new cross-interpreter queue and return a handle for it.\n"
"\n"
"The queue holds at most maxsize items; if maxsize <= 0 (the default),\n"
"its size is unbounded.");

#define _INTERPRETERS_CREATE_QUEUE_METHODDEF    \
    {"create_queue", _PyCFunction_CAST(_interpreters_create_queue), METH_FASTCALL|METH_KEYWORDS, _interpreters_create_queue__doc__},

static PyObject *
_interpreters_create_queue_impl(PyObject *module, Py_ssize_t maxsize);

static PyObject *
_interpreters_create_queue(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *return_value = NULL;
    static const char * const _keywords[] = {"maxsize", NULL};
    static _PyArg_Parser _parser = {NULL, _keywords, "create_queue", 0};
    PyObject *argsbuf[1];
    Py_ssize_t noptargs = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) - 0;
    Py_ssize_t maxsize = 0;

    args = _PyArg_UnpackKeywords(args, nargs, NULL, kwnames, &_parser, 0, 1, 0, argsbuf);
    if (!args) {
        goto exit;
    }
    if (!noptargs) {
        goto skip_optional_pos;
    }
    {
        Py_ssize_t ival = -1;
        PyObject *iobj = _PyNumber_Index(args[0]);
        if (iobj != NULL) {
            ival = PyLong_AsSsize_t(iobj);
            Py_DECREF(iobj);
        }
        if (ival == -1 && PyErr_Occurred()) {
            goto exit;
        }
        maxsize = ival;
    }
skip_optional_pos:
    return_value = _interpreters_create_queue_impl(module, maxsize);

exit:
    return return_value;
}
/*[clinic end generated code: output=b44e09b99a03a3eb input=a9049054013a1b77]*/
