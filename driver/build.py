"""Configure and compile one build variant of the synced source tree.

Each variant builds out of tree in build/<variant>, so the release,
debug and sanitizer builds share one source tree and rebuild incrementally.
"""

import os
import pathlib
import subprocess
import sys
import time

from . import config

# Interpreters with their own GIL need immortal objects (patch 0020), a
# build-time option: the debug and sanitizer checks below stress-test
# them, so their builds have it; the release build, what users get, does
# not.  The debug build counts references per interpreter (patch 0037),
# so -R 3:3 measures leaks with interpreters running in parallel too.
IMMORTAL = "--with-immortal-objects"

VARIANTS = {
    # What users get.
    "release": [],
    # The release build with immortal objects: what offers interpreters
    # with their own GIL (make owngil: ./python-owngil).
    "owngil": [IMMORTAL],
    # Reference-leak hunting: ./python -m test -R 3:3.
    "debug": ["--with-pydebug", IMMORTAL],
    # pymalloc off so that ASan sees every allocation, as the docs advise.
    "asan": ["--with-address-sanitizer", "--with-undefined-behavior-sanitizer",
             "--without-pymalloc", IMMORTAL],
    # 3.11's configure has no --with-thread-sanitizer: the flags by hand.
    # CFLAGS come after configure's -O3 and so replace it: -O1 keeps the
    # reports' stacks faithful and the build short.  pymalloc off so that
    # TSan sees every allocation and free through its malloc interceptors:
    # memory that pymalloc hands from one object to the next would look
    # like one long-lived block to it.
    "tsan": ["--without-pymalloc", IMMORTAL, "CFLAGS=-fsanitize=thread -O1",
             "LDFLAGS=-fsanitize=thread"],
}


# The build runs the new python (setup.py, freezing): LeakSanitizer would
# fail it on CPython's deliberate leaks at exit.
VARIANT_ENV = {
    "asan": {"ASAN_OPTIONS": "detect_leaks=0"},
    # And a race that ThreadSanitizer reports makes the new python exit
    # with an error at its end, failing the build: CPython's own benign
    # ones are suppressed as in the check (make test-tsan).
    "tsan": {"TSAN_OPTIONS": f"suppressions={config.TSAN_SUPPRESSIONS}"},
}


class BuildError(Exception):
    """Configure or make failed; the message shows the end of the log."""


DEPS_SCRIPT = pathlib.Path(__file__).resolve().parent / "install-build-deps.sh"

# The Debian package that brings what each optional module needs; the
# installer (DEPS_SCRIPT) installs all of them.
MODULE_PACKAGES = {
    "_bz2": "libbz2-dev",
    "_crypt": "libcrypt-dev",
    "_ctypes": "libffi-dev",
    "_curses": "libncurses-dev",
    "_curses_panel": "libncurses-dev",
    "_dbm": "libgdbm-compat-dev",
    "_gdbm": "libgdbm-dev",
    "_hashlib": "libssl-dev",
    "_lzma": "liblzma-dev",
    "_sqlite3": "libsqlite3-dev",
    "_ssl": "libssl-dev",
    "_tkinter": "tk-dev",
    "_uuid": "uuid-dev",
    "nis": "libnsl-dev",
    "readline": "libreadline-dev",
    "zlib": "zlib1g-dev",
}

# The lists that setup.py's summary, at the end of every make, prints
# after these headings; each list ends at a blank line or the hint below.
MODULE_REPORT_HEADINGS = {
    "The necessary bits to build these optional modules were not found:":
        "missing",
    "Failed to build these modules:": "failed",
    "Following modules built successfully but were removed because they "
    "could not be imported:": "failed",
}
MODULE_REPORT_HINT = "To find the necessary bits"


def unbuilt_modules(log_text):
    """Return the optional modules that setup.py reports it did not build.

    A dict: "missing" lists those whose headers or libraries were not
    found, "failed" those that failed to compile or to import.
    """
    found = {"missing": [], "failed": []}
    current = None
    for line in log_text.splitlines():
        line = line.strip()
        if line in MODULE_REPORT_HEADINGS:
            current = found[MODULE_REPORT_HEADINGS[line]]
        elif current is not None:
            if not line or line.startswith(MODULE_REPORT_HINT):
                current = None
            else:
                current.extend(line.split())
    return found


def module_report(unbuilt, log):
    """Return the lines that tell what the build lacks and how to fix it."""
    if not unbuilt["missing"] and not unbuilt["failed"]:
        return []
    rule = "=" * 72
    lines = [rule, "This build lacks these optional modules of the standard "
             "library:"]
    by_package = {}
    for name in unbuilt["missing"]:
        by_package.setdefault(MODULE_PACKAGES.get(name), []).append(name)
    for package, names in sorted(by_package.items(),
                                 key=lambda item: item[0] or "~"):
        need = (f"needs the package {package}" if package
                else "needs a library that setup.py did not find")
        lines.append(f"  {' '.join(names):30} {need}")
    if unbuilt["failed"]:
        lines.append(f"  {' '.join(unbuilt['failed']):30} failed to build "
                     f"(see {log})")
    if by_package:
        lines += ["Install the missing packages, then run make again "
                  "(configure runs again",
                  "when they change):",
                  f"    {'' if os.geteuid() == 0 else 'sudo '}"
                  f"sh {os.path.relpath(DEPS_SCRIPT)}"]
    lines.append(rule)
    return lines


def deps_state():
    """Return the installed versions of the build dependencies, as text.

    configure looks for the optional modules' headers and libraries once:
    recorded with its arguments, this makes it run again when a package
    is installed, removed or upgraded.  Empty where there is no dpkg.
    """
    try:
        packages = subprocess.run(
            ["sh", str(DEPS_SCRIPT), "--list"], capture_output=True,
            text=True, check=True).stdout.split()
        proc = subprocess.run(
            ["dpkg-query", "-W", "-f=${Package}=${Version} ${Status}\n",
             *packages], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return "\n".join(sorted(proc.stdout.splitlines()))


def tail(path, lines=40):
    text = pathlib.Path(path).read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def run_logged(cmd, cwd, log, env=None):
    with open(log, "w") as out:
        proc = subprocess.run(cmd, cwd=cwd, stdout=out,
                              stderr=subprocess.STDOUT, env=env)
    if proc.returncode:
        raise BuildError(f"{' '.join(map(str, cmd))} failed in {cwd} "
                         f"(full log: {log}):\n{tail(log)}")


def configure(src, bdir, args, env=None):
    """Run configure in bdir unless it already ran with the same args."""
    bdir.mkdir(parents=True, exist_ok=True)
    recorded = bdir / "driver-configure-args"
    wanted = "\n".join(args) + "\n# build dependencies:\n" + deps_state()
    if (bdir / "Makefile").is_file() and recorded.is_file() \
            and recorded.read_text() == wanted:
        return
    print(f"configuring {bdir.name} build ...", flush=True)
    run_logged([str(pathlib.Path(src).resolve() / "configure"), *args],
                bdir, bdir / "configure.log", env)
    recorded.write_text(wanted)


def _outputs_newer_than(bdir, since):
    count = 0
    for root, dirs, files in os.walk(bdir):
        for name in files:
            if name.endswith((".o", ".so", ".a")) or name == "python":
                if os.stat(os.path.join(root, name)).st_mtime > since:
                    count += 1
    return count


def make(bdir, jobs, env=None):
    """Run make in bdir; return how many outputs it rebuilt."""
    start = time.time()
    # A log file: a build with nothing to do prints nothing.
    run_logged(["make", f"-j{jobs}"], bdir, bdir / "build.log", env)
    return _outputs_newer_than(bdir, start)


def build(src, build_root, variant, jobs=None, extra_args=()):
    """Configure if needed and make one variant; return its python path."""
    if variant not in VARIANTS:
        raise BuildError(f"unknown variant {variant!r}; "
                         f"choose from {', '.join(VARIANTS)}")
    jobs = jobs or os.cpu_count() or 1
    bdir = pathlib.Path(build_root) / variant
    env = dict(os.environ, **VARIANT_ENV.get(variant, {}))
    configure(src, bdir, VARIANTS[variant] + list(extra_args), env)
    rebuilt = make(bdir, jobs, env)
    if rebuilt:
        print(f"{variant}: rebuilt {rebuilt} file(s)", flush=True)
    # setup.py's report of what it could not build ends a log that nobody
    # reads: say it last, where it is seen.
    log = bdir / "build.log"
    unbuilt = unbuilt_modules(log.read_text(errors="replace"))
    for line in module_report(unbuilt, log):
        print(line)
    return bdir / "python"
