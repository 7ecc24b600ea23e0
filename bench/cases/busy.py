"""The queue benchmarks again, while the main interpreter is busy.

A third thread, of the main interpreter, spins in Python code while the
main thread and the far side exchange a batch of items: BATCH round trips
of ping-pong, or BATCH small ints one way.  The figure is the time per
item.  A far side in another interpreter that the spinning thread starves
of the GIL (3.11 sends its drop requests to the requester's interpreter
only) gets the GIL when the spinning stops, after CAP seconds at most, so
a batch then takes about CAP and each of its items CAP / BATCH.
"""

import sys

from bench import mechanisms
from bench.cases.queues import one_way, ping_pong
from bench.suite import Suite, busy_thread

BATCH = 100
CAP = 1.0


def busy(loops, func, mech, batch, cap):
    # Set up off the clock, and before the spinning starts.
    func(1, mech)
    total = 0.0
    for _ in range(loops):
        with busy_thread(cap):
            total += func(batch, mech)
    return total


def main():
    # Each value is one batch under a fresh spinning thread: a stall costs
    # up to CAP, so no calibration, which could pick loops from a stall.
    with Suite('bench.cases.busy', processes=2, values=3, loops=1,
               warmups=1) as suite:
        batch, cap = (20, 0.2) if suite.quick else (BATCH, CAP)
        for op, func in (('ping_pong_busy', ping_pong),
                         ('ints_busy', one_way)):
            for mech in mechanisms.QUEUES:
                suite.add(op, mech, busy, func, mech, batch, cap,
                          inner_loops=batch)
    return suite.status()


if __name__ == '__main__':
    sys.exit(main())
