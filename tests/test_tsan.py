"""The ThreadSanitizer check (make test-tsan) fails on a data race.

A check that passes proves nothing unless a race would have failed it:
these tests run a real race under the check's TSAN_OPTIONS, in a small C
program built with the tsan variant's flags and, once `make test-tsan`
has built it, in the tsan build's python.
"""

import os
import shutil
import subprocess

import pytest

from driver import build, config

TSAN = config.CHECKS["tsan"]
TSAN_PYTHON = config.build_dir() / "tsan" / "python"
# What TSAN_OPTIONS makes a process that saw a race exit with.
RACE_EXIT = 97

# Two threads increment one int with no lock.
RACE_C = r"""
#include <pthread.h>

static int counter;

static void *
bump(void *arg)
{
    for (int i = 0; i < 1000; i++) {
        counter++;
    }
    return arg;
}

int
main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, bump, NULL);
    pthread_create(&b, NULL, bump, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return counter == 0;
}
"""

# ctypes calls a C function with the GIL released: two threads copying
# into one buffer at once is a race that no lock orders.
RACE_PY = """
import ctypes
import threading

shared = ctypes.create_string_buffer(4096)
sources = [ctypes.create_string_buffer(bytes([n]) * 4096) for n in (1, 2)]
start = threading.Barrier(2)

def copy(source):
    start.wait()
    for _ in range(1000):
        ctypes.memmove(shared, source, len(shared))

threads = [threading.Thread(target=copy, args=(s,)) for s in sources]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""

# The same threads, each with a buffer of its own: no race.
NO_RACE_PY = RACE_PY.replace("ctypes.memmove(shared, source,",
                             "ctypes.memmove(ctypes.create_string_buffer("
                             "4096), source,")


def _variant_flag(name):
    """Return the value of NAME=... among the tsan variant's configure
    arguments, split into words."""
    for arg in build.VARIANTS["tsan"]:
        if arg.startswith(name + "="):
            return arg.partition("=")[2].split()
    raise AssertionError(f"no {name} for the tsan variant")


def _run(cmd):
    env = dict(os.environ, **TSAN["env"])
    return subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no gcc")
def test_options_make_a_race_fail_a_program(tmp_path):
    source = tmp_path / "race.c"
    source.write_text(RACE_C)
    program = tmp_path / "race"
    proc = subprocess.run(
        ["gcc", *_variant_flag("CFLAGS"), *_variant_flag("LDFLAGS"), "-g",
         str(source), "-o", str(program), "-lpthread"],
        capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"gcc cannot build with ThreadSanitizer: {proc.stderr}")
    proc = _run([str(program)])
    assert proc.returncode == RACE_EXIT, proc.stderr
    assert "WARNING: ThreadSanitizer: data race" in proc.stderr


needs_tsan_python = pytest.mark.skipif(
    not TSAN_PYTHON.exists(), reason="no tsan build: run make test-tsan")


@needs_tsan_python
def test_race_fails_the_tsan_python():
    proc = _run([str(TSAN_PYTHON), "-c", RACE_PY])
    assert proc.returncode == RACE_EXIT, proc.stderr
    assert "WARNING: ThreadSanitizer: data race" in proc.stderr


@needs_tsan_python
def test_same_threads_without_the_race_pass():
    proc = _run([str(TSAN_PYTHON), "-c", NO_RACE_PY])
    assert proc.returncode == 0, proc.stderr
    assert "ThreadSanitizer" not in proc.stderr
