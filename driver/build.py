"""Configure and compile one build variant of the synced source tree.

Each variant builds out of tree in build/<variant>, so the release,
debug and sanitizer builds share one source tree and rebuild incrementally.
"""

import os
import pathlib
import subprocess
import sys
import time

VARIANTS = {
    # What users get.
    "release": [],
    # Reference-leak hunting: ./python -m test -R 3:3.
    "debug": ["--with-pydebug"],
    # pymalloc off so that ASan sees every allocation, as the docs advise.
    "asan": ["--with-address-sanitizer", "--with-undefined-behavior-sanitizer",
             "--without-pymalloc"],
}


# The build runs the new python (setup.py, freezing): LeakSanitizer would
# fail it on CPython's deliberate leaks at exit.
VARIANT_ENV = {
    "asan": {"ASAN_OPTIONS": "detect_leaks=0"},
}


class BuildError(Exception):
    """Configure or make failed; the message shows the end of the log."""


def tail(path, lines=40):
    text = pathlib.Path(path).read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def _run_logged(cmd, cwd, log, env=None):
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
    wanted = "\n".join(args)
    if (bdir / "Makefile").is_file() and recorded.is_file() \
            and recorded.read_text() == wanted:
        return
    print(f"configuring {bdir.name} build ...", flush=True)
    _run_logged([str(pathlib.Path(src).resolve() / "configure"), *args],
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
    _run_logged(["make", f"-j{jobs}"], bdir, bdir / "build.log", env)
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
    return bdir / "python"
