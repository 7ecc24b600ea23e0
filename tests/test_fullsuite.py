"""The whole-suite comparison reads regrtest's results right."""

import json
import pathlib
import signal
import subprocess
import sys
import textwrap

import pytest

from driver import fullsuite

REPO = pathlib.Path(__file__).resolve().parent.parent

LOG = textwrap.dedent("""\
    0:00:31 load avg: 1.17 [ 56/437/1] test_cmd_line failed (1 failure)
    == Tests result: FAILURE ==

    400 tests OK.

    2 tests failed:
        test_cmd_line test_compileall

    1 test altered the environment:
        test_threading

    3 tests skipped:
        test_winreg test_winsound
        test_zipfile64

    Total duration: 16 min 4 sec
    Tests result: FAILURE
    """)

JUNIT = textwrap.dedent("""\
    <testsuites>
      <testsuite>
        <testcase name="test.test_cmd_line.C.test_a"><failure/></testcase>
        <testcase name="test.test_cmd_line.C.test_b"/>
        <testcase name="test.test_x.T.test_c"><error/></testcase>
        <testcase name="test.test_x.T.test_d"><skipped/></testcase>
      </testsuite>
    </testsuites>
    """)


def test_failed_files_are_those_failed_or_altering_the_environment():
    assert fullsuite.failed_files(LOG) == {
        "test_cmd_line", "test_compileall", "test_threading"}


def test_failed_cases_are_failures_and_errors(tmp_path):
    junit = tmp_path / "r.xml"
    junit.write_text(JUNIT)
    assert fullsuite.failed_cases(junit) == {
        "test.test_cmd_line.C.test_a", "test.test_x.T.test_c"}


def test_compare_reports_only_what_pristine_does_not_fail():
    baseline = ({"test_cmd_line"}, {"test.test_cmd_line.C.test_a"})
    files = {"test_cmd_line", "test_os"}
    cases = {"test.test_cmd_line.C.test_a", "test.test_cmd_line.C.test_b",
             "test.test_os.T.test_c"}
    assert fullsuite.compare(baseline, files, cases) == (
        ["test_os"], ["test.test_cmd_line.C.test_b", "test.test_os.T.test_c"])


def test_baseline_in_the_repo_gives_a_reason_for_each_failure():
    from driver.__main__ import BASELINE
    data = json.loads(BASELINE.read_text())
    assert sorted(data["reasons"]) == sorted(data["failed_files"])
    assert all(reason and "XXX" not in reason
               for reason in data["reasons"].values())


def test_test_file_of():
    assert fullsuite.test_file_of("test_os") == "test_os"
    assert fullsuite.test_file_of("test.test_os.T.test_c") == "test_os"


# A stand-in for ./python -m test: each file in FAIL_ONCE fails on its first
# run only; each file in FAIL_ALWAYS fails every time.
FAKE_REGRTEST = """\
import json, pathlib, sys
state = pathlib.Path(sys.argv[0]).with_suffix('.state')
runs = json.loads(state.read_text()) if state.exists() else {}
args = sys.argv[1:]
junit = args[args.index('--junit-xml') + 1]
tests = [a for a in args if a.startswith('test_')]
failed = []
for name in tests:
    runs[name] = runs.get(name, 0) + 1
    if name in FAIL_ALWAYS or (name in FAIL_ONCE and runs[name] == 1):
        failed.append(name)
state.write_text(json.dumps(runs))
cases = ''.join(f'<testcase name="test.{n}.T.test_a"><failure/></testcase>'
                for n in failed)
pathlib.Path(junit).write_text(f'<testsuites><testsuite>{cases}'
                               '</testsuite></testsuites>')
if failed:
    print(f'{len(failed)} tests failed:')
    print('    ' + ' '.join(failed))
    print()
if not FINISH:
    sys.exit(1)
print('Tests result:', 'FAILURE' if failed else 'SUCCESS')
"""


def fake_python(tmp_path, fail_once=(), fail_always=(), finish=True):
    path = tmp_path / "python"
    path.write_text(f"#!{sys.executable}\n"
                    f"FAIL_ONCE = {set(fail_once)!r}\n"
                    f"FAIL_ALWAYS = {set(fail_always)!r}\n"
                    f"FINISH = {finish!r}\n" + FAKE_REGRTEST)
    path.chmod(0o755)
    return path


def test_confirm_separates_flaky_from_failing(tmp_path):
    python = fake_python(tmp_path, fail_once={"test_a"},
                         fail_always={"test_b"})
    # The first run, as the whole suite would have it.
    files, cases = fullsuite.run_suite(
        python, tmp_path / "f.xml", tmp_path / "f.log", 2,
        ["test_a", "test_b", "test_c"])
    assert files == {"test_a", "test_b"}
    assert cases == {"test.test_a.T.test_a", "test.test_b.T.test_a"}
    failing, flaky = fullsuite.confirm(python, tmp_path, sorted(files),
                                       sorted(cases))
    assert failing == ["test_b", "test.test_b.T.test_a"]
    assert flaky == ["test_a", "test.test_a.T.test_a"]


def test_confirm_runs_nothing_without_new_failures(tmp_path):
    python = fake_python(tmp_path, fail_always={"test_a"})
    assert fullsuite.confirm(python, tmp_path, [], []) == ([], [])
    assert not (tmp_path / "python.state").exists()


def test_a_run_that_does_not_finish_is_an_error(tmp_path):
    python = fake_python(tmp_path, finish=False)
    with pytest.raises(fullsuite.SuiteError):
        fullsuite.run_suite(python, tmp_path / "f.xml", tmp_path / "f.log",
                            2, ["test_a"])


def test_tests_get_sigint_even_if_the_driver_ignores_it():
    # As when a shell without job control runs make in the background.
    check = ("import signal, sys; "
             "sys.exit(signal.getsignal(signal.SIGINT) "
             "is not signal.default_int_handler)")
    code = ("import subprocess, sys; "
            "from driver.__main__ import restore_sigint; "
            f"restore_sigint(); "
            f"sys.exit(subprocess.run([sys.executable, '-c', {check!r}])"
            ".returncode)")

    def ignore_sigint():
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    without = subprocess.run([sys.executable, "-c", check],
                             preexec_fn=ignore_sigint)
    assert without.returncode == 1
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO,
                          preexec_fn=ignore_sigint)
    assert proc.returncode == 0


def test_baseline_records_what_every_run_ignores():
    from driver.__main__ import BASELINE
    data = json.loads(BASELINE.read_text())
    assert data["ignored_tests"] == fullsuite.IGNORED
