"""Run the whole regression suite and compare it with pristine 3.11.2's.

The fork must give the same result as pristine 3.11.2 built the same way
on the same machine: no test that passes there may fail here.  What
pristine itself fails on this kind of machine is recorded, with the reason,
in tests/baseline/pristine-3.11.2.json (made by `make fullsuite-baseline`),
so that the comparison needs no second build.
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


def run_suite(python, junit, log, jobs):
    """Run the full suite; return (failed test files, failed test cases)."""
    cmd = [str(python), "-m", "test", f"-j{jobs}", "--timeout", "1200",
           # AF_VSOCK exists on virtual machines where nothing answers it:
           # those tests hang in accept() until the timeout, on pristine too.
           "--ignore", "*VSOCK*",
           "--junit-xml", str(junit)]
    with open(log, "w") as out:
        subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT)
    text = pathlib.Path(log).read_text(errors="replace")
    files = set()
    for count, kind, names in _SUMMARY.findall(text):
        if kind in ("failed", "altered the environment"):
            files.update(names.split())
    cases = set()
    if pathlib.Path(junit).is_file():
        for case in ET.parse(junit).iter("testcase"):
            if any(child.tag in ("failure", "error") for child in case):
                cases.add(case.get("name"))
    return files, cases


def load_baseline(path):
    data = json.loads(pathlib.Path(path).read_text())
    return set(data["failed_files"]), set(data["failed_cases"])


def compare(baseline, files, cases):
    """Return the test files and cases that fail here but not on pristine."""
    base_files, base_cases = baseline
    return sorted(files - base_files), sorted(cases - base_cases)
