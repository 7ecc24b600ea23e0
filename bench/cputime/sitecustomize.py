"""Time the pyperformance benchmarks in CPU time: imported at start-up.

The `pyperformance` case (bench/speed_run.py) puts this directory on the
PYTHONPATH of pyperformance and of every benchmark process it starts, with
BENCH_SPEED_TIMER=process_time.  pyperf and the benchmarks read their
clock through time.perf_counter (pyperf's own perf_counter is bound to it
when pyperf is imported, after this): made time.process_time, it counts
only the time the process ran on a CPU.  On a machine that other work
shares, the wall clock also counts the time a benchmark waited for a CPU,
which varies from one run to the next by far more than the 2 % to be
measured; the CPU time of a single-threaded benchmark that does not wait
for I/O is its wall time on an idle machine.
"""

import os
import time

if os.environ.get('BENCH_SPEED_TIMER') == 'process_time':
    time.perf_counter = time.process_time
