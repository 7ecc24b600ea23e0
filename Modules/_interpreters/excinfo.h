/* What the caller learns about an exception raised in another interpreter.
 *
 * The exception object cannot leave the interpreter that raised it: while
 * that interpreter is current, excinfo_capture() copies what the caller
 * needs into raw memory, and once back in the caller excinfo_raise() turns
 * the copy into a RunFailedError.
 */

#ifndef Py_INTERPRETERS_EXCINFO_H
#define Py_INTERPRETERS_EXCINFO_H

#include "module.h"
#include "crossdata.h"

/* UTF-8 text in raw memory, or static text when owned is 0. */
typedef struct {
    const char *data;
    Py_ssize_t size;
    int owned;
} excinfo_text;

typedef struct {
    excinfo_text type_name;         /* type(exc).__name__ */
    excinfo_text type_qualname;     /* type(exc).__qualname__ */
    excinfo_text type_module;       /* type(exc).__module__ */
    excinfo_text msg;               /* str(exc) */
    excinfo_text formatted;         /* the traceback, as it would print */
    xdata *exc;                     /* exc itself, or NULL; call() puts
                                       the reason of a NotShareableError
                                       here instead, as its __cause__ */
} excinfo;

#define EXCINFO_INIT {{NULL, 0, 0}, {NULL, 0, 0}, {NULL, 0, 0}, \
                      {NULL, 0, 0}, {NULL, 0, 0}, NULL}

/* Flags for excinfo_capture() */

/* Also encode the exception itself (pickled), for RunFailedError's
   __cause__. */
#define EXCINFO_WITH_EXCEPTION 0x1

/* Take the current exception and describe it in info (a SystemError if
   broken C code failed without setting one).  Never fails: what cannot be
   found out is replaced with placeholder text.  No exception is set on
   return.  An interrupt requested for the current thread state and not
   taken yet is dropped. */
extern void excinfo_capture(excinfo *info, int flags);

/* Set exctype(msg) as the current exception, where msg is "qualname:
   message" and the exception has an attribute excinfo, a
   types.SimpleNamespace with type (__name__, __qualname__, __module__),
   msg and formatted.  Its __cause__ is the original exception when info
   has one that can be rebuilt here.  Always return -1 with an exception
   set (MemoryError if the error itself cannot be built). */
extern int excinfo_raise(excinfo *info, PyObject *exctype);

/* Return the exception itself, rebuilt in the current interpreter, a new
   reference, or NULL (no exception set) if info has none or it cannot be
   rebuilt: unpickling fails if its type only exists where it was
   raised. */
extern PyObject *excinfo_cause(const excinfo *info);

/* Return "qualname: message" (or just "qualname"), a new reference, or
   NULL with an exception set. */
extern PyObject *excinfo_summary(const excinfo *info);

/* Free what info holds and reset it.  Never fails, no GIL needed. */
extern void excinfo_clear(excinfo *info);

#endif /* !Py_INTERPRETERS_EXCINFO_H */
