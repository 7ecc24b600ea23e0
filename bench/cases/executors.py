"""concurrent.futures executors: InterpreterPoolExecutor against the others.

Three jobs, each through Executor.submit() and Future.result(), for the
interpreter pool, the thread pool and the process pools (fork, spawn):

- round trip: submit(abs, 1) and wait for its result, one at a time, on
  a pool of one worker;
- throughput: submit 10,000 calls of abs(1) at once (1,000 in a quick
  run) to a pool of two workers, then wait for all of them; the figure
  is per task;
- 1 MiB result: submit(bytes, 1 MiB) and wait for the zeroed 1 MiB it
  returns, on a pool of one worker.

The pools are started, and their workers busy once each, off the clock.
"""

import sys
from time import perf_counter

from bench import mechanisms
from bench.suite import Suite

# The pools compared: the interpreter pool first, ours.
POOLS = ('futures_interp', 'futures_thread', 'futures_fork', 'futures_spawn')

THROUGHPUT_TASKS = 10_000
THROUGHPUT_WORKERS = 2
RESULT_SIZE = 1 << 20


def round_trip(loops, mech):
    call = mechanisms.executor(mech).call
    call(abs, 1)
    start = perf_counter()
    for _ in range(loops):
        call(abs, 1)
    return perf_counter() - start


def throughput(loops, mech, tasks):
    submit = mechanisms.executor(mech, THROUGHPUT_WORKERS).submit
    elapsed = 0.0
    for _ in range(loops):
        start = perf_counter()
        futures = [submit(abs, 1) for _ in range(tasks)]
        for future in futures:
            future.result()
        elapsed += perf_counter() - start
        # Dropping the futures is not part of the job.
        del futures
    return elapsed


def big_result(loops, mech, size):
    call = mechanisms.executor(mech).call
    if len(call(bytes, size)) != size:
        raise RuntimeError(f'{mech}: the result is not {size} bytes')
    start = perf_counter()
    for _ in range(loops):
        call(bytes, size)
    return perf_counter() - start


def main():
    with Suite('bench.cases.executors', processes=3, values=3,
               min_time=0.05) as suite:
        tasks = 1_000 if suite.quick else THROUGHPUT_TASKS
        for mech in POOLS:
            suite.add('executor_round_trip', mech, round_trip, mech)
        for mech in POOLS:
            # pyperf divides by inner_loops: the figure is per task.
            suite.add('executor_throughput', mech, throughput, mech, tasks,
                      inner_loops=tasks,
                      metadata={'tasks': tasks,
                                'pool_workers': THROUGHPUT_WORKERS})
        for mech in POOLS:
            suite.add('executor_1MiB_result', mech, big_result, mech,
                      RESULT_SIZE)
    return suite.status()


if __name__ == '__main__':
    sys.exit(main())
