"""Virtual environments of the built ./python for the Python tools we use."""

import hashlib
import pathlib
import subprocess


class VenvError(Exception):
    """The environment could not be made or its packages installed."""


def ensure(python, venv, requirements, constraints=()):
    """Make venv from python and install requirements into it, once.

    The requirement and constraint files' contents are recorded in the
    environment, so editing a pin reinstalls and nothing else does.
    Return venv's python.
    """
    venv = pathlib.Path(venv)
    vpython = venv / "bin" / "python"
    files = [pathlib.Path(r) for r in (*requirements, *constraints)]
    digest = hashlib.sha256(
        b"".join(f.read_bytes() for f in files)).hexdigest()
    stamp = venv / "driver-requirements.sha256"
    if vpython.exists() and stamp.is_file() \
            and stamp.read_text() == digest:
        return vpython
    print(f"setting up {venv.name} ...", flush=True)
    steps = [[str(python), "-m", "venv", "--clear", str(venv)],
             [str(vpython), "-m", "pip", "install", "-q",
              "--disable-pip-version-check",
              *[arg for f in requirements for arg in ("-r", str(f))],
              *[arg for f in constraints for arg in ("-c", str(f))]]]
    for cmd in steps:
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            raise VenvError(f"{' '.join(cmd)} failed:\n"
                            f"{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    stamp.write_text(digest)
    return vpython
