"""Queues between the main thread and a far side in another thread.

ping-pong: send an int, wait for it to come back.  ints: send small ints
one way, then a None marker the far side answers once all arrived; the
figure is the time per item.  bench.cases.busy runs the same while the main
interpreter is busy.
"""

import sys
from time import perf_counter

from bench import mechanisms
from bench.suite import Suite


def ping_pong(loops, mech):
    peer = mechanisms.peer(mech, 'echo')
    put, get = peer.put, peer.get
    put(0)
    get()
    start = perf_counter()
    for i in range(loops):
        put(i)
        get()
    return perf_counter() - start


def one_way(loops, mech):
    peer = mechanisms.peer(mech, 'drain')
    put, get = peer.put, peer.get
    put(None)
    get()
    start = perf_counter()
    for i in range(loops):
        put(i)
    put(None)
    get()
    return perf_counter() - start


def main():
    with Suite('bench.cases.queues', processes=4, values=3,
               min_time=0.05) as suite:
        for mech in mechanisms.QUEUES:
            suite.add('ping_pong', mech, ping_pong, mech)
        for mech in mechanisms.QUEUES:
            suite.add('ints', mech, one_way, mech)
    return suite.status()


if __name__ == '__main__':
    sys.exit(main())
