"""configure carries exactly what autoconf 2.69 makes of our configure.ac.

The shipped 3.11.2 configure came from a distribution-patched autoconf
2.69, so regenerating it whole would change unrelated lines.  Our
configure change is therefore the difference between autoconf 2.69's
output for the pristine and for the patched configure.ac; this test
regenerates both and checks that the two differences agree.
"""

import difflib
import shutil
import subprocess

import pytest

from conftest import git
from driver import config, tree

SRC = tree.source_dir(config.build_dir())
AUTOCONF = shutil.which("autoconf2.69")

pytestmark = [
    pytest.mark.skipif(not (SRC / ".git").is_dir(),
                       reason="no synced source tree: run make"),
    pytest.mark.skipif(AUTOCONF is None,
                       reason="autoconf2.69 is not installed"),
]


def _changed_lines(old, new):
    diff = difflib.unified_diff(old.splitlines(), new.splitlines(),
                                lineterm="", n=0)
    return [line for line in diff
            if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def _autoconf(tmp_path, name, configure_ac):
    work = tmp_path / name
    work.mkdir()
    (work / "configure.ac").write_text(configure_ac)
    (work / "aclocal.m4").write_text(
        git(SRC, "show", "baseline:aclocal.m4"))
    subprocess.run([AUTOCONF, "-o", "configure", "configure.ac"],
                   cwd=work, check=True, capture_output=True)
    return (work / "configure").read_text()


def test_configure_change_is_only_ours(tmp_path):
    pristine_ac = git(SRC, "show", "baseline:configure.ac")
    patched_ac = git(SRC, "show", "HEAD:configure.ac")
    expected = _changed_lines(_autoconf(tmp_path, "pristine", pristine_ac),
                              _autoconf(tmp_path, "patched", patched_ac))
    actual = _changed_lines(git(SRC, "show", "baseline:configure"),
                            git(SRC, "show", "HEAD:configure"))
    assert actual == expected
