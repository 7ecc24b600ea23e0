"""Pristine 3.11.2, built exactly as our release build is built.

Two things compare the fork with it: the full regression suite's record
(`make fullsuite-baseline`) and the speed benchmarks (bench's pyperformance
case).  Both use this one build, build/pristine/release: the baseline
commit of build/src checked out on its own, configured with the release
variant's arguments and compiled in the same environment, so that the only
difference from build/release is our change.
"""

from . import build as build_mod
from . import git
from . import source
from . import tree

# Where, under the build directory, the pristine checkout and its builds go.
CHECKOUT = "pristine-src"
BUILDS = "pristine"
VARIANT = "release"


def checkout(build_root):
    """Return a checkout of the baseline commit, made once."""
    tarball = source.find_tarball(build_root / "downloads")
    src = tree.ensure_baseline(build_root, tarball)
    pristine = build_root / CHECKOUT
    if not (pristine / "configure").is_file():
        git.run(src, "worktree", "prune")
        git.run(src, "worktree", "add", "-q", "--detach", str(pristine),
                "baseline")
    return pristine


def python_path(build_root):
    """Return where the pristine release build's python is (or will be)."""
    return build_root / BUILDS / VARIANT / "python"


def build(build_root, jobs=None):
    """Configure if needed and make pristine's release build, incrementally;
    return its python."""
    return build_mod.build(checkout(build_root), build_root / BUILDS,
                           VARIANT, jobs)
