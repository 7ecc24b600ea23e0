/* Zero-copy memoryviews between interpreters (see buffers.h).
 */

#include "module.h"
#include "buffers.h"
#include "crossdata.h"
#include "pycore_gc.h"            // PyGC_Head
#include "pycore_interp.h"        // PyInterpreterState.gc
#include "pycore_object.h"        // _PyObject_IS_GC()
#include "pycore_pystate.h"       // _PyThreadState_GET()
#include "pycore_runtime.h"       // _PyRuntime.interpreters.mutex


/* ------------------------------------------------------------------------
   Exports and views (raw data, shared by all interpreters)
*/

typedef struct buffer_export {
    /* In buffers_runtime.exports; guarded by buffers_runtime.mutex, as
       are refcount, owner and ending */
    struct buffer_export *prev;
    struct buffer_export *next;
    Py_ssize_t refcount;        /* views of it */
    int64_t owner;              /* ID of the interpreter of buffer.obj */
    int ending;                 /* owner is inside Py_EndInterpreter() */
    /* Touched only with a thread state of owner current */
    Py_buffer buffer;
} buffer_export;

typedef struct {
    Py_ssize_t refcount;        /* guarded by buffers_runtime.mutex */
    buffer_export *export;      /* a reference */
    /* The layout of the memoryview that crossed; the arrays and the
       format live in the same block */
    void *buf;
    Py_ssize_t len;
    Py_ssize_t itemsize;
    int readonly;
    int ndim;
    Py_ssize_t *shape;
    Py_ssize_t *strides;
    Py_ssize_t *suboffsets;
    char *format;
} buffer_view;

static struct {
    /* Set up by the first import of the module, torn down at the
       finalization of the runtime.  The GIL, which all the interpreters of
       3.11 share, serializes both.
       XXX With a GIL per interpreter, this would need a runtime-wide
       once. */
    int initialized;
    PyThread_type_lock mutex;
    /* Every export not released yet */
    buffer_export *exports;
} buffers_runtime;

static int
buffers_init_runtime(void)
{
    if (buffers_runtime.initialized) {
        return 0;
    }
    buffers_runtime.mutex = PyThread_allocate_lock();
    if (buffers_runtime.mutex == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buffers_runtime.exports = NULL;
    buffers_runtime.initialized = 1;
    return 0;
}

void
buffers_fini_runtime(void)
{
    if (!buffers_runtime.initialized) {
        return;
    }
    /* An export still listed belongs to the main interpreter, gone now
       with its objects: nothing is left to release.  The views that
       queue items still hold leave their export alone from now on. */
    buffer_export *export;
    while ((export = buffers_runtime.exports) != NULL) {
        buffers_runtime.exports = export->next;
        PyMem_RawFree(export);
    }
    PyThread_free_lock(buffers_runtime.mutex);
    buffers_runtime.mutex = NULL;
    buffers_runtime.initialized = 0;
}

static void
buffers_lock(void)
{
    PyThread_acquire_lock(buffers_runtime.mutex, WAIT_LOCK);
}

static void
buffers_unlock(void)
{
    PyThread_release_lock(buffers_runtime.mutex);
}

/* Unlink export from buffers_runtime.exports, with the mutex held. */
static void
export_unlink(buffer_export *export)
{
    if (export->prev != NULL) {
        export->prev->next = export->next;
    }
    else {
        buffers_runtime.exports = export->next;
    }
    if (export->next != NULL) {
        export->next->prev = export->prev;
    }
    export->prev = export->next = NULL;
}

/* Return a new export (one reference) of the memory of obj, an object of
   the current interpreter, or NULL with an exception set. */
static buffer_export *
export_new(PyObject *obj)
{
    buffer_export *export = PyMem_RawMalloc(sizeof(buffer_export));
    if (export == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    /* The layout comes from the memoryview: this export only keeps the
       memory where it is. */
    if (PyObject_GetBuffer(obj, &export->buffer, PyBUF_FULL_RO) < 0) {
        PyMem_RawFree(export);
        return NULL;
    }
    export->refcount = 1;
    export->owner = PyInterpreterState_GetID(_PyInterpreterState_GET());
    export->ending = 0;
    export->prev = NULL;
    buffers_lock();
    export->next = buffers_runtime.exports;
    if (export->next != NULL) {
        export->next->prev = export;
    }
    buffers_runtime.exports = export;
    buffers_unlock();
    return export;
}

static void
export_incref(buffer_export *export)
{
    buffers_lock();
    export->refcount++;
    buffers_unlock();
}

/* Release export and free it, with the current thread state of the
   export's owner. */
static void
export_release_here(buffer_export *export)
{
    PyObject *type, *value, *tb;
    /* A deallocator may run this with an exception set. */
    PyErr_Fetch(&type, &value, &tb);
    PyBuffer_Release(&export->buffer);
    PyMem_RawFree(export);
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(NULL);
    }
    PyErr_Restore(type, value, tb);
}

/* Release export (unlinked) with the GIL held: switch to a thread state
   of its owner if needed. */
static void
export_release_with_gil(buffer_export *export)
{
    PyThreadState *current = _PyThreadState_GET();
    PyInterpreterState *owner = interp_find(export->owner);
    if (owner == NULL) {
        /* The main interpreter adopts the exports of the interpreters
           that this module ends (buffers_end_interpreter()).  Another
           module ended this one (_xxsubinterpreters.destroy()), and
           3.11's _PyGC_Fini() made the object immortal: leave it. */
        PyMem_RawFree(export);
        return;
    }
    if (owner == current->interp) {
        export_release_here(export);
        return;
    }
    /* An OS thread must not make a second thread state of the
       interpreter of its first one, which PyGILState_GetThisThreadState()
       remembers (debug builds check it in _PyThreadState_Swap()): if
       that is the owner, use that thread state, suspended further out. */
    PyThreadState *tstate = PyGILState_GetThisThreadState();
    int temporary = (tstate == NULL || tstate->interp != owner);
    if (temporary) {
        tstate = PyThreadState_New(owner);
        if (tstate == NULL) {
            /* XXX Out of memory: the object leaks, and so does export. */
            return;
        }
    }
    PyThreadState_Swap(tstate);
    export_release_here(export);
    if (temporary) {
        PyThreadState_Clear(tstate);
    }
    PyThreadState_Swap(current);
    if (temporary) {
        PyThreadState_Delete(tstate);
    }
}

/* Return 1 if the calling OS thread holds the GIL, else 0.  The current
   thread state, if any, is looked up among the live ones (under the lock
   of the list of interpreters, which is held while one is deleted): that
   of another thread may be freed as we look. */
static int
thread_holds_gil(void)
{
    PyThreadState *current = _PyThreadState_UncheckedGet();
    if (current == NULL) {
        return 0;
    }
    unsigned long me = PyThread_get_thread_ident();
    int found = 0;
    PyThread_acquire_lock(_PyRuntime.interpreters.mutex, WAIT_LOCK);
    for (PyInterpreterState *interp = PyInterpreterState_Head();
         interp != NULL; interp = PyInterpreterState_Next(interp))
    {
        for (PyThreadState *t = PyInterpreterState_ThreadHead(interp);
             t != NULL; t = PyThreadState_Next(t))
        {
            if (t == current) {
                found = (t->thread_id == me);
                goto done;
            }
        }
    }
done:
    PyThread_release_lock(_PyRuntime.interpreters.mutex);
    return found;
}

/* Release export (unlinked), from any thread, with or without the GIL. */
static void
export_release(buffer_export *export)
{
    if (thread_holds_gil()) {
        export_release_with_gil(export);
        return;
    }
    if (_Py_IsFinalizing()) {
        /* XXX PyGILState_Ensure() would end this thread: the object
           leaks, and so does export. */
        return;
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    export_release_with_gil(export);
    PyGILState_Release(gil);
}

static void
export_decref(buffer_export *export)
{
    buffers_lock();
    if (--export->refcount > 0 || export->ending) {
        /* buffers_end_interpreter() releases it once its owner is gone. */
        buffers_unlock();
        return;
    }
    export_unlink(export);
    buffers_unlock();
    export_release(export);
}

/* Return a new view (one reference) with the layout of src and export,
   whose reference it takes, or NULL with an exception set (and the
   reference dropped). */
static buffer_view *
view_new(const Py_buffer *src, buffer_export *export)
{
    int ndim = src->ndim;
    const char *format = src->format != NULL ? src->format : "B";
    size_t narrays = (size_t)ndim * 3;
    size_t flen = strlen(format) + 1;
    buffer_view *view = PyMem_RawMalloc(
        sizeof(buffer_view) + narrays * sizeof(Py_ssize_t) + flen);
    if (view == NULL) {
        export_decref(export);
        PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t *arrays = (Py_ssize_t *)(view + 1);
    view->refcount = 1;
    view->export = export;
    view->buf = src->buf;
    view->len = src->len;
    view->itemsize = src->itemsize;
    view->readonly = src->readonly;
    view->ndim = ndim;
    view->shape = NULL;
    view->strides = NULL;
    view->suboffsets = NULL;
    if (ndim > 0) {
        /* A memoryview always has a shape and strides. */
        assert(src->shape != NULL && src->strides != NULL);
        view->shape = arrays;
        view->strides = arrays + ndim;
        memcpy(view->shape, src->shape, ndim * sizeof(Py_ssize_t));
        memcpy(view->strides, src->strides, ndim * sizeof(Py_ssize_t));
        if (src->suboffsets != NULL) {
            view->suboffsets = arrays + 2 * ndim;
            memcpy(view->suboffsets, src->suboffsets,
                   ndim * sizeof(Py_ssize_t));
        }
    }
    view->format = (char *)(arrays + narrays);
    memcpy(view->format, format, flen);
    return view;
}

static void
view_incref(buffer_view *view)
{
    buffers_lock();
    view->refcount++;
    buffers_unlock();
}

static void
view_decref(buffer_view *view)
{
    if (!buffers_runtime.initialized) {
        /* The runtime is gone (queues free their items last): the
           exported objects went with it. */
        return;
    }
    buffers_lock();
    Py_ssize_t refcount = --view->refcount;
    buffers_unlock();
    if (refcount == 0) {
        buffer_export *export = view->export;
        PyMem_RawFree(view);
        export_decref(export);
    }
}


/* ------------------------------------------------------------------------
   Handing the exports of a closing interpreter to the main interpreter

   3.11's Py_EndInterpreter() untracks every object that its last
   collection left alive, and leaks a reference to each on purpose
   (_PyGC_Fini(), bpo-46070 and gh-92036): the GC list heads are freed
   with the interpreter, so such an object is never deallocated.  That
   keeps the memory of an export valid, but would leak the exporting
   object, its type and its module.  So, before that last collection, the
   objects that the exports of the interpreter keep alive (found by
   tp_traverse from each exporting object, or from its heap type) move
   from the interpreter's GC lists to the oldest generation of the main
   interpreter, whose collector frees them once unreachable.  The moment
   comes when the interpreter's dict (PyInterpreterState_GetDict()) is
   cleared, in PyInterpreterState_Clear(): after its modules were
   finalized, so that a module keeps little alive, and before its last
   collection.  A capsule in that dict runs the move when it goes.

   While the objects move, those moved carry _PyGC_PREV_MASK_COLLECTING,
   which only a collection uses otherwise: none runs, since nothing
   allocates a Python object meanwhile.
*/

#define HANDOVER_KEY "_interpreters.buffers.handover"

/* A growing array of objects, in raw memory */
typedef struct {
    PyObject **items;
    Py_ssize_t count;
    Py_ssize_t capacity;
} gc_objects;

/* Objects moved, still to traverse, where they move, and the weak
   references with a callback found on the way */
typedef struct {
    gc_objects stack;
    PyGC_Head *dest;
    gc_objects armed;
} gc_mover;

static int
gc_objects_push(gc_objects *objects, PyObject *op)
{
    if (objects->count == objects->capacity) {
        Py_ssize_t capacity = objects->capacity ? objects->capacity * 2 : 64;
        PyObject **items = PyMem_RawRealloc(objects->items,
                                            capacity * sizeof(PyObject *));
        if (items == NULL) {
            return -1;
        }
        objects->items = items;
        objects->capacity = capacity;
    }
    objects->items[objects->count++] = op;
    return 0;
}

/* Move gc from its list to the end of the list head. */
static void
gc_move(PyGC_Head *gc, PyGC_Head *head)
{
    PyGC_Head *prev = _PyGCHead_PREV(gc);
    PyGC_Head *next = _PyGCHead_NEXT(gc);
    _PyGCHead_SET_NEXT(prev, next);
    _PyGCHead_SET_PREV(next, prev);
    PyGC_Head *tail = _PyGCHead_PREV(head);
    _PyGCHead_SET_NEXT(tail, gc);
    _PyGCHead_SET_PREV(gc, tail);
    _PyGCHead_SET_NEXT(gc, head);
    _PyGCHead_SET_PREV(head, gc);
}

/* If op is tracked and not moved yet, move it to the end of
   mover->dest, marked, and push it, to traverse it later. */
static int
gc_move_visit(PyObject *op, void *arg)
{
    gc_mover *mover = (gc_mover *)arg;
    if (!_PyObject_IS_GC(op) || !_PyObject_GC_IS_TRACKED(op)) {
        return 0;
    }
    PyGC_Head *gc = _Py_AS_GC(op);
    if (gc->_gc_prev & _PyGC_PREV_MASK_COLLECTING) {
        return 0;
    }
    if (gc_objects_push(&mover->stack, op) < 0) {
        /* XXX op, and what only it keeps alive, stay: _PyGC_Fini() leaks
           them. */
        return 0;
    }
    gc_move(gc, mover->dest);
    gc->_gc_prev |= _PyGC_PREV_MASK_COLLECTING;
    return 0;
}

/* The weak references to op go with it: the interpreter's last
   collection would leave them alive, and _PyGC_Fini() would leak them
   (a heap type has one, in its base's __subclasses__()).  Those without
   a callback move like op; those with one are disarmed later. */
static void
gc_move_weakrefs(PyObject *op, gc_mover *mover)
{
    if (!_PyType_SUPPORTS_WEAKREFS(Py_TYPE(op))) {
        return;
    }
    PyObject **list = _PyObject_GET_WEAKREFS_LISTPTR(op);
    for (PyWeakReference *ref = (PyWeakReference *)*list; ref != NULL;
         ref = ref->wr_next)
    {
        if (ref->wr_callback == NULL) {
            (void)gc_move_visit((PyObject *)ref, mover);
        }
        else if (gc_objects_push(&mover->armed, (PyObject *)ref) == 0) {
            /* Dropping a callback may drop another weak reference. */
            Py_INCREF(ref);
        }
        /* else XXX out of memory: it stays, and leaks. */
    }
}

/* Move obj, if tracked, and the tracked objects it reaches (and their weak
   references) to the end of mover->dest, marked. */
static void
gc_move_reachable(PyObject *obj, gc_mover *mover)
{
    (void)gc_move_visit(obj, mover);
    while (mover->stack.count > 0) {
        PyObject *op = mover->stack.items[--mover->stack.count];
        traverseproc traverse = Py_TYPE(op)->tp_traverse;
        if (traverse != NULL) {
            (void)traverse(op, gc_move_visit, mover);
        }
        gc_move_weakrefs(op, mover);
    }
}

/* A weak reference of the closing interpreter to an object that outlives
   it must not call back into the interpreter's code from another one:
   drop its callback (as _PyGC_Fini() would have kept the object alive
   forever, it would never have run), and hand it over too. */
static void
gc_disarm(PyObject *op, PyGC_Head *head)
{
    PyWeakReference *ref = (PyWeakReference *)op;
    if (_PyObject_GC_IS_TRACKED(op)) {
        gc_move(_Py_AS_GC(op), head);
    }
    Py_CLEAR(ref->wr_callback);
}

/* The capsule's destructor: move what the exports of the current
   interpreter, which is being cleared, keep alive to the main
   interpreter. */
static void
exports_hand_over(PyObject *capsule)
{
    int64_t id = PyInterpreterState_GetID(_PyInterpreterState_GET());
    PyGC_Head moved = {
        ._gc_next = (uintptr_t)&moved,
        ._gc_prev = (uintptr_t)&moved,
    };
    gc_mover mover = {{NULL, 0, 0}, &moved, {NULL, 0, 0}};

    /* The exports of this interpreter wait for the end of
       Py_EndInterpreter() to be released (they are "ending"), and
       nothing here runs code or takes the mutex. */
    buffers_lock();
    for (buffer_export *e = buffers_runtime.exports; e != NULL;
         e = e->next)
    {
        if (e->owner == id) {
            PyObject *obj = e->buffer.obj;
            gc_move_reachable(obj, &mover);
            /* A heap type's instances keep it alive, whether they
               traverse it or not. */
            gc_move_reachable((PyObject *)Py_TYPE(obj), &mover);
        }
    }
    buffers_unlock();
    PyMem_RawFree(mover.stack.items);

    PyGC_Head *head =
        &_PyInterpreterState_Main()->gc.generations[NUM_GENERATIONS - 1].head;
    if (_PyGCHead_NEXT(&moved) == &moved) {
        goto disarm;
    }
    /* Unmark them, and append them to the main interpreter's oldest
       generation. */
    PyGC_Head *first = _PyGCHead_NEXT(&moved);
    PyGC_Head *last = _PyGCHead_PREV(&moved);
    for (PyGC_Head *gc = first; gc != &moved; gc = _PyGCHead_NEXT(gc)) {
        gc->_gc_prev &= ~_PyGC_PREV_MASK_COLLECTING;
    }
    PyGC_Head *tail = _PyGCHead_PREV(head);
    _PyGCHead_SET_NEXT(tail, first);
    _PyGCHead_SET_PREV(first, tail);
    _PyGCHead_SET_NEXT(last, head);
    _PyGCHead_SET_PREV(head, last);

disarm:
    /* Last: dropping a callback may run code. */
    for (Py_ssize_t i = 0; i < mover.armed.count; i++) {
        gc_disarm(mover.armed.items[i], head);
    }
    for (Py_ssize_t i = 0; i < mover.armed.count; i++) {
        Py_DECREF(mover.armed.items[i]);
    }
    PyMem_RawFree(mover.armed.items);
}

/* Arrange for exports_hand_over() to run when the current interpreter's
   dict is cleared.  Without it (out of memory), the objects leak. */
static void
exports_plan_hand_over(void)
{
    PyObject *dict = PyInterpreterState_GetDict(_PyInterpreterState_GET());
    if (dict == NULL) {
        return;
    }
    PyObject *capsule = PyCapsule_New(&buffers_runtime, HANDOVER_KEY,
                                      exports_hand_over);
    if (capsule == NULL
        || PyDict_SetItemString(dict, HANDOVER_KEY, capsule) < 0)
    {
        PyErr_Clear();
    }
    Py_XDECREF(capsule);
}

/* Mark the exports of interpreter id as ending, with the mutex held;
   return how many there are. */
static Py_ssize_t
exports_set_ending(int64_t id)
{
    Py_ssize_t count = 0;
    for (buffer_export *e = buffers_runtime.exports; e != NULL;
         e = e->next)
    {
        if (e->owner == id) {
            e->ending = 1;
            count++;
        }
    }
    return count;
}

void
buffers_end_interpreter(PyThreadState *tstate, PyThreadState *caller)
{
    if (!buffers_runtime.initialized) {
        Py_EndInterpreter(tstate);
        PyThreadState_Swap(caller);
        return;
    }
    int64_t id = PyInterpreterState_GetID(tstate->interp);
    int64_t main_id = PyInterpreterState_GetID(_PyInterpreterState_Main());
    buffers_lock();
    Py_ssize_t count = exports_set_ending(id);
    buffers_unlock();
    /* The hand-over writes the main interpreter's GC lists, which only a
       holder of the main GIL may do: an interpreter with its own GIL
       leaves the objects behind its exports leaked instead, as 3.11 does
       with whatever outlives an interpreter, so that the memory stays
       valid. */
    if (count > 0 && !_PyInterpreterState_HasOwnGIL(tstate->interp)) {
        exports_plan_hand_over();
    }

    Py_EndInterpreter(tstate);
    PyThreadState_Swap(caller);

    /* The interpreter's exports now belong to the main interpreter.
       Release those whose last view went meanwhile: they are the only
       ones left with no view. */
    buffers_lock();
    for (buffer_export *e = buffers_runtime.exports; e != NULL;
         e = e->next)
    {
        if (e->owner == id) {
            e->owner = main_id;
            e->ending = 0;
        }
    }
    for (;;) {
        buffer_export *e = buffers_runtime.exports;
        while (e != NULL && e->refcount > 0) {
            e = e->next;
        }
        if (e == NULL) {
            break;
        }
        export_unlink(e);
        buffers_unlock();
        export_release_with_gil(e);
        buffers_lock();
    }
    buffers_unlock();
}


/* ------------------------------------------------------------------------
   The SharedBuffer type: what a received memoryview shows
*/

typedef struct {
    PyObject_HEAD
    buffer_view *view;          /* a reference */
} sharedbufferobject;

static int
sharedbuffer_getbuffer(PyObject *self, Py_buffer *buffer, int flags)
{
    buffer_view *view = ((sharedbufferobject *)self)->view;

    if ((flags & PyBUF_WRITABLE) && view->readonly) {
        PyErr_SetString(PyExc_BufferError, "the shared buffer is read-only");
        return -1;
    }
    buffer->buf = view->buf;
    buffer->len = view->len;
    buffer->itemsize = view->itemsize;
    buffer->readonly = view->readonly;
    buffer->ndim = view->ndim;
    buffer->format = (flags & PyBUF_FORMAT) ? view->format : NULL;
    buffer->shape = view->shape;
    buffer->strides = view->strides;
    buffer->suboffsets = view->suboffsets;
    buffer->internal = NULL;

    if (view->suboffsets != NULL
        && (flags & PyBUF_INDIRECT) != PyBUF_INDIRECT)
    {
        PyErr_SetString(PyExc_BufferError,
                        "the shared buffer needs suboffsets");
        return -1;
    }
    if ((flags & PyBUF_C_CONTIGUOUS) == PyBUF_C_CONTIGUOUS
        && !PyBuffer_IsContiguous(buffer, 'C'))
    {
        PyErr_SetString(PyExc_BufferError,
                        "the shared buffer is not C-contiguous");
        return -1;
    }
    if ((flags & PyBUF_F_CONTIGUOUS) == PyBUF_F_CONTIGUOUS
        && !PyBuffer_IsContiguous(buffer, 'F'))
    {
        PyErr_SetString(PyExc_BufferError,
                        "the shared buffer is not Fortran-contiguous");
        return -1;
    }
    if ((flags & PyBUF_ANY_CONTIGUOUS) == PyBUF_ANY_CONTIGUOUS
        && !PyBuffer_IsContiguous(buffer, 'A'))
    {
        PyErr_SetString(PyExc_BufferError,
                        "the shared buffer is not contiguous");
        return -1;
    }
    if ((flags & PyBUF_STRIDES) != PyBUF_STRIDES) {
        if (!PyBuffer_IsContiguous(buffer, 'C')) {
            PyErr_SetString(PyExc_BufferError,
                            "the shared buffer is not C-contiguous");
            return -1;
        }
        buffer->strides = NULL;
    }
    if ((flags & PyBUF_ND) != PyBUF_ND) {
        /* Unsigned bytes, as PyBuffer_FillInfo() describes them */
        buffer->ndim = 1;
        buffer->shape = NULL;
    }
    buffer->obj = Py_NewRef(self);
    return 0;
}

static void
sharedbuffer_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    view_decref(((sharedbufferobject *)self)->view);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int
is_sharedbuffer(PyObject *obj)
{
    PyBufferProcs *procs = Py_TYPE(obj)->tp_as_buffer;
    return procs != NULL && procs->bf_getbuffer == sharedbuffer_getbuffer;
}

PyDoc_STRVAR(sharedbuffer_doc,
"Memory of another interpreter, shown by a memoryview.");

static PyType_Slot sharedbuffer_slots[] = {
    {Py_tp_doc, (void *)sharedbuffer_doc},
    {Py_tp_dealloc, sharedbuffer_dealloc},
    {Py_bf_getbuffer, sharedbuffer_getbuffer},
    {0, NULL},
};

static PyType_Spec sharedbuffer_spec = {
    .name = "_interpreters.SharedBuffer",
    .basicsize = sizeof(sharedbufferobject),
    .flags = (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE
              | Py_TPFLAGS_DISALLOW_INSTANTIATION),
    .slots = sharedbuffer_slots,
};


/* ------------------------------------------------------------------------
   memoryview as an xdata kind
*/

static void *
memoryview_share(PyObject *obj)
{
    PyMemoryViewObject *mv = (PyMemoryViewObject *)obj;
    if (mv->flags & _Py_MEMORYVIEW_RELEASED) {
        PyErr_SetString(PyExc_ValueError,
                        "operation forbidden on released memoryview object");
        return NULL;
    }
    PyObject *base = mv->view.obj;
    if (base == NULL) {
        /* PyMemoryView_FromMemory() and the like: nothing says how long
           the memory lives. */
        PyErr_SetString(PyExc_ValueError,
                        "a memoryview without an underlying object "
                        "cannot be shared");
        return NULL;
    }
    buffer_export *export;
    if (is_sharedbuffer(base)) {
        /* A view of a view: refer to the original export. */
        export = ((sharedbufferobject *)base)->view->export;
        export_incref(export);
    }
    else {
        export = export_new(base);
        if (export == NULL) {
            return NULL;
        }
    }
    return view_new(&mv->view, export);
}

static void *
memoryview_xdata_share(PyObject *obj)
{
    void *view = memoryview_share(obj);
    if (view == NULL && !PyErr_ExceptionMatches(PyExc_MemoryError)) {
        interpreters_state *st = interpreters_current_state();
        if (st != NULL) {
            (void)xdata_raise_not_shareable(
                st, "this memoryview cannot be shared");
        }
    }
    return view;
}

static void
memoryview_xdata_incref(void *view)
{
    view_incref(view);
}

static void
memoryview_xdata_decref(void *view)
{
    view_decref(view);
}

static PyObject *
memoryview_xdata_new_object(interpreters_state *st, void *view)
{
    sharedbufferobject *self = PyObject_New(sharedbufferobject,
                                            st->SharedBufferType);
    if (self == NULL) {
        return NULL;
    }
    view_incref(view);
    self->view = view;
    PyObject *mv = PyMemoryView_FromObject((PyObject *)self);
    Py_DECREF(self);
    return mv;
}

static const xdata_kind memoryview_xdata_kind = {
    .share = memoryview_xdata_share,
    .incref = memoryview_xdata_incref,
    .decref = memoryview_xdata_decref,
    .new_object = memoryview_xdata_new_object,
};

int
buffers_module_exec(PyObject *module, interpreters_state *st)
{
    if (buffers_init_runtime() < 0) {
        return -1;
    }
    st->SharedBufferType = (PyTypeObject *)PyType_FromModuleAndSpec(
        module, &sharedbuffer_spec, NULL);
    if (st->SharedBufferType == NULL) {
        return -1;
    }
    return xdata_register_type(st, &PyMemoryView_Type,
                               &memoryview_xdata_kind);
}
