# Tests of interpreters with their own GIL: create(own_gil=True) of the
# interpreters and concurrent.interpreters modules.
#
# Only a build configured --with-immortal-objects offers them; elsewhere
# create(own_gil=True) must raise InterpreterError and leave nothing
# behind.  The parallel stress test is in test_interpreters_owngil_stress.
import os
import signal
import sys
import threading
import time
import unittest
from textwrap import dedent
from test import support
from test.support import import_helper
from test.support import script_helper
from test.support import threading_helper
from test.support.interpreters_helper import (
    OWN_GIL, TestBase, requires_own_gil, run_script,
)

_interpreters = import_helper.import_module('_interpreters')
import interpreters
from concurrent import interpreters as cinterpreters


@unittest.skipIf(OWN_GIL, 'this build offers interpreters with their own GIL')
class RefusedTests(TestBase):
    """A build without immortal objects refuses own_gil=True."""

    def check_refused(self, create, error):
        before = _interpreters.list_all()
        with self.assertRaisesRegex(error, '--with-immortal-objects'):
            create(own_gil=True)
        self.assertEqual(_interpreters.list_all(), before)

    def test_interpreters(self):
        self.check_refused(interpreters.create, interpreters.InterpreterError)

    def test_concurrent_interpreters(self):
        self.check_refused(cinterpreters.create,
                           cinterpreters.InterpreterError)

    def test_own_gil_false_is_the_default(self):
        interp = interpreters.create(own_gil=False)
        interp.run('x = 1')

    def test_keyword_only(self):
        with self.assertRaises(TypeError):
            _interpreters.create(True)
        with self.assertRaises(TypeError):
            cinterpreters.create(True)


@requires_own_gil
class OwnGILTests(TestBase):

    def test_run_exec_call(self):
        interp = interpreters.create(own_gil=True)
        interp.run('import sys; assert sys.version')
        cinterp = cinterpreters.create(own_gil=True)
        cinterp.exec('x = 6 * 7')
        self.assertEqual(cinterp.call(pow, 2, 10), 1024)
        # Arguments that cross by pickling: pickle's Python classes take
        # over where _pickle is refused.
        self.assertEqual(cinterp.call(sorted, {3: 'c', 1: 'a'}), [1, 3])
        self.assertEqual(cinterp.call(dict, [(1, [2, 3])]), {1: [2, 3]})
        cinterp.close()

    def test_prepare_main_and_exceptions(self):
        interp = cinterpreters.create(own_gil=True)
        interp.prepare_main(a=1, b='two')
        with self.assertRaises(cinterpreters.ExecutionFailed) as cm:
            interp.exec('raise ValueError(f"{a} {b}")')
        self.assertEqual(cm.exception.excinfo.type.__name__, 'ValueError')
        self.assertEqual(cm.exception.excinfo.msg, '1 two')
        interp.close()

    def test_refused_extension_module(self):
        interp = cinterpreters.create(own_gil=True)
        with self.assertRaises(cinterpreters.ExecutionFailed) as cm:
            interp.exec('import _testinternalcapi')
        self.assertEqual(cm.exception.excinfo.type.__name__, 'ImportError')
        self.assertIn('_testinternalcapi', cm.exception.excinfo.msg)
        self.assertIn('own GIL', cm.exception.excinfo.msg)
        interp.close()

    def test_pure_python_stdlib(self):
        interp = cinterpreters.create(own_gil=True)
        interp.exec(dedent('''
            import collections, dataclasses, datetime, decimal, fractions
            import json, pickle, re, string, textwrap
            assert str(decimal.Decimal('1.1') + 1) == '2.1'
            assert pickle.loads(pickle.dumps({1: [2]})) == {1: [2]}
            assert json.loads(json.dumps({'a': [1.5]})) == {'a': [1.5]}
            assert re.sub(r'(\\d+)', r'<\\1>', 'a12b') == 'a<12>b'
            assert fractions.Fraction(1, 3) * 3 == 1
            assert datetime.date(2024, 2, 29).isoformat() == '2024-02-29'
            @dataclasses.dataclass
            class P:
                x: int
            assert P(1) == P(1)
            assert collections.Counter('aab')['a'] == 2
            assert textwrap.shorten('hello world foo', 11) == 'hello [...]'
            assert string.Template('$x').substitute(x=1) == '1'
            '''))
        interp.close()

    def test_queues_between_kinds(self):
        own1 = cinterpreters.create(own_gil=True)
        own2 = cinterpreters.create(own_gil=True)
        shared = cinterpreters.create()
        q1 = cinterpreters.create_queue()
        q2 = cinterpreters.create_queue()
        for interp in (own1, own2, shared):
            interp.prepare_main(q1=q1, q2=q2)
        own1.exec('q1.put(("from own1", 1, 2.5, None, b"x"))')
        own2.exec('q2.put(q1.get(timeout=10))')
        shared.exec('item = q2.get(timeout=10); q1.put(item[0])')
        self.assertEqual(q1.get(timeout=support.SHORT_TIMEOUT), 'from own1')
        for interp in (own1, own2, shared):
            interp.close()

    def test_memoryview_outlives_its_interpreter(self):
        # The exporting object stays behind (leaked, as 3.11 leaves what
        # outlives an interpreter) rather than moving to the main
        # interpreter's collector from another GIL.
        interp = cinterpreters.create(own_gil=True)
        q = cinterpreters.create_queue()
        interp.prepare_main(q=q)
        interp.exec('q.put(memoryview(bytearray(b"abc" * 1000)))')
        view = q.get(timeout=support.SHORT_TIMEOUT)
        interp.close()
        self.assertEqual(bytes(view[:6]), b'abcabc')
        self.assertEqual(len(view), 3000)
        view.release()

    def test_threads_inside(self):
        interp = cinterpreters.create(own_gil=True)
        q = cinterpreters.create_queue()
        interp.prepare_main(q=q)
        interp.exec(dedent('''
            import threading
            def work(n):
                q.put(sum(range(n)))
            threads = [threading.Thread(target=work, args=(n,))
                       for n in range(10)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            '''))
        got = sorted(q.get(timeout=support.SHORT_TIMEOUT) for _ in range(10))
        self.assertEqual(got, sorted(sum(range(n)) for n in range(10)))
        interp.close()

    def test_runs_in_parallel(self):
        # The spinner never lets its GIL go (a switch interval of 1000 s,
        # which a new GIL takes from its creator's) and polls a queue
        # until an item comes or a deadline passes; another interpreter's
        # thread puts the item.  Only a GIL of its own lets that thread run
        # meanwhile.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1000)
        self.addCleanup(sys.setswitchinterval, interval)
        spinner = cinterpreters.create(own_gil=True)
        sender = cinterpreters.create(own_gil=True)
        started = cinterpreters.create_queue()
        results = cinterpreters.create_queue()
        items = cinterpreters.create_queue()
        for interp in (spinner, sender):
            interp.prepare_main(started=started, results=results, items=items,
                                timeout=support.SHORT_TIMEOUT)
        thread = threading.Thread(target=spinner.exec, args=(SPIN,))
        thread.start()
        try:
            sender.exec('started.get(timeout=timeout); items.put(1)')
        finally:
            thread.join()
        self.assertIs(results.get(timeout=support.SHORT_TIMEOUT), True)
        spinner.close()
        sender.close()

    def test_timeout_and_interrupt(self):
        interp = cinterpreters.create(own_gil=True)
        with self.assertRaises(cinterpreters.ExecutionTimeoutError):
            interp.exec('while True: pass', timeout=0.1)
        started = cinterpreters.create_queue()
        interp.prepare_main(started=started)

        def interrupt_once_started():
            started.get(timeout=support.SHORT_TIMEOUT)
            interp.interrupt()

        thread = threading.Thread(target=interrupt_once_started)
        thread.start()
        try:
            with self.assertRaises(cinterpreters.ExecutionFailed) as cm:
                interp.exec('started.put(None)\nwhile True: pass')
        finally:
            thread.join()
        self.assertEqual(cm.exception.excinfo.type.__name__,
                         'KeyboardInterrupt')
        interp.close()

    def test_interpreters_created_inside(self):
        interp = cinterpreters.create(own_gil=True)
        interp.exec(dedent('''
            from concurrent import interpreters
            inner = interpreters.create(own_gil=True)
            assert inner.call(pow, 3, 3) == 27
            inner.close()
            shared = interpreters.create()
            assert shared.call(pow, 2, 3) == 8
            shared.close()
            '''))
        interp.close()

    def test_many_created_and_closed(self):
        for _ in range(20):
            interp = cinterpreters.create(own_gil=True)
            interp.exec('import json; json.dumps([1, 2])')
            interp.close()

    def test_created_at_the_same_time(self):
        # Interpreters with their own GIL start in parallel when threads
        # create them at once (as InterpreterPoolExecutor's workers do):
        # their start-up must leave process-wide data alone (core patch
        # 0039; ThreadSanitizer saw the posix module and the builtins'
        # exception aliases written by both).  os.stat() reads what the
        # posix module's start-up set.
        count = 4
        barrier = threading.Barrier(count, timeout=support.SHORT_TIMEOUT)
        errors = []

        def start():
            try:
                barrier.wait()
                interp = cinterpreters.create(own_gil=True)
                try:
                    interp.exec('import os; os.stat("."); os.times()')
                finally:
                    interp.close()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=start) for _ in range(count)]
        with threading_helper.start_threads(threads):
            pass
        self.assertEqual(errors, [])


# Run in the spinner interpreter: see test_runs_in_parallel().
SPIN = dedent("""
    import time
    started.put(None)
    deadline = time.monotonic() + timeout
    got = False
    while not got and time.monotonic() < deadline:
        try:
            items.get_nowait()
        except Exception:
            pass
        else:
            got = True
    results.put(got)
    """)


@requires_own_gil
class ProcessTests(unittest.TestCase):
    """No crash at exit, at fork, or with a thread still running."""

    def test_exit_with_interpreters_alive(self):
        script_helper.assert_python_ok('-c', dedent('''
            from concurrent import interpreters
            interps = [interpreters.create(own_gil=True) for _ in range(3)]
            interps[0].exec('x = [1] * 1000')
            '''))

    def test_exit_with_a_thread_running(self):
        # The interpreter's non-daemon thread is still running when the
        # main interpreter exits: the exit waits for it or stops it, but
        # never crashes.
        rc, out, err = script_helper.assert_python_ok('-c', dedent('''
            from concurrent import interpreters
            interp = interpreters.create(own_gil=True)
            interp.exec("""if True:
                import threading, time
                def loop():
                    end = time.monotonic() + 0.5
                    while time.monotonic() < end:
                        sum(range(1000))
                threading.Thread(target=loop).start()
                """)
            print('started')
            '''))
        self.assertIn(b'started', out)

    @unittest.skipUnless(hasattr(os, 'kill') and sys.platform != 'win32',
                         'needs to send SIGINT to a child process')
    def test_ctrl_c(self):
        # SIGINT reaches the main interpreter's handler whatever runs:
        # the main thread, busy in an own-GIL interpreter's loop, gets
        # KeyboardInterrupt there, and the interpreter still closes.
        rc, out, err = run_script(self, dedent('''
            from concurrent import interpreters
            interp = interpreters.create(own_gil=True)
            try:
                # 'ready' once the loop's interpreter runs: a SIGINT
                # before the try would end the script instead.
                interp.exec('print("ready", flush=True)\\nwhile True: pass')
            except KeyboardInterrupt:
                print('KeyboardInterrupt', flush=True)
            interp.close()
            print('closed', flush=True)
            '''), send_sigint_after='ready')
        self.assertEqual(out, 'KeyboardInterrupt\nclosed\n', err)
        self.assertEqual(rc, 0, err)

    @support.requires_fork()
    def test_fork(self):
        rc, out, err = script_helper.assert_python_ok('-c', dedent('''
            import os
            from concurrent import interpreters
            interp = interpreters.create(own_gil=True)
            interp.exec('x = 1')
            pid = os.fork()
            if pid == 0:
                print('child', sum(range(10)), flush=True)
                os._exit(0)
            os.waitpid(pid, 0)
            interp.exec('y = x + 1')
            interp.close()
            print('parent')
            '''))
        self.assertIn(b'child 45', out)
        self.assertIn(b'parent', out)


@requires_own_gil
class SignalTests(TestBase):
    """signal, and so unittest and subprocess, in an interpreter with its
    own GIL; the signal handlers stay the main interpreter's."""

    def set_handler(self, signum, handler):
        old = signal.signal(signum, handler)
        self.addCleanup(signal.signal, signum, old)

    def exec_and_get(self, interp, code):
        """Run code, which puts one item into the queue results; return
        the item."""
        results = cinterpreters.create_queue()
        interp.prepare_main(results=results)
        interp.exec(dedent(code))
        return results.get(timeout=support.SHORT_TIMEOUT)

    def test_imports(self):
        interp = cinterpreters.create(own_gil=True)
        interp.exec('import signal, unittest, subprocess')
        interp.close()

    def test_getsignal(self):
        # The answer comes from the kind of the main interpreter's handler,
        # made of this interpreter's own objects.
        self.set_handler(signal.SIGINT, signal.default_int_handler)
        self.set_handler(signal.SIGUSR1, lambda signum, frame: None)
        self.set_handler(signal.SIGUSR2, signal.SIG_IGN)
        self.set_handler(signal.SIGTERM, signal.SIG_DFL)
        interp = cinterpreters.create(own_gil=True)
        got = self.exec_and_get(interp, """
            import signal, _signal
            results.put((
                signal.getsignal(signal.SIGINT) is signal.default_int_handler,
                # The main interpreter's function: unknown here.
                signal.getsignal(signal.SIGUSR1),
                signal.getsignal(signal.SIGUSR2) is signal.SIG_IGN,
                _signal.getsignal(signal.SIGUSR2) is _signal.SIG_IGN,
                signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,
                _signal.getsignal(signal.SIGTERM) is _signal.SIG_DFL,
                ))
            """)
        self.assertEqual(got, (True, None, True, True, True, True))
        interp.close()

    def test_handlers_set_only_by_the_main_interpreter(self):
        self.set_handler(signal.SIGUSR1, signal.SIG_DFL)
        interp = cinterpreters.create(own_gil=True)
        got = self.exec_and_get(interp, """
            import signal
            errors = []
            for call in (lambda: signal.signal(signal.SIGUSR1, signal.SIG_IGN),
                         lambda: signal.set_wakeup_fd(-1),
                         lambda: signal.siginterrupt(signal.SIGUSR1, False)):
                try:
                    call()
                except ValueError:
                    errors.append('ValueError')
            results.put(tuple(errors))
            """)
        self.assertEqual(got, ('ValueError',) * 3)
        self.assertIs(signal.getsignal(signal.SIGUSR1), signal.SIG_DFL)
        interp.close()

    def test_getsignal_while_the_main_interpreter_sets_handlers(self):
        # Each handler the main interpreter sets is freed when the next
        # replaces it, while the other interpreter asks in parallel: it
        # must never see (or keep alive) one of them.  The main interpreter
        # goes on until the other has seen both kinds of handler.
        self.set_handler(signal.SIGUSR1, signal.SIG_DFL)
        interp = cinterpreters.create(own_gil=True)
        started = cinterpreters.create_queue()
        both_seen = cinterpreters.create_queue()
        stop = cinterpreters.create_queue()
        results = cinterpreters.create_queue()
        interp.prepare_main(started=started, both_seen=both_seen, stop=stop,
                            results=results)
        thread = threading.Thread(target=interp.exec, args=(dedent("""
            import signal
            seen = set()
            started.put(None)
            while stop.empty():
                seen.add(repr(signal.getsignal(signal.SIGUSR1)))
                if len(seen) == 2 and both_seen.empty():
                    both_seen.put(None)
            results.put(tuple(sorted(seen)))
            """),))
        thread.start()
        try:
            started.get(timeout=support.SHORT_TIMEOUT)
            deadline = time.monotonic() + support.SHORT_TIMEOUT
            while both_seen.empty() and time.monotonic() < deadline:
                for _ in range(100):
                    signal.signal(signal.SIGUSR1, lambda signum, frame: None)
                    signal.signal(signal.SIGUSR1, signal.SIG_DFL)
        finally:
            stop.put(None)
            thread.join()
        seen = results.get(timeout=support.SHORT_TIMEOUT)
        self.assertEqual(seen, ('<Handlers.SIG_DFL: 0>', 'None'))
        interp.close()

    def test_unittest_runs_inside(self):
        interp = cinterpreters.create(own_gil=True)
        got = self.exec_and_get(interp, """
            import io, unittest
            class Inside(unittest.TestCase):
                def test_pass(self):
                    self.assertEqual(sum(range(4)), 6)
                def test_fail(self):
                    self.assertEqual(1, 2)
            stream = io.StringIO()
            suite = unittest.defaultTestLoader.loadTestsFromTestCase(Inside)
            result = unittest.TextTestRunner(stream=stream,
                                             verbosity=2).run(suite)
            results.put((result.testsRun, len(result.failures),
                         len(result.errors), stream.getvalue()))
            """)
        runs, failures, errors, output = got
        self.assertEqual((runs, failures, errors), (2, 1, 0))
        self.assertIn('test_pass', output)
        self.assertIn('AssertionError: 1 != 2', output)
        self.assertIn('FAILED (failures=1)', output)
        interp.close()

    @support.requires_subprocess()
    def test_subprocess_run(self):
        interp = cinterpreters.create(own_gil=True)
        got = self.exec_and_get(interp, """
            import subprocess, sys
            proc = subprocess.run([sys.executable, '-c', 'print(6 * 7)'],
                                  capture_output=True)
            results.put((proc.returncode, proc.stdout.strip()))
            """)
        self.assertEqual(got, (0, b'42'))
        interp.close()


if __name__ == '__main__':
    unittest.main()
