"""Memory: RSS per idle worker, RSS growth per cycle, peak of a big item.

pyperf's Runner times functions; memory is read from /proc instead, each
figure in a fresh process (a "probe") so that nothing measured before
distorts it, and written in pyperf's JSON format all the same.  Each run
holds raw readings in bytes, never a difference, which could be zero or
negative and which pyperf refuses: its figure is (last - first) / divisor,
with divisor in the run's metadata.

idle_rss     RSS of the process before and after starting COUNT idle
             workers (after one started and ended, so that one-time costs
             are not counted); for processes, the parent's RSS plus what
             each child alone uses (USS).  Divisor: COUNT.
cycle_rss    RSS after warm-up cycles of create+destroy (start+join), then
             after each CYCLES / CHECKPOINTS more.  Divisor: CYCLES; the
             run's "fit" metadata asks for the least-squares slope through
             all readings instead of last - first, since the heap breathes
             by a few hundred KiB either way.
peak_64MiB   RSS with the item already built, and the peak RSS while it
             crosses to the far side, which drops it; for processes, the
             child's peak is added.  Divisor: 1; the report divides by the
             item's size.
"""

import gc
import multiprocessing
import statistics
import sys
import threading

import pyperf

from bench import mechanisms, peers, probes
from bench.mechanisms import xx

PAYLOAD = 64 << 20

# ---------------------------------------------------------------------------
# Probes: each runs in its own process and prints its readings.


def _warm_and_measure(make, destroy, count):
    destroy(make())
    gc.collect()
    before = peers.rss()
    workers = [make() for _ in range(count)]
    after = peers.rss()
    for worker in workers:
        destroy(worker)
    return [before, after]


def idle_rss(mech, count):
    if mech == 'interpreters':
        import interpreters
        return _warm_and_measure(interpreters.create,
                                 lambda interp: interp.destroy(), count)
    if mech == 'xx':
        return _warm_and_measure(xx.create, xx.destroy, count)
    if mech == 'threading':
        event = threading.Event()

        def start():
            thread = threading.Thread(target=event.wait)
            thread.start()
            return thread

        def end(thread):
            event.set()
            thread.join()
        return _warm_and_measure(start, end, count)
    ctx = multiprocessing.get_context(mech.removeprefix('mp_'))
    ready = ctx.Queue()
    event = ctx.Event()
    procs = [ctx.Process(target=peers.idle, args=(ready, event))
             for _ in range(count + 1)]
    procs[0].start()
    ready.get()
    event.set()
    procs[0].join()
    event.clear()
    gc.collect()
    before = peers.rss()
    for proc in procs[1:]:
        proc.start()
    pids = [ready.get() for _ in procs[1:]]
    after = peers.rss() + sum(peers.unique_size(pid) for pid in pids)
    event.set()
    for proc in procs[1:]:
        proc.join()
    return [before, after]


def cycle_rss(mech, warmup, cycles, checkpoints):
    if mech == 'interpreters':
        import interpreters

        def cycle():
            interpreters.create().destroy()
    elif mech == 'xx':
        def cycle():
            xx.destroy(xx.create())
    else:
        def cycle():
            thread = threading.Thread(target=peers.noop)
            thread.start()
            thread.join()
    for _ in range(warmup):
        cycle()
    readings = [peers.rss()]
    for _ in range(checkpoints):
        for _ in range(cycles // checkpoints):
            cycle()
        readings.append(peers.rss())
    return readings


def peak(mech, size):
    small = b'\xab'
    if mech == 'copy':
        def send(item):
            memoryview(item).tobytes()
    elif mech == 'interpreters':
        import interpreters
        interp = mechanisms.interpreter()
        q = interpreters.create_queue()
        interp.prepare_main(q=q)

        def send(item):
            q.put(item)
            interp.run('q.get()')
    elif mech == 'xx':
        interp_id = mechanisms.xx_interpreter()
        cid = xx.channel_create()
        xx.run_string(interp_id, 'import _xxsubinterpreters', {'cid': cid})

        def send(item):
            xx.channel_send(cid, item)
            xx.run_string(interp_id, '_xxsubinterpreters.channel_recv(cid)')
    elif mech == 'threading':
        far = mechanisms.peer('threading', 'drain')

        def send(item):
            far.put(item)
            far.put(None)
            far.get()
    else:
        # The far process reports the peak it reached receiving an item.
        far = mechanisms.ProcessPeer(mech.removeprefix('mp_'), 0,
                                     peers.serve_peaks)
        try:
            far.put(small)
            far.get()
            item = b'\xab' * size
            gc.collect()
            before = peers.rss()
            peers.reset_peak()
            far.put(item)
            child = far.get()
            return [before, peers.peak_rss() + child]
        finally:
            far.close()
    send(small)
    item = b'\xab' * size
    gc.collect()
    before = peers.rss()
    peers.reset_peak()
    send(item)
    readings = [before, peers.peak_rss()]
    mechanisms.close_all()
    return readings


PROBES = {'idle_rss': idle_rss, 'cycle_rss': cycle_rss, 'peak': peak}


def memory_figure(run):
    """Return the figure of a pyperf run of this module (see above)."""
    metadata = run.get_metadata()
    values = run.values
    if metadata.get('fit') == 'slope' and len(values) > 2:
        # Equally spaced readings: the least-squares slope times the
        # number of steps is the fitted growth from first to last.
        steps = range(len(values))
        slope = statistics.linear_regression(steps, values).slope
        growth = slope * (len(values) - 1)
    else:
        growth = values[-1] - values[0]
    return growth / metadata['divisor'] / metadata.get('payload', 1)


# ---------------------------------------------------------------------------
# The master: run the probes, record their readings.

def _plan(quick):
    """Yield (name, probe args, metadata) to measure."""
    count, procs = (10, 2) if quick else (100, 20)
    for mech in mechanisms.QUEUES:
        n = procs if mech.startswith('mp_') else count
        yield _figure(f'idle_rss/{mech}', 'idle_rss', mech, [n], n, {})
    # The heap settles over the first few hundred cycles, then breathes by
    # a few hundred KiB: warm up long, then fit a line through many
    # readings over many cycles.
    warmup, cycles, checkpoints = (5, 10, 2) if quick else (300, 2000, 20)
    for mech in ('interpreters', 'xx', 'threading'):
        yield _figure(f'cycle_rss/{mech}', 'cycle_rss', mech,
                      [warmup, cycles, checkpoints], cycles, {'fit': 'slope'})
    size = 8 << 20 if quick else PAYLOAD
    for mech in ('copy',) + mechanisms.QUEUES:
        yield _figure(f'peak_64MiB/{mech}', 'peak', mech, [size], 1,
                      {'payload': size})


def _figure(name, probe, mech, params, divisor, metadata):
    return (name, [probe, mech, *params],
            dict(metadata, unit='byte', divisor=divisor))


def _available(plan):
    for figure in plan:
        name, (probe, mech, *params), metadata = figure
        reason = mechanisms.available(mech)
        if reason:
            print(f'skipping {name}: {reason}', flush=True)
            continue
        yield figure


def _report(name, bench, metadata):
    figure = statistics.median(memory_figure(run) for run in bench.get_runs())
    unit = 'x payload' if 'payload' in metadata else 'bytes'
    print(f'{name}: {figure:,.2f} {unit}', flush=True)


def main():
    return probes.main('bench.cases.memory', __doc__, PROBES,
                       lambda quick: _available(_plan(quick)), _report)


if __name__ == '__main__':
    sys.exit(main())
