# Tests for stopping code that runs in an interpreter: Interpreter.interrupt()
# and the timeout of run() and exec(), in the interpreters module (PEP 554)
# and in concurrent.interpreters (PEP 734).  Each test runs against both
# modules: see the *Tests classes at the end.
import os
import random
import signal
import socket
import sys
import threading
import time
import unittest
from textwrap import dedent
from test import support
from test.support import import_helper
from test.support import interpreters_helper
from test.support import socket_helper
from test.support import threading_helper

threading_helper.requires_working_threading(module=True)
_interpreters = import_helper.import_module('_interpreters')
import interpreters
from concurrent import interpreters as cinterpreters


# An ID that no interpreter will have during the tests.
UNKNOWN_ID = 2**62

# How long code that only an interrupt can stop blocks at most.  The tests
# wait SHORT_TIMEOUT for the interrupt to stop it: the bound only keeps a
# failing test from hanging forever.
BLOCK = 2 * support.SHORT_TIMEOUT

requires_subprocess = support.requires_subprocess()
requires_posix_signals = unittest.skipIf(sys.platform == 'win32',
                                         'needs POSIX signals')

# Code that gets the interpreter busy, then leaves it usable: a run of it
# fails if an interrupt is still pending, in the eval loop or in the wait.
STEADY = dedent("""
    import time
    for _i in range(100_000):
        pass
    time.sleep(0.001)
    _steady = True
    """)

# A busy loop that only an interrupt ends in practice.  _deadline is bound
# by ready_queue(): the loop ends by itself after BLOCK seconds.
BUSY = dedent("""
    import time
    _ready.put(1)
    while time.monotonic() < _deadline:
        pass
    """)

# The same loop, which swallows every KeyboardInterrupt it gets.
SWALLOWING = dedent("""
    import time
    _ready.put(1)
    while time.monotonic() < _deadline:
        try:
            while time.monotonic() < _deadline:
                pass
        except KeyboardInterrupt:
            pass
    """)

# A thread of the interpreter, outside any run, that ends a wait once the
# test writes to _release.  The wait it ends follows, in the same source.
SUB_RELEASER = """\
import os, threading
def _releaser():
    os.read(_release, 1)
{release}
_releaser_thread = threading.Thread(target=_releaser)
_releaser_thread.start()
"""


def busy_until(ready, deadline):
    """What BUSY does, for call()."""
    ready.put(1)
    while time.monotonic() < deadline:
        pass


def catch_once(ready, deadline):
    """Swallow one KeyboardInterrupt of a busy loop; return 'caught'."""
    try:
        busy_until(ready, deadline)
    except KeyboardInterrupt:
        return 'caught'
    return 'not interrupted'


class TestBase(interpreters_helper.TestBase):
    """Destroy every interpreter a test made; the API under test.

    The subclasses bind the names that differ between the two modules.
    """

    module = None           # the module under test
    module_name = None      # how code imports it
    run_name = None         # the method that runs source code
    close_name = None       # the method that destroys the interpreter
    failure_name = None     # the exception it raises if the code raises
    timeout_name = None     # the exception it raises past its timeout

    # The API under test

    @property
    def failure(self):
        return getattr(self.module, self.failure_name)

    @property
    def timeout_error(self):
        # Looked up when a test needs it: a missing name fails that test,
        # not the import of this file.
        return getattr(self.module, self.timeout_name)

    def create(self):
        return self.module.create()

    def run_code(self, interp, code, *args, **kwargs):
        return getattr(interp, self.run_name)(code, *args, **kwargs)

    def script(self, source):
        """Return source with the names of the module under test in it."""
        return dedent(source).format(
            module=self.module_name, run=self.run_name,
            failure=self.failure_name, timeout=self.timeout_name,
            close=self.close_name)

    # Helpers

    def ready_queue(self, interp):
        """Bind _ready, _block and _deadline in interp's __main__.

        Code puts 1 in the queue _ready right before what the test
        interrupts, which lasts _block seconds or until _deadline (see
        BUSY) if not interrupted.  Return the queue.

        A queue, not a pipe: put() keeps the GIL, which the test needs
        to go on, until the code releases it in the wait that follows.
        After os.write(), the test could interrupt the code before it
        got there, as the write returns.
        """
        ready = self.module.create_queue()
        interp.prepare_main(_ready=ready, _block=BLOCK,
                            _deadline=time.monotonic() + BLOCK)
        return ready

    def interrupt_when_ready(self, interp, target, ready, *,
                             in_main=False, unwind=False, interrupt=None,
                             release=None):
        """Call target(), which runs code in interp, and interrupt that code.

        The code puts 1 in the queue ready right before it blocks; then
        interrupt() (by default interp.interrupt(unwind=unwind)) is called.
        target() runs in a new thread, or in this one if in_main (then a
        new thread interrupts).  If the run has not ended SHORT_TIMEOUT
        after the interrupt, release() (if given) ends the wait and the
        test fails.  Return (what interrupt() returned, what target()
        raised or None).
        """
        if interrupt is None:
            def interrupt():
                return interp.interrupt(unwind=unwind)
        state = {}
        done = threading.Event()

        def run():
            try:
                target()
            except BaseException as exc:
                state['error'] = exc
            finally:
                done.set()
                # Wakes up the interrupter if the code ended before it
                # was ready.
                ready.put(0)

        def interrupt_it():
            try:
                if ready.get(timeout=support.SHORT_TIMEOUT) == 1:
                    state['interrupted'] = interrupt()
            except BaseException as exc:
                state['interrupt_error'] = exc
            finally:
                if not ('interrupted' in state
                        and done.wait(support.SHORT_TIMEOUT)):
                    state['late'] = not done.is_set()
                    if release is not None:
                        release()

        background, foreground = (interrupt_it, run) if in_main else (
            run, interrupt_it)
        thread = threading.Thread(target=background)
        thread.start()
        try:
            foreground()
        finally:
            threading_helper.join_thread(thread,
                                         timeout=BLOCK + support.SHORT_TIMEOUT)
        if 'interrupt_error' in state:
            raise state['interrupt_error']
        if 'interrupted' not in state:
            self.fail(f'the code ended before it was ready: '
                      f'{state.get("error")!r}')
        if state.get('late'):
            self.fail(f'the run was not interrupted within '
                      f'{support.SHORT_TIMEOUT} s (interrupt() returned '
                      f'{state["interrupted"]!r}, the run ended with '
                      f'{state.get("error")!r})')
        return state['interrupted'], state.get('error')

    def interrupt_code(self, interp, code, **kwargs):
        """Run code (see BUSY) in interp and interrupt it when ready."""
        ready = self.ready_queue(interp)
        return self.interrupt_when_ready(
            interp, lambda: self.run_code(interp, code), ready, **kwargs)

    def assert_keyboard_interrupt(self, error, cls=None):
        """Check that error is the failure a KeyboardInterrupt made."""
        self.assertIsInstance(error, cls or self.failure)
        self.assertEqual(error.excinfo.type.__name__, 'KeyboardInterrupt')

    def assert_interrupted(self, result, cls=None):
        interrupted, error = result
        self.assertIs(interrupted, True)
        self.assert_keyboard_interrupt(error, cls)

    def assert_usable(self, interp):
        """Check that interp is idle and that no interrupt is left over."""
        self.assertFalse(interp.is_running())
        self.assertIs(interp.interrupt(), False)
        self.run_code(interp, STEADY)
        self.run_code(interp, 'assert _steady')
        self.assertFalse(interp.is_running())


# ----------------------------------------------------------------------------
# The tests, for either module

class InterruptTests:
    """interrupt(): what it returns, what the caller of the run gets."""

    def test_busy_loop_from_thread(self):
        interp = self.create()
        self.assert_interrupted(self.interrupt_code(interp, BUSY))
        self.assert_usable(interp)

    def test_busy_loop_from_main_thread(self):
        interp = self.create()
        self.assert_interrupted(self.interrupt_code(interp, BUSY,
                                                    in_main=True))
        self.assert_usable(interp)

    def test_tight_loop(self):
        # "while True: pass" checks for the interrupt nowhere but in the
        # eval loop's backward jump.
        interp = self.create()
        code = '_ready.put(1)\nwhile True: pass'
        self.assert_interrupted(self.interrupt_code(interp, code))
        self.assert_usable(interp)

    def test_traceback(self):
        interp = self.create()
        _, error = self.interrupt_code(interp, BUSY)
        self.assert_keyboard_interrupt(error)
        self.assertIn('KeyboardInterrupt', str(error))

    def test_call(self):
        interp = self.create()
        ready = self.ready_queue(interp)
        deadline = time.monotonic() + BLOCK
        result = self.interrupt_when_ready(
            interp, lambda: interp.call(busy_until, ready, deadline),
            ready)
        self.assert_interrupted(result)
        self.assert_usable(interp)

    def test_call_catches(self):
        # The callable catches it: its result comes back.
        interp = self.create()
        ready = self.ready_queue(interp)
        deadline = time.monotonic() + BLOCK
        results = []
        result = self.interrupt_when_ready(
            interp,
            lambda: results.append(interp.call(catch_once, ready,
                                               deadline)),
            ready)
        self.assertEqual(result, (True, None))
        self.assertEqual(results, ['caught'])
        self.assert_usable(interp)

    def test_call_bounded_with_timer(self):
        # How the docs bound call(), which has no timeout: a timer calls
        # interrupt(unwind=True).  Here it waits for the call to have
        # started, or it might find the interpreter still idle.
        interp = self.create()
        ready = self.ready_queue(interp)

        def stop():
            if ready.get(timeout=support.SHORT_TIMEOUT) == 1:
                interp.interrupt(unwind=True)

        timer = threading.Timer(0.01, stop)
        timer.start()
        try:
            with self.assertRaises(self.failure) as cm:
                interp.call(busy_until, ready, time.monotonic() + BLOCK)
        finally:
            timer.cancel()
            ready.put(0)
            threading_helper.join_thread(timer)
        self.assert_keyboard_interrupt(cm.exception)
        self.assert_usable(interp)

    def test_idle(self):
        interp = self.create()
        self.assertIs(interp.interrupt(), False)
        self.assertIs(interp.interrupt(unwind=True), False)
        self.assert_usable(interp)
        self.run_code(interp, 'x = 1')
        self.assertIs(interp.interrupt(), False)
        self.assert_usable(interp)

    def test_is_running_after(self):
        interp = self.create()
        self.assert_interrupted(self.interrupt_code(interp, BUSY))
        self.assertFalse(interp.is_running())
        self.assertIs(interp.interrupt(), False)

    def test_unwind_is_keyword_only(self):
        interp = self.create()
        with self.assertRaises(TypeError):
            interp.interrupt(True)

    def test_destroyed(self):
        interp = self.create()
        getattr(interp, self.close_name)()
        with self.assertRaises(self.module.InterpreterNotFoundError):
            interp.interrupt()
        with self.assertRaises(self.module.InterpreterNotFoundError):
            interp.interrupt(unwind=True)

    def test_low_level_bad_ids(self):
        with self.assertRaises(_interpreters.InterpreterNotFoundError):
            _interpreters.interrupt(UNKNOWN_ID)
        with self.assertRaises(ValueError):
            _interpreters.interrupt(-1)
        with self.assertRaises(TypeError):
            _interpreters.interrupt('1')
        self.assertIs(_interpreters.interrupt(_interpreters.get_main()),
                      False)


class WaitTests:
    """interrupt() wakes up blocking waits, from a thread and the main one.

    The code writes to _ready right before it blocks: the interrupt may
    come just before the wait, which must then not block.
    """

    def check_wait(self, code, release=None, *, sub_release=None, **bind):
        """Check that interrupt() stops code blocked in a wait.

        release() ends the wait from here if the interrupt did not;
        sub_release, the same from a thread of the interpreter (see
        SUB_RELEASER), or True if the code starts that thread itself;
        bind, names to bind in __main__ first.
        """
        code = dedent(code)
        for in_main in (False, True):
            with self.subTest(in_main=in_main):
                interp = self.create()
                if bind:
                    interp.prepare_main(bind)
                source = code
                if sub_release is not None:
                    release_r, release_w = self.pipe()
                    interp.prepare_main(_release=release_r,
                                        _timeout=support.SHORT_TIMEOUT)
                    release = lambda: os.write(release_w, b'1')
                    if sub_release is not True:
                        source = SUB_RELEASER.format(
                            release='    ' + sub_release) + code
                try:
                    result = self.interrupt_code(interp, source,
                                                 in_main=in_main,
                                                 release=release)
                finally:
                    if sub_release is not None:
                        # Its thread was not touched: it ends the wait
                        # only now.
                        release()
                        self.run_code(interp, dedent("""
                            _releaser_thread.join(_timeout)
                            assert not _releaser_thread.is_alive()
                            """))
                self.assert_interrupted(result)
                self.assert_usable(interp)

    def test_sleep(self):
        self.check_wait("""
            import time
            _ready.put(1)
            time.sleep(_block)
            """)

    def test_lock_acquire(self):
        self.check_wait("""
            _lock = threading.Lock()
            _lock.acquire()
            _ready.put(1)
            _lock.acquire()
            """, sub_release='_lock.release()')

    def test_lock_acquire_timeout(self):
        self.check_wait("""
            _lock = threading.Lock()
            _lock.acquire()
            _ready.put(1)
            _lock.acquire(timeout=_block)
            """, sub_release='_lock.release()')

    def test_rlock_acquire(self):
        # Held by another thread, which lets it go once released.
        self.check_wait("""
            import os, threading
            _rlock = threading.RLock()
            _held = threading.Event()
            def _hold():
                with _rlock:
                    _held.set()
                    os.read(_release, 1)
            _releaser_thread = threading.Thread(target=_hold)
            _releaser_thread.start()
            _held.wait()
            _ready.put(1)
            _rlock.acquire()
            """, sub_release=True)

    def test_event_wait(self):
        self.check_wait("""
            _event = threading.Event()
            _ready.put(1)
            _event.wait()
            """, sub_release='_event.set()')

    def test_condition_wait(self):
        self.check_wait("""
            _cond = threading.Condition()
            _flag = []
            with _cond:
                _ready.put(1)
                _cond.wait_for(lambda: _flag)
            """, sub_release=('with _cond: _flag.append(1); '
                              '_cond.notify_all()'))

    def test_queue_get(self):
        self.check_wait("""
            import queue
            _q = queue.Queue()
            _ready.put(1)
            _q.get()
            """, sub_release='_q.put(None)')

    def test_queue_put_full(self):
        self.check_wait("""
            import queue
            _q = queue.Queue(maxsize=1)
            _q.put(1)
            _ready.put(1)
            _q.put(2)
            """, sub_release='_q.get()')

    def test_interpreters_queue_get(self):
        q = self.module.create_queue()
        self.check_wait("""
            _ready.put(1)
            _q.get()
            """, lambda: q.put(None), _q=q)
        # The interrupted get() took nothing.
        self.assertTrue(q.empty())

    def test_interpreters_queue_put_full(self):
        q = self.module.create_queue(1)
        q.put(1)
        self.check_wait("""
            _ready.put(1)
            _q.put(2)
            """, lambda: q.get(timeout=support.SHORT_TIMEOUT), _q=q)
        # The interrupted put() added nothing.
        self.assertEqual(q.get_nowait(), 1)
        self.assertTrue(q.empty())

    def test_os_read(self):
        r, w = self.pipe()
        self.check_wait("""
            import os
            _ready.put(1)
            os.read(_fd, 1)
            """, lambda: os.write(w, b'x'), _fd=r)

    def socketpair(self):
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        return a, b

    def test_select(self):
        a, b = self.socketpair()
        self.check_wait("""
            import select
            _ready.put(1)
            select.select([_fd], [], [])
            """, lambda: a.send(b'x'), _fd=b.fileno())

    def test_selectors(self):
        a, b = self.socketpair()
        self.check_wait("""
            import selectors
            with selectors.DefaultSelector() as sel:
                sel.register(_fd, selectors.EVENT_READ)
                _ready.put(1)
                sel.select()
            """, lambda: a.send(b'x'), _fd=b.fileno())

    def test_socket_recv(self):
        a, b = self.socketpair()
        self.check_wait("""
            import socket
            with socket.fromfd(_fd, _family, socket.SOCK_STREAM) as s:
                _ready.put(1)
                s.recv(1)
            """, lambda: a.send(b'x'), _fd=b.fileno(), _family=int(b.family))

    def test_socket_accept(self):
        server = socket.create_server((socket_helper.HOST, 0))
        self.addCleanup(server.close)

        def release():
            with socket.create_connection(server.getsockname(),
                                          timeout=support.SHORT_TIMEOUT):
                pass

        self.check_wait("""
            import socket
            with socket.fromfd(_fd, _family, socket.SOCK_STREAM) as s:
                _ready.put(1)
                conn, _ = s.accept()
                conn.close()
            """, release, _fd=server.fileno(), _family=int(server.family))


class UnwindTests:
    """unwind=False: the code may catch it; unwind=True: it cannot."""

    def test_caught_once_goes_on(self):
        interp = self.create()
        code = dedent("""
            import time
            _caught = False
            try:
                _ready.put(1)
                while time.monotonic() < _deadline:
                    pass
            except KeyboardInterrupt:
                _caught = True
            # Goes on normally: the interrupt is not raised again.
            for _i in range(100_000):
                pass
            time.sleep(0.001)
            _finished = True
            """)
        self.assertEqual(self.interrupt_code(interp, code), (True, None))
        self.run_code(interp, 'assert _caught and _finished')
        self.assert_usable(interp)

    def test_unwind_cannot_be_swallowed(self):
        interp = self.create()
        self.assert_interrupted(
            self.interrupt_code(interp, SWALLOWING, unwind=True))
        self.assert_usable(interp)

    def test_unwind_reaches_waits_after_catching(self):
        interp = self.create()
        code = dedent("""
            import time
            _ready.put(1)
            try:
                time.sleep(_block)
            except KeyboardInterrupt:
                pass
            time.sleep(_block)
            """)
        self.assert_interrupted(self.interrupt_code(interp, code,
                                                    unwind=True))
        self.assert_usable(interp)

    def test_unwind_ends_with_the_run(self):
        # The next run may catch KeyboardInterrupt as it likes: nothing is
        # raised there.
        interp = self.create()
        self.assert_interrupted(
            self.interrupt_code(interp, SWALLOWING, unwind=True))
        self.run_code(interp, dedent("""
            try:
                for _i in range(100_000):
                    pass
            except KeyboardInterrupt:
                raise AssertionError('interrupted again')
            """))
        self.assert_usable(interp)

    def test_without_unwind_the_swallowing_loop_goes_on(self):
        # The first interrupt is swallowed; the run goes on until an
        # unwinding one.
        interp = self.create()
        ready = self.ready_queue(interp)
        # The interrupt may be raised where a call returns: the first
        # put() is inside the try.
        code = dedent("""
            import time
            _caught = 0
            _started = False
            while time.monotonic() < _deadline:
                try:
                    if not _started:
                        _started = True
                        _ready.put(1)
                    while time.monotonic() < _deadline:
                        pass
                except KeyboardInterrupt:
                    _caught += 1
                    if _caught == 1:
                        _ready.put(1)
            """)
        returned = []

        def interrupt():
            returned.append(interp.interrupt())
            # Caught: the run goes on and says so.
            self.assertEqual(ready.get(timeout=support.SHORT_TIMEOUT), 1)
            returned.append(interp.interrupt(unwind=True))
            return True

        self.assert_interrupted(self.interrupt_when_ready(
            interp, lambda: self.run_code(interp, code), ready,
            interrupt=interrupt))
        self.assertEqual(returned, [True, True])
        self.run_code(interp, 'assert _caught >= 1, _caught')
        self.assert_usable(interp)


class TimeoutTests:
    """run(timeout=) / exec(timeout=)."""

    def check_timeout(self, interp, code, timeout=0.05):
        with self.assertRaises(self.timeout_error) as cm:
            self.run_code(interp, code, timeout=timeout)
        error = cm.exception
        self.assertIsInstance(error, TimeoutError)
        self.assertIsInstance(error, self.failure)
        self.assert_keyboard_interrupt(error)
        self.assertFalse(interp.is_running())
        return error

    def test_class(self):
        self.assertTrue(issubclass(self.timeout_error, self.failure))
        self.assertTrue(issubclass(self.timeout_error, TimeoutError))

    def test_busy_loop(self):
        interp = self.create()
        self.ready_queue(interp)
        self.check_timeout(interp, BUSY)
        self.assert_usable(interp)

    def test_sleep(self):
        interp = self.create()
        self.ready_queue(interp)
        self.check_timeout(interp, 'import time; time.sleep(_block)')
        self.assert_usable(interp)

    def test_swallowing_loop(self):
        # The timeout unwinds.
        interp = self.create()
        self.ready_queue(interp)
        self.check_timeout(interp, SWALLOWING)
        self.assert_usable(interp)

    def test_int_timeout(self):
        interp = self.create()
        # An int: a long one, but the code ends before it anyway.
        self.run_code(interp, 'x = 1', timeout=1000)
        self.run_code(interp, 'assert x == 1')

    def test_finishes_in_time(self):
        interp = self.create()
        self.assertIsNone(self.run_code(interp, '_x = 6 * 7',
                                        timeout=support.SHORT_TIMEOUT))
        self.run_code(interp, 'assert _x == 42')
        self.assertIsNone(self.run_code(interp, STEADY, timeout=None))
        self.assert_usable(interp)

    def test_no_stale_timeout(self):
        # The deadline of a run that finished in time does not hit the
        # runs after it, which last longer than that timeout.
        interp = self.create()
        for _ in range(10):
            try:
                self.run_code(interp, 'pass', timeout=0.01)
            except self.timeout_error:
                # Even "pass" may take that long on a loaded machine.
                pass
        self.run_code(interp, 'import time; time.sleep(0.1)')
        self.run_code(interp, dedent("""
            import time
            _end = time.monotonic() + 0.1
            while time.monotonic() < _end:
                pass
            """))
        self.assert_usable(interp)

    def test_bad_timeouts(self):
        interp = self.create()
        for timeout, exc in [(0, ValueError), (0.0, ValueError),
                             (-1, ValueError), (-0.5, ValueError),
                             (float('nan'), ValueError),
                             ('x', TypeError), ('1', TypeError),
                             (b'1', TypeError), ([], TypeError)]:
            with self.subTest(timeout=timeout):
                with self.assertRaises(exc):
                    self.run_code(interp, '_ran = True', timeout=timeout)
        self.run_code(interp, "assert '_ran' not in globals()")
        self.assert_usable(interp)

    def test_timeout_by_position(self):
        # As in threading and queue, the timeout may come by position.
        interp = self.create()
        self.ready_queue(interp)
        self.run_code(interp, '_x = 1', support.SHORT_TIMEOUT)
        with self.assertRaises(self.timeout_error):
            self.run_code(interp, 'import time; time.sleep(_block)', 0.05)
        self.assert_usable(interp)

    def test_interrupt_before_the_timeout(self):
        # An interrupt() ends the run before its timeout: the usual
        # failure, not the timeout's.
        interp = self.create()
        ready = self.ready_queue(interp)
        result = self.interrupt_when_ready(
            interp,
            lambda: self.run_code(interp, BUSY, timeout=BLOCK),
            ready)
        self.assert_interrupted(result)
        self.assertNotIsInstance(result[1], self.timeout_error)
        self.assert_usable(interp)


class ReliabilityTests:
    """Interrupts from everywhere, and racing with everything."""

    def test_interrupt_twice(self):
        interp = self.create()
        returned = []

        def interrupt():
            returned.append(interp.interrupt())
            returned.append(interp.interrupt(unwind=True))
            return returned[0]

        ready = self.ready_queue(interp)
        self.assert_interrupted(self.interrupt_when_ready(
            interp, lambda: self.run_code(interp, BUSY), ready,
            interrupt=interrupt))
        # The second one came while the first was pending or while the
        # run ended: it is not left for the next run.
        self.assertEqual(returned[0], True)
        self.assertIsInstance(returned[1], bool)
        self.assert_usable(interp)

    def test_from_inside(self):
        interp = self.create()
        self.ready_queue(interp)
        with self.assertRaises(self.failure) as cm:
            # It raises at the next check: maybe as soon as interrupt()
            # returns, maybe in the loop.
            self.run_code(interp, self.script("""
                import time, {module} as _m
                _m.get_current().interrupt()
                while time.monotonic() < _deadline:
                    pass
                """))
        self.assert_keyboard_interrupt(cm.exception)
        self.assert_usable(interp)

    def test_from_inside_with_unwind(self):
        interp = self.create()
        self.ready_queue(interp)
        with self.assertRaises(self.failure) as cm:
            self.run_code(interp, self.script("""
                import time, {module} as _m
                _m.get_current().interrupt(unwind=True)
                while time.monotonic() < _deadline:
                    try:
                        while time.monotonic() < _deadline:
                            pass
                    except KeyboardInterrupt:
                        pass
                """))
        self.assert_keyboard_interrupt(cm.exception)
        self.assert_usable(interp)

    def test_from_third_interpreter(self):
        # A thread of interpreter C, itself run from this one, interrupts
        # B.
        interp = self.create()
        third = self.create()
        third.prepare_main(_target=interp.id)

        def interrupt():
            self.run_code(third, self.script("""
                import threading, {module} as _m
                _returned = []
                def _interrupt():
                    _returned.append(_m.Interpreter(_target).interrupt())
                _t = threading.Thread(target=_interrupt)
                _t.start()
                _t.join()
                """))
            self.run_code(third, 'assert _returned == [True], _returned')
            return True

        ready = self.ready_queue(interp)
        self.assert_interrupted(self.interrupt_when_ready(
            interp, lambda: self.run_code(interp, BUSY), ready,
            interrupt=interrupt))
        self.assert_usable(interp)
        self.assert_usable(third)

    @requires_posix_signals
    def test_from_signal_handler(self):
        interp = self.create()
        returned = []

        def handler(signum, frame):
            returned.append(interp.interrupt(unwind=True))

        def interrupt():
            # The handler runs in this (main) thread of the main
            # interpreter, before pthread_kill() returns.
            signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)
            self.assertEqual(len(returned), 1)
            return returned[0]

        old_handler = signal.signal(signal.SIGUSR1, handler)
        try:
            ready = self.ready_queue(interp)
            self.assert_interrupted(self.interrupt_when_ready(
                interp, lambda: self.run_code(interp, BUSY), ready,
                interrupt=interrupt))
        finally:
            signal.signal(signal.SIGUSR1, old_handler)
        self.assert_usable(interp)

    @requires_posix_signals
    def test_from_signal_handler_os_kill(self):
        # The signal goes to the process: whichever thread gets it, the
        # handler runs in the main thread, here waiting on an event.
        interp = self.create()
        handled = threading.Event()
        returned = []

        def handler(signum, frame):
            returned.append(interp.interrupt())
            handled.set()

        def interrupt():
            os.kill(os.getpid(), signal.SIGUSR1)
            # Signal handlers run between bytecodes: a wait on a lock is
            # only woken if the main thread got the signal itself, so poll
            # with short waits.
            deadline = time.monotonic() + support.SHORT_TIMEOUT
            while not handled.wait(0.01):
                if time.monotonic() > deadline:
                    self.fail('the signal handler did not run')
            return returned[0]

        old_handler = signal.signal(signal.SIGUSR1, handler)
        try:
            ready = self.ready_queue(interp)
            self.assert_interrupted(self.interrupt_when_ready(
                interp, lambda: self.run_code(interp, BUSY), ready,
                interrupt=interrupt))
        finally:
            signal.signal(signal.SIGUSR1, old_handler)
        self.assert_usable(interp)

    def test_nested_run_is_not_interrupted(self):
        # B runs code of C, which interrupt(B) must not reach: C's code
        # completes, then B raises KeyboardInterrupt where it next checks.
        for unwind in (False, True):
            with self.subTest(unwind=unwind):
                interp = self.create()
                nested = self.create()
                ready = self.ready_queue(nested)
                self.ready_queue(interp)
                interp.prepare_main(_nested=nested.id)
                code = self.script("""
                    import time, {module} as _m
                    _m.Interpreter(_nested).{run}(
                        'import time\\n'
                        '_ready.put(1)\\n'
                        'time.sleep(0.2)\\n'
                        'for _i in range(100_000): pass\\n'
                        '_finished = True\\n')
                    while time.monotonic() < _deadline:
                        pass
                    """)
                result = self.interrupt_when_ready(
                    interp, lambda: self.run_code(interp, code),
                    ready, unwind=unwind)
                self.assert_interrupted(result)
                self.run_code(nested, 'assert _finished')
                self.assert_usable(nested)
                self.assert_usable(interp)

    def test_from_nested_run_of_another_interpreter(self):
        # Code of C, which B's code runs, interrupts B: C's code goes on
        # to its end, and B raises KeyboardInterrupt once C's run returns.
        interp = self.create()
        nested = self.create()
        self.ready_queue(interp)
        interp.prepare_main(_nested=nested.id)
        nested.prepare_main(_target=interp.id)
        code = self.script("""
            import time, {module} as _m
            _m.Interpreter(_nested).{run}(
                'import {module} as _m\\n'
                '_returned = _m.Interpreter(_target).interrupt()\\n'
                'for _i in range(100_000): pass\\n'
                '_finished = True\\n')
            while time.monotonic() < _deadline:
                pass
            """)
        with self.assertRaises(self.failure) as cm:
            self.run_code(interp, code)
        self.assert_keyboard_interrupt(cm.exception)
        self.run_code(nested, 'assert _returned is True and _finished')
        self.assert_usable(nested)
        self.assert_usable(interp)

    def test_other_interpreters_go_on(self):
        # Two interpreters run busy loops; interrupting one leaves the
        # other running until it is interrupted too.
        first = self.create()
        second = self.create()
        ready = self.ready_queue(second)
        errors = []
        done = threading.Event()

        def run_second():
            try:
                self.run_code(second, BUSY)
            except BaseException as exc:
                errors.append(exc)
            finally:
                done.set()
                ready.put(0)

        thread = threading.Thread(target=run_second)
        thread.start()
        try:
            self.assertEqual(ready.get(timeout=support.SHORT_TIMEOUT), 1)
            self.assert_interrupted(self.interrupt_code(first, BUSY))
            self.assertFalse(done.is_set())
            self.assertTrue(second.is_running())
        finally:
            second.interrupt(unwind=True)
            threading_helper.join_thread(thread)
        self.assertEqual(len(errors), 1)
        self.assert_keyboard_interrupt(errors[0])
        self.assert_usable(first)
        self.assert_usable(second)

    def test_race_with_run_returning(self):
        # Every short run ends normally or with KeyboardInterrupt; once the
        # interrupter has stopped, nothing is left for the next runs.
        interp = self.create()
        stop = threading.Event()
        returned = set()
        errors = []

        def interrupter():
            try:
                unwind = False
                while not stop.is_set():
                    returned.add(interp.interrupt(unwind=unwind))
                    unwind = not unwind
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=interrupter)
        thread.start()
        outcomes = {'ok': 0, 'interrupted': 0}
        try:
            for i in range(500):
                code = STEADY if i % 50 == 0 else '_x = 1'
                try:
                    self.run_code(interp, code)
                except self.failure as exc:
                    self.assert_keyboard_interrupt(exc)
                    outcomes['interrupted'] += 1
                else:
                    outcomes['ok'] += 1
        finally:
            stop.set()
            threading_helper.join_thread(thread)
        self.assertEqual(errors, [])
        self.assertLessEqual(returned, {True, False})
        for _ in range(50):
            self.run_code(interp, '_x = 1')
        self.run_code(interp, STEADY)
        self.assert_usable(interp)

    def test_race_with_close(self):
        # interrupt() in a loop while the interpreter runs, returns and is
        # closed: the interrupter ends with InterpreterNotFoundError.
        not_found = self.module.InterpreterNotFoundError
        for _ in range(20):
            interp = self.create()
            errors = []
            started = threading.Event()

            def interrupter():
                try:
                    while True:
                        interp.interrupt(unwind=True)
                        started.set()
                except not_found:
                    pass
                except BaseException as exc:
                    errors.append(exc)
                finally:
                    started.set()

            thread = threading.Thread(target=interrupter)
            thread.start()
            try:
                started.wait(support.SHORT_TIMEOUT)
                try:
                    self.run_code(interp, STEADY)
                except self.failure as exc:
                    self.assert_keyboard_interrupt(exc)
                getattr(interp, self.close_name)()
            finally:
                threading_helper.join_thread(thread)
            self.assertEqual(errors, [])
            with self.assertRaises(not_found):
                interp.interrupt()

    def test_close_refused_during_interrupted_run(self):
        # Interrupted, a run lasts until its code ends: close() refuses
        # the interpreter meanwhile, as for any running one.
        interp = self.create()
        ready = self.ready_queue(interp)
        release_r, release_w = self.pipe()
        interp.prepare_main(_release=release_r)
        close_errors = []

        def interrupt():
            returned = interp.interrupt()
            try:
                # The code caught it and waits for the release.
                self.assertEqual(ready.get(timeout=support.SHORT_TIMEOUT), 2)
                getattr(interp, self.close_name)()
            except self.module.InterpreterError as exc:
                close_errors.append(exc)
            finally:
                os.write(release_w, b'1')
            return returned

        code = dedent("""
            import os, time
            try:
                _ready.put(1)
                while time.monotonic() < _deadline:
                    pass
            except KeyboardInterrupt:
                _ready.put(2)
                os.read(_release, 1)
            """)
        result = self.interrupt_when_ready(
            interp, lambda: self.run_code(interp, code), ready,
            interrupt=interrupt)
        self.assertEqual(result, (True, None))
        self.assertEqual(len(close_errors), 1)
        self.assertNotIsInstance(close_errors[0],
                                 self.module.InterpreterNotFoundError)
        self.assert_usable(interp)

    def test_stress_short(self):
        self.check_stress(1.0)

    @support.requires_resource('cpu')
    def test_stress_10s(self):
        self.check_stress(10.0)

    def check_stress(self, duration, ninterps=4):
        # One runner thread per interpreter (an interpreter runs one run
        # at a time), as many interrupters: interrupts come at any point
        # of the runs, with and without timeouts.
        interps = [self.create() for _ in range(ninterps)]
        codes = [
            'for _i in range(20_000): pass',
            'import time; time.sleep(0.002)',
            dedent("""
                try:
                    for _i in range(20_000):
                        pass
                except KeyboardInterrupt:
                    pass
                """),
            dedent("""
                import threading
                _e = threading.Event()
                _e.wait(0.002)
                """),
        ]
        stop = threading.Event()
        errors = []
        counts = {'ok': 0, 'interrupted': 0}

        def runner(interp, seed):
            rng = random.Random(seed)
            try:
                while not stop.is_set():
                    timeout = rng.choice([None, None, 0.001, 1000])
                    try:
                        self.run_code(interp, rng.choice(codes),
                                      timeout=timeout)
                    except self.failure as exc:
                        if exc.excinfo.type.__name__ != 'KeyboardInterrupt':
                            raise
                        counts['interrupted'] += 1
                    else:
                        counts['ok'] += 1
            except BaseException as exc:
                errors.append(exc)
                stop.set()

        def interrupter(seed):
            rng = random.Random(seed)
            try:
                while not stop.is_set():
                    interp = rng.choice(interps)
                    interp.interrupt(unwind=rng.random() < 0.5)
            except BaseException as exc:
                errors.append(exc)
                stop.set()

        threads = [threading.Thread(target=runner, args=(interp, i))
                   for i, interp in enumerate(interps)]
        threads += [threading.Thread(target=interrupter, args=(i,))
                    for i in range(ninterps)]
        for thread in threads:
            thread.start()
        try:
            # Runs for its duration, unless a thread failed.
            stop.wait(duration)
        finally:
            stop.set()
            for thread in threads:
                threading_helper.join_thread(thread)
        self.assertEqual(errors, [])
        self.assertGreater(counts['ok'], 0)
        self.assertGreater(counts['interrupted'], 0)
        for interp in interps:
            self.assert_usable(interp)


@requires_subprocess
class ProcessTests:
    """Process exit, Ctrl-C and the program's own SIGURG handler."""

    def run_script(self, source, *, send_sigint_after=None, blocked=False):
        """Run source in a new Python process; return (rc, out, err).

        If send_sigint_after is set, send SIGINT once the process printed
        that line (and, if blocked is true, blocked in the call after it).
        """
        rc, out, err = interpreters_helper.run_script(
            self, self.script(source), send_sigint_after=send_sigint_after,
            blocked=blocked)
        self.assertNotIn('Fatal Python error', err)
        return rc, out, err

    def test_exit_while_interrupting(self):
        # A daemon thread interrupts in a loop, another runs again and
        # again in the interpreter, as the main thread exits.
        rc, out, err = self.run_script("""
            import threading, {module} as m
            interp = m.create()
            failures = threading.Semaphore(0)
            def run():
                while True:
                    try:
                        interp.{run}('while True: pass')
                    except m.{failure}:
                        failures.release()
            def interrupt():
                unwind = False
                while True:
                    interp.interrupt(unwind=unwind)
                    unwind = not unwind
            threading.Thread(target=run, daemon=True).start()
            threading.Thread(target=interrupt, daemon=True).start()
            for _ in range(3):
                if not failures.acquire(timeout={timeout_s}):
                    raise SystemExit('not interrupted')
            print('exiting', flush=True)
            """.replace('{timeout_s}', str(support.SHORT_TIMEOUT)))
        self.assertEqual((rc, out, err), (0, 'exiting\n', ''))

    def test_interrupt_at_exit(self):
        # The threading module's exit hook interrupts the run of a
        # non-daemon thread, which then ends, and so does the process.
        rc, out, err = self.run_script("""
            import threading, {module} as m
            interp = m.create()
            ready = m.create_queue()
            interp.prepare_main(_ready=ready)
            def run():
                try:
                    interp.{run}('_ready.put(1)\\n'
                                 'while True: pass')
                except m.{failure} as exc:
                    print(exc.excinfo.type.__name__, flush=True)
            threading.Thread(target=run).start()
            ready.get()
            threading._register_atexit(interp.interrupt)
            print('main done', flush=True)
            """)
        self.assertEqual((rc, out, err),
                         (0, 'main done\nKeyboardInterrupt\n', ''))

    @requires_posix_signals
    def test_ctrl_c_unchanged(self):
        # After interrupt() was used (and its wake-up signal set up),
        # Ctrl-C still interrupts code that the main thread runs in a
        # subinterpreter, and the caller gets KeyboardInterrupt.
        rc, out, err = self.run_script("""
            import threading, {module} as m
            interp = m.create()
            other = m.create()
            ready = m.create_queue()
            other.prepare_main(_ready=ready)
            outcome = []
            def run():
                try:
                    other.{run}('import time\\n'
                                '_ready.put(1)\\n'
                                'time.sleep(1000)')
                except m.{failure} as exc:
                    outcome.append(exc.excinfo.type.__name__)
            t = threading.Thread(target=run, daemon=True)
            t.start()
            ready.get()
            other.interrupt()
            t.join()
            try:
                interp.{run}('print("ready", flush=True)\\n'
                             'while True: pass')
                print('not interrupted', flush=True)
            except KeyboardInterrupt:
                print('KeyboardInterrupt', flush=True)
            print(outcome, interp.is_running(), flush=True)
            interp.{run}('print("usable", flush=True)')
            """, send_sigint_after='ready')
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "KeyboardInterrupt\n['KeyboardInterrupt'] "
                              "False\nusable\n")

    @requires_posix_signals
    def test_ctrl_c_does_not_reach_other_threads(self):
        # Ctrl-C interrupts the main thread; the run in another thread
        # goes on until interrupt() stops it.
        rc, out, err = self.run_script("""
            import signal, threading, {module} as m
            interp = m.create()
            ready = m.create_queue()
            interp.prepare_main(_ready=ready)
            outcome = []
            def run():
                try:
                    interp.{run}('_ready.put(1)\\n'
                                 'while True: pass')
                except m.{failure} as exc:
                    outcome.append(exc.excinfo.type.__name__)
            t = threading.Thread(target=run, daemon=True)
            # The thread inherits the mask: the SIGINT goes to the main
            # thread, whose wait it interrupts.
            signal.pthread_sigmask(signal.SIG_BLOCK, {{signal.SIGINT}})
            t.start()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {{signal.SIGINT}})
            ready.get()
            try:
                print('ready', flush=True)
                threading.Event().wait()
            except KeyboardInterrupt:
                print('KeyboardInterrupt in main')
            print(interp.is_running(), outcome)
            print(interp.interrupt())
            t.join()
            print(outcome)
            """, send_sigint_after='ready', blocked=True)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "KeyboardInterrupt in main\nTrue []\nTrue\n"
                              "['KeyboardInterrupt']\n")

    @requires_posix_signals
    @unittest.skipUnless(hasattr(signal, 'SIGURG'), 'needs SIGURG')
    def test_program_sigurg_handler_kept(self):
        # SIGURG wakes up blocked threads only if the program left it
        # alone.  Here it has a handler of its own, which stays and gets
        # no SIGURG: the interrupt arrives once the wait returns.
        rc, out, err = self.run_script("""
            import signal, threading, {module} as m
            received = []
            def handler(signum, frame):
                received.append(signum)
            signal.signal(signal.SIGURG, handler)
            interp = m.create()
            ready = m.create_queue()
            interp.prepare_main(_ready=ready)
            outcome = []
            def run():
                try:
                    interp.{run}('import time\\n'
                                 '_ready.put(1)\\n'
                                 'time.sleep(0.5)\\n'
                                 'while True: pass')
                except m.{failure} as exc:
                    outcome.append(exc.excinfo.type.__name__)
            t = threading.Thread(target=run, daemon=True)
            t.start()
            ready.get()
            print(interp.interrupt())
            t.join()
            print(outcome, signal.getsignal(signal.SIGURG) is handler,
                  received)
            """)
        self.assertEqual((rc, out, err),
                         (0, "True\n['KeyboardInterrupt'] True []\n", ''))


# ----------------------------------------------------------------------------
# The two modules

class InterpretersMixin:
    """The interpreters module: run(), RunFailedError, RunTimeoutError."""

    module = interpreters
    module_name = 'interpreters'
    run_name = 'run'
    close_name = 'destroy'
    failure_name = 'RunFailedError'
    timeout_name = 'RunTimeoutError'


class ConcurrentMixin:
    """concurrent.interpreters: exec(), ExecutionFailed,
    ExecutionTimeoutError."""

    module = cinterpreters
    module_name = 'concurrent.interpreters'
    run_name = 'exec'
    close_name = 'close'
    failure_name = 'ExecutionFailed'
    timeout_name = 'ExecutionTimeoutError'


class InterpretersModuleTests(InterpretersMixin, TestBase):
    """What only the interpreters module has."""

    def test_main_and_current(self):
        # Never running through run() or call(): False, and nothing is
        # raised here afterwards.
        self.assertIs(interpreters.get_main().interrupt(), False)
        self.assertIs(interpreters.get_current().interrupt(unwind=True),
                      False)
        for _ in range(100_000):
            pass
        time.sleep(0.001)

    def test_timeout_error_is_the_low_level_one(self):
        self.assertIs(interpreters.RunTimeoutError,
                      _interpreters.RunTimeoutError)
        self.assertTrue(issubclass(_interpreters.RunTimeoutError,
                                   _interpreters.RunFailedError))
        self.assertTrue(issubclass(_interpreters.RunTimeoutError,
                                   TimeoutError))

    def test_low_level_timeout(self):
        interp_id = _interpreters.create()
        with self.assertRaises(_interpreters.RunTimeoutError) as cm:
            _interpreters.run_string(interp_id,
                                     f'import time; time.sleep({BLOCK})',
                                     timeout=0.05)
        self.assert_keyboard_interrupt(cm.exception)
        code = compile(f'import time; time.sleep({BLOCK})', '<string>',
                       'exec')
        with self.assertRaises(_interpreters.RunTimeoutError):
            _interpreters.exec_code(interp_id, code, timeout=0.05)
        self.assertFalse(_interpreters.is_running(interp_id))
        # Keyword-only there.
        with self.assertRaises(TypeError):
            _interpreters.run_string(interp_id, 'pass', 1.0)
        with self.assertRaises(TypeError):
            _interpreters.exec_code(interp_id, code, 1.0)


class ConcurrentModuleTests(ConcurrentMixin, TestBase):
    """What only concurrent.interpreters has: exec() of functions."""

    def test_main_is_refused(self):
        # As for the other methods that act on an interpreter: the main
        # one was not made by create().
        for interp in [cinterpreters.get_main(),
                       cinterpreters.get_current()]:
            with self.assertRaises(cinterpreters.InterpreterError) as cm:
                interp.interrupt()
            self.assertNotIsInstance(cm.exception,
                                     cinterpreters.InterpreterNotFoundError)

    def test_timeout_error(self):
        self.assertTrue(issubclass(cinterpreters.ExecutionTimeoutError,
                                   cinterpreters.ExecutionFailed))
        self.assertTrue(issubclass(cinterpreters.ExecutionTimeoutError,
                                   TimeoutError))

    def test_exec_function_timeout(self):
        interp = self.create()
        self.ready_queue(interp)

        def sleep_long():
            import time
            time.sleep(_block)                      # noqa: F821

        with self.assertRaises(cinterpreters.ExecutionTimeoutError) as cm:
            interp.exec(sleep_long, timeout=0.05)
        self.assert_keyboard_interrupt(cm.exception)
        with self.assertRaises(cinterpreters.ExecutionTimeoutError):
            interp.exec(sleep_long.__code__, timeout=0.05)
        self.assert_usable(interp)

    def test_exec_function_interrupted(self):
        interp = self.create()
        ready = self.ready_queue(interp)

        def busy():
            import time
            _ready.put(1)                           # noqa: F821
            while time.monotonic() < _deadline:     # noqa: F821
                pass

        self.assert_interrupted(self.interrupt_when_ready(
            interp, lambda: interp.exec(busy), ready))
        self.assert_usable(interp)


class InterpretersInterruptTests(InterpretersMixin, InterruptTests,
                                  TestBase):
    pass


class InterpretersWaitTests(InterpretersMixin, WaitTests, TestBase):
    pass


class InterpretersUnwindTests(InterpretersMixin, UnwindTests, TestBase):
    pass


class InterpretersTimeoutTests(InterpretersMixin, TimeoutTests, TestBase):
    pass


class InterpretersReliabilityTests(InterpretersMixin, ReliabilityTests,
                                   TestBase):
    pass


class InterpretersProcessTests(InterpretersMixin, ProcessTests, TestBase):
    pass


class ConcurrentInterruptTests(ConcurrentMixin, InterruptTests, TestBase):
    pass


class ConcurrentWaitTests(ConcurrentMixin, WaitTests, TestBase):
    pass


class ConcurrentUnwindTests(ConcurrentMixin, UnwindTests, TestBase):
    pass


class ConcurrentTimeoutTests(ConcurrentMixin, TimeoutTests, TestBase):
    pass


class ConcurrentReliabilityTests(ConcurrentMixin, ReliabilityTests,
                                 TestBase):
    pass


class ConcurrentProcessTests(ConcurrentMixin, ProcessTests, TestBase):
    pass


if __name__ == '__main__':
    unittest.main()
