"""Stopping code: latency of interrupt(), and what a timeout= costs.

interrupt_KIND   A thread runs code in a subinterpreter (run()) that waits
                 in one way (KIND: a busy loop, time.sleep, Lock.acquire,
                 ...).  Once it is waiting, the main thread calls
                 interrupt(); the figure is the time from that call to the
                 moment the thread running the code has its RunFailedError
                 (naming KeyboardInterrupt) in hand.  Each value is one
                 interruption: the report gives the median and the maximum.
                 Mechanism "sigint", for comparison: the same code waits in
                 the main thread of the main interpreter, and another
                 thread sends that thread SIGINT, as Ctrl-C would.
run_pass_*       run("pass") with no keyword, with timeout=None and with
exec_pass_*      a timeout that never fires, and the same for
                 concurrent.interpreters' exec(): without a timeout the
                 keyword must cost nothing measurable.
run_string_pass  _interpreters.run_string(id, "pass"), the C function that
                 run() calls: the difference is what the Python layer costs.

The harness runs one build only, so "not slower than before" is measured
as the ratio of run("pass", timeout=None) to run("pass") in the same run.
"""

import functools
import queue
import signal
import sys
import threading
import time
from time import perf_counter

from bench import mechanisms
from bench.suite import Suite

# Bound on every wait of the code run, so that a lost interrupt ends the
# benchmark with an error instead of hanging it.
BOUND = 10

# Time allowed to the code between saying it is ready and entering its
# wait, which it does while holding the GIL: the main thread only needs
# the GIL back, but a margin keeps the figure about the wait itself.
SETTLE = 0.002

# Per kind: code run once to set it up, and code that signals on the queue
# "ready", then waits at most BOUND seconds.  Names persist in __main__.
WAITS = {
    'busy': (
        'import time',
        'ready.put(None)\n'
        'deadline = time.monotonic() + BOUND\n'
        'while time.monotonic() < deadline:\n'
        '    pass\n'),
    'sleep': (
        'import time',
        'ready.put(None)\n'
        'time.sleep(BOUND)\n'),
    'lock': (
        'import threading\n'
        'lock = threading.Lock()\n'
        'lock.acquire()\n',
        'ready.put(None)\n'
        'lock.acquire(timeout=BOUND)\n'),
    'event': (
        'import threading\n'
        'event = threading.Event()\n',
        'ready.put(None)\n'
        'event.wait(BOUND)\n'),
    'condition': (
        'import threading\n'
        'cond = threading.Condition()\n',
        'with cond:\n'
        '    ready.put(None)\n'
        '    cond.wait(BOUND)\n'),
    'queue': (
        'import queue\n'
        'tq = queue.Queue()\n',
        'ready.put(None)\n'
        'tq.get(timeout=BOUND)\n'),
    'our_queue': (
        'import interpreters\n'
        'iq = interpreters.create_queue()\n',
        'ready.put(None)\n'
        'iq.get(timeout=BOUND)\n'),
    'select': (
        'import os, select\n'
        'rfd, wfd = os.pipe()\n',
        'ready.put(None)\n'
        'select.select([rfd], [], [], BOUND)\n'),
    'selectors': (
        'import os, selectors\n'
        'srfd, swfd = os.pipe()\n'
        'sel = selectors.DefaultSelector()\n'
        'sel.register(srfd, selectors.EVENT_READ)\n',
        'ready.put(None)\n'
        'sel.select(BOUND)\n'),
    'socket': (
        'import socket\n'
        'sa, sb = socket.socketpair()\n'
        'sa.settimeout(BOUND)\n',
        'ready.put(None)\n'
        'sa.recv(1)\n'),
}

# Run in the interpreter before it is destroyed, so that nothing the
# setup code made (pipes, sockets) outlives the benchmark.
CLEANUP = {
    'select': 'os.close(rfd); os.close(wfd)',
    'selectors': 'sel.close(); os.close(srfd); os.close(swfd)',
    'socket': 'sa.close(); sb.close()',
}


class _Target:
    """A subinterpreter set up to wait in one way, and its ready queue."""

    def __init__(self, kind):
        import interpreters
        self.interp = interpreters.create()
        self.ready = interpreters.create_queue()
        self.kind = kind
        setup, self.code = WAITS[kind]
        self.interp.prepare_main(ready=self.ready, BOUND=BOUND)
        self.interp.run(setup)

    def close(self):
        if self.kind in CLEANUP:
            self.interp.run(CLEANUP[self.kind])
        self.interp.destroy()


def _target(kind):
    return mechanisms.cached(('interrupt', kind), lambda: _Target(kind))


def _interrupt_once(target):
    """Interrupt target's code once it waits; return the latency."""
    import interpreters
    result = {}
    done = threading.Event()

    def run():
        try:
            target.interp.run(target.code)
        except interpreters.RunFailedError as exc:
            result['end'] = perf_counter()
            result['type'] = exc.excinfo.type.__name__
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        target.ready.get(timeout=BOUND)
        # Sleeping gives up the GIL: the code enters its wait meanwhile.
        time.sleep(SETTLE)
        start = perf_counter()
        if not target.interp.interrupt():
            raise RuntimeError(f'{target.kind}: interrupt() found the '
                               f'interpreter idle')
        if not done.wait(BOUND * 2):
            raise RuntimeError(f'{target.kind}: still running')
    finally:
        thread.join()
    if result.get('type') != 'KeyboardInterrupt':
        raise RuntimeError(f'{target.kind}: the code ended with '
                           f'{result.get("type", "no exception")}, '
                           f'not KeyboardInterrupt')
    return result['end'] - start


def interrupt_latency(loops, kind):
    target = _target(kind)
    total = 0.0
    for _ in range(loops):
        total += _interrupt_once(target)
    return total


class _MainThreadWait:
    """The same wait in this interpreter, set up in a namespace of its own."""

    def __init__(self, kind):
        self.kind = kind
        self.ready = queue.Queue()
        self.ns = {'ready': self.ready, 'BOUND': BOUND}
        setup, code = WAITS[kind]
        exec(setup, self.ns)
        # A code object, not source: exec() of source that raises
        # KeyboardInterrupt marks it unhandled in 3.11, caught or not, and
        # the process would then end by killing itself with SIGINT.
        self.code = compile(code, f'<{kind}>', 'exec')

    def close(self):
        if self.kind in CLEANUP:
            exec(CLEANUP[self.kind], self.ns)


def _sigint_once(waiter):
    """Send SIGINT to this thread once it waits; return the latency."""
    main = threading.get_ident()
    started = []

    def interrupter():
        waiter.ready.get(timeout=BOUND)
        time.sleep(SETTLE)
        started.append(perf_counter())
        signal.pthread_kill(main, signal.SIGINT)

    thread = threading.Thread(target=interrupter)
    thread.start()
    try:
        exec(waiter.code, waiter.ns)
    except KeyboardInterrupt:
        end = perf_counter()
    else:
        raise RuntimeError(f'{waiter.kind}: SIGINT did not interrupt it')
    finally:
        thread.join()
    return end - started[0]


def sigint_latency(loops, kind):
    waiter = mechanisms.cached(('sigint', kind),
                               lambda: _MainThreadWait(kind))
    # A shell without job control starts its background commands with
    # SIGINT ignored, and Python then leaves it so: set Ctrl-C's handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        total = 0.0
        for _ in range(loops):
            total += _sigint_once(waiter)
        return total
    finally:
        signal.signal(signal.SIGINT, previous)


def _time_calls(func, code, timeout, count):
    """Time count calls of func(code), with timeout= unless it is NO_KEYWORD.

    The calls are spelled out, as a user writes them: passing the keyword
    through **kwargs would time the unpacking of a dict as well.
    """
    if timeout is NO_KEYWORD:
        func(code)
        start = perf_counter()
        for _ in range(count):
            func(code)
    else:
        func(code, timeout=timeout)
        start = perf_counter()
        for _ in range(count):
            func(code, timeout=timeout)
    return perf_counter() - start


def interpreters_run(loops, calls, code, timeout):
    return _time_calls(mechanisms.interpreter().run, code, timeout,
                       loops * calls)


def c_run_string(loops, calls, code, timeout):
    import _interpreters
    # partial() adds no Python frame, as a lambda would.
    run_string = functools.partial(_interpreters.run_string,
                                   mechanisms.interpreter().id)
    return _time_calls(run_string, code, timeout, loops * calls)


def concurrent_exec(loops, calls, code, timeout):
    return _time_calls(mechanisms.concurrent_interpreter().exec, code,
                       timeout, loops * calls)


NO_KEYWORD = object()

# The variants of the call: no keyword, timeout=None, a timeout that never
# fires.  The first two must cost the same.
CALLS = (('plain', NO_KEYWORD), ('timeout_none', None), ('timeout_60', 60))

# Calls per value of the run()/exec() benchmarks (about 20 ms' worth):
# each latency value is one interruption, so the runner makes one loop
# per value, and these count their calls as pyperf's inner loops.
CALLS_PER_VALUE = 50_000


def main():
    with Suite('bench.cases.interrupt', processes=2, values=10, loops=1,
               warmups=1) as suite:
        calls = 100 if suite.quick else CALLS_PER_VALUE
        for op, func in (('run_pass', interpreters_run),
                         ('exec_pass', concurrent_exec)):
            for variant, timeout in CALLS:
                suite.add(f'{op}_{variant}', 'interpreters', func, calls,
                          'pass', timeout, inner_loops=calls)
        # What the Python layer adds to run(): the C function alone.
        suite.add('run_string_pass', 'interpreters', c_run_string, calls,
                  'pass', NO_KEYWORD, inner_loops=calls)
        for kind in WAITS:
            suite.add(f'interrupt_{kind}', 'interpreters',
                      interrupt_latency, kind)
            suite.add(f'interrupt_{kind}', 'sigint', sigint_latency, kind)
    return suite.status()


if __name__ == '__main__':
    sys.exit(main())
