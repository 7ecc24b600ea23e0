"""Zero-copy memoryviews: a 64 MiB memoryview through a queue, against a copy.

mview_64MiB/interpreters   time per item: the main thread puts a memoryview
                           of a 64 MiB bytearray in one of our queues; a
                           subinterpreter gets it (run()) and writes one
                           byte through it, which the main thread checks.
mview_64MiB/copy           the in-process baseline: one copy of the same
                           64 MiB into a new bytes object.
peak_mview_64MiB/interpreters
                           RSS with the bytearray already built, and the
                           peak RSS while its memoryview crosses and is
                           dropped (as memory.py measures peak_64MiB).
                           Divisor: 1; the report divides by the size.

The item is never copied, so its time is that of any small item, and the
peak is a few pages: the targets are 1% of the copy's time and 1% of the
payload.  Each figure comes from fresh processes ("probes"), written in
pyperf's JSON format: timings as time per item, memory as raw readings
(see bench.cases.memory).
"""

import gc
import statistics
import sys
from time import perf_counter

import pyperf

from bench import peers, probes

PAYLOAD = 64 << 20
# Values per probe process, and items per value.
VALUES = 5
LOOPS = {'interpreters': 200, 'copy': 5}


def _payload(size):
    # Not bytearray(size): calloc'ed zeros, whose pages nobody touches.
    return bytearray(b'\xab' * size)


def _sender(size):
    """Return (send, close): send() makes one memoryview cross."""
    import interpreters
    interp = interpreters.create()
    q = interpreters.create_queue()
    interp.prepare_main(q=q)
    interp.run('view = None')
    item = _payload(size)
    item[-1] = 0
    view = memoryview(item)
    counter = [0]

    def send():
        counter[0] = (counter[0] + 1) & 0x7f
        q.put(view)
        interp.run('view = q.get(); view[-1] = (view[-1] + 1) & 0x7f')
        if item[-1] != counter[0]:
            raise RuntimeError('the view does not show the same memory')

    def close():
        interp.run('del view')
        interp.destroy()
    return send, close


def time_probe(mech, size, values, loops):
    if mech == 'copy':
        tobytes = memoryview(_payload(size)).tobytes

        def close():
            pass
    else:
        tobytes, close = _sender(size)
    tobytes()
    result = []
    for _ in range(values):
        start = perf_counter()
        for _ in range(loops):
            tobytes()
        result.append((perf_counter() - start) / loops)
    close()
    return result


def peak_probe(mech, size):
    import interpreters
    interp = interpreters.create()
    q = interpreters.create_queue()
    interp.prepare_main(q=q)

    def send(item):
        q.put(memoryview(item))
        interp.run('view = q.get(); view[0] = 1; del view')

    # One-time costs (the first crossing, compiling the code) first.
    send(_payload(1))
    item = _payload(size)
    gc.collect()
    before = peers.rss()
    peers.reset_peak()
    send(item)
    readings = [before, peers.peak_rss()]
    interp.destroy()
    return readings


def _plan(quick):
    """Yield (name, probe args, metadata) to measure."""
    size = 8 << 20 if quick else PAYLOAD
    values = 1 if quick else VALUES
    for mech in ('copy', 'interpreters'):
        loops = 1 if quick else LOOPS[mech]
        yield (f'mview_64MiB/{mech}', ['time', mech, size, values, loops],
               {'unit': 'second', 'loops': 1, 'payload_size': size})
    yield ('peak_mview_64MiB/interpreters', ['peak', 'interpreters', size],
           {'unit': 'byte', 'divisor': 1, 'payload': size})


PROBES = {'time': time_probe, 'peak': peak_probe}


def _report(name, bench, metadata):
    if metadata['unit'] == 'byte':
        figure = statistics.median(
            (run.values[-1] - run.values[0]) / metadata['payload']
            for run in bench.get_runs())
        print(f'{name}: {figure:.4f} x payload', flush=True)
    else:
        print(f'{name}: {bench.median() * 1e6:,.1f} us', flush=True)


def main():
    return probes.main('bench.cases.buffers', __doc__, PROBES, _plan,
                       _report)


if __name__ == '__main__':
    sys.exit(main())
