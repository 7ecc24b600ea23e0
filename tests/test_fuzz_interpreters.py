"""Property-based fuzzing of the interpreters module (Hypothesis).

Hostile arguments go to every public function and method, and a state
machine drives random sequences of operations on interpreters and queues
against a model of what they must hold.  Only documented exceptions may
come out, and the process must never crash or hang.

Each session runs in a child process of the same Python, which runs this
file as a script: a segfault, an abort or a hang fails the session's test
instead of killing pytest.  The child logs every call before making it, so
the last lines of the log name the call that crashed or hung.

Environment variables:

  FUZZ_EXAMPLES   examples per session (default 600, about 30 s in all;
                  20000 for a long run)
  FUZZ_SEED       a seed for a run that differs from the default one (by
                  default the examples are derived from the tests: every run
                  is the same)

A long run, from the repository root:

  FUZZ_EXAMPLES=20000 build/venv/bin/python -m pytest -q \
      tests/test_fuzz_interpreters.py
"""

import collections
import decimal
import fractions
import math
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

SESSIONS = ("arguments", "crossing", "machine")
DEFAULT_EXAMPLES = 600
# The state machine's examples run many steps each: fewer of them.
MACHINE_SHARE = 2
# A child whose log stays still this long is hung.
HANG_SECONDS = 60


def examples():
    return int(os.environ.get("FUZZ_EXAMPLES", DEFAULT_EXAMPLES))


# ----------------------------------------------------------------------------
# The parent: pytest runs each session in a child process

@pytest.fixture(scope="module")
def totals(request):
    counts = {"cases": 0, "calls": 0}
    yield counts
    line = (f"fuzz: {counts['cases']} cases "
            f"({counts['calls']} calls into the module)")
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print(line)
        return
    # Past pytest's output capture: the line is for the log of the run.
    with capture.global_and_fixture_disabled():
        reporter.write("\n")
        reporter.write_line(line)


def run_child(session, tmp_path):
    """Run session in a child process.

    Return (how it ended, its output, the log of its calls): how it ended
    is None if it exited with 0.
    """
    log = tmp_path / "calls.log"
    out = tmp_path / "out.txt"
    with open(out, "w") as out_file:
        proc = subprocess.Popen(
            [sys.executable, "-X", "faulthandler", __file__, session,
             str(log)],
            stdout=out_file, stderr=subprocess.STDOUT, cwd=tmp_path)
        last_size, last_change = -1, time.monotonic()
        hung = False
        while True:
            try:
                proc.wait(timeout=2)
                break
            except subprocess.TimeoutExpired:
                pass
            size = log.stat().st_size if log.exists() else 0
            if size != last_size:
                last_size, last_change = size, time.monotonic()
            elif time.monotonic() - last_change > HANG_SECONDS:
                # faulthandler prints every thread's traceback on SIGABRT.
                hung = True
                proc.send_signal(signal.SIGABRT)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                break
    rc = proc.returncode
    if hung:
        how = f"hung (no new call for {HANG_SECONDS} s)"
    elif rc < 0:
        how = f"was killed by {signal.Signals(-rc).name}"
    elif rc > 0:
        how = f"exited with {rc}"
    else:
        how = None
    text = log.read_text(errors="replace") if log.exists() else ""
    return how, out.read_text(errors="replace"), text


@pytest.mark.parametrize("session", SESSIONS)
def test_fuzz(session, tmp_path, totals):
    pytest.importorskip("_interpreters",
                        reason="needs the built python with _interpreters")
    pytest.importorskip("hypothesis")
    how, out, log = run_child(session, tmp_path)
    summary = [line for line in out.splitlines()
               if line.startswith("fuzz: ")]
    if summary:
        fields = summary[-1].split()
        totals["cases"] += int(fields[2])
        totals["calls"] += int(fields[4])
    if how is not None:
        last_calls = "\n".join(log.splitlines()[-15:])
        pytest.fail(f"fuzz session {session!r} {how}\n"
                    f"--- last calls ---\n{last_calls}\n"
                    f"--- output ---\n{out[-20000:]}", pytrace=False)
    assert summary, out[-5000:]


# ----------------------------------------------------------------------------
# The child: everything below runs only in the child process

class Boom(Exception):
    """Raised by the hostile objects below: the caller's own error."""


class BaseBoom(BaseException):
    """Like Boom, but not an Exception."""


class Calls:
    """Count the calls into the module and log each before it is made."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self.count = 0
        self.cases = 0

    def log(self, text):
        self.count += 1
        os.write(self.fd, f"{self.count}: {text}\n".encode(
            "utf-8", "backslashreplace"))

    def new_case(self, name):
        self.cases += 1
        os.write(self.fd, f"--- {name} case {self.cases}\n".encode())


CALLS = None


def safe_repr(obj, limit=300):
    try:
        text = repr(obj)
    except BaseException:
        text = f"<{type(obj).__name__} with a failing repr>"
    if len(text) > limit:
        text = text[:limit] + "..."
    return text


def settings_for(session):
    from hypothesis import HealthCheck, settings
    count = examples()
    if session == "machine":
        count = max(1, count // MACHINE_SHARE)
    return settings(max_examples=count, deadline=None,
                    derandomize="FUZZ_SEED" not in os.environ,
                    database=None, print_blob=True,
                    suppress_health_check=list(HealthCheck),
                    stateful_step_count=30)


def with_seed(test):
    from hypothesis import seed
    if "FUZZ_SEED" in os.environ:
        return seed(int(os.environ["FUZZ_SEED"]))(test)
    return test


def child_main(session, log_path):
    global CALLS
    import warnings
    # Hostile values draw warnings (NotImplemented in a boolean context...):
    # they are not what the session looks for.
    warnings.simplefilter("ignore")
    CALLS = Calls(log_path)
    start = time.monotonic()
    if session == "arguments":
        fuzz_arguments()
    elif session == "crossing":
        fuzz_crossing()
    elif session == "machine":
        fuzz_machine()
    else:
        raise SystemExit(f"unknown session {session!r}")
    import _interpreters
    leftover = set(_interpreters.list_all()) - {_interpreters.get_main()}
    if leftover:
        raise AssertionError(f"interpreters left behind: {leftover}")
    print(f"fuzz: {session}: {CALLS.cases} cases, {CALLS.count} calls, "
          f"{time.monotonic() - start:.1f} s", flush=True)


def destroy_all_but(keep=()):
    """Destroy every interpreter but the main one and those in keep."""
    import _interpreters
    main = _interpreters.get_main()
    for interp_id in sorted(_interpreters.list_all(), reverse=True):
        if interp_id != main and interp_id not in keep:
            _interpreters.destroy(interp_id)


# Hostile objects.  Each misbehaves in one way; what they raise is Boom or
# BaseBoom, which the API may pass on (it is the caller's own error).

class IntSub(int):
    pass


class StrSub(str):
    pass


class BadIndex:
    def __index__(self):
        raise Boom("__index__")

    def __int__(self):
        raise Boom("__int__")

    def __float__(self):
        raise Boom("__float__")


class BadBool:
    def __bool__(self):
        raise Boom("__bool__")


class BaseBadBool:
    def __bool__(self):
        raise BaseBoom("__bool__")


class BadHash:
    def __hash__(self):
        raise Boom("__hash__")

    def __eq__(self, other):
        raise Boom("__eq__")


class BadStr:
    def __str__(self):
        raise Boom("__str__")

    def __repr__(self):
        raise Boom("__repr__")


class BadReduce:
    def __reduce__(self):
        raise Boom("__reduce__")


class BaseBadReduce:
    def __reduce__(self):
        raise BaseBoom("__reduce__")


class GarbageReduce:
    """__reduce__ returns what pickle cannot use."""

    def __init__(self, value):
        self.value = value

    def __reduce__(self):
        return self.value


def raise_boom(*args):
    raise Boom("while unpickling")


class ExplodesWhenUnpickled:
    """Pickles fine; rebuilding it raises Boom (in the receiver)."""

    def __reduce__(self):
        return (raise_boom, ())


class BadMapping:
    def keys(self):
        raise Boom("keys")

    def __getitem__(self, key):
        raise Boom("__getitem__")


class BadKeysMapping:
    def keys(self):
        return [1, b"x", None, StrSub("s")]

    def __getitem__(self, key):
        return key


class BadIterable:
    def __iter__(self):
        raise Boom("__iter__")


def make_closure():
    x = 1

    def closure():
        return x
    return closure


def generator():
    yield 1


def deep_tuple(depth):
    value = ()
    for _ in range(depth):
        value = (value,)
    return value


# Deeper than any recursion limit.
DEEP = deep_tuple(50_000)

# The Context of the session, for Reentrant.
CTX = None


class Reentrant:
    """Pickling or rebuilding it calls back into the module.

    It acts on the objects of the session's context: it destroys or runs
    code in the interpreter that a call() is about to enter, uses the
    queue that put() is about to lock, and so on.
    """

    def __init__(self, action):
        self.action = action

    def __reduce__(self):
        import _interpreters
        import operator
        ctx, action = CTX, self.action
        if action == "destroy when pickled":
            ctx.live.destroy()
        elif action == "run when pickled":
            ctx.live.run("pass")
        elif action == "put when pickled":
            ctx.queue.put("reentrant")
        elif action == "get when pickled":
            ctx.queue.get_nowait()
        elif action == "destroy when rebuilt":
            return (_interpreters.destroy, (ctx.live.id,))
        elif action == "run main when rebuilt":
            return (_interpreters.run_string, (ctx.main.id, "pass"))
        elif action == "run live when rebuilt":
            return (_interpreters.run_string, (ctx.live.id, "pass"))
        elif action == "get when rebuilt":
            return (operator.methodcaller("get_nowait"), (ctx.queue,))
        elif action == "create when rebuilt":
            return (_interpreters.create, ())
        return (tuple, ((),))


REENTRANT_ACTIONS = (
    "destroy when pickled", "run when pickled", "put when pickled",
    "get when pickled", "destroy when rebuilt", "run main when rebuilt",
    "run live when rebuilt", "get when rebuilt", "create when rebuilt",
)


def main_function(x=None):
    # Defined in the child's __main__: call() sends it as code.
    return x


def main_function_boom():
    raise Boom("in the target")


class Named:
    """A value in a strategy: Hypothesis shows its name, never its repr
    (which may fail or recurse without end)."""

    def __init__(self, name, obj):
        self.name = name
        self.obj = obj

    def __repr__(self):
        return self.name


def unwrap(value):
    return value.obj if isinstance(value, Named) else value


HOSTILE = [Named(name, obj) for name, obj in [
    ("object()", object()), ("memoryview", memoryview(b"mv")),
    ("main_function", main_function),
    ("main_function_boom", main_function_boom),
    ("lambda", lambda: 1), ("closure", make_closure()),
    ("generator function", generator), ("generator", generator()),
    ("lock", threading.Lock()), ("module sys", sys),
    ("StrSub", StrSub("code")), ("BadIndex", BadIndex()),
    ("BadBool", BadBool()), ("BaseBadBool", BaseBadBool()),
    ("BadHash", BadHash()), ("BadStr", BadStr()),
    ("BadReduce", BadReduce()), ("BaseBadReduce", BaseBadReduce()),
    ("ExplodesWhenUnpickled", ExplodesWhenUnpickled()),
    ("GarbageReduce(42)", GarbageReduce(42)),
    ("GarbageReduce(())", GarbageReduce(())),
    ("GarbageReduce(7-tuple)", GarbageReduce((1,) * 7)),
    ("GarbageReduce(str)", GarbageReduce("not_a_global")),
    ("GarbageReduce((len,))", GarbageReduce((len,))),
    ("GarbageReduce(args not a tuple)",
     GarbageReduce((raise_boom, "not a tuple"))),
    ("BadMapping", BadMapping()), ("BadKeysMapping", BadKeysMapping()),
    ("BadIterable", BadIterable()), ("DEEP", DEEP),
    ("tuple(range(10_000))", tuple(range(10_000))),
]] + [Named(f"Reentrant({action!r})", Reentrant(action))
      for action in REENTRANT_ACTIONS]

UNPICKLABLE = [Named(name, obj) for name, obj in [
    ("lock", threading.Lock()), ("generator", generator()),
    ("closure", make_closure()),
    ("BadReduce", BadReduce()), ("(1, [lock])", (1, [threading.Lock()])),
    ("[generator]", [generator()]), ("module sys", sys),
    ("GarbageReduce(42)", GarbageReduce(42)),
    ("GarbageReduce(())", GarbageReduce(())), ("DEEP", DEEP),
]]


# Stand-ins for objects of the session's context, resolved at call time.
class Token:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<{self.name}>"


LIVE, DEAD, MAIN, QUEUE, LIVE_ID, DEAD_ID, FREED_QUEUE_ID = (
    Token(name) for name in ("live interpreter", "destroyed interpreter",
                             "main interpreter", "queue", "live id",
                             "destroyed id", "freed queue id"))


class Context:
    """The objects the hostile calls act on, renewed as needed."""

    def __init__(self):
        import interpreters
        self.interpreters = interpreters
        self.main = interpreters.get_main()
        self.live = interpreters.create()
        self.dead = interpreters.create()
        self.dead.destroy()
        self.queue = interpreters.create_queue()
        self.empty = interpreters.create_queue()
        self.full = interpreters.create_queue(1)
        freed = interpreters.create_queue()
        self.freed_queue_id = freed.id
        del freed

    def refresh(self, new_live=False):
        """Bring the context back to its initial state.

        With new_live, replace the live interpreter by a new one: a call
        may have broken it the way any interpreter can be broken (its
        __main__.__builtins__ replaced, say).
        """
        import _interpreters
        interpreters = self.interpreters
        # Rebuilding hostile items may destroy or create interpreters:
        # empty the queues first.
        for q in (self.queue, self.empty, self.full):
            while not q.empty():
                try:
                    q.get_nowait()
                except (Boom, interpreters.InterpreterError):
                    # An item that cannot be rebuilt here (a hostile
                    # object, a destroyed interpreter's handle): it is gone.
                    pass
        if new_live or self.live.id not in _interpreters.list_all():
            self.live = interpreters.create()
        destroy_all_but(keep={self.live.id})
        self.queue.put("an item")
        self.full.put("the only item")

    def resolve(self, value):
        if isinstance(value, Named):
            return value.obj
        if isinstance(value, Token):
            return {
                "live interpreter": lambda: self.live,
                "destroyed interpreter": lambda: self.dead,
                "main interpreter": lambda: self.main,
                "queue": lambda: self.queue,
                "live id": lambda: self.live.id,
                "destroyed id": lambda: self.dead.id,
                "freed queue id": lambda: self.freed_queue_id,
            }[value.name]()
        if type(value) is tuple:
            return tuple(self.resolve(item) for item in value)
        if type(value) is list:
            return [self.resolve(item) for item in value]
        if type(value) is dict:
            return {key: self.resolve(item) for key, item in value.items()}
        return value


def hostile_values():
    """A strategy of arbitrary, wrong and hostile values."""
    from hypothesis import strategies as st
    edges = [0, 1, -1, 2**31 - 1, 2**31, -2**31, 2**32, 2**63 - 1, 2**63,
             -2**63, -2**63 - 1, 2**64 - 1, 2**64, 10**100, -10**100,
             2**62]
    ints = st.integers() | st.sampled_from(edges) | st.sampled_from(
        edges).map(IntSub)
    floats = st.floats() | st.sampled_from(
        [0.0, -0.0, 1e-9, 0.001, -0.001, -1.0, 1e10, 1e20, 1e300,
         math.inf, -math.inf, math.nan, 2.0**63, 2.0**64])
    text = st.text(st.characters(codec=None, exclude_categories=()),
                   max_size=20)
    code = st.sampled_from(["pass", "1/0", "raise SystemExit(3)",
                            "raise KeyboardInterrupt", "x = 1", "1 +",
                            "import sys", "\0", "\ud800", "\xe9 = 1",
                            "raise MemoryError"])
    atoms = st.sampled_from([
        None, True, False, Ellipsis, NotImplemented, b"", "", 1j,
        bytearray(b"ba"), int, object, type, Exception, len, divmod,
        sorted, sys.exit, exec, fractions.Fraction(1, 3),
        decimal.Decimal("NaN"), collections.OrderedDict(a=1),
        LIVE, DEAD, MAIN, QUEUE, LIVE_ID, DEAD_ID, FREED_QUEUE_ID,
    ]) | st.sampled_from(HOSTILE)
    leaves = ints | floats | text | code | st.binary(max_size=20) | atoms
    return st.recursive(
        leaves,
        lambda children: (st.tuples(children, children)
                          | st.lists(children, max_size=3)
                          | st.dictionaries(text | ints, children,
                                            max_size=3)),
        max_leaves=6)


KEYWORDS = ["id", "code", "obj", "block", "timeout", "maxsize", "ns",
            "func", "args", "kwargs", "x", "item"]


def targets(ctx):
    """Return {name: callable} of every public function and method."""
    import _interpreters
    interpreters = ctx.interpreters
    found = {}
    for name in ("create", "enumerate", "get_current", "get_main",
                 "is_shareable", "create_queue", "Interpreter", "Queue"):
        found[f"interpreters.{name}"] = getattr(interpreters, name)
    for name in ("create", "destroy", "list_all", "get_current", "get_main",
                 "is_running", "run_string", "call", "set_main_attrs",
                 "is_shareable", "create_queue"):
        found[f"_interpreters.{name}"] = getattr(_interpreters, name)
    for label, interp in (("live", ctx.live), ("dead", ctx.dead),
                          ("main", ctx.main)):
        for name in ("is_running", "destroy", "run", "call",
                     "prepare_main", "__eq__", "__reduce__"):
            found[f"{label}.{name}"] = getattr(interp, name)
    # self.queue always holds an item and has no maxsize: no call on it
    # can block.
    for name in ("put", "put_nowait", "get", "get_nowait", "empty", "full",
                 "qsize", "__eq__", "__hash__", "__repr__"):
        found[f"queue.{name}"] = getattr(ctx.queue, name)
    found["subclass Queue"] = lambda *args: type(
        "Sub", (interpreters.Queue, *args), {})
    return found


def blocking_args():
    """block and timeout arguments that never wait for long."""
    from hypothesis import strategies as st
    short = st.sampled_from([0, 0.0, 1e-9, 0.001, IntSub(0)])
    invalid = st.sampled_from([
        -1, -0.001, -1e-9, -math.inf, math.nan, math.inf, 1e20, 1e300,
        2**64, 10**100, -10**100, "1", b"1", [], BadIndex(), BadStr(),
        IntSub(-1), 1j])
    block = st.sampled_from([True, False, 0, 1, None, "", "x", BadBool(),
                             BaseBadBool(), IntSub(1)])
    timeout = st.none() | short | invalid
    return st.tuples(block, timeout, st.booleans())


def check_blocking_call(ctx, which, block, timeout, as_keywords):
    """get() on an empty queue, put() on a full one: never wait long."""
    interpreters = ctx.interpreters
    if timeout is None:
        # Block only when block is false.
        try:
            if bool(block):
                return
        except BaseException:
            pass
    q = ctx.empty if which == "get" else ctx.full
    args = () if which == "get" else ("spam",)
    method = getattr(q, which)
    CALLS.log(f"{which} on {'empty' if which == 'get' else 'full'} queue "
              f"block={safe_repr(block)} timeout={safe_repr(timeout)}")
    try:
        if as_keywords:
            method(*args, block=block, timeout=timeout)
        else:
            method(*args, block, timeout)
    except (TypeError, ValueError, OverflowError, Boom, BaseBoom,
            interpreters.QueueEmpty, interpreters.QueueFull):
        pass
    else:
        raise AssertionError(f"{which}() returned: block={block!r}, "
                             f"timeout={timeout!r}")


# The shapes of well-formed calls: positional argument counts, keyword
# names, and whether the first argument is a callable.  Calls of this
# shape get past the argument parsing, to the code behind it.
SHAPES = {
    "interpreters.is_shareable": ((1,), (), False),
    "interpreters.create_queue": ((0, 1), ("maxsize",), False),
    "interpreters.Interpreter": ((1,), (), False),
    "interpreters.Queue": ((1,), (), False),
    "_interpreters.destroy": ((1,), (), False),
    "_interpreters.is_running": ((1,), (), False),
    "_interpreters.run_string": ((2,), (), False),
    "_interpreters.call": ((4,), (), False),
    "_interpreters.set_main_attrs": ((2,), (), False),
    "_interpreters.is_shareable": ((1,), (), False),
    "_interpreters.create_queue": ((0, 1), ("maxsize",), False),
    "live.run": ((1,), (), False),
    "live.call": ((1, 2, 3), ("x", "y", "block"), True),
    "live.prepare_main": ((0, 1), ("x", "y", "_chan", "__name__",
                                   "__builtins__"), False),
    "dead.run": ((1,), (), False),
    "dead.call": ((1, 2), ("x",), True),
    "dead.prepare_main": ((0, 1), ("x",), False),
    "queue.put": ((1, 2, 3), ("block", "timeout"), False),
    "queue.put_nowait": ((1,), (), False),
    "queue.get": ((0, 1, 2), ("block", "timeout"), False),
    "queue.__eq__": ((1,), (), False),
}


def callables():
    """Functions to call() in another interpreter: none blocks for long."""
    from hypothesis import strategies as st
    import interpreters
    return st.sampled_from([Named(name, obj) for name, obj in [
        ("len", len), ("int", int), ("str", str), ("repr", repr),
        ("sorted", sorted), ("divmod", divmod), ("pow", pow),
        ("type", type), ("object", object), ("Exception", Exception),
        ("sys.exit", sys.exit), ("exec", exec), ("eval", eval),
        ("main_function", main_function),
        ("main_function_boom", main_function_boom),
        ("lambda", lambda *args, **kwargs: (args, kwargs)),
        ("closure", make_closure()), ("generator function", generator),
        ("interpreters.get_current", interpreters.get_current),
        ("interpreters.create", interpreters.create),
        ("interpreters.create_queue", interpreters.create_queue),
        ("interpreters.is_shareable", interpreters.is_shareable),
        ("Interpreter", interpreters.Interpreter),
        ("Queue", interpreters.Queue),
        ("BadStr", BadStr), ("BadReduce", BadReduce),
        ("raise_boom", raise_boom), ("42", 42), ("None", None),
    ]]) | st.sampled_from([LIVE, DEAD, MAIN, QUEUE]).map(
        # Bound methods of handles: they cross pickled.
        lambda token: Named(f"{token.name} method", token))


# What SystemError says when C code returned NULL without an exception,
# or a result with one: never what the caller did wrong.
C_BUG_MESSAGES = (
    "error return without exception set",
    "result with an exception set",
    "bad argument to internal function",
    "NULL object passed",
)


def check_no_c_bug(exc):
    """Fail if exc, or what caused it, shows a bug of C code."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        info = getattr(exc, "excinfo", None)
        messages = [str(exc)] if type(exc) is SystemError else []
        if info is not None and info.type.__name__ == "SystemError":
            messages.append(info.msg)
        for msg in messages:
            if any(bug in msg for bug in C_BUG_MESSAGES):
                raise AssertionError(f"a C bug: {safe_repr(exc)}") from exc
        exc = exc.__cause__ or exc.__context__


def fuzz_arguments():
    global CTX
    from hypothesis import given, strategies as st
    ctx = CTX = Context()
    names = sorted(targets(ctx))
    interpreters = ctx.interpreters
    # Getting an item whose rebuilding fails raises what rebuilding raised:
    # here Boom, or InterpreterNotFoundError for a destroyed interpreter's
    # handle.
    documented = (TypeError, ValueError, OverflowError,
                  interpreters.InterpreterError, Boom, BaseBoom)
    methods = {
        "live interpreter": ("is_running", "run", "destroy", "call",
                             "prepare_main"),
        "destroyed interpreter": ("is_running", "run", "destroy"),
        "main interpreter": ("is_running", "run", "destroy", "call"),
        "queue": ("empty", "full", "qsize", "get_nowait", "put_nowait"),
    }

    @st.composite
    def shaped_call(draw):
        name = draw(st.sampled_from(sorted(SHAPES)))
        counts, keywords, callable_first = SHAPES[name]
        args = draw(st.lists(hostile_values(), min_size=max(counts),
                             max_size=max(counts)))
        args = args[:draw(st.sampled_from(counts))]
        if callable_first and args:
            func = draw(callables())
            if isinstance(func.obj, Token):
                method = draw(st.sampled_from(methods[func.obj.name]))
                func = Named(f"{func.obj.name}.{method}",
                             (func.obj, method))
            args[0] = func
        kwargs = draw(st.dictionaries(st.sampled_from(keywords),
                                      hostile_values(), max_size=2)
                      if keywords else st.just({}))
        return name, args, kwargs

    arbitrary_call = st.tuples(
        st.sampled_from(names), st.lists(hostile_values(), max_size=4),
        st.dictionaries(st.sampled_from(KEYWORDS), hostile_values(),
                        max_size=3))

    def resolve(value):
        value = ctx.resolve(value)
        if type(value) is tuple and len(value) == 2 \
                and isinstance(value[0], Token):
            # A bound method of a context object.
            return getattr(ctx.resolve(value[0]), value[1])
        return value

    @settings_for("arguments")
    @with_seed
    @given(call=shaped_call() | arbitrary_call, blocking=blocking_args())
    def test(call, blocking):
        name, args, kwargs = call
        CALLS.new_case("arguments")
        ctx.refresh()
        func = targets(ctx)[name]
        args = [resolve(arg) for arg in args]
        kwargs = ctx.resolve(kwargs)
        CALLS.log(f"{name}(*{safe_repr(args)}, **{safe_repr(kwargs)})")
        try:
            func(*args, **kwargs)
        except documented as exc:
            check_no_c_bug(exc)
        except BaseException as exc:
            raise AssertionError(
                f"{name}: undocumented {type(exc).__name__}: "
                f"{safe_repr(exc)}") from exc
        check_blocking_call(ctx, "get", *blocking)
        check_blocking_call(ctx, "put", *blocking)
        # The module still works.
        CALLS.log("sanity")
        ctx.refresh(new_live="__builtins__" in kwargs)
        ctx.live.run("pass")
        assert ctx.live.call(divmod, 7, 2) == (3, 1)
        assert ctx.queue.get_nowait() == "an item"

    test()
    destroy_all_but()


# ----------------------------------------------------------------------------
# What crosses between interpreters

def crossing_values(queue_refs=None):
    """(value, kind): kind is 'shareable', 'pickled' or 'unpicklable'."""
    from hypothesis import strategies as st
    text = st.text(st.characters(codec=None, exclude_categories=()),
                   max_size=30)
    scalars = (st.none() | st.booleans() | st.integers()
               | st.sampled_from([2**63, -2**63 - 1, 2**64, 10**400])
               | st.floats() | text | st.binary(max_size=30))
    if queue_refs is not None:
        scalars = scalars | queue_refs
    shareable = st.recursive(scalars, lambda c: st.lists(
        c, max_size=4).map(tuple), max_leaves=10)
    pickled = st.recursive(
        shareable | st.sampled_from([
            1j, fractions.Fraction(-7, 3), decimal.Decimal("1.10"),
            bytearray(b"\0\xff"), range(2, 9, 3), frozenset({1, 2}),
            collections.OrderedDict(b=1, a=2), Ellipsis, int, len]),
        lambda c: (st.lists(c, max_size=3)
                   | st.dictionaries(text, c, max_size=3)
                   | st.lists(c, max_size=3).map(tuple)),
        max_leaves=8).filter(lambda v: not is_shareable_model(v))
    unpicklable = st.sampled_from(UNPICKLABLE)
    return (shareable.map(lambda v: (v, "shareable"))
            | pickled.map(lambda v: (v, "pickled"))
            | unpicklable.map(lambda v: (v, "unpicklable")))


class QRef:
    """A queue in a model value, by id."""

    def __init__(self, qid):
        self.qid = qid

    def __repr__(self):
        return f"QRef({self.qid})"


def is_shareable_model(value):
    import interpreters
    if value is DEEP:
        return False
    if value is None or type(value) in (bool, int, float, str, bytes,
                                         interpreters.Queue, QRef):
        return True
    if type(value) is tuple:
        return all(is_shareable_model(item) for item in value)
    return False


def same(got, expected, handles=None):
    """Whether got is what expected (a model value) stands for."""
    import interpreters
    if isinstance(expected, QRef):
        return type(got) is interpreters.Queue and got.id == expected.qid
    if type(got) is not type(expected):
        return False
    if type(expected) is float:
        return repr(got) == repr(expected)
    if type(expected) in (tuple, list):
        return len(got) == len(expected) and all(
            same(g, e) for g, e in zip(got, expected))
    if type(expected) in (dict, collections.OrderedDict):
        return (list(got) == list(expected)
                and all(same(got[k], expected[k]) for k in expected))
    if type(expected) is decimal.Decimal:
        return str(got) == str(expected)
    return got == expected


def queue_ids_in(value):
    """The ids of the queues that a model value refers to."""
    if value is DEEP:
        return []
    if isinstance(value, QRef):
        return [value.qid]
    if type(value) in (tuple, list):
        return [qid for item in value for qid in queue_ids_in(item)]
    if type(value) in (dict, collections.OrderedDict):
        return [qid for item in value.values() for qid in queue_ids_in(item)]
    return []


def fuzz_crossing():
    from hypothesis import given
    import interpreters
    q = interpreters.create_queue()
    interp = interpreters.create()
    interp.prepare_main(q=q)

    @settings_for("crossing")
    @with_seed
    @given(item=crossing_values())
    def test(item):
        value, kind = item
        value = unwrap(value)
        CALLS.new_case("crossing")
        CALLS.log(f"is_shareable({safe_repr(value)})")
        assert interpreters.is_shareable(value) == (kind == "shareable"), \
            (value, kind)
        if kind == "unpicklable":
            for put in (q.put, q.put_nowait, lambda v: interp.call(len, v),
                        lambda v: interp.prepare_main(v=v)):
                CALLS.log(f"put unpicklable {safe_repr(value)}")
                try:
                    put(value)
                except interpreters.NotShareableError:
                    pass
                else:
                    raise AssertionError(f"{value!r} crossed")
                assert q.empty()
            return
        # Through a queue, in the same interpreter.
        CALLS.log(f"put {safe_repr(value)}")
        q.put_nowait(value)
        got = q.get_nowait()
        assert same(got, value), (got, value)
        # To the other interpreter and back, three ways.
        CALLS.log(f"prepare_main and back {safe_repr(value)}")
        interp.prepare_main(v=value)
        interp.run("q.put(v); del v")
        got = q.get_nowait()
        assert same(got, value), (got, value)
        CALLS.log(f"call with {safe_repr(value)}")
        got = interp.call(main_function, value)
        assert same(got, value), (got, value)
        q.put(value)
        interp.run("q.put(q.get_nowait())")
        got = q.get_nowait()
        assert same(got, value), (got, value)
        assert q.empty()

    test()
    interp.destroy()


# ----------------------------------------------------------------------------
# The state machine

# (source, name of the exception type it raises, or None)
SNIPPETS = [
    ("pass", None),
    ("import sys; spam = len(sys.modules)", None),
    ("1 / 0", "ZeroDivisionError"),
    ("raise SystemExit(2)", "SystemExit"),
    ("raise KeyboardInterrupt", "KeyboardInterrupt"),
    ("1 +", "SyntaxError"),
    ("undefined_name", "NameError"),
    ("class E(Exception):\n    def __str__(self): 1 / 0\nraise E", "E"),
    ("import threading\nt = threading.Thread(target=len, args=((),))\n"
     "t.start()\nt.join()", None),
    ("raise ValueError('\\u20ac\\udc80\\0')", "ValueError"),
]

# (func, args, kwargs, expected result or the name of the exception type
# raised in the target)
CALLABLES = [
    (len, ("spam",), {}, 4),
    (pow, (2, 100), {}, 2**100),
    (divmod, (7, 0), {}, "ZeroDivisionError"),
    (sorted, ((3, 1, 2),), {"reverse": True}, [3, 2, 1]),
    (int, ("zz",), {}, "ValueError"),
    (int, ("ff",), {"base": 16}, 255),
    (str.upper, ("\xe9\U0001d11e",), {}, "\xc9\U0001d11e"),
    (sys.exit, (4,), {}, "SystemExit"),
    (main_function, (("x", 1.5),), {}, ("x", 1.5)),
    (main_function_boom, (), {}, "NameError"),
    (lambda x, *, y: x * y, (21,), {"y": 2}, 42),
    (dict, ([("a", [1])],), {"b": {2}}, {"a": [1], "b": {2}}),
]


def make_machine_class():
    from hypothesis import strategies as st
    from hypothesis.stateful import (
        Bundle, RuleBasedStateMachine, invariant, multiple, precondition,
        rule)
    import _interpreters
    import interpreters

    class ModelQueue:
        def __init__(self, maxsize):
            self.maxsize = maxsize
            self.items = collections.deque()

        def full(self):
            return self.maxsize > 0 and len(self.items) >= self.maxsize

    class InterpretersMachine(RuleBasedStateMachine):
        interps = Bundle("interps")
        queues = Bundle("queues")
        values = crossing_values(queues.map(QRef))

        def __init__(self):
            super().__init__()
            CALLS.new_case("machine")
            self.main_id = _interpreters.get_main()
            self.handles = {}       # interp id -> Interpreter, ever made
            self.alive = set()      # interp ids alive in the model
            self.sub_refs = {}      # interp id -> ids of queues it holds
            self.qhandles = {}      # queue id -> our Queue handle
            self.model = {}         # queue id -> ModelQueue, alive ones
            self.chan = interpreters.create_queue()
            self.counter = 0

        # The model of queue lifetimes: a queue lives while a handle or
        # an item of a living queue refers to it.

        def collect(self):
            while True:
                refs = collections.Counter(list(self.qhandles))
                for interp_id in self.alive:
                    refs.update(self.sub_refs[interp_id])
                for mq in self.model.values():
                    for item in mq.items:
                        refs.update(queue_ids_in(item))
                dead = [qid for qid in self.model if not refs[qid]]
                if not dead:
                    return
                for qid in dead:
                    del self.model[qid]

        def materialize(self, value):
            """Replace the QRefs of a model value with queue handles."""
            if isinstance(value, Named):
                return value.obj
            if isinstance(value, QRef):
                return self.qhandles[value.qid]
            if type(value) is tuple:
                return tuple(self.materialize(v) for v in value)
            if type(value) is list:
                return [self.materialize(v) for v in value]
            if type(value) is dict:
                return {k: self.materialize(v) for k, v in value.items()}
            return value

        def can_send(self, value):
            return all(qid in self.qhandles for qid in queue_ids_in(value))

        def expect_run(self, interp_id, source, expected):
            """Run source in interp_id, checking the outcome."""
            interp = self.handles[interp_id]
            CALLS.log(f"run({interp_id}, {safe_repr(source)})")
            if interp_id not in self.alive:
                try:
                    interp.run(source)
                except interpreters.InterpreterNotFoundError:
                    return
                raise AssertionError("ran in a destroyed interpreter")
            try:
                interp.run(source)
            except interpreters.RunFailedError as err:
                assert err.excinfo.type.__name__ == expected, (
                    source, expected, str(err), err.excinfo.formatted)
                assert str(err).startswith(expected), str(err)
            else:
                assert expected is None, (source, expected)

        # Interpreters

        @precondition(lambda self: len(self.alive) < 4)
        @rule(target=interps)
        def create(self):
            CALLS.log("create()")
            interp = interpreters.create()
            assert interp.id not in self.handles
            interp.prepare_main(_chan=self.chan)
            self.handles[interp.id] = interp
            self.alive.add(interp.id)
            self.sub_refs[interp.id] = set()
            return interp.id

        @rule(interp_id=interps)
        def destroy(self, interp_id):
            interp = self.handles[interp_id]
            CALLS.log(f"destroy({interp_id})")
            if interp_id in self.alive:
                interp.destroy()
                self.alive.discard(interp_id)
                self.collect()
            else:
                try:
                    interp.destroy()
                except interpreters.InterpreterNotFoundError:
                    pass
                else:
                    raise AssertionError("destroyed twice")

        @rule(interp_id=interps, snippet=st.sampled_from(SNIPPETS))
        def run(self, interp_id, snippet):
            self.expect_run(interp_id, *snippet)

        @rule(interp_id=interps,
              source=st.text(st.characters(codec=None,
                                           exclude_categories=()),
                             max_size=15))
        def run_text(self, interp_id, source):
            interp = self.handles[interp_id]
            CALLS.log(f"run({interp_id}, {safe_repr(source)})")
            try:
                interp.run(source)
            except interpreters.RunFailedError:
                assert interp_id in self.alive
            except interpreters.InterpreterNotFoundError:
                assert interp_id not in self.alive
            except ValueError:
                # A null byte, a lone surrogate: not source code.
                assert "\0" in source or any(
                    0xD800 <= ord(c) < 0xE000 for c in source), source
            # A successful run of random text must not have rebound our
            # names: put them back.
            if interp_id in self.alive:
                self.rebind(interp_id)

        def rebind(self, interp_id):
            names = {f"q{qid}": self.qhandles[qid]
                     for qid in self.sub_refs[interp_id]
                     if qid in self.qhandles}
            names["_chan"] = self.chan
            self.handles[interp_id].prepare_main(names)

        @rule(interp_id=interps, which=st.sampled_from(CALLABLES))
        def call(self, interp_id, which):
            func, args, kwargs, expected = which
            interp = self.handles[interp_id]
            CALLS.log(f"call({interp_id}, {safe_repr(func)}, "
                      f"{safe_repr(args)})")
            if interp_id not in self.alive:
                try:
                    interp.call(func, *args, **kwargs)
                except interpreters.InterpreterNotFoundError:
                    return
                raise AssertionError("called into a destroyed interpreter")
            try:
                got = interp.call(func, *args, **kwargs)
            except interpreters.RunFailedError as err:
                assert err.excinfo.type.__name__ == expected, (
                    expected, str(err))
                cause = err.__cause__
                assert cause is None or type(cause).__name__ == expected
            else:
                assert same(got, expected), (got, expected)

        @rule(interp_id=interps)
        def is_running(self, interp_id):
            CALLS.log(f"is_running({interp_id})")
            try:
                running = self.handles[interp_id].is_running()
            except interpreters.InterpreterNotFoundError:
                assert interp_id not in self.alive
            else:
                assert interp_id in self.alive
                assert running is False

        @rule(interp_id=interps, data=st.data())
        def echo(self, interp_id, data):
            value, kind = data.draw(self.values)
            if not self.can_send(value):
                return
            interp = self.handles[interp_id]
            sent = self.materialize(value)
            CALLS.log(f"prepare_main({interp_id}, v={safe_repr(sent)})")
            try:
                interp.prepare_main(v=sent)
            except interpreters.NotShareableError:
                assert kind == "unpicklable", value
                return
            except interpreters.InterpreterNotFoundError:
                assert interp_id not in self.alive
                return
            assert interp_id in self.alive and kind != "unpicklable", value
            del sent
            interp.run("_chan.put(v); del v")
            got = self.chan.get_nowait()
            assert same(got, value), (got, value)

        # Queues

        @rule(target=queues, maxsize=st.integers(0, 3))
        def create_queue(self, maxsize):
            CALLS.log(f"create_queue({maxsize})")
            q = interpreters.create_queue(maxsize)
            assert q.id not in self.model
            assert q.maxsize == maxsize
            self.qhandles[q.id] = q
            self.model[q.id] = ModelQueue(maxsize)
            return q.id

        @rule(target=queues, interp_id=interps, maxsize=st.integers(0, 3))
        def create_queue_in(self, interp_id, maxsize):
            """A queue created, and held, by a subinterpreter only."""
            if interp_id not in self.alive:
                return multiple()
            self.counter += 1
            name = f"own{self.counter}"
            CALLS.log(f"create_queue({maxsize}) in {interp_id}")
            self.handles[interp_id].run(
                f"import interpreters\n"
                f"{name} = interpreters.create_queue({maxsize})\n"
                f"_chan.put({name}.id)")
            qid = self.chan.get_nowait()
            assert qid not in self.model
            self.model[qid] = ModelQueue(maxsize)
            # Hold it under the usual name as well.
            self.handles[interp_id].run(f"q{qid} = {name}; del {name}")
            self.sub_refs[interp_id].add(qid)
            return qid

        def put_expect(self, qid, value, kind, put):
            mq = self.model.get(qid)
            try:
                put()
            except interpreters.NotShareableError:
                assert kind == "unpicklable", value
            except interpreters.QueueFull:
                assert kind != "unpicklable" and mq.full()
            else:
                assert kind != "unpicklable" and not mq.full(), value
                mq.items.append(value)

        @rule(qid=queues, data=st.data())
        def put_nowait(self, qid, data):
            if qid not in self.qhandles:
                return
            value, kind = data.draw(self.values)
            if not self.can_send(value):
                return
            q = self.qhandles[qid]
            sent = self.materialize(value)
            assert interpreters.is_shareable(sent) == (kind == "shareable")
            CALLS.log(f"put_nowait({qid}, {safe_repr(sent)})")
            self.put_expect(qid, value, kind, lambda: q.put_nowait(sent))
            del sent
            self.collect()

        def expect_get(self, qid, got=None, error=None):
            mq = self.model[qid]
            if error is not None:
                assert not mq.items, (qid, error)
                return
            expected = mq.items.popleft()
            assert same(got, expected), (got, expected)
            for ref in queue_ids_in(expected):
                # We now hold the queue; keep one handle at most.
                self.qhandles.setdefault(ref, interpreters.Queue(ref))
            self.collect()

        @rule(qid=queues)
        def get_nowait(self, qid):
            if qid not in self.qhandles:
                return
            CALLS.log(f"get_nowait({qid})")
            try:
                got = self.qhandles[qid].get_nowait()
            except interpreters.QueueEmpty:
                self.expect_get(qid, error="QueueEmpty")
            else:
                self.expect_get(qid, got)

        @rule(interp_id=interps, qid=queues, data=st.data())
        def put_in(self, interp_id, qid, data):
            if interp_id not in self.alive or qid not in self.model:
                return
            if qid not in self.sub_refs[interp_id]:
                if qid not in self.qhandles:
                    return
                self.handles[interp_id].prepare_main(
                    {f"q{qid}": self.qhandles[qid]})
                self.sub_refs[interp_id].add(qid)
            value, kind = data.draw(self.values)
            if not self.can_send(value) or kind == "unpicklable":
                return
            interp = self.handles[interp_id]
            CALLS.log(f"put in {interp_id} to {qid}: {safe_repr(value)}")
            interp.prepare_main(v=self.materialize(value))

            def put():
                try:
                    interp.run(f"try:\n    q{qid}.put_nowait(v)\n"
                               f"finally:\n    del v")
                except interpreters.RunFailedError as err:
                    if err.excinfo.type.__name__ == "QueueFull":
                        raise interpreters.QueueFull from None
                    raise
            self.put_expect(qid, value, kind, put)
            self.collect()

        @rule(interp_id=interps, qid=queues)
        def get_in(self, interp_id, qid):
            if interp_id not in self.alive or qid not in self.model:
                return
            if qid not in self.sub_refs[interp_id]:
                if qid not in self.qhandles:
                    return
                self.handles[interp_id].prepare_main(
                    {f"q{qid}": self.qhandles[qid]})
                self.sub_refs[interp_id].add(qid)
            CALLS.log(f"get in {interp_id} from {qid}")
            try:
                self.handles[interp_id].run(f"_chan.put(q{qid}.get_nowait())")
            except interpreters.RunFailedError as err:
                assert err.excinfo.type.__name__ == "QueueEmpty", str(err)
                self.expect_get(qid, error="QueueEmpty")
            else:
                self.expect_get(qid, self.chan.get_nowait())

        @rule(qid=queues)
        def lookup(self, qid):
            CALLS.log(f"Queue({qid})")
            try:
                q = interpreters.Queue(qid)
            except interpreters.QueueNotFoundError:
                assert qid not in self.model, qid
            else:
                assert qid in self.model, qid
                assert q.id == qid
                assert q.maxsize == self.model[qid].maxsize
                self.qhandles.setdefault(qid, q)
                assert self.qhandles[qid] == q
                assert hash(self.qhandles[qid]) == hash(q)

        @rule(qid=queues)
        def drop_handle(self, qid):
            CALLS.log(f"drop our handle of {qid}")
            self.qhandles.pop(qid, None)
            self.collect()

        @invariant()
        def queues_agree(self):
            for qid, q in self.qhandles.items():
                mq = self.model[qid]
                assert q.qsize() == len(mq.items), (qid, q.qsize(), mq.items)
                assert q.empty() == (not mq.items)
                assert q.full() == mq.full()

        @invariant()
        def interpreters_agree(self):
            listed = set(_interpreters.list_all())
            assert listed == self.alive | {self.main_id}, (listed,
                                                           self.alive)

        def teardown(self):
            CALLS.log("teardown")
            for interp_id in sorted(self.alive, reverse=True):
                self.handles[interp_id].destroy()
            self.alive.clear()
            self.qhandles.clear()
            destroy_all_but()

    return InterpretersMachine


def fuzz_machine():
    from hypothesis.stateful import get_state_machine_test
    machine = make_machine_class()
    test = get_state_machine_test(machine, settings=settings_for("machine"))
    with_seed(test)()


if __name__ == "__main__":
    child_main(sys.argv[1], sys.argv[2])
