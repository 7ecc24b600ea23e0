/* Cross-interpreter data: objects encoded as raw bytes (see crossdata.h).
 */

#include "module.h"
#include "crossdata.h"
#include "queues.h"
#include "marshal.h"              // PyMarshal_WriteObjectToString()

#include <stddef.h>               // offsetof()


/* ------------------------------------------------------------------------
   The encoded data

   An xdata is a header, the queues that the data names, then the
   "stream": a sequence of values, each one tag byte followed by a layout
   that depends on the tag.  Numbers are copied in native byte order with
   memcpy(): the stream never leaves the process, and values in it are not
   aligned, except the characters of a str, whose kind is 2 or 4 (the
   stream starts on a pointer boundary and pads them to their size, so that
   PyUnicode_FromKindAndData() can read them in place).
*/

struct xdata {
    size_t size;                /* bytes in the stream */
    Py_ssize_t nqueues;         /* length of queues[] */
    xqueue *queues[];           /* one reference each; the stream follows */
};

#define XDATA_STREAM(data) ((char *)&(data)->queues[(data)->nqueues])

enum {
    TAG_NONE = 'N',
    TAG_FALSE = 'F',
    TAG_TRUE = 'T',
    TAG_INT = 'i',              /* long long */
    TAG_BIGINT = 'I',           /* Py_ssize_t n; n bytes, little endian,
                                   two's complement */
    TAG_FLOAT = 'f',            /* double */
    TAG_STR = 's',              /* unsigned char kind; Py_ssize_t length;
                                   padding to kind; length * kind bytes */
    TAG_BYTES = 'b',            /* Py_ssize_t n; n bytes */
    TAG_TUPLE = 't',            /* Py_ssize_t n; n values */
    TAG_QUEUE = 'q',            /* Py_ssize_t index in queues[] */
    TAG_PICKLE = 'p',           /* unsigned char with_pids; Py_ssize_t n;
                                   n bytes of pickle */
    TAG_FUNCTION = 'c',         /* Py_ssize_t n; n bytes of marshal'd code;
                                   then 4 values: name, qualname (str),
                                   defaults, kwdefaults */
};

/* In a pickle, a Queue handle is the persistent id index (an int): the
   handle for xdata.queues[index].  A function of __main__ (with
   XDATA_FUNCTIONS) is the persistent id (code, name, qualname, defaults,
   kwdefaults), code being the marshal'd code object: the same record as a
   TAG_FUNCTION value, pickled. */
#define FUNCTION_RECORD_SIZE 5

#define ENCODER_CAPSULE "_interpreters.encoder"
#define DECODER_CAPSULE "_interpreters.decoder"

static void
set_corrupted(void)
{
    PyErr_SetString(PyExc_SystemError, "corrupted cross-interpreter data");
}


/* ------------------------------------------------------------------------
   Functions of __main__
*/

static int
is_main_function(PyObject *obj)
{
    if (!PyFunction_Check(obj)) {
        return 0;
    }
    PyObject *module = PyFunction_GET_MODULE(obj);
    return (module != NULL && PyUnicode_Check(module)
            && _PyUnicode_EqualToASCIIString(module, "__main__"));
}

/* Return the record of a function of __main__: a tuple (code, name,
   qualname, defaults, kwdefaults) with code marshal'd, name and qualname
   exact str, defaults and kwdefaults None if unset.  NULL with an exception
   set on error.
   XXX The other attributes (__doc__ if it was changed, __annotations__,
   __dict__) stay behind. */
static PyObject *
function_record(PyObject *func)
{
    PyFunctionObject *f = (PyFunctionObject *)func;
    PyObject *code = NULL, *name = NULL, *qualname = NULL, *record = NULL;

    if (f->func_closure != NULL) {
        /* The cells of a closure belong to the frames of this interpreter;
           copying them would silently split the variables in two. */
        interpreters_state *st = interpreters_current_state();
        if (st != NULL) {
            PyErr_Format(st->NotShareableError,
                         "function %R is a closure: the variables it uses "
                         "from an enclosing function cannot cross "
                         "interpreters", f->func_qualname);
        }
        return NULL;
    }
    code = PyMarshal_WriteObjectToString(f->func_code, Py_MARSHAL_VERSION);
    if (code == NULL) {
        goto done;
    }
    /* The attributes may be str subclasses, which the stream has no room
       for: copy them as exact str. */
    name = PyUnicode_FromObject(f->func_name);
    if (name == NULL) {
        goto done;
    }
    qualname = PyUnicode_FromObject(f->func_qualname);
    if (qualname == NULL) {
        goto done;
    }
    record = PyTuple_Pack(FUNCTION_RECORD_SIZE, code, name, qualname,
                          f->func_defaults ? f->func_defaults : Py_None,
                          f->func_kwdefaults ? f->func_kwdefaults : Py_None);
done:
    Py_XDECREF(code);
    Py_XDECREF(name);
    Py_XDECREF(qualname);
    return record;
}

/* Rebuild a function from its record in the current interpreter, with the
   __main__.__dict__ of that interpreter as globals. */
static PyObject *
function_rebuild(const char *marshalled, Py_ssize_t size, PyObject *name,
                 PyObject *qualname, PyObject *defaults, PyObject *kwdefaults)
{
    PyObject *code, *main, *func = NULL;

    if (!PyUnicode_Check(name) || !PyUnicode_Check(qualname)
        || (defaults != Py_None && !PyTuple_Check(defaults))
        || (kwdefaults != Py_None && !PyDict_Check(kwdefaults)))
    {
        set_corrupted();
        return NULL;
    }
    code = PyMarshal_ReadObjectFromString(marshalled, size);
    if (code == NULL) {
        return NULL;
    }
    /* Calling the code of a closure without its cells would crash. */
    if (!PyCode_Check(code) || ((PyCodeObject *)code)->co_nfreevars != 0) {
        set_corrupted();
        goto error;
    }
    main = PyImport_AddModule("__main__");
    if (main == NULL) {
        goto error;
    }
    func = PyFunction_NewWithQualName(code, PyModule_GetDict(main),
                                      qualname);
    if (func == NULL) {
        goto error;
    }
    if (PyObject_SetAttrString(func, "__name__", name) < 0) {
        goto error;
    }
    if (defaults != Py_None && PyFunction_SetDefaults(func, defaults) < 0) {
        goto error;
    }
    if (kwdefaults != Py_None
        && PyFunction_SetKwDefaults(func, kwdefaults) < 0)
    {
        goto error;
    }
    Py_DECREF(code);
    return func;

error:
    Py_DECREF(code);
    Py_XDECREF(func);
    return NULL;
}


/* ------------------------------------------------------------------------
   Encoding

   Encoding makes two passes over the object.  The first one measures the
   stream, the second one writes it into a block of exactly that size: a
   large bytes object costs one copy, and never a realloc (which could
   need twice its size).  Both passes must take the same path through the
   object.  Shareable objects cannot change in between, but pickling runs
   arbitrary code: whatever it makes, and whatever it could change, the
   first pass makes or reads once, keeps in blobs and the second pass
   replays.
*/

/* Values at the top level: the object, or the defaults and kwdefaults of a
   function. */
#define ENCODER_MAX_ITEMS 2

typedef struct {
    int flags;
    char *out;              /* where to write the stream; NULL in pass 1 */
    size_t size;            /* bytes measured or written so far */
    size_t capacity;        /* bytes available */
    int overflow;           /* the stream exceeds capacity */
    PyObject *queues;       /* list of the Queue handles named, or NULL */
    PyObject *blobs;        /* list of what pass 1 kept for pass 2 */
    Py_ssize_t nblobs;      /* blobs already replayed by pass 2 */
    int function;           /* pass 1 encoded a TAG_FUNCTION */
    char pickled[ENCODER_MAX_ITEMS];    /* pass 1 pickled that item */
    int nitems;
    int with_pids;          /* the pickle being made has persistent ids */
} encoder;

/* Add n bytes from src (or, if src is NULL, uninitialized bytes) to the
   stream.  Return where they are, or NULL in pass 1 or on overflow. */
static char *
enc_raw(encoder *e, const void *src, size_t n)
{
    char *p;

    if (e->overflow || n > e->capacity - e->size) {
        e->overflow = 1;
        return NULL;
    }
    p = e->out ? e->out + e->size : NULL;
    if (p != NULL && src != NULL) {
        memcpy(p, src, n);
    }
    e->size += n;
    return p;
}

static void
enc_tag(encoder *e, char tag)
{
    enc_raw(e, &tag, 1);
}

static void
enc_ssize(encoder *e, Py_ssize_t n)
{
    enc_raw(e, &n, sizeof(n));
}

/* Store a new reference to obj in blobs (pass 1). */
static int
enc_keep(encoder *e, PyObject *obj)
{
    int res;

    if (obj == NULL) {
        return -1;
    }
    if (e->blobs == NULL) {
        e->blobs = PyList_New(0);
        if (e->blobs == NULL) {
            Py_DECREF(obj);
            return -1;
        }
    }
    res = PyList_Append(e->blobs, obj);
    Py_DECREF(obj);
    return res;
}

/* Return the next object kept by pass 1 (pass 2), a borrowed reference. */
static PyObject *
enc_replay(encoder *e)
{
    if (e->blobs == NULL || e->nblobs >= PyList_GET_SIZE(e->blobs)) {
        PyErr_SetString(PyExc_SystemError,
                        "object changed while it was encoded");
        return NULL;
    }
    return PyList_GET_ITEM(e->blobs, e->nblobs++);
}

/* Add a Queue handle to the queues named by the data; return its index
   or -1 with an exception set. */
static Py_ssize_t
enc_add_queue(encoder *e, PyObject *handle)
{
    if (e->queues == NULL) {
        e->queues = PyList_New(0);
        if (e->queues == NULL) {
            return -1;
        }
    }
    if (PyList_Append(e->queues, handle) < 0) {
        return -1;
    }
    return PyList_GET_SIZE(e->queues) - 1;
}

static int enc_direct(encoder *e, PyObject *obj);

static int
enc_int(encoder *e, PyObject *obj)
{
    int overflow;
    long long value = PyLong_AsLongLongAndOverflow(obj, &overflow);

    if (!overflow) {
        enc_tag(e, TAG_INT);
        enc_raw(e, &value, sizeof(value));
        return 0;
    }
    size_t nbits = _PyLong_NumBits(obj);
    if (nbits == (size_t)-1 && PyErr_Occurred()) {
        return -1;
    }
    /* One more bit for the sign */
    size_t n = nbits / 8 + 1;
    enc_tag(e, TAG_BIGINT);
    enc_ssize(e, (Py_ssize_t)n);
    char *p = enc_raw(e, NULL, n);
    if (p != NULL
        && _PyLong_AsByteArray((PyLongObject *)obj, (unsigned char *)p, n,
                               1, 1) < 0)
    {
        return -1;
    }
    return 0;
}

static int
enc_str(encoder *e, PyObject *obj)
{
    if (PyUnicode_READY(obj) < 0) {
        return -1;
    }
    unsigned char kind = (unsigned char)PyUnicode_KIND(obj);
    Py_ssize_t length = PyUnicode_GET_LENGTH(obj);
    static const char padding[4] = {0};

    enc_tag(e, TAG_STR);
    enc_raw(e, &kind, 1);
    enc_ssize(e, length);
    /* The padding depends on the offset only: both passes agree. */
    enc_raw(e, padding, (kind - e->size % kind) % kind);
    enc_raw(e, PyUnicode_DATA(obj), (size_t)length * kind);
    return 0;
}

static int
enc_tuple(encoder *e, PyObject *obj)
{
    Py_ssize_t n = PyTuple_GET_SIZE(obj);
    int res = 0;

    /* Only pass 1 checks the depth: pass 2 must take the same path, even
       if pickling code changed the recursion limit in between. */
    if (e->out == NULL && Py_EnterRecursiveCall(" while encoding a tuple")) {
        if (!PyErr_ExceptionMatches(PyExc_RecursionError)) {
            return -1;
        }
        /* Too deep for us: let pickle report it. */
        PyErr_Clear();
        return 1;
    }
    enc_tag(e, TAG_TUPLE);
    enc_ssize(e, n);
    for (Py_ssize_t i = 0; i < n; i++) {
        res = enc_direct(e, PyTuple_GET_ITEM(obj, i));
        if (res != 0) {
            break;
        }
    }
    if (e->out == NULL) {
        Py_LeaveRecursiveCall();
    }
    return res;
}

static int
enc_queue(encoder *e, PyObject *handle)
{
    Py_ssize_t index = -1;

    if (e->out == NULL) {
        index = enc_add_queue(e, handle);
        if (index < 0) {
            return -1;
        }
    }
    else {
        /* Pass 1 added it: find it again.  There are few queues. */
        Py_ssize_t n = e->queues ? PyList_GET_SIZE(e->queues) : 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (PyList_GET_ITEM(e->queues, i) == handle) {
                index = i;
                break;
            }
        }
        if (index < 0) {
            PyErr_SetString(PyExc_SystemError,
                            "object changed while it was encoded");
            return -1;
        }
    }
    enc_tag(e, TAG_QUEUE);
    enc_ssize(e, index);
    return 0;
}

/* Encode obj if it is shareable.  Return 0 if it was encoded, 1 if it (or
   an item in it) is not shareable, leaving the stream partly written,
   -1 on error. */
static int
enc_direct(encoder *e, PyObject *obj)
{
    PyTypeObject *type = Py_TYPE(obj);

    if (obj == Py_None) {
        enc_tag(e, TAG_NONE);
        return 0;
    }
    if (type == &PyBool_Type) {
        enc_tag(e, obj == Py_True ? TAG_TRUE : TAG_FALSE);
        return 0;
    }
    if (type == &PyLong_Type) {
        return enc_int(e, obj);
    }
    if (type == &PyFloat_Type) {
        double value = PyFloat_AS_DOUBLE(obj);
        enc_tag(e, TAG_FLOAT);
        enc_raw(e, &value, sizeof(value));
        return 0;
    }
    if (type == &PyUnicode_Type) {
        return enc_str(e, obj);
    }
    if (type == &PyBytes_Type) {
        enc_tag(e, TAG_BYTES);
        enc_ssize(e, PyBytes_GET_SIZE(obj));
        enc_raw(e, PyBytes_AS_STRING(obj), PyBytes_GET_SIZE(obj));
        return 0;
    }
    if (type == &PyTuple_Type) {
        return enc_tuple(e, obj);
    }
    if (queue_handle_xqueue(obj) != NULL) {
        return enc_queue(e, obj);
    }
    return 1;
}

/* The persistent_id() of our picklers: self is a capsule of the encoder.
   Return the persistent id of obj, or None to pickle it as usual. */
static PyObject *
enc_persistent_id(PyObject *self, PyObject *obj)
{
    encoder *e = PyCapsule_GetPointer(self, ENCODER_CAPSULE);
    if (e == NULL) {
        return NULL;
    }
    if (queue_handle_xqueue(obj) != NULL) {
        Py_ssize_t index = enc_add_queue(e, obj);
        if (index < 0) {
            return NULL;
        }
        e->with_pids = 1;
        return PyLong_FromSsize_t(index);
    }
    if ((e->flags & XDATA_FUNCTIONS) && is_main_function(obj)) {
        e->with_pids = 1;
        return function_record(obj);
    }
    Py_RETURN_NONE;
}

static PyMethodDef enc_persistent_id_def = {
    "persistent_id", enc_persistent_id, METH_O, NULL
};

/* Replace the current exception, which pickling obj raised, with a
   NotShareableError caused by it.  Leave alone a NotShareableError (a
   closure inside obj), and exceptions that say nothing about obj:
   KeyboardInterrupt and other non-Exceptions, MemoryError. */
static void
raise_not_shareable(PyObject *obj)
{
    PyObject *type, *value, *tb;
    interpreters_state *st;

    if (!PyErr_ExceptionMatches(PyExc_Exception)
        || PyErr_ExceptionMatches(PyExc_MemoryError))
    {
        return;
    }
    PyErr_Fetch(&type, &value, &tb);
    st = interpreters_current_state();
    if (st == NULL) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return;
    }
    PyErr_Restore(type, value, tb);
    if (PyErr_ExceptionMatches(st->NotShareableError)) {
        return;
    }
    _PyErr_FormatFromCause(st->NotShareableError,
                           "'%.200s' object is not shareable: "
                           "it cannot be pickled", Py_TYPE(obj)->tp_name);
}

/* Pickle obj (pass 1), Queue handles and, with XDATA_FUNCTIONS, functions
   of __main__ as persistent ids.  Return a new bytes object, or NULL with
   an exception set. */
static PyObject *
enc_pickle(encoder *e, PyObject *obj)
{
    PyObject *pickle, *io = NULL, *file = NULL, *pickler = NULL;
    PyObject *capsule = NULL, *persistent_id = NULL, *res, *pickled = NULL;

    pickle = PyImport_ImportModule("pickle");
    if (pickle == NULL) {
        return NULL;
    }
    io = PyImport_ImportModule("io");
    if (io == NULL) {
        goto done;
    }
    file = PyObject_CallMethod(io, "BytesIO", NULL);
    if (file == NULL) {
        goto done;
    }
    pickler = PyObject_CallMethod(pickle, "Pickler", "Oi", file, -1);
    if (pickler == NULL) {
        goto done;
    }
    /* The pickler lives no longer than this call, nor does the capsule
       of the encoder on our stack (nothing else can reach them). */
    capsule = PyCapsule_New(e, ENCODER_CAPSULE, NULL);
    if (capsule == NULL) {
        goto done;
    }
    persistent_id = PyCFunction_New(&enc_persistent_id_def, capsule);
    if (persistent_id == NULL) {
        goto done;
    }
    if (PyObject_SetAttrString(pickler, "persistent_id", persistent_id) < 0)
    {
        goto done;
    }
    e->with_pids = 0;
    res = PyObject_CallMethod(pickler, "dump", "(O)", obj);
    if (res == NULL) {
        raise_not_shareable(obj);
        goto done;
    }
    Py_DECREF(res);
    pickled = PyObject_CallMethod(file, "getvalue", NULL);

done:
    Py_DECREF(pickle);
    Py_XDECREF(io);
    Py_XDECREF(file);
    Py_XDECREF(pickler);
    Py_XDECREF(capsule);
    Py_XDECREF(persistent_id);
    return pickled;
}

static int
enc_pickled(encoder *e, PyObject *obj)
{
    PyObject *pickled, *with_pids;
    unsigned char flag;

    if (e->out == NULL) {
        if (enc_keep(e, enc_pickle(e, obj)) < 0
            || enc_keep(e, PyBool_FromLong(e->with_pids)) < 0)
        {
            return -1;
        }
        Py_ssize_t n = PyList_GET_SIZE(e->blobs);
        pickled = PyList_GET_ITEM(e->blobs, n - 2);
        with_pids = PyList_GET_ITEM(e->blobs, n - 1);
    }
    else {
        pickled = enc_replay(e);
        if (pickled == NULL) {
            return -1;
        }
        with_pids = enc_replay(e);
        if (with_pids == NULL) {
            return -1;
        }
    }
    if (!PyBytes_Check(pickled)) {
        PyErr_Format(PyExc_TypeError,
                     "pickler returned %.200s, not bytes",
                     Py_TYPE(pickled)->tp_name);
        return -1;
    }
    flag = (with_pids == Py_True);
    enc_tag(e, TAG_PICKLE);
    enc_raw(e, &flag, 1);
    enc_ssize(e, PyBytes_GET_SIZE(pickled));
    enc_raw(e, PyBytes_AS_STRING(pickled), PyBytes_GET_SIZE(pickled));
    return 0;
}

/* Encode a value at the top level: directly if it is shareable, else
   pickled. */
static int
enc_item(encoder *e, PyObject *obj)
{
    int pickled;

    if (e->nitems >= ENCODER_MAX_ITEMS) {
        PyErr_SetString(PyExc_SystemError, "too many items to encode");
        return -1;
    }
    if (e->out == NULL) {
        size_t size = e->size;
        Py_ssize_t nqueues = e->queues ? PyList_GET_SIZE(e->queues) : 0;

        pickled = enc_direct(e, obj);
        if (pickled < 0) {
            return -1;
        }
        if (pickled) {
            /* Undo the part of obj that was encoded. */
            e->size = size;
            if (e->queues != NULL
                && PyList_SetSlice(e->queues, nqueues,
                                   PyList_GET_SIZE(e->queues), NULL) < 0)
            {
                return -1;
            }
        }
        e->pickled[e->nitems++] = (char)pickled;
    }
    else {
        pickled = e->pickled[e->nitems++];
        if (!pickled) {
            int res = enc_direct(e, obj);
            if (res > 0) {
                PyErr_SetString(PyExc_SystemError,
                                "object changed while it was encoded");
            }
            return res ? -1 : 0;
        }
    }
    return pickled ? enc_pickled(e, obj) : 0;
}

static int
enc_function(encoder *e, PyObject *func)
{
    PyObject *record;

    if (e->out == NULL) {
        if (enc_keep(e, function_record(func)) < 0) {
            return -1;
        }
        record = PyList_GET_ITEM(e->blobs, PyList_GET_SIZE(e->blobs) - 1);
    }
    else {
        record = enc_replay(e);
        if (record == NULL) {
            return -1;
        }
    }
    PyObject *code = PyTuple_GET_ITEM(record, 0);
    enc_tag(e, TAG_FUNCTION);
    enc_ssize(e, PyBytes_GET_SIZE(code));
    enc_raw(e, PyBytes_AS_STRING(code), PyBytes_GET_SIZE(code));
    /* name and qualname are exact str: always shareable */
    if (enc_direct(e, PyTuple_GET_ITEM(record, 1)) != 0
        || enc_direct(e, PyTuple_GET_ITEM(record, 2)) != 0
        || enc_item(e, PyTuple_GET_ITEM(record, 3)) < 0
        || enc_item(e, PyTuple_GET_ITEM(record, 4)) < 0)
    {
        return -1;
    }
    return 0;
}

/* Make one pass over obj. */
static int
enc_top(encoder *e, PyObject *obj)
{
    if (e->out == NULL) {
        e->function = ((e->flags & XDATA_FUNCTIONS)
                       && is_main_function(obj));
    }
    if (e->function) {
        return enc_function(e, obj);
    }
    return enc_item(e, obj);
}

xdata *
xdata_encode(PyObject *obj, int flags)
{
    encoder e = {
        .flags = flags,
        .capacity = PY_SSIZE_T_MAX,
    };
    xdata *data = NULL;
    Py_ssize_t nqueues;
    size_t header;

    if (enc_top(&e, obj) < 0) {
        goto done;
    }
    nqueues = e.queues ? PyList_GET_SIZE(e.queues) : 0;
    header = offsetof(xdata, queues) + (size_t)nqueues * sizeof(xqueue *);
    if (e.overflow || e.size > (size_t)PY_SSIZE_T_MAX - header) {
        PyErr_NoMemory();
        goto done;
    }
    data = PyMem_RawMalloc(header + e.size);
    if (data == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    data->size = e.size;
    data->nqueues = nqueues;
    for (Py_ssize_t i = 0; i < nqueues; i++) {
        /* The handles keep their queues alive until then. */
        xqueue *q = queue_handle_xqueue(PyList_GET_ITEM(e.queues, i));
        xqueue_incref(q);
        data->queues[i] = q;
    }

    e.out = XDATA_STREAM(data);
    e.capacity = e.size;
    e.size = 0;
    e.nblobs = 0;
    e.nitems = 0;
    if (enc_top(&e, obj) < 0 || e.overflow || e.size != data->size) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_SystemError,
                            "object changed while it was encoded");
        }
        xdata_free(data);
        data = NULL;
    }

done:
    Py_XDECREF(e.queues);
    Py_XDECREF(e.blobs);
    return data;
}

xdata *
xdata_encode_exception(PyObject *exc)
{
    /* An exception is never shareable: this pickles it. */
    return xdata_encode(exc, 0);
}

void
xdata_free(xdata *data)
{
    if (data == NULL) {
        return;
    }
    for (Py_ssize_t i = 0; i < data->nqueues; i++) {
        xqueue_decref(data->queues[i]);
    }
    PyMem_RawFree(data);
}


/* ------------------------------------------------------------------------
   Decoding

   The stream comes from xdata_encode(), in this process: the checks below
   only keep a bug from reading out of bounds.
*/

typedef struct {
    const xdata *data;
    const char *start;
    const char *pos;
    const char *end;
} decoder;

/* Return n bytes of the stream, in place, or NULL with an exception set. */
static const char *
dec_raw(decoder *d, Py_ssize_t n)
{
    const char *p = d->pos;

    if (n < 0 || n > d->end - d->pos) {
        set_corrupted();
        return NULL;
    }
    d->pos += n;
    return p;
}

static int
dec_copy(decoder *d, void *dst, Py_ssize_t n)
{
    const char *p = dec_raw(d, n);
    if (p == NULL) {
        return -1;
    }
    memcpy(dst, p, n);
    return 0;
}

static int
dec_ssize(decoder *d, Py_ssize_t *n)
{
    return dec_copy(d, n, sizeof(*n));
}

static PyObject *dec_value(decoder *d);

static PyObject *
dec_str(decoder *d)
{
    unsigned char kind;
    Py_ssize_t length;
    const char *p;

    if (dec_copy(d, &kind, 1) < 0 || dec_ssize(d, &length) < 0) {
        return NULL;
    }
    if ((kind != 1 && kind != 2 && kind != 4)
        || length < 0 || length > PY_SSIZE_T_MAX / kind
        || dec_raw(d, (kind - (d->pos - d->start) % kind) % kind) == NULL)
    {
        set_corrupted();
        return NULL;
    }
    p = dec_raw(d, length * kind);
    if (p == NULL) {
        return NULL;
    }
    return PyUnicode_FromKindAndData(kind, p, length);
}

static PyObject *
dec_tuple(decoder *d)
{
    Py_ssize_t n;
    PyObject *tuple;

    if (dec_ssize(d, &n) < 0) {
        return NULL;
    }
    /* Each value takes one byte at least. */
    if (n < 0 || n > d->end - d->pos) {
        set_corrupted();
        return NULL;
    }
    if (Py_EnterRecursiveCall(" while decoding a tuple")) {
        return NULL;
    }
    tuple = PyTuple_New(n);
    for (Py_ssize_t i = 0; tuple != NULL && i < n; i++) {
        PyObject *item = dec_value(d);
        if (item == NULL) {
            Py_CLEAR(tuple);
            break;
        }
        PyTuple_SET_ITEM(tuple, i, item);
    }
    Py_LeaveRecursiveCall();
    return tuple;
}

static PyObject *
dec_queue(const xdata *data, Py_ssize_t index)
{
    if (index < 0 || index >= data->nqueues) {
        set_corrupted();
        return NULL;
    }
    return queue_handle_new(data->queues[index]);
}

/* The persistent_load() of our unpicklers: self is a capsule of the
   xdata. */
static PyObject *
dec_persistent_load(PyObject *self, PyObject *pid)
{
    const xdata *data = PyCapsule_GetPointer(self, DECODER_CAPSULE);
    if (data == NULL) {
        return NULL;
    }
    if (PyLong_CheckExact(pid)) {
        Py_ssize_t index = PyLong_AsSsize_t(pid);
        if (index == -1 && PyErr_Occurred()) {
            return NULL;
        }
        return dec_queue(data, index);
    }
    if (PyTuple_CheckExact(pid)
        && PyTuple_GET_SIZE(pid) == FUNCTION_RECORD_SIZE
        && PyBytes_Check(PyTuple_GET_ITEM(pid, 0)))
    {
        PyObject *code = PyTuple_GET_ITEM(pid, 0);
        return function_rebuild(PyBytes_AS_STRING(code),
                                PyBytes_GET_SIZE(code),
                                PyTuple_GET_ITEM(pid, 1),
                                PyTuple_GET_ITEM(pid, 2),
                                PyTuple_GET_ITEM(pid, 3),
                                PyTuple_GET_ITEM(pid, 4));
    }
    set_corrupted();
    return NULL;
}

static PyMethodDef dec_persistent_load_def = {
    "persistent_load", dec_persistent_load, METH_O, NULL
};

/* Unpickle a pickle without persistent ids. */
static PyObject *
dec_unpickle(const char *p, Py_ssize_t n)
{
    PyObject *pickle, *input, *obj;

    /* The C unpickler reads a buffer in place, and keeps no reference to
       it: hand it a view of the stream rather than a copy.  Any other
       loads() could keep the view beyond the life of the data. */
    pickle = PyImport_ImportModule("_pickle");
    if (pickle != NULL) {
        input = PyMemoryView_FromMemory((char *)p, n, PyBUF_READ);
    }
    else {
        PyErr_Clear();
        pickle = PyImport_ImportModule("pickle");
        if (pickle == NULL) {
            return NULL;
        }
        input = PyBytes_FromStringAndSize(p, n);
    }
    if (input == NULL) {
        Py_DECREF(pickle);
        return NULL;
    }
    obj = PyObject_CallMethod(pickle, "loads", "O", input);
    Py_DECREF(pickle);
    Py_DECREF(input);
    return obj;
}

/* Unpickle a pickle with persistent ids. */
static PyObject *
dec_unpickle_with_pids(const xdata *data, const char *p, Py_ssize_t n)
{
    PyObject *pickle, *io = NULL, *bytes = NULL, *file = NULL;
    PyObject *unpickler = NULL, *capsule = NULL, *persistent_load = NULL;
    PyObject *obj = NULL;

    pickle = PyImport_ImportModule("pickle");
    if (pickle == NULL) {
        return NULL;
    }
    io = PyImport_ImportModule("io");
    if (io == NULL) {
        goto done;
    }
    /* The unpickler needs a file.  BytesIO shares the bytes object. */
    bytes = PyBytes_FromStringAndSize(p, n);
    if (bytes == NULL) {
        goto done;
    }
    file = PyObject_CallMethod(io, "BytesIO", "O", bytes);
    if (file == NULL) {
        goto done;
    }
    unpickler = PyObject_CallMethod(pickle, "Unpickler", "O", file);
    if (unpickler == NULL) {
        goto done;
    }
    capsule = PyCapsule_New((void *)data, DECODER_CAPSULE, NULL);
    if (capsule == NULL) {
        goto done;
    }
    persistent_load = PyCFunction_New(&dec_persistent_load_def, capsule);
    if (persistent_load == NULL) {
        goto done;
    }
    if (PyObject_SetAttrString(unpickler, "persistent_load",
                               persistent_load) < 0)
    {
        goto done;
    }
    obj = PyObject_CallMethod(unpickler, "load", NULL);

done:
    Py_DECREF(pickle);
    Py_XDECREF(io);
    Py_XDECREF(bytes);
    Py_XDECREF(file);
    Py_XDECREF(unpickler);
    Py_XDECREF(capsule);
    Py_XDECREF(persistent_load);
    return obj;
}

static PyObject *
dec_function(decoder *d)
{
    Py_ssize_t n;
    const char *code;
    PyObject *values[4] = {NULL, NULL, NULL, NULL};
    PyObject *func = NULL;

    if (dec_ssize(d, &n) < 0) {
        return NULL;
    }
    code = dec_raw(d, n);
    if (code == NULL) {
        return NULL;
    }
    for (int i = 0; i < 4; i++) {
        values[i] = dec_value(d);
        if (values[i] == NULL) {
            goto done;
        }
    }
    func = function_rebuild(code, n, values[0], values[1], values[2],
                            values[3]);
done:
    for (int i = 0; i < 4; i++) {
        Py_XDECREF(values[i]);
    }
    return func;
}

static PyObject *
dec_value(decoder *d)
{
    char tag;
    Py_ssize_t n;
    const char *p;

    if (dec_copy(d, &tag, 1) < 0) {
        return NULL;
    }
    switch (tag) {
    case TAG_NONE:
        Py_RETURN_NONE;
    case TAG_FALSE:
        Py_RETURN_FALSE;
    case TAG_TRUE:
        Py_RETURN_TRUE;
    case TAG_INT: {
        long long value;
        if (dec_copy(d, &value, sizeof(value)) < 0) {
            return NULL;
        }
        return PyLong_FromLongLong(value);
    }
    case TAG_BIGINT:
        if (dec_ssize(d, &n) < 0 || (p = dec_raw(d, n)) == NULL) {
            return NULL;
        }
        return _PyLong_FromByteArray((const unsigned char *)p, n, 1, 1);
    case TAG_FLOAT: {
        double value;
        if (dec_copy(d, &value, sizeof(value)) < 0) {
            return NULL;
        }
        return PyFloat_FromDouble(value);
    }
    case TAG_STR:
        return dec_str(d);
    case TAG_BYTES:
        if (dec_ssize(d, &n) < 0 || (p = dec_raw(d, n)) == NULL) {
            return NULL;
        }
        return PyBytes_FromStringAndSize(p, n);
    case TAG_TUPLE:
        return dec_tuple(d);
    case TAG_QUEUE:
        if (dec_ssize(d, &n) < 0) {
            return NULL;
        }
        return dec_queue(d->data, n);
    case TAG_PICKLE: {
        unsigned char with_pids;
        if (dec_copy(d, &with_pids, 1) < 0
            || dec_ssize(d, &n) < 0 || (p = dec_raw(d, n)) == NULL)
        {
            return NULL;
        }
        if (with_pids) {
            return dec_unpickle_with_pids(d->data, p, n);
        }
        return dec_unpickle(p, n);
    }
    case TAG_FUNCTION:
        return dec_function(d);
    default:
        set_corrupted();
        return NULL;
    }
}

PyObject *
xdata_decode(const xdata *data)
{
    decoder d = {
        .data = data,
        .start = XDATA_STREAM(data),
        .pos = XDATA_STREAM(data),
        .end = XDATA_STREAM(data) + data->size,
    };
    PyObject *obj = dec_value(&d);
    if (obj != NULL && d.pos != d.end) {
        Py_DECREF(obj);
        set_corrupted();
        return NULL;
    }
    return obj;
}


/* ------------------------------------------------------------------------
   Shareable objects
*/

int
xdata_is_shareable(PyObject *obj)
{
    PyTypeObject *type = Py_TYPE(obj);
    int res = 1;

    if (obj == Py_None || type == &PyBool_Type || type == &PyLong_Type
        || type == &PyFloat_Type || type == &PyUnicode_Type
        || type == &PyBytes_Type || queue_handle_xqueue(obj) != NULL)
    {
        return 1;
    }
    if (type != &PyTuple_Type) {
        return 0;
    }
    if (Py_EnterRecursiveCall(" while checking a tuple")) {
        /* Only RecursionError: encoding this tuple would pickle it. */
        PyErr_Clear();
        return 0;
    }
    for (Py_ssize_t i = 0; res && i < PyTuple_GET_SIZE(obj); i++) {
        res = xdata_is_shareable(PyTuple_GET_ITEM(obj, i));
    }
    Py_LeaveRecursiveCall();
    return res;
}
