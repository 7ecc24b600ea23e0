"""Install the release build under a prefix, as CPython's `make altinstall`.

The release build is configured with CPython's default prefix, /usr/local;
another prefix is given to the install step only.  The installed python
finds its standard library from where it is (3.11's getpath looks for
lib/python3.11/os.py above the executable before it falls back to the
configured prefix), which install() checks before it returns.
"""

import os
import pathlib
import subprocess

from . import build
from . import config

# altinstall installs python3.11, never python3: a system python3 (and
# whatever a python3 link points at) stays as it is.
BINARY = "python" + config.VERSION.rpartition(".")[0]

# What the installed python prints: where it found itself and its stdlib.
PROBE = "import os, sys, interpreters; print(sys.prefix); print(os.__file__)"


class InstallError(Exception):
    """The install was refused, failed, or gave a python that is broken."""


def _is_ours(python):
    """Return whether python is an installed build of this fork."""
    proc = subprocess.run([str(python), "-I", "-c", "import _interpreters"],
                          capture_output=True)
    return proc.returncode == 0


def check_target(prefix):
    """Refuse an install that would replace another python or cannot write."""
    target = prefix / "bin" / BINARY
    if (target.exists() or target.is_symlink()) and not _is_ours(target):
        raise InstallError(
            f"{target} exists and is not this fork's python (a system "
            f"python?): it is left alone; install elsewhere with "
            f"make install PREFIX=...")
    existing = prefix
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK):
        raise InstallError(
            f"cannot write to {existing}: run `sudo make install`, or "
            f"choose a prefix of your own, e.g. "
            f"make install PREFIX=$HOME/.local")


def clean_env():
    """Return the environment without what would point python elsewhere."""
    return {key: value for key, value in os.environ.items()
            if not key.startswith("PYTHON")}


def probe(python):
    """Return (sys.prefix, os.__file__) of an installed python."""
    proc = subprocess.run([str(python), "-c", PROBE], capture_output=True,
                          text=True, env=clean_env())
    if proc.returncode:
        raise InstallError(f"{python} does not run:\n{proc.stderr}")
    sys_prefix, os_file = proc.stdout.splitlines()
    return pathlib.Path(sys_prefix), pathlib.Path(os_file)


def install(bdir, prefix):
    """Install the build in bdir under prefix; return the installed python."""
    prefix = pathlib.Path(prefix)
    if not prefix.is_absolute():
        raise InstallError(f"PREFIX must be an absolute path, not {prefix}")
    check_target(prefix)
    log = bdir / "install.log"
    # A log that `sudo make install` left belongs to root: replace it.
    log.unlink(missing_ok=True)
    print(f"installing {BINARY} into {prefix} ...", flush=True)
    # Installing is mostly copying; compileall uses every core by itself.
    # altinstall would run ensurepip with the python of the build
    # directory, whose prefix is the configured one: pip would land there.
    build.run_logged(["make", "altinstall", f"prefix={prefix}",
                      "ENSUREPIP=no"], bdir, log)
    python = prefix / "bin" / BINARY
    sys_prefix, os_file = probe(python)
    stdlib = prefix / "lib" / BINARY
    if sys_prefix != prefix or os_file.parent != stdlib:
        raise InstallError(f"{python} takes its standard library from "
                           f"{os_file.parent}, not {stdlib}")
    # So pip is installed by the installed python, into its own prefix,
    # with the same options as altinstall's.
    with open(log, "a") as out:
        proc = subprocess.run(
            [str(python), "-m", "ensurepip", "--altinstall", "--upgrade"],
            stdout=out, stderr=subprocess.STDOUT, env=clean_env())
    if proc.returncode:
        raise InstallError(f"ensurepip failed (log: {log}):\n"
                           f"{build.tail(log)}")
    print(f"installed {python}, its standard library in {stdlib} and "
          f"pip ({python} -m pip); no python3 was installed or replaced")
    return python
