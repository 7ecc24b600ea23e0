"""Run the whole regression suite and compare it with pristine 3.11.2's.

The fork must give the same result as pristine 3.11.2 built the same way
on the same machine: no test that passes there may fail here.  What
pristine itself fails on this kind of machine is recorded, with the reason,
in tests/baseline/pristine-3.11.2.json (made by `make fullsuite-baseline`),
so that the comparison needs no second build.

A test that fails here but not there is run again, alone: one that then
passes failed only because of the load of the run (timeouts, races with
the tests running beside it), as regrtest's --rerun would decide.  It is
reported, and the comparison fails only on tests that fail twice.
"""

import json
import pathlib
import re
import subprocess
import xml.etree.ElementTree as ET

# regrtest's summary: "2 tests failed:" then indented names, several a line.
_SUMMARY = re.compile(
    r"^(\d+) tests? (failed|altered the environment|skipped|"
    r"skipped \(resource denied\)|failed again|run no tests):\n"
    r"((?:    .*\n)+)", re.M)


# Seconds a test file may take: the slowest take about 4 minutes with
# -j0 on 2 cores.  A hang (multiprocessing's Pool.terminate() race, an
# upstream bug, is one) costs this much.
TIMEOUT = "600"

# Tests left out of every run (regrtest --ignore patterns), and why.
IGNORED = {
    "*VSOCK*": "ThreadedVSOCKSocketStreamTest hangs in accept() on this "
               "kind of virtual machine (AF_VSOCK exists but nothing "
               "connects), on pristine too: without it, test_socket "
               "passes",
}


class SuiteError(Exception):
    """regrtest did not finish: its result says nothing."""


def run_suite(python, junit, log, jobs, tests=()):
    """Run the full suite, or only the given test files; return (failed
    test files, failed test cases)."""
    ignore = [arg for pattern in IGNORED for arg in ("--ignore", pattern)]
    cmd = [str(python), "-m", "test", f"-j{jobs}", "--timeout", TIMEOUT,
           *ignore, "--junit-xml", str(junit), *tests]
    junit = pathlib.Path(junit)
    junit.unlink(missing_ok=True)
    # From the build directory, as `make test` does: the current directory
    # comes first on sys.path.
    with open(log, "w") as out:
        subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT,
                       cwd=pathlib.Path(python).parent)
    text = pathlib.Path(log).read_text(errors="replace")
    if "Tests result:" not in text or not junit.is_file():
        raise SuiteError(f"regrtest did not finish: see {log}")
    return failed_files(text), failed_cases(junit)


def failed_files(log_text):
    """Return the test files that regrtest's summary says failed."""
    files = set()
    for count, kind, names in _SUMMARY.findall(log_text):
        if kind in ("failed", "altered the environment"):
            files.update(names.split())
    return files


def failed_cases(junit):
    """Return the names of the failed test cases in a JUnit XML file."""
    cases = set()
    for case in ET.parse(junit).iter("testcase"):
        if any(child.tag in ("failure", "error") for child in case):
            cases.add(case.get("name"))
    return cases


def load_baseline(path):
    data = json.loads(pathlib.Path(path).read_text())
    return set(data["failed_files"]), set(data["failed_cases"])


def compare(baseline, files, cases):
    """Return the test files and cases that fail here but not on pristine."""
    base_files, base_cases = baseline
    return sorted(files - base_files), sorted(cases - base_cases)


def test_file_of(name):
    """Return the test file of a test file or test case name:
    test.test_x.Class.test_y -> test_x."""
    parts = name.split(".")
    return parts[1] if parts[0] == "test" and len(parts) > 1 else parts[0]


def confirm(python, results, new_files, new_cases, name="rerun"):
    """Run the test files of new failures again, one at a time, logging to
    results/<name>.log.  Return (still failing, passed on the second run),
    each a sorted list of the names given."""
    names = new_files + new_cases
    if not names:
        return [], []
    again = sorted({test_file_of(name) for name in names})
    files, cases = run_suite(python, results / f"{name}.xml",
                             results / f"{name}.log", 1, again)
    failing = [name for name in names if name in files or name in cases]
    return failing, [name for name in names if name not in failing]
