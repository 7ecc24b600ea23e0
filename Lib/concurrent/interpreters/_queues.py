"""Cross-interpreter queues (PEP 734)."""

# SKELETON (issue 11): replaced by the real module (UNBOUND modes,
# one object per id, 3.14's signatures).

import queue
import _interpreters
from _interpreters import QueueError, QueueNotFoundError

__all__ = [
    'UNBOUND', 'UNBOUND_ERROR', 'UNBOUND_REMOVE',
    'create', 'list_all',
    'Queue',
    'QueueError', 'QueueNotFoundError', 'QueueEmpty', 'QueueFull',
    'ItemInterpreterDestroyed',
]


class QueueEmpty(QueueError, queue.Empty):
    """Raised from get_nowait() when the queue is empty."""


class QueueFull(QueueError, queue.Full):
    """Raised from put_nowait() when the queue is full."""


class ItemInterpreterDestroyed(QueueError):
    """Raised from get() when the item's interpreter was closed."""


UNBOUND_ERROR = 'UNBOUND_ERROR'
UNBOUND_REMOVE = 'UNBOUND_REMOVE'
UNBOUND = 'UNBOUND'


def create(maxsize=0, *, unbounditems=UNBOUND):
    """Return a new cross-interpreter queue."""
    return Queue(_interpreters.create_queue(maxsize).id)


def list_all():
    raise NotImplementedError


class Queue:
    """A cross-interpreter queue."""

    def __init__(self, id, /):
        self._id = id

    @property
    def id(self):
        return self._id
