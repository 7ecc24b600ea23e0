"""Run Python code in isolated interpreters of the same process (PEP 734).

This is Python 3.14's concurrent.interpreters API, on the same C module
as the interpreters module.
"""

import threading
import types
import weakref

import _interpreters
from _interpreters import (
    InterpreterError, InterpreterNotFoundError, NotShareableError,
    is_shareable, OWN_GIL_AVAILABLE,
)
from ._queues import create as create_queue, Queue, QueueEmpty, QueueFull

__all__ = [
    'get_current', 'get_main', 'create', 'list_all', 'is_shareable',
    'OWN_GIL_AVAILABLE', 'Interpreter',
    'InterpreterError', 'InterpreterNotFoundError', 'ExecutionFailed',
    'ExecutionTimeoutError', 'NotShareableError',
    'create_queue', 'Queue', 'QueueEmpty', 'QueueFull',
]


# What Interpreter.whence reports for the interpreters that
# _interpreters.create() made: the only ones whose methods may change them.
_WHENCE_STDLIB = '_interpreters module'

_EXEC_FAILURE_STR = """\
{message}

Uncaught in the interpreter:

{errdisplay}"""


class ExecutionFailed(InterpreterError):
    """An unhandled exception happened during execution.

    Interpreter.exec() and Interpreter.call() raise it.  Its excinfo
    attribute describes the exception: type (with __name__, __qualname__
    and __module__), msg, formatted ("Type: msg") and errdisplay (the
    traceback, as it would have been printed there).
    """

    def __init__(self, excinfo):
        msg = excinfo.formatted
        if not msg:
            if excinfo.type and excinfo.msg:
                msg = f'{excinfo.type.__name__}: {excinfo.msg}'
            else:
                msg = excinfo.type.__name__ or excinfo.msg
        super().__init__(msg)
        self.excinfo = excinfo

    def __str__(self):
        try:
            errdisplay = self.excinfo.errdisplay
        except Exception:
            return super().__str__()
        return _EXEC_FAILURE_STR.format(message=super().__str__(),
                                        errdisplay=errdisplay)


class ExecutionTimeoutError(ExecutionFailed, TimeoutError):
    """Interpreter.exec() did not finish within its timeout.

    The code was interrupted: excinfo describes the KeyboardInterrupt it
    raised.
    """


def _format_exception_only(exctype, msg):
    # As traceback.format_exception_only() names the type: the module is
    # left out for builtins and __main__.
    name = exctype.__qualname__
    if exctype.__module__ not in ('builtins', '__main__'):
        name = f'{exctype.__module__}.{name}'
    return f'{name}: {msg}' if msg else name


def _execution_failed(err):
    """Return the ExecutionFailed for an _interpreters.RunFailedError."""
    info = err.excinfo
    excinfo = types.SimpleNamespace(
        type=info.type,
        msg=info.msg,
        formatted=_format_exception_only(info.type, info.msg),
        errdisplay=info.formatted.rstrip('\n'),
    )
    if isinstance(err, _interpreters.RunTimeoutError):
        return ExecutionTimeoutError(excinfo)
    return ExecutionFailed(excinfo)


def create(*, own_gil=False):
    """Return a new (idle) Python interpreter.

    It is closed when the last Interpreter object for it, in any
    interpreter, goes away, unless it cannot be closed at that moment.
    With own_gil true, it has a GIL of its own, so that its threads run
    Python code in parallel with other interpreters'; it imports only the
    extension modules known to be safe there.  Raise InterpreterError if
    this Python cannot create such an interpreter (OWN_GIL_AVAILABLE is
    false).
    """
    interp_id = _interpreters.create(own_gil=own_gil)
    try:
        return _get_interpreter(interp_id, _WHENCE_STDLIB, autoclose=True)
    except BaseException:
        _interpreters.destroy(interp_id)
        raise


def list_all():
    """Return all existing interpreters."""
    interps = []
    for interp_id in _interpreters.list_all():
        try:
            interps.append(Interpreter(interp_id))
        except InterpreterNotFoundError:
            # Destroyed meanwhile by another thread.
            pass
    return interps


def get_current():
    """Return the currently running interpreter."""
    return Interpreter(_interpreters.get_current())


def get_main():
    """Return the main interpreter."""
    return Interpreter(_interpreters.get_main())


# One Interpreter object per interpreter ID in this interpreter.  An RLock:
# an Interpreter's __del__, which takes it, may run from the garbage
# collector while this thread holds it.
_known = weakref.WeakValueDictionary()
_known_lock = threading.RLock()


def _get_interpreter(interp_id, whence=None, *, autoclose=False):
    if not isinstance(interp_id, int):
        raise TypeError(f'id must be an int, got {interp_id!r}')
    interp_id = int(interp_id)
    with _known_lock:
        self = _known.get(interp_id)
        if self is not None:
            return self
        if whence is None:
            # Raises InterpreterNotFoundError for an unknown ID.
            whence = _interpreters.whence(interp_id)
        self = object.__new__(Interpreter)
        self._id = interp_id
        self._whence = whence
        self._ownsref = False
        if whence == _WHENCE_STDLIB:
            _interpreters.incref(interp_id, autoclose=autoclose)
            self._ownsref = True
        _known[interp_id] = self
    return self


class Interpreter:
    """A single Python interpreter.

    There is one Interpreter object per interpreter ID: Interpreter(id)
    returns the existing one if there is one.  The methods that change the
    interpreter (close(), prepare_main(), exec(), call(),
    call_in_thread() and interrupt()) raise InterpreterError for one that
    neither this module nor the interpreters module created.
    """

    # Kept on the class: __del__ may run after the module's globals were
    # cleared, while the interpreter that holds this object is finalized.
    _known = _known
    _known_lock = _known_lock
    _decref = staticmethod(_interpreters.decref)

    def __new__(cls, id, /):
        return _get_interpreter(id)

    def __repr__(self):
        return f'{type(self).__name__}({self._id})'

    def __hash__(self):
        return hash(self._id)

    def __reduce__(self):
        # The ID crosses, and the receiver finds its own object for it.
        return (type(self), (self._id,))

    def __del__(self):
        self._release()

    def _release(self):
        # getattr(): _get_interpreter() may have failed before setting it.
        if not getattr(self, '_ownsref', False):
            return
        with self._known_lock:
            # Another thread may look the ID up while this object is
            # finalized: from now on it makes a new one.
            if self._known.get(self._id) is self:
                del self._known[self._id]
            self._ownsref = False
        self._decref(self._id)

    @property
    def id(self):
        """The interpreter's ID (read-only)."""
        return self._id

    @property
    def whence(self):
        """Where the interpreter was created (read-only).

        'runtime init' for the main interpreter, '_interpreters module' for
        those that create() made (of this module or of the interpreters
        module), 'legacy C-API' for the others.
        """
        return self._whence

    def is_running(self):
        """Return whether code is running in the interpreter's __main__.

        That is the case while exec() or call() runs in it, from any
        thread.  The main and the current interpreters are always running.
        """
        return _interpreters.is_running(self._id)

    def _require_owned(self, op):
        if self._whence != _WHENCE_STDLIB:
            raise InterpreterError(
                f'cannot {op} unrecognized interpreter {self._id}')

    def close(self):
        """Finalize and destroy the interpreter.

        Block until the non-daemon threads it started have finished.
        Raise InterpreterError for the current interpreter, one that is
        running and one whose daemon threads still run.
        """
        self._require_owned('destroy')
        _interpreters.destroy(self._id)

    def prepare_main(self, ns=None, /, **kwargs):
        """Bind the given values into the interpreter's __main__.

        The names and values come from the mapping ns, then from the
        keyword arguments.  Values cross as call() arguments do; raise
        NotShareableError if one cannot.
        """
        self._require_owned('update __main__ for')
        ns = dict(ns, **kwargs) if ns is not None else kwargs
        _interpreters.set_main_attrs(self._id, ns)

    def interrupt(self, *, unwind=False):
        """Interrupt the code running in the interpreter.

        The code raises KeyboardInterrupt as soon as possible, in the thread
        where exec() or call() runs it; a blocking wait there (sleep, lock,
        queue, select, socket) is woken up.  The caller of exec() or call()
        gets ExecutionFailed.  With unwind, the code cannot catch it for
        good: it is raised again at every check until exec() or call()
        returns.  Threads that the code started are not touched.  Return
        True if code was running, False if the interpreter was idle.
        """
        self._require_owned('interrupt')
        return _interpreters.interrupt(self._id, unwind=unwind)

    def exec(self, code, /, timeout=None):
        """Run the given source code in the interpreter's __main__.

        code is a str, a code object or a function, which must take no
        arguments and must not be a closure: its body runs with __main__'s
        namespace as its globals, its own state (its __globals__ included)
        left behind.  This blocks the calling thread until done.  Raise
        ExecutionFailed, which describes the exception, if the code raises
        one that it does not catch.  With a timeout (seconds), code still
        running after it is interrupted with unwinding and the error is an
        ExecutionTimeoutError, which is also a TimeoutError.
        """
        self._require_owned('exec code for')
        if isinstance(code, str):
            run = _interpreters.run_string
        elif isinstance(code, types.FunctionType):
            if code.__closure__:
                raise ValueError('bad function (closures not supported)')
            code = code.__code__
            run = _interpreters.exec_code
        elif isinstance(code, types.CodeType):
            run = _interpreters.exec_code
        else:
            raise TypeError(f'exec() argument must be a string, a '
                            f'function, or a code object, not '
                            f'{type(code).__name__}')
        try:
            if timeout is None:
                run(self._id, code)
            else:
                run(self._id, code, timeout=timeout)
        except _interpreters.RunFailedError as err:
            raise _execution_failed(err) from err.__cause__

    def call(self, callable, /, *args, **kwargs):
        """Call callable(*args, **kwargs) in the interpreter.

        Return the result.  The callable, its arguments and its result
        cross between the interpreters; raise NotShareableError if one
        cannot.  If the call raises, raise ExecutionFailed, whose
        __cause__ is the original exception, rebuilt here, when its type
        exists here.  This blocks the calling thread until done.
        """
        self._require_owned('make a call in')
        try:
            return _interpreters.call(self._id, callable, args, kwargs,
                                      fake_main=True)
        except _interpreters.RunFailedError as err:
            raise _execution_failed(err) from err.__cause__

    def call_in_thread(self, callable, /, *args, **kwargs):
        """Start a thread that calls callable(*args, **kwargs) there.

        Return the started threading.Thread.  The result is discarded; an
        ExecutionFailed goes to threading.excepthook().
        """
        self._require_owned('make a call in')
        t = threading.Thread(target=self.call, args=(callable, *args),
                             kwargs=kwargs)
        t.start()
        return t
