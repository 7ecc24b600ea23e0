"""The `pyperformance` case: our release build against pristine 3.11.2.

bench.run calls run() in its own process (the host's python3): it builds
pristine 3.11.2 if needed (driver.pristine, the build that `make
fullsuite-baseline` uses), checks that both builds were configured and
compiled with the same options, then runs each benchmark of
bench.speed.SUBSET with pyperformance on one interpreter and at once on
the other, alternating which goes first, and leaves the files that
bench.speed reads in OUT/pyperformance/.

pyperformance itself runs in build/pyperformance-venv, a virtual
environment of our build holding pyperformance-requirements.txt; it
makes one virtual environment per interpreter under build/pyperformance/
for the benchmarks (pyperf and psutil only: the subset needs no other
package).
"""

import fcntl
import json
import os
import subprocess
import time

from driver import build as build_mod
from driver import config, git, pristine, source, tree, venv

from bench import speed

REQUIREMENTS = config.REPO / 'bench' / 'pyperformance-requirements.txt'

# The benchmarks are timed in CPU time: this directory's sitecustomize
# makes time.perf_counter time.process_time where the variable says so.
CPU_TIME_DIR = config.REPO / 'bench' / 'cputime'
TIMER_ENV = {'BENCH_SPEED_TIMER': 'process_time',
             'PYTHONPATH': str(CPU_TIME_DIR)}
TIMER = ('CPU time of the benchmark process (time.process_time, through '
         'bench/cputime/sitecustomize.py), not wall time')

# The build variables that must be the same in both builds, once each
# build's own source and build directories are taken out of them.
BUILD_VARS = ('CONFIG_ARGS', 'CC', 'OPT', 'CFLAGS', 'CFLAGS_NODIST',
              'PY_CFLAGS', 'PY_CFLAGS_NODIST', 'PY_CORE_CFLAGS',
              'LDFLAGS', 'LDFLAGS_NODIST', 'PY_LDFLAGS', 'PY_CORE_LDFLAGS',
              'LIBS', 'MODLIBS', 'SYSLIBS')

_BUILD_VARS_CODE = (
    'import json, sysconfig\n'
    'print(json.dumps({"vars": {name: sysconfig.get_config_var(name) for '
    f'name in {BUILD_VARS!r}}}, "dirs": [sysconfig.get_config_var("srcdir"),'
    ' sysconfig.get_config_var("abs_srcdir"), '
    'sysconfig.get_config_var("abs_builddir")]}))\n')

# pyperf's settings.  --fast: 10 worker processes, each 1 warm-up and 2
# values (20 values; loops calibrated to 100 ms a value).  pyperf's
# defaults (20 processes x 3 values) took 20-35 s per benchmark and
# interpreter on this 2-core machine, about 25 minutes for the subset with
# both, far over the 15 minutes the run may take, and fewer benchmarks
# would cover less of the interpreter: a geometric mean over more
# benchmarks, alternating which interpreter goes first, averages out more
# of what differs between two runs than more values of each.  The quick
# mode only proves that everything runs.
MODES = {
    False: ('pyperf --fast: 10 processes x 2 values per benchmark and '
            'interpreter', ['--fast']),
    True: ('quick: one value per benchmark (the figures mean nothing)',
           ['--debug-single-value']),
}

# Seconds one benchmark may take with one interpreter before pyperformance
# kills it and reports it as failed.
TIMEOUT = 600


class SpeedError(Exception):
    """The comparison cannot be made: a build is missing or differs."""


def build_pristine(build_root):
    """Build pristine 3.11.2 (once: make is incremental); return its python.

    Under the build directory's lock, as the Makefile takes it: builds
    share build/src's git repository.
    """
    build_root.mkdir(parents=True, exist_ok=True)
    with open(build_root / '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return pristine.build(build_root)
        except (source.SourceError, tree.TreeError, git.GitError,
                build_mod.BuildError) as exc:
            raise SpeedError(f'pristine 3.11.2 could not be built: {exc}')


def build_vars(python):
    """Return python's build variables, its directories replaced by
    placeholders so that two builds of different trees compare equal."""
    out = subprocess.run([str(python), '-S', '-c', _BUILD_VARS_CODE],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    dirs = sorted({d for d in data['dirs'] if d}, key=len, reverse=True)
    found = {}
    for name, value in data['vars'].items():
        if isinstance(value, str):
            for number, directory in enumerate(dirs):
                value = value.replace(directory, f'<dir{number}>')
        found[name] = value
    return found


def check_same_build(ours, theirs):
    """Raise SpeedError unless both pythons were configured and compiled
    with the same options; return a line that says what was compared."""
    mine, pristine_vars = build_vars(ours), build_vars(theirs)
    differ = [name for name in BUILD_VARS
              if mine.get(name) != pristine_vars.get(name)]
    if differ:
        lines = [f'  {name}: ours {mine.get(name)!r}, pristine '
                 f'{pristine_vars.get(name)!r}' for name in differ]
        raise SpeedError('ours and pristine 3.11.2 were not built alike:\n'
                         + '\n'.join(lines))
    args = mine.get('CONFIG_ARGS') or 'none'
    return (f'same in both (configure arguments: {args}; CFLAGS: '
            f'{mine.get("CFLAGS")})')


def _pip_environ():
    """Return the names of the pip settings in our environment.

    pyperformance runs pip with only HOME and PATH unless told otherwise:
    the settings that make pip work here (an index, certificates) must be
    passed on by name.
    """
    return sorted(name for name in os.environ if name.startswith('PIP_'))


def _names(path):
    return set(speed.load_values(path)) if path.is_file() else set()


def calibrated_loops(path, name):
    """Return the loops per value that pyperf used for benchmark name in
    the pyperf file at path, or None.

    pyperf keeps a figure common to all runs in the benchmark's metadata,
    or in the file's when it is common to all benchmarks, or else in each
    run's.
    """
    data = json.loads(path.read_text())
    for bench in data['benchmarks']:
        metadata = bench.get('metadata', {})
        if metadata.get('name') != name:
            continue
        if metadata.get('loops'):
            return metadata['loops']
        per_run = {run.get('metadata', {}).get('loops')
                   for run in bench['runs'] if run.get('values')} - {None}
        if len(per_run) == 1:
            return per_run.pop()
        return data.get('metadata', {}).get('loops')
    return None


def same_loops_file(first, script, names, dest):
    """Write, for pyperformance's --same-loops, the loops that the first
    interpreter calibrated for script; return dest, or None if it cannot
    be used.

    pyperformance looks the loops up by the script's name and passes them
    to all the benchmarks of the script: only a script that records one
    benchmark, of its own name, can be given them (the second interpreter
    calibrates the others itself).  A file of its own, because in a
    file that holds one benchmark pyperf moves the loops to the file's
    metadata, where pyperformance does not look.
    """
    if names != [script]:
        return None
    loops = calibrated_loops(first, script)
    if not loops:
        return None
    dest.write_text(json.dumps({
        'metadata': {},
        'benchmarks': [{'metadata': {'name': script, 'loops': loops},
                        'runs': []}]}))
    return dest


def _order(index, interpreters):
    """Which interpreter goes first alternates from one benchmark to the
    next: a machine that slows down or speeds up during the run, or a
    first run that warms a cache for the second, favours neither."""
    return interpreters if index % 2 == 0 else interpreters[::-1]


def run(build_root, out, quick=False, scripts=tuple(speed.SUBSET)):
    """Run the comparison into out/pyperformance/; return the names of the
    benchmarks that failed ('SCRIPT/ours' or 'SCRIPT/pristine')."""
    ours = (build_root / 'release' / 'python').resolve()
    theirs = build_pristine(build_root).resolve()
    flags = check_same_build(ours, theirs)
    try:
        vpython = venv.ensure(ours, build_root / 'pyperformance-venv',
                              [REQUIREMENTS])
    except venv.VenvError as exc:
        raise SpeedError(str(exc))
    version = subprocess.run(
        [str(vpython), '-m', 'pyperformance', '--version'],
        capture_output=True, text=True).stdout.strip()

    # pyperformance runs in another directory: absolute paths.
    where = out.resolve() / speed.SUBDIR
    where.mkdir(parents=True, exist_ok=True)
    for name in (speed.OURS_FILE, speed.PRISTINE_FILE, speed.COMPARE_FILE,
                 speed.INFO_FILE):
        (where / name).unlink(missing_ok=True)
    # pyperformance makes its virtual environments in the current
    # directory: keep them in the build directory.
    work = build_root / 'pyperformance'
    work.mkdir(parents=True, exist_ok=True)
    log_path = work / 'run.log'
    mode, mode_args = MODES[bool(quick)]
    common = ['run', '--timeout', str(TIMEOUT), *mode_args]
    # pyperf passes on to its worker processes only the variables it is
    # told to.
    common += ['--inherit-environ',
               ','.join(_pip_environ() + sorted(TIMER_ENV))]
    env = dict(os.environ, **TIMER_ENV)
    interpreters = (('ours', ours, where / speed.OURS_FILE),
                    ('pristine', theirs, where / speed.PRISTINE_FILE))

    started, wall = time.monotonic(), time.time()
    failed = []
    recorded = {}
    with open(log_path, 'w') as log:
        for index, script in enumerate(scripts):
            first = None
            for label, python, path in _order(index, interpreters):
                before = _names(path)
                cmd = [str(vpython), '-m', 'pyperformance', *common,
                       '--python', str(python), '-b', script,
                       '--append', str(path)]
                loops = (same_loops_file(first, script, recorded[script],
                                         work / 'loops.json')
                         if first is not None else None)
                if loops is not None:
                    # The loops the first interpreter calibrated: both
                    # time the same work per value.
                    cmd += ['--same-loops', str(loops)]
                log.write(f'\n$ {" ".join(cmd)}\n')
                log.flush()
                begun = time.monotonic()
                proc = subprocess.run(cmd, cwd=work, env=env, stdout=log,
                                      stderr=subprocess.STDOUT)
                added = sorted(_names(path) - before)
                ok = proc.returncode == 0 and added
                failure = '' if ok else f', FAILED (see {log_path})'
                print(f'   {script} ({label}): '
                      f'{time.monotonic() - begun:.0f} s{failure}',
                      flush=True)
                if not ok:
                    failed.append(f'{script}/{label}')
                    continue
                recorded.setdefault(script, added)
                if first is None:
                    first = path

    info = {
        'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(wall)),
        'pyperformance': version,
        'mode': mode,
        'timer': TIMER,
        'order': 'one benchmark at a time, both interpreters, alternating '
                 'which goes first; the second uses the loops the first '
                 'calibrated',
        'flags': flags,
        'cores': os.cpu_count(),
        'duration': round(time.monotonic() - started),
        'scripts': recorded,
        'failed': failed,
    }
    (where / speed.INFO_FILE).write_text(json.dumps(info, indent=2) + '\n')
    if (where / speed.OURS_FILE).is_file() \
            and (where / speed.PRISTINE_FILE).is_file():
        # pyperf's own comparison, with its significance tests: run from
        # the directory, so that it names the files without their path.
        compare = subprocess.run(
            [str(vpython), '-m', 'pyperf', 'compare_to', '--table',
             speed.PRISTINE_FILE, speed.OURS_FILE],
            cwd=where, capture_output=True, text=True)
        (where / speed.COMPARE_FILE).write_text(
            compare.stdout + compare.stderr)
    return failed

