"""Write the benchmark table and plots: python -m bench.report DIR.

Read the pyperf JSON files that the cases left in DIR (and run-info.json,
which bench.run writes; DIR/parallel.json, through bench.parallel; and
DIR/pyperformance/, through bench.speed) and
write DIR/results.md, DIR/latency.png and DIR/throughput.png.  Targets
are judged here, PASS or MISS, and a miss is never an error.
"""

import dataclasses
import json
import math
import pathlib
import statistics
import sys

import pyperf

from bench import parallel, speed
from bench.cases.memory import PAYLOAD, memory_figure
from bench.cases.payload import SIZES
from bench.mechanisms import LABELS

# The operations of the latency table and plot, in order, with titles.
OPERATIONS = {
    'create_destroy': 'create + destroy (start + join)',
    'run_pass': 'run("pass") round trip',
    'call_builtin': 'call(abs, 1) round trip',
    'ping_pong': 'queue ping-pong of an int',
    'ping_pong_busy': 'queue ping-pong, main interpreter busy',
    'ints': 'one-way queue, small ints, per item',
    'ints_busy': 'one-way queue, small ints, main interpreter busy',
    'dicts': 'one-way queue, small dicts (pickled), per item',
    'lists': 'one-way queue, small lists (pickled), per item',
    'handles_1000': 'a tuple of 1,000 queue handles, put + get, per handle',
    'handles_32000': 'a tuple of 32,000 queue handles, put + get, per handle',
    f'bytes_{PAYLOAD}': 'one 64 MiB bytes item through a queue',
    'mview_64MiB': 'one 64 MiB memoryview through a queue (no copy)',
    'fanout_sleep': 'fan-out: {workers} x time.sleep(0.01)',
    'fanout_read': 'fan-out: {workers} x read a 4 MiB file',
    'executor_round_trip': 'executor: submit(abs, 1).result() round trip',
    'executor_throughput': 'executor: 10,000 tasks of abs(1), 2 workers, '
                           'per task',
    'executor_1MiB_result': 'executor: a task returning 1 MiB',
    'wakeup': 'GIL wake-up latency, main thread spinning',
    'run_pass_plain': 'run("pass"), no keyword (interrupt case)',
    'run_pass_timeout_none': 'run("pass", timeout=None)',
    'run_pass_timeout_60': 'run("pass", timeout=60)',
    'run_string_pass': '_interpreters.run_string(id, "pass"), under run()',
    'exec_pass_plain': 'concurrent.interpreters exec("pass"), no keyword',
    'exec_pass_timeout_none': 'exec("pass", timeout=None)',
    'exec_pass_timeout_60': 'exec("pass", timeout=60)',
}
# The latency from interrupt() to the caller's exception, per wait kind of
# the code interrupted (bench.cases.interrupt): median and maximum.
INTERRUPT = {
    'busy': 'a busy loop of Python code',
    'sleep': 'time.sleep()',
    'lock': 'threading.Lock.acquire()',
    'event': 'threading.Event.wait()',
    'condition': 'threading.Condition.wait()',
    'queue': 'queue.Queue.get()',
    'our_queue': 'interpreters.Queue.get()',
    'select': 'select.select() on a pipe',
    'selectors': 'selectors.DefaultSelector.select()',
    'socket': 'socket.recv()',
}
INTERRUPT_LIMIT = 0.05
MEMORY = {
    'idle_rss': 'RSS added per idle worker',
    'cycle_rss': 'RSS growth per create/destroy cycle',
}
PEAK = {'peak_64MiB': 'memory peak of a 64 MiB item (x payload)',
        'peak_mview_64MiB': 'memory peak of a 64 MiB memoryview (x payload)'}

OURS = 'interpreters'
COLORS = {
    'interpreters': '#d62728', 'xx': '#ff9896', 'threading': '#1f77b4',
    'futures_thread': '#aec7e8', 'mp_fork': '#2ca02c', 'mp_spawn': '#98df8a',
    'pool_fork': '#9467bd', 'pool_spawn': '#c5b0d5',
    'futures_fork': '#8c564b', 'futures_spawn': '#c49c94',
    'futures_interp': '#e377c2',
    'copy': '#7f7f7f', 'sigint': '#17becf',
}


def load(directory):
    """Return ({benchmark name: figure}, metadata) from directory's files.

    A timing's figure is the median time per loop, in seconds (and for an
    interrupt latency, OP_max/MECH is the largest value and OP_runs/MECH
    the number of values); a memory
    benchmark's is the median over its runs of (last - first) / divisor
    of the run's readings (see bench.cases.memory), in bytes, or in
    multiples of the payload where the run names one.  The metadata is
    that of the first benchmark (machine, python), and 'workers' of the
    fan-out.
    """
    figures = {}
    metadata = {}
    for path in sorted(directory.glob('*.json')):
        # run-info.json and the parallel case's file are not pyperf files.
        if path.name in ('run-info.json', parallel.RESULT_FILE):
            continue
        for bench in pyperf.BenchmarkSuite.load(str(path)):
            name = bench.get_name()
            if bench.get_unit() == 'byte':
                figures[name] = statistics.median(
                    memory_figure(run) for run in bench.get_runs()
                    if run.values)
            else:
                figures[name] = bench.median()
                op, _, mech = name.partition('/')
                if op.startswith('interrupt_'):
                    # Each value is one interruption: its worst counts.
                    figures[f'{op}_max/{mech}'] = max(bench.get_values())
                    figures[f'{op}_runs/{mech}'] = len(bench.get_values())
            if not metadata:
                metadata = dict(bench.get_metadata())
            if 'workers' in bench.get_metadata():
                metadata['workers'] = bench.get_metadata()['workers']
    return figures, metadata


# ---------------------------------------------------------------------------
# Formatting.

def fmt_time(seconds):
    # 0.9996 s reads 1 s, not 1e+03 ms.
    for unit, scale in (('s', 1), ('ms', 1e-3), ('us', 1e-6)):
        if seconds >= scale * 0.9995:
            return f'{seconds / scale:.3g} {unit}'
    return f'{seconds / 1e-9:.3g} ns'


def fmt_bytes(size):
    sign = '-' if size < 0 else ''
    size = abs(size)
    for unit, scale in (('GiB', 1 << 30), ('MiB', 1 << 20), ('KiB', 1 << 10)):
        if size >= scale:
            return f'{sign}{size / scale:.3g} {unit}'
    return f'{sign}{size:.0f} B'


def fmt_ratio(ratio):
    if 0 < ratio < 0.1:
        return f'{ratio:.2g}x'
    return f'{ratio:.2f}x' if ratio < 10 else f'{ratio:.3g}x'


def size_label(size):
    return fmt_bytes(size).replace('.0 ', ' ')


# ---------------------------------------------------------------------------
# Targets.

@dataclasses.dataclass
class Target:
    """Ours measured against others: ratio = ours / other (time, memory).

    other lists the names to compare with; the best (smallest) of them
    counts.  A throughput target inverts the ratio (other / ours), so that
    "at least" reads naturally.  Without other, ours is judged absolute.
    """
    title: str
    ours: str
    other: tuple = ()
    limit: float = None
    most: bool = True
    aim: float = None
    throughput: bool = False
    unit: str = 'time'
    note: str = ''


TARGETS = (
    Target('create() + destroy() of an idle interpreter',
           'create_destroy/interpreters', ('create_destroy/xx',), 1.0,
           aim=0.6),
    Target('run("pass") round trip', 'run_pass/interpreters',
           ('run_pass/xx',), 0.35),
    Target('call() of a builtin with one int, vs xx run("pass")',
           'call_builtin/interpreters', ('run_pass/xx',), 0.5),
    Target('queue ping-pong, vs queue.Queue between threads',
           'ping_pong/interpreters', ('ping_pong/threading',), 1.0),
    Target('queue ping-pong, vs multiprocessing.Queue',
           'ping_pong/interpreters',
           ('ping_pong/mp_fork', 'ping_pong/mp_spawn'), 0.3),
    Target('one-way throughput of small ints, vs queue.Queue',
           'ints/interpreters', ('ints/threading',), 0.5, most=False,
           throughput=True),
    Target('one-way throughput of small ints, vs multiprocessing.Queue',
           'ints/interpreters', ('ints/mp_fork', 'ints/mp_spawn'), 5.0,
           most=False, throughput=True),
    Target('one-way throughput of small dicts, vs queue.Queue',
           'dicts/interpreters', ('dicts/threading',), 0.25, most=False,
           throughput=True, note='queue.Queue copies nothing'),
    Target('one-way throughput of small dicts, vs multiprocessing.Queue',
           'dicts/interpreters', ('dicts/mp_fork', 'dicts/mp_spawn'), 2.0,
           most=False, throughput=True),
    Target('one-way throughput of small lists, vs queue.Queue',
           'lists/interpreters', ('lists/threading',), 0.25, most=False,
           throughput=True, note='queue.Queue copies nothing'),
    Target('one-way throughput of small lists, vs multiprocessing.Queue',
           'lists/interpreters', ('lists/mp_fork', 'lists/mp_spawn'), 2.0,
           most=False, throughput=True),
    Target('queue handles in one item: time per handle, 32,000 vs 1,000',
           'handles_32000/interpreters', ('handles_1000/interpreters',),
           2.0, note='linear encoding keeps it flat'),
    Target('one 64 MiB bytes item, vs one in-process copy',
           f'bytes_{PAYLOAD}/interpreters', (f'bytes_{PAYLOAD}/copy',), 2.5),
    Target('one 64 MiB bytes item, memory peak (x payload)',
           'peak_64MiB/interpreters', (), 3.0, unit='ratio',
           note='peak RSS above the RSS with the item built'),
    Target('one 64 MiB memoryview, vs one in-process copy',
           'mview_64MiB/interpreters', ('mview_64MiB/copy',), 0.01,
           note='zero-copy'),
    Target('one 64 MiB memoryview, memory peak (x payload)',
           'peak_mview_64MiB/interpreters', (), 0.01, unit='ratio',
           note='no payload-sized memory'),
    Target('RSS added per idle interpreter (100 created)',
           'idle_rss/interpreters', ('idle_rss/xx',), 1.0, aim=0.7,
           unit='bytes'),
    Target('RSS growth per create/destroy cycle, after warm-up',
           'cycle_rss/interpreters', (), 1024, unit='bytes'),
    Target('fan-out, N interpreters call time.sleep(0.01), vs N threads',
           'fanout_sleep/interpreters', ('fanout_sleep/threading',), 1.2),
    Target('fan-out, N interpreters read a file, vs N threads',
           'fanout_read/interpreters', ('fanout_read/threading',), 1.2),
    Target('GIL wake-up latency of a sleeping thread, vs a plain thread',
           'wakeup/interpreters', ('wakeup/threading',),
           note='reported, no target'),
    Target('run("pass", timeout=None), vs run("pass")',
           'run_pass_timeout_none/interpreters',
           ('run_pass_plain/interpreters',), 1.05,
           note='no timeout costs nothing; noise is about 5 %'),
    Target('concurrent.interpreters exec("pass", timeout=None), '
           'vs exec("pass")',
           'exec_pass_timeout_none/interpreters',
           ('exec_pass_plain/interpreters',), 1.05,
           note='no timeout costs nothing; noise is about 5 %'),
    Target('run("pass"), vs the C function it calls '
           '(_interpreters.run_string)',
           'run_pass_plain/interpreters', ('run_string_pass/interpreters',),
           note='reported, no target: the cost of the Python layer'),
    Target('run("pass", timeout=60), vs run("pass")',
           'run_pass_timeout_60/interpreters',
           ('run_pass_plain/interpreters',), note='reported, no target'),
) + tuple(
    Target(f'interrupt() latency, code in {title} (worst run)',
           f'interrupt_{kind}_max/interpreters', (), INTERRUPT_LIMIT)
    for kind, title in INTERRUPT.items()
) + tuple(
    Target(f'InterpreterPoolExecutor, {title}, vs {against}',
           f'{op}/futures_interp', tuple(f'{op}/{mech}' for mech in mechs),
           throughput=throughput, note='reported, no target')
    for op, title, throughput in (
        ('executor_round_trip', 'round trip of abs(1)', False),
        ('executor_throughput', '10,000 tasks of abs(1)', True),
        ('executor_1MiB_result', 'a task returning 1 MiB', False))
    for against, mechs in (
        ('ThreadPoolExecutor', ('futures_thread',)),
        ('ProcessPoolExecutor', ('futures_fork', 'futures_spawn')))
)


def _fmt(value, unit):
    if unit == 'bytes':
        return fmt_bytes(value)
    if unit == 'ratio':
        return fmt_ratio(value)
    return fmt_time(value)


def judge(target, figures):
    """Return the cells of target's row in the targets table."""
    ours = figures.get(target.ours)
    others = [(figures[name], name) for name in target.other
              if name in figures]
    if target.other and others:
        other, other_name = min(others)
        op, mech = other_name.split('/')
        # Ours against ours (another size): name the operation.
        label = op if mech == OURS else LABELS[mech]
        against = f'{label}: {_fmt(other, target.unit)}'
    else:
        other = None
        against = '' if not target.other else 'n/a'
    if ours is None or (target.other and other is None):
        return [target.title, 'n/a', against, 'n/a', _limit(target), 'n/a']
    if target.other:
        ratio = other / ours if target.throughput else ours / other
        measured = fmt_ratio(ratio)
    else:
        ratio = ours
        measured = _fmt(ours, target.unit)
    if target.limit is None:
        status = 'info'
    else:
        met = ratio <= target.limit if target.most else ratio >= target.limit
        status = 'PASS' if met else 'MISS'
        if met and target.aim is not None and ratio <= target.aim:
            status = 'PASS (aim met)'
    return [target.title, _fmt(ours, target.unit), against, measured,
            _limit(target), status]


def _limit(target):
    if target.limit is None:
        return target.note or '-'
    sign = '<=' if target.most else '>='
    what = ('throughput' if target.throughput else '') if target.other else ''
    if target.other:
        text = f'{what} {sign} {target.limit:g}x'.strip()
    elif target.unit == 'bytes':
        text = f'{sign} {fmt_bytes(target.limit)}'
    elif target.unit == 'time':
        text = f'{sign} {fmt_time(target.limit)}'
    else:
        text = f'{sign} {target.limit:g}x'
    if target.aim is not None:
        text += f', aim <= {target.aim:g}x'
    if target.note:
        text += f' ({target.note})'
    return text


# ---------------------------------------------------------------------------
# The Markdown file.

def _speed_row(summary):
    """The targets table's row of the pyperformance comparison."""
    if summary is None:
        return speed.target_row(None, 0)
    return speed.target_row(summary['geomean'], len(summary['ratios']))


def _table(header, rows):
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '|'.join('---' for _ in header) + '|']
    lines += ['| ' + ' | '.join(str(cell) for cell in row) + ' |'
              for row in rows]
    return '\n'.join(lines)


def _by_operation(figures, prefix):
    """Return [(mech, figure)] of the benchmarks named prefix/MECH."""
    found = [(name.split('/', 1)[1], value)
             for name, value in figures.items()
             if name.split('/', 1)[0] == prefix]
    order = list(LABELS)
    return sorted(found, key=lambda item: order.index(item[0]))


def _figure_rows(figures, operations, fmt):
    rows = []
    for op, title in operations.items():
        found = _by_operation(figures, op)
        ours = dict(found).get(OURS)
        for mech, value in found:
            ratio = (fmt_ratio(value / ours) if ours and value > 0
                     and mech != OURS else '')
            rows.append([title, LABELS[mech], fmt(value), ratio])
            title = ''
    return rows


def _interrupt_rows(figures):
    rows = []
    for kind, title in INTERRUPT.items():
        median = figures.get(f'interrupt_{kind}/{OURS}')
        worst = figures.get(f'interrupt_{kind}_max/{OURS}')
        if median is None:
            continue
        status = 'PASS' if worst <= INTERRUPT_LIMIT else 'MISS'
        sigint = [figures.get(f'interrupt_{kind}{suffix}/sigint')
                  for suffix in ('', '_max')]
        rows.append([title, fmt_time(median), fmt_time(worst),
                     figures.get(f'interrupt_{kind}_runs/{OURS}', '?'),
                     f'<= {fmt_time(INTERRUPT_LIMIT)}: {status}',
                     *[fmt_time(value) if value else 'n/a'
                       for value in sigint]])
    return rows


def markdown(figures, metadata, info, operations, speed_summary=None,
             parallel_summary=None):
    machine = info.get('machine') or {
        'cpu': metadata.get('cpu_model_name', 'unknown'),
        'cores': metadata.get('cpu_count', '?'),
        'kernel': metadata.get('platform', 'unknown'),
    }
    date = info.get('date') or metadata.get('date', 'unknown')
    python = (info.get('python') or metadata.get('python_version', '?'))
    lines = [
        '# Benchmarks: interpreters and the other ways to run work elsewhere',
        '',
        f'- Date: {date}',
        f'- Machine: {machine["cpu"]}, {machine["cores"]} cores, '
        f'{machine["kernel"]}',
        f'- Python: {python.splitlines()[0]}'
        + (f' (repository {info["revision"]})' if info.get('revision')
           else ''),
        '- One run, one binary: every figure below comes from the same '
        'run of the same build.',
    ]
    if info.get('quick'):
        lines.append('- **Quick run** (`make bench-quick`): one value per '
                     'benchmark, smaller counts; the figures only show '
                     'that everything runs.')
    if info.get('duration') is not None:
        lines.append(f'- Duration of the run: {info["duration"]} s')
    if info.get('failed'):
        failed = info.get('failed_benchmarks') or info['failed']
        lines.append(f'- **Failed**: {", ".join(failed)}; their figures '
                     'are missing (n/a).')
    # Only the cases that leave pyperf files say whether the module was
    # importable: a run of the parallel or pyperformance case alone has
    # none.
    if figures and not any(name.endswith('/' + OURS) for name in figures):
        lines.append('- **The interpreters module was not importable in '
                     'this build: its figures are n/a.**')
    lines += [
        '',
        '## Targets',
        '',
        'Ratios are interpreters / the other, so lower is better, except '
        'for throughput (the other\'s time per item / ours: higher is '
        'better).  Against "multiprocessing", the faster of fork and '
        'spawn counts.  A MISS is reported, never an error.',
        '',
        _table(['benchmark', 'interpreters', 'compared with', 'ratio',
                'target', 'status'],
               [judge(target, figures) for target in TARGETS]
               + [parallel.target_row(parallel_summary),
                  _speed_row(speed_summary)]),
        '',
        *parallel.markdown(parallel_summary),
        *speed.markdown(speed_summary),
        '## Medians',
        '',
        'Time per operation (median); the last column is that figure '
        'divided by the interpreters figure.',
        '',
        _table(['operation', 'mechanism', 'median', '/ interpreters'],
               _figure_rows(figures, operations, fmt_time)),
        '',
        '## Interrupt latency',
        '',
        'From `interrupt()`, called in the main thread, to the moment the '
        'thread that runs the code in the subinterpreter has its '
        '`RunFailedError` (naming `KeyboardInterrupt`) in hand, by what '
        'the code was doing; one interruption per value.  For '
        'comparison, Ctrl-C: the same code waits in the main thread of '
        'the main interpreter, and another thread sends it `SIGINT`.',
        '',
        _table(['code interrupted', 'median', 'max', 'runs', 'target',
                'Ctrl-C in the main thread: median', 'max'],
               _interrupt_rows(figures)),
        '',
        '## Memory',
        '',
        _table(['figure', 'mechanism', 'median', '/ interpreters'],
               _figure_rows(figures, MEMORY, fmt_bytes)
               + _figure_rows(figures, PEAK, fmt_ratio)),
        '',
        'Idle workers: 100 interpreters or threads, 20 processes (for '
        'processes: the parent\'s RSS growth plus each child\'s unique '
        'memory, USS).  Memory peak: the peak RSS while the item crosses '
        'and is dropped, above the RSS with the item already built, in '
        'multiples of its size; for processes, the receiver\'s peak is '
        'added.',
        '',
        '## Queue throughput against payload size',
        '',
        'Time per bytes item, one way (the plot shows bytes per second).',
        '',
    ]
    mechs = ['copy', *[m for m in ('interpreters', 'xx', 'threading',
                                   'mp_fork', 'mp_spawn')]]
    rows = []
    for size in SIZES:
        cells = [size_label(size)]
        for mech in mechs:
            value = figures.get(f'bytes_{size}/{mech}')
            cells.append(fmt_time(value) if value else 'n/a')
        rows.append(cells)
    lines += [_table(['payload', *[LABELS[m] for m in mechs]], rows), '',
              '![latency](latency.png)', '',
              '![throughput](throughput.png)', '']
    return '\n'.join(lines)


# ---------------------------------------------------------------------------
# Plots.

def plot_latency(figures, operations, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    ops = [(op, title) for op, title in operations.items()
           if _by_operation(figures, op)]
    cols = 3
    rows = max(1, math.ceil(len(ops) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(15, 3.2 * rows),
                             squeeze=False)
    for ax in axes.flat[len(ops):]:
        ax.axis('off')
    for ax, (op, title) in zip(axes.flat, ops):
        found = _by_operation(figures, op)
        labels = [LABELS[mech] for mech, _ in found]
        values = [value for _, value in found]
        ax.barh(range(len(found)), values,
                color=[COLORS.get(mech, 'gray') for mech, _ in found])
        ax.set_yticks(range(len(found)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale('log')
        ax.set_title(title, fontsize=10)
        ax.set_xlabel('seconds (log)', fontsize=8)
        ax.tick_params(axis='x', labelsize=8)
        for y, value in enumerate(values):
            ax.text(value, y, ' ' + fmt_time(value), va='center',
                    fontsize=7)
        ax.set_xlim(min(values) / 3, max(values) * 30)
    fig.suptitle('Latency per operation (median, lower is better)')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_throughput(figures, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 6))
    for mech in ('interpreters', 'xx', 'threading', 'mp_fork', 'mp_spawn',
                 'copy'):
        points = [(size, size / figures[f'bytes_{size}/{mech}'])
                  for size in SIZES if f'bytes_{size}/{mech}' in figures]
        if not points:
            continue
        ax.plot(*zip(*points), marker='o', label=LABELS[mech],
                color=COLORS[mech],
                linestyle='--' if mech == 'copy' else '-',
                linewidth=2.5 if mech == OURS else 1.5)
    ax.set_xscale('log', base=2)
    ax.set_yscale('log')
    ax.set_xticks(SIZES, [size_label(size) for size in SIZES])
    ax.set_xlabel('payload size (bytes item)')
    ax.set_ylabel('throughput, bytes per second (log)')
    ax.set_title('One-way queue throughput against payload size')
    ax.grid(True, which='major', alpha=0.3)
    if ax.lines:
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print('usage: python -m bench.report DIR', file=sys.stderr)
        return 2
    directory = pathlib.Path(argv[0])
    figures, metadata = load(directory)
    speed_summary = speed.summarize(directory)
    parallel_summary = parallel.load(directory)
    if not figures and speed_summary is None and parallel_summary is None:
        print(f'error: no benchmark results in {directory}', file=sys.stderr)
        return 1
    info_path = directory / 'run-info.json'
    info = json.loads(info_path.read_text()) if info_path.exists() else {}
    workers = metadata.get('workers', 'N')
    operations = {op: title.format(workers=workers)
                  for op, title in OPERATIONS.items()}
    (directory / 'results.md').write_text(
        markdown(figures, metadata, info, operations, speed_summary,
                 parallel_summary))
    plot_latency(figures, operations, directory / 'latency.png')
    plot_throughput(figures, directory / 'throughput.png')
    print(f'wrote {directory / "results.md"}, latency.png, throughput.png')
    return 0


if __name__ == '__main__':
    sys.exit(main())
