"""Single-interpreter speed against pristine 3.11.2: figures and report.

The `pyperformance` case (bench.speed_run) runs a subset of pyperformance
with our release build and with pristine 3.11.2 built the same way, and
leaves in DIR/pyperformance/ one pyperf JSON file per interpreter
(ours.json, pristine.json), pyperf's compare_to output (compare_to.txt)
and what the run was (info.json).  This module reads them back and writes
the section of results.md; it uses the standard library only, so that the
figures can be computed (and tested) without pyperf.
"""

import json
import math
import pathlib
import statistics

# Where, under a results directory, the case leaves its files.
SUBDIR = 'pyperformance'
OURS_FILE = 'ours.json'
PRISTINE_FILE = 'pristine.json'
COMPARE_FILE = 'compare_to.txt'
INFO_FILE = 'info.json'

# The subset: pyperformance benchmarks (names for its -b option) that need
# no third-party package at all, each with what it mostly exercises.  One
# or two per kind of work that a change of the eval loop, the thread
# state's lookup or reference counting could slow down, and all of them
# run in about 5 minutes per interpreter on 2 cores (bench/README.md).
SUBSET = {
    'richards': 'method calls, attribute access on small objects',
    'deltablue': 'calls and polymorphic methods over an object graph',
    'go': 'object-heavy search: many small instances and lists',
    'raytrace': 'float arithmetic through methods of small objects',
    'chaos': 'float arithmetic, list and object churn',
    'float': 'float objects: allocation and math module calls',
    'nbody': 'float arithmetic in tight loops over tuples and lists',
    'spectral_norm': 'function calls in generator expressions',
    'generators': 'generator creation and resumption',
    'coroutines': 'recursive coroutines (await chains)',
    'nqueens': 'generator expressions, permutations, sets',
    'unpack_sequence': 'bytecode dispatch: tuple and list unpacking',
    'deepcopy': 'recursive calls over dicts, lists and instances',
    'pickle_pure_python': 'the pure-Python pickler: calls and bytes',
    'json_dumps': 'the json C accelerator building str',
    'json_loads': 'the json C accelerator parsing str',
    'regex_v8': 're on strings (V8 regex benchmark)',
    'regex_effbot': 're compile cache and matching',
    'logging': 'str formatting through logging handlers',
    'gc_collect': 'the cycle collector over many objects',
}

# The target of issue 13: our build at most 2 % slower than pristine, in
# the geometric mean of the per-benchmark ratios.
LIMIT = 1.02
TARGET_TITLE = ('single-interpreter speed: geometric mean of the '
                'pyperformance subset, vs pristine 3.11.2')


def load_values(path):
    """Return {benchmark name: [values]} of a pyperf JSON file.

    The values are pyperf's (seconds per loop), of every run that has
    values; calibration runs, which have only warm-ups, add none.  A
    benchmark script may record several benchmarks (logging does).
    """
    data = json.loads(pathlib.Path(path).read_text())
    found = {}
    for bench in data['benchmarks']:
        name = bench.get('metadata', {}).get('name') \
            or data['metadata']['name']
        values = found.setdefault(name, [])
        for run in bench['runs']:
            values.extend(run.get('values', ()))
    return {name: values for name, values in found.items() if values}


def load_averages(path):
    """Return the 1-minute load averages that pyperf recorded with the
    runs of a pyperf file (one per run that has values)."""
    data = json.loads(pathlib.Path(path).read_text())
    found = []
    for bench in data['benchmarks']:
        # pyperf keeps a figure common to all runs one level up.
        common = bench.get('metadata', {}).get(
            'load_avg_1min', data.get('metadata', {}).get('load_avg_1min'))
        for run in bench['runs']:
            if run.get('values'):
                load = run.get('metadata', {}).get('load_avg_1min', common)
                if load is not None:
                    found.append(load)
    return found


def ratios(ours, pristine, summary=statistics.median):
    """Return {name: (pristine figure, our figure, ours / pristine)}.

    ours and pristine map benchmark names to lists of values; the figure
    of each is summary(values), the median by default: on a shared
    machine the values that another process's load slowed down fall on
    one side, which moves the mean and not the median.  Only the
    benchmarks that both interpreters ran are compared, in name order.
    """
    result = {}
    for name in sorted(set(ours) & set(pristine)):
        theirs, mine = summary(pristine[name]), summary(ours[name])
        if theirs <= 0 or mine <= 0:
            raise ValueError(f'{name}: a time figure must be positive')
        result[name] = (theirs, mine, mine / theirs)
    return result


def geometric_mean(values):
    """Return the geometric mean of positive numbers (ratios)."""
    values = list(values)
    if not values:
        raise ValueError('geometric mean of no values')
    if any(value <= 0 for value in values):
        raise ValueError('geometric mean of a non-positive value')
    return math.exp(math.fsum(math.log(value) for value in values)
                    / len(values))


def status(geomean, limit=LIMIT):
    """Return PASS or MISS for a geometric mean of ours / pristine."""
    return 'PASS' if geomean <= limit else 'MISS'


def target_row(geomean, count, limit=LIMIT):
    """Return the cells of the target's row in the targets table, as
    bench.report's Target rows: title, ours, compared with, ratio,
    target, status."""
    if geomean is None:
        return [TARGET_TITLE, 'n/a', 'pristine 3.11.2', 'n/a',
                f'geometric mean <= {limit:g}x pristine', 'n/a']
    return [TARGET_TITLE, f'{count} benchmarks', 'pristine 3.11.2',
            f'{geomean:.3f}x', f'geometric mean <= {limit:g}x pristine',
            status(geomean, limit)]


def summarize(directory):
    """Return the figures of DIR/pyperformance/, or None if it has none.

    A dict: 'ratios' as ratios() returns it (medians), 'geomean' of those,
    'geomean_mean', the same with means (what pyperf compare_to prints),
    'missing', the benchmarks that either interpreter lacks, 'load',
    the 1-minute load averages recorded with the runs of both, and
    'info', the run's description (info.json) if any.
    """
    where = pathlib.Path(directory) / SUBDIR
    ours_path, pristine_path = where / OURS_FILE, where / PRISTINE_FILE
    if not ours_path.is_file() or not pristine_path.is_file():
        return None
    ours, pristine = load_values(ours_path), load_values(pristine_path)
    by_median = ratios(ours, pristine)
    by_mean = ratios(ours, pristine, statistics.fmean)
    info_path = where / INFO_FILE
    return {
        'ratios': by_median,
        'geomean': (geometric_mean(r for _, _, r in by_median.values())
                    if by_median else None),
        'geomean_mean': (geometric_mean(r for _, _, r in by_mean.values())
                         if by_mean else None),
        'missing': sorted(set(ours) ^ set(pristine)),
        'load': load_averages(ours_path) + load_averages(pristine_path),
        'info': (json.loads(info_path.read_text())
                 if info_path.is_file() else {}),
    }


def _fmt_time(seconds):
    for unit, scale in (('s', 1), ('ms', 1e-3), ('us', 1e-6)):
        if seconds >= scale * 0.9995:
            return f'{seconds / scale:.3g} {unit}'
    return f'{seconds / 1e-9:.3g} ns'


def _script_of(name, info):
    """Return the SUBSET entry that recorded benchmark name."""
    for script, names in info.get('scripts', {}).items():
        if name in names:
            return script
    return name


def markdown(summary):
    """Return the lines of results.md's section (summary: summarize())."""
    lines = ['## Single-interpreter speed against pristine 3.11.2', '']
    if summary is None:
        return lines + ['Not run (the `pyperformance` case: `make bench` or '
                        '`make bench-pyperformance`).', '']
    info = summary['info']
    lines += [
        'pyperformance, ours (the release build) and pristine 3.11.2 built '
        'with the same configure options and compiler flags, measured in '
        'the same run, one benchmark at a time, alternating which goes '
        'first (bench/README.md).  Figures are medians of CPU time per '
        'loop; the ratio is ours / pristine, so lower is better.  '
        f'pyperf compare_to\'s output (means) is in `{SUBDIR}/'
        f'{COMPARE_FILE}`.',
        '',
    ]
    for key, label in (('date', 'Date'), ('pyperformance', 'Version'),
                       ('mode', 'Mode'), ('timer', 'Timer'),
                       ('order', 'Order'),
                       ('duration', 'Duration (s)'),
                       ('flags', 'Build flags')):
        if info.get(key) is not None:
            lines.append(f'- {label}: {info[key]}')
    if summary.get('load'):
        load = summary['load']
        cores = info.get('cores')
        lines.append(
            f'- Load average (1 min) during the runs: median '
            f'{statistics.median(load):.1f}, max {max(load):.1f}'
            + (f' on {cores} cores: above {cores}, other processes '
               'shared the CPUs (CPU time leaves out their turns, not '
               'their effect on the caches)' if cores else ''))
    if info.get('failed'):
        lines.append(f'- **Failed**: {", ".join(info["failed"])}')
    if summary['missing']:
        lines.append(f'- **Measured with one interpreter only**: '
                     f'{", ".join(summary["missing"])}')
    lines.append('')
    rows = []
    for name, (theirs, mine, ratio) in summary['ratios'].items():
        script = _script_of(name, info)
        rows.append([name, SUBSET.get(script, ''), _fmt_time(theirs),
                     _fmt_time(mine), f'{ratio:.3f}x'])
    lines += ['| benchmark | exercises | pristine | ours | ours / pristine |',
              '|---|---|---|---|---|']
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    lines.append('')
    geomean = summary['geomean']
    if geomean is not None:
        lines += [
            f'Geometric mean of {len(summary["ratios"])} ratios: '
            f'**{geomean:.3f}x** (of means, as compare_to: '
            f'{summary["geomean_mean"]:.3f}x).  '
            f'Target: geometric mean <= {LIMIT:g}x pristine: '
            f'**{status(geomean)}**.',
            '',
        ]
    return lines
