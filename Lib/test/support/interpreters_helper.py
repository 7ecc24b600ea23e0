"""Helpers for the tests of the interpreters modules.

The tests of interpreters (PEP 554), concurrent.interpreters and
concurrent.futures.InterpreterPoolExecutor share these: a TestCase that
destroys the interpreters each test made, a way to keep an interpreter
busy for the length of a with block, a way to empty a queue, a way to
run a script in a child process and press Ctrl-C there, and the skip for
interpreters with their own GIL.

Importing this module skips the test module that imports it if the
_interpreters module is missing.
"""

import contextlib
import os
import queue
import selectors
import signal
import subprocess
import sysconfig
import threading
import unittest

from test import support
from test.support import import_helper
from test.support import script_helper
from test.support import sigint_helper
from test.support import threading_helper

_interpreters = import_helper.import_module('_interpreters')


# Interpreters with their own GIL need immortal objects, a build option.
OWN_GIL = bool(sysconfig.get_config_var('Py_IMMORTAL_OBJECTS'))
requires_own_gil = unittest.skipUnless(
    OWN_GIL, 'needs a build configured --with-immortal-objects')


def destroy_new_interpreters(old_ids):
    """Destroy every interpreter whose id is not in old_ids.

    Newest first: one of them may have been created inside another.  One
    may be gone by its turn: the last concurrent.interpreters.Interpreter
    object of an interpreter closes it when it goes, which a garbage
    collection can make happen at any time (while another is destroyed,
    say).
    """
    new_ids = set(_interpreters.list_all()) - set(old_ids)
    for interp_id in sorted(new_ids, reverse=True):
        try:
            _interpreters.destroy(interp_id)
        except _interpreters.InterpreterNotFoundError:
            pass


class TestBase(unittest.TestCase):
    """Destroy every interpreter a test made, once the test is over.

    tearDown() destroys them, before the cleanups that the test added run.
    """

    def setUp(self):
        super().setUp()
        # The interpreters that existed before the test: left alone.
        self.old_interp_ids = frozenset(_interpreters.list_all())

    def tearDown(self):
        destroy_new_interpreters(self.old_interp_ids)
        super().tearDown()

    def pipe(self):
        """Return the (read, write) descriptors of a new pipe.

        Both are closed when the test is over.
        """
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        self.addCleanup(os.close, w)
        return r, w


@contextlib.contextmanager
def running(run):
    """Keep code running in another thread for the length of the with block.

    run(source) must run source in an interpreter and return when the
    code does: an Interpreter's run() or exec() method, say.  The with
    block starts once the code runs; it blocks until the block ends, then
    the thread is joined.  If run() raises, the block does not start, or
    the with statement raises that exception once the block ends.
    """
    # Pipes, not queues: the code only needs os, which every kind of
    # interpreter can import.
    started_r, started_w = os.pipe()
    release_r, release_w = os.pipe()
    errors = []

    def target():
        try:
            run(f'import os; os.write({started_w}, b"1"); '
                f'os.read({release_r}, 1)')
        except BaseException as exc:
            errors.append(exc)
        finally:
            # Unblock the waiting thread below even if run() failed early.
            os.write(started_w, b'0')

    thread = threading.Thread(target=target)
    thread.start()
    try:
        if os.read(started_r, 1) != b'1':
            raise AssertionError(f'the code did not start: {errors}')
        yield
    finally:
        os.write(release_w, b'1')
        threading_helper.join_thread(thread)
        for fd in (started_r, started_w, release_r, release_w):
            os.close(fd)
    if errors:
        raise errors[0]


def drain(q):
    """Remove the items that q holds now, without blocking; return them.

    q is a queue of either module: the QueueEmpty of both is a
    queue.Empty.
    """
    items = []
    while True:
        try:
            items.append(q.get_nowait())
        except queue.Empty:
            return items


def run_script(testcase, source, *, send_sigint_after=None, blocked=False,
               stdin=None):
    """Run source in a new Python process; return (rc, stdout, stderr).

    If send_sigint_after is set, wait until the process prints that line
    (and, if blocked is true, until it blocks in the call that follows),
    then send it SIGINT.  stdin, if set, is then written to its standard
    input.  testcase fails if the line does not come or the process does
    not exit within SHORT_TIMEOUT.
    """
    proc = script_helper.spawn_python('-X', 'faulthandler', '-c', source,
                                      stderr=subprocess.PIPE, text=True)
    with proc:
        try:
            if send_sigint_after is not None:
                _wait_for_output(proc)
                line = proc.stdout.readline()
                if line != send_sigint_after + '\n':
                    proc.kill()
                    out, err = proc.communicate()
                    testcase.fail(f'unexpected output {line!r}, '
                                  f'stdout={out!r}, stderr={err!r}')
                sigint_helper.send_sigint(proc, blocked=blocked)
            out, err = proc.communicate(stdin, timeout=support.SHORT_TIMEOUT)
        except subprocess.TimeoutExpired:
            out, err = _abort(proc)
            testcase.fail(f'process hung; stdout={out!r}, stderr={err!r}')
    return proc.returncode, out, err


def _wait_for_output(proc):
    # A bare readline() would wait for good if the process hung before
    # printing anything.
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(support.SHORT_TIMEOUT):
            raise subprocess.TimeoutExpired(proc.args, support.SHORT_TIMEOUT)


def _abort(proc):
    """End the hung process proc; return what it wrote (out, err)."""
    # On SIGABRT, faulthandler dumps the stack of every thread to stderr:
    # the failure then shows where the process hung.
    proc.send_signal(signal.SIGABRT)
    try:
        return proc.communicate(timeout=support.SHORT_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()
