"""Every Misc/NEWS.d entry is one that blurb, CPython's NEWS tool, accepts.

blurb reads the section, issue and nonce from the file name.  Our change
has no CPython issue number: blurb takes "bpo-0" for that (and leaves the
prefix out of Misc/NEWS), and refuses a gh-issue below its first GitHub
number, so a name like "gh-issue-554" (the PEP's number) fails here.
"""

import shutil
import subprocess
import sys

import pytest

from driver import config

pytest.importorskip("blurb")

NEXT = config.REPO / "Misc" / "NEWS.d" / "next"
ENTRIES = sorted(p for p in NEXT.glob("*/*.rst") if p.name != "README.rst")


def merge(news_next, tmp_path):
    """Run `blurb merge` on a copy of news_next; return the process."""
    # blurb looks for the root of a CPython tree by these files.
    root = tmp_path / "cpython"
    (root / "Include").mkdir(parents=True)
    (root / "Python").mkdir()
    (root / "README.rst").write_text(
        f"This is Python version {config.VERSION}\n")
    (root / "LICENSE").write_text("A. HISTORY OF THE SOFTWARE\n")
    (root / "Include" / "Python.h").write_text("")
    (root / "Python" / "ceval.c").write_text("")
    shutil.copytree(news_next, root / "Misc" / "NEWS.d" / "next")
    return subprocess.run(
        [sys.executable, "-m", "blurb", "merge", "-f",
         str(tmp_path / "NEWS")], cwd=root, capture_output=True, text=True)


def test_there_are_entries():
    assert ENTRIES


def test_blurb_merges_every_entry(tmp_path):
    proc = merge(NEXT, tmp_path)
    assert proc.returncode == 0, proc.stderr
    news = (tmp_path / "NEWS").read_text()
    for entry in ENTRIES:
        # The entry's first words, as merge lays them out: no issue prefix.
        first = " ".join(entry.read_text().split()[:4])
        assert f"- {first}" in " ".join(news.split()), entry.name


@pytest.mark.parametrize("name", ["gh-issue-554", "gh-issue-0", "gh-554"])
def test_a_wrong_issue_name_fails(tmp_path, name):
    # The check above would catch each of these names.
    bad = tmp_path / "next"
    shutil.copytree(NEXT, bad)
    entry = next(bad.glob("Library/*.rst"))
    date, _, nonce, ext = entry.name.split(".")
    entry.rename(entry.with_name(f"{date}.{name}.{nonce}.{ext}"))
    proc = merge(bad, tmp_path)
    assert proc.returncode != 0
    assert name.rpartition("-")[2] in proc.stderr
