"""The speed comparison with pristine 3.11.2 (bench.speed) computes right.

The pyperformance case leaves two pyperf files; bench.speed reads them,
computes each benchmark's ratio (ours / pristine, of medians) and their
geometric mean, and writes the target line that results.md shows.  These
tests give it files of known values, in pyperf's format.
"""

import json
import math
import os
import subprocess
import sys

import pytest

from bench import speed
from bench import speed_run


def pyperf_file(path, benchmarks):
    """Write a pyperf JSON file: benchmarks maps name -> [[run values]];
    each benchmark also gets a calibration run, which has no values."""
    data = {
        'version': '1.0',
        'metadata': {'python_version': '3.11.2'},
        'benchmarks': [
            {'metadata': {'name': name},
             'runs': [{'metadata': {'calibrate_loops': 4},
                       'warmups': [[1, 0.5], [2, 0.4]]}]
             + [{'metadata': {}, 'warmups': [[4, 9.0]], 'values': values}
                for values in runs]}
            for name, runs in benchmarks.items()],
    }
    path.write_text(json.dumps(data))


def results(tmp_path, ours, pristine, info=None):
    where = tmp_path / speed.SUBDIR
    where.mkdir()
    pyperf_file(where / speed.OURS_FILE, ours)
    pyperf_file(where / speed.PRISTINE_FILE, pristine)
    if info is not None:
        (where / speed.INFO_FILE).write_text(json.dumps(info))
    return tmp_path


def test_load_values_gathers_every_run_and_skips_calibration(tmp_path):
    path = tmp_path / 'f.json'
    pyperf_file(path, {'a': [[1.0, 2.0], [3.0]], 'b': [[5.0]]})
    assert speed.load_values(path) == {'a': [1.0, 2.0, 3.0], 'b': [5.0]}


def test_ratio_is_ours_over_pristine_of_medians():
    # A single slow value (another process's load) moves the mean, not
    # the median.
    ours = {'x': [2.0, 2.0, 2.0, 50.0]}
    pristine = {'x': [1.0, 1.0, 1.0]}
    assert speed.ratios(ours, pristine) == {'x': (1.0, 2.0, 2.0)}
    by_mean = speed.ratios(ours, pristine, summary=lambda v: sum(v) / len(v))
    assert by_mean['x'][2] == pytest.approx(14.0)


def test_ratios_compare_only_benchmarks_both_ran():
    got = speed.ratios({'a': [1.0], 'b': [1.0]}, {'b': [2.0], 'c': [1.0]})
    assert list(got) == ['b']
    assert got['b'][2] == 0.5


def test_ratios_refuse_a_zero_time():
    with pytest.raises(ValueError):
        speed.ratios({'a': [0.0]}, {'a': [1.0]})


def test_geometric_mean():
    assert speed.geometric_mean([2.0, 0.5]) == pytest.approx(1.0)
    assert speed.geometric_mean([1.0, 1.0, 8.0]) == pytest.approx(2.0)
    # Not the arithmetic mean: 1.1 and 0.9 average to 1.0 but slow down
    # the product.
    assert speed.geometric_mean([1.1, 0.9]) == pytest.approx(math.sqrt(0.99))
    with pytest.raises(ValueError):
        speed.geometric_mean([])
    with pytest.raises(ValueError):
        speed.geometric_mean([1.0, -1.0])


@pytest.mark.parametrize('geomean, expected', [
    (0.97, 'PASS'), (1.0, 'PASS'), (1.02, 'PASS'), (1.0201, 'MISS'),
    (1.5, 'MISS'),
])
def test_target_is_at_most_two_percent_slower(geomean, expected):
    assert speed.status(geomean) == expected
    row = speed.target_row(geomean, 20)
    assert row[-1] == expected
    assert row[-2] == 'geometric mean <= 1.02x pristine'
    assert row[3] == f'{geomean:.3f}x'


def test_target_row_without_a_run():
    assert speed.target_row(None, 0)[-1] == 'n/a'


def test_summarize_and_markdown(tmp_path):
    directory = results(
        tmp_path,
        ours={'richards': [[1.1, 1.1, 1.1]], 'logging_simple': [[0.9]],
              'only_ours': [[1.0]]},
        pristine={'richards': [[1.0, 1.0], [1.0]],
                  'logging_simple': [[1.0]]},
        info={'mode': 'test', 'duration': 12,
              'scripts': {'richards': ['richards'],
                          'logging': ['logging_simple']},
              'failed': ['go/ours']})
    summary = speed.summarize(directory)
    assert summary['geomean'] == pytest.approx(math.sqrt(1.1 * 0.9))
    assert summary['missing'] == ['only_ours']
    text = '\n'.join(speed.markdown(summary))
    assert '| richards | ' + speed.SUBSET['richards'] in text
    assert '| logging_simple | ' + speed.SUBSET['logging'] in text
    assert '| 1.100x |' in text and '| 0.900x |' in text
    assert ('Target: geometric mean <= 1.02x pristine: **PASS**'
            in text)
    assert '**Failed**: go/ours' in text
    assert '**Measured with one interpreter only**: only_ours' in text


def test_summarize_a_miss(tmp_path):
    directory = results(tmp_path, ours={'a': [[1.05]], 'b': [[1.03]]},
                        pristine={'a': [[1.0]], 'b': [[1.0]]})
    summary = speed.summarize(directory)
    assert speed.status(summary['geomean']) == 'MISS'
    assert '**MISS**' in '\n'.join(speed.markdown(summary))


def test_no_run_no_figures(tmp_path):
    assert speed.summarize(tmp_path) is None
    assert 'Not run' in '\n'.join(speed.markdown(None))


def test_subset_needs_no_third_party_package():
    # pyperformance's benchmarks that pin packages of their own: none of
    # them may be in the subset (it installs pyperf only).
    with_requirements = {
        'chameleon', 'coverage', 'crypto_pyaes', 'dask', 'django_template',
        'docutils', 'dulwich_log', 'fastapi', 'genshi', 'hg_startup',
        'html5lib', 'mako', 'networkx', 'sphinx', 'sqlalchemy_declarative',
        'sqlalchemy_imperative', 'sqlglot_v2', 'sympy', 'tomli_loads',
        'tornado_http', 'xdsl', 'yaml', 'asyncio_websockets'}
    assert not set(speed.SUBSET) & with_requirements


def test_interpreters_alternate_which_goes_first():
    pair = ('ours', 'pristine')
    assert [speed_run._order(i, pair)[0] for i in range(4)] == [
        'ours', 'pristine', 'ours', 'pristine']


def test_pip_settings_are_passed_on_by_name(monkeypatch):
    monkeypatch.setenv('PIP_SOMETHING', 'x')
    monkeypatch.setenv('NOT_PIP', 'y')
    names = speed_run._pip_environ()
    assert 'PIP_SOMETHING' in names and 'NOT_PIP' not in names


def test_builds_must_be_configured_alike(monkeypatch):
    flags = {'ours': {'CONFIG_ARGS': '', 'CFLAGS': '-O3'},
             'pristine': {'CONFIG_ARGS': '', 'CFLAGS': '-O3'}}
    monkeypatch.setattr(speed_run, 'build_vars', lambda python: flags[python])
    assert 'CFLAGS: -O3' in speed_run.check_same_build('ours', 'pristine')
    flags['pristine']['CFLAGS'] = '-O2'
    with pytest.raises(speed_run.SpeedError, match='CFLAGS'):
        speed_run.check_same_build('ours', 'pristine')


def test_same_loops_only_for_a_script_of_one_benchmark(tmp_path):
    first = tmp_path / 'first.json'
    first.write_text(json.dumps({
        'metadata': {},
        'benchmarks': [{'metadata': {'name': 'richards', 'loops': 8},
                        'runs': [{'values': [1.0]}]}]}))
    dest = tmp_path / 'loops.json'
    assert speed_run.same_loops_file(first, 'richards', ['richards'],
                                     dest) == dest
    written = json.loads(dest.read_text())
    assert written['benchmarks'][0]['metadata'] == {'name': 'richards',
                                                    'loops': 8}
    # pyperformance would give deepcopy's loops to deepcopy_memo too.
    assert speed_run.same_loops_file(
        first, 'deepcopy', ['deepcopy', 'deepcopy_memo'], dest) is None


def test_loops_found_where_pyperf_puts_them(tmp_path):
    path = tmp_path / 'f.json'
    # One benchmark in the file: pyperf moves its metadata to the file's.
    path.write_text(json.dumps({
        'metadata': {'loops': 16},
        'benchmarks': [{'metadata': {'name': 'go'},
                        'runs': [{'values': [1.0]}]}]}))
    assert speed_run.calibrated_loops(path, 'go') == 16
    # Per run.
    path.write_text(json.dumps({
        'metadata': {},
        'benchmarks': [{'metadata': {'name': 'go'},
                        'runs': [{'warmups': [[1, 2.0]]},
                                 {'metadata': {'loops': 4},
                                  'values': [1.0]}]}]}))
    assert speed_run.calibrated_loops(path, 'go') == 4
    assert speed_run.calibrated_loops(path, 'other') is None


def test_load_average_of_the_runs_is_reported(tmp_path):
    where = tmp_path / speed.SUBDIR
    where.mkdir()
    for name, loads in ((speed.OURS_FILE, [1.0, 3.0]),
                        (speed.PRISTINE_FILE, [2.0, 9.0])):
        (where / name).write_text(json.dumps({
            'metadata': {},
            'benchmarks': [{'metadata': {'name': 'go'}, 'runs': [
                {'warmups': [[1, 1.0]]},
                *[{'metadata': {'load_avg_1min': load}, 'values': [1.0]}
                  for load in loads]]}]}))
    (where / speed.INFO_FILE).write_text(json.dumps({'cores': 2}))
    summary = speed.summarize(tmp_path)
    assert sorted(summary['load']) == [1.0, 2.0, 3.0, 9.0]
    text = '\n'.join(speed.markdown(summary))
    assert 'median 2.5, max 9.0 on 2 cores' in text


@pytest.mark.parametrize('timer, expected', [
    ('process_time', 'process_time'), ('', 'perf_counter')])
def test_cpu_time_clock_only_where_asked(timer, expected):
    # The benchmark processes read their clock through time.perf_counter;
    # the case's sitecustomize makes it CPU time, and nothing else does.
    env = dict(os.environ, PYTHONPATH=str(speed_run.CPU_TIME_DIR),
               BENCH_SPEED_TIMER=timer)
    out = subprocess.run(
        [sys.executable, '-c',
         'import time; print(time.perf_counter.__name__)'],
        env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == expected
