# Tests for concurrent.futures.InterpreterPoolExecutor.
import asyncio
import functools
import queue
import subprocess
import sys
import sysconfig
import threading
import time
import unittest
from concurrent import futures
from textwrap import dedent
from test import interpreter_pool_tasks as own_gil_tasks
from test import support
from test.support import import_helper
from test.support import interpreters_helper
from test.support import os_helper
from test.support import script_helper
from test.support import threading_helper
from test.support.interpreters_helper import requires_own_gil

threading_helper.requires_working_threading(module=True)
_interpreters = import_helper.import_module('_interpreters')
import interpreters
from concurrent import interpreters as cinterpreters
from concurrent.futures.interpreter import (
    InterpreterPoolExecutor, BrokenInterpreterPool, ExecutionFailed,
)


TIMEOUT = support.SHORT_TIMEOUT

requires_subprocess = support.requires_subprocess()


def tearDownModule():
    asyncio.set_event_loop_policy(None)


# The tasks below are found again by module and name in each worker's
# interpreter, which imports this module for them.

class TaskError(Exception):
    """An exception that any interpreter can rebuild: it imports this."""


def current_interp_id():
    return _interpreters.get_current()


def scale(x, *, factor=1):
    return x * factor


def fail(message):
    raise TaskError(message)


def fail_unrebuildable():
    # The caller cannot find this class by module and name.
    class LocalError(Exception):
        pass
    raise LocalError('local failure')


_init_value = None


def report_and_wait(started, release):
    """Tell the test that the task runs, then wait for its go.

    Return this interpreter's id, the item from release and what the
    initializer remembered.
    """
    interp_id = _interpreters.get_current()
    started.put(interp_id)
    return interp_id, release.get(timeout=TIMEOUT), _init_value


def remember(value):
    global _init_value
    _init_value = value


def remembered():
    return _init_value


def get_bytes(size):
    return b'x' * size


def interp_ids():
    return {interp.id for interp in cinterpreters.list_all()}


# What a task that terminate_workers() failed to stop returns.
NOT_INTERRUPTED = 'not interrupted'


def _spin():
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        pass


def _acquire_held_lock():
    lock = threading.Lock()
    lock.acquire()
    lock.acquire(timeout=TIMEOUT)


def _get_from_empty_queue():
    try:
        interpreters.create_queue().get(timeout=TIMEOUT)
    except interpreters.QueueEmpty:
        pass


def _get_from_empty_stdlib_queue():
    try:
        queue.Queue().get(timeout=TIMEOUT)
    except queue.Empty:
        pass


# Ways for a task to keep its worker busy until interrupted, each for
# TIMEOUT seconds at most.
BLOCKERS = {
    'busy loop': _spin,
    'time.sleep': functools.partial(time.sleep, TIMEOUT),
    'Event.wait': lambda: threading.Event().wait(TIMEOUT),
    'Lock.acquire': _acquire_held_lock,
    'interpreters queue get': _get_from_empty_queue,
    'queue.Queue.get': _get_from_empty_stdlib_queue,
}


def block(started, how):
    """Tell the test that the task runs, then block as BLOCKERS[how] does.

    Return NOT_INTERRUPTED if the wait ran out.
    """
    started.put(how)
    BLOCKERS[how]()
    return NOT_INTERRUPTED


def swallow_interrupt(started):
    """Catch the first KeyboardInterrupt, then block again."""
    started.put(None)
    try:
        time.sleep(TIMEOUT)
    except KeyboardInterrupt:
        pass
    time.sleep(TIMEOUT)
    return NOT_INTERRUPTED


def raise_keyboard_interrupt():
    raise KeyboardInterrupt


class TestBase(unittest.TestCase):

    def setUp(self):
        self.interps_before = interp_ids()
        # Cleanups run last first: this one after the executors' shutdown.
        self.addCleanup(self.check_interps_closed)

    def check_interps_closed(self):
        self.assertEqual(interp_ids(), self.interps_before)

    def executor(self, *args, **kwargs):
        executor = InterpreterPoolExecutor(*args, **kwargs)
        self.addCleanup(executor.shutdown, wait=True, cancel_futures=True)
        return executor

    def queue(self):
        return interpreters.create_queue()

    def start_busy(self, executor, count):
        """Start count tasks that each hold a worker until released.

        Return their futures, the queue that releases them, and the ids of
        the interpreters they run in, once all of them have started.
        """
        started = self.queue()
        release = self.queue()
        fs = [executor.submit(report_and_wait, started, release)
              for _ in range(count)]
        ids = [started.get(timeout=TIMEOUT) for _ in range(count)]
        return fs, release, ids


class SubmitTests(TestBase):

    def test_submit_builtin(self):
        executor = self.executor()
        fut = executor.submit(pow, 2, 10)
        self.assertEqual(fut.result(TIMEOUT), 1024)

    def test_submit_function_with_kwargs(self):
        executor = self.executor()
        fut = executor.submit(scale, [1, 'a'], factor=2)
        self.assertEqual(fut.result(TIMEOUT), [1, 'a', 1, 'a'])

    def test_map(self):
        executor = self.executor(max_workers=2)
        results = executor.map(scale, range(20), timeout=TIMEOUT)
        self.assertEqual(list(results), list(range(20)))

    def test_map_kwargs_through_partial(self):
        executor = self.executor(max_workers=2)
        task = functools.partial(scale, factor=3)
        self.assertEqual(list(executor.map(task, [1, 2], timeout=TIMEOUT)),
                         [3, 6])

    def test_big_result(self):
        executor = self.executor()
        size = 1 << 20
        self.assertEqual(executor.submit(get_bytes, size).result(TIMEOUT),
                         b'x' * size)

    def test_runs_in_another_interpreter(self):
        executor = self.executor()
        interp_id = executor.submit(current_interp_id).result(TIMEOUT)
        self.assertNotEqual(interp_id, _interpreters.get_current())
        self.assertNotIn(interp_id, self.interps_before)
        self.assertIn(interp_id, interp_ids())

    def test_same_worker_same_interpreter(self):
        executor = self.executor(max_workers=1)
        first = executor.submit(current_interp_id).result(TIMEOUT)
        second = executor.submit(current_interp_id).result(TIMEOUT)
        self.assertEqual(first, second)

    def test_each_worker_own_interpreter(self):
        executor = self.executor(max_workers=3)
        fs, release, ids = self.start_busy(executor, 3)
        # Three tasks run at once: three workers, three interpreters.
        self.assertEqual(len(set(ids)), 3)
        self.assertEqual(interp_ids(), self.interps_before | set(ids))
        for _ in fs:
            release.put(None)
        self.assertEqual(sorted(f.result(TIMEOUT)[0] for f in fs),
                         sorted(ids))

    def test_default_thread_names(self):
        executor = self.executor(max_workers=1)
        executor.submit(pow, 1, 1).result(TIMEOUT)
        [thread] = executor._threads
        self.assertRegex(thread.name, r'^InterpreterPoolExecutor-\d+_0$')

    def test_thread_name_prefix(self):
        executor = self.executor(max_workers=1, thread_name_prefix='pool')
        executor.submit(pow, 1, 1).result(TIMEOUT)
        [thread] = executor._threads
        self.assertEqual(thread.name, 'pool_0')

    def test_is_a_thread_pool(self):
        self.assertTrue(issubclass(InterpreterPoolExecutor,
                                   futures.ThreadPoolExecutor))
        self.assertIs(futures.InterpreterPoolExecutor,
                      InterpreterPoolExecutor)

    def test_bad_max_workers(self):
        with self.assertRaises(ValueError):
            InterpreterPoolExecutor(max_workers=0)

    def test_str_task(self):
        executor = self.executor()
        with self.assertRaisesRegex(TypeError, 'scripts not supported'):
            executor.submit('print(1)')
        with self.assertRaisesRegex(TypeError, 'scripts not supported'):
            list(executor.map('print(1)', [1]))
        # Nothing was started for them.
        self.assertEqual(executor._threads, set())

    def test_str_initializer(self):
        with self.assertRaisesRegex(TypeError, 'scripts not supported'):
            InterpreterPoolExecutor(initializer='x = 1')

    def test_argument_not_shareable(self):
        executor = self.executor()
        fut = executor.submit(len, lambda: 1)
        with self.assertRaises(cinterpreters.NotShareableError):
            fut.result(TIMEOUT)
        # The worker goes on.
        self.assertEqual(executor.submit(len, 'ab').result(TIMEOUT), 2)

    def test_submit_after_shutdown(self):
        executor = self.executor()
        executor.shutdown()
        with self.assertRaisesRegex(RuntimeError, 'after shutdown'):
            executor.submit(pow, 1, 1)


class ExceptionTests(TestBase):

    def test_builtin_exception(self):
        executor = self.executor()
        fut = executor.submit(divmod, 1, 0)
        with self.assertRaises(ZeroDivisionError) as cm:
            fut.result(TIMEOUT)
        failed = cm.exception.__cause__
        self.assertIsInstance(failed, ExecutionFailed)
        self.assertEqual(failed.excinfo.type.__name__, 'ZeroDivisionError')
        # The two are chained one way only.
        self.assertIsNone(failed.__cause__)

    def test_exception_of_importable_class(self):
        executor = self.executor()
        fut = executor.submit(fail, 'boom')
        with self.assertRaises(TaskError) as cm:
            fut.result(TIMEOUT)
        self.assertIs(type(cm.exception), TaskError)
        self.assertEqual(cm.exception.args, ('boom',))
        self.assertIsInstance(cm.exception.__cause__, ExecutionFailed)
        self.assertIn('boom', str(cm.exception.__cause__))

    def test_exception_that_cannot_cross(self):
        executor = self.executor()
        fut = executor.submit(fail_unrebuildable)
        with self.assertRaises(ExecutionFailed) as cm:
            fut.result(TIMEOUT)
        self.assertEqual(cm.exception.excinfo.type.__name__, 'LocalError')
        self.assertIn('local failure', str(cm.exception))
        self.assertIsNone(cm.exception.__cause__)

    def test_worker_survives_exception(self):
        executor = self.executor(max_workers=1)
        first = executor.submit(current_interp_id).result(TIMEOUT)
        with self.assertRaises(TaskError):
            executor.submit(fail, 'x').result(TIMEOUT)
        self.assertEqual(executor.submit(current_interp_id).result(TIMEOUT),
                         first)

    def test_map_raises_task_exception(self):
        executor = self.executor()
        with self.assertRaises(ZeroDivisionError):
            list(executor.map(divmod, [1, 1], [1, 0], timeout=TIMEOUT))


class InitializerTests(TestBase):

    def test_initializer_with_args(self):
        executor = self.executor(max_workers=1, initializer=remember,
                                 initargs=(['spam', 42],))
        self.assertEqual(executor.submit(remembered).result(TIMEOUT),
                         ['spam', 42])
        # It ran in the worker's interpreter, not here.
        self.assertIsNone(_init_value)

    def test_initializer_runs_in_each_worker(self):
        executor = self.executor(max_workers=2, initializer=remember,
                                 initargs=('set',))
        fs, release, ids = self.start_busy(executor, 2)
        for _ in fs:
            release.put(None)
        # Two workers, each initialized in its own interpreter.
        self.assertEqual(len(set(ids)), 2)
        self.assertEqual([f.result(TIMEOUT)[2] for f in fs], ['set', 'set'])

    def test_initializer_failure_breaks_pool(self):
        executor = self.executor(max_workers=1, initializer=fail,
                                 initargs=('no init',))
        with self.assertLogs('concurrent.futures', 'CRITICAL') as logs:
            fut = executor.submit(pow, 2, 2)
            with self.assertRaises(BrokenInterpreterPool):
                fut.result(TIMEOUT)
            # The worker has ended: its interpreter is closed.
            for thread in list(executor._threads):
                thread.join(TIMEOUT)
        self.assertIn('Exception in initializer:', logs.output[0])
        self.assertIn('no init', logs.output[0])
        self.assertEqual(interp_ids(), self.interps_before)
        with self.assertRaises(BrokenInterpreterPool):
            executor.submit(pow, 2, 2)

    def test_broken_pool_exception_classes(self):
        self.assertTrue(issubclass(BrokenInterpreterPool,
                                   futures.thread.BrokenThreadPool))
        self.assertTrue(issubclass(BrokenInterpreterPool,
                                   futures.BrokenExecutor))


class ShutdownTests(TestBase):

    def test_shutdown_wait_while_busy(self):
        executor = self.executor(max_workers=2)
        fs, release, ids = self.start_busy(executor, 2)
        waiting = executor.submit(scale, 5)
        # shutdown() in a thread: it must wait for the busy workers.
        done = interpreters.create_queue()
        def shutdown():
            executor.shutdown(wait=True)
            done.put('done')
        with threading_helper.start_threads([threading.Thread(
                target=shutdown)]):
            self.assertFalse(fs[0].done())
            release.put('a')
            release.put('b')
            self.assertEqual(done.get(timeout=TIMEOUT), 'done')
        self.assertEqual(sorted(f.result(0)[1] for f in fs), ['a', 'b'])
        # A task submitted before shutdown() still ran.
        self.assertEqual(waiting.result(0), 5)
        # shutdown() closed the interpreters of the workers.
        self.assertTrue(set(ids).isdisjoint(interp_ids()))

    def test_shutdown_cancel_futures(self):
        executor = self.executor(max_workers=1)
        [running], release, _ = self.start_busy(executor, 1)
        pending = [executor.submit(scale, i) for i in range(3)]
        executor.shutdown(wait=False, cancel_futures=True)
        self.assertTrue(all(f.cancelled() for f in pending))
        release.put('go')
        self.assertEqual(running.result(TIMEOUT)[1], 'go')
        executor.shutdown(wait=True)
        self.assertEqual(interp_ids(), self.interps_before)

    def test_interpreters_closed_at_shutdown(self):
        with InterpreterPoolExecutor(max_workers=2) as executor:
            fs, release, ids = self.start_busy(executor, 2)
            self.assertEqual(interp_ids(), self.interps_before | set(ids))
            release.put(None)
            release.put(None)
        self.assertEqual(interp_ids(), self.interps_before)

    def test_interpreters_closed_when_executor_collected(self):
        executor = InterpreterPoolExecutor(max_workers=1)
        executor.submit(pow, 1, 1).result(TIMEOUT)
        threads = list(executor._threads)
        self.assertEqual(len(interp_ids()), len(self.interps_before) + 1)
        del executor
        support.gc_collect()
        for thread in threads:
            thread.join(TIMEOUT)
            self.assertFalse(thread.is_alive())
        self.assertEqual(interp_ids(), self.interps_before)


class TerminateWorkersTests(TestBase):

    def executor(self, *args, **kwargs):
        executor = InterpreterPoolExecutor(*args, **kwargs)
        # shutdown(wait=True) would wait for good for a worker that
        # terminate_workers() failed to stop: fail after a while instead.
        self.addCleanup(self.check_workers_ended, executor)
        self.addCleanup(executor.shutdown, wait=False, cancel_futures=True)
        return executor

    def start_blocked(self, executor, *hows):
        """Submit block() for each way in hows; return the futures once
        all of them run."""
        started = self.queue()
        fs = [executor.submit(block, started, how) for how in hows]
        self.assertEqual(sorted(started.get(timeout=TIMEOUT) for _ in fs),
                         sorted(hows))
        return fs

    def check_interrupted(self, fut):
        with self.assertRaises(KeyboardInterrupt) as cm:
            fut.result(TIMEOUT)
        failed = cm.exception.__cause__
        self.assertIsInstance(failed, ExecutionFailed)
        self.assertEqual(failed.excinfo.type.__name__, 'KeyboardInterrupt')
        self.assertIsNone(failed.__cause__)

    def check_workers_ended(self, executor):
        # terminate_workers() does not wait: the workers end by themselves.
        for thread in list(executor._threads):
            thread.join(TIMEOUT)
            self.assertFalse(thread.is_alive())
        self.assertEqual(interp_ids(), self.interps_before)

    def test_keyboard_interrupt_of_a_task(self):
        # The mapping that terminate_workers() relies on: the future
        # raises the KeyboardInterrupt, and the worker goes on.
        executor = self.executor(max_workers=1)
        self.check_interrupted(executor.submit(raise_keyboard_interrupt))
        self.assertEqual(executor.submit(pow, 2, 3).result(TIMEOUT), 8)

    def test_stops_each_running_task(self):
        executor = self.executor(max_workers=len(BLOCKERS))
        fs = self.start_blocked(executor, *BLOCKERS)
        executor.terminate_workers()
        for how, fut in zip(BLOCKERS, fs):
            with self.subTest(how):
                self.check_interrupted(fut)
        self.check_workers_ended(executor)

    def test_cancels_pending_tasks(self):
        executor = self.executor(max_workers=1)
        [running] = self.start_blocked(executor, 'time.sleep')
        pending = [executor.submit(pow, 2, i) for i in range(3)]
        executor.terminate_workers()
        self.assertTrue(all(f.cancelled() for f in pending))
        # wait() and as_completed() see them done at once, unlike the
        # futures that shutdown(cancel_futures=True) cancels in 3.11.
        done, not_done = futures.wait(pending, timeout=0)
        self.assertEqual(not_done, set())
        self.assertEqual(set(futures.as_completed(pending, timeout=0)),
                         set(pending))
        self.check_interrupted(running)
        self.check_workers_ended(executor)

    def test_task_cannot_swallow_the_interrupt(self):
        executor = self.executor(max_workers=1)
        started = self.queue()
        fut = executor.submit(swallow_interrupt, started)
        started.get(timeout=TIMEOUT)
        executor.terminate_workers()
        self.check_interrupted(fut)
        self.check_workers_ended(executor)

    def test_idle_workers(self):
        executor = self.executor(max_workers=2)
        fs, release, ids = self.start_busy(executor, 2)
        release.put(None)
        release.put(None)
        for fut in fs:
            fut.result(TIMEOUT)
        self.assertEqual(interp_ids(), self.interps_before | set(ids))
        executor.terminate_workers()
        self.check_workers_ended(executor)

    def test_finished_task_keeps_its_result(self):
        executor = self.executor(max_workers=2)
        done = executor.submit(pow, 2, 5)
        self.assertEqual(done.result(TIMEOUT), 32)
        [running] = self.start_blocked(executor, 'Event.wait')
        executor.terminate_workers()
        self.check_interrupted(running)
        self.assertEqual(done.result(0), 32)

    def test_submit_after_terminate(self):
        executor = self.executor()
        executor.submit(pow, 1, 1).result(TIMEOUT)
        executor.terminate_workers()
        with self.assertRaisesRegex(RuntimeError, 'after shutdown'):
            executor.submit(pow, 1, 1)
        self.check_workers_ended(executor)

    def test_never_started(self):
        executor = self.executor()
        executor.terminate_workers()
        self.assertEqual(executor._threads, set())
        with self.assertRaisesRegex(RuntimeError, 'after shutdown'):
            executor.submit(pow, 1, 1)

    def test_twice(self):
        executor = self.executor(max_workers=1)
        [running] = self.start_blocked(executor, 'time.sleep')
        executor.terminate_workers()
        executor.terminate_workers()
        self.check_interrupted(running)
        self.check_workers_ended(executor)
        executor.terminate_workers()

    def test_after_shutdown_wait(self):
        executor = self.executor(max_workers=1)
        executor.submit(pow, 1, 1).result(TIMEOUT)
        executor.shutdown(wait=True)
        executor.terminate_workers()
        self.check_workers_ended(executor)

    def test_after_shutdown_without_wait(self):
        # shutdown() leaves a running task alone; terminate_workers()
        # stops it still.
        executor = self.executor(max_workers=1)
        [running] = self.start_blocked(executor, 'queue.Queue.get')
        executor.shutdown(wait=False)
        self.assertFalse(running.done())
        executor.terminate_workers()
        self.check_interrupted(running)
        self.check_workers_ended(executor)

    def test_then_shutdown_wait(self):
        executor = self.executor(max_workers=2)
        fs = self.start_blocked(executor, 'busy loop', 'Lock.acquire')
        executor.terminate_workers()
        executor.shutdown(wait=True)
        for fut in fs:
            self.assertTrue(fut.done())
            self.check_interrupted(fut)
        self.assertEqual(interp_ids(), self.interps_before)

    def test_stops_the_initializer(self):
        started = self.queue()
        executor = self.executor(max_workers=1, initializer=block,
                                 initargs=(started, 'time.sleep'))
        with self.assertNoLogs('concurrent.futures', 'CRITICAL'):
            fut = executor.submit(pow, 2, 2)
            started.get(timeout=TIMEOUT)
            executor.terminate_workers()
            self.assertTrue(fut.cancelled())
            self.check_workers_ended(executor)
        # The pool was shut down, not broken by its initializer.
        self.assertFalse(executor._broken)
        with self.assertRaisesRegex(RuntimeError, 'after shutdown'):
            executor.submit(pow, 1, 1)

    def test_from_a_done_callback(self):
        # The callbacks of a task's future run in its worker's thread,
        # once the task is over: terminate_workers() must not wait for it.
        executor = self.executor(max_workers=2)
        [blocked] = self.start_blocked(executor, 'time.sleep')
        [fut], release, _ = self.start_busy(executor, 1)
        called = threading.Event()
        def terminate(fut):
            executor.terminate_workers()
            called.set()
        fut.add_done_callback(terminate)
        release.put('go')
        self.assertTrue(called.wait(TIMEOUT))
        self.assertEqual(fut.result(0)[1], 'go')
        self.check_interrupted(blocked)
        self.check_workers_ended(executor)

    def test_from_a_cancelled_future_callback(self):
        # The pending futures are cancelled outside the executor's lock.
        executor = self.executor(max_workers=1)
        [running] = self.start_blocked(executor, 'time.sleep')
        pending = executor.submit(pow, 2, 2)
        refused = []
        def callback(fut):
            executor.terminate_workers()
            try:
                executor.submit(pow, 2, 2)
            except RuntimeError as exc:
                refused.append(exc)
        pending.add_done_callback(callback)
        # In a thread: a deadlock fails the test instead of blocking it.
        terminator = threading.Thread(target=executor.terminate_workers)
        terminator.start()
        terminator.join(TIMEOUT)
        self.assertFalse(terminator.is_alive())
        self.assertTrue(pending.cancelled())
        self.assertEqual(len(refused), 1)
        self.check_interrupted(running)
        self.check_workers_ended(executor)

    def test_concurrent_submit(self):
        # Each submit() either raises RuntimeError or returns a future
        # that ends: cancelled, interrupted or done.
        executor = self.executor(max_workers=2)
        submitted = self.start_blocked(executor, 'time.sleep')
        started = self.queue()
        refused = threading.Event()
        def submit():
            hows = ['time.sleep', 'busy loop']
            # Bounded, should terminate_workers() not refuse it.
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                how = hows[len(submitted) % 2]
                try:
                    fut = executor.submit(block, started, how)
                except RuntimeError:
                    refused.set()
                    return
                submitted.append(fut)
        with threading_helper.start_threads([threading.Thread(
                target=submit)]):
            executor.terminate_workers()
            self.assertTrue(refused.wait(TIMEOUT))
        done, not_done = futures.wait(submitted, TIMEOUT)
        self.assertEqual(not_done, set())
        for fut in submitted:
            if not fut.cancelled():
                self.check_interrupted(fut)
        self.check_workers_ended(executor)

    def test_just_submitted_tasks(self):
        # terminate_workers() right after submit(): whether a task has
        # started, is starting or has not, its future ends and no worker
        # is left running it.
        # The first task of a worker is often interrupted while the
        # worker's interpreter imports this module for it.
        started = self.queue()
        for _ in range(20):
            executor = self.executor(max_workers=2)
            fs = [executor.submit(block, started, 'time.sleep'),
                  executor.submit(block, started, 'busy loop'),
                  executor.submit(pow, 2, 2)]
            executor.terminate_workers()
            done, not_done = futures.wait(fs, TIMEOUT)
            self.assertEqual(not_done, set())
            for fut in fs[:2]:
                if not fut.cancelled():
                    self.check_interrupted(fut)
            self.check_workers_ended(executor)
        # Drop what the tasks that started reported.
        interpreters_helper.drain(started)


class AsyncioTests(TestBase):

    def test_run_in_executor(self):
        executor = self.executor(max_workers=2)

        async def main():
            loop = asyncio.get_running_loop()
            results = await asyncio.gather(
                loop.run_in_executor(executor, pow, 2, 5),
                loop.run_in_executor(
                    executor, functools.partial(scale, 'ab', factor=2)),
            )
            with self.assertRaises(TaskError) as cm:
                await loop.run_in_executor(executor, fail, 'async')
            return results, cm.exception

        results, exc = asyncio.run(main())
        self.assertEqual(results, [32, 'abab'])
        self.assertIsInstance(exc.__cause__, ExecutionFailed)

    def test_default_executor(self):
        async def main():
            loop = asyncio.get_running_loop()
            executor = InterpreterPoolExecutor(max_workers=1)
            loop.set_default_executor(executor)
            return await loop.run_in_executor(None, current_interp_id)

        # asyncio.run() shuts the default executor down.
        interp_id = asyncio.run(main())
        self.assertNotIn(interp_id, self.interps_before)


@requires_subprocess
class ExitTests(unittest.TestCase):

    def test_exit_without_shutdown(self):
        # The end of the main interpreter stops the workers, which close
        # their interpreters before finalization; queued tasks still run.
        source = dedent("""\
            import _interpreters
            import atexit
            from concurrent.futures import InterpreterPoolExecutor

            executor = InterpreterPoolExecutor(max_workers=2)
            print(executor.submit(pow, 2, 3).result())
            futures = [executor.submit(pow, 2, i) for i in range(100)]

            # atexit callbacks run once the threads have ended.
            @atexit.register
            def report():
                print(all(f.done() for f in futures),
                      len(_interpreters.list_all()))
            """)
        _, out, err = script_helper.assert_python_ok('-c', source)
        self.assertEqual(out.decode().splitlines(), ['8', 'True 1'])
        self.assertEqual(err, b'')


@requires_subprocess
class MainModuleTests(TestBase):
    """Functions of __main__ need no "if __name__ == '__main__'" guard."""

    # The tasks use what __main__ imported and defined: the workers get
    # it without running the script again.
    SOURCE = dedent("""\
        import math
        from concurrent.futures import InterpreterPoolExecutor
        print('main runs once')
        OFFSET = 10

        def square(x):
            return x * x

        def task(x):
            return square(math.floor(x)) + OFFSET

        class MainError(Exception):
            pass

        def boom():
            raise MainError('from __main__')

        with InterpreterPoolExecutor(max_workers=2) as executor:
            print(list(executor.map(task, [0.5, 1.5, 2.5, 3.5])))
            try:
                executor.submit(boom).result()
            except MainError as exc:
                print('caught', repr(exc), type(exc.__cause__).__name__)
        """)

    EXPECTED = [
        'main runs once',
        '[10, 11, 14, 19]',
        "caught MainError('from __main__') ExecutionFailed",
    ]

    def check_output(self, out):
        self.assertEqual(out.decode().splitlines(), self.EXPECTED)

    def test_script(self):
        with os_helper.temp_dir() as script_dir:
            script = script_helper.make_script(script_dir, 'pool_script',
                                               self.SOURCE)
            _, out, err = script_helper.assert_python_ok(script)
        self.check_output(out)
        self.assertEqual(err, b'')

    def test_command(self):
        _, out, err = script_helper.assert_python_ok('-c', self.SOURCE)
        self.check_output(out)
        self.assertEqual(err, b'')

    def test_repl(self):
        # The interactive loop, reading the statements from a pipe; a
        # blank line ends each compound statement there, the last one too.
        source = self.SOURCE + '\n'
        proc = script_helper.spawn_python('-i', '-q', '-I',
                                          stderr=subprocess.PIPE)
        out, err = proc.communicate(source.encode(), timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        self.check_output(out)


# ----------------------------------------------------------------------------
# Workers with their own GIL: InterpreterPoolExecutor(own_gil=True)


class OwnGILAvailableTests(unittest.TestCase):

    def test_available_in_builds_with_immortal_objects(self):
        self.assertIs(cinterpreters.OWN_GIL_AVAILABLE,
                      bool(sysconfig.get_config_var('Py_IMMORTAL_OBJECTS')))
        self.assertIs(cinterpreters.OWN_GIL_AVAILABLE,
                      _interpreters.OWN_GIL_AVAILABLE)
        self.assertIn('OWN_GIL_AVAILABLE', cinterpreters.__all__)

    def test_keyword_only(self):
        with self.assertRaises(TypeError):
            InterpreterPoolExecutor(1, '', None, (), True)


@unittest.skipIf(cinterpreters.OWN_GIL_AVAILABLE,
                 'this build offers interpreters with their own GIL')
class OwnGILRefusedTests(TestBase):
    """A build without immortal objects refuses own_gil=True at once."""

    def test_constructor_raises_what_create_raises(self):
        with self.assertRaises(cinterpreters.InterpreterError) as cm:
            cinterpreters.create(own_gil=True)
        expected = cm.exception
        threads = threading.active_count()
        with self.assertRaises(cinterpreters.InterpreterError) as cm:
            InterpreterPoolExecutor(max_workers=1, own_gil=True)
        self.assertIs(type(cm.exception), type(expected))
        self.assertEqual(str(cm.exception), str(expected))
        self.assertIn('--with-immortal-objects', str(cm.exception))
        # Neither a worker nor an interpreter was started for it.
        self.assertEqual(threading.active_count(), threads)
        self.assertEqual(interp_ids(), self.interps_before)

    def test_own_gil_false(self):
        executor = self.executor(max_workers=1, own_gil=False)
        self.assertEqual(executor.submit(pow, 2, 3).result(TIMEOUT), 8)


@requires_own_gil
class OwnGILTests(TestBase):
    """The tasks run in workers whose interpreters have their own GIL."""

    def test_submit(self):
        executor = self.executor(max_workers=1, own_gil=True)
        self.assertEqual(executor.submit(pow, 2, 10).result(TIMEOUT), 1024)
        fut = executor.submit(own_gil_tasks.scale, [1, 'a'], factor=2)
        self.assertEqual(fut.result(TIMEOUT), [1, 'a', 1, 'a'])
        interp_id = executor.submit(
            own_gil_tasks.current_interp_id).result(TIMEOUT)
        self.assertNotIn(interp_id, self.interps_before)

    def test_map(self):
        executor = self.executor(max_workers=2, own_gil=True)
        results = executor.map(own_gil_tasks.scale, range(20),
                               timeout=TIMEOUT)
        self.assertEqual(list(results), list(range(20)))

    def test_initializer(self):
        executor = self.executor(max_workers=1, own_gil=True,
                                 initializer=own_gil_tasks.remember,
                                 initargs=(['spam', 42],))
        fut = executor.submit(own_gil_tasks.remembered)
        self.assertEqual(fut.result(TIMEOUT), ['spam', 42])
        self.assertIsNone(own_gil_tasks._init_value)

    def test_initializer_failure_breaks_pool(self):
        executor = self.executor(max_workers=1, own_gil=True,
                                 initializer=own_gil_tasks.fail,
                                 initargs=('no init',))
        with self.assertLogs('concurrent.futures', 'CRITICAL') as logs:
            fut = executor.submit(pow, 2, 2)
            with self.assertRaises(BrokenInterpreterPool):
                fut.result(TIMEOUT)
            for thread in list(executor._threads):
                thread.join(TIMEOUT)
        self.assertIn('no init', logs.output[0])
        self.assertEqual(interp_ids(), self.interps_before)

    def test_exception(self):
        executor = self.executor(max_workers=1, own_gil=True)
        fut = executor.submit(own_gil_tasks.fail, 'boom')
        with self.assertRaises(own_gil_tasks.TaskError) as cm:
            fut.result(TIMEOUT)
        self.assertEqual(cm.exception.args, ('boom',))
        self.assertIsInstance(cm.exception.__cause__, ExecutionFailed)
        with self.assertRaises(ZeroDivisionError):
            executor.submit(divmod, 1, 0).result(TIMEOUT)
        # The worker goes on.
        self.assertEqual(executor.submit(pow, 3, 2).result(TIMEOUT), 9)

    def start_waiting(self, executor, count):
        """Start count tasks that each hold a worker until released.

        Return their futures and the queue that releases them, once all
        of them have started.
        """
        started = self.queue()
        release = self.queue()
        fs = [executor.submit(own_gil_tasks.report_and_wait, started,
                              release, TIMEOUT)
              for _ in range(count)]
        for _ in fs:
            started.get(timeout=TIMEOUT)
        return fs, release

    def test_shutdown_wait(self):
        executor = InterpreterPoolExecutor(max_workers=2, own_gil=True)
        self.addCleanup(executor.shutdown, wait=True, cancel_futures=True)
        fs, release = self.start_waiting(executor, 2)
        waiting = executor.submit(pow, 5, 2)
        release.put('a')
        release.put('b')
        executor.shutdown(wait=True)
        self.assertEqual(sorted(f.result(0) for f in fs), ['a', 'b'])
        self.assertEqual(waiting.result(0), 25)
        self.assertEqual(interp_ids(), self.interps_before)

    def test_shutdown_cancel_futures(self):
        executor = self.executor(max_workers=1, own_gil=True)
        [running], release = self.start_waiting(executor, 1)
        pending = [executor.submit(pow, 2, i) for i in range(3)]
        executor.shutdown(wait=False, cancel_futures=True)
        self.assertTrue(all(f.cancelled() for f in pending))
        release.put('go')
        self.assertEqual(running.result(TIMEOUT), 'go')
        executor.shutdown(wait=True)
        self.assertEqual(interp_ids(), self.interps_before)

    def test_terminate_workers(self):
        executor = self.executor(max_workers=1, own_gil=True)
        [running], _ = self.start_waiting(executor, 1)
        executor.terminate_workers()
        with self.assertRaises(KeyboardInterrupt):
            running.result(TIMEOUT)

    def check_runs_in_parallel(self, own_gil):
        # One task spins without ever letting its GIL go (a switch
        # interval of 1000 s, which each worker's new GIL takes from the
        # main one) until an item comes, or for TIMEOUT seconds; once it
        # runs, another task puts the item.  Only workers with a GIL of
        # their own let the second task run meanwhile: with a shared GIL
        # even this thread waits for the spinner to give up.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1000)
        self.addCleanup(sys.setswitchinterval, interval)
        executor = self.executor(max_workers=2, own_gil=own_gil)
        started = self.queue()
        items = self.queue()
        spinner = executor.submit(own_gil_tasks.spin_until_item,
                                  started, items, TIMEOUT)
        started.get(timeout=TIMEOUT)
        sender = executor.submit(own_gil_tasks.put, items, 1)
        self.assertIs(spinner.result(TIMEOUT), True)
        self.assertIsNone(sender.result(TIMEOUT))

    def test_runs_in_parallel(self):
        self.check_runs_in_parallel(own_gil=True)

    @requires_subprocess
    def test_main_functions(self):
        # What a program would do: functions of __main__, a CPU-bound one
        # and one that raises, on workers with their own GIL.
        source = dedent("""\
            from concurrent.futures import InterpreterPoolExecutor

            def count(n):
                return sum(i * i % 7 for i in range(n))

            def boom():
                raise LookupError('from __main__')

            with InterpreterPoolExecutor(max_workers=2,
                                         own_gil=True) as executor:
                print(list(executor.map(count, [10, 1000])))
                try:
                    executor.submit(boom).result()
                except LookupError as exc:
                    print('caught', repr(exc))
            """)
        _, out, err = script_helper.assert_python_ok('-c', source)
        expected = [str([sum(i * i % 7 for i in range(n))
                         for n in (10, 1000)]),
                    "caught LookupError('from __main__')"]
        self.assertEqual(out.decode().splitlines(), expected)
        self.assertEqual(err, b'')

    @requires_subprocess
    def test_exit_without_shutdown(self):
        source = dedent("""\
            import _interpreters
            from concurrent.futures import InterpreterPoolExecutor

            executor = InterpreterPoolExecutor(max_workers=2, own_gil=True)
            futures = [executor.submit(pow, 2, i) for i in range(50)]
            print(futures[0].result())
            """)
        _, out, err = script_helper.assert_python_ok('-c', source)
        self.assertEqual(out.decode().splitlines(), ['1'])
        self.assertEqual(err, b'')


if __name__ == '__main__':
    unittest.main()
