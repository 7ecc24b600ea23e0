"""Run Python code in isolated interpreters of the same process."""

import _interpreters
from _interpreters import (
    InterpreterError, InterpreterNotFoundError, RunFailedError,
    RunTimeoutError, NotShareableError, is_shareable,
    QueueError, QueueNotFoundError, QueueEmpty, QueueFull,
    Queue, create_queue,
)

__all__ = [
    'list_all', 'get_current', 'get_main', 'create', 'Interpreter',
    'InterpreterError', 'InterpreterNotFoundError', 'RunFailedError',
    'RunTimeoutError', 'NotShareableError', 'is_shareable',
    'Queue', 'create_queue',
    'QueueError', 'QueueNotFoundError', 'QueueEmpty', 'QueueFull',
]


def list_all():
    """Return a list of all existing interpreters, the main one included."""
    return [_handle(interp_id) for interp_id in _interpreters.list_all()]


# The name this module first had for list_all().  It stays out of __all__:
# "from interpreters import *" must not shadow the built-in enumerate().
enumerate = list_all


def get_current():
    """Return the interpreter running the caller."""
    return _handle(_interpreters.get_current())


def get_main():
    """Return the main interpreter."""
    return _handle(_interpreters.get_main())


def create(*, own_gil=False):
    """Create a new interpreter and return it.

    The interpreter stays idle until code is run in it.  With own_gil
    true, it has a GIL of its own, so that its threads run Python code
    in parallel with other interpreters'; it imports only the extension
    modules known to be safe there.  Raise InterpreterError if this
    Python cannot create such an interpreter.
    """
    return _handle(_interpreters.create(own_gil=own_gil))


class Interpreter:
    """A handle for an existing interpreter.

    Raise TypeError if id is not an int, ValueError if it is negative and
    InterpreterNotFoundError if there is no interpreter with that id.
    Handles for the same interpreter compare equal.
    """

    __slots__ = ('_id',)

    def __new__(cls, id):
        # is_running() checks the id without touching the interpreter.
        _interpreters.is_running(id)
        self = super().__new__(cls)
        self._id = int(id)
        return self

    def __repr__(self):
        cls = type(self)
        return f'{cls.__module__}.{cls.__qualname__}(id={self._id})'

    def __eq__(self, other):
        if not isinstance(other, Interpreter):
            return NotImplemented
        return self._id == other._id

    def __hash__(self):
        return hash(self._id)

    def __reduce__(self):
        return (type(self), (self._id,))

    @property
    def id(self):
        """The interpreter's id (read-only)."""
        return self._id

    def is_running(self):
        """Return whether code is running in the interpreter.

        That is the case while run() or call() executes in it, from any
        thread.  The main and the current interpreters are always running.
        """
        return _interpreters.is_running(self._id)

    def destroy(self):
        """Finalize and destroy the interpreter.

        Block until the non-daemon threads it started have finished.
        Raise InterpreterError for the main interpreter, the current one,
        one that the calling thread is inside, one that is running and one
        whose daemon threads are still running.  If a finalizer started a
        daemon thread that is still running once the interpreter is shut
        down, raise InterpreterError and leave it shut down but usable:
        its atexit and threading hooks have run; destroy() may be called
        again.
        """
        _interpreters.destroy(self._id)

    def interrupt(self, *, unwind=False):
        """Interrupt the code running in the interpreter.

        The code raises KeyboardInterrupt as soon as possible, in the thread
        where run() or call() runs it; a blocking wait there (sleep, lock,
        queue, select, socket) is woken up.  The caller of run() or call()
        gets RunFailedError.  With unwind, the code cannot catch it for
        good: it is raised again at every check until run() or call()
        returns.  Threads that the code started are not touched.  Return
        True if code was running, False if the interpreter was idle.
        May be called from any thread of any interpreter.
        """
        return _interpreters.interrupt(self._id, unwind=unwind)

    def run(self, code, timeout=None):
        """Run source code in the interpreter's __main__ module.

        The code runs in the calling OS thread, which blocks until the code
        has finished.  Names it binds in __main__ stay there for later runs.
        Raise TypeError if code is not a str, InterpreterError if the
        interpreter is already running and RunFailedError if the code raises
        an exception (SystemExit included) that it does not catch.  With a
        timeout (seconds), code still running after it is interrupted with
        unwinding and the error is RunTimeoutError, a subclass of
        RunFailedError and TimeoutError.
        """
        if timeout is None:
            _interpreters.run_string(self._id, code)
        else:
            _interpreters.run_string(self._id, code, timeout=timeout)

    def call(self, func, /, *args, **kwargs):
        """Call func(*args, **kwargs) in the interpreter and return the result.

        The call runs and blocks like run().  The function, its arguments and
        its result cross between the interpreters like queue items; a
        function defined in __main__ (a lambda too) crosses as its code,
        unless it is a closure.  Builtins that use their caller's
        namespaces (eval, exec, dir, vars, locals, globals) run against the
        interpreter's __main__.  Raise NotShareableError if one of them
        cannot cross, InterpreterError if the interpreter is already running
        and RunFailedError if the call raises; the original exception is
        then rebuilt in the caller as the error's __cause__ when its type
        exists here, else __cause__ is None.
        """
        return _interpreters.call(self._id, func, args, kwargs)

    def prepare_main(self, ns=None, /, **kwargs):
        """Bind names in the interpreter's __main__ module.

        The names and values come from the mapping ns, then from the keyword
        arguments.  Values cross like queue items.  Raise NotShareableError
        if one cannot cross and InterpreterError if the interpreter is
        running.
        """
        ns = dict(ns or (), **kwargs)
        _interpreters.set_main_attrs(self._id, ns)


def _handle(interp_id):
    # The id comes straight from _interpreters: unlike Interpreter(id), do
    # not look it up again, which would fail if another thread destroyed the
    # interpreter in between.
    interp = object.__new__(Interpreter)
    interp._id = interp_id
    return interp
