/* Cross-interpreter data: objects encoded as raw bytes.
 *
 * An object crosses from one interpreter to another as an "xdata": one
 * block of memory from PyMem_RawMalloc() that holds no PyObject pointer.
 * Any interpreter can decode it into new objects of its own, also after
 * the interpreter that encoded it has been destroyed, and any thread can
 * free it, with or without a GIL.
 *
 * None, bool, int, float, str, bytes, tuples of these and objects of the
 * registered types ("shareable" objects, see xdata_is_shareable()) are
 * encoded directly.  Anything else is pickled by the encoder and
 * unpickled by the decoder.
 *
 * Registered types
 *
 * A type whose objects stand for raw data shared by the whole runtime (a
 * Queue handle stands for its queue) registers itself with
 * xdata_register_type(), giving the hooks of an xdata_kind.  Its objects,
 * also those found while pickling, are encoded as a reference to their
 * raw data, which the xdata keeps alive until it is freed; the decoder
 * makes a new object of the current interpreter for it.  crossdata.c
 * knows nothing else about these types: queues.c registers the Queue
 * type, buffers.c memoryview (a static type: its raw data is made when
 * a memoryview crosses).
 *
 * CPython 3.11 has a registry of its own (_PyCrossInterpreterData and
 * _PyCrossInterpreterData_RegisterClass()), which _xxsubinterpreters
 * uses.  This one differs because the data differs.  3.11's keeps a
 * reference to the original object, so it must be released in the
 * interpreter that made it, which must still exist; it covers one object
 * at a time, and its registry, shared by all interpreters, holds strong
 * references to the registered types and has no way to unregister one.
 * An xdata is raw memory that outlives its interpreter and is freed by
 * any thread; its registered objects may sit anywhere inside a tuple or
 * a pickle; and our Queue type is a heap type of each interpreter's copy
 * of the module.  So each copy of the module keeps its own registry, in
 * its state, of its own types (the types of another copy in the same
 * interpreter, once the module was imported again, count too), and the
 * hooks deal in raw data only.
 */

#ifndef Py_INTERPRETERS_CROSSDATA_H
#define Py_INTERPRETERS_CROSSDATA_H

#include "module.h"

typedef struct xdata xdata;

/* The hooks of a registered type: how its objects cross.  "raw" is the
   shared raw data that an object stands for; it is reference counted,
   and must stay valid, without a GIL, while references to it exist. */
typedef struct {
    /* Return a new reference to the raw data of obj, an object of the
       registered type, or NULL with an exception set (raw data made for
       the occasion may not be available).  Requires the GIL. */
    void *(*share)(PyObject *obj);
    /* Take a reference on raw.  Never fails; no GIL needed. */
    void (*incref)(void *raw);
    /* Drop a reference on raw.  Never fails; no GIL needed; may free
       other xdata. */
    void (*decref)(void *raw);
    /* Return a new object of the current interpreter for raw, with a
       reference to raw of its own, or NULL with an exception set.  st is
       the state of the module in the current interpreter. */
    PyObject *(*new_object)(interpreters_state *st, void *raw);
} xdata_kind;

/* Set up the part of st that crossdata.c uses (the registry, and the
   pickle machinery from _pickle and _io, captured now: replacing them in
   sys.modules later changes nothing).  Called once per copy of the
   module, from its exec slot, before any type registers.  Return -1 with
   an exception set on failure. */
extern int xdata_module_exec(PyObject *module, interpreters_state *st);
extern int xdata_module_traverse(interpreters_state *st, visitproc visit,
                                 void *arg);
extern void xdata_module_clear(interpreters_state *st);

/* Register type, of the module whose state is st: its exact instances
   cross with the hooks of kind, which must live as long as the process
   (a static).  Return -1 with an exception set on failure. */
extern int xdata_register_type(interpreters_state *st, PyTypeObject *type,
                               const xdata_kind *kind);

/* Flags for xdata_encode() */

/* Encode Python functions defined in __main__ (by a script, the REPL or
   a lambda there) as their code, for Interpreter.call().  The decoder
   rebuilds them with its own __main__.__dict__ as globals, with the
   original __name__, __qualname__, __defaults__ and __kwdefaults__ (which
   cross like any other object).  This applies to obj itself and to the
   functions found inside it while pickling.  A closure cannot cross:
   NotShareableError.  Other functions (builtins, functions of importable
   modules) are pickled, that is, found again by module and qualified name
   in the decoding interpreter, whether or not the flag is set. */
#define XDATA_FUNCTIONS 0x1

/* Encode the functions and classes defined in __main__ (by a script, -c,
   the REPL or code run with __name__ '__main__'), also those found while
   pickling, with what they need, for concurrent.interpreters' call().
   The decoder rebuilds them in its "<fake __main__>" module (a module of
   sys.modules, made when first needed), not in its __main__: functions
   from their code, with that module's namespace as globals, the
   defaults and kwdefaults crossing like any other object; classes from
   their name, bases, metaclass and the items of their __dict__ (methods
   as functions; classmethod, staticmethod and property objects rebuilt
   around them), with __module__ "<fake __main__>".  A class that the
   fake module already holds at the same qualified name is taken as it is
   there, so that its objects keep one class from one call to the next.
   The globals that the functions use (the names their code, and the
   code nested in it, reads, writes or deletes, that their globals hold)
   cross too, modules imported again by name and other values like any
   object, and the decoder adds to the fake module those it does not hold
   yet: what it holds is never overwritten, and stays from one decoding to
   the next.  A closure cannot cross (NotShareableError), except for the
   __class__ cell of a method, which the rebuilt class fills.
   XXX Other attributes of functions (__dict__, __annotations__) stay
   behind, and so do objects of __main__ that pickle finds by name
   (functools.lru_cache() wrappers, say). */
#define XDATA_MAIN_AS_FAKE 0x2

/* Encode the functions and classes of the "<fake __main__>" module of
   the encoder by name: the decoder finds the object at the same
   qualified name in its own __main__.  For the results of call(), so
   that an object of a class of __main__ comes back as one of that
   class. */
#define XDATA_FAKE_AS_MAIN 0x4

/* In xdata_encode() and xdata_decode(), st is the state of the module in
   the current interpreter, which the caller keeps alive, or NULL: then it
   is looked up (importing the module in the current interpreter if
   needed), and only if obj or data needs it (to pickle, or for objects
   of registered types). */

/* Encode obj.  Return a new xdata, or NULL with an exception set:
   NotShareableError (whose __cause__ says why) if obj cannot be pickled,
   MemoryError, or an exception that pickling obj raised and that is not an
   Exception (KeyboardInterrupt, ...).  Requires the GIL. */
extern xdata *xdata_encode(interpreters_state *st, PyObject *obj,
                           int flags);

/* Encode the exception exc (pickled: its type, by reference, its args and
   its __dict__; not its traceback, __cause__ or __context__).  Return NULL
   with an exception set if it cannot be pickled: callers that merely want
   to report exc elsewhere clear that error and report nothing.  Decoding
   fails, and the caller should give up too, if exc's type cannot be
   imported in the decoding interpreter.  An exception whose class is one
   of a "<fake __main__>" crosses as one of the class at the same place in
   the decoder's __main__ (see XDATA_FAKE_AS_MAIN). */
extern xdata *xdata_encode_exception(PyObject *exc);

/* Decode data into new objects of the current interpreter.  data is left
   as it was: it can be decoded again, and must still be freed.  Return a
   new reference, or NULL with an exception set (for pickled data: the
   exception unpickling raised, e.g. ModuleNotFoundError).  Requires the
   GIL. */
extern PyObject *xdata_decode(interpreters_state *st, const xdata *data);

/* Free data and drop its references to raw data.  Never fails, does not
   need a GIL or any interpreter; data may be NULL. */
extern void xdata_free(xdata *data);

/* Return 1 if obj is encoded directly (without pickle), else 0: obj is
   None, a bool, or an object of one of the exact types int, float, str,
   bytes or of a type registered in st (the state of the module in the
   current interpreter; see above), or an exact tuple of shareable
   objects.  Subclasses are not shareable, and neither is a tuple nested
   deeper than the recursion limit.  Never fails. */
extern int xdata_is_shareable(interpreters_state *st, PyObject *obj);

/* Raise st->NotShareableError with the message PyUnicode_FromFormat()
   makes of format and what follows.  The exception currently set, if
   any, becomes its __cause__.  Return NULL. */
extern PyObject *xdata_raise_not_shareable(interpreters_state *st,
                                           const char *format, ...);

#endif /* !Py_INTERPRETERS_CROSSDATA_H */
