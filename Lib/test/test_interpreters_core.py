# Tests for what the interpreters module needs from the core: a thread of
# any interpreter gets the shared GIL back in time, Ctrl-C interrupts
# a subinterpreter that the main thread runs, each thread has its own
# current thread state, and each interpreter its own subclasses of and
# weak references to the static types that all share.  An interpreter
# marked for it (as those with their own GIL will be) creates only the
# extension modules on the list in Python/import.c.  An interpreter with
# its own GIL has pymalloc arenas of its own.  Other interpreters' start-up
# leaves the process-wide data the main interpreter set alone.
import ast
import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest
import weakref
from textwrap import dedent
from test import support
from test.support import import_helper
from test.support import interpreters_helper
from test.support import script_helper
from test.support import sigint_helper
from test.support import threading_helper

threading_helper.requires_working_threading(module=True)
_interpreters = import_helper.import_module('_interpreters')
import interpreters


# What promptly means: many switch intervals (5 ms by default), but far less
# than the timeouts of the tests, which the bugs made them reach.
PROMPTLY = 1.0

requires_sigint = unittest.skipIf(sys.platform == 'win32',
                                  'needs POSIX signal delivery')


class TestBase(interpreters_helper.TestBase):

    def destroy_while_alive(self, code, times=3):
        """Run code in new interpreters, each destroyed while what the code
        made is still alive."""
        for _ in range(times):
            interp = interpreters.create()
            interp.run(dedent(code))
            interp.destroy()


# Code that runs pure Python until an item is in queue, for timeout seconds
# at most.  Queue.empty() does not release the GIL: another thread only runs
# if the eval loop drops the GIL on request.
SPINNER = dedent("""
    import time
    deadline = time.monotonic() + timeout
    while queue.empty() and time.monotonic() < deadline:
        pass
    """)


# The code of a thread that reports when it sleeps, then how long its sleep
# of 0.2 seconds took.
SLEEPER = dedent("""
    import threading, time

    def sleeper():
        queue.put('sleeping')
        start = time.monotonic()
        time.sleep(0.2)
        queue.put(time.monotonic() - start)
    """)


class SchedulingTests(TestBase):

    def check_sleep(self, queue):
        self.assertFalse(queue.empty(), 'the sleeping thread never woke up')
        self.assertLess(queue.get_nowait(), PROMPTLY)

    def test_subinterpreter_thread_while_main_runs(self):
        # The main thread runs the main interpreter and asks for no switch:
        # the thread of the subinterpreter gets the GIL back after its
        # sleep anyway, as a thread of the main interpreter would.
        queue = interpreters.create_queue()
        interp = interpreters.create()
        interp.prepare_main(queue=queue)
        interp.run(SLEEPER + dedent("""
            thread = threading.Thread(target=sleeper)
            thread.start()
            """))
        try:
            self.assertEqual(queue.get(timeout=support.SHORT_TIMEOUT),
                             'sleeping')
            exec(SPINNER, {'queue': queue, 'timeout': support.SHORT_TIMEOUT})
        finally:
            interp.run('thread.join()')
        self.check_sleep(queue)

    def test_main_thread_while_subinterpreter_runs(self):
        # The other way round: the main thread runs code of a
        # subinterpreter, a thread of the main interpreter sleeps.
        queue = interpreters.create_queue()
        ns = {'queue': queue}
        exec(SLEEPER, ns)
        thread = threading.Thread(target=ns['sleeper'])
        thread.start()
        try:
            self.assertEqual(queue.get(timeout=support.SHORT_TIMEOUT),
                             'sleeping')
            interp = interpreters.create()
            interp.prepare_main(queue=queue, timeout=support.SHORT_TIMEOUT)
            interp.run(SPINNER)
        finally:
            threading_helper.join_thread(thread)
        self.check_sleep(queue)

    def test_between_subinterpreters(self):
        # A thread of one subinterpreter sleeps while the main thread runs
        # code of another one.
        queue = interpreters.create_queue()
        sleeping = interpreters.create()
        sleeping.prepare_main(queue=queue)
        sleeping.run(SLEEPER + dedent("""
            thread = threading.Thread(target=sleeper)
            thread.start()
            """))
        try:
            self.assertEqual(queue.get(timeout=support.SHORT_TIMEOUT),
                             'sleeping')
            spinning = interpreters.create()
            spinning.prepare_main(queue=queue,
                                  timeout=support.SHORT_TIMEOUT)
            spinning.run(SPINNER)
        finally:
            sleeping.run('thread.join()')
        self.check_sleep(queue)


class StaticTypeSubclassesTests(TestBase):
    """A class an interpreter defines is seen by that interpreter only."""

    def test_main_does_not_see_subinterpreter_classes(self):
        before = list.__subclasses__()
        interp = interpreters.create()
        interp.run(dedent("""
            class Sub(list):
                pass
            class SubSub(Sub):
                pass
            assert Sub in list.__subclasses__(), list.__subclasses__()
            assert Sub.__subclasses__() == [SubSub]
            """))
        self.assertEqual(list.__subclasses__(), before)
        # A class of a destroyed interpreter cannot be reached either.
        interp.destroy()
        self.assertEqual(list.__subclasses__(), before)

    def test_subinterpreter_does_not_see_main_classes(self):
        class MainOnly(list):
            pass
        self.assertIn(MainOnly, list.__subclasses__())
        interp = interpreters.create()
        interp.run(dedent("""
            names = [cls.__name__ for cls in list.__subclasses__()]
            assert 'MainOnly' not in names, names
            """))

    def test_static_subclasses_are_shared(self):
        static = [cls for cls in int.__subclasses__()
                  if not cls.__flags__ & (1 << 9)]   # Py_TPFLAGS_HEAPTYPE
        self.assertIn(bool, static)
        interp = interpreters.create()
        interp.prepare_main(static=tuple(cls.__name__ for cls in static))
        interp.run(dedent("""
            names = tuple(cls.__name__ for cls in int.__subclasses__())
            assert names == static, (names, static)
            class Mine(int):
                pass
            assert int.__subclasses__()[-1] is Mine
            """))
        self.assertNotIn('Mine', [c.__name__ for c in int.__subclasses__()])

    def test_subclass_forgotten_when_it_dies(self):
        interp = interpreters.create()
        interp.run(dedent("""
            import gc
            before = dict.__subclasses__()
            class Gone(dict):
                pass
            assert dict.__subclasses__() == before + [Gone]
            del Gone
            gc.collect()
            assert dict.__subclasses__() == before, dict.__subclasses__()
            class Again(dict):
                pass
            assert dict.__subclasses__() == before + [Again]
            """))

    def test_bases_assignment(self):
        # Moving a class to other bases moves it between the tables.
        interp = interpreters.create()
        interp.run(dedent("""
            before = list.__subclasses__()
            # No __dict__, so that every layout is list's.
            class A(list):
                __slots__ = ()
            class B(list):
                __slots__ = ()
            class C(A):
                __slots__ = ()
            C.__bases__ = (B,)
            assert A.__subclasses__() == [] and B.__subclasses__() == [C]
            class D(list):
                __slots__ = ()
            D.__bases__ = (A,)
            assert list.__subclasses__() == before + [A, B]
            assert A.__subclasses__() == [D]
            D.__bases__ = (list,)
            assert list.__subclasses__() == before + [A, B, D]
            """))

    def test_destroyed_with_live_subclasses(self):
        # The interpreter's table goes with it while its classes are still
        # alive, in a cycle.
        self.destroy_while_alive("""
            class Cyclic(list):
                pass
            Cyclic.me = Cyclic
            objects = [Cyclic() for _ in range(3)]
            """)
        self.assertNotIn('Cyclic', [c.__name__ for c in list.__subclasses__()])


class StaticTypeWeakrefsTests(TestBase):
    """A weak reference an interpreter makes is seen by that one only."""

    def test_main_does_not_see_subinterpreter_weakrefs(self):
        before = weakref.getweakrefs(int)
        interp = interpreters.create()
        interp.run(dedent("""
            import weakref
            def callback(ref):
                pass
            before = weakref.getweakrefcount(int)
            ref = weakref.ref(int, callback)
            proxy = weakref.proxy(int)
            assert weakref.getweakrefcount(int) == before + 2
            assert ref() is int and proxy.__name__ == 'int'
            """))
        self.assertEqual(weakref.getweakrefs(int), before)
        interp.destroy()
        self.assertEqual(weakref.getweakrefs(int), before)

    def test_subinterpreter_does_not_see_main_weakrefs(self):
        interp = interpreters.create()
        interp.run(dedent("""
            import weakref
            count = weakref.getweakrefcount(float)
            """))
        refs = [weakref.ref(float, lambda ref: None) for _ in range(3)]
        self.assertGreaterEqual(weakref.getweakrefcount(float), 3)
        interp.run(dedent("""
            assert weakref.getweakrefcount(float) == count, (
                weakref.getweakrefs(float))
            """))
        del refs

    def test_no_weakref_yet(self):
        # An interpreter that made no weak reference to a type sees none.
        ref = weakref.ref(slice)
        interp = interpreters.create()
        interp.run(dedent("""
            import weakref
            assert weakref.getweakrefs(slice) == []
            assert weakref.getweakrefcount(slice) == 0
            """))
        self.assertIs(ref(), slice)

    def test_weakref_dies_with_its_referrer(self):
        interp = interpreters.create()
        interp.run(dedent("""
            import gc, weakref
            before = weakref.getweakrefcount(complex)
            class Holder:
                pass
            holder = Holder()
            holder.me = holder
            holder.ref = weakref.ref(complex, lambda ref: None)
            assert weakref.getweakrefcount(complex) == before + 1
            del holder
            gc.collect()
            assert weakref.getweakrefcount(complex) == before
            """))

    def test_destroyed_with_live_weakrefs(self):
        # Weak references still alive while the interpreter is cleared,
        # some of them in the sys module, which goes last.
        self.destroy_while_alive("""
            import sys, weakref
            def callback(ref):
                pass
            sys.refs = [weakref.ref(t, callback)
                        for t in (int, str, range, memoryview)]
            sys.refs.append(sys.refs)
            """)
        self.assertIs(weakref.ref(range)(), range)


@unittest.skipUnless(sys.platform == 'linux', 'needs pthread_create()')
class CurrentThreadStateTests(unittest.TestCase):

    def test_other_thread_sees_none(self):
        # The current thread state is the calling thread's own, not that
        # of whichever thread holds the GIL: a C thread that has none gets
        # NULL while the main thread holds the GIL.
        ctypes = import_helper.import_module('ctypes')
        libc = ctypes.PyDLL(None)           # its calls keep the GIL
        unchecked_get = ctypes.pythonapi._PyThreadState_UncheckedGet
        unchecked_get.restype = ctypes.c_void_p
        start = ctypes.cast(unchecked_get, ctypes.c_void_p)
        thread = ctypes.c_ulong()
        self.assertEqual(
            libc.pthread_create(ctypes.byref(thread), None, start, None), 0)
        result = ctypes.c_void_p(1)
        # Holding the GIL until the C thread has returned.
        self.assertEqual(libc.pthread_join(thread, ctypes.byref(result)), 0)
        self.assertIsNone(result.value)
        self.assertIsNotNone(unchecked_get())


class ProcessWideDataTests(TestBase):

    def test_filesystem_encoding_globals_kept(self):
        # Only the main interpreter sets the C globals of the filesystem
        # encoding (core patch 0039).  Each interpreter used to free them
        # and store new copies while it started, so that two with their
        # own GIL, started at once, freed the same strings.
        ctypes = import_helper.import_module('ctypes')
        names = ('Py_FileSystemDefaultEncoding',
                 'Py_FileSystemDefaultEncodeErrors')

        def current():
            # Each string's address, and what it says.
            return [(ctypes.c_void_p.in_dll(ctypes.pythonapi, name).value,
                     ctypes.c_char_p.in_dll(ctypes.pythonapi, name).value)
                    for name in names]

        before = current()
        self.assertEqual(before[0][1].decode(),
                         sys.getfilesystemencoding())
        self.assertEqual(before[1][1].decode(),
                         sys.getfilesystemencodeerrors())
        interp = interpreters.create()
        interp.run('import os; os.fsencode("x")')
        self.assertEqual(current(), before)
        interp.destroy()
        self.assertEqual(current(), before)


@requires_sigint
@support.requires_subprocess()
class SignalTests(unittest.TestCase):
    """Ctrl-C while the main thread runs a subinterpreter.

    Each test runs a script in a new process, waits until it prints
    'ready' (and, if blocked is true, until it blocks in the call after
    that), sends it SIGINT, then writes stdin (if given) to its standard
    input.
    """

    def run_interrupted(self, script, stdin=None, *, blocked=False):
        """Return the lines the script printed and the time of SIGINT."""
        proc = script_helper.spawn_python('-X', 'faulthandler', '-c', script,
                                          stderr=subprocess.PIPE, text=True)
        with proc:
            try:
                line = proc.stdout.readline()
                if line == 'ready\n':
                    if blocked:
                        sigint_helper.wait_until_blocked(proc)
                    sent = time.monotonic()
                    proc.send_signal(signal.SIGINT)
                out, err = proc.communicate(stdin,
                                            timeout=support.SHORT_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                self.fail(f'process hung; stdout={out!r}, stderr={err!r}')
        self.assertEqual(line, 'ready\n',
                         f'stdout={line + out!r}, stderr={err!r}')
        self.assertEqual(proc.returncode, 0, err)
        return out.splitlines(), sent

    def assert_prompt(self, line, sent):
        # The script printed 'KeyboardInterrupt <time.monotonic()>'.
        name, when = line.split()
        self.assertEqual(name, 'KeyboardInterrupt')
        self.assertLess(float(when) - sent, PROMPTLY)

    def check_interrupted(self, code, *, blocked=False):
        lines, sent = self.run_interrupted(dedent(f"""
            import interpreters, time
            interp = interpreters.create()
            try:
                interp.run({code!r})
            except KeyboardInterrupt:
                print('KeyboardInterrupt', time.monotonic(), flush=True)
            # The interpreter stays usable.
            print(interp.is_running(), flush=True)
            interp.run('print("usable", flush=True)')
            interp.destroy()
            """), blocked=blocked)
        self.assertEqual(len(lines), 3, lines)
        self.assert_prompt(lines[0], sent)
        self.assertEqual(lines[1:], ['False', 'usable'])

    def test_running_code(self):
        self.check_interrupted(dedent("""
            print('ready', flush=True)
            while True:
                pass
            """))

    def test_blocking_call(self):
        self.check_interrupted(dedent(f"""
            import time
            print('ready', flush=True)
            time.sleep({support.LONG_TIMEOUT})
            """), blocked=True)

    def test_once_per_signal(self):
        # The subinterpreter catches the KeyboardInterrupt and goes on: the
        # signal does not interrupt it again, the caller gets it later.
        lines, sent = self.run_interrupted(dedent("""
            import interpreters
            interp = interpreters.create()
            try:
                interp.run('''if True:
                    import sys
                    def wait():
                        print('ready', flush=True)
                        while True:
                            pass
                    try:
                        wait()
                    except KeyboardInterrupt:
                        print('caught', flush=True)
                    print('read', sys.stdin.readline().strip(), flush=True)
                    ''')
                print('not interrupted')
            except KeyboardInterrupt:
                print('KeyboardInterrupt')
            """), stdin='go\n')
        self.assertEqual(lines, ['caught', 'read go', 'KeyboardInterrupt'])

    def test_nested(self):
        # Every subinterpreter between the one that runs and the main
        # interpreter gets the exception.
        lines, sent = self.run_interrupted(dedent("""
            import interpreters, time
            interp = interpreters.create()
            try:
                interp.run('''if True:
                    import interpreters, time
                    inner = interpreters.create()
                    try:
                        inner.run("print('ready', flush=True)\\\\n"
                                  "while True: pass")
                    except KeyboardInterrupt:
                        # When it arrived: the inner interpreter's
                        # destruction below takes its own time.
                        print('KeyboardInterrupt', time.monotonic(),
                              flush=True)
                        raise
                    finally:
                        inner.destroy()
                    ''')
            except KeyboardInterrupt:
                print('main', flush=True)
            """))
        self.assertEqual(len(lines), 2, lines)
        self.assert_prompt(lines[0], sent)
        self.assertEqual(lines[1], 'main')

    def test_once_per_signal_and_interpreter(self):
        # A subinterpreter catches the KeyboardInterrupt, then runs code of
        # another one, which gets it too.  Back from there, the first one
        # is not interrupted again by the same signal.
        lines, sent = self.run_interrupted(dedent("""
            import interpreters
            interp = interpreters.create()
            try:
                interp.run('''if True:
                    import interpreters, sys
                    inner = interpreters.create()
                    def wait():
                        print('ready', flush=True)
                        while True:
                            pass
                    try:
                        wait()
                    except KeyboardInterrupt:
                        print('caught', flush=True)
                    try:
                        inner.run('pass')
                    except interpreters.RunFailedError as exc:
                        print('inner', exc.excinfo.type.__name__, flush=True)
                    print('read', sys.stdin.readline().strip(), flush=True)
                    inner.destroy()
                    ''')
                print('not interrupted')
            except KeyboardInterrupt:
                print('KeyboardInterrupt')
            """), stdin='go\n')
        self.assertEqual(lines, ['caught', 'inner KeyboardInterrupt',
                                 'read go', 'KeyboardInterrupt'])

    def test_handler_set_in_main(self):
        # Only SIGINT with the default handler interrupts the
        # subinterpreter; another handler runs in the main interpreter once
        # the code finished.
        lines, sent = self.run_interrupted(dedent("""
            import interpreters, signal
            interp = interpreters.create()
            handled = []
            def handler(signum, frame):
                handled.append(interp.is_running())
            signal.signal(signal.SIGINT, handler)
            interp.run('''if True:
                import sys
                print('ready', flush=True)
                print('read', sys.stdin.readline().strip(), flush=True)
                ''')
            print('handled', handled)
            """), stdin='go\n', blocked=True)
        self.assertEqual(lines, ['read go', 'handled [False]'])

    @unittest.skipUnless(hasattr(signal, 'pthread_sigmask'),
                         'needs signal.pthread_sigmask()')
    def test_subinterpreter_in_thread(self):
        # Code of a subinterpreter running in another thread is not
        # interrupted: the main thread gets the exception.
        lines, sent = self.run_interrupted(dedent(f"""
            import interpreters, signal, threading, time
            interp = interpreters.create()
            queue = interpreters.create_queue()
            interp.prepare_main(queue=queue)
            def run():
                # The kernel may deliver SIGINT to any thread that does not
                # block it; one blocked in read() never wakes the main
                # thread's sleep.
                signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
                interp.run('''if True:
                    import sys
                    queue.put('reading')
                    print('read', sys.stdin.readline().strip(), flush=True)
                    ''')
            thread = threading.Thread(target=run)
            thread.start()
            queue.get()
            try:
                print('ready', flush=True)
                # Not a wait for the thread: KeyboardInterrupt may come
                # right after it ended, while its result is being handled.
                time.sleep({support.LONG_TIMEOUT})
                print('not interrupted')
            except KeyboardInterrupt:
                thread.join()
                print('KeyboardInterrupt', flush=True)
            """), stdin='go\n', blocked=True)
        self.assertEqual(lines, ['read go', 'KeyboardInterrupt'])



class OwnGILTests(unittest.TestCase):
    """An interpreter with its own GIL (patch 0018), through the private
    hooks of _testinternalcapi: nothing else creates one yet."""

    def setUp(self):
        self.capi = import_helper.import_module('_testinternalcapi')

    def run_own(self, code, **kwargs):
        return self.capi.run_in_own_gil_interpreter(
            dedent(code), timeout=support.SHORT_TIMEOUT, **kwargs)

    def test_runs_code(self):
        info = self.run_own("""
            import sys
            result = sum(range(10)), type(sys.modules)
            """)
        self.assertEqual(info['result'], "(45, <class 'dict'>)")
        self.assertIsNone(info['error'])
        self.assertTrue(info['own_gil'])
        self.assertTrue(info['distinct_gil'])
        self.assertFalse(info['caller_own_gil'])
        self.assertFalse(self.capi.has_own_gil())

    def test_exception(self):
        info = self.run_own('raise ValueError("spam")')
        self.assertEqual(info['error'], 'ValueError')
        self.assertIsNone(info['result'])

    def test_twice_and_shared_interpreters(self):
        # The main GIL is taken back each time, and interpreters that
        # share it still work.
        for _ in range(2):
            info = self.run_own('result = 1')
            self.assertEqual(info['result'], '1')
            interp = interpreters.create()
            interp.run('x = 1')
            interp.destroy()

    def test_thread_inside(self):
        # A thread of the own-GIL interpreter takes that GIL.
        info = self.run_own("""
            import threading
            out = []
            t = threading.Thread(target=out.append, args=(42,))
            t.start()
            t.join()
            result = out
            """)
        self.assertEqual(info['result'], '[42]')

    @threading_helper.requires_working_threading()
    def test_gils_are_distinct(self):
        # While the main thread holds the new interpreter's GIL, another
        # thread of the main interpreter runs Python code: it only can if
        # the main GIL was released.  The hooks make sure that the two
        # threads never use Python objects at the same time.
        timeout = support.SHORT_TIMEOUT
        results = []

        def other():
            if not self.capi.own_gil_park(timeout):
                results.append('not holding')
                return
            results.append(sum(range(1000)))
            results.append(self.capi.own_gil_release(timeout))

        thread = threading.Thread(target=other)
        thread.start()
        try:
            info = self.run_own('result = 6 * 7', hold=True)
        finally:
            thread.join()
        self.assertEqual(results, [499500, True])
        self.assertEqual(info['result'], '42')
        self.assertTrue(info['released'])

    @requires_sigint
    @support.requires_subprocess()
    def test_ctrl_c(self):
        # Ctrl-C interrupts the own-GIL interpreter that the main thread
        # runs (patch 0005), then the caller in the main interpreter.
        code = dedent("""
            import time
            try:
                print('ready', flush=True)
                while True:
                    pass
            except KeyboardInterrupt:
                print('KeyboardInterrupt', time.monotonic(), flush=True)
            """)
        lines, sent = SignalTests.run_interrupted(self, dedent(f"""
            import _testinternalcapi, time
            try:
                info = _testinternalcapi.run_in_own_gil_interpreter({code!r})
                time.sleep({support.SHORT_TIMEOUT})
                print('not interrupted', info, flush=True)
            except KeyboardInterrupt:
                print('main KeyboardInterrupt', flush=True)
            """))
        self.assertEqual(len(lines), 2, lines)
        SignalTests.assert_prompt(self, lines[0], sent)
        self.assertEqual(lines[1], 'main KeyboardInterrupt')


class OwnObmallocTests(unittest.TestCase):
    """An interpreter with its own GIL allocates its objects from pymalloc
    pools and arenas of its own (patch 0033)."""

    def setUp(self):
        # Sanitizer builds are built without pymalloc; the children run
        # with the allocator of this process.
        _testcapi = import_helper.import_module('_testcapi')
        if not _testcapi.pymem_getallocatorsname().startswith('pymalloc'):
            self.skipTest('pymalloc is not in use')

    @staticmethod
    def malloc_stats(text, name):
        # sys._debugmallocstats() writes to the C stderr: run it in a
        # child process.
        match = re.search(rf'^# {name} += +([\d,]+)$', text, re.MULTILINE)
        return None if match is None else int(match[1].replace(',', ''))

    def run_script(self, script):
        _, out, err = script_helper.assert_python_ok('-c', dedent(script))
        return out.decode(), err.decode()

    @support.requires_subprocess()
    def test_objects_come_from_pymalloc(self):
        # With patch 0019 alone, the interpreter took every block from
        # the raw allocator and sys._debugmallocstats() printed nothing.
        code = dedent("""
            import sys
            before = sys.getallocatedblocks()
            keep = [str(i) for i in range(10_000)]
            grown = sys.getallocatedblocks() - before
            sys._debugmallocstats()
            result = grown
            """)
        out, err = self.run_script(f"""
            import _testinternalcapi
            info = _testinternalcapi.run_in_own_gil_interpreter(
                {code!r}, timeout={support.SHORT_TIMEOUT})
            print(info['error'], info['result'])
            """)
        error, grown = out.split()
        self.assertEqual(error, 'None')
        self.assertGreaterEqual(int(grown), 10_000)
        # Its own arenas, which hold the 10,000 strings: more than the
        # state of an interpreter that only started.
        in_blocks = self.malloc_stats(err, 'bytes in allocated blocks')
        self.assertIsNotNone(in_blocks, err)
        self.assertGreaterEqual(in_blocks, 10_000 * sys.getsizeof('1234'))
        self.assertGreaterEqual(
            self.malloc_stats(err, 'arenas allocated current'), 1)

    @support.requires_subprocess()
    def test_arenas_freed_at_the_end(self):
        # Fifty interpreters, each filling several arenas of its own: all
        # are freed when the interpreter ends, none is left behind.
        code = dedent("""
            import sys
            keep = [str(i) * 3 for i in range(30_000)]
            sys._debugmallocstats()
            """)
        out, err = self.run_script(f"""
            import sys, _testinternalcapi
            for _ in range(50):
                info = _testinternalcapi.run_in_own_gil_interpreter(
                    {code!r}, timeout={support.SHORT_TIMEOUT})
                assert info['error'] is None, info
            print('main', flush=True)
            sys.stderr.write('main\\n')
            sys.stderr.flush()
            sys._debugmallocstats()
            """)
        self.assertEqual(out, 'main\n')
        own, main = err.split('main\n')
        arenas = re.findall(r'^# arenas allocated current += +(\d+)$',
                            own, re.MULTILINE)
        self.assertEqual(len(arenas), 50)
        self.assertTrue(all(int(n) >= 2 for n in arenas), arenas)
        self.assertIsNotNone(
            self.malloc_stats(main, 'arenas allocated current'))
        self.assertIsNone(
            self.malloc_stats(main, 'arenas of ended interpreters'))
        # No interpreter was handed a block of another one to free.
        self.assertNotIn('blocks of other interpreters', err)


_testinternalcapi = import_helper.import_module('_testinternalcapi')

OWN_GIL_REFUSAL = ("module {name!r} cannot be imported in an interpreter "
                   "with its own GIL: {reason}")
SINGLE_PHASE = ("it keeps state shared by all interpreters (single-phase "
                "initialization)")
NOT_LISTED = ("it is not on the list of extension modules known to be "
              "safe there")


class ExtensionAllowListTests(unittest.TestCase):
    """Extension modules in an interpreter that checks them."""

    def run_checked(self, code):
        """Run code in a new interpreter that checks extension modules;
        return the list of what the code passed to report()."""
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        prelude = dedent(f"""
            import os as _os
            def report(value):
                _os.write({w}, repr(value).encode() + b'\\n')
            """)
        try:
            status = _testinternalcapi.run_in_subinterp_checked(
                prelude + dedent(code))
        finally:
            os.close(w)
        self.assertEqual(status, 0)
        with os.fdopen(r, closefd=False) as lines:
            return [ast.literal_eval(line) for line in lines]

    def import_error(self, name):
        return self.run_checked(f"""
            try:
                import {name}
            except ImportError as exc:
                report((str(exc), exc.name, exc.path))
            else:
                report('imported')
            """)[0]

    def test_single_phase_module_is_refused(self):
        import_helper.import_module('_decimal')
        msg, name, path = self.import_error('_decimal')
        self.assertEqual(msg, OWN_GIL_REFUSAL.format(name='_decimal',
                                                     reason=SINGLE_PHASE))
        self.assertEqual(name, '_decimal')

    def test_refused_even_when_another_interpreter_has_it(self):
        # A single-phase module that the main interpreter imported is
        # copied into others from a cache: the check comes first.
        import_helper.import_module('_pickle')
        msg, name, path = self.import_error('_pickle')
        self.assertEqual(msg, OWN_GIL_REFUSAL.format(name='_pickle',
                                                     reason=SINGLE_PHASE))

    def test_refused_builtin_module(self):
        msg, name, path = self.import_error('faulthandler')
        self.assertEqual(msg, OWN_GIL_REFUSAL.format(
            name='faulthandler',
            reason='it manages state of the whole process'))
        self.assertEqual(name, 'faulthandler')
        self.assertIsNone(path)

    def test_signal_admitted(self):
        # getsignal() answers with the interpreter's own objects, never
        # with the main interpreter's handler; signal() is refused there.
        old = signal.signal(signal.SIGUSR1, lambda signum, frame: None)
        self.addCleanup(signal.signal, signal.SIGUSR1, old)
        results = self.run_checked("""
            import signal, _signal, unittest
            report(signal.getsignal(signal.SIGUSR1))
            report(signal.getsignal(signal.SIGPIPE) is signal.SIG_IGN)
            report(_signal.getsignal(signal.SIGPIPE) is _signal.SIG_IGN)
            try:
                signal.signal(signal.SIGUSR1, signal.SIG_DFL)
            except ValueError as exc:
                report(str(exc))
            """)
        self.assertEqual(results, [
            None, True, True,
            'signal only works in main thread of the main interpreter'])

    def test_unlisted_dynamic_module_is_refused(self):
        testcapi = import_helper.import_module('_testcapi')
        msg, name, path = self.import_error('_testcapi')
        self.assertEqual(msg, OWN_GIL_REFUSAL.format(name='_testcapi',
                                                     reason=NOT_LISTED))
        self.assertEqual(name, '_testcapi')
        self.assertEqual(path, testcapi.__file__)

    def test_admitted_modules_import(self):
        results = self.run_checked("""
            import math, _struct, _json, _heapq
            report(math.factorial(10))
            report(_struct.pack('<i', 7))
            """)
        self.assertEqual(results, [3628800, b'\x07\x00\x00\x00'])

    def test_modules_needed_at_startup_are_listed(self):
        rules = _testinternalcapi.get_extension_rules()
        started = self.run_checked("""
            import sys
            report(sorted(name for name, mod in sys.modules.items()
                          if getattr(mod.__spec__, 'origin', None)
                             == 'built-in'
                          or getattr(mod, '__file__', '').endswith('.so')))
            """)[0]
        self.assertIn('_io', started)
        for name in started:
            with self.subTest(name=name):
                self.assertIn(rules[name][0], ('admitted', 'needed'))

    def test_pure_python_fallbacks(self):
        results = self.run_checked("""
            import sys
            import datetime, decimal, pickle
            report('_decimal' in sys.modules)
            # Without arithmetic: a ContextVar set in a subinterpreter
            # leaks 3 references there, with or without the check.
            report(tuple(decimal.Decimal('-1.25').as_tuple()))
            report('_pydecimal' in sys.modules)
            report(pickle.loads(pickle.dumps({'a': [1, 2.5]})))
            report(pickle.Pickler.__name__)
            day = datetime.date(2026, 11, 30) + datetime.timedelta(days=1)
            report(day.isoformat())
            report('_datetime' in sys.modules)
            """)
        self.assertEqual(results, [False, (1, (1, 2, 5), -2), True,
                                   {'a': [1, 2.5]},
                                   '_Pickler', '2026-12-01', False])

    def test_pure_python_stdlib(self):
        results = self.run_checked("""
            import collections, dataclasses, fractions, json, re
            import string, textwrap
            @dataclasses.dataclass
            class Point:
                x: int
                y: int
            report(json.loads(json.dumps({'p': [1, 'two', None]})))
            report(re.sub(r'a+', '-', 'caaab'))
            report(collections.Counter('abca').most_common(1))
            report(str(fractions.Fraction(1, 3) + fractions.Fraction(1, 6)))
            report(repr(Point(1, 2)))
            report(textwrap.fill('aaa bbb', 3))
            report(string.Template('$x!').substitute(x='hi'))
            """)
        self.assertEqual(results, [{'p': [1, 'two', None]}, 'c-b',
                                   [('a', 2)], '1/2', 'Point(x=1, y=2)',
                                   'aaa\nbbb', 'hi!'])

    def test_unchanged_without_the_check(self):
        import_helper.import_module('_decimal')
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        try:
            status = support.run_in_subinterp(dedent(f"""
                import os, sys, _decimal, _signal
                os.write({w}, b'imported')
                """))
        finally:
            os.close(w)
        self.assertEqual(status, 0)
        self.assertEqual(os.read(r, 100), b'imported')

    def test_documented(self):
        # Doc/library/interpreters.rst lists what the C list says.
        doc = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                           'Doc', 'library', 'interpreters.rst')
        if not os.path.exists(doc):
            self.skipTest('no Doc directory')
        with open(doc, encoding='utf-8') as file:
            text = file.read()
        section = text.split('.. _interpreters-extensions:')[1]
        section = section.split('Every other extension module')[0]
        admitted, rest = section.split('Admitted although')
        needed, refused = rest.split('Refused:')
        admitted = admitted.split('Admitted:')[1]
        documented = {}
        for name in re.findall(r'``(\w+)``', admitted):
            documented[name] = ('admitted', None)
        for verdict, table in (('needed', needed), ('refused', refused)):
            for name, reason in re.findall(r'^``(\w+)``\s+(.+)$', table,
                                           re.MULTILINE):
                documented[name] = (verdict, reason)
        self.assertEqual(documented, _testinternalcapi.get_extension_rules())

    def test_rules(self):
        rules = _testinternalcapi.get_extension_rules()
        self.assertEqual(rules['math'], ('admitted', None))
        self.assertEqual(rules['_decimal'], ('refused', SINGLE_PHASE))
        self.assertEqual(rules['_io'][0], 'needed')
        for name, (verdict, reason) in rules.items():
            with self.subTest(name=name):
                self.assertIn(verdict, ('admitted', 'needed', 'refused'))
                self.assertEqual(reason is None, verdict == 'admitted')


if __name__ == '__main__':
    unittest.main()
