"""`make patch` is our whole change: it rebuilds the synced tree exactly."""

import os
import pathlib
import subprocess
import tarfile

import pytest

from conftest import git
from driver import config, source, tree

BUILD = config.build_dir()
SRC = tree.source_dir(BUILD)

pytestmark = pytest.mark.skipif(
    not (SRC / ".git").is_dir(), reason="no synced source tree: run make")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "interpreters.patch"
    tree.export_patch(SRC, out)
    return out


def _tarball():
    cache = os.environ.get(config.CACHE_ENV)
    return source.find_tarball(BUILD / "downloads", cache=cache)


def test_patch_is_one_commit_with_a_reviewable_message(exported):
    text = exported.read_text()
    assert text.startswith("From ")
    assert text.count("\nSubject: [PATCH") == 1
    subject = text.split("\nSubject: [PATCH] ", 1)[1].splitlines()[0]
    assert subject == tree.commit_message().splitlines()[0]
    assert "Modules/_interpreters/module.h" in text


def test_patch_applies_to_fresh_tarball_and_matches_build(exported,
                                                          tmp_path):
    fresh = tmp_path / "fresh"
    with tarfile.open(_tarball()) as tar:
        tar.extractall(tmp_path)
    os.rename(tmp_path / f"Python-{config.VERSION}", fresh)
    # git apply outside a repository: a plain patch tool that understands
    # renames and refuses fuzz.
    proc = subprocess.run(["git", "apply", "--whitespace=nowarn",
                           str(exported)], cwd=fresh,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr

    # Compare blob ids: the same id means the same bytes.
    built = {}
    for line in git(SRC, "ls-tree", "-r", "-z", "HEAD").split("\0"):
        if line:
            meta, path = line.split("\t", 1)
            built[path] = meta.split()[2]
    on_disk = sorted(str(p.relative_to(fresh)) for p in fresh.rglob("*")
                     if p.is_file() or p.is_symlink())
    assert on_disk == sorted(built)
    shas = subprocess.run(["git", "hash-object", "--stdin-paths"], cwd=fresh,
                       input="\n".join(on_disk) + "\n", check=True,
                       capture_output=True, text=True).stdout.split()
    differing = [p for p, sha in zip(on_disk, shas) if built[p] != sha]
    assert differing == []
