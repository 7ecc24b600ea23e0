"""Run Python code in isolated interpreters of the same process (PEP 734).

This is Python 3.14's concurrent.interpreters API on the same C module
as the interpreters module.
"""

# SKELETON (issue 11): the first cut that the executor builds on; the
# full module (whence, identity, closing on last reference, exec() of
# code objects and functions, call_in_thread(), ...) replaces it.

import _interpreters
from _interpreters import (
    InterpreterError, InterpreterNotFoundError, NotShareableError,
    is_shareable,
)
from ._queues import create as create_queue, Queue, QueueEmpty, QueueFull

__all__ = [
    'get_current', 'get_main', 'create', 'list_all', 'is_shareable',
    'Interpreter',
    'InterpreterError', 'InterpreterNotFoundError', 'ExecutionFailed',
    'NotShareableError',
    'create_queue', 'Queue', 'QueueEmpty', 'QueueFull',
]


class ExecutionFailed(InterpreterError):
    """An unhandled exception happened during execution."""

    def __init__(self, excinfo):
        msg = excinfo.formatted
        if not msg:
            msg = f'{excinfo.type.__name__}: {excinfo.msg}'
        super().__init__(msg)
        self.excinfo = excinfo


def create():
    """Return a new (idle) Python interpreter."""
    return Interpreter(_interpreters.create())


def list_all():
    """Return all existing interpreters."""
    return [Interpreter(interp_id) for interp_id in _interpreters.list_all()]


def get_current():
    """Return the currently running interpreter."""
    return Interpreter(_interpreters.get_current())


def get_main():
    """Return the main interpreter."""
    return Interpreter(_interpreters.get_main())


class Interpreter:
    """A single Python interpreter."""

    def __init__(self, id, /):
        self._id = id

    def __repr__(self):
        return f'{type(self).__name__}({self._id})'

    def __reduce__(self):
        return (type(self), (self._id,))

    @property
    def id(self):
        return self._id

    def is_running(self):
        return _interpreters.is_running(self._id)

    def close(self):
        _interpreters.destroy(self._id)

    def prepare_main(self, ns=None, /, **kwargs):
        _interpreters.set_main_attrs(self._id, dict(ns or (), **kwargs))

    def exec(self, code, /):
        try:
            _interpreters.run_string(self._id, code)
        except _interpreters.RunFailedError as err:
            raise ExecutionFailed(err.excinfo) from None

    def call(self, callable, /, *args, **kwargs):
        try:
            return _interpreters.call(self._id, callable, args, kwargs,
                                      fake_main=True)
        except _interpreters.RunFailedError as err:
            raise ExecutionFailed(err.excinfo) from err.__cause__
