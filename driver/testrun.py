"""Run regrtest and the tooling tests, and count what passed and failed.

Both runners write JUnit XML; the counts come from there, so regrtest's
test cases and pytest's tests add up in one closing line:

    tests: N passed, N failed, N skipped
"""

import dataclasses
import pathlib
import subprocess
import xml.etree.ElementTree as ET


@dataclasses.dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def __iadd__(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        return self

    def line(self):
        return (f"tests: {self.passed} passed, {self.failed} failed, "
                f"{self.skipped} skipped")


def count_junit(path):
    """Count the test cases of a JUnit XML file by outcome."""
    counts = Counts()
    path = pathlib.Path(path)
    if not path.is_file():
        return counts
    for case in ET.parse(path).iter("testcase"):
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            counts.failed += 1
        elif "skipped" in tags:
            counts.skipped += 1
        else:
            counts.passed += 1
    return counts


def run_counted(cmd, junit, cwd=None):
    """Run a test command that writes junit; return its Counts.

    A non-zero exit that the XML does not account for (a crash, a test
    file that failed to import, a changed environment) counts as one
    failure, so the closing line never hides a failed run.
    """
    junit = pathlib.Path(junit)
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    rc = subprocess.run(cmd, cwd=cwd).returncode
    counts = count_junit(junit)
    if rc and not counts.failed:
        print(f"{' '.join(map(str, cmd[:4]))} ... exited with {rc}")
        counts.failed += 1
    return counts
