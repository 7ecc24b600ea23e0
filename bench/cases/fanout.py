"""Fan-out: N workers at once, each running a call that releases the GIL.

Each round starts N threads; thread i runs the call in interpreter i
(interpreters: call(); _xxsubinterpreters: run_string() of the same call
as source) or directly (threading); the executors map the call over N
items.  The calls: time.sleep(0.01), and reading a whole 4 MiB file that
the page cache holds.  The figure is the wall time of one round.
"""

import os
import sys
import tempfile
import threading
import time
from time import perf_counter

from bench import mechanisms, peers
from bench.mechanisms import xx
from bench.suite import Suite

SLEEP = 0.01
FILE_SIZE = 4 << 20

_file = None


def data_file():
    """Return the path of the file to read, made once per process."""
    global _file
    if _file is None:
        fd, _file = tempfile.mkstemp(prefix='bench-fanout-')
        with os.fdopen(fd, 'wb') as f:
            f.write(b'\xab' * FILE_SIZE)
        peers.read_size(_file)
    return _file


def remove_data_file():
    if _file is not None:
        os.unlink(_file)


def _threads_round(targets):
    threads = [threading.Thread(target=target, args=args)
               for target, args in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _rounds(loops, targets):
    _threads_round(targets)
    start = perf_counter()
    for _ in range(loops):
        _threads_round(targets)
    return perf_counter() - start


def _job(kind):
    if kind == 'sleep':
        return time.sleep, SLEEP
    return peers.read_size, data_file()


def interpreters_fanout(loops, kind, workers):
    func, arg = _job(kind)
    targets = [(mechanisms.interpreter(i).call, (func, arg))
               for i in range(workers)]
    return _rounds(loops, targets)


def xx_fanout(loops, kind, workers):
    func, arg = _job(kind)
    code = f'{func.__module__}.{func.__name__}({arg!r})'
    targets = []
    for i in range(workers):
        interp_id = mechanisms.xx_interpreter(i)
        xx.run_string(interp_id, f'import {func.__module__}')
        targets.append((xx.run_string, (interp_id, code)))
    return _rounds(loops, targets)


def threads_fanout(loops, kind, workers):
    func, arg = _job(kind)
    return _rounds(loops, [(func, (arg,))] * workers)


def executor_fanout(loops, kind, workers, mech):
    func, arg = _job(kind)
    executor = mechanisms.executor(mech, workers)
    args = [arg] * workers
    executor.map(func, args)
    start = perf_counter()
    for _ in range(loops):
        executor.map(func, args)
    return perf_counter() - start


def main():
    with Suite('bench.cases.fanout', processes=3, values=3,
               min_time=0.1) as suite:
        workers = 2 if suite.quick else 8
        try:
            for kind in ('sleep', 'read'):
                op = f'fanout_{kind}'
                meta = {'workers': workers}
                suite.add(op, 'interpreters', interpreters_fanout, kind,
                          workers, metadata=meta)
                suite.add(op, 'xx', xx_fanout, kind, workers, metadata=meta)
                suite.add(op, 'threading', threads_fanout, kind, workers,
                          metadata=meta)
                for mech in mechanisms.EXECUTORS:
                    suite.add(op, mech, executor_fanout, kind, workers, mech,
                              metadata=meta)
        finally:
            remove_data_file()
    return suite.status()


if __name__ == '__main__':
    sys.exit(main())
