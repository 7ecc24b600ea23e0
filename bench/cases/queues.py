"""Queues between the main thread and a far side in another thread.

ping-pong: send an int, wait for it to come back.  ints, dicts, lists:
send items one way, then a None marker the far side answers once all
arrived; the figure is the time per item.  Our queue copies a dict or a
list by pickling it (queue.Queue hands over a reference, multiprocessing
pickles it too).  bench.cases.busy runs ping-pong and ints while the main
interpreter is busy.

handles_N: put a tuple of N distinct Queue handles in one of our queues
and get it back, in the main thread; the figure is the time per handle,
which stays flat as N grows if encoding handles is linear.
"""

import sys
from time import perf_counter

from bench import mechanisms
from bench.suite import Suite

# A small record, pickled by every copying queue: str keys, an int, a
# float, a str, a short list.
DICT_ITEM = {'id': 12345, 'name': 'spam', 'price': 2.5, 'tags': ['a', 'b'],
             'active': True}
LIST_ITEM = [1, 2, 3, 4, 5, 6.5, 'seven', 'eight', None, True]

# Not _xxsubinterpreters: its channels only carry shareable objects.
PICKLING_QUEUES = tuple(mech for mech in mechanisms.QUEUES if mech != 'xx')

HANDLE_COUNTS = (1000, 32000)


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


def one_way_items(loops, mech, item):
    peer = mechanisms.peer(mech, 'drain')
    put, get = peer.put, peer.get
    put(item)
    put(None)
    get()
    start = perf_counter()
    for _ in range(loops):
        put(item)
    put(None)
    get()
    return perf_counter() - start


_handles = {}


def handles(loops, count):
    import interpreters
    if count not in _handles:
        _handles[count] = (interpreters.create_queue(),
                           tuple(interpreters.create_queue()
                                 for _ in range(count)))
    q, item = _handles[count]
    start = perf_counter()
    for _ in range(loops):
        q.put(item)
        q.get()
    return perf_counter() - start


def main():
    with Suite('bench.cases.queues', processes=4, values=3,
               min_time=0.05) as suite:
        for mech in mechanisms.QUEUES:
            suite.add('ping_pong', mech, ping_pong, mech)
        for mech in mechanisms.QUEUES:
            suite.add('ints', mech, one_way, mech)
        for mech in PICKLING_QUEUES:
            suite.add('dicts', mech, one_way_items, mech, DICT_ITEM)
        for mech in PICKLING_QUEUES:
            suite.add('lists', mech, one_way_items, mech, LIST_ITEM)
        for count in HANDLE_COUNTS:
            # pyperf divides by inner_loops: the figure is per handle.
            suite.add(f'handles_{count}', 'interpreters', handles, count,
                      inner_loops=count)
    return suite.status()


if __name__ == '__main__':
    sys.exit(main())
