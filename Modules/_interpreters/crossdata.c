/* Cross-interpreter data: objects encoded as raw bytes (see crossdata.h).
 */

#include "module.h"
#include "crossdata.h"
#include "marshal.h"              // PyMarshal_WriteObjectToString()
#include "opcode.h"               // LOAD_GLOBAL, ...
#include "pycore_import.h"        // _PyImport_ChecksExtensions()
#include "pycore_runtime.h"       // _Py_ID()

#include <stddef.h>               // offsetof()


/* ------------------------------------------------------------------------
   The encoded data

   An xdata is a header, the references to raw data of registered types
   that the data names, then the "stream": a sequence of values, each one
   tag byte followed by a layout that depends on the tag.  Numbers are
   copied in native byte order with memcpy(): the stream never leaves the
   process, and values in it are not aligned, except the characters of a
   str, whose kind is 2 or 4 (the stream starts on a pointer boundary and
   pads them to their size, so that PyUnicode_FromKindAndData() can read
   them in place).
*/

/* A reference to the raw data of an object of a registered type.  kind
   is a static: it outlives every interpreter. */
typedef struct {
    const xdata_kind *kind;
    void *raw;
} xdata_ref;

struct xdata {
    size_t size;                /* bytes in the stream */
    Py_ssize_t nrefs;           /* length of refs[] */
    xdata_ref refs[];           /* one reference each; the stream follows */
};

#define XDATA_STREAM(data) ((char *)&(data)->refs[(data)->nrefs])

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
    TAG_REF = 'r',              /* Py_ssize_t index in refs[] */
    TAG_PICKLE = 'p',           /* unsigned char with_pids; Py_ssize_t n;
                                   n bytes of pickle (then, if with_pids
                                   has WITH_GLOBALS, the pickles of the
                                   globals of <fake __main__>) */
    TAG_FUNCTION = 'c',         /* Py_ssize_t n; n bytes of marshal'd code;
                                   then 4 values: name, qualname (str),
                                   defaults, kwdefaults */
};

/* In a pickle, an object of a registered type is the persistent id index
   (an int): the object for xdata.refs[index].  A function of __main__
   (with XDATA_FUNCTIONS) is the persistent id (code, name, qualname,
   defaults, kwdefaults), code being the marshal'd code object: the same
   record as a TAG_FUNCTION value, pickled.  The persistent ids of
   XDATA_MAIN_AS_FAKE and XDATA_FAKE_AS_MAIN are tuples that start with a
   str (see "Objects of __main__ for a <fake __main__>" below). */
#define FUNCTION_RECORD_SIZE 5

static void
set_corrupted(void)
{
    PyErr_SetString(PyExc_SystemError, "corrupted cross-interpreter data");
}


/* ------------------------------------------------------------------------
   Our part of the module state
*/

/* Registered types per copy of the module: Queue, and a few to come. */
#define MAX_REGISTERED_TYPES 8

struct xdata_state {
    /* The registry: exact types (strong references) and their hooks */
    struct {
        PyTypeObject *type;
        const xdata_kind *kind;
    } registered[MAX_REGISTERED_TYPES];
    int nregistered;

    /* Taken from _pickle and _io when the module is executed */
    PyObject *Pickler;
    PyObject *Unpickler;
    PyObject *loads;
    PyObject *BytesIO;

    PyTypeObject *SessionType;
    /* An idle pickler of ours and its session, kept for the next
       encoding; NULL while one uses them */
    PyObject *pickler;
    PyObject *session;

    /* Interned attribute names */
    PyObject *str_dump;
    PyObject *str_load;
    PyObject *str_memo;
    PyObject *str_persistent_id;
    PyObject *str_persistent_load;
};

/* Return st, or NULL with an exception set: if st is NULL (looking it
   up failed, and said why), or if its module was cleared (its
   interpreter is going away, and a destructor runs late). */
static interpreters_state *
check_state(interpreters_state *st)
{
    if (st != NULL && st->xdata == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the _interpreters module was cleared");
        return NULL;
    }
    return st;
}

/* Return the state of the module in the current interpreter, and a new
   reference that keeps the module alive in *keep: sys.modules keeps it
   alive only until code that encoding or decoding runs removes it. */
static interpreters_state *
current_state(PyObject **keep)
{
    interpreters_state *st = check_state(interpreters_current_state());
    if (st != NULL) {
        /* Our heap types refer to the module. */
        *keep = Py_NewRef(st->xdata->SessionType);
    }
    return st;
}

static const xdata_kind *
registry_find_in(struct xdata_state *xs, PyTypeObject *type)
{
    for (int i = 0; i < xs->nregistered; i++) {
        if (xs->registered[i].type == type) {
            return xs->registered[i].kind;
        }
    }
    return NULL;
}

/* Return the hooks of type if it is registered, else NULL.  A type
   registered by another copy of the module in the same interpreter (once
   the module was imported again) counts too: its objects are as good. */
static const xdata_kind *
registry_find(struct xdata_state *xs, PyTypeObject *type)
{
    const xdata_kind *kind = registry_find_in(xs, type);
    if (kind != NULL || !PyType_HasFeature(type, Py_TPFLAGS_HEAPTYPE)) {
        return kind;
    }
    /* The type keeps its module alive. */
    PyObject *module = ((PyHeapTypeObject *)type)->ht_module;
    if (module == NULL || !PyModule_Check(module)
        || PyModule_GetDef(module) != &interpreters_moduledef)
    {
        return NULL;
    }
    struct xdata_state *other = interpreters_get_state(module)->xdata;
    if (other == NULL || other == xs) {
        return NULL;
    }
    return registry_find_in(other, type);
}

int
xdata_register_type(interpreters_state *st, PyTypeObject *type,
                    const xdata_kind *kind)
{
    struct xdata_state *xs = st->xdata;
    if (registry_find_in(xs, type) != NULL) {
        PyErr_Format(PyExc_RuntimeError, "type %s is registered already",
                     type->tp_name);
        return -1;
    }
    if (xs->nregistered == MAX_REGISTERED_TYPES) {
        PyErr_SetString(PyExc_RuntimeError,
                        "too many cross-interpreter types");
        return -1;
    }
    xs->registered[xs->nregistered].type = (PyTypeObject *)Py_NewRef(type);
    xs->registered[xs->nregistered].kind = kind;
    xs->nregistered++;
    return 0;
}

PyObject *
xdata_raise_not_shareable(interpreters_state *st, const char *format, ...)
{
    PyObject *type, *cause, *tb;
    PyErr_Fetch(&type, &cause, &tb);
    if (type != NULL) {
        PyErr_NormalizeException(&type, &cause, &tb);
        if (tb != NULL) {
            PyException_SetTraceback(cause, tb);
        }
        Py_DECREF(type);
        Py_XDECREF(tb);
    }

    va_list vargs;
    va_start(vargs, format);
    PyObject *msg = PyUnicode_FromFormatV(format, vargs);
    va_end(vargs);
    if (msg == NULL) {
        Py_XDECREF(cause);
        return NULL;
    }
    PyErr_SetObject(st->NotShareableError, msg);
    Py_DECREF(msg);
    if (cause != NULL) {
        PyObject *exc, *val, *exc_tb;
        PyErr_Fetch(&exc, &val, &exc_tb);
        PyErr_NormalizeException(&exc, &val, &exc_tb);
        PyException_SetContext(val, Py_NewRef(cause));
        PyException_SetCause(val, cause);
        PyErr_Restore(exc, val, exc_tb);
    }
    return NULL;
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

/* Return 1 if code has exactly one free variable, __class__: the cell
   that the compiler makes for the methods of a class that use super() or
   __class__. */
static int
uses_class_cell_only(PyCodeObject *code)
{
    if (code->co_nfreevars != 1) {
        return 0;
    }
    PyObject *names = PyCode_GetFreevars(code);
    if (names == NULL) {
        PyErr_Clear();
        return 0;
    }
    int res = _PyUnicode_EqualToASCIIString(PyTuple_GET_ITEM(names, 0),
                                            "__class__");
    Py_DECREF(names);
    return res;
}

/* Return the record of a function of __main__: a tuple (code, name,
   qualname, defaults, kwdefaults) with code marshal'd, name and qualname
   exact str, defaults and kwdefaults None if unset.  NULL with an exception
   set on error (st->NotShareableError for a closure).
   XXX The other attributes (__doc__ if it was changed, __annotations__,
   __dict__) stay behind. */
static PyObject *
function_record(interpreters_state *st, PyObject *func, int allow_class_cell)
{
    PyFunctionObject *f = (PyFunctionObject *)func;
    PyObject *code = NULL, *name = NULL, *qualname = NULL, *record = NULL;

    if (f->func_closure != NULL
        && !(allow_class_cell
             && uses_class_cell_only((PyCodeObject *)f->func_code)))
    {
        /* The cells of a closure belong to the frames of this interpreter;
           copying them would silently split the variables in two. */
        PyErr_Format(st->NotShareableError,
                     "function %R is a closure: the variables it uses "
                     "from an enclosing function cannot cross "
                     "interpreters", f->func_qualname);
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

/* Rebuild a function from its record in the current interpreter, with
   globals as its globals (NULL: the __main__.__dict__ of that
   interpreter).  If class_cell is true, the code uses the __class__ cell
   of its class only, and the function gets an empty cell, which
   fake_class_rebuild() fills. */
static PyObject *
function_rebuild(const char *marshalled, Py_ssize_t size, PyObject *name,
                 PyObject *qualname, PyObject *defaults, PyObject *kwdefaults,
                 PyObject *globals, int class_cell)
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
    if (!PyCode_Check(code)
        || (class_cell ? !uses_class_cell_only((PyCodeObject *)code)
                       : ((PyCodeObject *)code)->co_nfreevars != 0))
    {
        set_corrupted();
        goto error;
    }
    if (globals == NULL) {
        main = PyImport_AddModule("__main__");
        if (main == NULL) {
            goto error;
        }
        globals = PyModule_GetDict(main);
    }
    func = PyFunction_NewWithQualName(code, globals, qualname);
    if (func == NULL) {
        goto error;
    }
    if (class_cell) {
        PyObject *closure = PyTuple_New(1);
        if (closure == NULL) {
            goto error;
        }
        PyObject *cell = PyCell_New(NULL);
        if (cell == NULL) {
            Py_DECREF(closure);
            goto error;
        }
        PyTuple_SET_ITEM(closure, 0, cell);
        int res = PyFunction_SetClosure(func, closure);
        Py_DECREF(closure);
        if (res < 0) {
            goto error;
        }
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
   Pickle sessions

   Objects that pickling cannot encode directly go through the C pickler
   of _pickle, with a session of ours as its file and its persistent_id(),
   and come back through loads() or an unpickler with the persistent_load()
   of a session.  A session points at the encoder or decoder it serves
   (on the C stack) only while that runs: code that runs while pickling
   can reach the session (gc.get_objects()) and keep it, and calling it
   later gets a ValueError, never a stale pointer.  Nor does unpickling
   ever see the memory of an xdata: it reads a copy (bytes), so whatever
   it keeps stays valid.

   Encoding reuses one pickler and session per copy of the module, which
   saves making them for each item.  (Not a subclass of Pickler with the
   methods of a session: it could not add C fields to a type whose layout
   is private to _pickle, and its bound methods would make a reference
   cycle of every pickler.)  A nested or concurrent encoding, which finds
   them taken, makes its own.
*/

typedef struct encoder encoder;
typedef struct decoder decoder;

typedef struct {
    PyObject_HEAD
    encoder *enc;               /* the encoding it serves, or NULL */
    decoder *dec;               /* the decoding it serves, or NULL */
    PyObject *output;           /* what the pickler wrote: NULL, bytes or
                                   a list of bytes */
} session;

static PyObject *
session_ended(const char *method)
{
    PyErr_Format(PyExc_ValueError,
                 "%s() of an _interpreters pickling session called "
                 "outside of the encoding or decoding it served", method);
    return NULL;
}

static Py_ssize_t enc_add_ref(encoder *e, const xdata_kind *kind,
                              void *raw);
static PyObject *enc_persistent_id(encoder *e, PyObject *obj);
static PyObject *dec_persistent_load(decoder *d, PyObject *pid);

static PyObject *
session_write(session *self, PyObject *data)
{
    PyObject *bytes;
    int res;

    if (self->enc == NULL) {
        return session_ended("write");
    }
    /* The pickler passes the large buffers it pickles as they are: copy
       them now, they may not live. */
    bytes = PyBytes_CheckExact(data) ? Py_NewRef(data)
                                     : PyBytes_FromObject(data);
    if (bytes == NULL) {
        return NULL;
    }
    Py_ssize_t size = PyBytes_GET_SIZE(bytes);
    if (self->output == NULL) {
        /* Usually the only write: the whole pickle, as one bytes object */
        self->output = bytes;
        return PyLong_FromSsize_t(size);
    }
    if (PyBytes_CheckExact(self->output)) {
        PyObject *chunks = PyList_New(1);
        if (chunks == NULL) {
            Py_DECREF(bytes);
            return NULL;
        }
        PyList_SET_ITEM(chunks, 0, self->output);
        self->output = chunks;
    }
    res = PyList_Append(self->output, bytes);
    Py_DECREF(bytes);
    if (res < 0) {
        return NULL;
    }
    return PyLong_FromSsize_t(size);
}

static PyObject *
session_persistent_id(session *self, PyObject *obj)
{
    if (self->enc == NULL) {
        return session_ended("persistent_id");
    }
    return enc_persistent_id(self->enc, obj);
}

static PyObject *
session_persistent_load(session *self, PyObject *pid)
{
    if (self->dec == NULL) {
        return session_ended("persistent_load");
    }
    return dec_persistent_load(self->dec, pid);
}

/* Return what the pickler wrote, as one bytes object, and forget it. */
static PyObject *
session_take_output(session *self)
{
    PyObject *output = self->output;
    self->output = NULL;
    if (output == NULL) {
        PyErr_SetString(PyExc_SystemError, "the pickler wrote nothing");
        return NULL;
    }
    if (PyBytes_CheckExact(output)) {
        return output;
    }
    PyObject *empty = PyBytes_FromStringAndSize(NULL, 0);
    if (empty == NULL) {
        Py_DECREF(output);
        return NULL;
    }
    PyObject *joined = _PyBytes_Join(empty, output);
    Py_DECREF(empty);
    Py_DECREF(output);
    return joined;
}

static int
session_traverse(session *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->output);
    return 0;
}

static int
session_clear(session *self)
{
    Py_CLEAR(self->output);
    return 0;
}

static void
session_dealloc(session *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    (void)session_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyMethodDef session_methods[] = {
    {"write", (PyCFunction)session_write, METH_O, NULL},
    {"persistent_id", (PyCFunction)session_persistent_id, METH_O, NULL},
    {"persistent_load", (PyCFunction)session_persistent_load, METH_O,
     NULL},
    {NULL, NULL},
};

static PyType_Slot session_slots[] = {
    {Py_tp_dealloc, session_dealloc},
    {Py_tp_traverse, session_traverse},
    {Py_tp_clear, session_clear},
    {Py_tp_methods, session_methods},
    {0, NULL},
};

static PyType_Spec session_spec = {
    .name = "_interpreters.PickleSession",
    .basicsize = sizeof(session),
    .flags = (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE
              | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_HAVE_GC),
    .slots = session_slots,
};

static session *
session_new(struct xdata_state *xs)
{
    session *self = PyObject_GC_New(session, xs->SessionType);
    if (self == NULL) {
        return NULL;
    }
    self->enc = NULL;
    self->dec = NULL;
    self->output = NULL;
    PyObject_GC_Track(self);
    return self;
}

/* Make a pickler (protocol 5) that writes to a new session and asks it
   for persistent ids.  Return 0, or -1 with an exception set. */
static int
pickler_new(struct xdata_state *xs, PyObject **pickler, session **sess)
{
    PyObject *persistent_id = NULL;

    *pickler = NULL;
    *sess = session_new(xs);
    if (*sess == NULL) {
        return -1;
    }
    *pickler = PyObject_CallFunction(xs->Pickler, "Oi", *sess, -1);
    if (*pickler == NULL) {
        goto error;
    }
    persistent_id = PyObject_GetAttr((PyObject *)*sess,
                                     xs->str_persistent_id);
    if (persistent_id == NULL) {
        goto error;
    }
    if (PyObject_SetAttr(*pickler, xs->str_persistent_id,
                         persistent_id) < 0)
    {
        goto error;
    }
    Py_DECREF(persistent_id);
    return 0;

error:
    Py_XDECREF(persistent_id);
    Py_CLEAR(*pickler);
    Py_CLEAR(*sess);
    return -1;
}

/* Take the idle pickler and session of xs, or make new ones if they are
   in use. */
static int
pickler_take(struct xdata_state *xs, PyObject **pickler, session **sess)
{
    if (xs->pickler == NULL) {
        return pickler_new(xs, pickler, sess);
    }
    *pickler = xs->pickler;
    *sess = (session *)xs->session;
    xs->pickler = NULL;
    xs->session = NULL;
    return 0;
}

/* Done with pickler and its session after a dump.  Keep them for the
   next encoding if the dump succeeded (a pickler that failed halfway may
   be left in any state), none are kept yet and the memo can be emptied
   (it holds the objects pickled, and would turn them into references in
   the next pickle); else drop them.  Never fails: an exception set stays
   as it is. */
static void
pickler_give_back(struct xdata_state *xs, PyObject *pickler, session *sess,
                  int dumped)
{
    PyObject *type, *value, *tb;
    int reusable = 0;

    PyErr_Fetch(&type, &value, &tb);
    Py_CLEAR(sess->output);
    if (dumped && xs->pickler == NULL) {
        /* A new memo: emptying the old one would keep its size. */
        PyObject *memo = PyDict_New();
        if (memo != NULL) {
            reusable = (PyObject_SetAttr(pickler, xs->str_memo, memo) == 0);
            Py_DECREF(memo);
        }
        PyErr_Clear();
    }
    if (reusable) {
        xs->pickler = pickler;
        xs->session = (PyObject *)sess;
    }
    else {
        Py_DECREF(pickler);
        Py_DECREF(sess);
    }
    PyErr_Restore(type, value, tb);
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
   replays.  The first pass also collects the references of the data, in
   the order it meets them; the second pass meets the same ones in the
   same order, and only counts them.
*/

/* Values at the top level: the object, or the defaults and kwdefaults of a
   function. */
#define ENCODER_MAX_ITEMS 2

struct encoder {
    interpreters_state *st;     /* see enc_state() */
    PyObject *keep;             /* keeps the module of st alive if the
                                   caller does not */
    int flags;
    char *out;              /* where to write the stream; NULL in pass 1 */
    size_t size;            /* bytes measured or written so far */
    size_t capacity;        /* bytes available */
    int overflow;           /* the stream exceeds capacity */
    xdata_ref *refs;        /* pass 1 took a reference on each */
    Py_ssize_t nrefs;
    Py_ssize_t refs_capacity;
    Py_ssize_t next_ref;    /* pass 2: index of the next one met */
    PyObject *blobs;        /* list of what pass 1 kept for pass 2 */
    Py_ssize_t nblobs;      /* blobs already replayed by pass 2 */
    int function;           /* pass 1 encoded a TAG_FUNCTION */
    struct {
        char pickled;       /* pass 1 pickled the item */
        char with_pids;     /* its pickle has persistent ids */
        Py_ssize_t refs_end;    /* nrefs once pass 1 encoded it */
    } items[ENCODER_MAX_ITEMS];
    int nitems;
    int with_pids;          /* the pickle being made has persistent ids
                               (WITH_PIDS), and globals (WITH_GLOBALS) */
    /* With XDATA_MAIN_AS_FAKE (pass 1): the functions and classes of
       __main__ met, in the order met, and their index by id */
    PyObject *main_objs;
    PyObject *main_index;
};

#define WITH_PIDS 1
#define WITH_GLOBALS 2

/* Return the module state of the encoder, looking it up the first time,
   or NULL with an exception set. */
static interpreters_state *
enc_state(encoder *e)
{
    if (e->st == NULL) {
        e->st = current_state(&e->keep);
        return e->st;
    }
    return check_state(e->st);
}

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

/* Add raw, a new reference from kind->share(), to the references of
   the data (pass 1); return its index, or -1 with an exception set and
   the reference dropped. */
static Py_ssize_t
enc_add_ref(encoder *e, const xdata_kind *kind, void *raw)
{
    if (e->nrefs == e->refs_capacity) {
        Py_ssize_t capacity = e->refs_capacity ? e->refs_capacity * 2 : 8;
        xdata_ref *refs = PyMem_Resize(e->refs, xdata_ref, capacity);
        if (refs == NULL) {
            kind->decref(raw);
            PyErr_NoMemory();
            return -1;
        }
        e->refs = refs;
        e->refs_capacity = capacity;
    }
    e->refs[e->nrefs].kind = kind;
    e->refs[e->nrefs].raw = raw;
    return e->nrefs++;
}

/* Drop the references from index n on (pass 1). */
static void
enc_drop_refs(encoder *e, Py_ssize_t n)
{
    while (e->nrefs > n) {
        e->nrefs--;
        e->refs[e->nrefs].kind->decref(e->refs[e->nrefs].raw);
    }
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
enc_ref(encoder *e, const xdata_kind *kind, PyObject *obj)
{
    Py_ssize_t index;

    if (e->out == NULL) {
        void *raw = kind->share(obj);
        if (raw == NULL) {
            return -1;
        }
        index = enc_add_ref(e, kind, raw);
        if (index < 0) {
            return -1;
        }
    }
    else {
        /* Pass 2 uses what pass 1 shared: sharing again may make new
           raw data (a memoryview's). */
        index = e->next_ref++;
        if (index >= e->nrefs || e->refs[index].kind != kind) {
            PyErr_SetString(PyExc_SystemError,
                            "object changed while it was encoded");
            return -1;
        }
    }
    enc_tag(e, TAG_REF);
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
    interpreters_state *st = enc_state(e);
    if (st == NULL) {
        return -1;
    }
    const xdata_kind *kind = registry_find(st->xdata, type);
    if (kind != NULL) {
        return enc_ref(e, kind, obj);
    }
    return 1;
}

/* Objects of __main__ for a <fake __main__> (XDATA_MAIN_AS_FAKE)

   The functions and classes of the encoder's __main__ that a pickle meets
   become persistent ids (FAKE_PID_*), tuples whose first item, one
   character, says what they are:

     ('F', index, code, name, qualname, defaults, kwdefaults, class_cell)
         a function: code marshal'd; class_cell is true if its only free
         variable is the __class__ cell of its class
     ('C', index, metaclass, name, qualname, bases, attrs)
         a class: attrs are the items of its __dict__ that make it (its
         methods are functions, above)
     ('r', index)
         the same function or class again (pickle's memo does not see
         objects pickled as persistent ids)
     ('W', type name, args)
         a classmethod, staticmethod or property (which pickle refuses),
         rebuilt as type(*args)
     ('M', name)
         a module: imported again
     ('R', qualname)
         with XDATA_FAKE_AS_MAIN, a function or class of the encoder's
         <fake __main__>: the object at qualname in the decoder's __main__

   The globals that the functions use are not part of their record (a
   function that calls itself, or a method that names its class, would
   never end): the pickle of the object is followed by pickles of dicts
   of globals, name to value, made by the same pickler (they share its
   memo), until an empty one.  Each dict holds the globals, not sent
   yet, that the functions met in the pickles before it use; the decoder
   adds those its <fake __main__> lacks, and keeps what it holds: that is
   the state that code run there keeps from one call to the next.
*/

#define FAKE_MAIN_NAME "<fake __main__>"

#define FAKE_PID_FUNCTION 'F'
#define FAKE_PID_CLASS 'C'
#define FAKE_PID_AGAIN 'r'
#define FAKE_PID_WRAPPER 'W'
#define FAKE_PID_MODULE 'M'
#define FAKE_PID_MAIN 'R'

/* Return the name of the module that defines obj, a function or a heap
   type, as a borrowed reference, or NULL (no exception set). */
static PyObject *
defining_module(PyObject *obj)
{
    PyObject *module = NULL;
    if (PyFunction_Check(obj)) {
        module = PyFunction_GET_MODULE(obj);
    }
    else if (PyType_Check(obj)
             && PyType_HasFeature((PyTypeObject *)obj, Py_TPFLAGS_HEAPTYPE))
    {
        /* Not the __module__ attribute: a metaclass may compute it. */
        module = PyDict_GetItemString(((PyTypeObject *)obj)->tp_dict,
                                      "__module__");
    }
    return (module != NULL && PyUnicode_Check(module)) ? module : NULL;
}

static int
is_defined_in(PyObject *obj, const char *modname)
{
    PyObject *module = defining_module(obj);
    return module != NULL && _PyUnicode_EqualToASCIIString(module, modname);
}

/* Add to names (a set) the names of the globals that code reads, writes
   or deletes, and those that the code objects nested in it (lambdas,
   comprehensions, inner functions and classes) use.  In 3.11, the
   argument of LOAD_GLOBAL is twice the index of the name. */
static int
code_add_global_names(PyCodeObject *code, PyObject *names)
{
    PyObject *bytes = PyCode_GetCode(code);
    if (bytes == NULL) {
        return -1;
    }
    const unsigned char *units = (const unsigned char *)PyBytes_AS_STRING(
        bytes);
    Py_ssize_t size = PyBytes_GET_SIZE(bytes);
    Py_ssize_t nnames = PyTuple_GET_SIZE(code->co_names);
    unsigned long extended = 0;
    int res = 0;

    for (Py_ssize_t i = 0; res == 0 && i + 1 < size; i += 2) {
        int opcode = units[i];
        unsigned long oparg = units[i + 1] | extended;
        unsigned long index;

        extended = 0;
        switch (opcode) {
        case EXTENDED_ARG:
            extended = oparg << 8;
            continue;
        case LOAD_GLOBAL:
            index = oparg >> 1;
            break;
        case STORE_GLOBAL:
        case DELETE_GLOBAL:
        case LOAD_NAME:
            index = oparg;
            break;
        default:
            continue;
        }
        if (index < (unsigned long)nnames) {
            res = PySet_Add(names, PyTuple_GET_ITEM(code->co_names, index));
        }
    }
    Py_DECREF(bytes);
    if (res < 0 || Py_EnterRecursiveCall(" while reading code")) {
        return -1;
    }
    for (Py_ssize_t i = 0; res == 0 && i < PyTuple_GET_SIZE(code->co_consts);
         i++)
    {
        PyObject *item = PyTuple_GET_ITEM(code->co_consts, i);
        if (PyCode_Check(item)) {
            res = code_add_global_names((PyCodeObject *)item, names);
        }
    }
    Py_LeaveRecursiveCall();
    return res;
}

/* Names of __main__ that are none of the globals a function uses: the
   <fake __main__> has its own. */
static int
is_module_machinery(PyObject *name)
{
    static const char *const names[] = {
        "__builtins__", "__name__", "__spec__", "__loader__", "__package__",
        NULL,
    };
    for (int i = 0; names[i] != NULL; i++) {
        if (_PyUnicode_EqualToASCIIString(name, names[i])) {
            return 1;
        }
    }
    return 0;
}

/* Add to batch the globals that func uses and that are not in sent yet
   (and add their names to sent): those of its names that its globals
   hold.  Builtins and the names it binds before use are not there. */
static int
fake_add_globals(PyFunctionObject *func, PyObject *sent, PyObject *batch)
{
    PyObject *names = PySet_New(NULL);
    PyObject *name, *value;
    Py_ssize_t pos = 0;
    Py_hash_t hash;
    int res;

    if (names == NULL) {
        return -1;
    }
    res = code_add_global_names((PyCodeObject *)func->func_code, names);
    while (res == 0 && _PySet_NextEntry(names, &pos, &name, &hash)) {
        if (!PyUnicode_CheckExact(name) || is_module_machinery(name)) {
            continue;
        }
        res = PySet_Contains(sent, name);
        if (res != 0) {
            res = res < 0 ? -1 : 0;
            continue;
        }
        res = PySet_Add(sent, name);
        if (res < 0) {
            break;
        }
        value = PyDict_GetItemWithError(func->func_globals, name);
        if (value != NULL) {
            res = PyDict_SetItem(batch, name, value);
        }
        else if (PyErr_Occurred()) {
            res = -1;
        }
    }
    Py_DECREF(names);
    return res;
}

/* The index of obj among the objects of __main__ met in this encoding,
   or -1 if it is new (then *index is the one it gets); -2 on error. */
static Py_ssize_t
fake_index(encoder *e, PyObject *obj, Py_ssize_t *index)
{
    if (e->main_objs == NULL) {
        e->main_objs = PyList_New(0);
        e->main_index = PyDict_New();
        if (e->main_objs == NULL || e->main_index == NULL) {
            return -2;
        }
    }
    PyObject *key = PyLong_FromVoidPtr(obj);
    if (key == NULL) {
        return -2;
    }
    PyObject *found = PyDict_GetItemWithError(e->main_index, key);
    if (found != NULL) {
        Py_DECREF(key);
        return PyLong_AsSsize_t(found);
    }
    *index = PyList_GET_SIZE(e->main_objs);
    PyObject *value = PyLong_FromSsize_t(*index);
    int res = -1;
    if (!PyErr_Occurred() && value != NULL
        && PyDict_SetItem(e->main_index, key, value) == 0)
    {
        /* The list keeps obj alive: its id stays its own. */
        res = PyList_Append(e->main_objs, obj);
    }
    Py_DECREF(key);
    Py_XDECREF(value);
    return res < 0 ? -2 : -1;
}

static PyObject *
fake_function_pid(encoder *e, PyObject *func, Py_ssize_t index)
{
    PyObject *record = function_record(e->st, func, 1);
    if (record == NULL) {
        return NULL;
    }
    int class_cell = ((PyFunctionObject *)func)->func_closure != NULL;
    /* ('F', index, code, name, qualname, defaults, kwdefaults,
        class_cell) */
    PyObject *pid = Py_BuildValue(
        "(CnOOOOOO)", FAKE_PID_FUNCTION, index,
        PyTuple_GET_ITEM(record, 0), PyTuple_GET_ITEM(record, 1),
        PyTuple_GET_ITEM(record, 2), PyTuple_GET_ITEM(record, 3),
        PyTuple_GET_ITEM(record, 4), class_cell ? Py_True : Py_False);
    Py_DECREF(record);
    return pid;
}

/* Return 1 if key, an item of a class __dict__, is made again by the
   metaclass, or stands for something that cannot cross (the state of an
   ABC, the member descriptors of __slots__). */
static int
fake_class_skips(PyObject *key, PyObject *value)
{
    static const char *const names[] = {
        "__dict__", "__weakref__", "__module__", "__qualname__",
        "__abstractmethods__", "_abc_impl", NULL,
    };
    if (Py_IS_TYPE(value, &PyMemberDescr_Type)) {
        return 1;
    }
    for (int i = 0; names[i] != NULL; i++) {
        if (PyUnicode_Check(key)
            && _PyUnicode_EqualToASCIIString(key, names[i]))
        {
            return 1;
        }
    }
    return 0;
}

static PyObject *
fake_class_pid(PyTypeObject *cls, Py_ssize_t index)
{
    PyHeapTypeObject *ht = (PyHeapTypeObject *)cls;
    PyObject *attrs = PyDict_New();
    PyObject *key, *value;
    Py_ssize_t pos = 0;

    if (attrs == NULL) {
        return NULL;
    }
    while (PyDict_Next(cls->tp_dict, &pos, &key, &value)) {
        if (!fake_class_skips(key, value)
            && PyDict_SetItem(attrs, key, value) < 0)
        {
            Py_DECREF(attrs);
            return NULL;
        }
    }
    /* ('C', index, metaclass, name, qualname, bases, attrs) */
    return Py_BuildValue("(CnOOOON)", FAKE_PID_CLASS, index, Py_TYPE(cls),
                         ht->ht_name, ht->ht_qualname, cls->tp_bases, attrs);
}

/* ('W', type name, args) for a classmethod, staticmethod or property,
   else NULL without an exception. */
static PyObject *
fake_wrapper_pid(PyObject *obj)
{
    if (Py_IS_TYPE(obj, &PyClassMethod_Type)
        || Py_IS_TYPE(obj, &PyStaticMethod_Type))
    {
        PyObject *func = PyObject_GetAttrString(obj, "__func__");
        if (func == NULL) {
            return NULL;
        }
        return Py_BuildValue("(Cs(N))", FAKE_PID_WRAPPER,
                             Py_TYPE(obj)->tp_name, func);
    }
    if (Py_IS_TYPE(obj, &PyProperty_Type)) {
        static const char *const names[] = {
            "fget", "fset", "fdel", "__doc__",
        };
        PyObject *args = PyTuple_New(4);
        if (args == NULL) {
            return NULL;
        }
        for (int i = 0; i < 4; i++) {
            PyObject *item = PyObject_GetAttrString(obj, names[i]);
            if (item == NULL) {
                Py_DECREF(args);
                return NULL;
            }
            PyTuple_SET_ITEM(args, i, item);
        }
        return Py_BuildValue("(CsN)", FAKE_PID_WRAPPER, "property", args);
    }
    return NULL;
}

/* The persistent_id() of our picklers for the objects that the flags
   XDATA_MAIN_AS_FAKE and XDATA_FAKE_AS_MAIN concern: return a new
   reference to the persistent id, NULL with an exception set, or NULL
   without one if obj is none of them. */
static PyObject *
fake_persistent_id(encoder *e, PyObject *obj)
{
    if ((e->flags & XDATA_FAKE_AS_MAIN)
        && is_defined_in(obj, FAKE_MAIN_NAME))
    {
        PyObject *qualname = PyObject_GetAttrString(obj, "__qualname__");
        if (qualname == NULL) {
            return NULL;
        }
        return Py_BuildValue("(CN)", FAKE_PID_MAIN, qualname);
    }
    if (!(e->flags & XDATA_MAIN_AS_FAKE)) {
        return NULL;
    }
    if (PyModule_Check(obj)) {
        PyObject *name = PyModule_GetNameObject(obj);
        if (name == NULL) {
            return NULL;
        }
        return Py_BuildValue("(CN)", FAKE_PID_MODULE, name);
    }
    if (!is_defined_in(obj, "__main__")) {
        return fake_wrapper_pid(obj);
    }
    Py_ssize_t index;
    Py_ssize_t found = fake_index(e, obj, &index);
    if (found == -2) {
        return NULL;
    }
    if (found >= 0) {
        return Py_BuildValue("(Cn)", FAKE_PID_AGAIN, found);
    }
    if (PyFunction_Check(obj)) {
        return fake_function_pid(e, obj, index);
    }
    return fake_class_pid((PyTypeObject *)obj, index);
}

/* After the pickle of an object: pickle the globals that the functions
   of __main__ met use, in dicts, until an empty one.  Return 0, or -1
   with an exception set. */
static int
fake_dump_globals(encoder *e, PyObject *pickler)
{
    interpreters_state *st = e->st;
    PyObject *sent = PySet_New(NULL);
    PyObject *batch = NULL, *res;
    Py_ssize_t done = 0;

    if (sent == NULL) {
        return -1;
    }
    do {
        Py_XSETREF(batch, PyDict_New());
        if (batch == NULL) {
            goto error;
        }
        /* Dumping a batch may meet more functions. */
        Py_ssize_t n = e->main_objs ? PyList_GET_SIZE(e->main_objs) : 0;
        for (; done < n; done++) {
            PyObject *obj = PyList_GET_ITEM(e->main_objs, done);
            if (PyFunction_Check(obj)
                && fake_add_globals((PyFunctionObject *)obj, sent,
                                    batch) < 0)
            {
                goto error;
            }
        }
        res = PyObject_CallMethodOneArg(pickler, st->xdata->str_dump, batch);
        if (res == NULL) {
            if (PyErr_ExceptionMatches(PyExc_Exception)
                && !PyErr_ExceptionMatches(PyExc_MemoryError)
                && !PyErr_ExceptionMatches(st->NotShareableError))
            {
                PyObject *names = PyDict_Keys(batch);
                if (names != NULL) {
                    xdata_raise_not_shareable(
                        st, "a global that functions of __main__ use "
                        "cannot be pickled (one of %R)", names);
                    Py_DECREF(names);
                }
            }
            goto error;
        }
        Py_DECREF(res);
    } while (PyDict_GET_SIZE(batch) > 0);
    Py_DECREF(batch);
    Py_DECREF(sent);
    return 0;

error:
    Py_XDECREF(batch);
    Py_DECREF(sent);
    return -1;
}

/* The persistent_id() of our picklers, through their session: return the
   persistent id of obj, or None to pickle it as usual. */
static PyObject *
enc_persistent_id(encoder *e, PyObject *obj)
{
    const xdata_kind *kind = registry_find(e->st->xdata, Py_TYPE(obj));
    if (kind != NULL) {
        void *raw = kind->share(obj);
        if (raw == NULL) {
            return NULL;
        }
        Py_ssize_t index = enc_add_ref(e, kind, raw);
        if (index < 0) {
            return NULL;
        }
        e->with_pids = WITH_PIDS;
        return PyLong_FromSsize_t(index);
    }
    if ((e->flags & XDATA_FUNCTIONS) && is_main_function(obj)) {
        e->with_pids = WITH_PIDS;
        return function_record(e->st, obj, 0);
    }
    if (e->flags & (XDATA_MAIN_AS_FAKE | XDATA_FAKE_AS_MAIN)) {
        PyObject *pid = fake_persistent_id(e, obj);
        if (pid != NULL || PyErr_Occurred()) {
            e->with_pids = WITH_PIDS;
            return pid;
        }
    }
    Py_RETURN_NONE;
}

/* Pickling obj failed: replace the current exception with a
   NotShareableError caused by it.  Leave alone a NotShareableError (a
   closure inside obj), and exceptions that say nothing about obj:
   KeyboardInterrupt and other non-Exceptions, MemoryError. */
static void
enc_pickling_failed(encoder *e, PyObject *obj)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception)
        || PyErr_ExceptionMatches(PyExc_MemoryError)
        || PyErr_ExceptionMatches(e->st->NotShareableError))
    {
        return;
    }
    (void)xdata_raise_not_shareable(
        e->st, "'%.200s' object is not shareable: it cannot be pickled",
        Py_TYPE(obj)->tp_name);
}

/* Pickle obj (pass 1), objects of registered types and, with
   XDATA_FUNCTIONS, functions of __main__ as persistent ids.  Return a new
   bytes object, or NULL with an exception set. */
static PyObject *
enc_pickle(encoder *e, PyObject *obj)
{
    interpreters_state *st = enc_state(e);
    PyObject *pickler, *res, *pickled = NULL;
    session *sess;

    if (st == NULL || pickler_take(st->xdata, &pickler, &sess) < 0) {
        return NULL;
    }
    Py_CLEAR(sess->output);
    e->with_pids = 0;
    sess->enc = e;
    res = PyObject_CallMethodOneArg(pickler, st->xdata->str_dump, obj);
    int dumped = (res != NULL);
    if (dumped) {
        Py_DECREF(res);
        if (e->main_objs != NULL) {
            dumped = (fake_dump_globals(e, pickler) == 0);
            e->with_pids = WITH_PIDS | WITH_GLOBALS;
        }
    }
    sess->enc = NULL;
    if (dumped) {
        pickled = session_take_output(sess);
    }
    else {
        enc_pickling_failed(e, obj);
    }
    pickler_give_back(st->xdata, pickler, sess, dumped);
    return pickled;
}

static int
enc_pickled(encoder *e, int item, PyObject *obj)
{
    PyObject *pickled;
    unsigned char with_pids;

    if (e->out == NULL) {
        if (enc_keep(e, enc_pickle(e, obj)) < 0) {
            return -1;
        }
        pickled = PyList_GET_ITEM(e->blobs, PyList_GET_SIZE(e->blobs) - 1);
        e->items[item].with_pids = (char)e->with_pids;
    }
    else {
        pickled = enc_replay(e);
        if (pickled == NULL) {
            return -1;
        }
    }
    with_pids = (unsigned char)e->items[item].with_pids;
    enc_tag(e, TAG_PICKLE);
    enc_raw(e, &with_pids, 1);
    enc_ssize(e, PyBytes_GET_SIZE(pickled));
    enc_raw(e, PyBytes_AS_STRING(pickled), PyBytes_GET_SIZE(pickled));
    return 0;
}

/* Encode a value at the top level: directly if it is shareable, else
   pickled. */
static int
enc_item(encoder *e, PyObject *obj)
{
    int item = e->nitems;
    int pickled, res;

    if (item >= ENCODER_MAX_ITEMS) {
        PyErr_SetString(PyExc_SystemError, "too many items to encode");
        return -1;
    }
    e->nitems++;
    if (e->out == NULL) {
        size_t size = e->size;
        Py_ssize_t nrefs = e->nrefs;

        pickled = enc_direct(e, obj);
        if (pickled < 0) {
            return -1;
        }
        if (pickled) {
            /* Undo the part of obj that was encoded. */
            e->size = size;
            enc_drop_refs(e, nrefs);
        }
        e->items[item].pickled = (char)pickled;
        res = pickled ? enc_pickled(e, item, obj) : 0;
        e->items[item].refs_end = e->nrefs;
        return res;
    }
    pickled = e->items[item].pickled;
    if (pickled) {
        res = enc_pickled(e, item, obj);
    }
    else {
        res = enc_direct(e, obj);
        if (res > 0) {
            PyErr_SetString(PyExc_SystemError,
                            "object changed while it was encoded");
            res = -1;
        }
    }
    /* Skip the references that the pickle names. */
    e->next_ref = e->items[item].refs_end;
    return res;
}

static int
enc_function(encoder *e, PyObject *func)
{
    PyObject *record;

    if (e->out == NULL) {
        interpreters_state *st = enc_state(e);
        if (st == NULL || enc_keep(e, function_record(st, func, 0)) < 0) {
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
xdata_encode(interpreters_state *st, PyObject *obj, int flags)
{
    encoder e = {
        .st = st,
        .flags = flags,
        .capacity = PY_SSIZE_T_MAX,
    };
    xdata *data = NULL;
    size_t header;
    int refs_given = 0;

    if (enc_top(&e, obj) < 0) {
        goto done;
    }
    header = offsetof(xdata, refs) + (size_t)e.nrefs * sizeof(xdata_ref);
    if (e.overflow || e.size > (size_t)PY_SSIZE_T_MAX - header) {
        PyErr_NoMemory();
        goto done;
    }
    data = PyMem_RawMalloc(header + e.size);
    if (data == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    /* The data takes over the references (pass 2 still reads them). */
    data->size = e.size;
    data->nrefs = e.nrefs;
    if (e.nrefs > 0) {
        memcpy(data->refs, e.refs, e.nrefs * sizeof(xdata_ref));
    }
    refs_given = 1;

    e.out = XDATA_STREAM(data);
    e.capacity = e.size;
    e.size = 0;
    e.nblobs = 0;
    e.nitems = 0;
    e.next_ref = 0;
    if (enc_top(&e, obj) < 0 || e.overflow || e.size != data->size
        || e.next_ref != data->nrefs)
    {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_SystemError,
                            "object changed while it was encoded");
        }
        xdata_free(data);
        data = NULL;
    }

done:
    if (!refs_given) {
        enc_drop_refs(&e, 0);
    }
    PyMem_Free(e.refs);
    Py_XDECREF(e.blobs);
    Py_XDECREF(e.main_objs);
    Py_XDECREF(e.main_index);
    Py_XDECREF(e.keep);
    return data;
}

xdata *
xdata_encode_exception(PyObject *exc)
{
    /* An exception is never shareable: this pickles it.  One whose class
       a call() rebuilt in the <fake __main__> comes back as one of the
       class of the caller's __main__. */
    return xdata_encode(NULL, exc, XDATA_FAKE_AS_MAIN);
}

void
xdata_free(xdata *data)
{
    if (data == NULL) {
        return;
    }
    for (Py_ssize_t i = 0; i < data->nrefs; i++) {
        data->refs[i].kind->decref(data->refs[i].raw);
    }
    PyMem_RawFree(data);
}


/* ------------------------------------------------------------------------
   Decoding

   The stream comes from xdata_encode(), in this process: the checks below
   only keep a bug from reading out of bounds.
*/

struct decoder {
    interpreters_state *st;     /* see dec_state() */
    PyObject *keep;             /* keeps the module of st alive if the
                                   caller does not */
    const xdata *data;
    const char *start;
    const char *pos;
    const char *end;
    PyObject *fake_ns;          /* the namespace of <fake __main__>, once
                                   looked up */
    PyObject *fake_objs;        /* functions and classes of __main__
                                   rebuilt, by index */
};

/* Return the module state of the decoder, looking it up the first time,
   or NULL with an exception set. */
static interpreters_state *
dec_state(decoder *d)
{
    if (d->st == NULL) {
        d->st = current_state(&d->keep);
        return d->st;
    }
    return check_state(d->st);
}

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
dec_ref(decoder *d, Py_ssize_t index)
{
    if (index < 0 || index >= d->data->nrefs) {
        set_corrupted();
        return NULL;
    }
    interpreters_state *st = dec_state(d);
    if (st == NULL) {
        return NULL;
    }
    const xdata_ref *ref = &d->data->refs[index];
    return ref->kind->new_object(st, ref->raw);
}

/* Decoding objects of __main__ into a <fake __main__> (see above) */

/* Return the namespace of the current interpreter's <fake __main__>,
   made and added to sys.modules on first use, as a borrowed reference
   (the decoder keeps one). */
static PyObject *
dec_fake_ns(decoder *d)
{
    if (d->fake_ns != NULL) {
        return d->fake_ns;
    }
    PyObject *module = PyImport_AddModule(FAKE_MAIN_NAME);
    if (module == NULL) {
        return NULL;
    }
    PyObject *ns = PyModule_GetDict(module);
    PyObject *builtins = PyDict_GetItemWithError(ns, &_Py_ID(__builtins__));
    if (builtins == NULL) {
        if (PyErr_Occurred()
            || PyDict_SetItem(ns, &_Py_ID(__builtins__),
                              PyEval_GetBuiltins()) < 0)
        {
            return NULL;
        }
    }
    d->fake_ns = Py_NewRef(ns);
    return ns;
}

/* Return the object at the dotted name qualname, starting from the
   namespace ns of the module named where, a new reference; NULL with an
   exception set if there is none. */
static PyObject *
resolve_in_namespace(PyObject *ns, const char *where, PyObject *qualname)
{
    PyObject *names = PyUnicode_Split(qualname, &_Py_STR(dot), -1);
    if (names == NULL) {
        return NULL;
    }
    PyObject *first = PyList_GET_ITEM(names, 0);
    PyObject *obj = PyDict_GetItemWithError(ns, first);
    if (obj == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_AttributeError,
                         "%R is not a global of %s", first, where);
        }
        Py_DECREF(names);
        return NULL;
    }
    Py_INCREF(obj);
    for (Py_ssize_t i = 1; i < PyList_GET_SIZE(names); i++) {
        Py_SETREF(obj, PyObject_GetAttr(obj, PyList_GET_ITEM(names, i)));
        if (obj == NULL) {
            break;
        }
    }
    Py_DECREF(names);
    return obj;
}

/* Return the class that the fake module holds at qualname, if it is one
   that an earlier decoding rebuilt there, else NULL (no exception). */
static PyObject *
fake_class_found(PyObject *ns, PyObject *qualname)
{
    if (PyUnicode_FindChar(qualname, '<', 0, PyUnicode_GET_LENGTH(qualname),
                           1) != -1)
    {
        /* <locals>: made anew by each call of the enclosing function */
        PyErr_Clear();
        return NULL;
    }
    PyObject *found = resolve_in_namespace(ns, FAKE_MAIN_NAME, qualname);
    if (found == NULL) {
        PyErr_Clear();
        return NULL;
    }
    if (PyType_Check(found) && is_defined_in(found, FAKE_MAIN_NAME)
        && PyUnicode_Check(((PyHeapTypeObject *)found)->ht_qualname)
        && PyUnicode_Compare(((PyHeapTypeObject *)found)->ht_qualname,
                             qualname) == 0)
    {
        return found;
    }
    PyErr_Clear();
    Py_DECREF(found);
    return NULL;
}

/* Fill the empty __class__ cell of obj (a function, or a classmethod,
   staticmethod or property around functions) with cls. */
static int
fill_class_cell(PyObject *obj, PyObject *cls)
{
    static const char *const inner[] = {"__func__", "fget", "fset", "fdel"};
    if (Py_IS_TYPE(obj, &PyClassMethod_Type)
        || Py_IS_TYPE(obj, &PyStaticMethod_Type)
        || Py_IS_TYPE(obj, &PyProperty_Type))
    {
        int first = Py_IS_TYPE(obj, &PyProperty_Type) ? 1 : 0;
        int last = first ? 3 : 0;
        for (int i = first; i <= last; i++) {
            PyObject *func = PyObject_GetAttrString(obj, inner[i]);
            if (func == NULL) {
                return -1;
            }
            int res = fill_class_cell(func, cls);
            Py_DECREF(func);
            if (res < 0) {
                return -1;
            }
        }
        return 0;
    }
    if (!PyFunction_Check(obj)) {
        return 0;
    }
    PyObject *closure = PyFunction_GET_CLOSURE(obj);
    if (closure == NULL || PyTuple_GET_SIZE(closure) != 1
        || !uses_class_cell_only((PyCodeObject *)PyFunction_GET_CODE(obj)))
    {
        return 0;
    }
    PyObject *cell = PyTuple_GET_ITEM(closure, 0);
    if (!PyCell_Check(cell) || PyCell_GET(cell) != NULL) {
        return 0;
    }
    return PyCell_Set(cell, cls);
}

/* ('C', index, metaclass, name, qualname, bases, attrs) */
static PyObject *
fake_class_rebuild(decoder *d, PyObject *pid)
{
    PyObject *metaclass = PyTuple_GET_ITEM(pid, 2);
    PyObject *name = PyTuple_GET_ITEM(pid, 3);
    PyObject *qualname = PyTuple_GET_ITEM(pid, 4);
    PyObject *bases = PyTuple_GET_ITEM(pid, 5);
    PyObject *attrs = PyTuple_GET_ITEM(pid, 6);
    PyObject *ns, *cls, *dict, *key, *value;
    Py_ssize_t pos = 0;

    if (!PyUnicode_Check(name) || !PyUnicode_Check(qualname)
        || !PyTuple_Check(bases) || !PyDict_Check(attrs))
    {
        set_corrupted();
        return NULL;
    }
    ns = dec_fake_ns(d);
    if (ns == NULL) {
        return NULL;
    }
    cls = fake_class_found(ns, qualname);
    if (cls != NULL) {
        return cls;
    }
    dict = PyDict_Copy(attrs);
    if (dict == NULL) {
        return NULL;
    }
    PyObject *module = PyUnicode_FromString(FAKE_MAIN_NAME);
    if (module == NULL
        || PyDict_SetItem(dict, &_Py_ID(__module__), module) < 0
        || PyDict_SetItem(dict, &_Py_ID(__qualname__), qualname) < 0)
    {
        Py_XDECREF(module);
        Py_DECREF(dict);
        return NULL;
    }
    Py_DECREF(module);
    cls = PyObject_CallFunctionObjArgs(metaclass, name, bases, dict, NULL);
    Py_DECREF(dict);
    while (cls != NULL && PyDict_Next(attrs, &pos, &key, &value)) {
        if (fill_class_cell(value, cls) < 0) {
            Py_CLEAR(cls);
        }
    }
    return cls;
}

/* ('W', type name, args) */
static PyObject *
fake_wrapper_rebuild(PyObject *pid)
{
    PyObject *name = PyTuple_GET_ITEM(pid, 1);
    PyObject *args = PyTuple_GET_ITEM(pid, 2);
    PyTypeObject *types[] = {
        &PyClassMethod_Type, &PyStaticMethod_Type, &PyProperty_Type,
    };
    if (!PyUnicode_Check(name) || !PyTuple_Check(args)) {
        set_corrupted();
        return NULL;
    }
    for (int i = 0; i < 3; i++) {
        if (_PyUnicode_EqualToASCIIString(name, types[i]->tp_name)) {
            return PyObject_Call((PyObject *)types[i], args, NULL);
        }
    }
    set_corrupted();
    return NULL;
}

/* ('F', index, code, name, qualname, defaults, kwdefaults, class_cell) */
static PyObject *
fake_function_rebuild(decoder *d, PyObject *pid)
{
    PyObject *code = PyTuple_GET_ITEM(pid, 2);
    if (!PyBytes_Check(code)) {
        set_corrupted();
        return NULL;
    }
    PyObject *ns = dec_fake_ns(d);
    if (ns == NULL) {
        return NULL;
    }
    return function_rebuild(PyBytes_AS_STRING(code), PyBytes_GET_SIZE(code),
                            PyTuple_GET_ITEM(pid, 3), PyTuple_GET_ITEM(pid, 4),
                            PyTuple_GET_ITEM(pid, 5), PyTuple_GET_ITEM(pid, 6),
                            ns, PyTuple_GET_ITEM(pid, 7) == Py_True);
}

/* Remember obj, the function or class rebuilt for index, for the
   persistent ids that name it again, and return it; NULL (with the
   exception set) if obj is NULL or on error. */
static PyObject *
fake_remember(decoder *d, PyObject *index, PyObject *obj)
{
    if (obj == NULL) {
        return NULL;
    }
    if (d->fake_objs == NULL) {
        d->fake_objs = PyDict_New();
        if (d->fake_objs == NULL) {
            Py_DECREF(obj);
            return NULL;
        }
    }
    if (PyDict_SetItem(d->fake_objs, index, obj) < 0) {
        Py_DECREF(obj);
        return NULL;
    }
    return obj;
}

/* The persistent ids of XDATA_MAIN_AS_FAKE and XDATA_FAKE_AS_MAIN. */
static PyObject *
fake_persistent_load(decoder *d, PyObject *pid)
{
    Py_ssize_t size = PyTuple_GET_SIZE(pid);
    PyObject *tag = PyTuple_GET_ITEM(pid, 0);
    if (PyUnicode_GET_LENGTH(tag) != 1 || size < 2) {
        set_corrupted();
        return NULL;
    }
    PyObject *arg = PyTuple_GET_ITEM(pid, 1);
    switch (PyUnicode_READ_CHAR(tag, 0)) {
    case FAKE_PID_FUNCTION:
        if (size != 8 || !PyLong_CheckExact(arg)) {
            break;
        }
        return fake_remember(d, arg, fake_function_rebuild(d, pid));
    case FAKE_PID_CLASS:
        if (size != 7 || !PyLong_CheckExact(arg)) {
            break;
        }
        return fake_remember(d, arg, fake_class_rebuild(d, pid));
    case FAKE_PID_AGAIN: {
        PyObject *obj = NULL;
        if (size != 2 || !PyLong_CheckExact(arg)) {
            break;
        }
        if (d->fake_objs != NULL) {
            obj = PyDict_GetItemWithError(d->fake_objs, arg);
        }
        if (obj == NULL && !PyErr_Occurred()) {
            /* Its record holds it: only pickle's memo could make that. */
            PyErr_SetString(PyExc_ValueError,
                            "a class of __main__ refers to itself in its "
                            "bases or attributes");
        }
        return Py_XNewRef(obj);
    }
    case FAKE_PID_WRAPPER:
        if (size != 3) {
            break;
        }
        return fake_wrapper_rebuild(pid);
    case FAKE_PID_MODULE:
        if (size != 2 || !PyUnicode_Check(arg)) {
            break;
        }
        return PyImport_Import(arg);
    case FAKE_PID_MAIN: {
        if (size != 2 || !PyUnicode_Check(arg)) {
            break;
        }
        PyObject *main = PyImport_AddModule("__main__");
        if (main == NULL) {
            return NULL;
        }
        return resolve_in_namespace(PyModule_GetDict(main), "__main__",
                                    arg);
    }
    default:
        break;
    }
    set_corrupted();
    return NULL;
}

/* After the object: load the dicts of globals until an empty one, and
   add to the fake module those it does not hold. */
static int
fake_load_globals(decoder *d, PyObject *unpickler)
{
    interpreters_state *st = dec_state(d);
    PyObject *ns = dec_fake_ns(d);
    if (st == NULL || ns == NULL) {
        return -1;
    }
    for (;;) {
        PyObject *batch = PyObject_CallMethodNoArgs(unpickler,
                                                    st->xdata->str_load);
        if (batch == NULL) {
            return -1;
        }
        if (!PyDict_CheckExact(batch)) {
            Py_DECREF(batch);
            set_corrupted();
            return -1;
        }
        if (PyDict_GET_SIZE(batch) == 0) {
            Py_DECREF(batch);
            return 0;
        }
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(batch, &pos, &key, &value)) {
            if (PyDict_SetDefault(ns, key, value) == NULL) {
                Py_DECREF(batch);
                return -1;
            }
        }
        Py_DECREF(batch);
    }
}

/* The persistent_load() of our unpicklers, through their session. */
static PyObject *
dec_persistent_load(decoder *d, PyObject *pid)
{
    if (PyLong_CheckExact(pid)) {
        Py_ssize_t index = PyLong_AsSsize_t(pid);
        if (index == -1 && PyErr_Occurred()) {
            return NULL;
        }
        return dec_ref(d, index);
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
                                PyTuple_GET_ITEM(pid, 4), NULL, 0);
    }
    if (PyTuple_CheckExact(pid) && PyTuple_GET_SIZE(pid) > 0
        && PyUnicode_CheckExact(PyTuple_GET_ITEM(pid, 0)))
    {
        return fake_persistent_load(d, pid);
    }
    set_corrupted();
    return NULL;
}

/* Unpickle the n bytes at p, with persistent ids or without. */
static PyObject *
dec_unpickle(decoder *d, int with_pids, const char *p, Py_ssize_t n)
{
    interpreters_state *st = dec_state(d);
    struct xdata_state *xs;
    PyObject *bytes, *file = NULL, *unpickler = NULL;
    PyObject *persistent_load = NULL, *obj = NULL;
    session *sess = NULL;

    if (st == NULL) {
        return NULL;
    }
    xs = st->xdata;
    /* A copy: the unpickler, and the code that it runs, may keep what
       they read beyond the life of the data. */
    bytes = PyBytes_FromStringAndSize(p, n);
    if (bytes == NULL) {
        return NULL;
    }
    if (!with_pids) {
        obj = PyObject_CallOneArg(xs->loads, bytes);
        Py_DECREF(bytes);
        return obj;
    }
    /* BytesIO shares the bytes object. */
    file = PyObject_CallOneArg(xs->BytesIO, bytes);
    if (file == NULL) {
        goto done;
    }
    unpickler = PyObject_CallOneArg(xs->Unpickler, file);
    if (unpickler == NULL) {
        goto done;
    }
    sess = session_new(xs);
    if (sess == NULL) {
        goto done;
    }
    persistent_load = PyObject_GetAttr((PyObject *)sess,
                                       xs->str_persistent_load);
    if (persistent_load == NULL
        || PyObject_SetAttr(unpickler, xs->str_persistent_load,
                            persistent_load) < 0)
    {
        goto done;
    }
    sess->dec = d;
    obj = PyObject_CallMethodNoArgs(unpickler, xs->str_load);
    if (obj != NULL && (with_pids & WITH_GLOBALS)
        && fake_load_globals(d, unpickler) < 0)
    {
        Py_CLEAR(obj);
    }
    sess->dec = NULL;

done:
    Py_DECREF(bytes);
    Py_XDECREF(file);
    Py_XDECREF(unpickler);
    Py_XDECREF(persistent_load);
    Py_XDECREF(sess);
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
                            values[3], NULL, 0);
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
    case TAG_REF:
        if (dec_ssize(d, &n) < 0) {
            return NULL;
        }
        return dec_ref(d, n);
    case TAG_PICKLE: {
        unsigned char with_pids;    /* WITH_PIDS, WITH_GLOBALS */
        if (dec_copy(d, &with_pids, 1) < 0
            || dec_ssize(d, &n) < 0 || (p = dec_raw(d, n)) == NULL)
        {
            return NULL;
        }
        return dec_unpickle(d, with_pids, p, n);
    }
    case TAG_FUNCTION:
        return dec_function(d);
    default:
        set_corrupted();
        return NULL;
    }
}

PyObject *
xdata_decode(interpreters_state *st, const xdata *data)
{
    decoder d = {
        .st = st,
        .data = data,
        .start = XDATA_STREAM(data),
        .pos = XDATA_STREAM(data),
        .end = XDATA_STREAM(data) + data->size,
    };
    PyObject *obj = dec_value(&d);
    if (obj != NULL && d.pos != d.end) {
        Py_CLEAR(obj);
        set_corrupted();
    }
    Py_XDECREF(d.fake_ns);
    Py_XDECREF(d.fake_objs);
    Py_XDECREF(d.keep);
    return obj;
}


/* ------------------------------------------------------------------------
   Shareable objects
*/

int
xdata_is_shareable(interpreters_state *st, PyObject *obj)
{
    PyTypeObject *type = Py_TYPE(obj);
    int res = 1;

    if (obj == Py_None || type == &PyBool_Type || type == &PyLong_Type
        || type == &PyFloat_Type || type == &PyUnicode_Type
        || type == &PyBytes_Type
        || (st->xdata != NULL && registry_find(st->xdata, type) != NULL))
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
        res = xdata_is_shareable(st, PyTuple_GET_ITEM(obj, i));
    }
    Py_LeaveRecursiveCall();
    return res;
}


/* ------------------------------------------------------------------------
   Setting up and clearing our part of the module state
*/

/* Take pickle's pure-Python classes and loads(), new references. */
static int
import_python_picklers(struct xdata_state *xs)
{
    PyObject *pickle = PyImport_ImportModule("pickle");
    if (pickle == NULL) {
        return -1;
    }
    xs->Pickler = PyObject_GetAttrString(pickle, "_Pickler");
    xs->Unpickler = PyObject_GetAttrString(pickle, "_Unpickler");
    xs->loads = PyObject_GetAttrString(pickle, "_loads");
    Py_DECREF(pickle);
    if (xs->Pickler == NULL || xs->Unpickler == NULL || xs->loads == NULL) {
        return -1;
    }
    return 0;
}

/* Return the attribute name of module modname, a new reference, if it
   is what the extension module defines: a replacement (a Python class or
   function, after sys.modules['_pickle'] was replaced, say) would get to
   see, and keep, what we pickle.  Static types cannot be made from Python
   code, and a builtin function of _pickle is bound to the module that
   defines it. */
static PyObject *
import_builtin(const char *modname, const char *name, const char *tp_name)
{
    PyObject *attr = NULL;
    PyObject *module = PyImport_ImportModule(modname);
    if (module == NULL) {
        return NULL;
    }
    attr = PyObject_GetAttrString(module, name);
    Py_DECREF(module);
    if (attr == NULL) {
        return NULL;
    }
    int genuine;
    if (tp_name != NULL) {
        genuine = (PyType_Check(attr)
                   && !PyType_HasFeature((PyTypeObject *)attr,
                                         Py_TPFLAGS_HEAPTYPE)
                   && strcmp(((PyTypeObject *)attr)->tp_name, tp_name) == 0);
    }
    else {
        PyObject *self = PyCFunction_Check(attr) ? PyCFunction_GET_SELF(attr)
                                                 : NULL;
        PyModuleDef *def = (self != NULL && PyModule_Check(self)
                            ? PyModule_GetDef(self) : NULL);
        genuine = (def != NULL && strcmp(def->m_name, modname) == 0);
    }
    if (!genuine) {
        PyErr_Format(PyExc_ImportError, "%s.%s was replaced", modname, name);
        Py_CLEAR(attr);
    }
    return attr;
}

/* Take the picklers from _pickle; in an interpreter that refuses it (one
   with its own GIL refuses single-phase extension modules), from the
   pure-Python implementation in pickle, which writes and reads the same
   pickles and honours persistent_id, persistent_load and memo alike. */
static int
import_picklers(struct xdata_state *xs)
{
    xs->Pickler = import_builtin("_pickle", "Pickler", "_pickle.Pickler");
    if (xs->Pickler == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_ImportError)
            || !_PyImport_ChecksExtensions(PyInterpreterState_Get()))
        {
            return -1;
        }
        PyErr_Clear();
        return import_python_picklers(xs);
    }
    xs->Unpickler = import_builtin("_pickle", "Unpickler",
                                   "_pickle.Unpickler");
    if (xs->Unpickler == NULL) {
        return -1;
    }
    xs->loads = import_builtin("_pickle", "loads", NULL);
    return xs->loads == NULL ? -1 : 0;
}

static int
intern(PyObject **str, const char *value)
{
    *str = PyUnicode_InternFromString(value);
    return *str == NULL ? -1 : 0;
}

int
xdata_module_exec(PyObject *module, interpreters_state *st)
{
    struct xdata_state *xs = PyMem_Calloc(1, sizeof(struct xdata_state));
    if (xs == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    st->xdata = xs;

    if (import_picklers(xs) < 0) {
        return -1;
    }
    xs->BytesIO = import_builtin("_io", "BytesIO", "_io.BytesIO");
    if (xs->BytesIO == NULL) {
        return -1;
    }

    xs->SessionType = (PyTypeObject *)PyType_FromModuleAndSpec(
        module, &session_spec, NULL);
    if (xs->SessionType == NULL) {
        return -1;
    }
    if (intern(&xs->str_dump, "dump") < 0
        || intern(&xs->str_load, "load") < 0
        || intern(&xs->str_memo, "memo") < 0
        || intern(&xs->str_persistent_id, "persistent_id") < 0
        || intern(&xs->str_persistent_load, "persistent_load") < 0)
    {
        return -1;
    }
    return 0;
}

int
xdata_module_traverse(interpreters_state *st, visitproc visit, void *arg)
{
    struct xdata_state *xs = st->xdata;
    if (xs == NULL) {
        return 0;
    }
    for (int i = 0; i < xs->nregistered; i++) {
        Py_VISIT(xs->registered[i].type);
    }
    Py_VISIT(xs->Pickler);
    Py_VISIT(xs->Unpickler);
    Py_VISIT(xs->loads);
    Py_VISIT(xs->BytesIO);
    Py_VISIT(xs->SessionType);
    Py_VISIT(xs->pickler);
    Py_VISIT(xs->session);
    return 0;
}

void
xdata_module_clear(interpreters_state *st)
{
    struct xdata_state *xs = st->xdata;
    if (xs == NULL) {
        return;
    }
    st->xdata = NULL;
    for (int i = 0; i < xs->nregistered; i++) {
        Py_CLEAR(xs->registered[i].type);
    }
    Py_CLEAR(xs->Pickler);
    Py_CLEAR(xs->Unpickler);
    Py_CLEAR(xs->loads);
    Py_CLEAR(xs->BytesIO);
    Py_CLEAR(xs->pickler);
    Py_CLEAR(xs->session);
    Py_CLEAR(xs->SessionType);
    Py_CLEAR(xs->str_dump);
    Py_CLEAR(xs->str_load);
    Py_CLEAR(xs->str_memo);
    Py_CLEAR(xs->str_persistent_id);
    Py_CLEAR(xs->str_persistent_load);
    PyMem_Free(xs);
}
