/* What crossdata.c needs from queues.c: the shared queues behind Queue
 * handles, and their reference counts.
 *
 * A queue ("xqueue") is runtime-wide raw data.  It lives while anything
 * refers to it: a Queue handle (in any interpreter) or an xdata (queued
 * item, pending call() argument...) that names it.  Each such reference
 * is counted; the queue and the items it still holds are freed when the
 * count drops to zero.
 */

#ifndef Py_INTERPRETERS_QUEUES_H
#define Py_INTERPRETERS_QUEUES_H

#include "module.h"

typedef struct xqueue xqueue;

/* If obj is a Queue handle (from any interpreter's _interpreters module),
   return its queue, a borrowed reference valid while obj lives.  Else
   return NULL, without an exception. */
extern xqueue *queue_handle_xqueue(PyObject *obj);

/* Return a new Queue handle for q in the current interpreter, or NULL with
   an exception set.  The handle takes a reference on q of its own. */
extern PyObject *queue_handle_new(xqueue *q);

/* Take a reference on q, which must be alive.  Never fails; no GIL
   needed. */
extern void xqueue_incref(xqueue *q);

/* Drop a reference on q: free q and its items when it was the last one.
   Never fails; no GIL needed. */
extern void xqueue_decref(xqueue *q);

#endif /* !Py_INTERPRETERS_QUEUES_H */
