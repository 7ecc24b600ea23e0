"""Our change is laid over the pristine tree exactly and incrementally."""

import os

import pytest

from conftest import git
from driver import tree


def _sync(tmp_path, tarball, repo):
    build = tmp_path / "build"
    patches = tree.read_series(repo / "patches")
    src = tree.ensure_baseline(build, tarball)
    wanted = tree.desired_tree(src, repo, patches)
    return build, src, wanted


def test_patches_then_overlay(tmp_path, fake_tarball, overlay_repo):
    build = tmp_path / "build"
    _, src, _ = _sync(tmp_path, fake_tarball, overlay_repo)
    moved = tree.sync(build, fake_tarball, overlay_repo,
                      patches=tree.read_series(overlay_repo / "patches"))
    assert moved
    assert (src / "Lib" / "os.py").read_text().endswith("'patched'\n")
    assert (src / "Lib" / "interpreters.py").read_text() == \
        "'''new module'''\n"
    assert (src / "README.rst").read_text() == "pristine readme\n"
    assert git(src, "log", "-1", "--format=%s") == "Add it\n"


def test_second_sync_touches_nothing(tmp_path, fake_tarball, overlay_repo):
    build = tmp_path / "build"
    patches = tree.read_series(overlay_repo / "patches")
    src = tree.ensure_baseline(build, fake_tarball)
    tree.sync(build, fake_tarball, overlay_repo, patches=patches)
    before = {p: os.stat(src / p).st_mtime_ns
              for p in ("README.rst", "Lib/os.py", "Lib/interpreters.py")}
    assert not tree.sync(build, fake_tarball, overlay_repo, patches=patches)
    after = {p: os.stat(src / p).st_mtime_ns for p in before}
    assert before == after


def test_edit_rewrites_only_that_file(tmp_path, fake_tarball, overlay_repo):
    build = tmp_path / "build"
    patches = tree.read_series(overlay_repo / "patches")
    src = tree.ensure_baseline(build, fake_tarball)
    tree.sync(build, fake_tarball, overlay_repo, patches=patches)
    os_mtime = os.stat(src / "Lib" / "os.py").st_mtime_ns
    (overlay_repo / "Lib" / "interpreters.py").write_text("'''v2'''\n")
    assert tree.sync(build, fake_tarball, overlay_repo, patches=patches)
    assert (src / "Lib" / "interpreters.py").read_text() == "'''v2'''\n"
    assert os.stat(src / "Lib" / "os.py").st_mtime_ns == os_mtime


def test_removed_overlay_file_disappears(tmp_path, fake_tarball,
                                         overlay_repo):
    build = tmp_path / "build"
    patches = tree.read_series(overlay_repo / "patches")
    src = tree.ensure_baseline(build, fake_tarball)
    tree.sync(build, fake_tarball, overlay_repo, patches=patches)
    (overlay_repo / "Lib" / "interpreters.py").unlink()
    tree.sync(build, fake_tarball, overlay_repo, patches=patches)
    assert not (src / "Lib" / "interpreters.py").exists()


def test_failing_hunk_names_patch_and_file(tmp_path, fake_tarball,
                                           overlay_repo):
    bad = overlay_repo / "patches" / "0002-bad.patch"
    bad.write_text("diff --git a/Lib/os.py b/Lib/os.py\n"
                   "--- a/Lib/os.py\n+++ b/Lib/os.py\n"
                   "@@ -1,3 +1,3 @@\n import sys\n \n-name = 'nt'\n"
                   "+name = 'other'\n")
    (overlay_repo / "patches" / "series").write_text(
        "0001-os.patch\n0002-bad.patch\n")
    with pytest.raises(tree.TreeError) as info:
        _sync(tmp_path, fake_tarball, overlay_repo)
    message = str(info.value)
    assert "0002-bad.patch does not apply" in message
    assert "Lib/os.py" in message


def test_series_naming_a_missing_patch(tmp_path, overlay_repo):
    (overlay_repo / "patches" / "series").write_text("0009-gone.patch\n")
    with pytest.raises(tree.TreeError, match="0009-gone.patch"):
        tree.read_series(overlay_repo / "patches")


def test_whole_copy_of_upstream_file_is_refused(tmp_path, fake_tarball,
                                                overlay_repo):
    (overlay_repo / "README.rst").write_text("copied\n")
    (overlay_repo / "Lib" / "os.py").write_text("copied\n")
    with pytest.raises(tree.TreeError, match="Lib/os.py"):
        _sync(tmp_path, fake_tarball, overlay_repo)


def test_hand_edits_are_not_overwritten(tmp_path, fake_tarball,
                                        overlay_repo):
    build = tmp_path / "build"
    patches = tree.read_series(overlay_repo / "patches")
    src = tree.ensure_baseline(build, fake_tarball)
    tree.sync(build, fake_tarball, overlay_repo, patches=patches)
    (src / "README.rst").write_text("edited by hand\n")
    (overlay_repo / "Lib" / "interpreters.py").write_text("'''v3'''\n")
    with pytest.raises(tree.TreeError, match="README.rst"):
        tree.sync(build, fake_tarball, overlay_repo, patches=patches)
    assert (src / "README.rst").read_text() == "edited by hand\n"
