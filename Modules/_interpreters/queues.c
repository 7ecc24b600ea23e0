/* Cross-interpreter queues, and the Queue type of their handles.
 *
 * A queue ("xqueue") is raw data shared by the whole runtime: a FIFO of
 * xdata items, so that any interpreter can put objects in it and any
 * other one can get copies of them out.  Each interpreter sees the queue
 * through handles, Queue objects of its own _interpreters module.
 *
 * A queue lives while anything refers to it: a Queue handle (in any
 * interpreter) or an xdata (queued item, pending call() argument...) that
 * names it.  Each such reference is counted; the queue and the items it
 * still holds are freed when the count drops to zero.  The Queue type
 * registers itself with crossdata.c (see crossdata.h): a handle crosses
 * as a counted reference to its queue.
 *
 * concurrent.interpreters.Queue (Python 3.14's API) is a Python subclass
 * of the _QueueBase type here, which also registers itself, so that its
 * objects arrive as objects of that class.  Its items are bound to the
 * interpreter that put them: when that one is destroyed, they are
 * dropped, or get() reports them as unbound, as their put() chose.  The
 * items of the interpreters module outlive the interpreter that put them.
 */

#include "module.h"
#include "crossdata.h"
#include "structmember.h"         // PyMemberDef

#include <stddef.h>               // offsetof()

/*[clinic input]
module _interpreters
class _interpreters.Queue "queueobject *" "queue_type_state(type)->QueueType"
class _interpreters._QueueBase "queueobject *" "&PyBaseObject_Type"
[clinic start generated code]*/
/*[clinic end generated code: output=da39a3ee5e6b4b0d input=1fc84e15d08e7766]*/


/* ------------------------------------------------------------------------
   Waiting

   A thread that waits for an item (or for room) sleeps on a lock of its
   own, which it holds while it waits.  The thread that puts the item (or
   makes the room) takes one waiter off the list and releases its lock:
   that wakes exactly one thread, at once, with no polling.  The lock is
   acquired with intr_flag set, so that a signal (Ctrl-C) interrupts the
   wait, as it interrupts queue.Queue.get().  Waiters are recycled by their
   queue, with their lock held again.
*/

typedef struct waiter {
    PyThread_type_lock lock;
    int woken;                  /* taken off the list by a waker */
    struct waiter *next;
} waiter;

typedef struct {
    waiter *first;
    waiter *last;
} waitlist;

static waiter *
waiter_new(void)
{
    waiter *w = PyMem_RawMalloc(sizeof(waiter));
    if (w == NULL) {
        return NULL;
    }
    w->lock = PyThread_allocate_lock();
    if (w->lock == NULL) {
        PyMem_RawFree(w);
        return NULL;
    }
    /* Freshly allocated: acquiring it cannot fail. */
    PyThread_acquire_lock(w->lock, NOWAIT_LOCK);
    w->woken = 0;
    w->next = NULL;
    return w;
}

static void
waiter_free(waiter *w)
{
    /* Not every platform can free a lock that is held. */
    PyThread_release_lock(w->lock);
    PyThread_free_lock(w->lock);
    PyMem_RawFree(w);
}

static void
waitlist_append(waitlist *list, waiter *w)
{
    w->next = NULL;
    if (list->last == NULL) {
        list->first = w;
    }
    else {
        list->last->next = w;
    }
    list->last = w;
}

static void
waitlist_remove(waitlist *list, waiter *w)
{
    waiter *prev = NULL;
    for (waiter *cur = list->first; cur != NULL; cur = cur->next) {
        if (cur == w) {
            if (prev == NULL) {
                list->first = w->next;
            }
            else {
                prev->next = w->next;
            }
            if (list->last == w) {
                list->last = prev;
            }
            w->next = NULL;
            return;
        }
        prev = cur;
    }
}

/* Wake the first waiter of list, if any. */
static void
waitlist_wake_one(waitlist *list)
{
    waiter *w = list->first;
    if (w == NULL) {
        return;
    }
    list->first = w->next;
    if (list->first == NULL) {
        list->last = NULL;
    }
    w->next = NULL;
    w->woken = 1;
    PyThread_release_lock(w->lock);
}


/* ------------------------------------------------------------------------
   Queues

   The registry links every queue alive, and guards their reference counts.
   Each queue has a mutex for its items and waiters.  The two locks are
   never held together (see module.h on why they exist).

   Freeing a queue frees its items, which may drop the last references to
   other queues, and so on down a chain of any length: the queues whose
   count drops to zero wait in a list of the registry for one loop to free
   them, without recursion.
*/

typedef struct xqueue xqueue;

/* What happens to an item when the interpreter that put it is destroyed
   (its "unbound" op).  The interpreters module's items outlive their
   interpreter (UNBOUND_KEEP); concurrent.interpreters chooses one of the
   other three, the same numbers as in its _queues module. */
#define UNBOUND_KEEP 0
#define UNBOUND_REMOVE 1        /* dropped from the queue at once */
#define UNBOUND_ERROR 2         /* get() raises ItemInterpreterDestroyed */
#define UNBOUND_REPLACE 3       /* get() returns the UNBOUND sentinel */
#define UNBOUND_MAX UNBOUND_REPLACE

/* A queued item.  data is NULL once the item is unbound: its interpreter
   was destroyed, its op is UNBOUND_ERROR or UNBOUND_REPLACE, and only
   the op is left to tell get() what to do. */
typedef struct {
    xdata *data;
    int64_t interpid;           /* the interpreter that put it */
    int unboundop;
} qitem;

/* Internal errors, turned into exceptions by queue_error() */
#define ERR_QUEUE_EMPTY (-2)
#define ERR_QUEUE_FULL (-3)
#define ERR_NO_MEMORY (-4)

/* Results of xqueue_wait() */
#define WAIT_WOKEN 0
#define WAIT_TIMEOUT 1
#define WAIT_INTR 2

/* The smallest item buffer, a power of two like all of them */
#define MIN_CAPACITY 8

struct xqueue {
    int64_t id;
    Py_ssize_t maxsize;         /* <= 0: unbounded */
    int unboundop;              /* the default op of concurrent.interpreters
                                   puts: never UNBOUND_KEEP */

    /* Guarded by the registry mutex */
    Py_ssize_t refcount;
    xqueue *prev;               /* in the registry, or in the list of */
    xqueue *next;               /* the dead ones */

    /* Guarded by mutex */
    PyThread_type_lock mutex;
    qitem *items;               /* ring buffer of capacity entries */
    Py_ssize_t capacity;
    Py_ssize_t first;           /* index of the oldest item */
    Py_ssize_t count;
    waitlist getters;           /* waiting for an item */
    waitlist putters;           /* waiting for room */
    waiter *spare;              /* recycled waiters */
};

static struct {
    /* Set up by the first import of the module, torn down at the
       finalization of the runtime.  The GIL, which all the interpreters of
       3.11 share, serializes both.
       XXX With a GIL per interpreter, this would need a runtime-wide
       once. */
    int initialized;
    PyThread_type_lock mutex;
    int64_t next_id;
    xqueue *head;
    /* Queues no longer referenced, to be freed (linked by next), and
       whether a thread is freeing them */
    xqueue *dead;
    int freeing;
} queues_runtime;

static int
queues_init_runtime(void)
{
    if (queues_runtime.initialized) {
        return 0;
    }
    queues_runtime.mutex = PyThread_allocate_lock();
    if (queues_runtime.mutex == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    queues_runtime.next_id = 1;
    queues_runtime.head = NULL;
    queues_runtime.dead = NULL;
    queues_runtime.freeing = 0;
    queues_runtime.initialized = 1;
    return 0;
}

/* Create a queue, with one reference for its first handle.  Return NULL
   if out of memory (no exception set). */
static xqueue *
xqueue_new(Py_ssize_t maxsize, int unboundop)
{
    xqueue *q = PyMem_RawCalloc(1, sizeof(xqueue));
    if (q == NULL) {
        return NULL;
    }
    q->mutex = PyThread_allocate_lock();
    if (q->mutex == NULL) {
        PyMem_RawFree(q);
        return NULL;
    }
    q->maxsize = maxsize;
    q->unboundop = unboundop;
    q->refcount = 1;

    PyThread_acquire_lock(queues_runtime.mutex, WAIT_LOCK);
    /* 2**63 ids: no need to worry about wrapping around. */
    q->id = queues_runtime.next_id++;
    q->prev = NULL;
    q->next = queues_runtime.head;
    if (q->next != NULL) {
        q->next->prev = q;
    }
    queues_runtime.head = q;
    PyThread_release_lock(queues_runtime.mutex);
    return q;
}

/* Free q and its items.  Nothing else refers to q any more. */
static void
xqueue_free(xqueue *q)
{
    waiter *w;

    assert(q->getters.first == NULL && q->putters.first == NULL);
    for (Py_ssize_t i = 0; i < q->count; i++) {
        /* This may drop the last reference to other queues: see
           xqueue_decref(). */
        xdata_free(q->items[(q->first + i) & (q->capacity - 1)].data);
    }
    PyMem_RawFree(q->items);
    while ((w = q->spare) != NULL) {
        q->spare = w->next;
        waiter_free(w);
    }
    PyThread_free_lock(q->mutex);
    PyMem_RawFree(q);
}

/* Return the queue with the given id, with a new reference, or NULL.
   The newest queues come first. */
static xqueue *
xqueue_lookup(int64_t id)
{
    xqueue *q;

    PyThread_acquire_lock(queues_runtime.mutex, WAIT_LOCK);
    for (q = queues_runtime.head; q != NULL; q = q->next) {
        if (q->id == id) {
            q->refcount++;
            break;
        }
    }
    PyThread_release_lock(queues_runtime.mutex);
    return q;
}

/* Take a reference on q, which must be alive.  Never fails; no GIL
   needed. */
static void
xqueue_incref(xqueue *q)
{
    if (!queues_runtime.initialized) {
        return;
    }
    PyThread_acquire_lock(queues_runtime.mutex, WAIT_LOCK);
    assert(q->refcount > 0);
    q->refcount++;
    PyThread_release_lock(queues_runtime.mutex);
}

/* Drop a reference on q: free q and its items when it was the last one.
   Never fails; no GIL needed.
   XXX A queue that holds an item naming the queue itself (or a cycle of
   queues that name each other) is never freed before the runtime is
   finalized: there is no cycle collector for raw data. */
static void
xqueue_decref(xqueue *q)
{
    /* After queues_fini_runtime(), q is gone already. */
    if (!queues_runtime.initialized) {
        return;
    }
    PyThread_acquire_lock(queues_runtime.mutex, WAIT_LOCK);
    assert(q->refcount > 0);
    if (--q->refcount > 0) {
        PyThread_release_lock(queues_runtime.mutex);
        return;
    }
    /* Unlink q from the registry: no one can find it any more. */
    if (q->prev != NULL) {
        q->prev->next = q->next;
    }
    else {
        queues_runtime.head = q->next;
    }
    if (q->next != NULL) {
        q->next->prev = q->prev;
    }
    q->prev = NULL;
    q->next = queues_runtime.dead;
    queues_runtime.dead = q;
    if (queues_runtime.freeing) {
        /* A call further up this thread's stack (freeing the items of a
           queue), or another thread, frees it in the loop below. */
        PyThread_release_lock(queues_runtime.mutex);
        return;
    }
    queues_runtime.freeing = 1;
    while ((q = queues_runtime.dead) != NULL) {
        queues_runtime.dead = q->next;
        /* Outside the registry mutex: freeing the items takes it. */
        PyThread_release_lock(queues_runtime.mutex);
        xqueue_free(q);
        PyThread_acquire_lock(queues_runtime.mutex, WAIT_LOCK);
    }
    queues_runtime.freeing = 0;
    PyThread_release_lock(queues_runtime.mutex);
}

void
queues_fini_runtime(void)
{
    xqueue *q, *next;

    if (!queues_runtime.initialized) {
        return;
    }
    /* From now on, xdata_free() leaves queue references alone: all the
       queues go, whatever their references. */
    queues_runtime.initialized = 0;
    for (q = queues_runtime.head; q != NULL; q = next) {
        next = q->next;
        if (q->getters.first != NULL || q->putters.first != NULL) {
            /* A daemon thread still sleeps on a waiter of q: leave it
               all alone. */
            continue;
        }
        xqueue_free(q);
    }
    queues_runtime.head = NULL;
    /* Nothing is left there unless a fork interrupted a thread freeing
       them. */
    for (q = queues_runtime.dead; q != NULL; q = next) {
        next = q->next;
        xqueue_free(q);
    }
    queues_runtime.dead = NULL;
    PyThread_free_lock(queues_runtime.mutex);
    queues_runtime.mutex = NULL;
}

/* Free the waiters of list, which no thread will ever wake up from. */
static void
waitlist_free_all(waitlist *list)
{
    waiter *w;
    while ((w = list->first) != NULL) {
        list->first = w->next;
        waiter_free(w);
    }
    list->last = NULL;
}

void
queues_after_fork_child(void)
{
    if (!queues_runtime.initialized) {
        return;
    }
    /* Only the thread that forked survived, and it did not wait on any
       queue: every waiter left belongs to a thread that is gone.  A put()
       or get() would wake one of them instead of a live thread (which
       then slept until its timeout, or for ever).  The locks are free:
       they are only held with the GIL, which the forking thread held. */
    for (xqueue *q = queues_runtime.head; q != NULL; q = q->next) {
        waitlist_free_all(&q->getters);
        waitlist_free_all(&q->putters);
    }
    /* The same goes for freeing dead queues: no thread frees them now. */
    queues_runtime.freeing = 0;
}

/* Move the items of q to a buffer of the given capacity (a power of two,
   at least q->count).  The mutex of q is held. */
static int
xqueue_resize(xqueue *q, Py_ssize_t capacity)
{
    qitem *items;

    if ((size_t)capacity > PY_SSIZE_T_MAX / sizeof(qitem)) {
        return ERR_NO_MEMORY;
    }
    items = PyMem_RawMalloc(capacity * sizeof(qitem));
    if (items == NULL) {
        return ERR_NO_MEMORY;
    }
    for (Py_ssize_t i = 0; i < q->count; i++) {
        items[i] = q->items[(q->first + i) & (q->capacity - 1)];
    }
    PyMem_RawFree(q->items);
    q->items = items;
    q->capacity = capacity;
    q->first = 0;
    return 0;
}

/* Append an item.  The mutex of q is held. */
static int
xqueue_push(xqueue *q, qitem item)
{
    if (q->count == q->capacity) {
        int err = xqueue_resize(q, q->capacity ? q->capacity * 2
                                               : MIN_CAPACITY);
        if (err < 0) {
            return err;
        }
    }
    q->items[(q->first + q->count) & (q->capacity - 1)] = item;
    q->count++;
    return 0;
}

/* Remove the oldest item.  The mutex of q is held; q is not empty. */
static qitem
xqueue_pop(xqueue *q)
{
    qitem item = q->items[q->first];

    assert(q->count > 0);
    q->first = (q->first + 1) & (q->capacity - 1);
    q->count--;
    if (q->capacity > MIN_CAPACITY && q->count <= q->capacity / 4) {
        /* Give back most of the memory of a burst; if that fails, the
           items stay where they are. */
        (void)xqueue_resize(q, q->capacity / 2);
    }
    return item;
}

/* Wait on list until woken, until the timeout expires (microseconds, -1
   for no timeout) or until a signal arrives.  Called and returns with the
   mutex of q held; releases it, and the GIL, while waiting.  Return
   WAIT_WOKEN (even if it also timed out or was interrupted: the waker
   counted on this thread), WAIT_TIMEOUT, WAIT_INTR or ERR_NO_MEMORY. */
static int
xqueue_wait(xqueue *q, waitlist *list, PY_TIMEOUT_T microseconds)
{
    waiter *w = q->spare;
    PyLockStatus r;
    int res;

    if (w != NULL) {
        q->spare = w->next;
    }
    else {
        w = waiter_new();
        if (w == NULL) {
            return ERR_NO_MEMORY;
        }
    }
    w->woken = 0;
    waitlist_append(list, w);
    PyThread_release_lock(q->mutex);

    Py_BEGIN_ALLOW_THREADS
    r = PyThread_acquire_lock_timed(w->lock, microseconds, 1);
    Py_END_ALLOW_THREADS

    /* Take the mutex after the GIL, never while waiting for the GIL. */
    PyThread_acquire_lock(q->mutex, WAIT_LOCK);
    if (w->woken) {
        if (r != PY_LOCK_ACQUIRED) {
            /* Woken after the timeout or the signal, before we got the
               mutex back: the lock was released, take it again. */
            PyThread_acquire_lock(w->lock, NOWAIT_LOCK);
        }
        res = WAIT_WOKEN;
    }
    else {
        assert(r != PY_LOCK_ACQUIRED);
        waitlist_remove(list, w);
        res = (r == PY_LOCK_INTR) ? WAIT_INTR : WAIT_TIMEOUT;
    }
    w->next = q->spare;
    q->spare = w;
    return res;
}

/* Convert the block and timeout arguments of put() and get() into
   microseconds for xqueue_wait() (0 for no wait, -1 for no timeout) and a
   deadline, like queue.Queue and _queue.SimpleQueue.  Return -1 with an
   exception set if the timeout is invalid. */
static int
queue_timeout(int block, PyObject *timeout_obj, PY_TIMEOUT_T *microseconds,
              _PyTime_t *deadline)
{
    _PyTime_t timeout;
    _PyTime_t us;

    *deadline = 0;
    if (!block) {
        *microseconds = 0;
        return 0;
    }
    if (timeout_obj == Py_None) {
        *microseconds = -1;
        return 0;
    }
    if (_PyTime_FromSecondsObject(&timeout, timeout_obj,
                                  _PyTime_ROUND_CEILING) < 0)
    {
        return -1;
    }
    if (timeout < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "'timeout' must be a non-negative number");
        return -1;
    }
    us = _PyTime_AsMicroseconds(timeout, _PyTime_ROUND_CEILING);
    if (us > PY_TIMEOUT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "timeout value is too large");
        return -1;
    }
    *microseconds = us;
    *deadline = _PyDeadline_Init(timeout);
    return 0;
}

/* After a wait on q: run the signal handlers if a signal interrupted it,
   and recompute the time left until deadline.  Called and returns with
   the mutex of q held; return -1 with an exception set (and the mutex
   released) if a handler raised. */
static int
xqueue_after_wait(xqueue *q, int waited, PY_TIMEOUT_T *microseconds,
                  _PyTime_t deadline)
{
    if (waited == WAIT_INTR) {
        /* A signal handler that raises (KeyboardInterrupt, for Ctrl-C)
           ends the wait, as it ends queue.Queue.get().  Handlers run in
           the main thread of the main interpreter; in a subinterpreter
           that the main thread runs, Py_MakePendingCalls() raises
           KeyboardInterrupt for SIGINT all the same (the handler itself
           runs once the thread is back in the main interpreter).  Else
           the wait goes on. */
        PyThread_release_lock(q->mutex);
        if (Py_MakePendingCalls() < 0) {
            return -1;
        }
        PyThread_acquire_lock(q->mutex, WAIT_LOCK);
    }
    if (*microseconds > 0) {
        _PyTime_t timeout = _PyDeadline_Get(deadline);
        *microseconds = (timeout > 0
                         ? _PyTime_AsMicroseconds(timeout,
                                                  _PyTime_ROUND_CEILING)
                         : 0);
    }
    return 0;
}

/* Put item at the end of q, waiting for room if q is full.  On success,
   the queue owns item.  Else return ERR_QUEUE_FULL, ERR_NO_MEMORY, or -1
   with an exception set (a signal handler raised), and item is still the
   caller's. */
static int
xqueue_put(xqueue *q, qitem item, PY_TIMEOUT_T microseconds,
           _PyTime_t deadline)
{
    int err;

    PyThread_acquire_lock(q->mutex, WAIT_LOCK);
    while (q->maxsize > 0 && q->count >= q->maxsize) {
        if (microseconds == 0) {
            err = ERR_QUEUE_FULL;
            goto error;
        }
        int waited = xqueue_wait(q, &q->putters, microseconds);
        if (waited < 0) {
            err = waited;
            goto error;
        }
        if (xqueue_after_wait(q, waited, &microseconds, deadline) < 0) {
            return -1;
        }
    }
    err = xqueue_push(q, item);
    if (err < 0) {
        goto error;
    }
    waitlist_wake_one(&q->getters);
    PyThread_release_lock(q->mutex);
    return 0;

error:
    PyThread_release_lock(q->mutex);
    return err;
}

/* Remove the oldest item of q, waiting for one if q is empty.  Return 0
   and the item in *pitem, else ERR_QUEUE_EMPTY, ERR_NO_MEMORY, or -1 with
   an exception set (a signal handler raised). */
static int
xqueue_get(xqueue *q, qitem *pitem, PY_TIMEOUT_T microseconds,
           _PyTime_t deadline)
{
    int err;

    PyThread_acquire_lock(q->mutex, WAIT_LOCK);
    while (q->count == 0) {
        if (microseconds == 0) {
            err = ERR_QUEUE_EMPTY;
            goto error;
        }
        int waited = xqueue_wait(q, &q->getters, microseconds);
        if (waited < 0) {
            err = waited;
            goto error;
        }
        if (xqueue_after_wait(q, waited, &microseconds, deadline) < 0) {
            return -1;
        }
    }
    *pitem = xqueue_pop(q);
    waitlist_wake_one(&q->putters);
    PyThread_release_lock(q->mutex);
    return 0;

error:
    PyThread_release_lock(q->mutex);
    return err;
}

/* How many items of one queue xqueue_unbind() frees per round */
#define UNBIND_BATCH 16

/* Apply their op to the items of q that interpreter interpid put: drop
   those to remove, free the data of those to mark unbound.  Called
   without the mutex of q.  The data is freed outside the mutex, a batch
   at a time (freeing data may take the registry mutex, see
   xqueue_decref()); as the interpreter is gone, no new item of its comes
   meanwhile, so the rounds end. */
static void
xqueue_unbind(xqueue *q, int64_t interpid)
{
    xdata *garbage[UNBIND_BATCH];
    int ngarbage;

    do {
        Py_ssize_t mask, kept = 0;

        ngarbage = 0;
        PyThread_acquire_lock(q->mutex, WAIT_LOCK);
        mask = q->capacity - 1;
        /* Keep the other items in order, closing the gaps. */
        for (Py_ssize_t i = 0; i < q->count; i++) {
            qitem item = q->items[(q->first + i) & mask];
            if (ngarbage < UNBIND_BATCH && item.interpid == interpid
                && item.data != NULL && item.unboundop != UNBOUND_KEEP)
            {
                garbage[ngarbage++] = item.data;
                item.data = NULL;
                if (item.unboundop == UNBOUND_REMOVE) {
                    continue;
                }
            }
            q->items[(q->first + kept) & mask] = item;
            kept++;
        }
        /* Each item removed makes room for one waiting put(). */
        for (Py_ssize_t i = kept; i < q->count; i++) {
            waitlist_wake_one(&q->putters);
        }
        q->count = kept;
        PyThread_release_lock(q->mutex);

        for (int i = 0; i < ngarbage; i++) {
            xdata_free(garbage[i]);
        }
    } while (ngarbage == UNBIND_BATCH);
}

/* Return a new reference to the queue after q in the registry (the first
   one if q is NULL), or NULL at the end. */
static xqueue *
xqueue_next(xqueue *q)
{
    xqueue *next;

    PyThread_acquire_lock(queues_runtime.mutex, WAIT_LOCK);
    /* q is still in the registry: the caller holds a reference. */
    next = (q == NULL) ? queues_runtime.head : q->next;
    if (next != NULL) {
        next->refcount++;
    }
    PyThread_release_lock(queues_runtime.mutex);
    return next;
}

void
queues_interp_destroyed(int64_t interpid)
{
    xqueue *q, *next;

    if (!queues_runtime.initialized) {
        return;
    }
    /* Hand over hand: each queue is kept alive while it is worked on and
       until the next one is found. */
    for (q = xqueue_next(NULL); q != NULL; q = next) {
        xqueue_unbind(q, interpid);
        next = xqueue_next(q);
        xqueue_decref(q);
    }
}


/* ------------------------------------------------------------------------
   Queue handles
*/

typedef struct {
    PyObject_HEAD
    xqueue *queue;              /* a counted reference */
    long long id;
    Py_ssize_t maxsize;
    int unboundop;              /* the queue's default */
    PyObject *weakreflist;
} queueobject;

/* The state of the module that made type, a Queue type or a subclass of
   _QueueBase (concurrent.interpreters.Queue) */
#define queue_type_state(type) \
    (interpreters_get_state(PyType_GetModuleByDef(type, \
                                                  &interpreters_moduledef)))

#define queue_state(self) queue_type_state(Py_TYPE(self))

/* Turn an internal error code into an exception; return NULL. */
static PyObject *
queue_error(queueobject *self, int err)
{
    interpreters_state *st = queue_state(self);

    switch (err) {
    case ERR_QUEUE_EMPTY:
        PyErr_SetNone(st->QueueEmpty);
        break;
    case ERR_QUEUE_FULL:
        PyErr_SetNone(st->QueueFull);
        break;
    case ERR_NO_MEMORY:
        PyErr_NoMemory();
        break;
    default:
        assert(PyErr_Occurred());
    }
    return NULL;
}

/* Raise QueueError if the queues are gone: the runtime is finalized and
   the queue of self with it. */
static int
queue_check_alive(queueobject *self)
{
    if (!queues_runtime.initialized) {
        PyErr_SetString(queue_state(self)->QueueError,
                        "the queues were finalized with the runtime");
        return -1;
    }
    return 0;
}

/* Make a handle of the given type for q, stealing a reference to q. */
static PyObject *
queue_handle_wrap(PyTypeObject *type, xqueue *q)
{
    queueobject *self = (queueobject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        xqueue_decref(q);
        return NULL;
    }
    self->queue = q;
    self->id = q->id;
    self->maxsize = q->maxsize;
    self->unboundop = q->unboundop;
    self->weakreflist = NULL;
    return (PyObject *)self;
}

static void queue_dealloc(queueobject *self);

/* Return 1 if obj is a Queue handle, from any interpreter's module. */
static int
queue_handle_check(PyObject *obj)
{
    /* Every interpreter has a Queue type of its own, but they all share
       this deallocator (and no other type has it). */
    return Py_TYPE(obj)->tp_dealloc == (destructor)queue_dealloc;
}

/* How handles cross interpreters: as a reference to their queue */

static void *
queue_xdata_share(PyObject *handle)
{
    xqueue *q = ((queueobject *)handle)->queue;
    xqueue_incref(q);
    return q;
}

static void
queue_xdata_incref(void *q)
{
    xqueue_incref(q);
}

static void
queue_xdata_decref(void *q)
{
    xqueue_decref(q);
}

static PyObject *
queue_xdata_new_object(interpreters_state *st, void *q)
{
    xqueue_incref(q);
    return queue_handle_wrap(st->QueueType, q);
}

static const xdata_kind queue_xdata_kind = {
    .share = queue_xdata_share,
    .incref = queue_xdata_incref,
    .decref = queue_xdata_decref,
    .new_object = queue_xdata_new_object,
};

/* A concurrent.interpreters.Queue arrives as the one object of that
   class that the receiving interpreter has for the queue, importing the
   module there first if needed: the class keeps them by id. */
static PyObject *
queue_concurrent_new_object(interpreters_state *st, void *q)
{
    PyObject *module, *cls, *obj;

    module = PyImport_ImportModule("concurrent.interpreters._queues");
    if (module == NULL) {
        return NULL;
    }
    cls = PyObject_GetAttrString(module, "Queue");
    Py_DECREF(module);
    if (cls == NULL) {
        return NULL;
    }
    /* Queue(id) finds the queue, which q keeps alive, and takes a
       reference of its own. */
    obj = PyObject_CallFunction(cls, "L", (long long)((xqueue *)q)->id);
    Py_DECREF(cls);
    return obj;
}

static const xdata_kind queue_concurrent_xdata_kind = {
    .share = queue_xdata_share,
    .incref = queue_xdata_incref,
    .decref = queue_xdata_decref,
    .new_object = queue_concurrent_new_object,
};

/*[clinic input]
@classmethod
_interpreters.Queue.__new__ as queue_new

    id: object

A handle for an existing cross-interpreter queue, found by its id.

Queues are made by create_queue().  Any interpreter can put objects in a
queue and get copies of them out of it, through handles of its own.  A
queue lives while any handle (in any interpreter) or any item in a queue
refers to it.  Handles for the same queue compare equal.

Raise TypeError if id is not an int, ValueError if it is negative and
QueueNotFoundError if there is no queue with that id.
[clinic start generated code]*/

static PyObject *
queue_new_impl(PyTypeObject *type, PyObject *id)
/*[clinic end generated code: output=a2f0c4e7e6419540 input=7f185b1f4a1944b7]*/
{
    interpreters_state *st = queue_type_state(type);
    long long value;
    int overflow;
    xqueue *q = NULL;

    if (!PyLong_Check(id)) {
        PyErr_Format(PyExc_TypeError, "queue id must be an int, not %.200s",
                     Py_TYPE(id)->tp_name);
        return NULL;
    }
    value = PyLong_AsLongLongAndOverflow(id, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (overflow < 0 || (overflow == 0 && value < 0)) {
        PyErr_Format(PyExc_ValueError,
                     "queue id must be a non-negative int, not %R", id);
        return NULL;
    }
    if (overflow == 0 && queues_runtime.initialized) {
        q = xqueue_lookup(value);
    }
    if (q == NULL) {
        PyErr_Format(st->QueueNotFoundError, "queue %R not found", id);
        return NULL;
    }
    return queue_handle_wrap(type, q);
}

/* A handle refers to its heap type, which refers to the module: unless
   the collector sees that reference, a handle that outlives the last
   collection of its interpreter (one the threading module holds, say)
   leaks the whole module when it goes. */
static int
queue_traverse(queueobject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static void
queue_dealloc(queueobject *self)
{
    PyTypeObject *type = Py_TYPE(self);

    PyObject_GC_UnTrack(self);
    if (self->weakreflist != NULL) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    xqueue_decref(self->queue);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyObject *
queue_repr(queueobject *self)
{
    return PyUnicode_FromFormat("interpreters.Queue(id=%lld)", self->id);
}

static Py_hash_t
queue_hash(queueobject *self)
{
    /* Equal to hash(self.id), as ids are positive. */
    Py_hash_t hash = (Py_hash_t)((size_t)self->id % _PyHASH_MODULUS);
    return hash == -1 ? -2 : hash;
}

static PyObject *
queue_richcompare(PyObject *self, PyObject *other, int op)
{
    int equal;

    if ((op != Py_EQ && op != Py_NE) || !queue_handle_check(other)) {
        Py_RETURN_NOTIMPLEMENTED;
    }
    equal = ((queueobject *)self)->id == ((queueobject *)other)->id;
    return PyBool_FromLong(op == Py_EQ ? equal : !equal);
}

/* Put a copy of obj in the queue of self, tagged with the current
   interpreter and unboundop (-1 for the queue's default).  Return 0, or
   -1 with an exception set. */
static int
queue_put_obj(queueobject *self, PyObject *obj, int block, PyObject *timeout,
              int unboundop)
{
    PY_TIMEOUT_T microseconds;
    _PyTime_t deadline;
    qitem item;
    int err;

    if (queue_check_alive(self) < 0) {
        return -1;
    }
    if (queue_timeout(block, timeout, &microseconds, &deadline) < 0) {
        return -1;
    }
    item.interpid = PyInterpreterState_GetID(PyInterpreterState_Get());
    item.unboundop = (unboundop < 0) ? self->unboundop : unboundop;
    /* Encode before taking the mutex: encoding runs Python code, and may
       fail. */
    item.data = xdata_encode(queue_state(self), obj, 0);
    if (item.data == NULL) {
        return -1;
    }
    err = xqueue_put(self->queue, item, microseconds, deadline);
    if (err < 0) {
        xdata_free(item.data);
        queue_error(self, err);
        return -1;
    }
    return 0;
}

/* Take the oldest item out of the queue of self into *item.  Return 0, or
   -1 with an exception set. */
static int
queue_get_item(queueobject *self, int block, PyObject *timeout, qitem *item)
{
    PY_TIMEOUT_T microseconds;
    _PyTime_t deadline;
    int err;

    if (queue_check_alive(self) < 0) {
        return -1;
    }
    if (queue_timeout(block, timeout, &microseconds, &deadline) < 0) {
        return -1;
    }
    err = xqueue_get(self->queue, item, microseconds, deadline);
    if (err < 0) {
        queue_error(self, err);
        return -1;
    }
    return 0;
}

/* Decode the data of item, which is bound, and free it.  Decoding runs
   Python code: called without the mutex. */
static PyObject *
queue_decode_item(queueobject *self, qitem *item)
{
    PyObject *obj = xdata_decode(queue_state(self), item->data);
    xdata_free(item->data);
    item->data = NULL;
    return obj;
}

/*[clinic input]
_interpreters.Queue.put

    obj: object
    block: bool = True
    timeout: object = None

Put a copy of obj at the end of the queue.

If the queue is full and block is true, block until there is room: at
most timeout seconds if timeout is a non-negative number, else for as
long as it takes.  Then, or at once if block is false (timeout is ignored
then), raise QueueFull if the queue is still full.

Shareable objects (see is_shareable()) are copied, others pickled: raise
NotShareableError if obj cannot be pickled.  Nothing is put on failure.
[clinic start generated code]*/

static PyObject *
_interpreters_Queue_put_impl(queueobject *self, PyObject *obj, int block,
                             PyObject *timeout)
/*[clinic end generated code: output=225ce7d3f68039fb input=610944370abc9d5c]*/
{
    /* Items of this module outlive the interpreter that put them. */
    if (queue_put_obj(self, obj, block, timeout, UNBOUND_KEEP) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/*[clinic input]
_interpreters.Queue.put_nowait

    obj: object

Put a copy of obj at the end of the queue without blocking.

Equivalent to put(obj, block=False): raise QueueFull if the queue is
full.
[clinic start generated code]*/

static PyObject *
_interpreters_Queue_put_nowait_impl(queueobject *self, PyObject *obj)
/*[clinic end generated code: output=3988eb82a80ea5e9 input=c4c8d4c50c89f12b]*/
{
    return _interpreters_Queue_put_impl(self, obj, 0, Py_None);
}

/*[clinic input]
_interpreters.Queue.get

    block: bool = True
    timeout: object = None

Remove the oldest item from the queue and return it.

If the queue is empty and block is true, block until an item is put: at
most timeout seconds if timeout is a non-negative number, else for as
long as it takes.  Then, or at once if block is false (timeout is ignored
then), raise QueueEmpty if the queue is still empty.

The item is a new object of this interpreter, equal to the one that was
put.  A pickled item is unpickled here: if that fails, the item is lost,
and the error raised.
[clinic start generated code]*/

static PyObject *
_interpreters_Queue_get_impl(queueobject *self, int block, PyObject *timeout)
/*[clinic end generated code: output=cd0c549cfb177aff input=375822867b87ecce]*/
{
    qitem item;

    if (queue_get_item(self, block, timeout, &item) < 0) {
        return NULL;
    }
    if (item.data == NULL) {
        /* Put by concurrent.interpreters, whose interpreter was destroyed
           since: this module has no UNBOUND to return for it. */
        PyErr_SetString(queue_state(self)->QueueError,
                        "the interpreter that put the item was destroyed");
        return NULL;
    }
    return queue_decode_item(self, &item);
}

/*[clinic input]
_interpreters.Queue.get_nowait

Remove the oldest item from the queue and return it without blocking.

Equivalent to get(block=False): raise QueueEmpty if the queue is empty.
[clinic start generated code]*/

static PyObject *
_interpreters_Queue_get_nowait_impl(queueobject *self)
/*[clinic end generated code: output=4c24bba7b7f5c64f input=44a177f02474513e]*/
{
    return _interpreters_Queue_get_impl(self, 0, Py_None);
}

/* Return the number of items in the queue, or -1 with an exception set. */
static Py_ssize_t
queue_count(queueobject *self)
{
    Py_ssize_t count;

    if (queue_check_alive(self) < 0) {
        return -1;
    }
    PyThread_acquire_lock(self->queue->mutex, WAIT_LOCK);
    count = self->queue->count;
    PyThread_release_lock(self->queue->mutex);
    return count;
}

/*[clinic input]
_interpreters.Queue.empty -> bool

Return True if the queue is empty, False otherwise.

Other interpreters may change that at any time.
[clinic start generated code]*/

static int
_interpreters_Queue_empty_impl(queueobject *self)
/*[clinic end generated code: output=482523632c19f04a input=d8539cf2dbcd2ee7]*/
{
    Py_ssize_t count = queue_count(self);
    return count < 0 ? -1 : count == 0;
}

/*[clinic input]
_interpreters.Queue.full -> bool

Return True if the queue is full, False otherwise.

Other interpreters may change that at any time.  An unbounded queue is
never full.
[clinic start generated code]*/

static int
_interpreters_Queue_full_impl(queueobject *self)
/*[clinic end generated code: output=aae909068cbe8357 input=dfcc22c7d0dd3f37]*/
{
    Py_ssize_t count = queue_count(self);
    if (count < 0) {
        return -1;
    }
    return self->maxsize > 0 && count >= self->maxsize;
}

/*[clinic input]
_interpreters.Queue.qsize -> Py_ssize_t

Return the number of items in the queue.

Other interpreters may change it at any time.
[clinic start generated code]*/

static Py_ssize_t
_interpreters_Queue_qsize_impl(queueobject *self)
/*[clinic end generated code: output=475046f1e3db6095 input=23203959b8a8c0fb]*/
{
    return queue_count(self);
}

/*[clinic input]
_interpreters.Queue.__reduce__

Return the state of the handle for pickle: its queue id.

copy and pickle make handles for the same queue.  An unpickled handle
only works in the same process, while the queue exists.
[clinic start generated code]*/

static PyObject *
_interpreters_Queue___reduce___impl(queueobject *self)
/*[clinic end generated code: output=c19c157b67e65743 input=b4151a8463985775]*/
{
    return Py_BuildValue("O(L)", Py_TYPE(self), self->id);
}


/* ------------------------------------------------------------------------
   _QueueBase: what concurrent.interpreters.Queue, its subclass, builds on

   The same handle, with the operations of concurrent.interpreters (3.14's
   _interpqueues module): puts tagged with an unbound op, gets that tell
   unbound items apart.  Its Queue class maps the ops to its UNBOUND
   constants, and keeps one object per queue id.
*/

/* Return 0, or -1 with ValueError set if unboundop is not one that
   concurrent.interpreters may choose (allow_default: or -1). */
static int
queue_check_unboundop(int unboundop, int allow_default)
{
    if ((unboundop == -1 && allow_default)
        || (unboundop > UNBOUND_KEEP && unboundop <= UNBOUND_MAX))
    {
        return 0;
    }
    PyErr_Format(PyExc_ValueError, "unsupported unbound op %d", unboundop);
    return -1;
}

/*[clinic input]
@classmethod
_interpreters._QueueBase._create

    maxsize: Py_ssize_t
    unboundop: int
    /

Create a queue and return a new object of this class for it.

unboundop is the default of _put() for the queue.
[clinic start generated code]*/

static PyObject *
_interpreters__QueueBase__create_impl(PyTypeObject *type, Py_ssize_t maxsize,
                                      int unboundop)
/*[clinic end generated code: output=56ab57ad5dddf0f3 input=f610d8af9f49e793]*/
{
    interpreters_state *st = queue_type_state(type);
    xqueue *q;

    if (queue_check_unboundop(unboundop, 0) < 0) {
        return NULL;
    }
    if (!queues_runtime.initialized) {
        PyErr_SetString(st->QueueError,
                        "the queues were finalized with the runtime");
        return NULL;
    }
    q = xqueue_new(maxsize, unboundop);
    if (q == NULL) {
        return PyErr_NoMemory();
    }
    return queue_handle_wrap(type, q);
}

/*[clinic input]
@classmethod
_interpreters._QueueBase._register_shareable

Make the objects of this class (exactly) cross between interpreters.

They arrive as the object that this class in the receiving interpreter
(imported from concurrent.interpreters._queues) gives for the queue id.
[clinic start generated code]*/

static PyObject *
_interpreters__QueueBase__register_shareable_impl(PyTypeObject *type)
/*[clinic end generated code: output=778b47984863734c input=0bd9c506cb131c8d]*/
{
    interpreters_state *st = queue_type_state(type);

    if (xdata_register_type(st, type, &queue_concurrent_xdata_kind) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/*[clinic input]
@staticmethod
_interpreters._QueueBase._list_ids

Return the ids of all the queues that exist, the newest first.
[clinic start generated code]*/

static PyObject *
_interpreters__QueueBase__list_ids_impl()
/*[clinic end generated code: output=6b40a2c5c9b8f2a4 input=3124f848c39324b4]*/
{
    PyObject *ids = PyList_New(0);
    xqueue *q, *next;

    if (ids == NULL || !queues_runtime.initialized) {
        return ids;
    }
    /* Hand over hand, as the list grows (which may run the collector) */
    for (q = xqueue_next(NULL); q != NULL; q = next) {
        PyObject *id = PyLong_FromLongLong(q->id);
        if (id == NULL || PyList_Append(ids, id) < 0) {
            Py_XDECREF(id);
            xqueue_decref(q);
            Py_DECREF(ids);
            return NULL;
        }
        Py_DECREF(id);
        next = xqueue_next(q);
        xqueue_decref(q);
    }
    return ids;
}

/*[clinic input]
_interpreters._QueueBase._put

    obj: object
    block: bool
    timeout: object
    unboundop: int
    /

Put a copy of obj in the queue, like Queue.put().

unboundop says what happens to the item if the current interpreter is
destroyed before the item is taken: UNBOUND_REMOVE (1) drops it, with
UNBOUND_ERROR (2) or UNBOUND (3), _get() reports it; -1 stands for the
queue's default.
[clinic start generated code]*/

static PyObject *
_interpreters__QueueBase__put_impl(queueobject *self, PyObject *obj,
                                   int block, PyObject *timeout,
                                   int unboundop)
/*[clinic end generated code: output=eed435e86225809a input=383ef0117eb74ba3]*/
{
    if (queue_check_unboundop(unboundop, 1) < 0) {
        return NULL;
    }
    if (queue_put_obj(self, obj, block, timeout, unboundop) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/*[clinic input]
_interpreters._QueueBase._get

    block: bool
    timeout: object
    /

Remove the oldest item from the queue, like Queue.get().

Return (obj, None), or (None, unboundop) if the interpreter that put
the item was destroyed since.
[clinic start generated code]*/

static PyObject *
_interpreters__QueueBase__get_impl(queueobject *self, int block,
                                   PyObject *timeout)
/*[clinic end generated code: output=a6681ac04ae014d1 input=1c5c3aa0b6a2bcad]*/
{
    qitem item;
    PyObject *obj;

    if (queue_get_item(self, block, timeout, &item) < 0) {
        return NULL;
    }
    if (item.data == NULL) {
        return Py_BuildValue("(Oi)", Py_None, item.unboundop);
    }
    obj = queue_decode_item(self, &item);
    if (obj == NULL) {
        return NULL;
    }
    return Py_BuildValue("(NO)", obj, Py_None);
}


/* ------------------------------------------------------------------------
   Module level
*/

/*[clinic input]
_interpreters.create_queue

    maxsize: Py_ssize_t = 0

Create a new cross-interpreter queue and return a handle for it.

The queue holds at most maxsize items; if maxsize <= 0 (the default),
its size is unbounded.
[clinic start generated code]*/

static PyObject *
_interpreters_create_queue_impl(PyObject *module, Py_ssize_t maxsize)
/*[clinic end generated code: output=f74e658777908681 input=b939957c6e5464a5]*/
{
    interpreters_state *st = interpreters_get_state(module);
    xqueue *q;

    if (!queues_runtime.initialized) {
        PyErr_SetString(st->QueueError,
                        "the queues were finalized with the runtime");
        return NULL;
    }
    /* Its default op only applies to puts of concurrent.interpreters:
       those of this module keep their items (see Queue.put()). */
    q = xqueue_new(maxsize, UNBOUND_REPLACE);
    if (q == NULL) {
        return PyErr_NoMemory();
    }
    return queue_handle_wrap(st->QueueType, q);
}

#include "clinic/queues.c.h"

static PyMethodDef queue_methods[] = {
    _INTERPRETERS_QUEUE_PUT_METHODDEF
    _INTERPRETERS_QUEUE_PUT_NOWAIT_METHODDEF
    _INTERPRETERS_QUEUE_GET_METHODDEF
    _INTERPRETERS_QUEUE_GET_NOWAIT_METHODDEF
    _INTERPRETERS_QUEUE_EMPTY_METHODDEF
    _INTERPRETERS_QUEUE_FULL_METHODDEF
    _INTERPRETERS_QUEUE_QSIZE_METHODDEF
    _INTERPRETERS_QUEUE___REDUCE___METHODDEF
    {NULL, NULL}
};

static PyMemberDef queue_members[] = {
    {"id", T_LONGLONG, offsetof(queueobject, id), READONLY,
     PyDoc_STR("The id of the queue (read-only).")},
    {"maxsize", T_PYSSIZET, offsetof(queueobject, maxsize), READONLY,
     PyDoc_STR("The maximum number of items, <= 0 for no limit "
               "(read-only).")},
    {"__weaklistoffset__", T_PYSSIZET,
     offsetof(queueobject, weakreflist), READONLY},
    {NULL}
};

static PyType_Slot queue_slots[] = {
    {Py_tp_new, queue_new},
    {Py_tp_dealloc, queue_dealloc},
    {Py_tp_traverse, queue_traverse},
    {Py_tp_doc, (void *)queue_new__doc__},
    {Py_tp_repr, queue_repr},
    {Py_tp_hash, queue_hash},
    {Py_tp_richcompare, queue_richcompare},
    {Py_tp_methods, queue_methods},
    {Py_tp_members, queue_members},
    {0, NULL},
};

static PyType_Spec queue_spec = {
    .name = "interpreters.Queue",
    .basicsize = sizeof(queueobject),
    .flags = (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE
              | Py_TPFLAGS_HAVE_GC),
    .slots = queue_slots,
};

static PyMethodDef queuebase_methods[] = {
    _INTERPRETERS_QUEUE_EMPTY_METHODDEF
    _INTERPRETERS_QUEUE_FULL_METHODDEF
    _INTERPRETERS_QUEUE_QSIZE_METHODDEF
    _INTERPRETERS_QUEUE___REDUCE___METHODDEF
    _INTERPRETERS__QUEUEBASE__CREATE_METHODDEF
    _INTERPRETERS__QUEUEBASE__REGISTER_SHAREABLE_METHODDEF
    _INTERPRETERS__QUEUEBASE__LIST_IDS_METHODDEF
    _INTERPRETERS__QUEUEBASE__PUT_METHODDEF
    _INTERPRETERS__QUEUEBASE__GET_METHODDEF
    {NULL, NULL}
};

static PyMemberDef queuebase_members[] = {
    {"id", T_LONGLONG, offsetof(queueobject, id), READONLY,
     PyDoc_STR("The id of the queue (read-only).")},
    {"maxsize", T_PYSSIZET, offsetof(queueobject, maxsize), READONLY,
     PyDoc_STR("The maximum number of items, <= 0 for no limit "
               "(read-only).")},
    {"_unboundop", T_INT, offsetof(queueobject, unboundop), READONLY,
     PyDoc_STR("The default op of _put() (read-only).")},
    {"__weaklistoffset__", T_PYSSIZET,
     offsetof(queueobject, weakreflist), READONLY},
    {NULL}
};

PyDoc_STRVAR(queuebase_doc,
"_QueueBase(id)\n\
--\n\
\n\
A handle for a cross-interpreter queue: the base class of\n\
concurrent.interpreters.Queue, which gives it its API.");

static PyType_Slot queuebase_slots[] = {
    {Py_tp_new, queue_new},
    {Py_tp_dealloc, queue_dealloc},
    {Py_tp_traverse, queue_traverse},
    {Py_tp_doc, (void *)queuebase_doc},
    {Py_tp_hash, queue_hash},
    {Py_tp_methods, queuebase_methods},
    {Py_tp_members, queuebase_members},
    {0, NULL},
};

static PyType_Spec queuebase_spec = {
    .name = "_interpreters._QueueBase",
    .basicsize = sizeof(queueobject),
    .flags = (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE
              | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC),
    .slots = queuebase_slots,
};

static PyMethodDef queues_functions[] = {
    _INTERPRETERS_CREATE_QUEUE_METHODDEF
    {NULL, NULL}
};

int
queues_module_exec(PyObject *module, interpreters_state *st)
{
    PyObject *queue_module = NULL, *empty = NULL, *full = NULL;
    PyObject *bases = NULL, *queuebase = NULL;
    int err, res = -1;

    if (queues_init_runtime() < 0) {
        return -1;
    }

    /* Users of queue.Queue catch queue.Empty and queue.Full. */
    queue_module = PyImport_ImportModule("queue");
    if (queue_module == NULL) {
        goto done;
    }
    empty = PyObject_GetAttrString(queue_module, "Empty");
    if (empty == NULL) {
        goto done;
    }
    full = PyObject_GetAttrString(queue_module, "Full");
    if (full == NULL) {
        goto done;
    }

    if (interpreters_add_exception(
            module, &st->QueueError, "interpreters.QueueError",
            "Raised by the operations of cross-interpreter queues.",
            st->InterpreterError) < 0)
    {
        goto done;
    }
    bases = PyTuple_Pack(2, st->QueueError, PyExc_LookupError);
    if (bases == NULL) {
        goto done;
    }
    err = interpreters_add_exception(
        module, &st->QueueNotFoundError, "interpreters.QueueNotFoundError",
        "Raised when no queue has the given id.", bases);
    Py_CLEAR(bases);
    if (err < 0) {
        goto done;
    }
    bases = PyTuple_Pack(2, st->QueueError, empty);
    if (bases == NULL) {
        goto done;
    }
    err = interpreters_add_exception(
        module, &st->QueueEmpty, "interpreters.QueueEmpty",
        "Raised by Queue.get() when the queue is empty.", bases);
    Py_CLEAR(bases);
    if (err < 0) {
        goto done;
    }
    bases = PyTuple_Pack(2, st->QueueError, full);
    if (bases == NULL) {
        goto done;
    }
    err = interpreters_add_exception(
        module, &st->QueueFull, "interpreters.QueueFull",
        "Raised by Queue.put() when the queue is full.", bases);
    Py_CLEAR(bases);
    if (err < 0) {
        goto done;
    }

    st->QueueType = (PyTypeObject *)PyType_FromModuleAndSpec(
        module, &queue_spec, NULL);
    if (st->QueueType == NULL) {
        goto done;
    }
    if (PyModule_AddType(module, st->QueueType) < 0) {
        goto done;
    }
    if (xdata_register_type(st, st->QueueType, &queue_xdata_kind) < 0) {
        goto done;
    }
    /* Only the module dict keeps it: no C code needs it. */
    queuebase = PyType_FromModuleAndSpec(module, &queuebase_spec, NULL);
    if (queuebase == NULL) {
        goto done;
    }
    if (PyModule_AddObjectRef(module, "_QueueBase", queuebase) < 0) {
        goto done;
    }
    if (PyModule_AddFunctions(module, queues_functions) < 0) {
        goto done;
    }
    res = 0;

done:
    Py_XDECREF(queue_module);
    Py_XDECREF(empty);
    Py_XDECREF(full);
    Py_XDECREF(queuebase);
    return res;
}
