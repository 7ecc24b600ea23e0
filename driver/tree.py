"""Lay our change over the pristine source tree.

The pristine tarball is unpacked once into a git repository, committed as
the tag `baseline`.  Our change is computed as a git tree: the baseline,
then every patch in patches/series applied in order, then the overlay files
of this repository (the new files, at the same paths as in CPython).  That
tree is committed on top of the baseline as branch `ours` and checked out
with `git reset --hard`, which rewrites only the files whose content
differs, so the build afterwards recompiles only what really changed.
"""

import os
import pathlib
import shutil
import subprocess
import tarfile

from . import config
from . import git


class TreeError(Exception):
    """Our change cannot be laid over the pristine tree."""


def source_dir(build):
    return pathlib.Path(build) / "src"


# --- the baseline ---------------------------------------------------------

def ensure_baseline(build, tarball):
    """Unpack tarball as the baseline commit of build/src, once."""
    src = source_dir(build)
    marker = src / ".git" / "driver-baseline-sha256"
    if marker.is_file():
        return src
    tmp = src.with_name(src.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        top = f"Python-{config.VERSION}/"
        members = []
        for member in tar.getmembers():
            if member.name == top.rstrip("/"):
                continue
            if not member.name.startswith(top):
                raise TreeError(f"unexpected member {member.name!r} "
                                f"in {tarball}")
            member.name = member.name[len(top):]
            if member.name:
                members.append(member)
        tar.extractall(tmp, members)
    git.run(tmp, "init", "-q", "-b", "pristine")
    git.run(tmp, "config", "core.autocrlf", "false")
    git.run(tmp, "config", "gc.auto", "0")
    # -f: the tarball may ship files that its own .gitignore names.
    git.run(tmp, "add", "-A", "-f")
    git.run(tmp, "commit", "-q", "-m",
            f"Python {config.VERSION} release tarball")
    git.run(tmp, "tag", "baseline")
    git.run(tmp, "checkout", "-q", "-b", "ours")
    (tmp / ".git" / "driver-baseline-sha256").write_text(config.SHA256)
    shutil.rmtree(src, ignore_errors=True)
    os.replace(tmp, src)
    return src


# --- our change -----------------------------------------------------------

def read_series(patches):
    """Return the patch files named by patches/series, in order."""
    series = pathlib.Path(patches) / "series"
    if not series.is_file():
        return []
    names = []
    for line in series.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            path = pathlib.Path(patches) / line
            if not path.is_file():
                raise TreeError(f"patches/series names {line}, "
                                f"which does not exist")
            names.append(path)
    return names


def overlay_files(repo=config.REPO):
    """Return the repository's overlay files as paths relative to repo.

    Tracked files and untracked files git does not ignore count, so a new
    file takes part in the build before it is committed.
    """
    out = git.run(repo, "ls-files", "-z", "--cached", "--others",
                  "--exclude-standard", "--", *config.OVERLAY_DIRS)
    paths = sorted(set(p for p in out.split("\0") if p))
    return [p for p in paths if (pathlib.Path(repo) / p).is_file()]


def desired_tree(src, repo=config.REPO, patches=None):
    """Return the id of the git tree of pristine + patches + overlay."""
    if patches is None:
        patches = read_series(pathlib.Path(repo) / "patches")
    index = pathlib.Path(src) / ".git" / "driver-index"
    env = {"GIT_INDEX_FILE": str(index)}
    git.run(src, "read-tree", "baseline", env=env)
    for patch in patches:
        try:
            git.run(src, "apply", "--cached", "--whitespace=nowarn",
                    str(pathlib.Path(patch).resolve()), env=env)
        except git.GitError as exc:
            raise TreeError(f"{pathlib.Path(patch).name} does not apply "
                            f"to the pristine tree:\n{exc}") from None

    upstream = set(git.run(src, "ls-files", "-z", env=env).split("\0"))
    overlay = overlay_files(repo)
    clashes = [p for p in overlay if p in upstream]
    if clashes:
        raise TreeError(
            "these overlay files exist upstream; change upstream files "
            "with a patch in patches/, never as a whole copy:\n  "
            + "\n  ".join(clashes))
    if overlay:
        absolute = [str(pathlib.Path(repo) / p) for p in overlay]
        shas = git.run(src, "hash-object", "-w", "--stdin-paths",
                       input="\n".join(absolute) + "\n").split()
        entries = []
        for path, sha in zip(overlay, shas):
            executable = os.access(pathlib.Path(repo) / path, os.X_OK)
            mode = "100755" if executable else "100644"
            entries.append(f"{mode} {sha}\t{path}\n")
        git.run(src, "update-index", "--add", "--index-info",
                input="".join(entries), env=env)
    return git.run(src, "write-tree", env=env).strip()


def commit_message(repo=config.REPO):
    return (pathlib.Path(repo) / "patches" / "commit-message.txt").read_text()


def local_edits(src):
    """Return tracked files of src changed by hand since the last sync."""
    out = git.run(src, "status", "--porcelain", "--untracked-files=no")
    return [line[3:] for line in out.splitlines()]


def sync(build, tarball, repo=config.REPO, patches=None):
    """Make build/src hold pristine + our change; return True if it moved."""
    src = ensure_baseline(build, tarball)
    tree = desired_tree(src, repo, patches)
    if git.run(src, "rev-parse", "HEAD^{tree}").strip() == tree:
        return False
    edits = local_edits(src)
    if edits:
        raise TreeError(
            f"{src} has hand edits to upstream files, which the sync would "
            "overwrite:\n  " + "\n  ".join(edits) + "\nTurn them into a "
            "patch (git -C build/src diff > patches/NNNN-name.patch, add it "
            "to patches/series), then `git -C build/src checkout -- .`.")
    commit = git.run(src, "commit-tree", tree, "-p", "baseline",
                     input=commit_message(repo)).strip()
    git.run(src, "reset", "-q", "--hard", commit)
    return True


def export_patch(src, out):
    """Write our change as one format-patch style patch to out."""
    text = git.run(src, "format-patch", "--stdout", "--no-signature",
                   "-M", "--full-index", "baseline..ours")
    pathlib.Path(out).write_text(text)
