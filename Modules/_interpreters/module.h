/* What the source files of the _interpreters module share.
 *
 * _interpretersmodule.c owns the module definition and its state, and
 * runs code in interpreters; runstate.c records which ones run;
 * finalize.c finalizes them; process.c sees to them when the process
 * exits or forks; crossdata.c turns objects into raw bytes any interpreter
 * can read; excinfo.c describes exceptions raised in other interpreters;
 * queues.c implements the cross-interpreter queues, the Queue type and
 * _QueueBase, the base of concurrent.interpreters.Queue; buffers.c lets
 * memoryviews cross without copying; interrupt.c wakes up interrupted
 * threads and runs the watchdog that enforces timeouts.
 *
 * Locks.  What all interpreters share (the run state of interpreters,
 * the queues and their items) is plain C data guarded by PyThread locks.
 * In 3.11 all interpreters share one GIL, and the locks are only taken
 * with it held, so they never wait.  They exist because that data belongs
 * to no interpreter: its consistency must not rest on the GIL being
 * shared, which a GIL per interpreter (PEP 684, 3.12) ends.  (Setting the
 * data up and tearing it down still rely on the GIL: XXX notes say
 * where.)  Each lock is held for a few instructions, never across a call
 * into Python or a wait, so a thread holding the GIL may take it.
 */

#ifndef Py_INTERPRETERS_MODULE_H
#define Py_INTERPRETERS_MODULE_H

#ifndef Py_BUILD_CORE_BUILTIN
#  define Py_BUILD_CORE_MODULE 1
#endif

#include "Python.h"

/* Per-interpreter state of the module.  Every interpreter that imports
   _interpreters gets its own copy: nothing here is ever shared. */
typedef struct {
    /* Exceptions */
    PyObject *InterpreterError;
    PyObject *InterpreterNotFoundError;
    PyObject *RunFailedError;
    PyObject *RunTimeoutError;
    PyObject *NotShareableError;
    PyObject *QueueError;
    PyObject *QueueNotFoundError;
    PyObject *QueueEmpty;
    PyObject *QueueFull;

    /* Types */
    PyTypeObject *QueueType;
    PyTypeObject *SharedBufferType;

    /* What crossdata.c keeps: registered types, pickle machinery */
    struct xdata_state *xdata;

    /* Set once the module's exec slot has completed */
    int initialized;
} interpreters_state;

extern struct PyModuleDef interpreters_moduledef;

/* _interpretersmodule.c */

/* Return the interpreter with the given ID, or NULL (no exception set):
   _PyInterpreterState_FindID(). */
extern PyInterpreterState *interp_find(int64_t id);

/* Return a new array (PyMem_Free() it) with the IDs of all interpreters,
   in creation order, and set *count, or return NULL with an exception
   set: _PyInterpreterState_ListIDs(). */
extern int64_t *interp_list_ids(Py_ssize_t *count);


/* The state of the given _interpreters module object. */
extern interpreters_state *interpreters_get_state(PyObject *module);

/* The state of the _interpreters module of the current interpreter,
   importing the module there first if needed.  Return NULL with an
   exception set on failure. */
extern interpreters_state *interpreters_current_state(void);

/* Make an exception type named name (dotted: "interpreters.Name"), with
   the given doc and bases (a type, or a tuple of types), store it in *exc
   and add it to the module under its short name.  Return -1 with an
   exception set on failure. */
extern int interpreters_add_exception(PyObject *module, PyObject **exc,
                                      const char *name, const char *doc,
                                      PyObject *bases);

/* queues.c */

/* Create the Queue type and the queue exceptions in st (st->QueueType,
   st->Queue*), add them and create_queue() to the module, and register
   the Queue type with crossdata.c.  Called once per interpreter from the
   module's exec slot, after xdata_module_exec(). */
extern int queues_module_exec(PyObject *module, interpreters_state *st);

/* Free every queue still alive.  Called once, when the main interpreter
   finalizes, after every other interpreter is gone. */
extern void queues_fini_runtime(void);

/* Interpreter interpid is destroyed: the items it put in queues with an
   unbound op other than UNBOUND_KEEP (those of concurrent.interpreters)
   are removed or marked unbound.  Called with the GIL, once the
   interpreter is gone (no code of it can put items any more). */
extern void queues_interp_destroyed(int64_t interpid);

/* In the child of os.fork(), with the GIL held: forget the threads that
   waited on queues, which did not survive the fork. */
extern void queues_after_fork_child(void);

#endif /* !Py_INTERPRETERS_MODULE_H */
