"""The `parallel` case: own-GIL interpreters against the other ways to
run CPU-bound Python code on every core.

bench.run calls run() in its own process (the host's python3): it builds
the driver's `owngil` variant if needed (the release build configured
--with-immortal-objects: the only builds that offer create(own_gil=True)),
runs bench/parallel.py with that python and leaves OUT/parallel.json,
which bench.parallel reads back for results.md.

BENCH_OWNGIL_PYTHON in the environment names another python to run it
with instead (while developing, say); nothing is built then.
"""

import fcntl
import json
import os
import pathlib
import subprocess

from driver import build as build_mod
from driver import config, git, source, tree

from bench import parallel

VARIANT = 'owngil'
PYTHON_ENV = 'BENCH_OWNGIL_PYTHON'

# The whole script's limit: its own waits are bounded (parallel.TIMEOUT),
# this catches a hang they cannot see (a worker stuck at exit).
TIMEOUT = 1800


class ParallelError(Exception):
    """The case cannot run: no python that offers own-GIL interpreters."""


def build_owngil(build_root):
    """Build the owngil variant (once: make is incremental); return its
    python.

    Under the build directory's lock, as the Makefile takes it: builds
    share build/src.
    """
    if VARIANT not in build_mod.VARIANTS:
        raise ParallelError(
            f'the driver has no {VARIANT!r} variant to build; set '
            f'{PYTHON_ENV} to a python configured --with-immortal-objects')
    build_root.mkdir(parents=True, exist_ok=True)
    with open(build_root / '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            tarball = source.find_tarball(build_root / 'downloads')
            src = tree.ensure_baseline(build_root, tarball)
            tree.sync(build_root, tarball)
            return build_mod.build(src, build_root, VARIANT)
        except (source.SourceError, tree.TreeError, git.GitError,
                build_mod.BuildError) as exc:
            raise ParallelError(f'the {VARIANT} build failed: {exc}')


def owngil_python(build_root, environ=os.environ):
    """Return the python to measure with: BENCH_OWNGIL_PYTHON, or the
    owngil build (built first if needed)."""
    named = environ.get(PYTHON_ENV)
    if named:
        path = pathlib.Path(named)
        if not path.exists():
            raise ParallelError(f'{PYTHON_ENV}={named}: no such file')
        return path
    return build_owngil(build_root)


def run(build_root, out, quick=False):
    """Run bench.parallel into out/parallel.json; return the names of the
    measurements that failed ('parallel/NAME')."""
    python = owngil_python(build_root)
    path = out.resolve() / parallel.RESULT_FILE
    path.unlink(missing_ok=True)
    cmd = [str(python), '-m', 'bench.parallel', '--out', str(path)]
    if quick:
        cmd.append('--quick')
    env = dict(os.environ, PYTHONPATH=str(config.REPO))
    env.pop('PYTHONHOME', None)
    try:
        proc = subprocess.run(cmd, cwd=config.REPO, env=env,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return ['parallel']
    if not path.is_file():
        return ['parallel']
    failed = [f'parallel/{name}'
              for name in json.loads(path.read_text())['failed']]
    if proc.returncode and not failed:
        failed = ['parallel']
    return failed
