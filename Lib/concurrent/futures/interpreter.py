"""Implements InterpreterPoolExecutor."""

from concurrent import interpreters
from concurrent.futures import _base
from concurrent.futures import thread as _thread
import queue
import threading
import weakref

__all__ = ['InterpreterPoolExecutor', 'BrokenInterpreterPool',
           'ExecutionFailed']


# Raised, or set as the __cause__ of the task's own exception, when a
# task fails in its worker's interpreter.
ExecutionFailed = interpreters.ExecutionFailed


class BrokenInterpreterPool(_thread.BrokenThreadPool):
    """
    Raised when a worker of an InterpreterPoolExecutor failed initializing.
    """


def _reject_script(fn):
    # 3.14 reserves str for scripts to run in the worker's __main__ but
    # does not run them yet; refuse them the same way.
    if isinstance(fn, str):
        raise TypeError('scripts not supported')


def _call(interp, fn, args, kwargs):
    """Call fn(*args, **kwargs) in interp and return its result.

    If the call raises and its exception crosses back, raise that
    exception, of its original type, with the ExecutionFailed that
    reports it as its __cause__.  If it cannot cross, raise the
    ExecutionFailed.
    """
    try:
        return interp.call(fn, *args, **kwargs)
    except ExecutionFailed as failed:
        original = failed.__cause__
        if original is None:
            raise
        # call() chains the rebuilt exception as the cause of the
        # ExecutionFailed; chain them the other way round, without a
        # loop, so that a traceback shows each once, the task's last.
        failed.__cause__ = None
        try:
            raise original from failed
        finally:
            # The traceback refers to this frame: break the cycle.
            del original


# How long terminate_workers() waits for a task it could not interrupt yet
# to start or to end before it tries again.
_INTERRUPT_RETRY = 0.005

# What _Workers records for a worker that runs its initializer.
_INITIALIZING = 'initializer'


class _Workers:
    """The interpreters of an executor's workers, and what each runs.

    A worker records its interpreter once it has made it and each task
    just before the task runs there; terminate_workers() interrupts the
    tasks recorded, and no task starts after it.  Only the workers and
    terminate_workers() use it: it keeps no reference to the executor.
    """

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._terminated = False
        # Interpreter -> the task it runs, or None while it is idle.
        self._tasks = {}

    @property
    def terminated(self):
        return self._terminated

    def add(self, interp):
        """Record a worker's interpreter, idle."""
        with self._cond:
            self._tasks[interp] = None

    def remove(self, interp):
        """Forget a worker's interpreter, before it is closed."""
        with self._cond:
            self._tasks.pop(interp, None)
            self._cond.notify_all()

    def start(self, interp, task):
        """Record that interp runs task; return False once terminated."""
        with self._cond:
            if self._terminated:
                return False
            self._tasks[interp] = task
            return True

    def finish(self, interp):
        """Record that interp is idle again."""
        with self._cond:
            self._tasks[interp] = None
            self._cond.notify_all()

    def terminate(self):
        """Let no task start anymore and interrupt those that run.

        Return once each of them was interrupted or has ended, without
        waiting for them to stop.
        """
        with self._cond:
            self._terminated = True
            running = [(interp, task)
                       for interp, task in self._tasks.items()
                       if task is not None]
        for interp, task in running:
            self._interrupt(interp, task)

    def _is_running(self, interp, task):
        return self._tasks.get(interp) is task

    def _interrupt(self, interp, task):
        # The worker records the task before the call enters the
        # interpreter, and forgets it after the call has left: interrupt()
        # finds the interpreter idle in between.  Try again until it was
        # interrupted, or until the task is over; a task recorded cannot
        # be replaced by another one anymore.
        while True:
            try:
                if interp.interrupt(unwind=True):
                    return
            except interpreters.InterpreterNotFoundError:
                # Closed meanwhile through list_all(): nothing runs there.
                return
            with self._cond:
                if self._cond.wait_for(
                        lambda: not self._is_running(interp, task),
                        _INTERRUPT_RETRY):
                    return


def _cancel(future):
    # cancel() alone leaves a future that no worker took out of wait()
    # and as_completed(), which count it done once its waiters were told.
    future.cancel()
    future.set_running_or_notify_cancel()


class _WorkItem(_thread._WorkItem):
    """A task waiting for a worker, run in the worker's interpreter."""

    def run(self, interp, workers):
        if not workers.start(interp, self):
            # terminate_workers() came first: the task never starts.
            _cancel(self.future)
            return
        # The task is forgotten before its future gets its outcome: a
        # callback of the future may call terminate_workers() in this
        # thread, which must not wait for this task.
        if not self.future.set_running_or_notify_cancel():
            workers.finish(interp)
            return

        try:
            try:
                result = _call(interp, self.fn, self.args, self.kwargs)
            finally:
                workers.finish(interp)
        except BaseException as exc:
            self.future.set_exception(exc)
            # Break a reference cycle with the exception 'exc'.
            self = None
        else:
            self.future.set_result(result)


def _check_own_gil():
    """Raise InterpreterError if own-GIL workers cannot be created."""
    if not interpreters.OWN_GIL_AVAILABLE:
        # create() refuses before it creates anything, with the error
        # that says why: the executor raises the same one.
        interpreters.create(own_gil=True)


def _mark_broken(executor_reference):
    executor = executor_reference()
    if executor is not None:
        executor._initializer_failed()


def _close(interp):
    # The task may have closed its own worker's interpreter through
    # list_all(); there is nothing left to close then.
    try:
        interp.close()
    except interpreters.InterpreterNotFoundError:
        pass


def _serve(executor_reference, work_queue, workers, interp):
    """Run the executor's tasks in interp until told to stop.

    Stop on the None that shutdown(), the executor's garbage collection
    or the end of the main interpreter put in work_queue.
    """
    while True:
        work_item = work_queue.get(block=True)
        if work_item is not None:
            work_item.run(interp, workers)
            # Delete references to object. See issue16284
            del work_item

            # A worker is idle again: the next submit() need not start
            # a new one.
            executor = executor_reference()
            if executor is not None:
                executor._idle_semaphore.release()
            del executor
            continue

        executor = executor_reference()
        if _thread._shutdown or executor is None or executor._shutdown:
            # Flag the executor as shutting down as early as possible
            # if it is not gc-ed yet.
            if executor is not None:
                executor._shutdown = True
            # Wake up the next worker, so that all of them stop.
            work_queue.put(None)
            return
        del executor


def _initialize(executor_reference, workers, interp, initializer, initargs):
    """Run the initializer in interp; return whether the worker may serve.

    terminate_workers() interrupts it as it does a task: the worker then
    ends quietly, its pool being shut down already.  Any other failure
    is logged and breaks the pool.
    """
    if not workers.start(interp, _INITIALIZING):
        return False
    try:
        try:
            _call(interp, initializer, initargs, {})
        finally:
            workers.finish(interp)
    except BaseException:
        if not workers.terminated:
            _base.LOGGER.critical('Exception in initializer:', exc_info=True)
            _mark_broken(executor_reference)
        return False
    return True


def _worker(executor_reference, work_queue, workers, own_gil,
            initializer, initargs):
    """Body of a worker thread: own an interpreter while the worker lives.

    The interpreter is created here, in the worker's thread, and closed
    when the worker ends, at shutdown.  A worker whose interpreter or
    initializer fails breaks the pool.
    """
    try:
        interp = interpreters.create(own_gil=own_gil)
    except BaseException:
        _base.LOGGER.critical('Exception creating a worker interpreter:',
                              exc_info=True)
        _mark_broken(executor_reference)
        return
    try:
        workers.add(interp)
        if initializer is None or _initialize(executor_reference, workers,
                                              interp, initializer, initargs):
            _serve(executor_reference, work_queue, workers, interp)
    except BaseException:
        _base.LOGGER.critical('Exception in worker', exc_info=True)
    finally:
        workers.remove(interp)
        try:
            _close(interp)
        except BaseException:
            _base.LOGGER.critical('Exception closing a worker interpreter:',
                                  exc_info=True)


class InterpreterPoolExecutor(_thread.ThreadPoolExecutor):
    """A thread pool whose workers each run tasks in their own interpreter.

    The callable, its arguments and its result cross between the
    interpreters like those of concurrent.interpreters.Interpreter.call().
    With own_gil true, each worker's interpreter has a GIL of its own,
    so that tasks run Python code in parallel.
    """

    def __init__(self, max_workers=None, thread_name_prefix='',
                 initializer=None, initargs=(), *, own_gil=False):
        """Initializes a new InterpreterPoolExecutor instance.

        Args:
            max_workers: The maximum number of interpreters, each in its
                own thread, that can be used to execute the given calls.
            thread_name_prefix: An optional name prefix to give our threads.
            initializer: A callable run in each worker's interpreter
                when the worker starts.
            initargs: A tuple of arguments to pass to the initializer.
            own_gil: Whether each worker's interpreter has a GIL of its
                own (see concurrent.interpreters.create()).  Raise
                InterpreterError at once if this Python cannot create
                such interpreters.
        """
        _reject_script(initializer)
        own_gil = bool(own_gil)
        if own_gil:
            _check_own_gil()
        thread_name_prefix = (thread_name_prefix or
                              f'InterpreterPoolExecutor-{self._counter()}')
        super().__init__(max_workers, thread_name_prefix,
                         initializer, initargs)
        self._workers = _Workers()
        self._own_gil = own_gil

    def submit(self, fn, /, *args, **kwargs):
        _reject_script(fn)
        with self._shutdown_lock, _thread._global_shutdown_lock:
            if self._broken:
                raise BrokenInterpreterPool(self._broken)

            if self._shutdown:
                raise RuntimeError(
                    'cannot schedule new futures after shutdown')
            if _thread._shutdown:
                raise RuntimeError('cannot schedule new futures after '
                                   'interpreter shutdown')

            f = _base.Future()
            self._work_queue.put(_WorkItem(f, fn, args, kwargs))
            self._adjust_thread_count()
            return f
    submit.__doc__ = _base.Executor.submit.__doc__

    def _adjust_thread_count(self):
        # If idle workers are available, don't start new ones.
        if self._idle_semaphore.acquire(timeout=0):
            return

        # When the executor gets lost, the weakref callback will wake up
        # the workers, which then close their interpreters.
        def weakref_cb(_, q=self._work_queue):
            q.put(None)

        num_threads = len(self._threads)
        if num_threads < self._max_workers:
            thread_name = f'{self._thread_name_prefix}_{num_threads}'
            t = threading.Thread(name=thread_name, target=_worker,
                                 args=(weakref.ref(self, weakref_cb),
                                       self._work_queue,
                                       self._workers,
                                       self._own_gil,
                                       self._initializer,
                                       self._initargs))
            t.start()
            self._threads.add(t)
            # So that the end of the main interpreter stops the worker,
            # and its interpreter is closed, before finalization.
            _thread._threads_queues[t] = self._work_queue

    def terminate_workers(self):
        """Stop the running tasks and shut down without waiting.

        Interrupt each task that runs in a worker's interpreter, as
        concurrent.interpreters.Interpreter.interrupt(unwind=True) does,
        and cancel the pending ones.  The future of an interrupted task
        raises the KeyboardInterrupt that stopped it, whose __cause__ is
        the ExecutionFailed that describes it, unless the task had ended
        already.  The workers then end and close their interpreters, as
        after shutdown(wait=False, cancel_futures=True); call
        shutdown(wait=True) to wait for that.  No task can be submitted
        anymore.
        """
        pending = []
        with self._shutdown_lock:
            self._shutdown = True
            while True:
                try:
                    work_item = self._work_queue.get_nowait()
                except queue.Empty:
                    break
                if work_item is not None:
                    pending.append(work_item.future)
            # Wake up the idle workers, so that they end.
            self._work_queue.put(None)
        # Outside the lock: a callback of a future may call this method
        # or submit() again.
        for future in pending:
            _cancel(future)
        self._workers.terminate()

    def _initializer_failed(self):
        with self._shutdown_lock:
            self._broken = ('A worker initializer failed, the interpreter '
                            'pool is not usable anymore')
            # Drain the work queue and fail the pending futures; one the
            # caller cancelled meanwhile is only reported as cancelled.
            woken = False
            while True:
                try:
                    work_item = self._work_queue.get_nowait()
                except queue.Empty:
                    break
                if work_item is None:
                    woken = True
                    continue
                future = work_item.future
                if future.set_running_or_notify_cancel():
                    future.set_exception(BrokenInterpreterPool(self._broken))
            if woken:
                # A wake-up from shutdown(): the other workers need it.
                self._work_queue.put(None)
