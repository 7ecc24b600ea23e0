"""Run the benchmark suite: python3 -m bench [--quick] [--out DIR] [CASE ...].

Make a virtual environment of the built ./python holding pyperf and
matplotlib (bench/requirements.txt), run every case module of bench/cases
in it, the `parallel` case (bench.parallel_run: own-GIL interpreters on
every core, with the build configured --with-immortal-objects) and the
`pyperformance` case (bench.speed_run: our build against pristine 3.11.2;
neither is part of the quick run unless named), then bench.report, which
writes the table and the plots.  Exit non-zero if any benchmark failed;
timings are never judged here.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import time

from driver import config, venv

from bench import parallel, parallel_run, speed_run

BENCH = pathlib.Path(__file__).resolve().parent

# In the order they run: cheap and quick first.
CASES = ('lifecycle', 'calls', 'queues', 'busy', 'payload', 'fanout',
         'executors', 'wakeup', 'interrupt', 'memory', 'buffers',
         'parallel', 'pyperformance')

# Cases that are not modules of bench/cases: run in this process.
IN_PROCESS = {'parallel': parallel_run, 'pyperformance': speed_run}

# Cases left out of the quick run unless named: each needs a second build
# (pyperformance against pristine also takes about 10 minutes).
NOT_QUICK = frozenset({'parallel', 'pyperformance'})

# Cases that measure memory, not time: no pyperf Runner, fewer options.
PLAIN = frozenset({'memory', 'buffers'})

# Where the cases list the benchmarks that failed, one name a line.
FAILURES = 'failures.txt'


def _machine():
    model = platform.processor() or 'unknown'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.partition(':')[2].strip()
                    break
    except OSError:
        pass
    return {'cpu': model, 'cores': os.cpu_count(),
            'kernel': f'{platform.system()} {platform.release()}',
            'arch': platform.machine()}


def _output(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          cwd=config.REPO)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _case_command(vpython, case, out, quick):
    cmd = [str(vpython), '-m', f'bench.cases.{case}',
           '--append', str(out / f'{case}.json'),
           '--failures', str(out / FAILURES)]
    if quick:
        cmd.append('--quick')
    if case in PLAIN:
        return cmd
    # pyperf's own options.  A worker that hangs is killed after --timeout
    # seconds and counts as failed.
    cmd.append('--quiet')
    if quick:
        cmd += ['--debug-single-value', '--timeout', '120']
    else:
        cmd += ['--timeout', '900']
    return cmd


def _count_benchmarks(out):
    count = 0
    for path in out.rglob('*.json'):
        # run-info.json and the pyperformance case's info.json are not
        # pyperf files.
        data = json.loads(path.read_text())
        if isinstance(data, dict) and 'benchmarks' in data:
            count += len(data['benchmarks'])
        elif path.name == parallel.RESULT_FILE:
            count += (len(data.get('wall', {}))
                      + len(data.get('latency', {})))
    return count


def _scrub(out, build_root):
    """Name this machine's paths in out's JSON files relative to the repo.

    pyperf records the path of the python it ran, for one; the results are
    committed, and no absolute path of a machine belongs in the repository.
    """
    for path in out.rglob('*.json'):
        text = path.read_text()
        for prefix, name in ((build_root, 'build'), (config.REPO, '.')):
            text = text.replace(f'{prefix}/', f'{name}/')
        path.write_text(text)


def _run_in_process(case, build_root, out, quick, info):
    """Run a case of IN_PROCESS; return 0 or 1 like a case module."""
    try:
        failed = IN_PROCESS[case].run(build_root, out, quick)
    except (speed_run.SpeedError, parallel_run.ParallelError) as exc:
        print(f'error: {case}: {exc}', file=sys.stderr)
        return 1
    info['failed_benchmarks'] += failed
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python3 -m bench',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='run every benchmark once, briefly, to check '
                             'that it works (results go to BUILD_DIR/'
                             'bench-quick unless --out says otherwise)')
    parser.add_argument('--out', type=pathlib.Path,
                        help='where the results go (default: bench/results)')
    parser.add_argument('cases', nargs='*', metavar='CASE',
                        help=f'run only these of {", ".join(CASES)}')
    args = parser.parse_args(argv)
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f'no such case: {", ".join(sorted(unknown))}')
    cases = [case for case in CASES if case in args.cases
             or not args.cases and not (args.quick and case in NOT_QUICK)]

    build_root = config.build_dir()
    python = build_root / 'release' / 'python'
    if not python.exists():
        print(f'error: no {python}: build it first (make)', file=sys.stderr)
        return 1
    # A venv made through a symbolic link to the build would not find the
    # build's standard library: make it from the binary itself.
    python = python.resolve()
    out = args.out or (build_root / 'bench-quick' if args.quick
                       else BENCH / 'results')
    try:
        vpython = venv.ensure(python, build_root / 'bench-venv',
                              [BENCH / 'requirements.txt'])
    except venv.VenvError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 1

    if args.quick and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    for case in cases:
        (out / f'{case}.json').unlink(missing_ok=True)
    (out / FAILURES).unlink(missing_ok=True)
    # Worker processes, subinterpreters and spawned processes all import
    # the suite: put it on their path.
    env = dict(os.environ, PYTHONPATH=str(config.REPO))
    env.pop('PYTHONHOME', None)

    started = time.monotonic()
    now = datetime.datetime.now(datetime.timezone.utc)
    info = {
        'date': now.strftime('%Y-%m-%d %H:%M UTC'),
        'quick': args.quick,
        'machine': _machine(),
        'python': _output([str(vpython), '-c',
                           'import sys; print(sys.version)']),
        'revision': _output(['git', 'describe', '--always', '--dirty']),
        'failed': [],
        'failed_benchmarks': [],
    }
    for case in cases:
        print(f'== {case} ==', flush=True)
        begun = time.monotonic()
        if case in IN_PROCESS:
            returncode = _run_in_process(case, build_root, out, args.quick,
                                         info)
        else:
            returncode = subprocess.run(
                _case_command(vpython, case, out, args.quick),
                cwd=config.REPO, env=env).returncode
        print(f'== {case}: {time.monotonic() - begun:.0f} s'
              f'{"" if returncode == 0 else ", FAILED"}', flush=True)
        if returncode:
            info['failed'].append(case)
    info['duration'] = round(time.monotonic() - started)
    if (out / FAILURES).exists():
        info['failed_benchmarks'][:0] = (out / FAILURES).read_text().split()
        (out / FAILURES).unlink()
    (out / 'run-info.json').write_text(json.dumps(info, indent=2) + '\n')
    _scrub(out, build_root)

    print('== report ==', flush=True)
    report = subprocess.run([str(vpython), '-m', 'bench.report', str(out)],
                            cwd=config.REPO, env=env)
    if report.returncode:
        info['failed'].append('report')
    print(f'results in {out} ({info["duration"]} s)')
    if info['failed']:
        print(f'failures in: {", ".join(info["failed"])}', file=sys.stderr)
    passed = _count_benchmarks(out)
    failed = max(len(info['failed_benchmarks']), len(info['failed']))
    print(f'bench: {passed} passed, {failed} failed')
    return 1 if info['failed'] else 0
