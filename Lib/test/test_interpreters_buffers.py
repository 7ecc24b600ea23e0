# Tests for memoryviews that cross between interpreters without a copy,
# through the interpreters and concurrent.interpreters modules.
import array
import gc
import mmap
import threading
import unittest
from textwrap import dedent
from test import support
from test.support import import_helper
from test.support import interpreters_helper
from test.support import script_helper
from test.support import threading_helper

threading_helper.requires_working_threading(module=True)
_interpreters = import_helper.import_module('_interpreters')
import interpreters
from concurrent import interpreters as cinterpreters


# Called in other interpreters (found there by module and name).

def main_attr(name):
    """Return __main__.name."""
    import __main__
    return getattr(__main__, name)


def new_view(kind, size):
    """Return a memoryview of a new buffer of kind, filled with 1s."""
    if kind == 'bytearray':
        return memoryview(bytearray(b'\1' * size))
    if kind == 'array':
        import array
        return memoryview(array.array('i', [1] * size))
    if kind == 'mmap':
        import mmap
        m = mmap.mmap(-1, size)
        m.write(b'\1' * size)
        return memoryview(m)
    raise ValueError(kind)


class InterpretersAPI:
    """The interpreters module's way of doing things."""

    def create(self):
        interp = interpreters.create()
        interp.prepare_main(TIMEOUT=support.SHORT_TIMEOUT)
        return interp

    def exec(self, interp, code):
        interp.run(dedent(code))

    def close(self, interp):
        interp.destroy()

    def create_queue(self):
        return interpreters.create_queue()


class ConcurrentAPI:
    """The concurrent.interpreters module's way of doing things."""

    def create(self):
        interp = cinterpreters.create()
        interp.prepare_main(TIMEOUT=support.SHORT_TIMEOUT)
        return interp

    def exec(self, interp, code):
        interp.exec(dedent(code))

    def close(self, interp):
        interp.close()

    def create_queue(self):
        return cinterpreters.create_queue()


class BufferTests:
    """Tests that run through both modules (see the subclasses)."""

    def check_writes_both_ways(self, obj, view, first=65, second=66):
        interp = self.create()
        interp.prepare_main(view=view)
        self.exec(interp, f"""
            assert type(view) is memoryview
            assert type(view.obj).__name__ == 'SharedBuffer'
            view[0] = {first}
            """)
        self.assertEqual(memoryview(obj)[0], first)
        memoryview(obj)[1] = second
        self.exec(interp, f"assert view[1] == {second}, view[1]")
        return interp

    def test_is_shareable(self):
        self.assertTrue(interpreters.is_shareable(memoryview(b'abc')))
        self.assertTrue(cinterpreters.is_shareable(memoryview(b'abc')))

    def test_bytearray(self):
        ba = bytearray(b'abcdef')
        self.check_writes_both_ways(ba, memoryview(ba))

    def test_array(self):
        arr = array.array('i', range(10))
        interp = self.check_writes_both_ways(arr, memoryview(arr), -7, 99)
        self.exec(interp, f"""
            assert view.format == 'i', view.format
            assert view.itemsize == {arr.itemsize}
            assert view.shape == (10,)
            assert view.tolist() == [-7, 99] + list(range(2, 10))
            """)

    def test_mmap(self):
        m = mmap.mmap(-1, 4096)
        self.addCleanup(m.close)
        interp = self.check_writes_both_ways(m, memoryview(m))
        # The export keeps the mapping open until the view goes.
        with self.assertRaises(BufferError):
            m.close()
        self.exec(interp, "del view")
        m.close()

    def test_slice(self):
        ba = bytearray(range(20))
        interp = self.create()
        interp.prepare_main(view=memoryview(ba)[4:16:3])
        self.exec(interp, """
            assert view.tolist() == [4, 7, 10, 13], view.tolist()
            assert view.strides == (3,) and not view.c_contiguous
            view[1] = 200
            """)
        self.assertEqual(ba[7], 200)
        ba[10] = 201
        self.exec(interp, "assert view[2] == 201")

    def test_shape_and_format(self):
        arr = array.array('d', [0.5] * 12)
        view = memoryview(arr).cast('B').cast('d', (3, 4))
        interp = self.create()
        interp.prepare_main(view=view)
        self.exec(interp, """
            assert view.format == 'd' and view.itemsize == 8
            assert view.shape == (3, 4) and view.ndim == 2
            assert view.strides == (32, 8)
            assert view.nbytes == 96
            view[2, 3] = 1.25
            """)
        self.assertEqual(arr[11], 1.25)

    def test_bytes_stays_readonly(self):
        interp = self.create()
        interp.prepare_main(view=memoryview(b'spam'))
        self.exec(interp, """
            assert view.readonly
            assert bytes(view) == b'spam'
            try:
                view[0] = 1
            except TypeError:
                pass
            else:
                raise AssertionError('a bytes object was written to')
            """)

    def test_readonly_view_of_writable_buffer(self):
        ba = bytearray(b'spam')
        interp = self.create()
        interp.prepare_main(view=memoryview(ba).toreadonly())
        self.exec(interp, """
            assert view.readonly
            try:
                view[0] = 1
            except TypeError:
                pass
            else:
                raise AssertionError('a read-only view was written to')
            # Crossing again keeps it read-only.
            view2 = memoryview(view)
            assert view2.readonly
            """)
        ba[0] = ord('S')
        self.exec(interp, "assert bytes(view) == b'Spam'")

    def test_released_exactly_once(self):
        ba = bytearray(b'abc')
        interp = self.create()
        interp.prepare_main(view=memoryview(ba))
        interp.prepare_main(view2=memoryview(ba))
        # The exports keep the bytearray from being resized.
        with self.assertRaises(BufferError):
            ba.append(1)
        self.exec(interp, "del view")
        with self.assertRaises(BufferError):
            ba.append(1)
        self.exec(interp, "del view2")
        ba.append(1)
        self.assertEqual(ba, b'abc\1')

    def test_viewer_closed_first(self):
        ba = bytearray(b'abc')
        interp = self.create()
        interp.prepare_main(view=memoryview(ba))
        self.exec(interp, "view[0] = 1")
        self.close(interp)
        self.assertEqual(ba[0], 1)
        ba.append(2)

    def test_call_argument_and_result(self):
        ba = bytearray(b'abc')
        interp = self.create()
        interp.prepare_main(view=memoryview(ba))
        # The result is a view of the view: it shows the same memory.
        back = interp.call(main_attr, 'view')
        self.assertIs(type(back), memoryview)
        back[0] = ord('X')
        self.assertEqual(ba, b'Xbc')
        self.assertEqual(interp.call(bytes, memoryview(ba)), b'Xbc')

    def test_call_result_outlives_owner(self):
        for kind in ('bytearray', 'array', 'mmap'):
            with self.subTest(kind=kind):
                interp = self.create()
                view = interp.call(new_view, kind, 64)
                self.assertEqual(view[0], 1)
                self.close(interp)
                view[0] = 5
                self.assertEqual(view[0], 5)
                self.assertEqual(view[63], 1)
                del view
                gc.collect()

    def test_view_outlives_owner(self):
        # Two viewers still share the memory once its owner is closed.
        for kind in ('bytearray', 'array', 'mmap'):
            with self.subTest(kind=kind):
                owner = self.create()
                viewer = self.create()
                self.exec(owner, f"""
                    from test.test_interpreters_buffers import new_view
                    view = new_view({kind!r}, 16)
                    """)
                view = owner.call(main_attr, 'view')
                viewer.prepare_main(view=view)
                self.close(owner)
                view[3] = 7
                self.exec(viewer, "assert view[3] == 7; view[4] = 8")
                self.assertEqual(view[4], 8)
                del view
                gc.collect()
                self.exec(viewer, "assert view[4] == 8; del view")
                self.close(viewer)

    def test_owner_closed_with_views_in_queue(self):
        # The interpreters module's queues keep the items of a closed
        # interpreter.
        q = interpreters.create_queue()
        owner = self.create()
        owner.prepare_main(q=q)
        self.exec(owner, """
            import array
            a = array.array('b', [1, 2, 3])
            for i in range(10):
                q.put(memoryview(a))
            """)
        self.close(owner)
        views = [q.get_nowait() for _ in range(10)]
        views[0][0] = 42
        self.assertEqual([v[0] for v in views], [42] * 10)
        del views
        gc.collect()

    def test_owner_closed_with_a_view_of_its_own(self):
        # The owner's own view goes while it is being closed: the export
        # is released once the owner is gone, in the main interpreter.
        q = self.create_queue()
        owner = self.create()
        owner.prepare_main(q=q)
        self.exec(owner, """
            import array
            a = array.array('q', [7])
            q.put(memoryview(a))
            view = q.get(timeout=TIMEOUT)
            del a
            assert type(view.obj).__name__ == 'SharedBuffer'
            """)
        self.close(owner)
        gc.collect()

    def test_owner_closed_then_main_collects(self):
        # What the export keeps alive now belongs to the main interpreter:
        # collections there, before and after the release, are safe.
        owner = self.create()
        view = owner.call(new_view, 'array', 4)
        self.close(owner)
        gc.collect()
        junk = [[i] for i in range(10_000)]
        gc.collect()
        self.assertEqual(view.tolist(), [1] * 4)
        del view, junk
        gc.collect()

    def test_owner_closed_weakref_callbacks_do_not_run(self):
        # The owner's weak references to the exporting object die with
        # it: their callbacks never run in another interpreter.
        owner = self.create()
        self.exec(owner, """
            import array, weakref
            a = array.array('b', [0] * 4)
            def callback(ref):
                raise RuntimeError('called back')
            ref = weakref.ref(a, callback)
            refs = weakref.WeakValueDictionary(a=a)
            view = memoryview(a)
            del a
            """)
        view = owner.call(main_attr, 'view')
        self.close(owner)
        with support.catch_unraisable_exception() as cm:
            view[0] = 1
            del view
            gc.collect()
            self.assertIsNone(cm.unraisable)

    def test_queue_both_ways(self):
        q = self.create_queue()
        ba = bytearray(8)
        interp = self.create()
        interp.prepare_main(q=q)
        q.put(memoryview(ba))
        self.exec(interp, """
            view = q.get(timeout=TIMEOUT)
            view[0] = 1
            import array
            arr = array.array('h', [0, 0])
            q.put(memoryview(arr))
            """)
        self.assertEqual(ba[0], 1)
        view = q.get(timeout=support.SHORT_TIMEOUT)
        self.assertEqual(view.format, 'h')
        view[1] = -3
        self.exec(interp, "assert arr[1] == -3")

    def test_many_views(self):
        ba = bytearray(4)
        view = memoryview(ba)
        q = self.create_queue()
        interps = [self.create() for _ in range(3)]
        for i, interp in enumerate(interps):
            interp.prepare_main(q=q, i=i)
            for _ in range(20):
                q.put(view)
            self.exec(interp, """
                views = [q.get(timeout=TIMEOUT) for _ in range(20)]
                views[-1][i] = i + 1
                """)
        self.assertEqual(ba, bytes([1, 2, 3, 0]))
        for interp in interps[:2]:
            self.close(interp)
        self.exec(interps[2], """
            assert bytes(views[5]) == bytes([1, 2, 3, 0])
            del views
            """)
        view.release()
        ba.append(0)

    def test_view_of_view_through_interpreters(self):
        ba = bytearray(3)
        first = self.create()
        second = self.create()
        first.prepare_main(view=memoryview(ba)[1:])
        back = first.call(main_attr, 'view')
        second.prepare_main(view=back[1:])
        self.close(first)
        self.exec(second, "view[0] = 9; assert len(view) == 1")
        self.assertEqual(ba, bytes([0, 0, 9]))
        del back

    def test_released_in_a_thread(self):
        # The last view goes in another thread of a subinterpreter: the
        # main interpreter's export is released from there.
        ba = bytearray(2)
        interp = self.create()
        interp.prepare_main(view=memoryview(ba))
        self.exec(interp, f"""
            import threading
            def drop():
                global view
                view[1] = 1
                del view
            t = threading.Thread(target=drop)
            t.start()
            t.join({support.SHORT_TIMEOUT})
            assert not t.is_alive()
            """)
        self.assertEqual(ba[1], 1)
        ba.append(0)

    def test_sent_from_a_thread(self):
        q = self.create_queue()
        ba = bytearray(1)
        interp = self.create()
        interp.prepare_main(q=q)

        def put():
            q.put(memoryview(ba))
        t = threading.Thread(target=put)
        t.start()
        threading_helper.join_thread(t)
        self.exec(interp, "q.get(timeout=TIMEOUT)[0] = 3")
        self.assertEqual(ba[0], 3)
        ba.append(0)

    def test_not_shareable(self):
        interp = self.create()
        released = memoryview(b'abc')
        released.release()
        with self.assertRaises(interpreters.NotShareableError) as cm:
            interp.prepare_main(view=released)
        self.assertIsInstance(cm.exception.__cause__, ValueError)
        with self.assertRaises(cinterpreters.NotShareableError):
            interp.call(len, released)
        # Nothing was kept.
        ba = bytearray(1)
        with self.assertRaises(interpreters.NotShareableError):
            interp.prepare_main(ok=memoryview(ba), view=released)
        with self.assertRaises(interpreters.NotShareableError):
            interp.call(len, (memoryview(ba), released))
        ba.append(0)


class InterpretersBufferTests(InterpretersAPI, BufferTests,
                              interpreters_helper.TestBase):
    pass


class ConcurrentBufferTests(ConcurrentAPI, BufferTests,
                            interpreters_helper.TestBase):

    def test_unbound_views_go(self):
        # The views that a closed interpreter left in a queue go with it
        # (UNBOUND), and its export is released.
        from concurrent.interpreters import _queues
        q = cinterpreters.create_queue()
        owner = self.create()
        owner.prepare_main(q=q)
        self.exec(owner, """
            import array
            a = array.array('b', [1, 2, 3])
            for i in range(3):
                q.put(memoryview(a))
            """)
        self.close(owner)
        items = [q.get_nowait() for _ in range(3)]
        self.assertEqual(items, [_queues.UNBOUND] * 3)
        gc.collect()


class ProcessTests(unittest.TestCase):

    @support.requires_subprocess()
    def test_views_alive_at_exit(self):
        # Views of every kind, in the main interpreter, in a live
        # subinterpreter and in a queue, when the process exits.
        script_helper.assert_python_ok('-c', dedent("""
            import interpreters
            from test.test_interpreters_buffers import new_view, main_attr
            owner = interpreters.create()
            viewer = interpreters.create()
            q = interpreters.create_queue()
            views = [owner.call(new_view, kind, 8)
                     for kind in ('bytearray', 'array', 'mmap')]
            for view in views:
                viewer.prepare_main(view=view)
                q.put(view)
            owner.destroy()
            ba = bytearray(8)
            viewer.prepare_main(mine=memoryview(ba))
            q.put(memoryview(ba))
            views[1][0] = 3
            viewer.run("assert view[0] == 1")
            """))


if __name__ == '__main__':
    unittest.main()
