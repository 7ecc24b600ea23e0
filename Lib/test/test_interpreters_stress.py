# Stress and fault tests for the interpreters module (PEP 554): many
# interpreters, many threads, hostile exceptions, process exit.
# test_interpreters covers the API itself.
import os
import pickle
import random
import subprocess
import sys
import threading
import time
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


requires_subprocess = support.requires_subprocess()


def get_rss():
    """Return the resident set size of this process in bytes, or None."""
    try:
        with open('/proc/self/statm', encoding='ascii') as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf('SC_PAGE_SIZE')
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class TestBase(interpreters_helper.TestBase):

    def assert_no_new_interpreters(self):
        self.assertEqual(set(_interpreters.list_all()), self.old_interp_ids)

    def assert_usable(self, interp):
        """Check that interp still runs code and calls functions."""
        self.assertFalse(interp.is_running())
        interp.run('_usable = 6 * 7')
        self.assertEqual(interp.call(divmod, 7, 2), (3, 1))
        out = interpreters.create_queue()
        interp.prepare_main(_out=out)
        interp.run('_out.put(_usable)')
        self.assertEqual(out.get_nowait(), 42)
        self.assertFalse(interp.is_running())


class Threads:
    """Run functions in threads; collect what they raise.

    Used as a context manager: the threads are joined, each within
    SHORT_TIMEOUT (a thread still alive then is a deadlock), when the
    with block ends.
    """

    def __init__(self):
        self.threads = []
        self.errors = []

    def start(self, func, *args):
        def target():
            try:
                func(*args)
            except BaseException as exc:
                self.errors.append(exc)
        thread = threading.Thread(target=target)
        self.threads.append(thread)
        thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        for thread in self.threads:
            threading_helper.join_thread(thread)


def is_running_error(exc):
    # The error destroy(), run() and call() raise for an interpreter that
    # runs code in another thread: InterpreterError itself, no subclass.
    return type(exc) is interpreters.InterpreterError


# ----------------------------------------------------------------------------
# Creating and destroying many interpreters

class CreateDestroyTests(TestBase):

    def test_cycles(self):
        for i in range(200):
            interp = interpreters.create()
            if i % 10 == 0:
                interp.run('import sys; spam = sys.path')
            interp.destroy()
            self.assertNotIn(interp, interpreters.enumerate())
        self.assert_no_new_interpreters()

    @support.requires_resource('cpu')
    @support.skip_if_sanitizer('AddressSanitizer keeps freed memory in '
                               'quarantine: RSS tells nothing of leaks',
                               address=True)
    def test_rss_after_10_000_cycles(self):
        # Once allocator caches are warm, a cycle must not keep memory: a
        # leak of 600 bytes per cycle fails.
        if get_rss() is None:
            self.skipTest('needs /proc/self/statm')
        for i in range(1, 10_001):
            interpreters.create().destroy()
            if i == 1_000:
                start = get_rss()
        growth = get_rss() - start
        if support.verbose:
            print(f'\nRSS growth from cycle 1,000 to 10,000: '
                  f'{growth / 2**20:.2f} MiB', flush=True)
        self.assertLess(growth, 5 * 2**20)
        self.assert_no_new_interpreters()

    def check_many_alive(self, count):
        out = interpreters.create_queue()
        interps = [interpreters.create() for _ in range(count)]
        for i, interp in enumerate(interps):
            interp.prepare_main(index=i, out=out)
        self.assertEqual(len(set(interps)), count)
        self.assertLessEqual(set(interps), set(interpreters.enumerate()))
        # Each kept its own __main__; destroy them in random order.
        order = list(range(count))
        random.Random(count).shuffle(order)
        for i in order:
            interps[i].run('out.put(index)')
            self.assertEqual(out.get_nowait(), i)
            interps[i].destroy()
        self.assert_no_new_interpreters()

    def test_many_alive(self):
        self.check_many_alive(20)

    @support.requires_resource('cpu')
    def test_many_alive_200(self):
        self.check_many_alive(200)


# ----------------------------------------------------------------------------
# Many threads at once

# Run by the interpreters of the worker threads: now and then with a thread
# of its own, which destroy() may have to wait for.
WORKER_CODE = dedent("""
    import threading
    if cycle % 3 == 0:
        thread = threading.Thread(target=sum, args=((1, 2),))
        thread.start()
        if cycle % 2:
            thread.join()
    """)


class ConcurrencyTests(TestBase):

    def setUp(self):
        super().setUp()
        # Switch threads often: more interleavings per second.
        old_interval = sys.getswitchinterval()
        support.setswitchinterval(1e-5)
        self.addCleanup(sys.setswitchinterval, old_interval)

    def hammer(self, duration, nworkers=8):
        """Let worker threads create, use and destroy interpreters.

        Each worker owns the interpreters it creates.  Meanwhile an
        intruder runs code in and destroys interpreters of the workers,
        and observers list them and ask whether they run.  Only the
        documented errors may come out: InterpreterNotFoundError for an
        interpreter destroyed by another thread, InterpreterError for one
        that runs code in another thread.
        """
        deadline = time.monotonic() + duration
        done = threading.Event()
        old_ids = self.old_interp_ids
        cycles = [0] * nworkers
        unexpected = []

        def unexpected_error(where, exc):
            unexpected.append(f'{where}: {exc!r}')

        def destroy(interp):
            # Wait out an intruder's short run; bounded, never sleeping.
            timeout = time.monotonic() + support.SHORT_TIMEOUT
            while time.monotonic() < timeout:
                try:
                    interp.destroy()
                    return
                except interpreters.InterpreterNotFoundError:
                    return
                except interpreters.InterpreterError as exc:
                    if not is_running_error(exc):
                        raise
            raise AssertionError(f'{interp} still running')

        def worker(index):
            # At least one cycle each, however slow the machine.
            while not cycles[index] or time.monotonic() < deadline:
                interp = interpreters.create()
                try:
                    interp.prepare_main(cycle=cycles[index])
                    interp.run(WORKER_CODE)
                    if interp.call(pow, 2, index) != 2 ** index:
                        raise AssertionError('call() returned a bad result')
                    interp.prepare_main(index=index)
                    interp.run('assert index == %d, index' % index)
                except interpreters.InterpreterNotFoundError:
                    pass
                except interpreters.InterpreterError as exc:
                    if not is_running_error(exc):
                        unexpected_error(f'worker {index}', exc)
                        return
                finally:
                    destroy(interp)
                cycles[index] += 1

        def intruder(seed):
            rng = random.Random(seed)
            while not done.is_set():
                ids = [i for i in _interpreters.list_all()
                       if i not in old_ids]
                if not ids:
                    continue
                interp_id = rng.choice(ids)
                op = rng.choice(['run', 'call', 'destroy', 'prepare_main'])
                try:
                    if op == 'run':
                        _interpreters.run_string(interp_id, 'pass')
                    elif op == 'call':
                        _interpreters.call(interp_id, len, ((),), {})
                    elif op == 'prepare_main':
                        _interpreters.set_main_attrs(interp_id,
                                                     {'intruder': seed})
                    else:
                        _interpreters.destroy(interp_id)
                except interpreters.InterpreterNotFoundError:
                    pass
                except interpreters.InterpreterError as exc:
                    if not is_running_error(exc):
                        unexpected_error(f'intruder {op}', exc)

        def observer():
            main = interpreters.get_main()
            while not done.is_set():
                if interpreters.get_current() != main:
                    unexpected_error('observer', 'get_current() is wrong')
                for interp in interpreters.enumerate():
                    try:
                        interp.is_running()
                        interpreters.Interpreter(interp.id)
                    except interpreters.InterpreterNotFoundError:
                        pass

        with Threads() as threads:
            for i in range(nworkers):
                threads.start(worker, i)
            with Threads() as others:
                others.start(intruder, 1)
                others.start(observer)
                others.start(observer)
                try:
                    for thread in threads.threads:
                        thread.join(duration + support.SHORT_TIMEOUT)
                finally:
                    done.set()
        errors = threads.errors + others.errors
        if errors:
            raise errors[0]
        self.assertEqual(unexpected, [])
        if support.verbose:
            print(f'\n{nworkers} workers, {duration} s: '
                  f'{sum(cycles)} create/run/call/destroy cycles', flush=True)
        self.assert_no_new_interpreters()

    def test_hammer(self):
        self.hammer(1.0)

    @support.requires_resource('cpu')
    def test_hammer_10s(self):
        self.hammer(10.0)

    def test_observe_lifecycle(self):
        # enumerate() and is_running() in other threads, while
        # interpreters are created, run and destroyed, raise nothing but
        # InterpreterNotFoundError.
        done = threading.Event()
        seen = set()
        errors = []

        def churn():
            try:
                for _ in range(50):
                    interp = interpreters.create()
                    interp.run('import threading')
                    interp.call(len, 'spam')
                    interp.destroy()
            finally:
                done.set()

        def observe():
            while not done.is_set():
                for interp in interpreters.enumerate():
                    try:
                        interp.is_running()
                        _interpreters.is_running(interp.id)
                        repr(interp)
                    except interpreters.InterpreterNotFoundError:
                        pass
                    except BaseException as exc:
                        errors.append(exc)
                    seen.add(interp.id)

        with Threads() as threads:
            threads.start(churn)
            for _ in range(3):
                threads.start(observe)
        self.assertEqual(threads.errors + errors, [])
        self.assertIn(interpreters.get_main().id, seen)
        self.assert_no_new_interpreters()


# ----------------------------------------------------------------------------
# Sharing the GIL fairly

class FairnessTests(TestBase):
    # In 3.11 all interpreters share one GIL.  A thread waiting for it
    # must get it within a few switch intervals, whichever interpreter the
    # thread holding it runs, even if that thread runs a pure Python loop
    # that never releases the GIL by itself.

    # How long the loop holds on: a thread kept waiting that long is
    # starved.
    LOOP = 1.0

    def test_cpu_bound_subinterpreter(self):
        interp = interpreters.create()
        started = interpreters.create_queue()
        interp.prepare_main(started=started, duration=self.LOOP)
        thread = threading.Thread(target=interp.run, args=(dedent("""
            import time
            end = time.monotonic() + duration
            started.put(None)
            while time.monotonic() < end:
                pass
            """),))
        start = time.monotonic()
        thread.start()
        started.get(timeout=support.SHORT_TIMEOUT)
        waited = time.monotonic() - start
        threading_helper.join_thread(thread)
        self.assertLess(waited, self.LOOP / 2)

    def test_cpu_bound_main_interpreter(self):
        # The other way around: a thread of the main interpreter loops
        # while a thread running in a subinterpreter wants the GIL back.
        interp = interpreters.create()
        go = interpreters.create_queue()
        out = interpreters.create_queue()
        interp.prepare_main(go=go, out=out, timeout=support.SHORT_TIMEOUT)
        waiter = threading.Thread(target=interp.run, args=(dedent("""
            import time
            go.get(timeout=timeout)
            out.put(time.monotonic())
            """),))
        spinning = threading.Event()

        def spin():
            end = time.monotonic() + self.LOOP
            spinning.set()
            while time.monotonic() < end:
                pass

        spinner = threading.Thread(target=spin)
        waiter.start()
        spinner.start()
        try:
            self.assertTrue(spinning.wait(support.SHORT_TIMEOUT))
            sent = time.monotonic()
            go.put(None)
            received = out.get(timeout=support.SHORT_TIMEOUT)
        finally:
            threading_helper.join_thread(spinner)
            threading_helper.join_thread(waiter)
        self.assertLess(received - sent, self.LOOP / 2)


# ----------------------------------------------------------------------------
# Destroying an interpreter that still has something

class DestroyTests(TestBase):

    def setUp(self):
        super().setUp()
        self.timeout = support.SHORT_TIMEOUT

    def test_waits_for_non_daemon_threads(self):
        # The threads are only released by the threading module's exit
        # hook, which destroy() runs before it joins them.
        interp = interpreters.create()
        release = interpreters.create_queue()
        done = interpreters.create_queue()
        interp.prepare_main(release=release, done=done, timeout=self.timeout)
        interp.run(dedent("""
            import threading
            def work(i):
                release.get(timeout=timeout)
                done.put(i)
            for i in range(4):
                threading.Thread(target=work, args=(i,)).start()
            threading._register_atexit(
                lambda: [release.put(None) for _ in range(4)])
            """))
        interp.destroy()
        self.assertNotIn(interp, interpreters.enumerate())
        self.assertEqual(sorted(done.get_nowait() for _ in range(4)),
                         [0, 1, 2, 3])
        self.assertTrue(done.empty())

    def start_daemon_thread(self, interp, target_source):
        """Start a daemon thread in interp; return its release queue."""
        started = interpreters.create_queue()
        release = interpreters.create_queue()
        interp.prepare_main(started=started, release=release,
                            timeout=self.timeout)
        interp.run(dedent("""
            import threading
            def work():
                started.put(None)
            """) + target_source + dedent("""
            daemon = threading.Thread(target=work, daemon=True)
            daemon.start()
            """))
        started.get(timeout=self.timeout)
        return release

    def check_destroy_with_daemon_thread(self, target_source):
        interp = interpreters.create()
        release = self.start_daemon_thread(interp, target_source)
        with self.assertRaises(interpreters.InterpreterError) as cm:
            interp.destroy()
        self.assertTrue(is_running_error(cm.exception), repr(cm.exception))
        self.assertIn(interp, interpreters.enumerate())
        self.assert_usable(interp)
        # Still refused while the thread lives.
        with self.assertRaises(interpreters.InterpreterError):
            interp.destroy()
        release.put(None)
        interp.run(dedent("""
            daemon.join(timeout)
            assert not daemon.is_alive()
            """))
        interp.destroy()
        self.assertNotIn(interp, interpreters.enumerate())

    def test_daemon_thread_blocked(self):
        self.check_destroy_with_daemon_thread(
            'def work(work=work):\n'
            '    work()\n'
            '    release.get(timeout=timeout)')

    def test_daemon_thread_busy(self):
        # The thread keeps running Python code while destroy() runs.  It
        # lets the GIL go at each turn: FairnessTests is about loops that
        # do not.
        self.check_destroy_with_daemon_thread(
            'import time\n'
            'def work(work=work):\n'
            '    work()\n'
            '    while release.empty():\n'
            '        time.sleep(0)')

    def test_threads_after_failed_destroy(self):
        # After a refused destroy(), threads still start in the
        # interpreter, and the next destroy() still waits for the
        # non-daemon ones.
        interp = interpreters.create()
        release = self.start_daemon_thread(
            interp,
            'def work(work=work):\n'
            '    work()\n'
            '    release.get(timeout=timeout)')
        with self.assertRaises(interpreters.InterpreterError):
            interp.destroy()
        release.put(None)
        done = interpreters.create_queue()
        interp.prepare_main(done=done)
        interp.run(dedent("""
            daemon.join(timeout)
            threading._register_atexit(lambda: release.put(None))
            def late():
                release.get(timeout=timeout)
                done.put('late')
            late_thread = threading.Thread(target=late)
            late_thread.start()
            """))
        try:
            interp.destroy()
        except interpreters.InterpreterError:
            # Let the thread go before failing.
            release.put(None)
            interp.run('late_thread.join(timeout)')
            raise
        self.assertEqual(done.get_nowait(), 'late')
        self.assertNotIn(interp, interpreters.enumerate())

    def test_queue_handles_in_threading_module(self):
        # Queue handles that the threading module still holds when the
        # interpreter finalizes: in its namespace, in a hook of
        # _register_atexit(), and in the hook's arguments.
        q = interpreters.create_queue()
        interp = interpreters.create()
        interp.prepare_main(q=q)
        interp.run(dedent("""
            import threading, interpreters
            threading._spam = q
            threading._eggs = interpreters.create_queue()
            threading._register_atexit(q.put, 'hook')
            threading._register_atexit(q.put, q)
            """))
        interp.destroy()
        self.assertEqual(q.get_nowait(), q)
        self.assertEqual(q.get_nowait(), 'hook')
        self.assertTrue(q.empty())

    def test_failing_threading_hook(self):
        # A hook of threading._register_atexit() that raises is reported
        # once, and the hooks registered after it (which run before it)
        # run once, as at the exit of the main interpreter.
        q = interpreters.create_queue()
        interp = interpreters.create()
        interp.prepare_main(q=q)
        interp.run(dedent("""
            import sys, threading
            sys.unraisablehook = lambda unraisable: q.put('unraisable')
            threading._register_atexit(lambda: 1 / 0)
            threading._register_atexit(lambda: q.put('hook'))
            """))
        interp.destroy()
        self.assertEqual(interpreters_helper.drain(q), ['hook', 'unraisable'])

    def test_unread_items(self):
        # Items survive the interpreter that put them, queue handles
        # included; a queue that only it referenced dies with it.
        outer = interpreters.create_queue()
        interp = interpreters.create()
        interp.prepare_main(outer=outer)
        interp.run(dedent("""
            import interpreters
            inner = interpreters.create_queue(3)
            inner.put(('inner', 1))
            inner.put({'pickled': {2, 3j}})
            lonely = interpreters.create_queue()
            lonely.put('lost')
            outer.put('shareable')
            outer.put([1, {'pickled': (2, 3)}])
            outer.put((inner, b'with a queue'))
            outer.put(lonely.id)
            """))
        interp.destroy()
        self.assertEqual(outer.qsize(), 4)
        self.assertEqual(outer.get_nowait(), 'shareable')
        self.assertEqual(outer.get_nowait(), [1, {'pickled': (2, 3)}])
        inner, tag = outer.get_nowait()
        self.assertEqual(tag, b'with a queue')
        self.assertEqual(inner.maxsize, 3)
        self.assertEqual(inner.get_nowait(), ('inner', 1))
        self.assertEqual(inner.get_nowait(), {'pickled': {2, 3j}})
        lonely_id = outer.get_nowait()
        with self.assertRaises(interpreters.QueueNotFoundError):
            interpreters.Queue(lonely_id)
        self.assertTrue(outer.empty())

    def test_unread_items_of_its_own_classes(self):
        # The receiver cannot rebuild an object of a class that only
        # existed in the destroyed interpreter: an error, then the next
        # item.
        q = interpreters.create_queue()
        interp = interpreters.create()
        interp.prepare_main(q=q)
        interp.run(dedent("""
            class Gone:
                pass
            q.put(Gone())
            q.put('after')
            """))
        interp.destroy()
        with self.assertRaises(Exception) as cm:
            q.get_nowait()
        self.assertNotIsInstance(cm.exception, interpreters.QueueError)
        self.assertEqual(q.get_nowait(), 'after')

    def test_queue_only_it_referenced(self):
        ids = interpreters.create_queue()
        interps = [interpreters.create() for _ in range(3)]
        for interp in interps:
            interp.prepare_main(ids=ids)
            interp.run(dedent("""
                import interpreters
                mine = interpreters.create_queue()
                for i in range(100):
                    mine.put(('item', i, 'x' * i))
                ids.put(mine.id)
                """))
        queue_ids = [ids.get_nowait() for _ in interps]
        self.assertEqual(len(set(queue_ids)), 3)
        # The first one is also looked up, and kept, by the main
        # interpreter: it survives.
        kept = interpreters.Queue(queue_ids[0])
        for interp in interps:
            interp.destroy()
        self.assertEqual(kept.qsize(), 100)
        self.assertEqual(kept.get_nowait(), ('item', 0, ''))
        for queue_id in queue_ids[1:]:
            with self.assertRaises(interpreters.QueueNotFoundError):
                interpreters.Queue(queue_id)

    def test_destroy_from_its_own_thread(self):
        # A thread of the interpreter itself cannot destroy it.
        interp = interpreters.create()
        out = interpreters.create_queue()
        interp.prepare_main(out=out, interp_id=interp.id,
                            timeout=self.timeout)
        interp.run(dedent("""
            import threading, interpreters
            def work():
                try:
                    interpreters.Interpreter(interp_id).destroy()
                except interpreters.InterpreterError as exc:
                    out.put(type(exc).__name__)
                else:
                    out.put('destroyed')
            thread = threading.Thread(target=work)
            thread.start()
            thread.join(timeout)
            """))
        self.assertEqual(out.get_nowait(), 'InterpreterError')
        self.assert_usable(interp)


# ----------------------------------------------------------------------------
# Calling back into the module while objects cross

class OnPickle:
    """Run func(*args) when pickled; rebuilt as ()."""

    def __init__(self, func, *args):
        self.func = func
        self.args = args

    def __reduce__(self):
        self.func(*self.args)
        return (tuple, ((),))


class OnRebuild:
    """Rebuilt as func(*args), in the receiving interpreter."""

    def __init__(self, func, *args):
        self.func = func
        self.args = args

    def __reduce__(self):
        return (self.func, self.args)


class ReentrancyTests(TestBase):

    def test_target_destroyed_while_pickling(self):
        for send in [lambda interp, obj: interp.call(len, obj),
                     lambda interp, obj: interp.call(obj),
                     lambda interp, obj: interp.prepare_main(spam=obj)]:
            interp = interpreters.create()
            with self.assertRaises(interpreters.InterpreterNotFoundError):
                send(interp, OnPickle(interp.destroy))
            self.assertNotIn(interp, interpreters.enumerate())

    def test_target_used_while_pickling(self):
        interp = interpreters.create()
        out = interpreters.create_queue()
        interp.prepare_main(out=out)
        obj = OnPickle(interp.run, 'out.put("first")')
        self.assertEqual(interp.call(len, obj), 0)
        interp.prepare_main(spam=obj)
        self.assertEqual([out.get_nowait(), out.get_nowait()],
                         ['first', 'first'])
        self.assert_usable(interp)

    def test_queue_used_while_pickling(self):
        q = interpreters.create_queue()
        q.put(OnPickle(q.put, 'inner'))
        q.put(OnRebuild(q.get_nowait))
        self.assertEqual(q.qsize(), 3)
        self.assertEqual(q.get_nowait(), 'inner')
        self.assertEqual(q.get_nowait(), ())
        # Rebuilding the last item gets from the queue, now empty.
        with self.assertRaises(interpreters.QueueEmpty):
            q.get_nowait()
        self.assertTrue(q.empty())

    def test_target_uses_itself_while_rebuilding(self):
        interp = interpreters.create()
        for obj in [OnRebuild(_interpreters.destroy, interp.id),
                    OnRebuild(_interpreters.run_string, interp.id, 'pass'),
                    OnRebuild(_interpreters.call, interp.id, len, ((),), {}),
                    OnRebuild(_interpreters.run_string,
                              _interpreters.get_main(), 'pass')]:
            with self.subTest(obj.args):
                with self.assertRaises(interpreters.InterpreterError):
                    interp.call(len, [obj])
                with self.assertRaises(interpreters.InterpreterError):
                    interp.prepare_main(spam=obj)
                q = interpreters.create_queue()
                q.put(obj)
                interp.prepare_main(q=q)
                with self.assertRaises(interpreters.RunFailedError):
                    interp.run('q.get_nowait()')
                self.assert_usable(interp)

    def test_target_destroys_another_while_rebuilding(self):
        interp = interpreters.create()
        other = interpreters.create()
        self.assertEqual(interp.call(len, [OnRebuild(other.destroy)]), 1)
        self.assertNotIn(other, interpreters.enumerate())
        self.assert_usable(interp)

    def test_result_destroys_target_while_rebuilding(self):
        # The caller rebuilds the result once the target has finished: it
        # may destroy it, or be refused, but nothing breaks.
        interp = interpreters.create()
        interp.prepare_main(target=interp.id)
        interp.run(dedent("""
            import _interpreters
            class Bomb:
                def __reduce__(self):
                    return (_interpreters.destroy, (target,))
            """))
        # Unpickled there: Bomb() from the target's __main__.
        make_bomb = b'c__main__\nBomb\n)R.'
        try:
            interp.call(pickle.loads, make_bomb)
        except interpreters.InterpreterError:
            self.assert_usable(interp)
        else:
            self.assertNotIn(interp, interpreters.enumerate())


# ----------------------------------------------------------------------------
# Every kind of exception in run() and call()

# (source, type name, expected msg; None: do not check the msg)
EXCEPTIONS = [
    ('raise SystemExit', 'SystemExit', ''),
    ('raise SystemExit(3)', 'SystemExit', '3'),
    ('import sys; sys.exit("bye")', 'SystemExit', 'bye'),
    ('raise KeyboardInterrupt', 'KeyboardInterrupt', ''),
    ('raise GeneratorExit("g")', 'GeneratorExit', 'g'),
    ('class Base(BaseException): pass\nraise Base("b")', 'Base', 'b'),
    ('raise MemoryError', 'MemoryError', ''),
    # A real failed allocation: nothing is left to spare.
    ('import sys; bytearray(sys.maxsize // 2)', 'MemoryError', ''),
    ('def f(): f()\nf()', 'RecursionError',
     'maximum recursion depth exceeded'),
    ('import sys; sys.setrecursionlimit(50)\n'
     'def f(): f()\ntry:\n    f()\nfinally:\n'
     '    sys.setrecursionlimit(1000)',
     'RecursionError', 'maximum recursion depth exceeded'),
    ('raise ValueError("h\\xe9llo \\u20ac \\U0001d11e \\u65e5\\u672c")',
     'ValueError', 'h\xe9llo \u20ac \U0001d11e \u65e5\u672c'),
    ('raise ValueError("nul \\0 inside")', 'ValueError', 'nul \0 inside'),
    ('raise ValueError("lone \\udc80 surrogate")', 'ValueError',
     'lone \udc80 surrogate'),
    ('raise ValueError("x" * 1_000_000)', 'ValueError', 'x' * 1_000_000),
    ('class \xc4rger(Exception): pass\nraise \xc4rger("\xf6")',
     '\xc4rger', '\xf6'),
    ('raise ExceptionGroup("eg", [ValueError(1), TypeError(2)])',
     'ExceptionGroup', 'eg (2 sub-exceptions)'),
    ('raise StopIteration(1)', 'StopIteration', '1'),
    # Hostile exceptions: str() fails, or does not give a str.
    ('class E(Exception):\n'
     '    def __str__(self): raise RuntimeError("no str")\n'
     'raise E', 'E', None),
    ('class E(Exception):\n'
     '    def __str__(self): return 42\n'
     'raise E', 'E', None),
    ('class E(Exception):\n'
     '    def __str__(self): raise KeyboardInterrupt\n'
     'raise E', 'E', None),
    ('class E(Exception):\n'
     '    def __str__(self): raise SystemExit(7)\n'
     'raise E', 'E', None),
    ('class E(Exception):\n'
     '    def __str__(self): return str(self)\n'
     'raise E', 'E', None),
    ('class E(Exception):\n'
     '    def __str__(self): raise E()\n'
     '    def __repr__(self): raise E()\n'
     'raise E', 'E', None),
    ('class E(Exception):\n'
     '    __module__ = None\n'
     'raise E("odd module")', 'E', 'odd module'),
    ('class E(Exception):\n'
     '    __module__ = 42\n'
     'raise E("odd module")', 'E', 'odd module'),
    ('import threading\n'
     'raise ValueError(threading.Lock())', 'ValueError', None),
    # The tools to describe the exception are broken.
    ('import sys; sys.modules["traceback"] = None\n'
     'raise ValueError("no traceback")', 'ValueError', 'no traceback'),
    ('import sys; sys.stderr = None\n'
     'sys.excepthook = lambda *args: 1 / 0\n'
     'raise ValueError("no stderr")', 'ValueError', 'no stderr'),
    ('e = None\n'
     'for i in range(10_000):\n'
     '    try:\n'
     '        raise ValueError(i) from e\n'
     '    except ValueError as exc:\n'
     '        e = exc\n'
     'raise e', 'ValueError', '9999'),
]


class ExceptionTests(TestBase):

    def check_excinfo(self, err, type_name, msg):
        info = err.excinfo
        self.assertEqual(info.type.__name__, type_name)
        self.assertIsInstance(info.msg, str)
        self.assertIsInstance(info.formatted, str)
        if msg is None:
            self.assertTrue(str(err).startswith(type_name), str(err)[:200])
        else:
            self.assertEqual(info.msg, msg)
            self.assertEqual(str(err),
                             f'{type_name}: {msg}' if msg else type_name)

    def test_run(self):
        interp = interpreters.create()
        for source, type_name, msg in EXCEPTIONS:
            with self.subTest(source[:60]):
                with self.assertRaises(interpreters.RunFailedError) as cm:
                    interp.run(source)
                self.check_excinfo(cm.exception, type_name, msg)
                self.assert_usable(interp)
        # Repairs for the sources that break the interpreter's tools.
        interp.run('import sys; sys.modules.pop("traceback")')

    def test_call(self):
        for source, type_name, msg in EXCEPTIONS:
            with self.subTest(source[:60]):
                interp = interpreters.create()
                with self.assertRaises(interpreters.RunFailedError) as cm:
                    interp.call(exec, source, {'__name__': '__main__'})
                err = cm.exception
                self.check_excinfo(err, type_name, msg)
                cause = err.__cause__
                if cause is not None:
                    self.assertEqual(type(cause).__name__, type_name)
                    if msg is not None:
                        self.assertEqual(str(cause), msg)
                self.assert_usable(interp)
                interp.destroy()

    def test_call_causes(self):
        # The original exception is rebuilt when its type exists here.
        interp = interpreters.create()
        for source, exctype in [('raise SystemExit(3)', SystemExit),
                                ('raise KeyboardInterrupt', KeyboardInterrupt),
                                ('raise MemoryError', MemoryError),
                                ('def f(): f()\nf()', RecursionError),
                                ('raise ValueError("\\u20ac")', ValueError)]:
            with self.subTest(source):
                with self.assertRaises(interpreters.RunFailedError) as cm:
                    interp.call(exec, source, {})
                self.assertIs(type(cm.exception.__cause__), exctype)
        self.assert_usable(interp)

    def test_failures_in_many_threads(self):
        # Exceptions raised at once in interpreters run by several threads
        # do not mix up.
        interps = [interpreters.create() for _ in range(4)]

        def fail_repeatedly(index, interp):
            for i in range(20):
                msg = f'{index}-{i}-\u20ac'
                try:
                    interp.run(f'raise ValueError({msg!r})')
                except interpreters.RunFailedError as err:
                    if err.excinfo.msg != msg:
                        raise AssertionError(f'{err.excinfo.msg!r} != {msg!r}')
                else:
                    raise AssertionError('no RunFailedError')

        with Threads() as threads:
            for i, interp in enumerate(interps):
                threads.start(fail_repeatedly, i, interp)
        self.assertEqual(threads.errors, [])
        for interp in interps:
            self.assert_usable(interp)


# ----------------------------------------------------------------------------
# The process exits with interpreters alive

SETUPS = {
    'idle': """
        idle = [interpreters.create() for _ in range(3)]
        idle[0].run('import threading, json; spam = [1, 2]')
        idle[1].prepare_main(eggs=(1, 'two'))
        """,
    'running in daemon threads': """
        # Each daemon thread stays in run() or call() for good.
        started = interpreters.create_queue()
        never = interpreters.create_queue()
        busy = interpreters.create()
        busy.prepare_main(started=started)
        blocked = interpreters.create()
        blocked.prepare_main(started=started, never=never)
        calling = interpreters.create()
        for interp, source in [
                (busy, 'import time; started.put(1)\\n'
                       'while True: time.sleep(0)'),
                (blocked, 'started.put(1); never.get()')]:
            threading.Thread(target=interp.run, args=(source,),
                             daemon=True).start()
        # The queues cross inside a pickled dict.
        threading.Thread(target=calling.call,
                         args=(exec, 'started.put(1); never.get()',
                               {'started': started, 'never': never}),
                         daemon=True).start()
        for _ in range(3):
            started.get(timeout=30)
        """,
    'threads inside': """
        # Daemon threads that the interpreters started themselves.
        started = interpreters.create_queue()
        interps = [interpreters.create() for _ in range(2)]
        for interp in interps:
            interp.prepare_main(started=started)
            interp.run('''if True:
                import threading, interpreters
                never = interpreters.create_queue()
                def busy():
                    import time
                    started.put(1)
                    while True:
                        time.sleep(0)
                def blocked():
                    started.put(1)
                    never.get()
                threading.Thread(target=busy, daemon=True).start()
                threading.Thread(target=blocked, daemon=True).start()
                ''')
        for _ in range(4):
            started.get(timeout=30)
        """,
    'cpu-bound': """
        # Pure Python loops that never release the GIL by themselves, in
        # run() and in a thread of the interpreter.
        started = interpreters.create_queue()
        spinning = interpreters.create()
        spinning.prepare_main(started=started)
        threading.Thread(target=spinning.run,
                         args=('started.put(1)\\nwhile True: pass',),
                         daemon=True).start()
        inside = interpreters.create()
        inside.prepare_main(started=started)
        inside.run('''if True:
            import threading
            def spin():
                started.put(1)
                while True:
                    pass
            threading.Thread(target=spin, daemon=True).start()
            ''')
        for _ in range(2):
            started.get(timeout=30)
        """,
    'nested and queued': """
        outer = interpreters.create()
        outer.run('''if True:
            import interpreters
            inner = interpreters.create()
            inner.run('import interpreters; nested = interpreters.create()')
            ''')
        q = interpreters.create_queue()
        q.put(q)
        q.put([1, 2, 3])
        outer.prepare_main(q=q)
        outer.run('q.put(q); q.put({"a": 1})')
        """,
}

ENDINGS = {
    'normal': ('pass', 0),
    'sys.exit(3)': ('sys.exit(3)', 3),
    'uncaught exception': ('raise RuntimeError("boom")', 1),
}


@requires_subprocess
class ProcessExitTests(unittest.TestCase):

    def run_script(self, source):
        proc = script_helper.spawn_python('-X', 'faulthandler', '-c', source,
                                          stderr=subprocess.PIPE, text=True)
        with proc:
            try:
                out, err = proc.communicate(timeout=support.SHORT_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                self.fail(f'hung: stdout={out!r}, stderr={err!r}')
        return proc.returncode, out, err

    def test_exit(self):
        for (setup_name, setup), (ending_name, (ending, rc)) in [
                (setup, ending)
                for setup in SETUPS.items() for ending in ENDINGS.items()]:
            with self.subTest(setup=setup_name, ending=ending_name):
                source = ('import sys, threading, interpreters\n'
                          + dedent(setup)
                          + 'print("ready", flush=True)\n'
                          + ending + '\n')
                got_rc, out, err = self.run_script(source)
                self.assertNotIn('Fatal Python error', err)
                self.assertEqual(got_rc, rc, f'stdout={out!r} stderr={err!r}')
                self.assertEqual(out, 'ready\n')
                if rc == 1:
                    self.assertTrue(err.endswith('RuntimeError: boom\n'),
                                    err)
                else:
                    self.assertEqual(err, '')

    @unittest.skipUnless(hasattr(os, 'fork'), 'needs os.fork()')
    def test_fork_in_subinterpreter(self):
        # Refused with RuntimeError, or a child that works: never a child
        # that dies of a fatal error.
        source = dedent('''
            import interpreters
            interp = interpreters.create()
            interp.run("""if True:
                import os
                try:
                    pid = os.fork()
                except RuntimeError:
                    print('refused', flush=True)
                else:
                    if pid == 0:
                        os._exit(7)
                    _, status = os.waitpid(pid, 0)
                    print('child exit', os.waitstatus_to_exitcode(status),
                          flush=True)
                """)
            interp.destroy()
            ''')
        rc, out, err = self.run_script(source)
        self.assertNotIn('Fatal Python error', err)
        self.assertEqual(rc, 0, err)
        self.assertIn(out, ['refused\n', 'child exit 7\n'])


if __name__ == '__main__':
    unittest.main()
