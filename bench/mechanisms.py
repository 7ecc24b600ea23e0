"""The ways a user can hand work to another thread, interpreter or process.

A benchmark names its mechanism by key.  The far sides it needs are set up
on first use in each process, outside the timed region, and kept until
close_all() ends them.  Only one benchmark runs in a pyperf worker process,
so the far sides of different mechanisms never share a process.
"""

import concurrent.futures
import functools
import importlib
import multiprocessing
import os
import queue
import sys
import threading
import time
import traceback

from bench import peers

try:
    import _xxsubinterpreters as xx
except ImportError:
    xx = None

LABELS = {
    'interpreters': 'interpreters',
    'xx': 'xx (_xxsubinterpreters)',
    'threading': 'threading',
    'mp_fork': 'multiprocessing (fork)',
    'mp_spawn': 'multiprocessing (spawn)',
    'pool_fork': 'multiprocessing.Pool (fork)',
    'pool_spawn': 'multiprocessing.Pool (spawn)',
    'futures_thread': 'ThreadPoolExecutor',
    'futures_fork': 'ProcessPoolExecutor (fork)',
    'futures_spawn': 'ProcessPoolExecutor (spawn)',
    'futures_interp': 'InterpreterPoolExecutor',
    'copy': 'in-process bytes copy',
    'sigint': 'Ctrl-C (SIGINT) to the main thread',
}

# Mechanisms with a queue: a far side answering over a pair of them.
QUEUES = ('interpreters', 'xx', 'threading', 'mp_fork', 'mp_spawn')

# Mechanisms that run a function elsewhere and hand back its result.
EXECUTORS = ('futures_thread', 'pool_fork', 'pool_spawn',
             'futures_fork', 'futures_spawn')

# Bound on waiting for a far side to end, so that a broken one fails the
# benchmark instead of hanging it.
JOIN_TIMEOUT = 60


def available(mech):
    """Return why mech cannot run in this build, or None if it can."""
    if mech == 'interpreters':
        try:
            importlib.import_module('interpreters')
        except ImportError as exc:
            return f'the interpreters module is not importable ({exc})'
    elif mech == 'xx' and xx is None:
        return '_xxsubinterpreters is not importable'
    elif mech == 'futures_interp':
        try:
            importlib.import_module('concurrent.futures.interpreter')
        except ImportError as exc:
            return f'InterpreterPoolExecutor is not importable ({exc})'
    return None


_open = {}


def cached(key, factory):
    """Return what factory() made for key in this process, making it once.

    The object has a close() method, which close_all() calls.
    """
    obj = _open.get(key)
    if obj is None:
        obj = _open[key] = factory()
    return obj


def close_all():
    """End every far side this process set up, newest first."""
    while _open:
        _, obj = _open.popitem()
        obj.close()


def start_thread(target, *args):
    """Start a thread running target(*args); its failure ends the process.

    A far side that dies would leave the benchmark waiting for an answer
    forever.  A worker process is disposable: exit at once instead, which
    pyperf reports as a failed benchmark.
    """
    def run():
        try:
            target(*args)
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


# ---------------------------------------------------------------------------
# Far sides that serve a pair of queues: put() sends, get() receives.

class _ThreadPeer:
    def __init__(self, mode, maxsize):
        inq = queue.Queue(maxsize)
        outq = queue.Queue()
        self.put = inq.put
        self.get = outq.get
        self._thread = start_thread(peers.serve, inq.get, outq.put, mode)

    def close(self):
        self.put(peers.STOP)
        self._thread.join(JOIN_TIMEOUT)


class _InterpreterPeer:
    _CODE = 'import bench.peers\nbench.peers.serve_queues(inq, outq, mode)\n'

    def __init__(self, mode, maxsize):
        import interpreters
        self._interp = interpreters.create()
        inq = interpreters.create_queue(maxsize)
        outq = interpreters.create_queue()
        self._interp.prepare_main(inq=inq, outq=outq, mode=mode)
        self.put = inq.put
        self.get = outq.get
        self._thread = start_thread(self._interp.run, self._CODE)

    def close(self):
        self.put(peers.STOP)
        self._thread.join(JOIN_TIMEOUT)
        self._interp.destroy()


class _XXPeer:
    _CODE = ('import bench.peers\n'
             'bench.peers.serve_channels(cin, cout, mode)\n')

    def __init__(self, mode, maxsize):
        # Channels have no bound: maxsize cannot apply.  They share a bytes
        # item's buffer with the receiver instead of copying it, so an
        # unbounded backlog costs no memory here.
        self._id = xx.create()
        self._cin = xx.channel_create()
        self._cout = xx.channel_create()
        self.put = functools.partial(xx.channel_send, self._cin)
        self.get = functools.partial(peers.recv_channel, self._cout)
        shared = {'cin': self._cin, 'cout': self._cout, 'mode': mode}
        self._thread = start_thread(xx.run_string, self._id, self._CODE,
                                    shared)

    def close(self):
        self.put(peers.STOP)
        self._thread.join(JOIN_TIMEOUT)
        xx.destroy(self._id)
        xx.channel_destroy(self._cin)
        xx.channel_destroy(self._cout)


class ProcessPeer:
    """A process running target(inq, outq, *args) on multiprocessing queues."""

    def __init__(self, method, maxsize, target, *args):
        ctx = multiprocessing.get_context(method)
        self._inq = ctx.Queue(maxsize)
        self._outq = ctx.Queue()
        self.put = self._inq.put
        self.get = self._outq.get
        self._proc = ctx.Process(target=target,
                                 args=(self._inq, self._outq, *args))
        self._proc.start()

    def close(self):
        self.put(peers.STOP)
        self._proc.join(JOIN_TIMEOUT)
        if self._proc.exitcode is None:
            self._proc.kill()
            self._proc.join()
        for q in (self._inq, self._outq):
            q.close()
            q.join_thread()


def _process_peer(method, mode, maxsize):
    return ProcessPeer(method, maxsize, peers.serve_queues, mode)


_PEERS = {
    'interpreters': _InterpreterPeer,
    'xx': _XXPeer,
    'threading': _ThreadPeer,
    'mp_fork': functools.partial(_process_peer, 'fork'),
    'mp_spawn': functools.partial(_process_peer, 'spawn'),
}


def peer(mech, mode, maxsize=0):
    """Return the far side of mech serving in mode (see peers.serve()).

    maxsize bounds the queue that put() fills, where mech has bounds.
    """
    return cached(('peer', mech, mode, maxsize),
                   lambda: _PEERS[mech](mode, maxsize))


# ---------------------------------------------------------------------------
# Idle interpreters, kept for the process's benchmarks.

class _Closing:
    def __init__(self, obj, close):
        self.obj = obj
        self.close = close


def interpreter(index=0):
    """Return an idle interpreters.Interpreter, the same for each index."""
    def make():
        import interpreters
        interp = interpreters.create()
        return _Closing(interp, interp.destroy)
    return cached(('interpreter', index), make).obj


def concurrent_interpreter(index=0):
    """Return an idle concurrent.interpreters.Interpreter, one per index."""
    def make():
        from concurrent import interpreters
        interp = interpreters.create()
        return _Closing(interp, interp.close)
    return cached(('concurrent', index), make).obj


def xx_interpreter(index=0):
    """Return the id of an idle _xxsubinterpreters interpreter."""
    def make():
        interp_id = xx.create()
        return _Closing(interp_id, functools.partial(xx.destroy, interp_id))
    return cached(('xx', index), make).obj


# ---------------------------------------------------------------------------
# Executors: call() runs func(*args) elsewhere, map() fans out.

class _Futures:
    def __init__(self, executor):
        self._executor = executor

    def call(self, func, *args):
        return self._executor.submit(func, *args).result()

    def submit(self, func, *args):
        return self._executor.submit(func, *args)

    def map(self, func, items):
        return list(self._executor.map(func, items))

    def close(self):
        self._executor.shutdown()


class _Pool:
    def __init__(self, pool):
        self._pool = pool

    def call(self, func, *args):
        return self._pool.apply(func, args)

    def map(self, func, items):
        return self._pool.map(func, items, chunksize=1)

    def close(self):
        self._pool.close()
        self._pool.join()


def _make_executor(mech, workers):
    kind, _, method = mech.partition('_')
    if method == 'thread':
        executor = _Futures(
            concurrent.futures.ThreadPoolExecutor(workers))
    elif method == 'interp':
        executor = _Futures(
            concurrent.futures.InterpreterPoolExecutor(workers))
    elif kind == 'futures':
        ctx = multiprocessing.get_context(method)
        executor = _Futures(
            concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx))
    else:
        executor = _Pool(multiprocessing.get_context(method).Pool(workers))
    # Executors start workers on demand: start them all now, concurrently
    # busy so that none is reused, and off the clock.
    executor.map(time.sleep, [0.05] * workers)
    return executor


def executor(mech, workers=1):
    """Return a started executor of mech with workers workers."""
    return cached(('executor', mech, workers),
                   lambda: _make_executor(mech, workers))
