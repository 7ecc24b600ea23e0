"""Queue throughput against payload size: one bytes item after another.

The main thread sends bytes items of one size through a queue to a far side
in another thread, then a None marker that the far side answers once all
arrived; the figure is the time per item.  The same bytes object is sent
each time.  copy/SIZE is the in-process baseline: one copy of the item
into a new bytes object.  Queues that have a bound hold at most BACKLOG
bytes, the same bound for all.  --quick runs three sizes only.
"""

import sys
from time import perf_counter

from bench import mechanisms
from bench.suite import Suite

SIZES = tuple(8 ** k for k in range(1, 9)) + (64 << 20,)
# What --quick runs: the ends and the middle.
QUICK_SIZES = (8, 32 << 10, 64 << 20)
# A producer can run ahead of its consumer by this many bytes: a queue
# that copies items (ours, multiprocessing's pipe) then reuses warm memory.
# Let it run 64 MiB ahead and each item of ours lands in fresh pages, whose
# faults cost more than the copy at 32 KiB - 256 KiB.
BACKLOG = 1 << 20


def payload(size):
    # Not bytes(size): calloc'ed zeros, whose pages nobody touches.
    return b'\xab' * size


def send(loops, mech, size):
    peer = mechanisms.peer(mech, 'drain', max(2, BACKLOG // size))
    put, get = peer.put, peer.get
    item = payload(size)
    put(item)
    put(None)
    get()
    start = perf_counter()
    for _ in range(loops):
        put(item)
    put(None)
    get()
    return perf_counter() - start


def copy(loops, size):
    tobytes = memoryview(payload(size)).tobytes
    start = perf_counter()
    for _ in range(loops):
        tobytes()
    return perf_counter() - start


def main():
    with Suite('bench.cases.payload', processes=2, values=3,
               min_time=0.05) as suite:
        for size in QUICK_SIZES if suite.quick else SIZES:
            suite.add(f'bytes_{size}', 'copy', copy, size)
            for mech in mechanisms.QUEUES:
                suite.add(f'bytes_{size}', mech, send, mech, size)
    return suite.status()


if __name__ == '__main__':
    sys.exit(main())
