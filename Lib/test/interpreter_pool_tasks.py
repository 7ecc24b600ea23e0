"""Tasks that test_interpreter_pool runs in workers with their own GIL.

The worker's interpreter finds each task again by module and name, and
imports its module.  An interpreter with its own GIL refuses the extension
modules not known to be safe there, such as _asyncio, which the test
module imports: the tasks it submits to such workers live here, in a
module that imports only what every interpreter can.
"""

import time

import _interpreters


class TaskError(Exception):
    """An exception that any interpreter can rebuild: it imports this."""


def current_interp_id():
    return _interpreters.get_current()


def scale(x, *, factor=1):
    return x * factor


def fail(message):
    raise TaskError(message)


_init_value = None


def remember(value):
    global _init_value
    _init_value = value


def remembered():
    return _init_value


def report_and_wait(started, release, timeout):
    """Tell the test that the task runs, then wait for its go.

    Return the item from release.
    """
    started.put(_interpreters.get_current())
    return release.get(timeout=timeout)


def spin_until_item(started, items, timeout):
    """Tell the test that the task runs, then poll items without blocking.

    Never release the GIL: the caller has set a switch interval longer
    than timeout.  Return whether an item came before timeout seconds
    passed.  Only another interpreter with a GIL of its own can put it
    meanwhile.
    """
    started.put(None)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            items.get_nowait()
        except _interpreters.QueueEmpty:
            continue
        return True
    return False


def put(items, item):
    items.put(item)
