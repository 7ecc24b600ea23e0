"""GIL wake-up latency: how late a sleeping thread runs again.

A thread sleeps DELAY seconds, in a subinterpreter (interpreters: call();
_xxsubinterpreters: run_string()) or in the main one (threading), while
the main thread spins in Python code.  The figure is how much later than
due the sleeper ran Python code again.  In 3.11 a thread of another
interpreter asks for the GIL through its own interpreter's eval breaker,
which the spinning main thread never looks at: it only gets the GIL when
the spinning stops, cap seconds after the sleep was due.
"""

import sys
import threading
import time

from bench import mechanisms, peers
from bench.mechanisms import xx
from bench.suite import Suite

DELAY = 0.2


def _lateness(sleeper, cap):
    """Run sleeper() in a thread while this one spins; return its result."""
    result = []
    thread = threading.Thread(target=lambda: result.append(sleeper()))
    deadline = time.monotonic() + DELAY + cap
    thread.start()
    while not result and time.monotonic() < deadline:
        pass
    thread.join()
    return result[0]


def wakeup(loops, mech, cap):
    if mech == 'threading':
        def sleeper():
            return peers.late_wakeup(DELAY)
    elif mech == 'interpreters':
        call = mechanisms.interpreter().call
        call(peers.late_wakeup, 0)

        def sleeper():
            return call(peers.late_wakeup, DELAY)
    else:
        interp_id = mechanisms.xx_interpreter()
        cid = xx.channel_create()
        # Its channels carry no float: send the text.
        code = ('import _xxsubinterpreters, bench.peers\n'
                '_xxsubinterpreters.channel_send(\n'
                f'    cid, repr(bench.peers.late_wakeup({DELAY})))\n')

        def sleeper():
            xx.run_string(interp_id, code, {'cid': cid})
            return float(xx.channel_recv(cid))
        xx.run_string(interp_id, 'import bench.peers')
    total = 0.0
    for _ in range(loops):
        total += _lateness(sleeper, cap)
    return total


def main():
    # Each value is one sleep: no calibration, no more loops.
    with Suite('bench.cases.wakeup', processes=2, values=3, loops=1,
               warmups=1) as suite:
        cap = 0.3 if suite.quick else 1.0
        for mech in ('threading', 'interpreters', 'xx'):
            suite.add('wakeup', mech, wakeup, mech, cap)
    return suite.status()


if __name__ == '__main__':
    sys.exit(main())
