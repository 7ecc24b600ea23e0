"""The `parallel` case's figures and section of results.md (bench.parallel).

bench/parallel.py leaves parallel.json: wall times per mechanism and
round, latencies per round.  These tests give bench.parallel a file of
known values and check the medians, the best rounds, the speedups, the
target row and the section that bench.report puts in results.md.
"""

import json
import os
import subprocess
import sys

import pytest

from bench import parallel, parallel_run, run


def fake_result(**changes):
    data = {
        'quick': False,
        'python': '3.11.2 (main) [GCC]\nsecond line',
        'immortal_objects': True,
        'cores': 2,
        'workers': 2,
        'unit_loops': 1_500_000,
        'unit_seconds': 0.5,
        'rounds': 3,
        # A slow round (another process's load) moves no median.
        'wall': {'baseline': [1.0, 1.2, 1.1],
                 'owngil': [0.55, 0.5, 3.0],
                 'sharedgil': [1.1, 1.2, 1.15],
                 'threads': [1.1, 1.1, 1.1],
                 'mp_fork': [0.6, 0.55, 0.58],
                 'owngil_solo': [0.66, 0.7, 0.6]},
        'cpu': {'baseline': [0.9, 1.0, 1.1],
                'owngil': [1.1, 0.5, 2.0],
                'sharedgil': [1.0, 1.2, 1.15],
                'threads': [1.1, 1.1, 1.1],
                'mp_fork': [1.2, 1.1, 1.16]},
        'latency': {'ping_pong/owngil': [20e-6, 25e-6, 30e-6],
                    'ping_pong/sharedgil': [40e-6],
                    'call/owngil': [8e-6, 9e-6, 10e-6],
                    'call/sharedgil': [5e-6, 5e-6, 5e-6]},
        'load_avg_1min': [1.5, 2.25],
        'duration': 30.0,
        'failed': [],
    }
    data.update(changes)
    return data


def write(tmp_path, data):
    (tmp_path / parallel.RESULT_FILE).write_text(json.dumps(data))
    return tmp_path


def test_medians_and_speedups(tmp_path):
    summary = parallel.load(write(tmp_path, fake_result()))
    assert summary['median']['baseline'] == pytest.approx(1.1)
    assert summary['median']['owngil'] == pytest.approx(0.55)
    assert summary['speedup'] == pytest.approx(
        {'owngil': 2.0, 'sharedgil': 1.1 / 1.15, 'threads': 1.0,
         'mp_fork': 1.1 / 0.58})
    # The slow round of owngil counts in neither figure; the best rounds
    # are each mechanism's fastest.
    assert summary['best']['baseline'] == pytest.approx(1.0)
    assert summary['best']['owngil'] == pytest.approx(0.5)
    assert summary['speedup_best'] == pytest.approx(
        {'owngil': 2.0, 'sharedgil': 1.0 / 1.1, 'threads': 1.0 / 1.1,
         'mp_fork': 1.0 / 0.55})
    assert summary['vs_processes'] == pytest.approx(
        {'median': 0.58 / 0.55, 'best': 0.55 / 0.5})
    assert summary['latency_median']['ping_pong/owngil'] == \
        pytest.approx(25e-6)


def test_section_of_results_md(tmp_path):
    lines = parallel.markdown(parallel.load(write(tmp_path, fake_result())))
    assert lines[0] == '## Own-GIL interpreters in parallel'
    text = '\n'.join(lines)
    assert '1500000 iterations, about 0.5 s a unit' in text
    assert 'interleaved over 3 rounds of wall time' in text
    assert '- Python: 3.11.2 (main) [GCC], immortal objects: yes' in text
    assert 'no immortal objects' not in text
    assert '- Load average (1 min) before and after: 1.5, 2.2 on 2 cores' \
        in text
    table = [line for line in lines if line.startswith('| ')]
    assert table[:6] == [
        '| mechanism | wall time (median) | speedup (median) '
        '| wall time (best round) | speedup (best round) '
        '| cores busy (CPU time / wall time) | CPU time per unit |',
        '| one thread of one interpreter, 2 units in turn | 1.1 s | 1.00x '
        '| 1 s | 1.00x | 0.90 | 500 ms |',
        '| 2 own-GIL interpreters, a thread each | 550 ms | 2.00x '
        '| 500 ms | 2.00x | 1.00 | 550 ms |',
        '| 2 shared-GIL interpreters, a thread each | 1.15 s | 0.96x '
        '| 1.1 s | 0.91x | 1.00 | 575 ms |',
        '| 2 threads of one interpreter | 1.1 s | 1.00x | 1.1 s | 0.91x '
        '| 1.00 | 550 ms |',
        '| 2 processes (multiprocessing, fork) | 580 ms | 1.90x '
        '| 550 ms | 1.82x | 2.00 | 580 ms |',
    ]
    assert table[6:] == [
        '| latency (median) | own-GIL | shared-GIL |',
        '| queue ping-pong of an int between two interpreters, round trip '
        '| 25 us | 40 us |',
        '| call(abs, 1) from the main interpreter | 9 us | 5 us |',
    ]
    assert 'One unit in one own-GIL interpreter, nothing else running: ' \
        '660 ms, against 550 ms a unit in the baseline (1.20x its time).' \
        in lines
    assert 'Own-GIL interpreters against processes (their time over ours, ' \
        '1.00x is as fast): 1.05x in medians, 1.10x in best rounds.' in lines
    assert 'Target: own-GIL speedup on 2 cores >= 1.8x in the best rounds: ' \
        '**PASS** (2.00x; in medians 2.00x).' in lines


def test_target_row_pass_and_miss(tmp_path):
    summary = parallel.summarize(fake_result())
    assert parallel.target_row(summary) == [
        'own-GIL speedup on 2 cores', '500 ms (best round)',
        'one interpreter: 1 s', '2.00x (median 2.00x)',
        'best-round speedup >= 1.8x', 'PASS']
    slow = parallel.summarize(fake_result(wall={'baseline': [1.0],
                                                'owngil': [0.6]}))
    assert parallel.target_row(slow)[3:] == [
        '1.67x (median 1.67x)', 'best-round speedup >= 1.8x', 'MISS']
    # Rounds slowed by the host's load lower the median, not the verdict.
    loaded = parallel.summarize(fake_result(
        wall={'baseline': [1.0, 1.4, 1.4], 'owngil': [0.5, 0.9, 0.9]}))
    assert parallel.target_row(loaded)[3:] == [
        '2.00x (median 1.56x)', 'best-round speedup >= 1.8x', 'PASS']


def test_failed_and_missing_figures(tmp_path):
    data = fake_result(immortal_objects=False, failed=['owngil', 'mp_fork'],
                       wall={'baseline': [1.0], 'threads': [1.0]},
                       cpu={'baseline': [1.0], 'threads': [1.0]},
                       latency={})
    summary = parallel.summarize(data)
    assert parallel.target_row(summary) == [
        'own-GIL speedup on 2 cores', 'n/a', 'one interpreter', 'n/a',
        'best-round speedup >= 1.8x', 'n/a']
    text = '\n'.join(parallel.markdown(summary))
    assert '**This build has no immortal objects**' in text
    assert '- **Failed**: owngil, mp_fork' in text
    assert '| 2 own-GIL interpreters, a thread each | n/a | n/a | n/a ' \
        '| n/a | n/a | n/a |' in text
    assert 'against processes' not in text
    assert '| call(abs, 1) from the main interpreter | n/a | n/a |' in text
    assert 'One unit in one own-GIL' not in text
    assert 'Target:' not in text


def test_not_run(tmp_path):
    assert parallel.load(tmp_path) is None
    assert parallel.markdown(None)[2].startswith('Not run')
    assert parallel.target_row(None)[-1] == 'n/a'


def test_case_is_registered_in_process_and_not_quick():
    assert 'parallel' in run.CASES
    assert run.IN_PROCESS['parallel'] is parallel_run
    assert 'parallel' in run.NOT_QUICK


def test_python_named_by_the_environment(tmp_path, monkeypatch):
    python = tmp_path / 'python'
    python.touch()
    monkeypatch.setattr(parallel_run.build_mod, 'VARIANTS', {})
    assert parallel_run.owngil_python(
        tmp_path, {parallel_run.PYTHON_ENV: str(python)}) == python
    with pytest.raises(parallel_run.ParallelError, match='no such file'):
        parallel_run.owngil_python(
            tmp_path, {parallel_run.PYTHON_ENV: str(tmp_path / 'nope')})
    # Without the driver's owngil variant, a clear error, nothing built.
    with pytest.raises(parallel_run.ParallelError,
                       match='BENCH_OWNGIL_PYTHON'):
        parallel_run.owngil_python(tmp_path, {})


def test_quick_run_writes_every_figure_or_names_its_failure(tmp_path):
    # The measurement itself, briefly, with the python that runs the
    # tests.  A build without immortal objects refuses own-GIL
    # interpreters: the run names those figures as failed, measures the
    # rest and exits 1.
    out = tmp_path / parallel.RESULT_FILE
    proc = subprocess.run(
        [sys.executable, '-m', 'bench.parallel', '--quick', '--out',
         str(out)],
        cwd=parallel_run.config.REPO, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=str(parallel_run.config.REPO)),
        timeout=600)
    data = json.loads(out.read_text())
    assert proc.returncode == (1 if data['failed'] else 0), proc.stderr
    assert set(data['wall']) >= {'baseline', 'sharedgil', 'threads',
                                 'mp_fork'}
    assert set(data['latency']) >= {'ping_pong/sharedgil', 'call/sharedgil'}
    for name in ('owngil', 'ping_pong/owngil', 'call/owngil'):
        measured = data['wall'] if name == 'owngil' else data['latency']
        assert (name in measured) != (name in data['failed'])
    assert ('owngil_solo' in data['wall']) == ('owngil' in data['wall'])
    assert set(data['cpu']) == set(data['wall'])
    assert '## Own-GIL interpreters in parallel' in proc.stdout
