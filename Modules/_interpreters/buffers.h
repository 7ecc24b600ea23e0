/* Zero-copy memoryviews between interpreters.
 *
 * memoryview is a registered xdata type (crossdata.h): a memoryview
 * crosses as a reference to raw data, and the receiver gets a new
 * memoryview of the same memory, with the same format, shape, strides and
 * readonly flag.  Nothing is copied, and writes are seen both ways: the
 * writers synchronize themselves.
 *
 * The raw data
 *
 * An "export" stands for the memory of one exporting object (the bytes,
 * bytearray, array, mmap, ... that a memoryview shows): a Py_buffer that
 * the export got from that object, which keeps the memory where it is
 * (a bytearray cannot be resized, an mmap cannot be closed while
 * exported), and the ID of the interpreter that owns the object.  A
 * "view" (what an xdata refers to) is the layout of one memoryview of
 * that memory (buf, len, format, shape, strides, suboffsets, readonly)
 * and a reference to its export.  A receiver's memoryview shows a small
 * SharedBuffer object of its interpreter, which holds a reference to the
 * view.  When such a memoryview crosses again, the new view refers to the
 * same export: views never chain through interpreters.
 *
 * Releasing
 *
 * The export is released once, when its last view goes, with a thread
 * state of its owner (PyBuffer_Release() and the Py_DECREF() of the
 * object run code of the owner), made current on the releasing OS thread
 * for the time it takes.  A thread that holds no GIL takes it first,
 * through PyGILState_Ensure() (3.11's GIL is shared: any interpreter's
 * thread state holds it).  An export whose owner is inside
 * Py_EndInterpreter() is released right after, see below.
 *
 * The owner closed first
 *
 * Two choices were possible: copy the memory, which breaks "writes are
 * seen both ways" between the remaining viewers (their memoryviews point
 * to the original memory), or keep the exporting object alive after its
 * interpreter is gone.  We keep it alive, and hand it, with everything it
 * keeps alive, to the main interpreter.  In 3.11 objects use the
 * allocator of the process and no interpreter state once they exist,
 * except for one thing: a GC-tracked object is linked into a list whose
 * head lives in its PyInterpreterState, which Py_EndInterpreter() frees.
 * 3.11.2 copes by untracking, at the very end, every object still alive,
 * and leaking a reference to each so that no deallocator ever runs
 * (_PyGC_Fini(), gh-92036): safe, but the exporting object, its type and
 * its module would leak.
 *
 * So finalize.c calls buffers_end_interpreter() instead of
 * Py_EndInterpreter().  It marks the interpreter's exports as ending (a
 * release meanwhile, from finalizers or from other threads, waits), and
 * puts a capsule in the interpreter's dict, which
 * PyInterpreterState_Clear() clears after the modules are finalized and
 * before the last collection.  The capsule's destructor moves the objects
 * that each export's object reaches (tp_traverse, from the object and its
 * type), and the weak references to them, from the interpreter's GC lists
 * to the oldest generation of the main interpreter: the last collection
 * and _PyGC_Fini() no longer see them, and the main interpreter's
 * collector frees them once the export is released.  Weak references
 * with a callback lose it, as its code belongs to the closing interpreter
 * (without the hand-over, the object would have lived forever and the
 * callback would never have run).  After Py_EndInterpreter(), the
 * exports belong to the main interpreter, and those whose last view went
 * meanwhile are released there.
 *
 * XXX What an exporting object reaches only through an untracked object
 * (none does, in the standard library) is not handed over: _PyGC_Fini()
 * leaks it, safely.  The finalizers of handed-over objects written in
 * Python would run in the main interpreter, with their module's globals
 * cleared; no exporter of the standard library has one.
 */

#ifndef Py_INTERPRETERS_BUFFERS_H
#define Py_INTERPRETERS_BUFFERS_H

#include "module.h"

/* Create the SharedBuffer type in st (st->SharedBufferType) and register
   memoryview with crossdata.c.  Called once per copy of the module from
   its exec slot, after xdata_module_exec().  Return -1 with an exception
   set on failure. */
extern int buffers_module_exec(PyObject *module, interpreters_state *st);

/* Py_EndInterpreter(tstate), then make caller current, handing the
   interpreter's still exported objects to the main interpreter and
   releasing the exports whose last view went meanwhile (see above).
   tstate is current, and the only thread state of its interpreter. */
extern void buffers_end_interpreter(PyThreadState *tstate,
                                    PyThreadState *caller);

/* Free what all interpreters share, when the runtime finalizes. */
extern void buffers_fini_runtime(void);

#endif /* !Py_INTERPRETERS_BUFFERS_H */
