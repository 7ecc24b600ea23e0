"""Round trips: run a piece of code elsewhere and wait for it to finish.

run("pass") runs source text; call() of abs(1) runs a builtin with one
int argument and hands its result back.  _xxsubinterpreters has no call():
its figure for that row runs the source "abs(1)".  Threads and processes
run exec("pass") and abs(1) through their own way of calling elsewhere:
a worker thread fed by queue.Queue, Pool.apply(), Executor.submit().
"""

import sys
from time import perf_counter

from bench import mechanisms
from bench.mechanisms import xx
from bench.suite import Suite


def interpreters_run(loops, code):
    run = mechanisms.interpreter().run
    run(code)
    start = perf_counter()
    for _ in range(loops):
        run(code)
    return perf_counter() - start


def interpreters_call(loops, func, arg):
    call = mechanisms.interpreter().call
    call(func, arg)
    start = perf_counter()
    for _ in range(loops):
        call(func, arg)
    return perf_counter() - start


def xx_run(loops, code):
    run_string = xx.run_string
    interp_id = mechanisms.xx_interpreter()
    run_string(interp_id, code)
    start = perf_counter()
    for _ in range(loops):
        run_string(interp_id, code)
    return perf_counter() - start


def thread_call(loops, func, arg):
    peer = mechanisms.peer('threading', 'call')
    put, get = peer.put, peer.get
    request = (func, (arg,))
    start = perf_counter()
    for _ in range(loops):
        put(request)
        get()
    return perf_counter() - start


def executor_call(loops, mech, func, arg):
    call = mechanisms.executor(mech).call
    call(func, arg)
    start = perf_counter()
    for _ in range(loops):
        call(func, arg)
    return perf_counter() - start


def main():
    with Suite('bench.cases.calls', processes=4, values=3,
               min_time=0.05) as suite:
        op = 'run_pass'
        suite.add(op, 'interpreters', interpreters_run, 'pass')
        suite.add(op, 'xx', xx_run, 'pass')
        suite.add(op, 'threading', thread_call, exec, 'pass')
        for mech in mechanisms.EXECUTORS:
            suite.add(op, mech, executor_call, mech, exec, 'pass')
        op = 'call_builtin'
        suite.add(op, 'interpreters', interpreters_call, abs, 1)
        suite.add(op, 'xx', xx_run, 'abs(1)')
        suite.add(op, 'threading', thread_call, abs, 1)
        for mech in mechanisms.EXECUTORS:
            suite.add(op, mech, executor_call, mech, abs, 1)
    return suite.status()


if __name__ == '__main__':
    sys.exit(main())
