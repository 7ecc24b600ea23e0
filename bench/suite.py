"""What the benchmark modules share: pyperf Runner, --quick, busy thread."""

import contextlib
import sys
import threading
import time

import pyperf

from bench import mechanisms


def _pass_quick(cmd, args):
    if args.quick:
        cmd.append('--quick')


class Suite:
    """One module's benchmarks, run by one pyperf Runner.

    pyperf runs each benchmark in worker processes that re-run the module
    and pick their benchmark by its position, so every process must
    register the same benchmarks in the same order: register them all,
    unconditionally, from the module's main().  A benchmark whose workers
    fail is reported and the module goes on with the next one; the exit
    status then says that something failed.  Use as a context manager:
    leaving it ends the far sides of the mechanisms.
    """

    def __init__(self, module, **runner_defaults):
        self.runner = pyperf.Runner(program_args=('-m', module),
                                    add_cmdline_args=_pass_quick,
                                    **runner_defaults)
        self.runner.argparser.add_argument(
            '--quick', action='store_true',
            help='smaller sizes and counts: check that it runs, no more')
        self.runner.argparser.add_argument(
            '--failures', metavar='FILENAME',
            help='append the names of failed benchmarks to this file')
        self.args = self.runner.parse_args()
        self.quick = self.args.quick
        self.failed = []
        self._skipped = set()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        mechanisms.close_all()

    def add(self, operation, mech, time_func, *args, **kwargs):
        """Benchmark time_func(loops, *args) as OPERATION/MECH.

        Do nothing, with a note, where mech is not in this build.
        """
        name = f'{operation}/{mech}'
        reason = mechanisms.available(mech)
        if reason:
            if mech not in self._skipped and not self.args.worker:
                print(f'skipping {mech}: {reason}', flush=True)
            self._skipped.add(mech)
            return
        try:
            self.runner.bench_time_func(name, time_func, *args, **kwargs)
        except RuntimeError as exc:
            # Only the master gets here: a worker process failed.
            if self.args.worker:
                raise
            print(f'ERROR: benchmark {name} failed: {exc}', file=sys.stderr,
                  flush=True)
            self.failed.append(name)
            record_failure(self.args.failures, name)
            # pyperf counts a benchmark only once it succeeded, and names
            # the task a worker runs by that count: count the failed one too
            # or the next benchmark's workers would run it again.
            self.runner._worker_task += 1

    def status(self):
        """Return the exit status of the module: 1 if a benchmark failed."""
        if self.failed:
            print(f'{len(self.failed)} benchmark(s) failed: '
                  f'{", ".join(self.failed)}', file=sys.stderr)
            return 1
        return 0


def record_failure(path, name):
    """Append the name of a failed benchmark to the file path, if any."""
    if path:
        with open(path, 'a') as f:
            f.write(name + '\n')


@contextlib.contextmanager
def busy_thread(cap):
    """Keep another thread of this interpreter spinning in Python code.

    It spins until the block ends, or for cap seconds at most: a thread of
    another interpreter that it starves of the GIL (the 3.11 bug of
    interpreter-local drop requests) gets it back at the latest then, so
    the benchmark ends and its figure shows the stall.
    """
    stop = False

    def spin():
        deadline = time.monotonic() + cap
        while not stop and time.monotonic() < deadline:
            pass

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        yield
    finally:
        stop = True
        thread.join()
