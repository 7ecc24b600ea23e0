"""Start and end a unit of work: an interpreter, a thread, a process."""

import concurrent.futures
import multiprocessing
import sys
import threading
from time import perf_counter

from bench import peers
from bench.mechanisms import xx
from bench.suite import Suite


def interpreters_create_destroy(loops):
    import interpreters
    create = interpreters.create
    start = perf_counter()
    for _ in range(loops):
        create().destroy()
    return perf_counter() - start


def xx_create_destroy(loops):
    create = xx.create
    destroy = xx.destroy
    start = perf_counter()
    for _ in range(loops):
        destroy(create())
    return perf_counter() - start


def thread_start_join(loops):
    start = perf_counter()
    for _ in range(loops):
        thread = threading.Thread(target=peers.noop)
        thread.start()
        thread.join()
    return perf_counter() - start


def process_start_join(loops, method):
    ctx = multiprocessing.get_context(method)
    start = perf_counter()
    for _ in range(loops):
        proc = ctx.Process(target=peers.noop)
        proc.start()
        proc.join()
    return perf_counter() - start


def executor_first_task(loops, method):
    # An executor starts its workers on the first task: time one task.
    if method == 'thread':
        def make():
            return concurrent.futures.ThreadPoolExecutor(1)
    else:
        ctx = multiprocessing.get_context(method)

        def make():
            return concurrent.futures.ProcessPoolExecutor(1, mp_context=ctx)
    start = perf_counter()
    for _ in range(loops):
        with make() as executor:
            executor.submit(peers.noop).result()
    return perf_counter() - start


def main():
    with Suite('bench.cases.lifecycle', processes=4, values=3,
               min_time=0.05) as suite:
        op = 'create_destroy'
        suite.add(op, 'interpreters', interpreters_create_destroy)
        suite.add(op, 'xx', xx_create_destroy)
        suite.add(op, 'threading', thread_start_join)
        suite.add(op, 'mp_fork', process_start_join, 'fork')
        suite.add(op, 'mp_spawn', process_start_join, 'spawn')
        suite.add(op, 'futures_thread', executor_first_task, 'thread')
        suite.add(op, 'futures_fork', executor_first_task, 'fork')
        suite.add(op, 'futures_spawn', executor_first_task, 'spawn')
    return suite.status()


if __name__ == '__main__':
    sys.exit(main())
