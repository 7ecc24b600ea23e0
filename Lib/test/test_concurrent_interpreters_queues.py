# Tests for the queues of concurrent.interpreters (PEP 734).
import copy
import gc
import pickle
import queue
import threading
import time
import unittest
import weakref
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
from concurrent.interpreters import _queues
from concurrent.interpreters._queues import (
    UNBOUND, UNBOUND_ERROR, UNBOUND_REMOVE,
    Queue, QueueEmpty, QueueFull, QueueError, QueueNotFoundError,
    ItemInterpreterDestroyed,
)


# An id that no queue will have during the tests.
UNKNOWN_ID = 2**62


class Unpicklable:
    def __reduce__(self):
        raise TypeError('no pickling')


class TestBase(interpreters_helper.TestBase):

    def put_from(self, q, obj=None, **kwargs):
        """Make q.put(obj, **kwargs) run in a new interpreter; return it."""
        interp = cinterpreters.create()
        interp.prepare_main(q=q, obj=obj, kwargs=kwargs)
        interp.exec('q.put(obj, **kwargs)')
        return interp

    def put_and_close(self, q, obj=None, **kwargs):
        """Put obj in q from a new interpreter, then close that one."""
        interp = self.put_from(q, obj, **kwargs)
        interp.close()


# ----------------------------------------------------------------------------
# The module

class ModuleTests(unittest.TestCase):

    def test_names(self):
        for name in _queues.__all__:
            self.assertTrue(hasattr(_queues, name), name)
        self.assertIs(cinterpreters.create_queue, _queues.create)
        self.assertIs(cinterpreters.Queue, Queue)
        self.assertIs(cinterpreters.QueueEmpty, QueueEmpty)
        self.assertIs(cinterpreters.QueueFull, QueueFull)

    def test_exceptions(self):
        self.assertTrue(issubclass(QueueEmpty, QueueError))
        self.assertTrue(issubclass(QueueEmpty, queue.Empty))
        self.assertTrue(issubclass(QueueFull, QueueError))
        self.assertTrue(issubclass(QueueFull, queue.Full))
        self.assertTrue(issubclass(QueueNotFoundError, QueueError))
        self.assertTrue(issubclass(ItemInterpreterDestroyed, QueueError))
        self.assertIs(QueueError, _interpreters.QueueError)

    def test_constants(self):
        constants = [UNBOUND, UNBOUND_ERROR, UNBOUND_REMOVE]
        self.assertEqual(len(set(map(id, constants))), 3)
        self.assertEqual(repr(UNBOUND),
                         'concurrent.interpreters._queues.UNBOUND')
        for const in constants:
            with self.subTest(const=const):
                self.assertIs(pickle.loads(pickle.dumps(const)), const)
                self.assertIs(copy.deepcopy(const), const)


# ----------------------------------------------------------------------------
# Creating queues and Queue objects

class CreateTests(TestBase):

    def test_defaults(self):
        q = _queues.create()
        self.assertIs(type(q), Queue)
        self.assertIsInstance(q.id, int)
        self.assertEqual(q.maxsize, 0)
        self.assertIs(q.unbounditems, UNBOUND)
        self.assertTrue(q.empty())
        self.assertFalse(q.full())
        self.assertEqual(q.qsize(), 0)

    def test_args(self):
        q = _queues.create(3, unbounditems=UNBOUND_ERROR)
        self.assertEqual(q.maxsize, 3)
        self.assertIs(q.unbounditems, UNBOUND_ERROR)
        q = cinterpreters.create_queue(maxsize=1,
                                       unbounditems=UNBOUND_REMOVE)
        self.assertEqual(q.maxsize, 1)
        self.assertIs(q.unbounditems, UNBOUND_REMOVE)

    def test_ids_differ(self):
        queues = [_queues.create() for _ in range(5)]
        self.assertEqual(len({q.id for q in queues}), 5)

    def test_bad_args(self):
        for bad in ['1', 1.5, None]:
            with self.subTest(maxsize=bad):
                with self.assertRaises(TypeError):
                    _queues.create(bad)
        for bad in [None, 'UNBOUND', 3, object(), []]:
            with self.subTest(unbounditems=bad):
                with self.assertRaises(NotImplementedError):
                    _queues.create(unbounditems=bad)
        with self.assertRaises(TypeError):
            _queues.create(0, UNBOUND)          # keyword-only

    def test_attributes_read_only(self):
        q = _queues.create()
        for name in ['id', 'maxsize', 'unbounditems']:
            with self.subTest(name=name):
                with self.assertRaises(AttributeError):
                    setattr(q, name, 5)


class QueueObjectTests(TestBase):

    def test_one_object_per_id(self):
        q = _queues.create()
        self.assertIs(Queue(q.id), q)
        with self.assertRaises(TypeError):
            Queue(id=q.id)                      # positional-only
        self.assertIn(q, _queues.list_all())

    def test_same_object_from_other_handles(self):
        iq = interpreters.create_queue()
        q = Queue(iq.id)
        self.assertIs(Queue(iq.id), q)
        self.assertEqual(q.id, iq.id)
        # Made by interpreters.create_queue(): UNBOUND by default.
        self.assertIs(q.unbounditems, UNBOUND)

    def test_queue_lives_while_referenced(self):
        q = _queues.create()
        qid = q.id
        ref = weakref.ref(q)
        del q
        gc.collect()
        self.assertIsNone(ref())
        with self.assertRaises(QueueNotFoundError):
            Queue(qid)

    def test_bad_id(self):
        for bad in ['1', 1.0, None]:
            with self.subTest(id=bad):
                with self.assertRaises(TypeError):
                    Queue(bad)
        with self.assertRaises(ValueError):
            Queue(-1)
        with self.assertRaises(QueueNotFoundError):
            Queue(UNKNOWN_ID)
        with self.assertRaises(QueueNotFoundError):
            Queue(2**100)
        with self.assertRaises(TypeError):
            Queue()

    def test_repr_hash(self):
        q = _queues.create()
        self.assertEqual(repr(q), f'Queue({q.id})')
        self.assertEqual(hash(q), hash(q.id))

    def test_pickle_and_copy(self):
        q = _queues.create()
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            with self.subTest(proto=proto):
                self.assertIs(pickle.loads(pickle.dumps(q, proto)), q)
        self.assertIs(copy.copy(q), q)
        self.assertIs(copy.deepcopy(q), q)

    def test_shareable(self):
        q = _queues.create()
        self.assertTrue(cinterpreters.is_shareable(q))
        self.assertTrue(interpreters.is_shareable(q))

    def test_identity_under_threads(self):
        q = _queues.create()
        got = []
        start = threading.Barrier(4, timeout=support.SHORT_TIMEOUT)

        def worker():
            start.wait()
            for _ in range(200):
                got.append(Queue(q.id))

        threads = [threading.Thread(target=worker) for _ in range(4)]
        with threading_helper.start_threads(threads):
            pass
        self.assertTrue(all(item is q for item in got))


class ListAllTests(TestBase):

    def test_list_all(self):
        before = _queues.list_all()
        self.assertTrue(all(type(q) is Queue for q in before))
        made = [_queues.create() for _ in range(3)]
        after = _queues.list_all()
        for q in made:
            self.assertTrue(any(item is q for item in after))
        self.assertEqual(len(after), len(before) + 3)

    def test_includes_interpreters_queues(self):
        iq = interpreters.create_queue()
        self.assertIn(iq.id, [q.id for q in _queues.list_all()])

    def test_gone_queues_left_out(self):
        q = _queues.create()
        qid = q.id
        del q
        gc.collect()
        self.assertNotIn(qid, [q.id for q in _queues.list_all()])


# ----------------------------------------------------------------------------
# Putting and getting

class OperationTests(TestBase):

    def test_fifo(self):
        q = _queues.create()
        items = [1, 'two', (3,), b'four', None, 5.0, [6], {'seven': 7}]
        for item in items:
            self.assertIsNone(q.put(item))
        self.assertEqual(q.qsize(), len(items))
        self.assertEqual([q.get() for _ in items], items)
        self.assertTrue(q.empty())

    def test_nowait(self):
        q = _queues.create(1)
        q.put_nowait('spam')
        self.assertTrue(q.full())
        with self.assertRaises(QueueFull) as cm:
            q.put_nowait('eggs')
        self.assertIsInstance(cm.exception, queue.Full)
        self.assertEqual(q.get_nowait(), 'spam')
        with self.assertRaises(QueueEmpty) as cm:
            q.get_nowait()
        self.assertIsInstance(cm.exception, queue.Empty)

    def test_nonblocking(self):
        q = _queues.create(1)
        with self.assertRaises(QueueEmpty):
            q.get(block=False)
        with self.assertRaises(queue.Empty):
            q.get(False, support.SHORT_TIMEOUT)    # timeout ignored
        q.put(1)
        with self.assertRaises(QueueFull):
            q.put(2, block=False)
        with self.assertRaises(queue.Full):
            q.put(2, False, support.SHORT_TIMEOUT)
        self.assertEqual(q.qsize(), 1)

    def test_not_shareable(self):
        q = _queues.create()
        with self.assertRaises(cinterpreters.NotShareableError):
            q.put(Unpicklable())
        with self.assertRaises(cinterpreters.NotShareableError):
            q.put_nowait(Unpicklable())
        self.assertTrue(q.empty())

    def test_bad_unbounditems(self):
        q = _queues.create()
        for bad in ['UNBOUND', 1, object()]:
            with self.subTest(unbounditems=bad):
                with self.assertRaises(NotImplementedError):
                    q.put(1, unbounditems=bad)
                with self.assertRaises(NotImplementedError):
                    q.put_nowait(1, unbounditems=bad)
        with self.assertRaises(TypeError):
            q.put(1, True, None, UNBOUND)       # keyword-only
        self.assertTrue(q.empty())

    def test_bad_timeout(self):
        q = _queues.create(1)
        with self.assertRaises(ValueError):
            q.get(timeout=-1)
        with self.assertRaises(TypeError):
            q.get(timeout='1')
        q.put(1)
        with self.assertRaises(ValueError):
            q.put(2, timeout=-0.5)
        with self.assertRaises(TypeError):
            q.put(2, timeout='1')
        self.assertEqual(q.qsize(), 1)

    def test_no_polling_delay_argument(self):
        # 3.14 polls every _delay seconds; these queues wait for a wake-up.
        q = _queues.create()
        with self.assertRaises(TypeError):
            q.get(_delay=0.01)
        with self.assertRaises(TypeError):
            q.put(1, _delay=0.01)


class TimeoutTests(TestBase):

    def assert_waited(self, start, timeout):
        resolution = time.get_clock_info('monotonic').resolution
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, timeout - resolution)
        self.assertLess(elapsed, support.SHORT_TIMEOUT)

    def test_get_fractional_timeout(self):
        # 3.14 truncates it with int(): it would not wait at all.
        q = _queues.create()
        start = time.monotonic()
        with self.assertRaises(QueueEmpty):
            q.get(timeout=0.2)
        self.assert_waited(start, 0.2)

    def test_put_fractional_timeout(self):
        q = _queues.create(1)
        q.put(1)
        start = time.monotonic()
        with self.assertRaises(QueueFull):
            q.put(2, timeout=0.2)
        self.assert_waited(start, 0.2)
        self.assertEqual(q.qsize(), 1)

    def test_get_woken_by_put(self):
        q = _queues.create()
        got = []
        ready = threading.Event()

        def get():
            ready.set()
            got.append(q.get(timeout=support.SHORT_TIMEOUT))

        thread = threading.Thread(target=get)
        with threading_helper.start_threads([thread]):
            self.assertTrue(ready.wait(support.SHORT_TIMEOUT))
            q.put('spam')
        self.assertEqual(got, ['spam'])

    def test_put_woken_by_get(self):
        q = _queues.create(1)
        q.put(1)
        done = []
        ready = threading.Event()

        def put():
            ready.set()
            q.put(2, timeout=support.SHORT_TIMEOUT)
            done.append(True)

        thread = threading.Thread(target=put)
        with threading_helper.start_threads([thread]):
            self.assertTrue(ready.wait(support.SHORT_TIMEOUT))
            self.assertEqual(q.get(), 1)
        self.assertEqual(done, [True])
        self.assertEqual(q.get_nowait(), 2)

    def test_get_from_other_interpreter(self):
        q = _queues.create()
        interp = cinterpreters.create()
        interp.prepare_main(q=q)
        ready = threading.Event()

        def get():
            ready.set()
            interp.exec('obj = q.get(timeout=%r)' % support.SHORT_TIMEOUT)

        thread = threading.Thread(target=get)
        with threading_helper.start_threads([thread]):
            self.assertTrue(ready.wait(support.SHORT_TIMEOUT))
            q.put('spam')
        interp.exec('assert obj == "spam", obj')


# ----------------------------------------------------------------------------
# Items whose interpreter was closed

class UnboundTests(TestBase):

    def test_default_unbound(self):
        q = _queues.create()
        self.put_and_close(q, 'spam')
        self.assertEqual(q.qsize(), 1)
        self.assertIs(q.get_nowait(), UNBOUND)
        self.assertTrue(q.empty())

    def test_default_unbound_error(self):
        q = _queues.create(unbounditems=UNBOUND_ERROR)
        self.put_and_close(q, 'spam')
        q.put('eggs')
        self.assertEqual(q.qsize(), 2)
        with self.assertRaises(ItemInterpreterDestroyed):
            q.get()
        # The item was taken all the same.
        self.assertEqual(q.get(), 'eggs')
        self.assertTrue(q.empty())

    def test_default_unbound_remove(self):
        q = _queues.create(unbounditems=UNBOUND_REMOVE)
        q.put('first')
        self.put_and_close(q, 'spam')
        q.put('last')
        self.assertEqual(q.qsize(), 2)
        self.assertEqual(q.get_nowait(), 'first')
        self.assertEqual(q.get_nowait(), 'last')
        self.assertTrue(q.empty())

    def test_per_put_override(self):
        q = _queues.create(unbounditems=UNBOUND_REMOVE)
        interp = cinterpreters.create()
        interp.prepare_main(q=q)
        interp.exec('from concurrent.interpreters import _queues\n'
                    'q.put(1, unbounditems=_queues.UNBOUND)\n'
                    'q.put(2, unbounditems=_queues.UNBOUND_ERROR)\n'
                    'q.put(3)\n'
                    'q.put_nowait(4, unbounditems=_queues.UNBOUND)\n'
                    'q.put_nowait(5, unbounditems=_queues.UNBOUND_REMOVE)\n')
        self.assertEqual(q.qsize(), 5)
        interp.close()
        self.assertEqual(q.qsize(), 3)
        self.assertIs(q.get(), UNBOUND)
        with self.assertRaises(ItemInterpreterDestroyed):
            q.get()
        self.assertIs(q.get_nowait(), UNBOUND)
        self.assertTrue(q.empty())

    def test_only_the_closed_interpreters_items(self):
        q = _queues.create(unbounditems=UNBOUND_REMOVE)
        alive = self.put_from(q, 'alive')
        q.put('main')
        self.put_and_close(q, 'gone')
        q.put('main again')
        self.assertEqual([q.get() for _ in range(3)],
                         ['alive', 'main', 'main again'])
        self.assertTrue(q.empty())
        alive.close()

    def test_bound_items_before_close(self):
        q = _queues.create(unbounditems=UNBOUND_ERROR)
        interp = self.put_from(q, 'spam')
        self.assertEqual(q.get(), 'spam')
        interp.close()
        self.assertTrue(q.empty())

    def test_many_items_removed(self):
        # More items than one round of the C code frees.
        q = _queues.create(unbounditems=UNBOUND_REMOVE)
        interp = cinterpreters.create()
        interp.prepare_main(q=q)
        interp.exec('for i in range(100): q.put(i); q.put(("x", i))')
        q.put('main')
        interp.close()
        self.assertEqual(q.qsize(), 1)
        self.assertEqual(q.get(), 'main')

    def test_many_items_unbound(self):
        q = _queues.create()
        interp = cinterpreters.create()
        interp.prepare_main(q=q)
        interp.exec('for i in range(50): q.put([i])')
        interp.close()
        self.assertEqual([q.get() for _ in range(50)], [UNBOUND] * 50)

    def test_remove_makes_room(self):
        q = _queues.create(1, unbounditems=UNBOUND_REMOVE)
        interp = self.put_from(q, 'spam')
        self.assertTrue(q.full())
        done = []
        ready = threading.Event()

        def put():
            ready.set()
            q.put('eggs', timeout=support.SHORT_TIMEOUT)
            done.append(True)

        thread = threading.Thread(target=put)
        with threading_helper.start_threads([thread]):
            self.assertTrue(ready.wait(support.SHORT_TIMEOUT))
            interp.close()
        self.assertEqual(done, [True])
        self.assertEqual(q.get_nowait(), 'eggs')

    def test_unbound_sentinel_crosses(self):
        q = _queues.create()
        q.put(UNBOUND)
        self.assertIs(q.get(), UNBOUND)

    def test_items_referring_to_queues_freed(self):
        q = _queues.create(unbounditems=UNBOUND_REMOVE)
        inner = _queues.create()
        inner_id = inner.id
        self.put_from(q, inner).close()
        del inner
        gc.collect()
        with self.assertRaises(QueueNotFoundError):
            Queue(inner_id)

    def test_interpreters_items_outlive_their_interpreter(self):
        # The rule of the interpreters module stays, on any queue.
        q = _queues.create(unbounditems=UNBOUND_REMOVE)
        for iq in [interpreters.create_queue(), interpreters.Queue(q.id)]:
            with self.subTest(iq=iq):
                interp = interpreters.create()
                interp.call(iq.put, 'spam')
                interp.destroy()
                self.assertEqual(iq.get_nowait(), 'spam')

    def test_interpreters_get_of_unbound_item(self):
        q = _queues.create()
        iq = interpreters.Queue(q.id)
        self.put_and_close(q, 'spam')
        with self.assertRaises(interpreters.QueueError):
            iq.get_nowait()
        self.assertTrue(q.empty())


    @support.requires_subprocess()
    def test_exit_with_items_of_live_interpreters(self):
        # Interpreters left alive are closed at exit, their items unbound,
        # then the queues freed; items that refer to their own queue too.
        script = dedent('''
            from concurrent import interpreters
            from concurrent.interpreters import _queues
            qs = [_queues.create(unbounditems=unbound)
                  for unbound in [_queues.UNBOUND, _queues.UNBOUND_ERROR,
                                  _queues.UNBOUND_REMOVE]]
            interp = interpreters.create()
            interp.prepare_main(qs=qs)
            interp.exec('for q in qs: q.put(q); q.put([q])')
            print('done')
        ''')
        res = script_helper.assert_python_ok('-c', script)
        self.assertEqual(res.out.strip(), b'done')


# ----------------------------------------------------------------------------
# Queue objects crossing between interpreters

class CrossingTests(TestBase):

    CHECK = ('from concurrent.interpreters import _queues\n'
             'assert type(q) is _queues.Queue, type(q)\n'
             'assert _queues.Queue(q.id) is q\n')

    def test_prepare_main(self):
        q = _queues.create(unbounditems=UNBOUND_ERROR)
        interp = cinterpreters.create()
        interp.prepare_main(q=q, same=q, qid=q.id)
        interp.exec(self.CHECK + 'assert same is q and q.id == qid\n'
                    'assert q.unbounditems is _queues.UNBOUND_ERROR\n'
                    'q.put("from sub")')
        self.assertEqual(q.get(), 'from sub')

    def test_call_argument_and_result(self):
        q = _queues.create()
        interp = cinterpreters.create()
        self.assertIs(interp.call(type, q), Queue)
        self.assertIs(interp.call(Queue, q.id), q)
        self.assertIs(interp.call(pickle.loads, pickle.dumps(q)), q)
        interp.call(q.put, 'spam')
        self.assertEqual(q.get(), 'spam')

    def test_result_made_there(self):
        interp = cinterpreters.create()
        q = interp.call(_queues.create, 2)
        self.assertIs(type(q), Queue)
        self.assertEqual(q.maxsize, 2)
        self.assertIs(Queue(q.id), q)
        q.put(1)
        self.assertEqual(q.get(), 1)

    def test_queue_items(self):
        q = _queues.create()
        other = _queues.create()
        iq = interpreters.create_queue()
        q.put(other)
        q.put((other, iq))
        self.assertIs(q.get(), other)
        got = q.get()
        self.assertIs(got[0], other)
        self.assertIs(type(got[1]), interpreters.Queue)

        interp = cinterpreters.create()
        interp.prepare_main(q=q)
        interp.exec(self.CHECK + 'q.put(_queues.create(unbounditems='
                    '_queues.UNBOUND_REMOVE))\n'
                    'q.put(q)\n')
        made = q.get()
        self.assertIs(type(made), Queue)
        self.assertIs(made.unbounditems, UNBOUND_REMOVE)
        self.assertIs(q.get(), q)

    def test_interpreters_queue_stays_interpreters_queue(self):
        iq = interpreters.create_queue()
        interp = cinterpreters.create()
        self.assertIs(interp.call(type, iq), interpreters.Queue)
        q = _queues.create()
        q.put(iq)
        self.assertIs(type(q.get()), interpreters.Queue)
        iq.put(q)
        self.assertIs(iq.get(), q)

    def test_receiver_without_the_module(self):
        # The receiving interpreter imports concurrent.interpreters itself.
        q = _queues.create()
        interp_id = _interpreters.create()
        _interpreters.set_main_attrs(interp_id, {'q': q})
        _interpreters.run_string(interp_id, self.CHECK + 'q.put(1)')
        self.assertEqual(q.get(), 1)
        _interpreters.destroy(interp_id)


if __name__ == '__main__':
    unittest.main()
