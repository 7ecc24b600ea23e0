# Tests for the interpreters module (PEP 554).
import collections
import contextlib
import copy
import datetime
import decimal
import fractions
import os
import pickle
import queue
import sys
import threading
import time
import types
import unittest
import weakref
import zipfile
from textwrap import dedent, indent
from test import support
from test.support import import_helper
from test.support import interpreters_helper
from test.support import os_helper
from test.support import script_helper
from test.support import threading_helper
from test.support.interpreters_helper import run_script

threading_helper.requires_working_threading(module=True)
_interpreters = import_helper.import_module('_interpreters')
import interpreters


# An id that no interpreter and no queue will have during the tests.
UNKNOWN_ID = 2**62

EXAMPLE = os.path.join(os.path.dirname(__file__), 'interpreters_example.py')

requires_subprocess = support.requires_subprocess()
requires_sigint = unittest.skipIf(sys.platform == 'win32',
                                  'needs POSIX signal delivery')


class Str(str):
    """A str subclass: not shareable, so it crosses pickled."""


class Point:
    """A class whose instances only cross pickled."""

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __eq__(self, other):
        if not isinstance(other, Point):
            return NotImplemented
        return (self.x, self.y) == (other.x, other.y)


class BadReduce:
    """An object that fails to pickle with an unusual exception."""

    def __reduce__(self):
        raise ZeroDivisionError('no pickling')


def _make_closure():
    x = 1
    def closure():
        return x
    return closure


def run_output(interp, source):
    """Run source in interp and return what it printed to sys.stdout.

    The output goes through a pipe read once the code has finished, so it
    must fit in the pipe's buffer (at least 4 KiB).
    """
    r, w = os.pipe()
    with open(r, encoding='utf-8') as rfile:
        try:
            interp.run(dedent(f"""
                import contextlib as _contextlib
                with open({w}, 'w', encoding='utf-8', closefd=False) as _out:
                    with _contextlib.redirect_stdout(_out):
                """) + indent(dedent(source), ' ' * 8))
        finally:
            os.close(w)
        return rfile.read()


def running(interp):
    """Keep interp running code in another thread for the with block."""
    return interpreters_helper.running(interp.run)


@contextlib.contextmanager
def run_in_threads(*calls):
    """Run each (func, *args) of calls in its own thread.

    Join the threads when the with block ends and raise the first error
    one of the calls raised.
    """
    errors = []

    def target(func, *args):
        try:
            func(*args)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=target, args=call) for call in calls]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for thread in threads:
            threading_helper.join_thread(thread)
    if errors:
        raise errors[0]


class TestBase(interpreters_helper.TestBase):
    """Destroy every interpreter and drop every queue a test made."""

    def setUp(self):
        super().setUp()
        self._queues = []

    def tearDown(self):
        self._queues.clear()
        super().tearDown()

    def create_queue(self, maxsize=0):
        q = interpreters.create_queue(maxsize)
        self._queues.append(q)
        return q


# ----------------------------------------------------------------------------
# The module

class ModuleTests(unittest.TestCase):

    def test_all(self):
        expected = {
            'list_all', 'get_current', 'get_main', 'create', 'Interpreter',
            'InterpreterError', 'InterpreterNotFoundError', 'RunFailedError',
            'RunTimeoutError',
            'NotShareableError', 'is_shareable',
            'Queue', 'create_queue',
            'QueueError', 'QueueNotFoundError', 'QueueEmpty', 'QueueFull',
        }
        self.assertEqual(set(interpreters.__all__), expected)
        self.assertEqual(len(interpreters.__all__), len(expected))
        for name in expected:
            self.assertTrue(hasattr(interpreters, name), name)

    def test_reexports(self):
        for name in ('InterpreterError', 'InterpreterNotFoundError',
                     'RunFailedError', 'NotShareableError', 'is_shareable',
                     'Queue', 'create_queue', 'QueueError',
                     'QueueNotFoundError', 'QueueEmpty', 'QueueFull'):
            with self.subTest(name):
                self.assertIs(getattr(interpreters, name),
                              getattr(_interpreters, name))

    def test_exception_hierarchy(self):
        m = interpreters
        for exc, bases in [
            (m.InterpreterError, (RuntimeError,)),
            (m.InterpreterNotFoundError, (m.InterpreterError,)),
            (m.RunFailedError, (m.InterpreterError,)),
            (m.NotShareableError, (m.InterpreterError, ValueError)),
            (m.QueueError, (m.InterpreterError,)),
            (m.QueueNotFoundError, (m.QueueError, LookupError)),
            (m.QueueEmpty, (m.QueueError, queue.Empty)),
            (m.QueueFull, (m.QueueError, queue.Full)),
        ]:
            for base in bases:
                with self.subTest(exc=exc.__name__, base=base.__name__):
                    self.assertTrue(issubclass(exc, base))
        self.assertFalse(issubclass(m.QueueEmpty, m.QueueFull))
        self.assertFalse(issubclass(m.QueueFull, m.QueueEmpty))
        self.assertFalse(issubclass(m.RunFailedError, ValueError))

    def test_star_import(self):
        ns = {}
        exec('from interpreters import *', ns)
        self.assertIs(ns['list_all'], interpreters.list_all)
        self.assertIs(ns['Interpreter'], interpreters.Interpreter)
        # The built-in enumerate() is not shadowed.
        self.assertNotIn('enumerate', ns)
        self.assertNotIn('enumerate', interpreters.__all__)
        exec('from interpreters import *\n'
             'pairs = list(enumerate("ab"))', ns)
        self.assertEqual(ns['pairs'], [(0, 'a'), (1, 'b')])

    def test_import_in_subinterpreter(self):
        interp = interpreters.create()
        try:
            out = run_output(interp, """
                import interpreters, _interpreters
                print(sorted(interpreters.__all__))
                print(interpreters.Queue is _interpreters.Queue)
                """)
        finally:
            interp.destroy()
        self.assertEqual(out, f'{sorted(interpreters.__all__)}\nTrue\n')


# ----------------------------------------------------------------------------
# Module functions

class CreateTests(TestBase):

    def test_in_main(self):
        interp = interpreters.create()
        self.assertIsInstance(interp, interpreters.Interpreter)
        self.assertIn(interp, interpreters.enumerate())
        self.assertFalse(interp.is_running())
        self.assertNotEqual(interp, interpreters.get_main())

    def test_ids_differ(self):
        interps = [interpreters.create() for _ in range(5)]
        self.assertEqual(len({interp.id for interp in interps}), 5)

    def test_in_thread(self):
        created = []
        with run_in_threads((lambda: created.append(interpreters.create()),)):
            pass
        interp, = created
        self.assertIn(interp, interpreters.enumerate())
        # Another thread than the creator's can use it.
        self.assertEqual(run_output(interp, 'print(6 * 7)'), '42\n')

    def test_in_subinterpreter(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import interpreters
            inner = interpreters.create()
            inner.run('spam = 1')
            print(inner.id, inner.is_running())
            """)
        inner_id, inner_running = out.split()
        inner = interpreters.Interpreter(int(inner_id))
        self.assertEqual(inner_running, 'False')
        self.assertEqual(set(interpreters.enumerate()),
                         {interpreters.get_main(), interp, inner})
        self.assertEqual(run_output(inner, 'print(spam)'), '1\n')

    def test_after_destroying_some(self):
        before = set(interpreters.enumerate())
        first = interpreters.create()
        second = interpreters.create()
        first.destroy()
        third = interpreters.create()
        self.assertEqual(set(interpreters.enumerate()),
                         before | {second, third})


class EnumerateTests(TestBase):

    def test_main_only(self):
        self.assertEqual(interpreters.list_all(), [interpreters.get_main()])

    def test_enumerate_is_an_alias(self):
        # The module's first name for list_all() still works.
        self.assertIs(interpreters.enumerate, interpreters.list_all)
        interp = interpreters.create()
        self.assertEqual(interpreters.enumerate(),
                         [interpreters.get_main(), interp])

    def test_after_creating(self):
        first = interpreters.create()
        second = interpreters.create()
        interps = interpreters.list_all()
        self.assertEqual(len(interps), 3)
        self.assertEqual(set(interps),
                         {interpreters.get_main(), first, second})
        for interp in interps:
            self.assertIs(type(interp), interpreters.Interpreter)

    def test_after_destroying(self):
        first = interpreters.create()
        second = interpreters.create()
        first.destroy()
        self.assertEqual(set(interpreters.list_all()),
                         {interpreters.get_main(), second})

    def test_in_subinterpreter(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import interpreters
            print(sorted(i.id for i in interpreters.list_all()))
            """)
        self.assertEqual(out, f'{sorted([0, interp.id])}\n')


class GetCurrentTests(TestBase):

    def test_main(self):
        current = interpreters.get_current()
        self.assertEqual(current, interpreters.get_main())
        self.assertEqual(current.id, 0)

    def test_in_thread(self):
        found = []
        with run_in_threads((lambda: found.append(
                interpreters.get_current()),)):
            pass
        self.assertEqual(found, [interpreters.get_main()])

    def test_subinterpreter(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import interpreters
            print(interpreters.get_current().id)
            """)
        self.assertEqual(out, f'{interp.id}\n')


class GetMainTests(TestBase):

    def test_main(self):
        main = interpreters.get_main()
        self.assertIsInstance(main, interpreters.Interpreter)
        self.assertEqual(main.id, 0)

    def test_subinterpreter(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import interpreters
            print(interpreters.get_main().id)
            """)
        self.assertEqual(out, '0\n')


# ----------------------------------------------------------------------------
# Interpreter objects

class InterpreterObjectTests(TestBase):

    def test_lookup(self):
        interp = interpreters.create()
        same = interpreters.Interpreter(interp.id)
        self.assertEqual(same, interp)
        self.assertEqual(same.id, interp.id)
        self.assertEqual(interpreters.Interpreter(0), interpreters.get_main())

    def test_bad_id(self):
        for bad in ['1', 1.0, None, b'1', [0], 0j]:
            with self.subTest(bad=bad):
                with self.assertRaises(TypeError):
                    interpreters.Interpreter(bad)
        for bad in [-1, -2**70]:
            with self.subTest(bad=bad):
                with self.assertRaises(ValueError):
                    interpreters.Interpreter(bad)

    def test_unknown_id(self):
        # Ids past the int64 range cannot exist either.
        for unknown in [UNKNOWN_ID, 2**63, 2**64, 10**100]:
            with self.subTest(unknown=unknown):
                with self.assertRaises(interpreters.InterpreterNotFoundError):
                    interpreters.Interpreter(unknown)

    def test_id_readonly(self):
        interp = interpreters.create()
        with self.assertRaises(AttributeError):
            interp.id = 1
        with self.assertRaises(AttributeError):
            del interp.id
        with self.assertRaises(AttributeError):
            interp.spam = 1
        self.assertIs(type(interp.id), int)

    def test_equality_and_hash(self):
        interp = interpreters.create()
        other = interpreters.create()
        same = interpreters.Interpreter(interp.id)
        self.assertEqual(interp, same)
        self.assertEqual(hash(interp), hash(same))
        self.assertNotEqual(interp, other)
        self.assertNotEqual(interp, interp.id)
        self.assertEqual(len({interp, same, other}), 2)

    def test_repr(self):
        interp = interpreters.create()
        self.assertEqual(repr(interp),
                         f'interpreters.Interpreter(id={interp.id})')
        self.assertEqual(repr(interpreters.get_main()),
                         'interpreters.Interpreter(id=0)')

    def test_pickle_and_copy(self):
        interp = interpreters.create()
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            with self.subTest(proto=proto):
                clone = pickle.loads(pickle.dumps(interp, proto))
                self.assertIs(type(clone), interpreters.Interpreter)
                self.assertEqual(clone, interp)
        self.assertEqual(copy.copy(interp), interp)
        self.assertEqual(copy.deepcopy(interp), interp)

    def test_not_shareable_but_crosses_pickled(self):
        interp = interpreters.create()
        self.assertFalse(interpreters.is_shareable(interp))
        q = self.create_queue()
        q.put(interp)
        self.assertEqual(q.get(), interp)

    def test_destroyed_handle(self):
        interp = interpreters.create()
        interp_id = interp.id
        interp.destroy()
        self.assertNotIn(interp, interpreters.enumerate())
        self.assertEqual(interp.id, interp_id)
        notfound = interpreters.InterpreterNotFoundError
        for name, args in [('is_running', ()),
                           ('destroy', ()),
                           ('run', ('pass',)),
                           ('call', (len, ())),
                           ('prepare_main', ({'spam': 1},)),
                           ('prepare_main', ())]:
            with self.subTest(name):
                with self.assertRaises(notfound):
                    getattr(interp, name)(*args)
        with self.assertRaises(notfound):
            interpreters.Interpreter(interp_id)


class IsRunningTests(TestBase):

    def test_idle(self):
        interp = interpreters.create()
        self.assertFalse(interp.is_running())
        interp.run('spam = 1')
        self.assertFalse(interp.is_running())

    def test_main_and_current(self):
        self.assertTrue(interpreters.get_main().is_running())
        self.assertTrue(interpreters.get_current().is_running())
        interp = interpreters.create()
        out = run_output(interp, """
            import interpreters
            print(interpreters.get_current().is_running())
            print(interpreters.get_main().is_running())
            """)
        self.assertEqual(out, 'True\nTrue\n')

    def test_while_running_in_another_thread(self):
        interp = interpreters.create()
        other = interpreters.create()
        with running(interp):
            self.assertTrue(interp.is_running())
            self.assertFalse(other.is_running())
            # From a third thread too.
            seen = []
            with run_in_threads((lambda: seen.append(interp.is_running()),)):
                pass
            self.assertEqual(seen, [True])
            # And from another interpreter.
            out = run_output(other, f"""
                import interpreters
                print(interpreters.Interpreter({interp.id}).is_running())
                """)
            self.assertEqual(out, 'True\n')
        self.assertFalse(interp.is_running())

    def test_after_failed_run(self):
        interp = interpreters.create()
        with self.assertRaises(interpreters.RunFailedError):
            interp.run('raise Exception')
        self.assertFalse(interp.is_running())

    def test_with_threads_started_in_subinterpreter(self):
        # 3.11's _xxsubinterpreters.is_running() fails with "interpreter
        # has more than one thread" here.
        interp = interpreters.create()
        r, w = os.pipe()
        try:
            interp.run(dedent(f"""
                import os, threading
                thread = threading.Thread(target=os.read, args=({r}, 1))
                thread.start()
                """))
            self.assertFalse(interp.is_running())
            seen = []
            with run_in_threads((lambda: seen.append(interp.is_running()),)):
                pass
            self.assertEqual(seen, [False])
            with running(interp):
                self.assertTrue(interp.is_running())
            # Its threads do not keep it from running code.
            self.assertEqual(run_output(interp, 'print(thread.is_alive())'),
                             'True\n')
        finally:
            os.write(w, b'1')
            interp.run('thread.join()')
            os.close(r)
            os.close(w)
        self.assertFalse(interp.is_running())


class DestroyTests(TestBase):

    def test_basic(self):
        interp = interpreters.create()
        self.assertIsNone(interp.destroy())
        self.assertNotIn(interp, interpreters.enumerate())

    def test_twice(self):
        interp = interpreters.create()
        interp.destroy()
        with self.assertRaises(interpreters.InterpreterNotFoundError):
            interp.destroy()

    def test_after_running_code(self):
        interp = interpreters.create()
        interp.run('import json, threading; data = json.dumps([1, 2])')
        interp.destroy()
        self.assertNotIn(interp, interpreters.enumerate())

    def test_main(self):
        main = interpreters.get_main()
        with self.assertRaises(interpreters.InterpreterError) as cm:
            main.destroy()
        self.assertNotIsInstance(cm.exception,
                                 interpreters.InterpreterNotFoundError)
        self.assertIn(main, interpreters.enumerate())

    def check_fails_in_subinterpreter(self, source):
        interp = interpreters.create()
        with self.assertRaises(interpreters.RunFailedError) as cm:
            interp.run(source)
        self.assertEqual(cm.exception.excinfo.type.__name__,
                         'InterpreterError')
        self.assertIn(interp, interpreters.enumerate())
        self.assertEqual(run_output(interp, 'print("alive")'), 'alive\n')

    def test_current(self):
        self.check_fails_in_subinterpreter(dedent("""
            import interpreters
            interpreters.get_current().destroy()
            """))

    def test_main_from_subinterpreter(self):
        self.check_fails_in_subinterpreter(dedent("""
            import interpreters
            interpreters.get_main().destroy()
            """))

    def test_running(self):
        interp = interpreters.create()
        with running(interp):
            with self.assertRaises(interpreters.InterpreterError) as cm:
                interp.destroy()
            self.assertNotIsInstance(cm.exception,
                                     interpreters.InterpreterNotFoundError)
            self.assertTrue(interp.is_running())
        interp.destroy()
        self.assertNotIn(interp, interpreters.enumerate())

    def test_from_another_thread(self):
        interp = interpreters.create()
        with run_in_threads((interp.destroy,)):
            pass
        self.assertNotIn(interp, interpreters.enumerate())

    def test_from_subinterpreter(self):
        interp = interpreters.create()
        victim = interpreters.create()
        victim.run('spam = 1')
        out = run_output(interp, f"""
            import interpreters
            interpreters.Interpreter({victim.id}).destroy()
            print({victim.id} in [i.id for i in interpreters.enumerate()])
            """)
        self.assertEqual(out, 'False\n')
        self.assertNotIn(victim, interpreters.enumerate())

    def test_created_in_subinterpreter(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import interpreters
            print(interpreters.create().id)
            """)
        inner = interpreters.Interpreter(int(out))
        inner.destroy()
        self.assertEqual(set(interpreters.enumerate()),
                         {interpreters.get_main(), interp})

    def test_waits_for_non_daemon_threads(self):
        interp = interpreters.create()
        release_r, release_w = os.pipe()
        done_r, done_w = os.pipe()
        self.addCleanup(os.close, done_r)
        self.addCleanup(os.close, done_w)
        self.addCleanup(os.close, release_r)
        self.addCleanup(os.close, release_w)
        # The thread is still blocked when destroy() starts: it is only
        # released by an exit hook that the threading module calls as
        # the interpreter shuts down, right before it joins its threads.
        interp.run(dedent(f"""
            import os, threading
            def work():
                os.read({release_r}, 1)
                os.write({done_w}, b'done')
            threading.Thread(target=work).start()
            threading._register_atexit(os.write, {release_w}, b'1')
            """))
        interp.destroy()
        os.set_blocking(done_r, False)
        self.assertEqual(os.read(done_r, 10), b'done')
        self.assertNotIn(interp, interpreters.enumerate())


    @requires_subprocess
    def test_finalizer_starts_a_thread(self):
        # Clearing the thread state that imported threading frees the
        # value of a threading.local, whose __del__ starts a thread, or
        # registers an atexit hook that does: destroy() runs the hook and
        # waits for the thread, and so does the exit.
        # (Py_EndInterpreter() used to abort with "not the last thread".)
        for start in ['start()', 'atexit.register(start)']:
            setup = dedent(f"""
                import interpreters
                interp = interpreters.create()
                interp.run('''if True:
                    import atexit, threading, time
                    def work():
                        # Still running when destroy() is done clearing.
                        time.sleep(0.1)
                        print('thread ran')
                    def start():
                        threading.Thread(target=work).start()
                    class StartsThread:
                        def __del__(self):
                            {start}
                    local = threading.local()
                    local.value = StartsThread()
                    ''')
                """)
            for ending in ['interp.destroy()\n'
                           'print(interp in interpreters.enumerate())\n',
                           'print("exit")\n']:
                with self.subTest(start=start, ending=ending):
                    rc, out, err = run_script(self, setup + ending)
                    self.assertNotIn('Fatal Python error', err)
                    self.assertEqual(rc, 0,
                                     f'stdout={out!r}, stderr={err!r}')
                    self.assertIn('thread ran\n', out)
                    self.assertEqual(err, '')

    @requires_subprocess
    def test_finalizer_starts_a_daemon_thread(self):
        # A daemon thread that a finalizer starts once the interpreter is
        # shut down is only found then: destroy() refuses and leaves the
        # interpreter shut down but usable, and a later destroy() succeeds
        # once the thread is gone.
        rc, out, err = run_script(self, dedent("""
            import os, interpreters
            interp = interpreters.create()
            release_r, release_w = os.pipe()
            started_r, started_w = os.pipe()
            interp.run(f'''if True:
                import os, threading
                def work():
                    os.write({started_w}, b'1')
                    os.read({release_r}, 1)
                class StartsThread:
                    def __del__(self):
                        global daemon
                        daemon = threading.Thread(target=work, daemon=True)
                        daemon.start()
                local = threading.local()
                local.value = StartsThread()
                ''')
            try:
                interp.destroy()
            except interpreters.InterpreterError as exc:
                print('refused:', exc, flush=True)
            os.read(started_r, 1)
            print(interp in interpreters.enumerate(), interp.is_running(),
                  flush=True)
            interp.run('print("run", daemon.is_alive(), flush=True)')
            print('call', interp.call(divmod, 7, 2), flush=True)
            interp.prepare_main(spam=1)
            interp.run('print("spam", spam, flush=True)')
            try:
                interp.destroy()
            except interpreters.InterpreterError:
                print('refused again', flush=True)
            os.write(release_w, b'1')
            interp.run('daemon.join()')
            interp.destroy()
            print(interp in interpreters.enumerate())
            """))
        self.assertNotIn('Fatal Python error', err)
        self.assertEqual(rc, 0, f'stdout={out!r}, stderr={err!r}')
        self.assertEqual(out.splitlines(), [
            'refused: interpreter 1 still has threads running after it '
            'was shut down',
            'True False',
            'run True',
            'call (3, 1)',
            'spam 1',
            'refused again',
            'False',
        ])

    @requires_subprocess
    def test_code_run_on_its_thread_states_by_another_module(self):
        # _xxsubinterpreters.run_string() runs code on the head thread
        # state of an interpreter that has only one, which this module
        # does not mark running: destroy() refuses while that code runs
        # (it used to free the interpreter under it: SIGSEGV).
        import_helper.import_module('_xxsubinterpreters')
        rc, out, err = run_script(self, dedent("""
            import os, threading, interpreters
            import _xxsubinterpreters as xx
            interp = interpreters.create()
            r, w = os.pipe()
            started_r, started_w = os.pipe()
            source = (f'import os; os.write({started_w}, b"1"); '
                      f'os.read({r}, 1)')
            thread = threading.Thread(target=xx.run_string,
                                      args=(interp.id, source))
            thread.start()
            os.read(started_r, 1)
            try:
                interp.destroy()
            except interpreters.InterpreterError as exc:
                print(exc)
            os.write(w, b'1')
            thread.join()
            interp.destroy()
            print(interp in interpreters.enumerate())
            """))
        self.assertNotIn('Fatal Python error', err)
        self.assertEqual(rc, 0, f'stdout={out!r}, stderr={err!r}')
        self.assertEqual(out, 'interpreter 1 is running\nFalse\n')
        self.assertEqual(err, '')

    @requires_subprocess
    def test_from_its_own_thread_through_another_interpreter(self):
        # A thread that interpreter a started enters interpreter b, whose
        # code then uses a: refused.  (destroy() used to deadlock, waiting
        # for the calling thread; run() made a second thread state of a
        # for the thread: a fatal error in a debug build.)
        rc, out, err = run_script(self, dedent("""
            import interpreters
            from test import support
            a = interpreters.create()
            b = interpreters.create()
            done = interpreters.create_queue()
            INNER = '''if True:
                import interpreters
                a = interpreters.Interpreter(a_id)
                for name, args in [('run', ('pass',)),
                                   ('call', (len, ())),
                                   ('prepare_main', ({'x': 1},)),
                                   ('destroy', ())]:
                    try:
                        getattr(a, name)(*args)
                    except interpreters.InterpreterError as exc:
                        print(name, exc, flush=True)
                    else:
                        print(name, 'not refused', flush=True)
                '''
            a.prepare_main(b_id=b.id, a_id=a.id, done=done, inner=INNER)
            a.run('''if True:
                import threading, interpreters
                def work():
                    b = interpreters.Interpreter(b_id)
                    b.prepare_main(a_id=a_id)
                    b.run(inner)
                    done.put(None)
                thread = threading.Thread(target=work)
                thread.start()
                ''')
            done.get(timeout=support.SHORT_TIMEOUT)
            a.run('thread.join()')
            a.destroy()
            b.destroy()
            print(interpreters.enumerate())
            """))
        self.assertNotIn('Fatal Python error', err)
        self.assertEqual(rc, 0, f'stdout={out!r}, stderr={err!r}')
        self.assertEqual(out.splitlines(), [
            'run interpreter 1 is already running in this thread',
            'call interpreter 1 is already running in this thread',
            'prepare_main interpreter 1 is already running in this thread',
            'destroy cannot destroy interpreter 1 from a thread that runs '
            'in it',
            '[interpreters.Interpreter(id=0)]',
        ])


# ----------------------------------------------------------------------------
# Interpreter.run()

class RunTests(TestBase):

    def test_print(self):
        interp = interpreters.create()
        self.assertEqual(run_output(interp, 'print("it worked!")'),
                         'it worked!\n')

    def test_returns_none(self):
        interp = interpreters.create()
        self.assertIsNone(interp.run('1 + 1'))

    def test_runs_in_main_module(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import sys
            print(__name__, sys.modules['__main__'].__dict__ is globals())
            """)
        self.assertEqual(out, '__main__ True\n')

    def test_names_persist(self):
        interp = interpreters.create()
        interp.run('spam = 42\ndef eggs(): return spam + 1')
        interp.run('ham = eggs()')
        with self.assertRaises(interpreters.RunFailedError):
            interp.run('spam = 0; raise Exception')
        self.assertEqual(run_output(interp, 'print(spam, ham)'), '0 43\n')

    def test_each_interpreter_has_its_own_main(self):
        first = interpreters.create()
        second = interpreters.create()
        first.run('spam = 1')
        self.assertEqual(run_output(second, "print('spam' in globals())"),
                         'False\n')

    def test_in_current_os_thread(self):
        interp = interpreters.create()
        source = 'import threading; print(threading.get_native_id())'
        self.assertEqual(run_output(interp, source),
                         f'{threading.get_native_id()}\n')
        seen = []

        def run():
            seen.append((threading.get_native_id(),
                         run_output(interp, source)))
        with run_in_threads((run,)):
            pass
        (native_id, out), = seen
        self.assertEqual(out, f'{native_id}\n')

    def test_thread_state_not_reused_by_another_thread(self):
        # A run leaves its thread state for the next run from the same OS
        # thread.  A new thread may get the thread ID of one that exited:
        # it must still get a thread state of its own.
        ctypes = import_helper.import_module('ctypes')
        api = ctypes.PyDLL(None)
        for name, restype, argtypes in [
                ('PyInterpreterState_Head', ctypes.c_void_p, []),
                ('PyInterpreterState_Next', ctypes.c_void_p,
                 [ctypes.c_void_p]),
                ('PyInterpreterState_GetID', ctypes.c_int64,
                 [ctypes.c_void_p]),
                ('PyInterpreterState_ThreadHead', ctypes.c_void_p,
                 [ctypes.c_void_p]),
                ('PyThreadState_Next', ctypes.c_void_p, [ctypes.c_void_p]),
                ('PyThreadState_GetID', ctypes.c_uint64, [ctypes.c_void_p])]:
            func = getattr(api, name)
            func.restype = restype
            func.argtypes = argtypes

        def thread_state_ids(interp_id):
            interp = api.PyInterpreterState_Head()
            while api.PyInterpreterState_GetID(interp) != interp_id:
                interp = api.PyInterpreterState_Next(interp)
            ids = set()
            tstate = api.PyInterpreterState_ThreadHead(interp)
            while tstate:
                ids.add(api.PyThreadState_GetID(tstate))
                tstate = api.PyThreadState_Next(tstate)
            return ids

        interp = interpreters.create()
        last_ident = last_ids = None
        for _ in range(10):
            thread = threading.Thread(target=interp.run, args=('pass',))
            thread.start()
            thread.join()
            ids = thread_state_ids(interp.id)
            if thread.ident == last_ident:
                self.assertNotEqual(ids, last_ids)
                break
            last_ident, last_ids = thread.ident, ids
        else:
            self.skipTest('thread IDs are not reused')

    def test_bad_code_type(self):
        interp = interpreters.create()
        code = compile('spam = 1', '<test>', 'exec')
        for bad in [b'spam = 1', code, None, 1, ['spam = 1'], Str]:
            with self.subTest(bad=bad):
                with self.assertRaises(TypeError):
                    interp.run(bad)
        self.assertEqual(run_output(interp, "print('spam' in globals())"),
                         'False\n')

    def test_str_subclass(self):
        interp = interpreters.create()
        interp.run(Str('spam = 1'))
        self.assertEqual(run_output(interp, 'print(spam)'), '1\n')

    def test_null_byte(self):
        # Neither part of the code may run: no silent truncation.
        interp = interpreters.create()
        with self.assertRaises((ValueError, interpreters.RunFailedError)):
            interp.run('spam = 1\0raise Exception')
        self.assertEqual(run_output(interp, "print('spam' in globals())"),
                         'False\n')

    def test_lone_surrogate(self):
        interp = interpreters.create()
        with self.assertRaises((UnicodeError, interpreters.RunFailedError)):
            interp.run('spam = "\ud800"')
        self.assertEqual(run_output(interp, "print('spam' in globals())"),
                         'False\n')

    def test_non_ascii(self):
        interp = interpreters.create()
        out = run_output(interp, 'print(ascii("h\xe9llo \u20ac \U0001d11e"))')
        self.assertEqual(out, ascii('h\xe9llo \u20ac \U0001d11e') + '\n')

    def test_already_running(self):
        interp = interpreters.create()
        with running(interp):
            with self.assertRaises(interpreters.InterpreterError) as cm:
                interp.run('spam = 1')
            self.assertNotIsInstance(cm.exception,
                                     interpreters.RunFailedError)
            self.assertNotIsInstance(cm.exception,
                                     interpreters.InterpreterNotFoundError)
        self.assertEqual(run_output(interp, "print('spam' in globals())"),
                         'False\n')

    def test_run_current(self):
        interp = interpreters.create()
        with self.assertRaises(interpreters.RunFailedError) as cm:
            interp.run(dedent("""
                import interpreters
                interpreters.get_current().run('spam = 1')
                """))
        self.assertEqual(cm.exception.excinfo.type.__name__,
                         'InterpreterError')

    def test_run_main_from_subinterpreter(self):
        # The main interpreter is always running.
        interp = interpreters.create()
        with self.assertRaises(interpreters.RunFailedError) as cm:
            interp.run(dedent("""
                import interpreters
                interpreters.get_main().run('spam = 1')
                """))
        self.assertEqual(cm.exception.excinfo.type.__name__,
                         'InterpreterError')
        self.assertNotIn('spam', sys.modules['__main__'].__dict__)

    def test_nested(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import interpreters, os
            inner = interpreters.create()
            r, w = os.pipe()
            inner.run(f'import interpreters, os; '
                      f'os.write({w}, b"%d" % interpreters.get_current().id)')
            os.close(w)
            print(inner.id == int(os.read(r, 100)))
            os.close(r)
            inner.destroy()
            """)
        self.assertEqual(out, 'True\n')

    def test_in_many_threads(self):
        interps = [interpreters.create() for _ in range(5)]
        with run_in_threads(*[(interp.run, f'spam = {i}')
                              for i, interp in enumerate(interps)]):
            pass
        for i, interp in enumerate(interps):
            self.assertEqual(run_output(interp, 'print(spam)'), f'{i}\n')

    def test_threads_in_subinterpreter(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import threading
            results = []
            def work(n):
                results.append(sum(range(n)))
            threads = [threading.Thread(target=work, args=(n,))
                       for n in range(10)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            print(sorted(results))
            """)
        self.assertEqual(out, f'{sorted(sum(range(n)) for n in range(10))}\n')

    @requires_subprocess
    def test_subprocess_in_subinterpreter(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import subprocess, sys
            proc = subprocess.run([sys.executable, '-c', 'print(6 * 7)'],
                                  capture_output=True, text=True)
            print(proc.returncode, proc.stdout.strip())
            """)
        self.assertEqual(out, '0 42\n')


class RunFailedErrorTests(TestBase):

    def run_failing(self, source):
        interp = interpreters.create()
        with self.assertRaises(interpreters.RunFailedError) as cm:
            interp.run(dedent(source))
        return cm.exception

    def test_str_and_excinfo(self):
        err = self.run_failing("""
            def spam():
                raise ValueError('eggs')
            spam()
            """)
        self.assertEqual(str(err), 'ValueError: eggs')
        info = err.excinfo
        self.assertIsInstance(info, types.SimpleNamespace)
        self.assertEqual(info.type.__name__, 'ValueError')
        self.assertEqual(info.type.__qualname__, 'ValueError')
        self.assertEqual(info.type.__module__, 'builtins')
        self.assertEqual(info.msg, 'eggs')
        formatted = info.formatted
        self.assertTrue(formatted.startswith(
            'Traceback (most recent call last):\n'), formatted)
        self.assertIn(', in spam\n', formatted)
        self.assertTrue(formatted.endswith('ValueError: eggs\n'), formatted)

    def test_nested_class(self):
        err = self.run_failing("""
            class Spam:
                class Error(Exception):
                    pass
            raise Spam.Error('ham', 1)
            """)
        self.assertEqual(str(err), "Spam.Error: ('ham', 1)")
        self.assertEqual(err.excinfo.type.__name__, 'Error')
        self.assertEqual(err.excinfo.type.__qualname__, 'Spam.Error')
        self.assertEqual(err.excinfo.type.__module__, '__main__')
        self.assertEqual(err.excinfo.msg, "('ham', 1)")

    def test_empty_message(self):
        err = self.run_failing('raise KeyError')
        self.assertEqual(str(err), 'KeyError')
        self.assertEqual(err.excinfo.msg, '')

    def test_str_fails(self):
        err = self.run_failing("""
            class Spam(Exception):
                def __str__(self):
                    raise RuntimeError('no str')
            raise Spam
            """)
        self.assertEqual(err.excinfo.type.__name__, 'Spam')
        self.assertIsInstance(err.excinfo.msg, str)
        self.assertTrue(str(err).startswith('Spam'), str(err))

    def test_chained(self):
        err = self.run_failing("""
            try:
                1 / 0
            except ZeroDivisionError:
                raise ValueError('spam')
            """)
        self.assertEqual(str(err), 'ValueError: spam')
        formatted = err.excinfo.formatted
        self.assertIn('ZeroDivisionError: division by zero\n', formatted)
        self.assertIn('During handling of the above exception', formatted)

    def test_system_exit(self):
        for source, msg in [('raise SystemExit', ''),
                            ('import sys; sys.exit(3)', '3'),
                            ('import sys; sys.exit("bye")', 'bye')]:
            with self.subTest(source):
                err = self.run_failing(source)
                self.assertEqual(err.excinfo.type.__name__, 'SystemExit')
                self.assertEqual(err.excinfo.msg, msg)

    def test_keyboard_interrupt(self):
        err = self.run_failing('raise KeyboardInterrupt')
        self.assertEqual(err.excinfo.type.__name__, 'KeyboardInterrupt')

    def test_syntax_error(self):
        err = self.run_failing('1 +')
        self.assertEqual(err.excinfo.type.__name__, 'SyntaxError')
        self.assertTrue(str(err).startswith('SyntaxError: '), str(err))
        self.assertIn('SyntaxError', err.excinfo.formatted)
        err = self.run_failing('if True:\nspam = 1')
        self.assertEqual(err.excinfo.type.__name__, 'IndentationError')

    def test_interpreter_still_works(self):
        interp = interpreters.create()
        for source in ['1 +', 'raise SystemExit', '1 / 0']:
            with self.assertRaises(interpreters.RunFailedError):
                interp.run(source)
        self.assertEqual(run_output(interp, 'print("ok")'), 'ok\n')


class IsolationTests(TestBase):

    def test_modules(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import sys, string
            sys.spam = 'sub'
            string.spam = 'sub'
            print(hasattr(sys, 'eggs'))
            """)
        self.assertEqual(out, 'False\n')
        self.assertFalse(hasattr(sys, 'spam'))
        import string
        self.assertFalse(hasattr(string, 'spam'))
        sys.eggs = 'main'
        try:
            self.assertEqual(run_output(interp, 'print(sys.spam)'), 'sub\n')
        finally:
            del sys.eggs

    def test_sys_modules(self):
        interp = interpreters.create()
        self.assertIn(__name__, sys.modules)
        out = run_output(interp, f"""
            import sys
            print({__name__!r} in sys.modules)
            """)
        self.assertEqual(out, 'False\n')
        interp.run('import sys; sys.modules["spam_only_in_sub"] = sys')
        self.assertNotIn('spam_only_in_sub', sys.modules)

    def test_globals(self):
        interp = interpreters.create()
        main_ns = sys.modules['__main__'].__dict__
        self.assertNotIn('spam_from_sub', main_ns)
        interp.run('spam_from_sub = 1')
        self.assertNotIn('spam_from_sub', main_ns)

    def test_builtins(self):
        interp = interpreters.create()
        interp.run('import builtins; builtins.spam_builtin = 1')
        import builtins
        self.assertFalse(hasattr(builtins, 'spam_builtin'))
        other = interpreters.create()
        with self.assertRaises(interpreters.RunFailedError) as cm:
            other.run('spam_builtin')
        self.assertEqual(cm.exception.excinfo.type.__name__, 'NameError')

    def test_sys_path_and_argv(self):
        interp = interpreters.create()
        interp.run('import sys; sys.path.insert(0, "spam"); sys.argv = []')
        self.assertNotEqual(sys.path[0], 'spam')
        self.assertTrue(sys.argv)

    def test_module_types_are_per_interpreter(self):
        # Both interpreters keep the module imported, so objects shared by
        # them would have the same id.
        interp = interpreters.create()
        out = run_output(interp, """
            import interpreters
            print(id(interpreters.Queue), id(interpreters.InterpreterError))
            """)
        queue_id, error_id = map(int, out.split())
        self.assertNotEqual(queue_id, id(interpreters.Queue))
        self.assertNotEqual(error_id, id(interpreters.InterpreterError))


# ----------------------------------------------------------------------------
# sys.path[0] of a new interpreter

@requires_subprocess
class SysPath0Tests(unittest.TestCase):
    """create() gives the new interpreter the main one's sys.path[0].

    Each test runs a fresh process (-E so that PYTHONSAFEPATH from the
    environment does not matter) from a directory other than the one
    holding the script and a helper module next to it.
    """

    # Prints the new interpreter's sys.path[0] and whether it can import
    # the helper module that lies next to the script.
    CHILD = dedent("""
        import sys
        print(repr(sys.path[0]))
        try:
            import syspath0_helper
        except ModuleNotFoundError:
            print('not found')
        else:
            print(syspath0_helper.VALUE)
        """)

    def setUp(self):
        self.script_dir = os.path.realpath(self.enterContext(
            os_helper.temp_dir()))
        self.other_dir = self.enterContext(os_helper.temp_dir())
        script_helper.make_script(self.script_dir, 'syspath0_helper',
                                  'VALUE = "helper imported"')

    def run_script(self, source, *options, name='main_script'):
        script = script_helper.make_script(self.script_dir, name, source)
        return self.run_python(*options, script)

    def run_python(self, *args, cwd=None):
        _, out, _ = script_helper.assert_python_ok(
            '-E', *args, __isolated=False, __cwd=cwd or self.other_dir)
        return out.decode().splitlines()

    def script_source(self, before_create=''):
        return dedent(f"""
            import interpreters
            {before_create}
            interp = interpreters.create()
            interp.run({self.CHILD!r})
            """)

    def test_script_directory(self):
        out = self.run_script(self.script_source())
        self.assertEqual(out, [repr(self.script_dir), 'helper imported'])

    def test_script_directory_after_chdir(self):
        # A relative script path still names the script's directory.
        source = self.script_source(
            f'import os; os.chdir({self.other_dir!r})')
        script_helper.make_script(self.script_dir, 'main_script', source)
        out = self.run_python('main_script.py', cwd=self.script_dir)
        self.assertEqual(out, [repr(self.script_dir), 'helper imported'])

    def test_nested_interpreter(self):
        # An interpreter created by a subinterpreter gets it too.
        source = dedent(f"""
            import interpreters
            interp = interpreters.create()
            interp.run({self.script_source()!r})
            """)
        out = self.run_script(source)
        self.assertEqual(out, [repr(self.script_dir), 'helper imported'])

    def test_command(self):
        out = self.run_python('-c', self.script_source(),
                              cwd=self.script_dir)
        self.assertEqual(out, [repr(''), 'helper imported'])

    def test_module(self):
        script_helper.make_script(self.script_dir, 'main_module',
                                  self.script_source())
        out = self.run_python('-m', 'main_module', cwd=self.script_dir)
        self.assertEqual(out, [repr(self.script_dir), 'helper imported'])

    def test_directory(self):
        # "python DIR" puts DIR itself first on sys.path.
        script_helper.make_script(self.script_dir, '__main__',
                                  self.script_source())
        out = self.run_python(self.script_dir)
        self.assertEqual(out, [repr(self.script_dir), 'helper imported'])

    def test_zip_archive(self):
        # "python APP.zip" puts the archive itself first on sys.path: the
        # helper module inside it can be imported.
        archive = os.path.join(self.script_dir, 'app.zip')
        with zipfile.ZipFile(archive, 'w') as zf:
            zf.writestr('__main__.py', self.script_source())
            zf.writestr('syspath0_helper.py', 'VALUE = "from the archive"')
        out = self.run_python(archive)
        self.assertEqual(out, [repr(archive), 'from the archive'])

    def test_safe_path(self):
        # The main interpreter prepended nothing: neither does create().
        for option in ('-P', '-I'):
            with self.subTest(option=option):
                out = self.run_script(self.script_source(), option)
                self.assertNotEqual(out[0], repr(self.script_dir))
                self.assertEqual(out[1], 'not found')


# ----------------------------------------------------------------------------
# The process as a whole

@requires_subprocess
class ProcessTests(unittest.TestCase):

    def assert_clean_exit(self, rc, out, err, expected_rc=0):
        self.assertNotIn('Fatal Python error', err)
        self.assertEqual(rc, expected_rc, f'stdout={out!r}, stderr={err!r}')

    def test_exit_with_live_interpreters(self):
        rc, out, err = run_script(self, dedent("""
            import interpreters
            idle = interpreters.create()
            used = interpreters.create()
            used.run('import json, threading; spam = [1, 2]')
            inner = interpreters.create()
            inner.run('import interpreters; nested = interpreters.create()')
            print('done')
            """))
        self.assert_clean_exit(rc, out, err)
        self.assertEqual(out, 'done\n')
        self.assertEqual(err, '')

    def test_sys_exit_with_live_interpreters(self):
        rc, out, err = run_script(self, dedent("""
            import sys, interpreters
            interp = interpreters.create()
            interp.run('spam = 1')
            sys.exit(3)
            """))
        self.assert_clean_exit(rc, out, err, expected_rc=3)
        self.assertEqual(err, '')

    def test_uncaught_exception_with_live_interpreters(self):
        rc, out, err = run_script(self, dedent("""
            import interpreters
            interp = interpreters.create()
            interp.run('spam = 1')
            raise ValueError('boom')
            """))
        self.assert_clean_exit(rc, out, err, expected_rc=1)
        self.assertIn('ValueError: boom', err)

    def test_exit_while_running_in_non_daemon_thread(self):
        # The main thread is done while the other thread is still inside
        # run(); the threading module's exit hook releases it.
        rc, out, err = run_script(self, dedent("""
            import os, threading, interpreters
            interp = interpreters.create()
            r, w = os.pipe()
            started_r, started_w = os.pipe()
            def run():
                interp.run(f'import os; os.write({started_w}, b"1"); '
                           f'os.read({r}, 1); print("released", flush=True)')
            threading.Thread(target=run).start()
            os.read(started_r, 1)
            threading._register_atexit(os.write, w, b'1')
            print('main done', flush=True)
            """))
        self.assert_clean_exit(rc, out, err)
        self.assertEqual(out, 'main done\nreleased\n')
        self.assertEqual(err, '')

    def test_exit_while_running_in_daemon_thread(self):
        # The daemon thread never leaves run().
        rc, out, err = run_script(self, dedent("""
            import os, threading, interpreters
            interp = interpreters.create()
            r, w = os.pipe()
            started_r, started_w = os.pipe()
            def run():
                interp.run(f'import os; os.write({started_w}, b"1"); '
                           f'os.read({r}, 1)')
            threading.Thread(target=run, daemon=True).start()
            os.read(started_r, 1)
            print('main done', flush=True)
            """))
        self.assert_clean_exit(rc, out, err)
        self.assertEqual(out, 'main done\n')
        self.assertEqual(err, '')

    def test_destroy_with_daemon_thread(self):
        # Destroying an interpreter whose daemon thread is alive must not
        # abort the process.
        rc, out, err = run_script(self, dedent("""
            import os, interpreters
            interp = interpreters.create()
            r, w = os.pipe()
            interp.run(f'''if True:
                import os, threading
                thread = threading.Thread(target=os.read, args=({r}, 1),
                                          daemon=True)
                thread.start()
                ''')
            try:
                interp.destroy()
            except interpreters.InterpreterError as exc:
                print(type(exc).__name__)
                os.write(w, b'1')
                interp.run('thread.join()')
                interp.destroy()
            print(interp in interpreters.enumerate())
            """))
        self.assert_clean_exit(rc, out, err)
        self.assertEqual(out, 'InterpreterError\nFalse\n')

    def test_exit_when_only_a_subinterpreter_imports_the_module(self):
        # The main interpreter never imports interpreters itself: the one
        # that a subinterpreter created is finalized at exit all the same
        # (Py_FinalizeEx() used to abort with "remaining subinterpreters").
        import_helper.import_module('_testcapi')
        rc, out, err = run_script(self, dedent("""
            import _testcapi
            _testcapi.run_in_subinterp('''if True:
                import interpreters
                interp = interpreters.create()
                interp.run("import threading; spam = 1")
                ''')
            print('done')
            """))
        self.assert_clean_exit(rc, out, err)
        self.assertEqual(out, 'done\n')
        self.assertEqual(err, '')

    def test_exit_when_main_cannot_import_the_module(self):
        # The exit hook is registered from C: a main interpreter that
        # cannot import _interpreters still finalizes, at exit, what a
        # subinterpreter created (it used to abort with "remaining
        # subinterpreters").
        import_helper.import_module('_testcapi')
        rc, out, err = run_script(self, dedent("""
            import sys, _testcapi
            sys.modules['_interpreters'] = None
            _testcapi.run_in_subinterp('''if True:
                import interpreters
                interp = interpreters.create()
                interp.run("import threading; spam = 1")
                ''')
            print('done')
            """))
        self.assert_clean_exit(rc, out, err)
        self.assertEqual(out, 'done\n')

    def test_hooks_registered_once(self):
        # Importing _interpreters again in the main interpreter registers
        # neither another exit hook nor another fork hook; the exit still
        # finalizes what is left, once.
        rc, out, err = run_script(self, dedent("""
            import atexit, gc, importlib, os, sys, types
            import _interpreters
            ncallbacks = atexit._ncallbacks()
            for _ in range(3):
                del sys.modules['_interpreters']
                import _interpreters
            importlib.reload(_interpreters)
            print(atexit._ncallbacks() - ncallbacks)
            if hasattr(os, 'register_at_fork'):
                hooks = [obj for obj in gc.get_objects()
                         if isinstance(obj, types.BuiltinFunctionType)
                         and obj.__name__ == '_after_fork_child']
                print(len(hooks))
            else:
                print(1)
            import interpreters
            interp = interpreters.create()
            interp.run('import threading; spam = 1')
            """))
        self.assert_clean_exit(rc, out, err)
        self.assertEqual(out, '0\n1\n')
        self.assertEqual(err, '')

    @unittest.skipUnless(hasattr(os, 'fork'), 'needs os.fork()')
    def test_fork_in_main_interpreter(self):
        # The child keeps only the main interpreter and can create new
        # ones; the parent's interpreters, one of them running code in
        # another thread during the fork, are unaffected.
        rc, out, err = run_script(self, dedent("""
            import os, sys, threading, interpreters
            from test import support
            idle = interpreters.create()
            idle.run('spam = [1, 2, 3]')
            busy = interpreters.create()
            r, w = os.pipe()
            started_r, started_w = os.pipe()
            def run():
                busy.run(f'import os; os.write({started_w}, b"1"); '
                         f'os.read({r}, 1)')
            thread = threading.Thread(target=run)
            thread.start()
            os.read(started_r, 1)
            pid = os.fork()
            if pid == 0:
                print('child:', [i.id for i in interpreters.enumerate()],
                      flush=True)
                try:
                    idle.run('pass')
                except interpreters.InterpreterNotFoundError:
                    print('child: not found', flush=True)
                interpreters.create().run('print("child: new", flush=True)')
                sys.exit(5)
            # Kills the child and fails if it hangs.
            support.wait_process(pid, exitcode=5)
            idle.run('print("parent:", spam, flush=True)')
            os.write(w, b'1')
            thread.join()
            busy.run('print("parent: busy usable", flush=True)')
            """))
        self.assert_clean_exit(rc, out, err)
        self.assertEqual(out, 'child: [0]\n'
                              'child: not found\n'
                              'child: new\n'
                              'parent: [1, 2, 3]\n'
                              'parent: busy usable\n')
        self.assertEqual(err, '')

    @unittest.skipUnless(hasattr(os, 'fork'), 'needs os.fork()')
    def test_fork_while_a_thread_waits_on_a_queue(self):
        # In the child, the waiter of a thread that did not survive the
        # fork must not take the wake-up that a put() owes to a live one.
        rc, out, err = run_script(self, dedent("""
            import os, threading, time, interpreters
            from test import support
            q = interpreters.create_queue()
            waiting = threading.Thread(target=q.get, daemon=True)
            waiting.start()
            time.sleep(0.5)         # until it waits
            pid = os.fork()
            if pid == 0:
                got = []
                getter = threading.Thread(target=lambda: got.append(q.get()),
                                          daemon=True)
                getter.start()
                time.sleep(0.5)     # until it waits
                q.put('child')
                getter.join(support.SHORT_TIMEOUT)
                print('child got', got, flush=True)
                os._exit(0 if got else 1)
            support.wait_process(pid, exitcode=0)
            q.put('parent')
            waiting.join()
            print('parent done')
            """))
        self.assert_clean_exit(rc, out, err)
        self.assertEqual(out, "child got ['child']\nparent done\n")

    @requires_sigint
    def test_sigint_during_run_in_main_thread(self):
        # Ctrl-C interrupts code run in a subinterpreter by the main thread:
        # the run stops, KeyboardInterrupt is raised in the caller, and the
        # interpreter stays usable.
        rc, out, err = run_script(self, dedent("""
            import interpreters
            interp = interpreters.create()
            try:
                interp.run('''if True:
                    import sys
                    print('ready', flush=True)
                    print('read', sys.stdin.readline().strip(), flush=True)
                    ''')
                print('not interrupted')
            except KeyboardInterrupt:
                print('KeyboardInterrupt')
            print(interp.is_running(), flush=True)
            interp.run("print('usable')")
            """), send_sigint_after='ready', blocked=True, stdin='go\n')
        self.assert_clean_exit(rc, out, err)
        self.assertEqual(out, 'KeyboardInterrupt\nFalse\nusable\n')

    @requires_sigint
    def test_sigint_on_blocked_get_in_main_thread(self):
        for call in ['q.get()', 'q.get(timeout=1e6)',
                     'full.put(2)', 'full.put(2, timeout=1e6)']:
            with self.subTest(call):
                rc, out, err = run_script(self, dedent(f"""
                    import interpreters
                    q = interpreters.create_queue()
                    full = interpreters.create_queue(1)
                    full.put(1)
                    try:
                        print('ready', flush=True)
                        {call}
                    except KeyboardInterrupt:
                        print('KeyboardInterrupt')
                    print(q.qsize(), full.qsize())
                    """), send_sigint_after='ready', blocked=True)
                self.assert_clean_exit(rc, out, err)
                self.assertEqual(out, 'KeyboardInterrupt\n0 1\n')

    @requires_sigint
    def test_sigint_on_blocked_get_in_subinterpreter(self):
        # The main thread runs a subinterpreter that waits on a queue:
        # Ctrl-C interrupts the wait there, then reaches the caller.
        rc, out, err = run_script(self, dedent("""
            import interpreters
            interp = interpreters.create()
            q = interpreters.create_queue()
            interp.prepare_main(q=q)
            try:
                interp.run('''if True:
                    try:
                        print('ready', flush=True)
                        q.get()
                    except KeyboardInterrupt:
                        print('KeyboardInterrupt in sub', flush=True)
                        raise
                    ''')
                print('not interrupted')
            except KeyboardInterrupt:
                print('KeyboardInterrupt')
            print(interp.is_running(), q.qsize())
            interp.run('q.put(1)')
            print(q.get_nowait())
            """), send_sigint_after='ready', blocked=True)
        self.assert_clean_exit(rc, out, err)
        self.assertEqual(out, 'KeyboardInterrupt in sub\nKeyboardInterrupt\n'
                              'False 0\n1\n')


# ----------------------------------------------------------------------------
# Queues

class QueueTests(TestBase):

    def test_create(self):
        q = self.create_queue()
        self.assertIsInstance(q, interpreters.Queue)
        self.assertIs(type(q.id), int)
        self.assertEqual(q.maxsize, 0)
        self.assertEqual(q.qsize(), 0)
        self.assertTrue(q.empty())
        self.assertFalse(q.full())
        self.assertEqual(interpreters.create_queue(5).maxsize, 5)
        self.assertEqual(interpreters.create_queue(maxsize=3).maxsize, 3)

    def test_create_bad_maxsize(self):
        for bad in ['1', 1.5, None]:
            with self.subTest(bad=bad):
                with self.assertRaises(TypeError):
                    interpreters.create_queue(bad)

    def test_ids_differ(self):
        queues = [self.create_queue() for _ in range(5)]
        self.assertEqual(len({q.id for q in queues}), 5)

    def test_fifo(self):
        q = self.create_queue()
        items = [1, 'two', (3,), b'four', None, 5.0]
        for item in items:
            self.assertIsNone(q.put(item))
        self.assertEqual([q.get() for _ in items], items)
        self.assertTrue(q.empty())

    def test_maxsize(self):
        q = self.create_queue(3)
        for i in range(3):
            self.assertFalse(q.full())
            q.put(i)
            self.assertEqual(q.qsize(), i + 1)
            self.assertFalse(q.empty())
        self.assertTrue(q.full())
        with self.assertRaises(interpreters.QueueFull):
            q.put_nowait(3)
        self.assertEqual(q.qsize(), 3)
        self.assertEqual(q.get(), 0)
        self.assertFalse(q.full())
        q.put_nowait(3)
        self.assertEqual([q.get_nowait() for _ in range(3)], [1, 2, 3])
        self.assertTrue(q.empty())

    def test_unbounded(self):
        q = self.create_queue()
        for i in range(1000):
            q.put_nowait(i)
        self.assertFalse(q.full())
        self.assertEqual(q.qsize(), 1000)
        self.assertEqual([q.get_nowait() for _ in range(1000)],
                         list(range(1000)))

    def test_attributes_readonly(self):
        q = self.create_queue(2)
        for name in ('id', 'maxsize'):
            with self.subTest(name):
                with self.assertRaises(AttributeError):
                    setattr(q, name, 1)
        self.assertEqual(q.maxsize, 2)

    def test_lookup(self):
        q = self.create_queue(4)
        same = interpreters.Queue(q.id)
        self.assertEqual(same, q)
        self.assertEqual(hash(same), hash(q))
        self.assertEqual(same.maxsize, 4)
        same.put('spam')
        self.assertEqual(q.qsize(), 1)
        self.assertEqual(q.get(), 'spam')

    def test_lookup_unknown(self):
        for unknown in [UNKNOWN_ID, 2**64, 10**100]:
            with self.subTest(unknown=unknown):
                with self.assertRaises(interpreters.QueueNotFoundError):
                    interpreters.Queue(unknown)
                with self.assertRaises(LookupError):
                    interpreters.Queue(unknown)

    def test_lookup_bad_id(self):
        for bad in ['1', 1.0, None]:
            with self.subTest(bad=bad):
                with self.assertRaises(TypeError):
                    interpreters.Queue(bad)
        with self.assertRaises((ValueError, interpreters.QueueNotFoundError)):
            interpreters.Queue(-1)
        with self.assertRaises(TypeError):
            interpreters.Queue()

    def test_equality_and_hash(self):
        q = self.create_queue()
        other = self.create_queue()
        self.assertNotEqual(q, other)
        self.assertNotEqual(q, q.id)
        self.assertEqual(len({q, interpreters.Queue(q.id), other}), 2)

    def test_repr(self):
        q = self.create_queue()
        self.assertEqual(repr(q), f'interpreters.Queue(id={q.id})')

    def test_freed_when_unreferenced(self):
        q = interpreters.create_queue()
        q.put('spam')
        queue_id = q.id
        del q
        with self.assertRaises(interpreters.QueueNotFoundError):
            interpreters.Queue(queue_id)

    def test_freed_with_its_last_interpreter(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import interpreters
            q = interpreters.create_queue()
            q.put('spam')
            print(q.id)
            """)
        queue_id = int(out)
        # The subinterpreter's handle keeps it alive.
        self.assertEqual(interpreters.Queue(queue_id).qsize(), 1)
        interp.destroy()
        with self.assertRaises(interpreters.QueueNotFoundError):
            interpreters.Queue(queue_id)

    def test_kept_alive_by_items(self):
        q = self.create_queue()
        interp = interpreters.create()
        interp.prepare_main(q=q)
        interp.run(dedent("""
            import interpreters
            inner = interpreters.create_queue()
            inner.put('from a destroyed interpreter')
            q.put(inner)
            """))
        interp.destroy()
        inner = q.get_nowait()
        self.assertIsInstance(inner, interpreters.Queue)
        self.assertEqual(inner.get_nowait(), 'from a destroyed interpreter')

    @requires_subprocess
    def test_long_chain_freed(self):
        # Each queue holds a handle of the next one: dropping the first
        # frees them all, without one C call per link.
        rc, out, err = run_script(self, dedent("""
            import interpreters
            first = q = interpreters.create_queue()
            for _ in range(300_000):
                link = interpreters.create_queue()
                q.put(link)
                q = link
            last_id = q.id
            del q, link
            interpreters.Queue(last_id)
            del first
            try:
                interpreters.Queue(last_id)
            except interpreters.QueueNotFoundError:
                print('freed')
            """))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, 'freed\n')

    def test_queue_through_queue(self):
        q = self.create_queue()
        inner = self.create_queue(7)
        q.put(inner)
        got = q.get()
        self.assertIs(type(got), interpreters.Queue)
        self.assertEqual(got, inner)
        self.assertEqual(got.maxsize, 7)
        got.put('spam')
        self.assertEqual(inner.get_nowait(), 'spam')

    def test_queue_through_queue_to_subinterpreter(self):
        q = self.create_queue()
        answers = self.create_queue()
        interp = interpreters.create()
        interp.prepare_main(q=q)
        q.put(answers)
        interp.run('answers = q.get_nowait(); answers.put(("sub", 1))')
        self.assertEqual(answers.get_nowait(), ('sub', 1))

    def test_queue_from_prepare_main(self):
        q = self.create_queue()
        interp = interpreters.create()
        interp.prepare_main(q=q)
        interp.run('q.put(type(q).__name__); q.put(q.maxsize)')
        self.assertEqual(q.get_nowait(), 'Queue')
        self.assertEqual(q.get_nowait(), 0)

    def test_same_queue_from_two_interpreters(self):
        q = self.create_queue()
        first = interpreters.create()
        second = interpreters.create()
        first.prepare_main(q=q)
        second.prepare_main(q=q)
        first.run('q.put("from first")')
        second.run('item = q.get_nowait(); q.put(item.upper())')
        self.assertEqual(q.get_nowait(), 'FROM FIRST')
        self.assertTrue(q.empty())


class QueueBlockingTests(TestBase):

    def assert_waited(self, start, timeout):
        # Allow for the clock's resolution only: the wait rounds up.
        resolution = time.get_clock_info('monotonic').resolution
        self.assertGreaterEqual(time.monotonic() - start,
                                timeout - resolution)

    def test_get_empty_nonblocking(self):
        q = self.create_queue()
        for get in [q.get_nowait,
                    lambda: q.get(block=False),
                    lambda: q.get(False, None),
                    lambda: q.get(timeout=0)]:
            with self.assertRaises(interpreters.QueueEmpty):
                get()
            with self.assertRaises(queue.Empty):
                get()

    def test_get_nonblocking_ignores_timeout(self):
        q = self.create_queue()
        start = time.monotonic()
        with self.assertRaises(interpreters.QueueEmpty):
            q.get(block=False, timeout=support.SHORT_TIMEOUT)
        self.assertLess(time.monotonic() - start, support.SHORT_TIMEOUT)

    def test_get_timeout(self):
        q = self.create_queue()
        start = time.monotonic()
        with self.assertRaises(interpreters.QueueEmpty):
            q.get(timeout=0.05)
        self.assert_waited(start, 0.05)

    def test_put_full_nonblocking(self):
        q = self.create_queue(1)
        q.put('first')
        for put in [q.put_nowait,
                    lambda item: q.put(item, block=False),
                    lambda item: q.put(item, False, None),
                    lambda item: q.put(item, timeout=0)]:
            with self.assertRaises(interpreters.QueueFull):
                put('second')
            with self.assertRaises(queue.Full):
                put('second')
        self.assertEqual(q.qsize(), 1)
        self.assertEqual(q.get_nowait(), 'first')

    def test_put_nonblocking_ignores_timeout(self):
        q = self.create_queue(1)
        q.put('first')
        start = time.monotonic()
        with self.assertRaises(interpreters.QueueFull):
            q.put('second', block=False, timeout=support.SHORT_TIMEOUT)
        self.assertLess(time.monotonic() - start, support.SHORT_TIMEOUT)

    def test_put_timeout(self):
        q = self.create_queue(1)
        q.put('first')
        start = time.monotonic()
        with self.assertRaises(interpreters.QueueFull):
            q.put('second', timeout=0.05)
        self.assert_waited(start, 0.05)
        self.assertEqual(q.qsize(), 1)

    def test_bad_timeout(self):
        q = self.create_queue(1)
        with self.assertRaises(ValueError):
            q.get(timeout=-1)
        with self.assertRaises(ValueError):
            q.put('spam', timeout=-0.5)
        self.assertTrue(q.empty())
        with self.assertRaises((OverflowError, ValueError)):
            q.get(timeout=1e300)
        with self.assertRaises(TypeError):
            q.get(timeout='1')
        with self.assertRaises(TypeError):
            q.put('spam', timeout='1')
        self.assertTrue(q.empty())

    def test_get_blocks_until_put(self):
        q = self.create_queue()
        got = []
        blocking = threading.Event()

        def get():
            blocking.set()
            got.append(q.get())
        with run_in_threads((get,)):
            self.assertTrue(blocking.wait(support.SHORT_TIMEOUT))
            q.put('spam')
        self.assertEqual(got, ['spam'])

    def test_get_with_timeout_blocks_until_put(self):
        q = self.create_queue()
        got = []
        blocking = threading.Event()

        def get():
            blocking.set()
            got.append(q.get(timeout=support.SHORT_TIMEOUT))
        with run_in_threads((get,)):
            self.assertTrue(blocking.wait(support.SHORT_TIMEOUT))
            q.put('spam')
        self.assertEqual(got, ['spam'])

    def test_put_blocks_until_get(self):
        q = self.create_queue(1)
        q.put('first')
        blocking = threading.Event()

        def put():
            blocking.set()
            q.put('second')
        with run_in_threads((put,)):
            self.assertTrue(blocking.wait(support.SHORT_TIMEOUT))
            self.assertEqual(q.get(timeout=support.SHORT_TIMEOUT), 'first')
        self.assertEqual(q.get_nowait(), 'second')

    def test_many_waiters(self):
        q = self.create_queue()
        got = []
        waiting = threading.Barrier(6, timeout=support.SHORT_TIMEOUT)

        def get():
            waiting.wait()
            got.append(q.get(timeout=support.SHORT_TIMEOUT))
        with run_in_threads(*[(get,)] * 5):
            waiting.wait()
            for i in range(5):
                q.put(i)
        self.assertEqual(sorted(got), list(range(5)))

    def test_wakes_across_interpreters(self):
        requests = self.create_queue()
        answers = self.create_queue()
        interp = interpreters.create()
        interp.prepare_main(requests=requests, answers=answers,
                            timeout=support.SHORT_TIMEOUT)
        source = dedent("""
            while (n := requests.get(timeout=timeout)) is not None:
                answers.put(n * 2, timeout=timeout)
            """)
        with run_in_threads((interp.run, source)):
            for n in range(10):
                requests.put(n)
                self.assertEqual(answers.get(timeout=support.SHORT_TIMEOUT),
                                 n * 2)
            requests.put(None)


class QueueStressTests(TestBase):

    def check_shared_queue(self, nitems):
        # Two producers and three consumers, each in its own interpreter
        # and thread, share a small queue: every item arrives once.
        producers, consumers = 2, 3
        tasks = self.create_queue(maxsize=100)
        results = self.create_queue()
        produce = dedent("""
            for i in range(start, stop):
                tasks.put(i, timeout=timeout)
            """)
        consume = dedent("""
            got = []
            while (item := tasks.get(timeout=timeout)) is not None:
                got.append(item)
            results.put(tuple(got))
            """)
        calls = []
        per_producer = nitems // producers
        for i in range(producers + consumers):
            interp = interpreters.create()
            interp.prepare_main(tasks=tasks, results=results,
                                timeout=support.SHORT_TIMEOUT,
                                start=i * per_producer,
                                stop=(i + 1) * per_producer)
            calls.append((interp.run,
                          produce if i < producers else consume))
        with run_in_threads(*calls[producers:]):
            with run_in_threads(*calls[:producers]):
                pass
            # One stop signal per consumer, once all the items are in.
            for _ in range(consumers):
                tasks.put(None, timeout=support.SHORT_TIMEOUT)
        received = []
        for _ in range(consumers):
            received.extend(results.get(timeout=support.SHORT_TIMEOUT))
        self.assertEqual(len(received), producers * per_producer)
        self.assertEqual(sorted(received),
                         list(range(producers * per_producer)))
        self.assertTrue(tasks.empty())
        self.assertTrue(results.empty())

    def test_shared_by_five_interpreters(self):
        self.check_shared_queue(100_000)

    @support.requires_resource('cpu')
    def test_shared_by_five_interpreters_1m_items(self):
        self.check_shared_queue(1_000_000)


# ----------------------------------------------------------------------------
# What crosses between interpreters

SHAREABLE = [
    None, True, False,
    0, 1, -1, 256, 257, -5, -6, 2**31, 2**63 - 1, -2**63, 2**64,
    -2**64 - 1, 2**1000, -(3**700),
    0.0, -0.0, 1.5, -2.5e-300, 5e-324, sys.float_info.max,
    float('inf'), float('-inf'), float('nan'),
    '', 'a', 'spam', 'h\xe9llo', '\u20ac', '\U0001d11e', 'a\0b', '\ud800',
    'x' * 100_000,
    b'', b'\0', bytes(range(256)), b'y' * 100_000,
    (), (1,), (None, (True, (2**100, ('s', (b'b', ((), -0.0)))))),
    tuple(range(1000)),
]

# Not shareable, but pickled and rebuilt in the receiver: values that any
# interpreter can rebuild...
PICKLED = [
    [1, [2, 'three']], {'a': (1, 2), 3: None}, {1, 2}, frozenset({3}),
    1j, bytearray(b'spam'), (1, [2]), range(3), Ellipsis,
    fractions.Fraction(1, 3), datetime.date(2022, 10, 24),
    collections.OrderedDict(a=1, b=2), collections.Counter('spam'), int, len,
]
# ... and values only sent from this interpreter to itself: those of this
# module's classes, which another interpreter may not be able to import,
# and decimals (3.11's _decimal leaks when a subinterpreter imports it).
PICKLED_HERE = [Str('spam'), Point(1, 2), decimal.Decimal('1.1')]


class ShareableTests(TestBase):

    def assert_same(self, got, expected):
        self.assertIs(type(got), type(expected))
        if type(expected) is tuple:
            self.assertEqual(len(got), len(expected))
            for got_item, expected_item in zip(got, expected):
                self.assert_same(got_item, expected_item)
        elif type(expected) is float:
            # Tell -0.0 from 0.0 and compare NaNs.
            self.assertEqual(repr(got), repr(expected))
        else:
            self.assertEqual(got, expected)

    def echo(self, values):
        """Send values to a new interpreter and back."""
        requests = self.create_queue()
        answers = self.create_queue()
        interp = interpreters.create()
        interp.prepare_main(requests=requests, answers=answers)
        for value in values:
            requests.put(value)
        interp.run(dedent("""
            while not requests.empty():
                answers.put(requests.get_nowait())
            """))
        return [answers.get_nowait() for _ in values]

    def test_is_shareable(self):
        for value in SHAREABLE + [self.create_queue()]:
            with self.subTest(value=repr(value)[:50]):
                self.assertTrue(interpreters.is_shareable(value))

    def test_is_not_shareable(self):
        not_shareable = PICKLED + PICKLED_HERE + [
            object(), [], {}, NotImplemented,
            ((), [()]), ('x', (b'y', {})), bool, _make_closure(),
            lambda: None, threading.Lock(), sys, interpreters.get_main(),
        ]
        for value in not_shareable:
            with self.subTest(value=repr(value)[:50]):
                self.assertFalse(interpreters.is_shareable(value))

    def test_round_trip(self):
        q = self.create_queue()
        for value in SHAREABLE:
            with self.subTest(value=repr(value)[:50]):
                q.put(value)
                self.assert_same(q.get_nowait(), value)

    def test_round_trip_through_subinterpreter(self):
        for value, got in zip(SHAREABLE, self.echo(SHAREABLE)):
            with self.subTest(value=repr(value)[:50]):
                self.assert_same(got, value)

    def test_receiver_gets_its_own_objects(self):
        q = self.create_queue()
        for value in ['spam' * 3, b'eggs' * 3, 2**100, 1.5,
                      ('x' * 5, 2**70), ((1000,),)]:
            with self.subTest(value=value):
                q.put(value)
                got = q.get_nowait()
                self.assertEqual(got, value)
                self.assertIsNot(got, value)

    def test_pickled_round_trip(self):
        q = self.create_queue()
        for value in PICKLED + PICKLED_HERE:
            with self.subTest(value=repr(value)[:50]):
                q.put(value)
                got = q.get_nowait()
                self.assertIs(type(got), type(value))
                self.assertEqual(got, value)

    def test_pickled_through_subinterpreter(self):
        for value, got in zip(PICKLED, self.echo(PICKLED)):
            with self.subTest(value=repr(value)[:50]):
                self.assertIs(type(got), type(value))
                self.assertEqual(got, value)

    def test_pickled_value_is_a_copy(self):
        q = self.create_queue()
        value = [1, 2]
        q.put(value)
        value.append(3)
        self.assertEqual(q.get_nowait(), [1, 2])

    def test_unpicklable(self):
        q = self.create_queue()
        for value in [threading.Lock(), (x for x in ()), sys,
                      _make_closure(), BadReduce(), (1, threading.Lock()),
                      [BadReduce()]]:
            with self.subTest(value=repr(value)[:50]):
                with self.assertRaises(interpreters.NotShareableError):
                    q.put(value)
                with self.assertRaises(ValueError):
                    q.put_nowait(value)
                self.assertEqual(q.qsize(), 0)
        q.put('still works')
        self.assertEqual(q.get_nowait(), 'still works')

    def test_unpicklable_in_receiver(self):
        # The class exists only in the subinterpreter's __main__: the
        # receiver cannot rebuild the object, and must say so.
        q = self.create_queue()
        interp = interpreters.create()
        interp.prepare_main(q=q)
        interp.run(dedent("""
            class OnlyInSub:
                pass
            q.put(OnlyInSub())
            q.put('next')
            """))
        with self.assertRaises(Exception) as cm:
            q.get_nowait()
        self.assertNotIsInstance(cm.exception, interpreters.QueueError)
        # The item is gone: it cannot block the queue.
        self.assertEqual(q.get_nowait(), 'next')

    def test_many_queues_in_one_item(self):
        # Directly (a tuple) and pickled (a list), once each or repeated,
        # in the same item.
        queues = [self.create_queue() for _ in range(1000)]
        for item in [tuple(queues), queues, (queues[0],) * 1000,
                     (tuple(queues[:500]), queues[500:]),
                     ([queues[0], queues[1]], (queues[1], queues[0]))]:
            with self.subTest(type(item).__name__):
                q = self.create_queue()
                q.put(item)
                self.assertEqual(q.get_nowait(), item)
        for position, queue in enumerate(queues):
            queue.put(position)
        got, = self.echo([tuple(queues)])
        self.assertEqual([queue.get_nowait() for queue in got],
                         list(range(1000)))

    def test_pickling_puts_to_a_queue(self):
        # Pickling an item runs code that pickles other items, for the
        # same queue or another one: they do not mix.
        q = self.create_queue()
        other = self.create_queue()

        class PutsWhilePickled:
            def __reduce__(self):
                other.put([other, 'inner'])
                q.put(['nested'])
                return (str, ('outer',))

        q.put([q, PutsWhilePickled(), 1.5])
        self.assertEqual(q.get_nowait(), ['nested'])
        self.assertEqual(q.get_nowait(), [q, 'outer', 1.5])
        self.assertEqual(other.get_nowait(), [other, 'inner'])
        q.put({'after': [other]})
        self.assertEqual(q.get_nowait(), {'after': [other]})

    @requires_subprocess
    def test_queues_of_a_reimported_module(self):
        # Handles of the Queue type of both copies of the module cross,
        # directly or pickled, through queues of either copy.
        rc, out, err = run_script(self, dedent("""
            import sys
            import _interpreters as first
            old = first.create_queue()
            del sys.modules['_interpreters']
            import _interpreters as second
            new = second.create_queue()
            print(second.is_shareable(old), first.is_shareable(new))
            for q in [old, new]:
                for item in [(old, new), [old, new]]:
                    q.put(item)
                    print(q.get() == item, end=' ')
            """))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, 'True True\nTrue True True True ')

    def test_pickled_objects_not_kept(self):
        # The pickler kept for the next item forgets the objects of the
        # last one.
        q = self.create_queue()
        point = Point(1, 2)
        ref = weakref.ref(point)
        q.put(point)
        q.put([point, q])
        del point
        self.assertIsNone(ref())
        self.assertEqual(q.get_nowait(), Point(1, 2))
        self.assertEqual(q.get_nowait(), [Point(1, 2), q])

    @requires_subprocess
    def test_picklers_do_not_outlive_the_call(self):
        # Code that runs while an item is pickled or unpickled can find
        # the pickler and unpickler, with their persistent_id() and
        # persistent_load(), and keep them.  Once put() or get() has
        # returned, using them raises ValueError: they no longer point at
        # what the call worked on.
        rc, out, err = run_script(self, dedent("""
            import gc, pickle, interpreters

            kept = []

            def keep_picklers():
                kept.extend(obj for obj in gc.get_objects()
                            if isinstance(obj, (pickle.Pickler,
                                                pickle.Unpickler)))

            def rebuild():
                keep_picklers()
                return 'spy'

            class Spy:
                def __reduce__(self):
                    keep_picklers()
                    return (rebuild, ())

            q = interpreters.create_queue()
            other = interpreters.create_queue()
            q.put([other, Spy()])
            print(q.get())
            raised = set()
            for obj in kept:
                for name, arg in [('persistent_id', other),
                                  ('persistent_load', 0),
                                  ('dump', [other])]:
                    try:
                        func = getattr(obj, name)
                    except AttributeError:
                        continue
                    try:
                        func(arg)
                    except ValueError:
                        raised.add(name)
                    else:
                        print(name, 'did not raise')
            print(sorted(raised))
            """))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "[interpreters.Queue(id=2), 'spy']\n"
                              "['dump', 'persistent_id', 'persistent_load']\n")

    @requires_subprocess
    def test_unpickling_ignores_replaced_pickle_module(self):
        # The functions of _pickle are the ones found when _interpreters
        # was imported.  (Unpickling never sees the item's memory, freed
        # after get(), only a copy.)
        rc, out, err = run_script(self, dedent("""
            import sys, _pickle, interpreters

            class FakePickle:
                def __getattr__(self, name):
                    print('used', name)
                    return getattr(_pickle, name)

            q = interpreters.create_queue()
            sys.modules['_pickle'] = FakePickle()
            q.put([1, 2])
            q.put([q, 3])
            print(q.get(), q.get())
            """))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, '[1, 2] [interpreters.Queue(id=1), 3]\n')

    @requires_subprocess
    def test_import_refuses_replaced_pickle_module(self):
        # Python code standing in for _pickle would get to see, and keep,
        # what crosses.
        rc, out, err = run_script(self, dedent("""
            import pickle, sys
            fake = type(sys)('_pickle')
            fake.Pickler = pickle._Pickler
            sys.modules['_pickle'] = fake
            try:
                import _interpreters
            except ImportError as exc:
                print(exc)
            """))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, '_pickle.Pickler was replaced\n')

    def test_items_survive_sender(self):
        q = self.create_queue()
        interp = interpreters.create()
        interp.prepare_main(q=q)
        interp.run(dedent("""
            import fractions
            q.put('spam')
            q.put((1, (b'x', None)))
            q.put(2**100)
            q.put(fractions.Fraction(1, 3))
            q.put({'a': [1]})
            """))
        interp.destroy()
        self.assertEqual([q.get_nowait() for _ in range(5)],
                         ['spam', (1, (b'x', None)), 2**100,
                          fractions.Fraction(1, 3), {'a': [1]}])

    def test_big_payload(self):
        data = bytes(range(256)) * (256 << 10)
        self.assertEqual(len(data), 64 << 20)
        got, = self.echo([data])
        self.assertEqual(got, data)

    def test_deep_nesting(self):
        # A clear error or the right value: never a crash.
        rc, out, err = run_script(self, dedent("""
            import interpreters
            deep = ()
            for _ in range(1_000_000):
                deep = (deep,)
            try:
                shareable = interpreters.is_shareable(deep)
            except RecursionError:
                shareable = 'RecursionError'
            q = interpreters.create_queue()
            try:
                q.put(deep)
            except (RecursionError, interpreters.NotShareableError) as exc:
                print(shareable, type(exc).__name__, q.qsize())
            else:
                got = q.get()
                depth = 0
                while got:
                    got, = got
                    depth += 1
                print(shareable, depth)
            """))
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r'\A(True 1000000|'
                              r'(True|False|RecursionError) '
                              r'(RecursionError|NotShareableError) 0)\n\Z')


# ----------------------------------------------------------------------------
# Interpreter.call() and Interpreter.prepare_main()

class CallTests(TestBase):

    def test_builtin(self):
        interp = interpreters.create()
        self.assertEqual(interp.call(len, 'spam'), 4)
        self.assertEqual(interp.call(pow, 2, 100), 2**100)
        self.assertEqual(interp.call(divmod, 7, 2), (3, 1))
        self.assertEqual(interp.call(int, '10', base=16), 16)
        self.assertEqual(interp.call(sorted, (3, 1, 2), reverse=True),
                         [3, 2, 1])
        self.assertIsNone(interp.call(min, (), default=None))
        self.assertFalse(interp.is_running())

    def test_importable_function(self):
        # Found again by module and name, in a module of pure Python.
        import json
        interp = interpreters.create()
        self.assertEqual(interp.call(json.dumps, {'a': [1, None]}),
                         '{"a": [1, null]}')

    def test_runs_in_target(self):
        interp = interpreters.create()
        self.assertEqual(interp.call(interpreters.get_current), interp)
        limit = sys.getrecursionlimit()
        self.assertIsNone(interp.call(sys.setrecursionlimit, limit + 1))
        self.assertEqual(interp.call(sys.getrecursionlimit), limit + 1)
        self.assertEqual(sys.getrecursionlimit(), limit)

    def test_in_thread(self):
        interp = interpreters.create()
        results = []
        with run_in_threads((lambda: results.append(
                interp.call(threading.get_native_id)),)):
            pass
        self.assertNotEqual(results, [threading.get_native_id()])
        self.assertEqual(interp.call(threading.get_native_id),
                         threading.get_native_id())

    def test_function_from_subinterpreter_main(self):
        interp = interpreters.create()
        out = run_output(interp, """
            import interpreters
            def triple(x):
                return 3 * x
            inner = interpreters.create()
            inner.prepare_main(factor=10)
            print(inner.call(triple, 5), inner.call(lambda: factor * 2))
            inner.destroy()
            """)
        self.assertEqual(out, '15 20\n')

    @requires_subprocess
    def test_function_from_script_main(self):
        rc, out, err = run_script(self, dedent("""
            import interpreters
            def double(x):
                return x * 2
            square = lambda x: x * x
            spam = 'main'
            def get_spam():
                return spam
            interp = interpreters.create()
            interp.prepare_main(spam='sub')
            print(interp.call(double, 21), interp.call(square, 7),
                  interp.call(get_spam))
            """))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, '42 49 sub\n')

    def test_closure(self):
        interp = interpreters.create()
        with self.assertRaises(interpreters.NotShareableError):
            interp.call(_make_closure())
        self.assertFalse(interp.is_running())

    def test_unshareable_arguments(self):
        interp = interpreters.create()
        with self.assertRaises(interpreters.NotShareableError):
            interp.call(len, [threading.Lock()])
        with self.assertRaises(interpreters.NotShareableError):
            interp.call(dict, spam=threading.Lock())
        with self.assertRaises(interpreters.NotShareableError):
            interp.call(threading.Lock().acquire)
        self.assertFalse(interp.is_running())

    def test_unshareable_result(self):
        interp = interpreters.create()
        with self.assertRaises((interpreters.NotShareableError,
                                interpreters.RunFailedError)):
            interp.call(threading.Lock)
        self.assertFalse(interp.is_running())
        self.assertEqual(interp.call(len, ()), 0)

    def test_keyword_names(self):
        # Only func is positional-only: any keyword goes to the call.
        interp = interpreters.create()
        self.assertEqual(interp.call(dict, func=1, self=2),
                         {'func': 1, 'self': 2})

    def test_pickled_arguments_and_result(self):
        interp = interpreters.create()
        self.assertEqual(interp.call(dict, [('a', [1])], b={2}),
                         {'a': [1], 'b': {2}})

    def test_failure(self):
        interp = interpreters.create()
        with self.assertRaises(interpreters.RunFailedError) as cm:
            interp.call(divmod, 1, 0)
        err = cm.exception
        self.assertEqual(str(err), 'ZeroDivisionError: '
                                   'integer division or modulo by zero')
        self.assertEqual(err.excinfo.type.__name__, 'ZeroDivisionError')
        self.assertIn('ZeroDivisionError', err.excinfo.formatted)
        cause = err.__cause__
        self.assertIs(type(cause), ZeroDivisionError)
        self.assertEqual(cause.args, ('integer division or modulo by zero',))
        with self.assertRaises(ZeroDivisionError):
            raise err.__cause__
        self.assertFalse(interp.is_running())

    def test_failure_importable_exception(self):
        import json
        interp = interpreters.create()
        with self.assertRaises(interpreters.RunFailedError) as cm:
            interp.call(json.loads, '{')
        cause = cm.exception.__cause__
        self.assertIs(type(cause), json.JSONDecodeError)
        self.assertEqual(cause.pos, 1)
        self.assertEqual(cm.exception.excinfo.type.__module__, 'json.decoder')

    def test_failure_exception_only_in_target(self):
        interp = interpreters.create()
        with self.assertRaises(interpreters.RunFailedError) as cm:
            interp.call(exec, dedent("""
                class SpamError(Exception):
                    pass
                raise SpamError('boom')
                """), {'__name__': 'spam_only_here'})
        err = cm.exception
        self.assertIsNone(err.__cause__)
        self.assertEqual(str(err), 'SpamError: boom')
        self.assertEqual(err.excinfo.type.__name__, 'SpamError')
        self.assertEqual(err.excinfo.type.__module__, 'spam_only_here')
        self.assertEqual(err.excinfo.msg, 'boom')
        self.assertFalse(interp.is_running())

    def test_system_exit(self):
        interp = interpreters.create()
        with self.assertRaises(interpreters.RunFailedError) as cm:
            interp.call(sys.exit, 5)
        self.assertEqual(cm.exception.excinfo.type.__name__, 'SystemExit')
        self.assertIs(type(cm.exception.__cause__), SystemExit)
        self.assertEqual(cm.exception.__cause__.code, 5)

    def test_already_running(self):
        interp = interpreters.create()
        with running(interp):
            with self.assertRaises(interpreters.InterpreterError) as cm:
                interp.call(len, ())
            self.assertNotIsInstance(cm.exception,
                                     interpreters.RunFailedError)

    def test_not_callable(self):
        interp = interpreters.create()
        with self.assertRaises((TypeError, interpreters.RunFailedError)):
            interp.call(42)
        self.assertFalse(interp.is_running())

    # Builtins that work on the namespaces of the calling frame run
    # against the target's __main__.

    def test_eval_in_main(self):
        interp = interpreters.create()
        interp.prepare_main(x=1)
        self.assertEqual(interp.call(eval, 'x + 1'), 2)
        self.assertEqual(interp.call(eval, '__name__'), '__main__')
        with self.assertRaises(interpreters.RunFailedError) as cm:
            interp.call(eval, 'undefined_in_main')
        self.assertIs(type(cm.exception.__cause__), NameError)
        self.assertFalse(interp.is_running())

    def test_exec_in_main(self):
        interp = interpreters.create()
        before = set(interp.call(dir))
        self.assertIsNone(interp.call(exec, 'y = 5'))
        self.assertEqual(interp.call(eval, 'y'), 5)
        # Nothing but y was added to __main__ on the way.
        self.assertEqual(set(interp.call(dir)) - before, {'y'})
        self.assertEqual(run_output(interp, 'print(y)'), '5\n')

    def test_dir_in_main(self):
        interp = interpreters.create()
        interp.prepare_main(spam=1)
        names = interp.call(dir)
        self.assertIn('spam', names)
        self.assertIn('__name__', names)
        self.assertEqual(names, sorted(names))
        self.assertEqual(names, interp.call(eval, 'sorted(globals())'))

    def assert_main_namespace(self, interp, func):
        # __main__'s dict holds the builtins module, which cannot cross.
        with self.assertRaises(interpreters.NotShareableError) as cm:
            interp.call(func)
        self.assertIn('result', str(cm.exception))
        interp.call(exec, 'del __builtins__')
        ns = interp.call(func)
        self.assertIs(type(ns), dict)
        self.assertEqual(ns['__name__'], '__main__')
        self.assertEqual(ns['x'], 1)
        self.assertEqual(ns.keys(), set(interp.call(dir)))

    def test_globals_in_main(self):
        interp = interpreters.create()
        interp.prepare_main(x=1)
        self.assert_main_namespace(interp, globals)

    def test_locals_in_main(self):
        interp = interpreters.create()
        interp.prepare_main(x=1)
        self.assert_main_namespace(interp, locals)

    def test_vars_in_main(self):
        interp = interpreters.create()
        interp.prepare_main(x=1)
        self.assert_main_namespace(interp, vars)
        self.assertEqual(interp.call(vars, types.SimpleNamespace(a=1)),
                         {'a': 1})

    def test_unshareable_result_reason(self):
        # The result is a dict holding a module: the error names the result
        # and its __cause__ says why it could not cross.
        interp = interpreters.create()
        with self.assertRaises(interpreters.NotShareableError) as cm:
            interp.call(globals)
        err = cm.exception
        self.assertNotIn('str() failed', str(err))
        self.assertIn('result', str(err))
        self.assertIn("'dict'", str(err))
        self.assertIsInstance(err.__cause__, TypeError)
        self.assertIn('module', str(err.__cause__))
        with self.assertRaises(interpreters.NotShareableError) as cm:
            interp.call(threading.Lock)
        self.assertIn('lock', str(cm.exception))
        self.assertIsInstance(cm.exception.__cause__, TypeError)
        self.assertFalse(interp.is_running())
        self.assertEqual(interp.call(len, ()), 0)


class PrepareMainTests(TestBase):

    def test_names(self):
        interp = interpreters.create()
        self.assertIsNone(interp.prepare_main({'a': 1, 'b': 'two'},
                                              c=(3,), d=None))
        self.assertEqual(run_output(interp, 'print(a, b, c, d)'),
                         "1 two (3,) None\n")

    def test_keywords_win(self):
        interp = interpreters.create()
        interp.prepare_main({'spam': 1}, spam=2)
        self.assertEqual(run_output(interp, 'print(spam)'), '2\n')

    def test_keywords_win_over_any_mapping(self):
        # As with dict.update(ns, **kwargs), whatever ns is.
        interp = interpreters.create()
        for ns in (types.MappingProxyType({'spam': 1, 'eggs': 1}),
                   collections.UserDict(spam=1, eggs=1),
                   [('spam', 1), ('eggs', 1)]):
            with self.subTest(ns=type(ns).__name__):
                interp.prepare_main(ns, spam=fractions.Fraction(1, 2),
                                    ns=3)
                self.assertEqual(run_output(interp, 'print(spam, eggs, ns)'),
                                 '1/2 1 3\n')

    def test_nothing(self):
        interp = interpreters.create()
        interp.prepare_main()
        interp.prepare_main({})
        interp.prepare_main(None)
        self.assertEqual(run_output(interp, "print('a' in globals())"),
                         'False\n')

    def test_mapping_and_pairs(self):
        interp = interpreters.create()
        interp.prepare_main(types.MappingProxyType({'a': 1}))
        interp.prepare_main([('b', 2)])
        self.assertEqual(run_output(interp, 'print(a, b)'), '1 2\n')
        with self.assertRaises(TypeError):
            interp.prepare_main(42)

    def test_keyword_names(self):
        interp = interpreters.create()
        interp.prepare_main(ns=1, self=2)
        self.assertEqual(run_output(interp, 'print(ns, self)'), '1 2\n')

    def test_replaces_and_keeps(self):
        interp = interpreters.create()
        interp.run('spam = 1; eggs = 2')
        interp.prepare_main(spam=10)
        self.assertEqual(run_output(interp, 'print(spam, eggs)'), '10 2\n')

    def test_values_are_copies(self):
        interp = interpreters.create()
        value = [1, 2]
        interp.prepare_main(value=value)
        interp.run('value.append(3)')
        self.assertEqual(value, [1, 2])
        self.assertEqual(run_output(interp, 'print(value)'), '[1, 2, 3]\n')

    def test_pickled_values(self):
        interp = interpreters.create()
        interp.prepare_main(frac=fractions.Fraction(1, 3), d={'a': {1}})
        self.assertEqual(run_output(interp, 'print(frac, d)'),
                         "1/3 {'a': {1}}\n")

    def test_not_shareable(self):
        interp = interpreters.create()
        with self.assertRaises(interpreters.NotShareableError) as cm:
            interp.prepare_main(ok=1, lock=threading.Lock())
        # The error names the value that cannot cross, and why.
        self.assertEqual(str(cm.exception), "cannot bind 'lock': "
                         "'_thread.lock' object is not shareable")
        self.assertIsInstance(cm.exception.__cause__, TypeError)
        self.assertIn('lock', str(cm.exception.__cause__))

    def test_bad_names(self):
        interp = interpreters.create()
        with self.assertRaises(TypeError):
            interp.prepare_main({1: 'one'})


# ----------------------------------------------------------------------------
# The example in Doc/library/interpreters.rst

@requires_subprocess
class ExampleTests(unittest.TestCase):

    def test_pool_example(self):
        with open(EXAMPLE, encoding='utf-8') as f:
            source = f.read()
        rc, out, err = run_script(self, source)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, '10! has 7 digits\n'
                              '100! has 158 digits\n'
                              '500! has 1135 digits\n')
        self.assertEqual(err, '')


if __name__ == '__main__':
    unittest.main()
