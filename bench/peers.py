"""What runs on the far side of a benchmark: a thread, interpreter or process.

Subinterpreters and spawned processes import this module too, so it must
stay cheap to import and use the standard library only.
"""

import os
import re
import time

try:
    import _xxsubinterpreters as _xx
except ImportError:
    _xx = None

# Ends a serve() loop.  A str, so that no int, None or bytes item matches.
STOP = 'stop'

# What channel_recv() returns from an empty channel.
_EMPTY = object()


def noop():
    """Do nothing: the task of the lifecycle benchmarks."""


def serve(get, put, mode):
    """Answer the items that get() returns with put() until STOP arrives.

    mode 'echo' sends every item back, 'drain' only the None markers that
    close a batch, 'call' sends back func(*args) for every (func, args).
    """
    while True:
        item = get()
        if type(item) is str and item == STOP:
            return
        if mode == 'call':
            func, args = item
            put(func(*args))
        elif mode == 'echo' or item is None:
            put(item)


def serve_queues(inq, outq, mode):
    """serve() between two queues: the target of peer processes."""
    serve(inq.get, outq.put, mode)


def serve_channels(cin, cout, mode):
    """serve() between two _xxsubinterpreters channels."""
    serve(lambda: recv_channel(cin),
          lambda item: _xx.channel_send(cout, item), mode)


def recv_channel(cid):
    """Receive from an _xxsubinterpreters channel, waiting for an item.

    Its channel_recv() never blocks, so poll, giving up the GIL between
    tries with time.sleep(0): the lowest latency a user can get from it.
    """
    while True:
        item = _xx.channel_recv(cid, _EMPTY)
        if item is not _EMPTY:
            return item
        time.sleep(0)


def read_size(path):
    """Read a whole file, releasing the GIL meanwhile; return its size."""
    with open(path, 'rb') as f:
        return len(f.read())


def late_wakeup(delay):
    """Sleep delay seconds; return how much later than due this thread ran."""
    start = time.monotonic()
    time.sleep(delay)
    return time.monotonic() - start - delay


# Memory readings from /proc (Linux), in bytes.

def _status_kib(field):
    with open('/proc/self/status') as f:
        match = re.search(rf'^{field}:\s+(\d+) kB', f.read(), re.MULTILINE)
    return int(match.group(1)) * 1024


def rss():
    """Return the resident set size of this process."""
    return _status_kib('VmRSS')


def reset_peak():
    """Make the peak RSS that peak_rss() reports start again from now."""
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')


def peak_rss():
    """Return the highest RSS of this process since reset_peak()."""
    return _status_kib('VmHWM')


def unique_size(pid):
    """Return the memory only process pid uses (its USS)."""
    total = 0
    with open(f'/proc/{pid}/smaps_rollup') as f:
        for line in f:
            if line.startswith(('Private_Clean:', 'Private_Dirty:')):
                total += int(line.split()[1]) * 1024
    return total


def serve_peaks(inq, outq):
    """Receive items from inq until STOP; report each one's RSS peak to outq.

    The peak counts from just before the wait for the item, so it covers
    what receiving builds (buffers, the new object) and nothing before.
    """
    while True:
        reset_peak()
        base = rss()
        item = inq.get()
        if type(item) is str and item == STOP:
            return
        del item
        outq.put(peak_rss() - base)


def idle(ready, event):
    """Report this process's id to the queue ready, then wait for event."""
    ready.put(os.getpid())
    event.wait()
