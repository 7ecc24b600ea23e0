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
 * head lives in its PyInterpreterState, freed by Py_EndInterpreter().
 * Untracking a survivor next to that head (its deallocation does) would
 * write into freed memory.  So finalize.c calls buffers_end_interpreter()
 * instead of Py_EndInterpreter(): it remembers the addresses of the
 * interpreter's GC list heads, marks the interpreter's exports as ending
 * (a release meanwhile, from finalizers or from other threads, waits until
 * the end), runs Py_EndInterpreter() and then, still holding the GIL,
 * walks each ring of survivors that an export's object (or its heap type)
 * belongs to, up to the dead head, whose address is only compared, never
 * read.  The ring, without its dead head, is spliced into the main
 * interpreter's oldest generation: from then on, the survivors belong to
 * the main interpreter, whose collector frees the cycles among them once
 * the export is released, there.  Py_EndInterpreter()'s last collection
 * is a full one, so every object that its finalization left alive is in
 * the oldest generation's ring.
 *
 * XXX Survivors outside that ring (objects tracked after that last
 * collection, or frozen with gc.freeze()), and GC objects reachable from
 * an exporting object that is neither GC-tracked nor of a heap type, are
 * not handed over.  No exporter of the standard library has them.
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
