/* Cross-interpreter data: objects encoded as raw bytes.
 *
 * An object crosses from one interpreter to another as an "xdata": one
 * block of memory from PyMem_RawMalloc() that holds no PyObject pointer.
 * Any interpreter can decode it into new objects of its own, also after
 * the interpreter that encoded it has been destroyed, and any thread can
 * free it, with or without a GIL.
 *
 * None, bool, int, float, str, bytes, Queue handles and tuples of these
 * ("shareable" objects, see xdata_is_shareable()) are encoded directly.
 * Anything else is pickled by the encoder and unpickled by the decoder.
 * Queue handles, also those found while pickling, are encoded as
 * references to their queue: the xdata keeps the queue alive until it is
 * freed.
 */

#ifndef Py_INTERPRETERS_CROSSDATA_H
#define Py_INTERPRETERS_CROSSDATA_H

#include "module.h"

typedef struct xdata xdata;

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

/* Encode obj.  Return a new xdata, or NULL with an exception set:
   NotShareableError (whose __cause__ says why) if obj cannot be pickled,
   MemoryError, or an exception that pickling obj raised and that is not an
   Exception (KeyboardInterrupt, ...).  Requires the GIL. */
extern xdata *xdata_encode(PyObject *obj, int flags);

/* Encode the exception exc (pickled: its type, by reference, its args and
   its __dict__; not its traceback, __cause__ or __context__).  Return NULL
   with an exception set if it cannot be pickled: callers that merely want
   to report exc elsewhere clear that error and report nothing.  Decoding
   fails, and the caller should give up too, if exc's type cannot be
   imported in the decoding interpreter. */
extern xdata *xdata_encode_exception(PyObject *exc);

/* Decode data into new objects of the current interpreter.  data is left
   as it was: it can be decoded again, and must still be freed.  Return a
   new reference, or NULL with an exception set (for pickled data: the
   exception unpickling raised, e.g. ModuleNotFoundError).  Requires the
   GIL. */
extern PyObject *xdata_decode(const xdata *data);

/* Free data and drop its references to queues.  Never fails, does not
   need a GIL or any interpreter; data may be NULL. */
extern void xdata_free(xdata *data);

/* Return 1 if obj is encoded directly (without pickle), else 0: obj is
   None, a bool, or an object of one of the exact types int, float, str,
   bytes or Queue, or an exact tuple of shareable objects.  Subclasses are
   not shareable, and neither is a tuple nested deeper than the recursion
   limit.  Never fails. */
extern int xdata_is_shareable(PyObject *obj);

#endif /* !Py_INTERPRETERS_CROSSDATA_H */
