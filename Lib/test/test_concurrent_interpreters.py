# Tests for the concurrent.interpreters module (PEP 734, as in Python 3.14).
import copy
import functools
import gc
import os
import pickle
import threading
import types
import unittest
from textwrap import dedent
from test import support
from test.support import import_helper
from test.support import interpreters_helper
from test.support import os_helper
from test.support import script_helper
from test.support import threading_helper

threading_helper.requires_working_threading(module=True)
_interpreters = import_helper.import_module('_interpreters')
import interpreters as old_interpreters
from concurrent import interpreters
from concurrent.interpreters import (
    Interpreter, InterpreterError, InterpreterNotFoundError, ExecutionFailed,
    NotShareableError,
)


# An ID that no interpreter will have during the tests.
UNKNOWN_ID = 2**62


def exists(interp_id):
    return interp_id in _interpreters.list_all()


def add_to_spam():
    # Run by exec(): its globals are the target's __main__.
    spam.append(len(spam))      # noqa: F821


def takes_args(a, b=1):
    return a + b


def takes_kwonly(*, a=1):
    return a


def makes_a_closure():
    # No closure itself, but its code has a cell variable.
    x = 1
    return lambda: x


def _make_closure():
    x = 1
    def closure():
        return x
    return closure


class Spam(Exception):
    """An exception type that exists in every interpreter (importable)."""


def raise_spam(msg):
    raise Spam(msg)


def os_write(fd, data):
    os.write(fd, data)


class TestBase(interpreters_helper.TestBase):

    def running(self, interp_id):
        """Keep interp_id running code in another thread for the block."""
        return interpreters_helper.running(
            functools.partial(_interpreters.run_string, interp_id))


# ----------------------------------------------------------------------------
# The module

class ModuleTests(unittest.TestCase):

    def test_all(self):
        for name in interpreters.__all__:
            self.assertTrue(hasattr(interpreters, name), name)
        self.assertEqual(
            set(interpreters.__all__),
            {'get_current', 'get_main', 'create', 'list_all',
             'is_shareable', 'OWN_GIL_AVAILABLE', 'Interpreter', 'InterpreterError',
             'InterpreterNotFoundError', 'ExecutionFailed',
             'ExecutionTimeoutError', 'NotShareableError', 'create_queue',
             'Queue', 'QueueEmpty', 'QueueFull'})

    def test_exception_hierarchy(self):
        self.assertTrue(issubclass(InterpreterNotFoundError,
                                   InterpreterError))
        self.assertTrue(issubclass(ExecutionFailed, InterpreterError))
        self.assertTrue(issubclass(NotShareableError, InterpreterError))
        # Shared with the interpreters module: one except clause for both.
        self.assertIs(InterpreterError, old_interpreters.InterpreterError)

    def test_is_shareable(self):
        for obj in (None, True, 1, 1.5, 'a', b'b', (1, 'a')):
            self.assertTrue(interpreters.is_shareable(obj), obj)
        for obj in ([], {}, object()):
            self.assertFalse(interpreters.is_shareable(obj), obj)


class FunctionTests(TestBase):

    def test_list_all(self):
        main = interpreters.get_main()
        self.assertEqual(interpreters.list_all(), [main])
        interp1 = interpreters.create()
        interp2 = interpreters.create()
        self.assertEqual(interpreters.list_all(), [main, interp1, interp2])
        interp1.close()
        self.assertEqual(interpreters.list_all(), [main, interp2])

    def test_get_main_and_current(self):
        main = interpreters.get_main()
        self.assertEqual(main.id, _interpreters.get_main())
        self.assertIs(interpreters.get_current(), main)
        interp = interpreters.create()
        interp.exec('from concurrent import interpreters as i')
        ids = interp.call(eval, '(i.get_current().id, i.get_main().id)')
        self.assertEqual(ids, (interp.id, main.id))

    def test_create(self):
        interp = interpreters.create()
        self.assertIsInstance(interp, Interpreter)
        self.assertTrue(exists(interp.id))
        self.assertFalse(interp.is_running())
        self.assertIsNot(interpreters.create(), interp)

    def test_create_in_subinterpreter(self):
        interp = interpreters.create()
        interp.exec(dedent("""
            from concurrent import interpreters
            sub = interpreters.create()
            sub.exec('x = 1')
            sub_id = sub.id
            """))
        sub_id = interp.call(eval, 'sub_id')
        self.assertTrue(exists(sub_id))
        self.assertEqual(Interpreter(sub_id).whence, '_interpreters module')
        # Its last reference is in interp.
        interp.exec('del sub')
        self.assertFalse(exists(sub_id))


# ----------------------------------------------------------------------------
# Interpreter objects

class InterpreterObjectTests(TestBase):

    def test_one_object_per_id(self):
        interp = interpreters.create()
        self.assertIs(Interpreter(interp.id), interp)
        self.assertIs(interpreters.list_all()[-1], interp)
        self.assertIs(interpreters.get_main(), interpreters.get_main())
        self.assertIs(Interpreter(0), interpreters.get_main())

    def test_same_object_from_threads(self):
        interp = interpreters.create()
        found = []
        barrier = threading.Barrier(4)

        def look_up():
            barrier.wait(support.SHORT_TIMEOUT)
            found.append(Interpreter(interp.id))

        threads = [threading.Thread(target=look_up) for _ in range(4)]
        with threading_helper.start_threads(threads):
            pass
        self.assertEqual(len(found), 4)
        for obj in found:
            self.assertIs(obj, interp)

    def test_bad_id(self):
        with self.assertRaises(TypeError):
            Interpreter('1')
        with self.assertRaises(TypeError):
            Interpreter(1.0)
        with self.assertRaises(ValueError):
            Interpreter(-1)
        with self.assertRaises(InterpreterNotFoundError):
            Interpreter(UNKNOWN_ID)
        with self.assertRaises(TypeError):
            Interpreter()

    def test_id_and_whence_readonly(self):
        interp = interpreters.create()
        with self.assertRaises(AttributeError):
            interp.id = 42
        with self.assertRaises(AttributeError):
            interp.whence = 'spam'

    def test_repr_and_hash(self):
        interp = interpreters.create()
        self.assertEqual(repr(interp), f'Interpreter({interp.id})')
        self.assertEqual(hash(interp), hash(interp.id))
        self.assertEqual(repr(interpreters.get_main()), 'Interpreter(0)')

    def test_pickle_and_copy(self):
        interp = interpreters.create()
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            self.assertIs(pickle.loads(pickle.dumps(interp, proto)), interp)
        self.assertIs(copy.copy(interp), interp)
        self.assertIs(copy.deepcopy(interp), interp)
        # What crosses is the ID.
        self.assertIn(str(interp.id).encode(), pickle.dumps(interp, 0))

    def test_pickled_to_another_interpreter(self):
        interp = interpreters.create()
        other = interpreters.create()
        other.prepare_main(interp=interp)
        self.assertEqual(other.call(eval, '(type(interp).__module__, '
                                          'interp.id, interp.whence)'),
                         ('concurrent.interpreters', interp.id,
                          '_interpreters module'))
        # And back: the same object as here.
        self.assertIs(other.call(eval, 'interp'), interp)

    def test_destroyed(self):
        interp = interpreters.create()
        interp.close()
        self.assertFalse(exists(interp.id))
        with self.assertRaises(InterpreterNotFoundError):
            interp.is_running()
        with self.assertRaises(InterpreterNotFoundError):
            interp.close()
        with self.assertRaises(InterpreterNotFoundError):
            interp.exec('pass')
        with self.assertRaises(InterpreterNotFoundError):
            interp.call(len, ())
        with self.assertRaises(InterpreterNotFoundError):
            interp.prepare_main(a=1)
        # The object stays the one for its ID while it lives.
        interp_id = interp.id
        self.assertIs(Interpreter(interp_id), interp)
        del interp
        with self.assertRaises(InterpreterNotFoundError):
            Interpreter(interp_id)


class WhenceTests(TestBase):

    def test_main(self):
        self.assertEqual(interpreters.get_main().whence, 'runtime init')

    def test_created_by_this_module(self):
        self.assertEqual(interpreters.create().whence,
                         '_interpreters module')

    def test_created_by_interpreters_module(self):
        interp_id = old_interpreters.create().id
        self.assertEqual(Interpreter(interp_id).whence,
                         '_interpreters module')
        interp_id = _interpreters.create()
        self.assertEqual(Interpreter(interp_id).whence,
                         '_interpreters module')

    def test_created_by_xxsubinterpreters(self):
        xx = import_helper.import_module('_xxsubinterpreters')
        # Its ID object keeps it alive.
        xx_id = xx.create()
        try:
            self.assertEqual(Interpreter(int(xx_id)).whence,
                             'legacy C-API')
        finally:
            xx.destroy(xx_id)

    def test_from_subinterpreter(self):
        interp = interpreters.create()
        interp.exec('from concurrent import interpreters as ci')
        self.assertEqual(
            interp.call(eval, '[i.whence for i in ci.list_all()]'),
            ['runtime init', '_interpreters module'])


class ForeignInterpreterTests(TestBase):
    """The methods that change an interpreter refuse ones neither module
    created."""

    def check_refused(self, interp):
        i = interp.id
        cases = [
            (interp.close, (), f'cannot destroy unrecognized interpreter {i}'),
            (interp.prepare_main, ({'a': 1},),
             f'cannot update __main__ for unrecognized interpreter {i}'),
            (interp.exec, ('pass',),
             f'cannot exec code for unrecognized interpreter {i}'),
            (interp.call, (len, ()),
             f'cannot make a call in unrecognized interpreter {i}'),
            (interp.call_in_thread, (len, ()),
             f'cannot make a call in unrecognized interpreter {i}'),
        ]
        for method, args, msg in cases:
            with self.subTest(method.__name__):
                with self.assertRaises(InterpreterError) as cm:
                    method(*args)
                self.assertIs(type(cm.exception), InterpreterError)
                self.assertEqual(str(cm.exception), msg)

    def test_main(self):
        self.check_refused(interpreters.get_main())

    def test_xxsubinterpreters(self):
        xx = import_helper.import_module('_xxsubinterpreters')
        xx_id = xx.create()
        interp_id = int(xx_id)
        try:
            interp = Interpreter(interp_id)
            self.check_refused(interp)
            self.assertFalse(interp.is_running())
            del interp
            # Never closed on last reference either.
            self.assertTrue(exists(interp_id))
        finally:
            xx.destroy(xx_id)

    def test_interpreters_module_ones_accepted(self):
        interp = Interpreter(old_interpreters.create().id)
        interp.prepare_main(a=1)
        interp.exec('b = a + 1')
        self.assertEqual(interp.call(eval, 'b'), 2)
        interp.close()


# ----------------------------------------------------------------------------
# Closing on last reference

class CloseOnLastReferenceTests(TestBase):

    def test_del(self):
        interp = interpreters.create()
        interp_id = interp.id
        interp.exec('x = 1')
        del interp
        self.assertFalse(exists(interp_id))

    def test_list_all_does_not_keep_it(self):
        interp_id = interpreters.create().id
        self.assertFalse(exists(interp_id))
        interp = interpreters.create()
        interp_id = interp.id
        interpreters.list_all()
        Interpreter(interp_id)
        del interp
        self.assertFalse(exists(interp_id))

    def test_reference_cycle(self):
        interp = interpreters.create()
        interp_id = interp.id
        cycle = [interp]
        cycle.append(cycle)
        del interp, cycle
        self.assertTrue(exists(interp_id))
        gc.collect()
        self.assertFalse(exists(interp_id))

    def test_last_reference_in_another_interpreter(self):
        interp = interpreters.create()
        interp_id = interp.id
        other = interpreters.create()
        other.prepare_main(interp=interp)
        del interp
        # The object in other keeps it.
        self.assertTrue(exists(interp_id))
        other.exec('interp.exec("y = 2")')
        other.exec('del interp')
        self.assertFalse(exists(interp_id))

    def test_pickled_across_and_back(self):
        interp = interpreters.create()
        interp_id = interp.id
        other = interpreters.create()
        other.prepare_main(d=pickle.dumps(interp))
        other.exec('import pickle; data = pickle.loads(d)')
        data = pickle.dumps(interp)
        del interp
        self.assertTrue(exists(interp_id))
        # A pickle is not a reference.
        other.exec('del data')
        self.assertFalse(exists(interp_id))
        with self.assertRaises(InterpreterNotFoundError):
            pickle.loads(data)

    def test_not_for_interpreters_module(self):
        interp_id = old_interpreters.create().id
        interp = Interpreter(interp_id)
        del interp
        self.assertTrue(exists(interp_id))
        interp_id = _interpreters.create()
        Interpreter(interp_id)
        self.assertTrue(exists(interp_id))

    def test_explicit_close_first(self):
        interp = interpreters.create()
        other = interpreters.create()
        other.prepare_main(interp=interp)
        interp.close()
        del interp
        other.exec('del interp')
        self.assertTrue(exists(other.id))

    def test_running_is_left_alive(self):
        interp = interpreters.create()
        interp_id = interp.id
        with self.running(interp_id):
            del interp
            self.assertTrue(exists(interp_id))
        # Left for the exit (or an explicit close).
        self.assertTrue(exists(interp_id))
        Interpreter(interp_id).close()
        self.assertFalse(exists(interp_id))

    def test_thread_running_there_is_left_alive(self):
        # Closing would wait for the thread: never block on it.
        interp = interpreters.create()
        interp_id = interp.id
        r, w = self.pipe()
        interp.exec(dedent(f"""
            import os, threading
            t = threading.Thread(target=os.read, args=({r}, 1))
            t.start()
            """))
        del interp
        self.assertTrue(exists(interp_id))
        os.write(w, b'1')
        _interpreters.run_string(interp_id, 't.join()')
        Interpreter(interp_id).close()

    def test_released_inside_itself(self):
        interp = interpreters.create()
        interp_id = interp.id
        interp.exec('from concurrent import interpreters; '
                    'me = interpreters.get_current()')
        del interp
        # The object in it keeps it.
        self.assertTrue(exists(interp_id))
        _interpreters.run_string(interp_id, 'del me')
        # It could not close itself: left alive.
        self.assertTrue(exists(interp_id))

    def test_holder_closed_first(self):
        interp = interpreters.create()
        interp_id = interp.id
        other = interpreters.create()
        other.prepare_main(interp=interp)
        del interp
        # other's finalization drops the last reference: interp is left
        # alive rather than closed from inside another finalization.
        other.close()
        self.assertTrue(exists(interp_id))
        Interpreter(interp_id).close()

    def test_at_exit(self):
        script_helper.assert_python_ok('-c', dedent("""
            from concurrent import interpreters
            a = interpreters.create()
            b = interpreters.create()
            b.prepare_main(a=a)
            a.prepare_main(b=b)
            cycle = [a]
            cycle.append(cycle)
            """))


# ----------------------------------------------------------------------------
# Running code

class ExecTests(TestBase):

    def test_str(self):
        interp = interpreters.create()
        interp.exec('x = 40')
        interp.exec('x += 2')
        self.assertEqual(interp.call(eval, 'x'), 42)

    def test_code_object(self):
        interp = interpreters.create()
        interp.exec(compile('x = [1, 2]\nx.append(3)', '<spam>', 'exec'))
        self.assertEqual(interp.call(eval, 'x'), [1, 2, 3])

    def test_function(self):
        interp = interpreters.create()
        interp.prepare_main(spam=[])
        interp.exec(add_to_spam)
        interp.exec(add_to_spam)
        self.assertEqual(interp.call(eval, 'spam'), [0, 1])

    def test_function_from_main_source(self):
        # Its globals are the target's __main__, not its own __globals__.
        ns = {}
        exec('def f():\n    global z\n    z = __name__\n', ns)
        interp = interpreters.create()
        interp.exec(ns['f'])
        self.assertEqual(interp.call(eval, 'z'), '__main__')

    def test_lambda(self):
        interp = interpreters.create()
        interp.exec(lambda: None)

    def test_refused_functions(self):
        interp = interpreters.create()
        for func in (takes_args, takes_kwonly, _make_closure(),
                     lambda *args: None, lambda **kwargs: None):
            with self.subTest(func):
                with self.assertRaises(ValueError):
                    interp.exec(func)
        with self.assertRaisesRegex(ValueError, 'closures not supported'):
            interp.exec(_make_closure())
        with self.assertRaisesRegex(ValueError, 'arguments not supported'):
            interp.exec(takes_args.__code__)
        with self.assertRaisesRegex(ValueError, 'closures not supported'):
            interp.exec(makes_a_closure)

    def test_bad_argument(self):
        interp = interpreters.create()
        for code in (None, 1, b'pass', len, object(), takes_args.__get__(1)):
            with self.subTest(code):
                with self.assertRaises(TypeError):
                    interp.exec(code)
        with self.assertRaises(ValueError):
            interp.exec('x = 1\0')
        with self.assertRaises(TypeError):
            interp.exec()

    def test_syntax_error(self):
        interp = interpreters.create()
        with self.assertRaises(ExecutionFailed) as cm:
            interp.exec('1 +')
        self.assertEqual(cm.exception.excinfo.type.__name__, 'SyntaxError')

    def test_running(self):
        interp = interpreters.create()
        with self.running(interp.id):
            self.assertTrue(interp.is_running())
            with self.assertRaises(InterpreterError):
                interp.exec('pass')
            with self.assertRaises(InterpreterError):
                interp.exec(add_to_spam)
        self.assertFalse(interp.is_running())

    def test_current(self):
        interp = interpreters.create()
        interp.exec(dedent("""
            from concurrent import interpreters
            try:
                interpreters.get_current().exec('pass')
            except interpreters.InterpreterError:
                pass
            else:
                raise AssertionError('not refused')
            """))


class ExecutionFailedTests(TestBase):

    def test_excinfo(self):
        interp = interpreters.create()
        with self.assertRaises(ExecutionFailed) as cm:
            interp.exec('raise ValueError("spam")')
        excinfo = cm.exception.excinfo
        self.assertEqual(excinfo.type.__name__, 'ValueError')
        self.assertEqual(excinfo.type.__qualname__, 'ValueError')
        self.assertEqual(excinfo.type.__module__, 'builtins')
        self.assertEqual(excinfo.msg, 'spam')
        self.assertEqual(excinfo.formatted, 'ValueError: spam')
        self.assertTrue(excinfo.errdisplay.startswith('Traceback'),
                        excinfo.errdisplay)
        self.assertTrue(excinfo.errdisplay.endswith('ValueError: spam'),
                        excinfo.errdisplay)
        self.assertEqual(cm.exception.args, ('ValueError: spam',))

    def test_str(self):
        interp = interpreters.create()
        with self.assertRaises(ExecutionFailed) as cm:
            interp.exec('raise ValueError("spam")')
        exc = cm.exception
        self.assertEqual(
            str(exc),
            'ValueError: spam\n\nUncaught in the interpreter:\n\n'
            + exc.excinfo.errdisplay)

    def test_str_without_errdisplay(self):
        excinfo = types.SimpleNamespace(
            type=types.SimpleNamespace(__name__='E'), msg='m', formatted='')
        exc = ExecutionFailed(excinfo)
        self.assertEqual(str(exc), 'E: m')
        self.assertIs(exc.excinfo, excinfo)

    def test_type_of_another_module(self):
        interp = interpreters.create()
        with self.assertRaises(ExecutionFailed) as cm:
            interp.exec('import json; json.loads("{")')
        excinfo = cm.exception.excinfo
        self.assertEqual(excinfo.type.__module__, 'json.decoder')
        self.assertEqual(excinfo.type.__qualname__, 'JSONDecodeError')
        self.assertTrue(excinfo.formatted.startswith(
            'json.decoder.JSONDecodeError: Expecting'), excinfo.formatted)

    def test_type_of_main(self):
        interp = interpreters.create()
        with self.assertRaises(ExecutionFailed) as cm:
            interp.exec('class Eggs(Exception):\n'
                        '    class Inner(Exception): pass\n'
                        'raise Eggs.Inner(1)')
        excinfo = cm.exception.excinfo
        self.assertEqual(excinfo.type.__module__, '__main__')
        self.assertEqual(excinfo.type.__qualname__, 'Eggs.Inner')
        self.assertEqual(excinfo.formatted, 'Eggs.Inner: 1')

    def test_system_exit(self):
        interp = interpreters.create()
        with self.assertRaises(ExecutionFailed) as cm:
            interp.exec('raise SystemExit(3)')
        self.assertEqual(cm.exception.excinfo.type.__name__, 'SystemExit')
        self.assertTrue(exists(interp.id))

    def test_from_function_and_code(self):
        interp = interpreters.create()
        for code in (add_to_spam, add_to_spam.__code__):
            with self.assertRaises(ExecutionFailed) as cm:
                interp.exec(code)
            self.assertEqual(cm.exception.excinfo.formatted,
                             "NameError: name 'spam' is not defined")


class CallTests(TestBase):

    def test_result(self):
        interp = interpreters.create()
        self.assertEqual(interp.call(takes_args, 1, b=2), 3)
        self.assertEqual(interp.call(len, 'abc'), 3)
        self.assertEqual(interp.call(sorted, [3, 1, 2], reverse=True),
                         [3, 2, 1])

    def test_builtins_needing_a_frame(self):
        interp = interpreters.create()
        interp.prepare_main(x=5)
        self.assertEqual(interp.call(eval, 'x * 2'), 10)
        interp.call(exec, 'y = x + 1')
        self.assertEqual(interp.call(eval, 'y'), 6)
        self.assertIn('y', interp.call(dir))
        self.assertEqual(interp.call(eval, '__name__'), '__main__')

    def test_exception_cause(self):
        interp = interpreters.create()
        with self.assertRaises(ExecutionFailed) as cm:
            interp.call(raise_spam, 'eggs')
        cause = cm.exception.__cause__
        self.assertIs(type(cause), Spam)
        self.assertEqual(cause.args, ('eggs',))
        self.assertEqual(cm.exception.excinfo.type.__qualname__, 'Spam')
        self.assertEqual(cm.exception.excinfo.msg, 'eggs')

    def test_exception_that_cannot_cross(self):
        interp = interpreters.create()
        with self.assertRaises(ExecutionFailed) as cm:
            interp.call(exec, 'class Eggs(Exception): pass\nraise Eggs(1)')
        self.assertIsNone(cm.exception.__cause__)
        self.assertEqual(cm.exception.excinfo.formatted, 'Eggs: 1')

    def test_not_shareable(self):
        interp = interpreters.create()
        with self.assertRaises(NotShareableError):
            interp.call(len, threading.Lock())
        with self.assertRaises(NotShareableError):
            interp.call(_make_closure())

    def test_bad_arguments(self):
        interp = interpreters.create()
        with self.assertRaises(TypeError):
            interp.call()
        with self.assertRaises(ExecutionFailed) as cm:
            interp.call(42)
        self.assertIs(type(cm.exception.__cause__), TypeError)

    def test_running(self):
        interp = interpreters.create()
        with self.running(interp.id):
            with self.assertRaises(InterpreterError):
                interp.call(len, ())

    def test_sys_path0(self):
        # The script's directory is sys.path[0] in the new interpreter too.
        with os_helper.temp_dir() as script_dir:
            script_dir = os.path.realpath(script_dir)
            script_helper.make_script(script_dir, 'cint_helper',
                                      'VALUE = "helper imported"')
            script = script_helper.make_script(script_dir, 'main', dedent("""
                from concurrent import interpreters
                interp = interpreters.create()
                print(interp.call(eval, '__import__("sys").path[0]'))
                print(interp.call(eval, '__import__("cint_helper").VALUE'))
                """))
            _, out, _ = script_helper.assert_python_ok(
                '-E', script, __isolated=False)
        self.assertEqual(out.decode().splitlines(),
                         [script_dir, 'helper imported'])


class CallInThreadTests(TestBase):

    def test_returns_started_thread(self):
        interp = interpreters.create()
        r, w = self.pipe()
        t = interp.call_in_thread(os_write, w, b'spam')
        self.assertIsInstance(t, threading.Thread)
        self.assertEqual(os.read(r, 4), b'spam')
        threading_helper.join_thread(t)
        self.assertFalse(t.is_alive())

    def test_kwargs(self):
        interp = interpreters.create()
        r, w = self.pipe()
        t = interp.call_in_thread(os_write, fd=w, data=b'eggs')
        threading_helper.join_thread(t)
        self.assertEqual(os.read(r, 4), b'eggs')

    def test_exception_goes_to_excepthook(self):
        interp = interpreters.create()
        with threading_helper.catch_threading_exception() as cm:
            t = interp.call_in_thread(raise_spam, 'ham')
            threading_helper.join_thread(t)
            self.assertIs(cm.exc_type, ExecutionFailed)
            self.assertIs(type(cm.exc_value.__cause__), Spam)
            cm.exc_value = None

    def test_running(self):
        interp = interpreters.create()
        with self.running(interp.id):
            with threading_helper.catch_threading_exception() as cm:
                t = interp.call_in_thread(len, ())
                threading_helper.join_thread(t)
                self.assertIs(cm.exc_type, InterpreterError)
                cm.exc_value = None


class PrepareMainTests(TestBase):

    def test_mapping_and_kwargs(self):
        interp = interpreters.create()
        interp.prepare_main({'a': 1, 'b': 2}, b=3, c='x')
        self.assertEqual(interp.call(eval, '(a, b, c)'), (1, 3, 'x'))
        interp.prepare_main()
        interp.prepare_main(None, d=[4])
        self.assertEqual(interp.call(eval, 'd'), [4])

    def test_not_shareable(self):
        interp = interpreters.create()
        with self.assertRaises(NotShareableError):
            interp.prepare_main(lock=threading.Lock())
        with self.assertRaises(TypeError):
            interp.prepare_main({1: 2})

    def test_running(self):
        interp = interpreters.create()
        with self.running(interp.id):
            with self.assertRaises(InterpreterError):
                interp.prepare_main(a=1)


class CloseTests(TestBase):

    def test_close(self):
        interp = interpreters.create()
        interp.close()
        self.assertFalse(exists(interp.id))
        with self.assertRaises(InterpreterNotFoundError):
            interp.close()

    def test_current(self):
        interp = interpreters.create()
        with self.assertRaises(ExecutionFailed) as cm:
            interp.exec('from concurrent import interpreters; '
                        'interpreters.get_current().close()')
        self.assertEqual(cm.exception.excinfo.type.__name__,
                         'InterpreterError')

    def test_running(self):
        interp = interpreters.create()
        with self.running(interp.id):
            with self.assertRaises(InterpreterError):
                interp.close()
        interp.close()


if __name__ == '__main__':
    unittest.main()
