"""Command line of the build driver: python3 -m driver COMMAND.

  sync                 lay our change over pristine 3.11.2 in build/src
  build [VARIANT]      sync, then configure and make (release, debug, asan)
  pristine             build unpatched 3.11.2 (the full-suite baseline)
  patch OUT            sync, then write our change as one patch to OUT
  test                 build, then regrtest and pytest; print the counts
"""

import argparse
import os
import sys

from . import build as build_mod
from . import config
from . import git
from . import source
from . import testrun
from . import tree
from . import venv


def _sync(build_root):
    tarball = source.find_tarball(build_root / "downloads")
    src = tree.ensure_baseline(build_root, tarball)
    tree.sync(build_root, tarball)
    return src


def _pristine(build_root):
    """Return a checkout of the baseline commit, for the baseline build."""
    tarball = source.find_tarball(build_root / "downloads")
    src = tree.ensure_baseline(build_root, tarball)
    pristine = build_root / "pristine-src"
    if not (pristine / "configure").is_file():
        git.run(src, "worktree", "prune")
        git.run(src, "worktree", "add", "-q", "--detach", str(pristine),
                "baseline")
    return pristine


def _test(build_root, jobs):
    """Run the regression tests and the tooling tests of the last build."""
    jobs = jobs or os.cpu_count() or 1
    src = tree.source_dir(build_root)
    python = build_root / "release" / "python"
    if not python.exists():
        raise build_mod.BuildError("no build to test: run make first")
    results = build_root / "test-results"
    counts = testrun.Counts()
    counts += testrun.run_counted(
        [python, "-m", "test", f"-j{jobs}", "--fail-env-changed",
         "--timeout", "1200", "--junit-xml", results / "regrtest.xml",
         *config.REGRTESTS], results / "regrtest.xml")
    vpython = venv.ensure(python, build_root / "venv",
                          [config.REPO / "tests" / "requirements.txt"])
    counts += testrun.run_counted(
        [vpython, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--junitxml={results / 'pytest.xml'}", config.REPO / "tests",
         src / "Lib" / "test" / "test_interpreters.py"],
        results / "pytest.xml", cwd=config.REPO)
    print(counts.line())
    return 1 if counts.failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m driver",
                                     description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sync")
    p_build = sub.add_parser("build")
    p_build.add_argument("variant", nargs="?", default="release")
    p_build.add_argument("-j", "--jobs", type=int)
    p_pristine = sub.add_parser("pristine")
    p_pristine.add_argument("-j", "--jobs", type=int)
    p_patch = sub.add_parser("patch")
    p_patch.add_argument("out")
    p_test = sub.add_parser("test")
    p_test.add_argument("-j", "--jobs", type=int)
    args = parser.parse_args(argv)

    build_root = config.build_dir()
    try:
        if args.command == "sync":
            _sync(build_root)
        elif args.command == "build":
            src = _sync(build_root)
            python = build_mod.build(src, build_root, args.variant,
                                     args.jobs)
            print(python) if os.environ.get("DRIVER_VERBOSE") else None
        elif args.command == "pristine":
            src = _pristine(build_root)
            build_mod.build(src, build_root / "pristine", "release",
                            args.jobs)
        elif args.command == "patch":
            src = _sync(build_root)
            tree.export_patch(src, args.out)
            print(f"wrote {args.out}")
        elif args.command == "test":
            return _test(build_root, args.jobs)
    except (source.SourceError, tree.TreeError, git.GitError,
            build_mod.BuildError, venv.VenvError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
