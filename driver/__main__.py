"""Command line of the build driver: python3 -m driver COMMAND.

  sync                 lay our change over pristine 3.11.2 in build/src
  build [VARIANT]      sync, then configure and make (release, debug, asan,
                       tsan)
  install --prefix P   install the release build as P/bin/python3.11, with
                       its stdlib and pip (CPython's make altinstall)
  pristine             build unpatched 3.11.2 (the full-suite baseline)
  patch OUT            sync, then write our change as one patch to OUT
  test                 regrtest and pytest on the build; print the counts
  docs                 build the HTML docs with -W and lint them
  check VARIANT        build a variant and run our tests on it (debug: -R 3:3
                       refleak hunt; asan: AddressSanitizer + UBSan; tsan:
                       ThreadSanitizer)
  fullsuite            whole regrtest suite, compared with pristine's record
  fullsuite-baseline   build pristine 3.11.2, run the suite, record it
"""

import argparse
import json
import os
import signal
import subprocess
import sys

from . import build as build_mod
from . import config
from . import fullsuite
from . import git
from . import install as install_mod
from . import pristine
from . import source
from . import testrun
from . import tree
from . import venv


def _sync(build_root):
    tarball = source.find_tarball(build_root / "downloads")
    src = tree.ensure_baseline(build_root, tarball)
    tree.sync(build_root, tarball)
    return src


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


def _check(build_root, variant, jobs):
    """Run our regrtest files on the last build of one variant."""
    jobs = jobs or os.cpu_count() or 1
    python = build_root / variant / "python"
    if not python.exists():
        raise build_mod.BuildError(f"no {variant} build: run make first")
    check = config.CHECKS[variant]
    env = dict(os.environ, **check["env"])
    cmd = [str(python), "-m", "test", f"-j{jobs}", "--timeout", "1800",
           *check["args"], *config.OUR_REGRTESTS]
    print(f"{variant}: {' '.join(cmd[1:])}", flush=True)
    rc = subprocess.run(cmd, env=env).returncode
    print(f"{variant} check: {'passed' if rc == 0 else 'FAILED'}")
    return rc


BASELINE = config.REPO / "tests" / "baseline" / f"pristine-{config.VERSION}.json"


def _fullsuite(build_root, jobs):
    """Run the fork's whole suite; fail on what pristine does not fail."""
    results = build_root / "test-results"
    results.mkdir(parents=True, exist_ok=True)
    python = build_root / "release" / "python"
    print("running the whole regression suite ...", flush=True)
    try:
        files, cases = fullsuite.run_suite(python, results / "full.xml",
                                           results / "full.log", jobs)
    except fullsuite.SuiteError as exc:
        print(f"full suite: FAILED: {exc}")
        return 1
    new_files, new_cases = fullsuite.compare(
        fullsuite.load_baseline(BASELINE), files, cases)
    print(f"full suite: {len(files)} test files failed, "
          f"{len(files) - len(new_files)} of them as on pristine "
          f"(log: {results / 'full.log'})")
    if new_files or new_cases:
        print("running the new failures again, alone ...", flush=True)
    try:
        failing, flaky = fullsuite.confirm(python, results, new_files,
                                           new_cases)
    except fullsuite.SuiteError as exc:
        print(f"full suite: FAILED: {exc}")
        return 1
    for name in flaky:
        print(f"  failed under load, passed alone: {name} "
              f"(log: {results / 'full.log'})")
    for name in failing:
        print(f"  fails here, passes on pristine: {name} "
              f"(log: {results / 'rerun.log'})")
    print(f"full suite: {'FAILED' if failing else 'passed'}")
    return 1 if failing else 0


def _fullsuite_baseline(build_root, jobs):
    """Build pristine 3.11.2 the same way, run its suite, record failures."""
    python = pristine.build(build_root, jobs)
    results = build_root / "test-results"
    results.mkdir(parents=True, exist_ok=True)
    print("running pristine's whole regression suite ...", flush=True)
    files, cases = fullsuite.run_suite(python, results / "pristine.xml",
                                       results / "pristine.log", jobs)
    # As for the fork: what fails only under load is not recorded.
    failing, flaky = fullsuite.confirm(python, results, sorted(files),
                                       sorted(cases), "pristine-rerun")
    for name in flaky:
        print(f"  failed under load, passed alone: {name}")
    files = {name for name in files if name in failing}
    cases = {name for name in cases if name in failing}
    old = {}
    if BASELINE.is_file():
        old = json.loads(BASELINE.read_text()).get("reasons", {})
    ignore = " ".join(f"--ignore '{pattern}'"
                      for pattern in fullsuite.IGNORED)
    record = {
        "what": f"pristine {config.VERSION}, release build, "
                f"python -m test -j{jobs} --timeout {fullsuite.TIMEOUT} "
                f"{ignore}, default resources, as root; failures confirmed "
                "by a second run alone",
        "failed_files": sorted(files),
        "failed_cases": sorted(cases),
        "reasons": {name: old.get(name, "XXX: say why")
                    for name in sorted(files)},
        "ignored_tests": fullsuite.IGNORED,
    }
    BASELINE.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {BASELINE}: {len(files)} failing test files")
    return 0


def _docs(build_root):
    """Build the documentation warning-free and run its linter."""
    src = tree.source_dir(build_root)
    python = build_root / "release" / "python"
    doc = src / "Doc"
    vdir = build_root / "docs-venv"
    venv.ensure(python, vdir, [doc / "requirements.txt"],
                [config.REPO / "driver" / "docs-constraints.txt"])
    # The tree's Doc/Makefile builds with -W: any warning fails the build.
    return subprocess.run(
        ["make", "-C", str(doc), "html", "check", f"VENVDIR={vdir}",
         f"PYTHON={vdir / 'bin' / 'python'}", "JOBS=2"]).returncode


def restore_sigint():
    """Let the processes we start see SIGINT as a terminal sends it.

    A shell without job control starts background commands with SIGINT
    ignored, and an ignored signal stays ignored in every process started
    from then on: Python then installs no KeyboardInterrupt handler, and
    the tests of Ctrl-C (ours, test_pdb, test_generators, ...) fail.  A
    handler of our own is reset to the default in the programs we run.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m driver", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("sync")
    p_build = sub.add_parser("build")
    p_build.add_argument("variant", nargs="?", default="release")
    p_build.add_argument("-j", "--jobs", type=int)
    p_pristine = sub.add_parser("pristine")
    p_pristine.add_argument("-j", "--jobs", type=int)
    p_install = sub.add_parser("install")
    p_install.add_argument("--prefix", default="/usr/local")
    p_patch = sub.add_parser("patch")
    p_patch.add_argument("out")
    sub.add_parser("docs")
    p_check = sub.add_parser("check")
    p_check.add_argument("variant", choices=sorted(config.CHECKS))
    p_check.add_argument("-j", "--jobs", type=int)
    for name in ("fullsuite", "fullsuite-baseline"):
        # regrtest -j0: as many workers as CPUs, plus two.
        sub.add_parser(name).add_argument("-j", "--jobs", type=int,
                                          default=0)
    p_test = sub.add_parser("test")
    p_test.add_argument("-j", "--jobs", type=int)
    args = parser.parse_args(argv)
    restore_sigint()

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
            pristine.build(build_root, args.jobs)
        elif args.command == "install":
            release = build_root / "release"
            if not (release / "python").exists():
                raise build_mod.BuildError("no build to install: run make")
            install_mod.install(release, args.prefix)
        elif args.command == "patch":
            src = _sync(build_root)
            tree.export_patch(src, args.out)
            print(f"wrote {args.out}")
        elif args.command == "fullsuite":
            return _fullsuite(build_root, args.jobs)
        elif args.command == "fullsuite-baseline":
            return _fullsuite_baseline(build_root, args.jobs)
        elif args.command == "check":
            return _check(build_root, args.variant, args.jobs)
        elif args.command == "docs":
            return _docs(build_root)
        elif args.command == "test":
            return _test(build_root, args.jobs)
    except (source.SourceError, tree.TreeError, git.GitError,
            build_mod.BuildError, venv.VenvError,
            install_mod.InstallError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
