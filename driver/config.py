"""Facts the driver relies on, in one place."""

import os
import pathlib

VERSION = "3.11.2"
TARBALL = f"Python-{VERSION}.tgz"
SHA256 = "2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849"
URL = f"https://www.python.org/ftp/python/{VERSION}/{TARBALL}"

# The repository root: overlay files mirror the CPython tree from here.
REPO = pathlib.Path(__file__).resolve().parent.parent

# Top-level folders of the CPython tree that may hold files our patch adds.
OVERLAY_DIRS = ("Doc", "Include", "Lib", "Misc", "Modules", "Objects",
                "Parser", "PC", "PCbuild", "Programs", "Python", "Tools")

# Edits to upstream files, applied in the order `series` lists them.
PATCHES = REPO / "patches"

# Where the tarball may already be: a directory named by the environment.
CACHE_ENV = "CPYTHON_DOWNLOAD_CACHE"

# Identity and date of the commits the driver makes, fixed so that the
# exported patch is the same bytes on every machine.
IDENTITY = {
    "GIT_AUTHOR_NAME": "PEP 554 interpreters team",
    "GIT_AUTHOR_EMAIL": "interpreters-team@example.invalid",
    "GIT_AUTHOR_DATE": "2026-11-26T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "PEP 554 interpreters team",
    "GIT_COMMITTER_EMAIL": "interpreters-team@example.invalid",
    "GIT_COMMITTER_DATE": "2026-11-26T00:00:00+00:00",
}


def build_dir():
    """Return the build directory (BUILD_DIR in the environment, or build/)."""
    return pathlib.Path(os.environ.get("BUILD_DIR", REPO / "build")).resolve()


# What `make test` runs of regrtest: our tests, and the upstream tests of
# what the patch touches or could disturb.  test_tools (its test_freeze
# configures and builds a whole Python: minutes) runs with the whole suite
# in `make fullsuite`; tests/test_regen.py checks the files we regenerate.
REGRTESTS = (
    "test_interpreters",
    "test_interpreters_core",
    "test_interpreters_stress",
    "test_interpreters_interrupt",
    "test_interpreters_buffers",
    "test_interpreters_globals",
    "test_interpreters_owngil",
    "test_interpreters_owngil_stress",
    "test_immortal_objects",
    "test_concurrent_interpreters",
    "test_concurrent_interpreters_queues",
    "test_concurrent_interpreters_main",
    "test_interpreter_pool",
    "test_support_interpreters",
    "test__xxsubinterpreters",
    "test_threading",
    "test_embed",
    "test_capi",
    "test_sys",
    "test_signal",
    "test_threading_local",
    "test_descr",
    "test_float",
    "test_frozen",
    "test_types",
)


# Our own regrtest files: what the debug and sanitizer builds run.
OUR_REGRTESTS = (
    "test_interpreters",
    "test_interpreters_core",
    "test_interpreters_stress",
    "test_interpreters_interrupt",
    "test_interpreters_buffers",
    "test_interpreters_globals",
    "test_interpreters_owngil",
    "test_interpreters_owngil_stress",
    "test_immortal_objects",
    "test_concurrent_interpreters",
    "test_concurrent_interpreters_queues",
    "test_concurrent_interpreters_main",
    "test_interpreter_pool",
)

# CPython's own races that ThreadSanitizer may ignore, each justified.
TSAN_SUPPRESSIONS = REPO / "driver" / "tsan-suppressions.txt"

# How each variant checks them.
CHECKS = {
    # The heavy stress tests (-u cpu) on the release build.
    "release": {"args": ("--fail-env-changed", "-u", "cpu"), "env": {}},
    # The release build configured --with-immortal-objects (make owngil):
    # the only optimized build where interpreters with their own GIL run.
    "owngil": {"args": ("--fail-env-changed",), "env": {}},
    # No leaked references, memory blocks, file descriptors or threads.
    "debug": {"args": ("-R", "3:3", "--fail-env-changed"), "env": {}},
    # Any sanitizer report ends the process with an error.  The heavy
    # stress tests too (about 5 minutes under ASan), but for the RSS one,
    # which skips itself: ASan's quarantine keeps freed memory.
    "asan": {
        "args": ("--fail-env-changed", "-u", "cpu"),
        "env": {
            # CPython leaks by design at exit; leaks are the debug build's
            # business.  Huge allocations (MemoryError tests) must fail
            # the way malloc() does, not abort.
            "ASAN_OPTIONS": "detect_leaks=0:allocator_may_return_null=1:"
                            "halt_on_error=1:exitcode=99",
            "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:"
                             "exitcode=98",
        },
    },
    # Any data race or lock-order inversion ThreadSanitizer sees ends the
    # process with an error; each lock of an inversion shows where it was
    # taken.  The suppressions file says why each of its entries is there.
    # Our fork tests start threads in a child forked from a process with
    # threads, which TSan does not follow and by default kills: with
    # die_after_fork=0 the child runs on, still checked.  Huge allocations
    # (MemoryError tests) must fail the way malloc() does, not abort.
    # TSan makes threads 5 to 10 times slower: a longer --timeout makes
    # regrtest raise support.SHORT_TIMEOUT (to 60 s), the bound of every
    # wait, as for CPython's slow buildbots; 40 minutes, so that a file
    # that hangs still leaves CI within its 90.
    "tsan": {
        "args": ("--fail-env-changed", "--timeout", "2400"),
        "env": {
            "TSAN_OPTIONS": "halt_on_error=1:exitcode=97:"
                            "second_deadlock_stack=1:die_after_fork=0:"
                            "allocator_may_return_null=1:"
                            f"suppressions={TSAN_SUPPRESSIONS}",
        },
    },
}
