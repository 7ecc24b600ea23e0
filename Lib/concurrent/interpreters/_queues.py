"""Cross-interpreter queues (PEP 734)."""

import os
import queue
import threading
import weakref
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
    """Raised from get_nowait() when the queue is empty.

    It is also raised from get() if it times out.
    """


class QueueFull(QueueError, queue.Full):
    """Raised from put_nowait() when the queue is full.

    It is also raised from put() if it times out.
    """


class ItemInterpreterDestroyed(QueueError):
    """Raised from get() and get_nowait() for an item put with
    UNBOUND_ERROR by an interpreter that was destroyed since.
    """


class _Constant:
    # Each interpreter has its own copy of the constants; a pickled one
    # (UNBOUND returned by get() and put again, say) stands for the
    # receiver's, found by name.

    __slots__ = ('_name',)

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f'{__name__}.{self._name}'

    def __reduce__(self):
        return self._name


UNBOUND = _Constant('UNBOUND')
UNBOUND_ERROR = _Constant('UNBOUND_ERROR')
UNBOUND_REMOVE = _Constant('UNBOUND_REMOVE')

# The ops of the C module (_interpreters._QueueBase._put())
_UNBOUND_OPS = {UNBOUND_REMOVE: 1, UNBOUND_ERROR: 2, UNBOUND: 3}
_UNBOUND_CONSTANTS = {op: const for const, op in _UNBOUND_OPS.items()}


def _unbound_op(unbounditems):
    try:
        return _UNBOUND_OPS[unbounditems]
    except (KeyError, TypeError):
        raise NotImplementedError(
            f'unsupported unbound replacement op {unbounditems!r}'
        ) from None


def create(maxsize=0, *, unbounditems=UNBOUND):
    """Return a new cross-interpreter queue.

    The queue holds at most maxsize items; if maxsize <= 0 (the default),
    its size is unbounded.  "unbounditems" is the default of Queue.put()
    for the queue: see that method.
    """
    self = Queue._create(maxsize, _unbound_op(unbounditems))
    with _known_lock:
        _known_queues[self.id] = self
    return self


def list_all():
    """Return a list of all the queues that exist."""
    queues = []
    for qid in Queue._list_ids():
        try:
            queues.append(Queue(qid))
        except QueueNotFoundError:
            # Its last reference went meanwhile.
            pass
    return queues


# The one Queue object of this interpreter for each queue id
_known_queues = weakref.WeakValueDictionary()
# Reentrant: a collection while it is held may run code that makes a Queue.
_known_lock = threading.RLock()
if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_known_lock._at_fork_reinit)


class Queue(_interpreters._QueueBase):
    """A cross-interpreter queue.

    Any interpreter can put objects in it and get copies of them out.  The
    queue lives while any interpreter has a Queue object for it (or an
    item in a queue, or an argument on its way, refers to it).  There is
    one Queue object per queue id in each interpreter.  Queue objects
    cross between interpreters (and pickle) as their queue.
    """

    __slots__ = ()

    def __new__(cls, id, /):
        if not isinstance(id, int):
            raise TypeError(f'id must be an int, got {id!r}')
        id = int(id)
        with _known_lock:
            try:
                self = _known_queues[id]
            except KeyError:
                self = super().__new__(cls, id)
                _known_queues[id] = self
        return self

    def __repr__(self):
        return f'{type(self).__name__}({self.id})'

    @property
    def unbounditems(self):
        """What put() does by default with the items of an interpreter
        destroyed before they were taken (read-only)."""
        return _UNBOUND_CONSTANTS[self._unboundop]

    def put(self, obj, block=True, timeout=None, *, unbounditems=None):
        """Put a copy of obj at the end of the queue.

        If the queue is full and "block" is true, block until there is
        room, for at most "timeout" seconds (a non-negative number, which
        may have a fraction) unless it is None; then raise QueueFull if
        there is still no room.  If "block" is false, raise QueueFull at
        once.

        Shareable objects (see concurrent.interpreters.is_shareable())
        cross without pickle; a Queue arrives as the receiving
        interpreter's Queue object for the same queue.  Other objects are
        pickled; NotShareableError is raised if that fails.

        "unbounditems" says what happens to the item if the current
        interpreter is destroyed before the item is taken: with UNBOUND,
        get() returns UNBOUND in its place; with UNBOUND_ERROR, get()
        raises ItemInterpreterDestroyed; with UNBOUND_REMOVE, the item is
        dropped from the queue at once.  None (the default) stands for the
        queue's unbounditems, set by create().
        """
        op = -1 if unbounditems is None else _unbound_op(unbounditems)
        try:
            self._put(obj, block, timeout, op)
        except _interpreters.QueueFull:
            raise QueueFull(f'queue {self.id} is full') from None

    def put_nowait(self, obj, *, unbounditems=None):
        """Put a copy of obj at the end of the queue without blocking.

        Like put(obj, block=False): raise QueueFull if the queue is full.
        """
        self.put(obj, False, unbounditems=unbounditems)

    def get(self, block=True, timeout=None):
        """Remove the oldest item from the queue and return it.

        If the queue is empty and "block" is true, block until an item is
        put, for at most "timeout" seconds (a non-negative number, which
        may have a fraction) unless it is None; then raise QueueEmpty if
        there is still none.  If "block" is false, raise QueueEmpty at
        once.

        If the interpreter that put the item has been destroyed, the
        "unbounditems" of its put() decides: return UNBOUND, or raise
        ItemInterpreterDestroyed (the item is taken all the same).
        """
        try:
            obj, op = self._get(block, timeout)
        except _interpreters.QueueEmpty:
            raise QueueEmpty(f'queue {self.id} is empty') from None
        if op is None:
            return obj
        if op == _UNBOUND_OPS[UNBOUND_ERROR]:
            raise ItemInterpreterDestroyed(
                "item's original interpreter destroyed")
        return UNBOUND

    def get_nowait(self):
        """Remove the oldest item from the queue and return it without
        blocking.

        Like get(block=False): raise QueueEmpty if the queue is empty.
        """
        return self.get(False)


Queue._register_shareable()
