"""Own-GIL interpreters in parallel: python -m bench.parallel --out FILE.

The `parallel` case (bench.parallel_run) runs this module with a build
configured --with-immortal-objects, the only kind that offers
create(own_gil=True).  It uses the standard library only and measures, in
one run, the wall time of N units of a CPU-bound pure-Python workload
(N = os.cpu_count(), at least 2):

- baseline: the N units one after the other, in one thread of the main
  interpreter;
- owngil: N own-GIL interpreters, one unit each, each in its own thread;
- sharedgil: N interpreters that share the main GIL, likewise;
- threads: N threads of the main interpreter, one unit each;
- mp_fork: N processes forked by multiprocessing, one unit each.

Interpreters, threads and processes are created, started and warmed
before the clock starts; the rounds interleave the mechanisms, so that
a change of the machine's load falls on all of them.  The speedup of each
is given twice: the baseline's median over its median, and the
baseline's best round over its best round.

Why both: on a shared host (a virtual machine's vCPUs), two busy cores
slow each other down by an amount that changes from second to second; a
C loop with no memory traffic measured 0.34 s alone and 0.34 to 0.44 s
with a twin running.  The medians carry that load; the best rounds are
the ones the host disturbed least, timeit's rule for what the code
itself can do.  The target is judged on the best rounds, and forked
processes, measured the same way in the same run, show what the machine
allowed: own-GIL interpreters are compared with them too.  It also measures
the round trip of an int between two interpreters through a pair of
queues, and the latency of call(abs, 1), own-GIL next to shared-GIL.

The second half of the module reads the JSON file back and writes the
section of results.md (bench.report calls it): standard library only, so
that the tooling tests need no pyperf.
"""

import argparse
import json
import multiprocessing
import os
import pathlib
import statistics
import sys
import sysconfig
import threading
import time
import traceback

# The JSON file the case leaves in the results directory.
RESULT_FILE = 'parallel.json'

# The workload, as source: the main interpreter, each subinterpreter and
# each forked process run the same code.  Int arithmetic (values up to a
# million, so most results are new objects) and a small function call per
# iteration: what a CPU-bound pure-Python program spends its time on.
WORK = '''\
def _mix(acc, i):
    return (acc * 31 + i) % 1000003


def unit(n):
    acc = 0
    for i in range(n):
        acc = _mix(acc, i) ^ (i & 255)
    return acc
'''

# Seconds of work per unit (calibrated in the main interpreter), and the
# number of timed rounds; --quick only proves that everything runs.
# Short units and many rounds: the more rounds, the likelier one of them
# finds the host quiet on every core (see the module's docstring).
SETTINGS = {
    False: {'unit_seconds': 0.2, 'rounds': 15, 'pings': 2000, 'calls': 2000},
    True: {'unit_seconds': 0.02, 'rounds': 1, 'pings': 50, 'calls': 50},
}
# Rounds of the ping-pong and call() figures (each the mean of a batch).
LATENCY_ROUNDS = {False: 7, True: 1}

# The most any wait of this script may take: a hang fails the run
# instead of blocking it.
TIMEOUT = 300.0

MECHANISMS = ('owngil', 'sharedgil', 'threads', 'mp_fork')
# Not a mechanism: one unit in one own-GIL interpreter while nothing else
# of the benchmark runs.  Set against the baseline's time per unit, it
# separates what such an interpreter costs alone (its own pymalloc state,
# core patch 0033, found through a thread-local pointer) from how it
# scales.
SOLO = 'owngil_solo'
LABELS = {
    'baseline': 'one thread of one interpreter, {n} units in turn',
    'owngil': '{n} own-GIL interpreters, a thread each',
    'sharedgil': '{n} shared-GIL interpreters, a thread each',
    'threads': '{n} threads of one interpreter',
    'mp_fork': '{n} processes (multiprocessing, fork)',
}

# The target of issue 13: N own-GIL interpreters at least 1.8x faster
# than one interpreter doing the same work (on 2 cores).
SPEEDUP_TARGET = 1.8


class BenchError(Exception):
    """A measurement could not be made (a hang, a dead worker)."""


def _namespace():
    namespace = {}
    exec(WORK, namespace)
    return namespace


def calibrate(unit, seconds):
    """Return the loop count of unit() that takes about seconds here."""
    count = 10_000
    while True:
        started = time.perf_counter()
        unit(count)
        elapsed = time.perf_counter() - started
        if elapsed >= 0.05 or count >= 1 << 30:
            break
        count *= 4
    return max(1000, int(count * seconds / elapsed))


# ---------------------------------------------------------------------------
# Timing N units on N workers.

def _join(threads, what):
    deadline = time.monotonic() + TIMEOUT
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            raise BenchError(f'{what}: a thread did not finish within '
                             f'{TIMEOUT:g} s')


def time_threads(jobs, what):
    """Run each job in a thread of its own, all released at once; return
    the wall time from the release to the end of the last, and the CPU
    time the process used meanwhile.

    Threads start and meet at a barrier before the clock starts: their
    creation is not timed.
    """
    barrier = threading.Barrier(len(jobs) + 1, timeout=TIMEOUT)
    ends = []
    errors = []

    def work(job):
        try:
            barrier.wait()
            job()
            ends.append(time.perf_counter())
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=work, args=(job,), daemon=True)
               for job in jobs]
    for thread in threads:
        thread.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    started, cpu = time.perf_counter(), time.process_time()
    _join(threads, what)
    cpu = time.process_time() - cpu
    if errors:
        raise BenchError(f'{what}: {errors[0]!r}') from errors[0]
    return max(ends) - started, cpu


def _process_main(conn, unit):
    # A forked worker: run unit(n) for each n received, answer with the
    # CPU time it took.
    while True:
        count = conn.recv()
        if count is None:
            break
        started = time.process_time()
        unit(count)
        conn.send(time.process_time() - started)


class Processes:
    """N forked processes that each run unit(n) when told to."""

    def __init__(self, workers, unit):
        context = multiprocessing.get_context('fork')
        self.conns = []
        self.procs = []
        for _ in range(workers):
            ours, theirs = context.Pipe()
            proc = context.Process(target=_process_main,
                                   args=(theirs, unit), daemon=True)
            proc.start()
            theirs.close()
            self.conns.append(ours)
            self.procs.append(proc)
        # Warm up: each process has run the code once before any timing.
        self.run(1000)

    def run(self, count):
        """Return the wall time of a unit in each process, and their CPU
        time."""
        started = time.perf_counter()
        for conn in self.conns:
            conn.send(count)
        cpu = 0.0
        for conn in self.conns:
            if not conn.poll(TIMEOUT):
                raise BenchError(f'mp_fork: no answer within {TIMEOUT:g} s')
            cpu += conn.recv()
        return time.perf_counter() - started, cpu

    def close(self):
        for conn in self.conns:
            try:
                conn.send(None)
            except OSError:
                pass
        for proc in self.procs:
            proc.join(TIMEOUT)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for conn in self.conns:
            conn.close()


def _ready_interpreter(interpreters, own_gil):
    interp = interpreters.create(own_gil=own_gil)
    interp.exec(WORK)
    interp.exec('unit(1000)')
    return interp


def measure_units(workers, count, rounds, failed):
    """Return {mechanism: [wall seconds per round]} and {mechanism: [CPU
    seconds per round]} for N = workers units of unit(count); the
    mechanisms that fail are left out and named in failed."""
    namespace = _namespace()
    unit = namespace['unit']
    unit(1000)
    walls = {name: [] for name in ('baseline', *MECHANISMS, SOLO)}
    cpus = {name: [] for name in walls}

    # Processes first: nothing but the main thread exists when they fork.
    procs = None
    try:
        procs = Processes(workers, unit)
    except Exception as exc:
        _failure(failed, 'mp_fork', exc)

    interps = {}
    for name, own_gil in (('owngil', True), ('sharedgil', False)):
        group = []
        try:
            from concurrent import interpreters
            for _ in range(workers):
                group.append(_ready_interpreter(interpreters, own_gil))
        except Exception as exc:
            _failure(failed, name, exc)
            for interp in group:
                interp.close()
        else:
            interps[name] = group

    code = f'unit({count})'

    def baseline():
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(workers):
            unit(count)
        return (time.perf_counter() - started,
                time.process_time() - cpu)

    def in_interpreters(name):
        return lambda: time_threads(
            [lambda interp=interp: interp.exec(code)
             for interp in interps[name]], name)

    runners = {
        'baseline': baseline,
        'threads': lambda: time_threads([lambda: unit(count)] * workers,
                                        'threads'),
    }
    for name in interps:
        runners[name] = in_interpreters(name)
    if 'owngil' in interps:
        solo = interps['owngil'][0]
        runners[SOLO] = lambda: time_threads([lambda: solo.exec(code)],
                                             SOLO)
    if procs is not None:
        runners['mp_fork'] = lambda: procs.run(count)

    try:
        order = list(runners)
        for index in range(rounds):
            # Which mechanism goes first rotates from round to round.
            shift = index % len(order)
            for name in order[shift:] + order[:shift]:
                if name not in runners:
                    continue
                try:
                    wall, cpu = runners[name]()
                    walls[name].append(wall)
                    cpus[name].append(cpu)
                except Exception as exc:
                    _failure(failed, name, exc)
                    del runners[name]
    finally:
        if procs is not None:
            procs.close()
        for group in interps.values():
            for interp in group:
                interp.close()
    return ({name: values for name, values in walls.items() if values},
            {name: values for name, values in cpus.items() if values})


# ---------------------------------------------------------------------------
# Latency between interpreters.

_PONG = '''\
for _ in range(count):
    q2.put(q1.get(timeout=timeout))
'''
_PING = '''\
import time
for i in range(10):
    q1.put(i)
    q2.get(timeout=timeout)
started = time.perf_counter()
for i in range(count):
    q1.put(i)
    q2.get(timeout=timeout)
results.put(time.perf_counter() - started)
'''


def measure_ping_pong(own_gil, count, rounds):
    """Return the seconds per round trip of an int between two
    interpreters, through two queues: one value per round."""
    from concurrent import interpreters
    pinger = interpreters.create(own_gil=own_gil)
    ponger = interpreters.create(own_gil=own_gil)
    q1 = interpreters.create_queue()
    q2 = interpreters.create_queue()
    results = interpreters.create_queue()
    try:
        for interp in (pinger, ponger):
            interp.prepare_main(q1=q1, q2=q2, results=results,
                                timeout=TIMEOUT)
        ponger.prepare_main(count=count + 10)
        pinger.prepare_main(count=count)
        values = []
        for _ in range(rounds):
            time_threads([lambda: ponger.exec(_PONG),
                          lambda: pinger.exec(_PING)], 'ping_pong')
            values.append(results.get(timeout=TIMEOUT) / count)
        return values
    finally:
        pinger.close()
        ponger.close()


def measure_call(own_gil, count, rounds):
    """Return the seconds per interp.call(abs, 1) from the main
    interpreter's main thread: one value per round."""
    from concurrent import interpreters
    interp = interpreters.create(own_gil=own_gil)
    try:
        for _ in range(10):
            interp.call(abs, 1)
        values = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(count):
                interp.call(abs, 1)
            values.append((time.perf_counter() - started) / count)
        return values
    finally:
        interp.close()


def _failure(failed, name, exc):
    print(f'parallel: {name} failed:', file=sys.stderr)
    traceback.print_exception(exc, file=sys.stderr)
    failed.append(name)


def measure(quick=False):
    """Make every measurement; return the dict the JSON file holds."""
    settings = SETTINGS[bool(quick)]
    workers = max(2, os.cpu_count() or 1)
    unit = _namespace()['unit']
    count = calibrate(unit, settings['unit_seconds'])
    failed = []
    load_before = os.getloadavg()
    started = time.monotonic()
    walls, cpus = measure_units(workers, count, settings['rounds'],
                                failed)

    latency = {}
    rounds = LATENCY_ROUNDS[bool(quick)]
    for kind, own_gil in (('owngil', True), ('sharedgil', False)):
        for op, func, batch in (
                ('ping_pong', measure_ping_pong, settings['pings']),
                ('call', measure_call, settings['calls'])):
            name = f'{op}/{kind}'
            try:
                latency[name] = func(own_gil, batch, rounds)
            except Exception as exc:
                _failure(failed, name, exc)

    return {
        'quick': bool(quick),
        'python': sys.version,
        'immortal_objects': bool(
            sysconfig.get_config_var('Py_IMMORTAL_OBJECTS')),
        'cores': os.cpu_count(),
        'workers': workers,
        'unit_loops': count,
        'unit_seconds': settings['unit_seconds'],
        'rounds': settings['rounds'],
        'wall': walls,
        'cpu': cpus,
        'latency': latency,
        'load_avg_1min': [load_before[0], os.getloadavg()[0]],
        'duration': round(time.monotonic() - started, 1),
        'failed': failed,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bench.parallel',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=pathlib.Path, required=True,
                        help='the JSON file to write')
    parser.add_argument('--quick', action='store_true',
                        help='one short round: proves that it runs')
    args = parser.parse_args(argv)
    data = measure(args.quick)
    args.out.write_text(json.dumps(data, indent=2) + '\n')
    for line in markdown(summarize(data)):
        print(line)
    sys.stdout.flush()
    sys.stderr.flush()
    if data['failed']:
        # A thread may still be stuck in an interpreter: do not wait for
        # it at exit.
        os._exit(1)
    return 0


# ---------------------------------------------------------------------------
# Reading the results back: the section of results.md.

def summarize(data):
    """Return the figures of a parallel.json's data, or None if None.

    A dict: 'median' {mechanism: median wall seconds}, 'best'
    {mechanism: its fastest round}, 'speedup' {mechanism: baseline median
    / its median}, 'speedup_best' {mechanism: baseline's best / its
    best}, 'vs_processes' {'median'|'best': processes' time / own-GIL
    interpreters' time}, 'busy' {mechanism: median
    over the rounds of CPU time / wall time, the cores it kept busy},
    'cpu_per_unit' {mechanism: median CPU seconds of a round / the units
    it ran}, 'latency_median' {NAME: median seconds}, and the run's
    description as the file holds it.
    """
    if data is None:
        return None
    walls = {name: values for name, values in data.get('wall', {}).items()
             if values}
    median = {name: statistics.median(values)
              for name, values in walls.items()}
    best = {name: min(values) for name, values in walls.items()}
    speedup = _speedups(median)
    speedup_best = _speedups(best)
    # How close own-GIL interpreters come to processes, the machine's
    # ceiling in this run: 1.00 is as fast as processes.
    vs_processes = {
        kind: figures['mp_fork'] / figures['owngil']
        for kind, figures in (('median', median), ('best', best))
        if figures.get('owngil') and figures.get('mp_fork')}
    latency = {name: statistics.median(values)
               for name, values in data.get('latency', {}).items()
               if values}
    busy = {name: statistics.median(
                cpu / wall for cpu, wall in zip(cpus, data['wall'][name])
                if wall > 0)
            for name, cpus in data.get('cpu', {}).items()
            if cpus and data.get('wall', {}).get(name)}
    workers = data.get('workers') or 1
    cpu_per_unit = {name: statistics.median(cpus)
                    / (1 if name == SOLO else workers)
                    for name, cpus in data.get('cpu', {}).items() if cpus}
    return dict(data, median=median, best=best, speedup=speedup,
                speedup_best=speedup_best, vs_processes=vs_processes,
                busy=busy, cpu_per_unit=cpu_per_unit,
                latency_median=latency)


def _speedups(times):
    """Return {mechanism: the baseline's time / its time}."""
    base = times.get('baseline')
    return {name: base / value for name, value in times.items()
            if base and value > 0 and name in MECHANISMS}


def load(directory):
    """Return summarize() of DIR/parallel.json, or None if it is absent."""
    path = pathlib.Path(directory) / RESULT_FILE
    if not path.is_file():
        return None
    return summarize(json.loads(path.read_text()))


def status(speedup, limit=SPEEDUP_TARGET):
    return 'PASS' if speedup >= limit else 'MISS'


def target_row(summary, limit=SPEEDUP_TARGET):
    """Return the cells of the target's row in results.md's targets
    table, as bench.report's rows: title, ours, compared with, ratio,
    target, status."""
    workers = summary.get('workers', 'N') if summary else 'N'
    title = f'own-GIL speedup on {workers} cores'
    goal = f'best-round speedup >= {limit:g}x'
    speedup = summary and summary['speedup_best'].get('owngil')
    if not speedup:
        return [title, 'n/a', 'one interpreter', 'n/a', goal, 'n/a']
    return [title, f'{_fmt_time(summary["best"]["owngil"])} (best round)',
            f'one interpreter: {_fmt_time(summary["best"]["baseline"])}',
            f'{speedup:.2f}x (median {summary["speedup"]["owngil"]:.2f}x)',
            goal, status(speedup, limit)]


def _fmt_time(seconds):
    for unit, scale in (('s', 1), ('ms', 1e-3), ('us', 1e-6)):
        if seconds >= scale * 0.9995:
            return f'{seconds / scale:.3g} {unit}'
    return f'{seconds / 1e-9:.3g} ns'


def markdown(summary):
    """Return the lines of results.md's section (summary: summarize())."""
    lines = ['## Own-GIL interpreters in parallel', '']
    if summary is None:
        return lines + ['Not run (the `parallel` case: `python3 -m bench '
                        'parallel`).', '']
    workers = summary.get('workers', 'N')
    lines += [
        f'{workers} units of a CPU-bound pure-Python loop (int arithmetic '
        f'and a function call per iteration, {summary.get("unit_loops")} '
        f'iterations, about {summary.get("unit_seconds")} s a unit), run '
        f'by {workers} workers at once, one unit each, against one thread '
        'of one interpreter running them in turn.  Workers are created '
        'and warmed before the clock starts; the mechanisms are '
        f'interleaved over {summary.get("rounds")} rounds of wall time.  '
        'Speedup is the baseline\'s time over each, so higher is better: '
        'medians over medians, and best round over best round.  On a '
        'shared host two busy cores slow each other by an amount that '
        'changes from second to second, so the medians carry the host\'s '
        'load and the best rounds show what the code does when the host '
        'leaves it alone (timeit\'s rule); the target is judged on the '
        'best rounds, and processes, measured the same way, show what the '
        'machine allowed.  The threads of one interpreter share its GIL: '
        'about 1.00x on an idle machine, their speedup shows how far the '
        'machine\'s load bent the run (the scheduler favours a process '
        'whose threads keep waking each other).  Cores busy is the CPU '
        'time the workers used over the wall time (median of the rounds): '
        f'up to {workers} for workers that run in parallel, at most 1 '
        'under one GIL, and lower wherever other processes took the '
        'CPUs.  CPU time per unit is what a unit of work costs each way, '
        'whatever the load: on an idle machine the speedup of workers '
        'that run in parallel approaches N times the baseline\'s CPU time '
        'per unit over theirs.',
        '',
        f'- Python: {summary.get("python", "?").splitlines()[0]}, '
        f'immortal objects: '
        f'{"yes" if summary.get("immortal_objects") else "no"}',
    ]
    if not summary.get('immortal_objects'):
        lines.append('- **This build has no immortal objects**: own-GIL '
                     'interpreters share the reference counts of small ints '
                     'and other static objects, whose cache lines bounce '
                     'between cores; its own-GIL figures say nothing of a '
                     'build configured `--with-immortal-objects`.')
    load = summary.get('load_avg_1min')
    if load:
        lines.append(f'- Load average (1 min) before and after: '
                     f'{load[0]:.1f}, {load[-1]:.1f} on '
                     f'{summary.get("cores")} cores')
    if summary.get('failed'):
        lines.append(f'- **Failed**: {", ".join(summary["failed"])}')
    lines += ['', '| mechanism | wall time (median) | speedup (median) '
              '| wall time (best round) | speedup (best round) '
              '| cores busy (CPU time / wall time) | CPU time per unit |',
              '|---|---|---|---|---|---|---|']
    for name in ('baseline', *MECHANISMS):
        busy = summary.get('busy', {}).get(name)
        cpu = summary.get('cpu_per_unit', {}).get(name)
        cells = []
        for times, speedups in (('median', 'speedup'),
                                ('best', 'speedup_best')):
            value = summary[times].get(name)
            if value is None:
                cells += ['n/a', 'n/a']
            elif name == 'baseline':
                cells += [_fmt_time(value), '1.00x']
            else:
                cells += [_fmt_time(value),
                          f'{summary[speedups][name]:.2f}x']
        cells += ['n/a' if busy is None else f'{busy:.2f}',
                  'n/a' if cpu is None else _fmt_time(cpu)]
        lines.append(f'| {LABELS[name].format(n=workers)} | '
                     + ' | '.join(cells) + ' |')
    lines += ['', '| latency (median) | own-GIL | shared-GIL |',
              '|---|---|---|']
    for op, title in (('ping_pong', 'queue ping-pong of an int between two '
                       'interpreters, round trip'),
                      ('call', 'call(abs, 1) from the main interpreter')):
        cells = [summary['latency_median'].get(f'{op}/{kind}')
                 for kind in ('owngil', 'sharedgil')]
        lines.append(f'| {title} | ' + ' | '.join(
            _fmt_time(value) if value is not None else 'n/a'
            for value in cells) + ' |')
    solo, base = summary['median'].get(SOLO), summary['median'].get(
        'baseline')
    if solo and base and isinstance(workers, int):
        lines += ['', f'One unit in one own-GIL interpreter, nothing else '
                  f'running: {_fmt_time(solo)}, against '
                  f'{_fmt_time(base / workers)} a unit in the baseline '
                  f'({solo / (base / workers):.2f}x its time).']
    ratio = summary.get('vs_processes', {})
    if ratio:
        lines += ['', 'Own-GIL interpreters against processes (their time '
                  'over ours, 1.00x is as fast): '
                  + ', '.join(f'{ratio[kind]:.2f}x {label}'
                              for kind, label in (('median', 'in medians'),
                                                  ('best', 'in best rounds'))
                              if kind in ratio) + '.']
    speedup = summary['speedup_best'].get('owngil')
    lines.append('')
    if speedup is not None:
        lines += [f'Target: own-GIL speedup on {workers} cores >= '
                  f'{SPEEDUP_TARGET:g}x in the best rounds: '
                  f'**{status(speedup)}** ({speedup:.2f}x; in medians '
                  f'{summary["speedup"]["owngil"]:.2f}x).', '']
    return lines


if __name__ == '__main__':
    sys.exit(main())
