"""Send SIGINT to a child process once it waits in a blocking call.

A test that interrupts a blocking call (time.sleep(), a lock, a queue)
with SIGINT must not send the signal in the instant between the last
check of the eval loop and the start of the system call: the signal is
then noted but nothing wakes the call, which blocks for good.  A Ctrl-C
pressed at that instant is lost in a plain program too; a test must not
depend on winning that race.
"""

import os
import signal
import time

from test import support


# Without /proc, how long to give the child to reach its blocking call.
FALLBACK_DELAY = 0.1

# How long the main thread must sleep without a break to be taken as
# blocked: many times sys.getswitchinterval(), so not a wait for the GIL.
STEADY_SLEEP = 0.05


def _main_thread_state(pid):
    """Return the state letter of the main thread of pid, or None."""
    try:
        with open(f'/proc/{pid}/task/{pid}/stat', encoding='ascii') as f:
            stat = f.read()
    except OSError:
        return None
    # The command name, in parentheses, may contain spaces.
    return stat.rpartition(')')[2].split()[0]


def wait_until_blocked(proc, timeout=support.SHORT_TIMEOUT):
    """Wait until the main thread of proc sleeps in a system call.

    Return early if the process is gone: the caller's own checks then
    say why.  Without /proc (not Linux), wait FALLBACK_DELAY seconds.
    """
    if _main_thread_state(proc.pid) is None:
        time.sleep(FALLBACK_DELAY)
        return
    deadline = time.monotonic() + timeout
    asleep_since = None
    while time.monotonic() < deadline:
        state = _main_thread_state(proc.pid)
        if state in (None, 'Z', 'X'):
            return
        # S: interruptible sleep.  Waiting for the GIL is one too, and it
        # may come before the blocking call without a check for signals
        # in between; it ends within the switch interval, unless another
        # thread holds the GIL in C code.  The blocking call sleeps on.
        if state != 'S':
            asleep_since = None
        elif asleep_since is None:
            asleep_since = time.monotonic()
        elif time.monotonic() - asleep_since >= STEADY_SLEEP:
            return
        time.sleep(0.001)


def send_sigint(proc, *, blocked):
    """Send SIGINT to proc.

    If blocked is true, the child is about to block: wait until it does.
    """
    if blocked:
        wait_until_blocked(proc)
    proc.send_signal(signal.SIGINT)
