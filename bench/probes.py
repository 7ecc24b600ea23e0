"""Figures measured in fresh processes, one probe process per pyperf run.

Memory figures need a process of their own (RSS and its peak belong to
the whole process), and so do the 64 MiB timings, whose heap would skew
the next figure.  A case module built on this module defines PROBES
(probe name -> function returning a list of readings) and calls main()
with a plan of what to measure; the same module, run with --probe, is
the probe process.
"""

import argparse
import json
import subprocess
import sys

import pyperf

from bench.suite import record_failure


def _run_probe(module, args, timeout):
    cmd = [sys.executable, '-m', module, '--probe', *map(str, args)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True,
                          timeout=timeout)
    if proc.returncode:
        raise RuntimeError(f'{" ".join(cmd)} failed with exit code '
                           f'{proc.returncode}')
    return json.loads(proc.stdout.splitlines()[-1])


def main(module, doc, probes, plan, report):
    """Run the probes of module (see above) and return the exit status.

    plan(quick) yields (name, probe args, metadata) for each figure;
    probe args start with the probe's name and its mechanism.  Each
    figure is measured in --processes probe processes, printed by
    report(name, benchmark, metadata) and added to the --append file.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument('--append', metavar='FILENAME',
                        help='add the results to this pyperf JSON file')
    parser.add_argument('--quick', action='store_true',
                        help='smaller sizes and counts, one process per '
                             'figure')
    parser.add_argument('--failures', metavar='FILENAME',
                        help='append the names of failed benchmarks here')
    parser.add_argument('--processes', type=int, default=3,
                        help='probe processes per figure (default: 3)')
    parser.add_argument('--probe', nargs='+', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe, mech, *params = args.probe
        print(json.dumps(probes[probe](mech, *map(int, params))))
        return 0

    failed = []
    processes = 1 if args.quick else args.processes
    timeout = 120 if args.quick else 600
    for name, probe_args, metadata in plan(args.quick):
        metadata = dict(metadata, name=name)
        try:
            runs = [pyperf.Run(_run_probe(module, probe_args, timeout),
                               metadata=metadata)
                    for _ in range(processes)]
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
            print(f'ERROR: benchmark {name} failed: {exc}', file=sys.stderr,
                  flush=True)
            failed.append(name)
            record_failure(args.failures, name)
            continue
        bench = pyperf.Benchmark(runs)
        report(name, bench, metadata)
        if args.append:
            pyperf.add_runs(args.append, bench)
    if failed:
        print(f'{len(failed)} benchmark(s) failed: {", ".join(failed)}',
              file=sys.stderr)
        return 1
    return 0
