# Tests for functions and classes of the caller's __main__ in
# concurrent.interpreters' call(): they run in a <fake __main__> module of
# the target interpreter, with what they use carried over, and no
# "if __name__ == '__main__'" guard is needed.
import os
import subprocess
import sys
import unittest
from textwrap import dedent
from test import support
from test.support import import_helper
from test.support import interpreters_helper
from test.support import os_helper
from test.support import script_helper

_interpreters = import_helper.import_module('_interpreters')
from concurrent import interpreters
import interpreters as pep554


class TestBase(interpreters_helper.TestBase):

    def define_in_main(self, source):
        """Run source as code of a __main__ module; return its namespace.

        Its functions and classes have __module__ '__main__', like those
        of a script, without touching the test runner's __main__.
        """
        ns = {'__name__': '__main__'}
        exec(dedent(source), ns)
        return ns


class FakeMainTests(TestBase):

    def test_runs_in_fake_main(self):
        ns = self.define_in_main("""
            def name():
                return __name__
            """)
        interp = interpreters.create()
        self.assertEqual(interp.call(ns['name']), '<fake __main__>')
        # Not in the target's __main__, which the call left alone.
        interp.exec('import sys; assert "name" not in vars()')
        interp.exec('assert "<fake __main__>" in sys.modules')

    def test_state_kept_across_calls(self):
        ns = self.define_in_main("""
            total = 0
            def inc():
                global total
                total += 1
            def get():
                return total
            """)
        interp = interpreters.create()
        self.assertEqual(interp.call(ns['get']), 0)
        interp.call(ns['inc'])
        interp.call(ns['inc'])
        self.assertEqual(interp.call(ns['get']), 2)
        # The caller's global, carried over once, is not sent again.
        ns['total'] = 100
        self.assertEqual(interp.call(ns['get']), 2)
        self.assertEqual(ns['total'], 100)
        # Each interpreter has its own fake module.
        other = interpreters.create()
        self.assertEqual(other.call(ns['get']), 100)

    def test_does_not_overwrite_fake_module(self):
        ns = self.define_in_main("""
            data = {}
            def put(key, value):
                data[key] = value
            def get(key, default=None):
                return data.get(key, default)
            """)
        interp = interpreters.create()
        interp.call(ns['put'], 'spam', 1)
        ns['data'] = {'spam': 'caller'}
        self.assertEqual(interp.call(ns['get'], 'spam'), 1)
        self.assertEqual(interp.call(ns['get'], 'eggs', -1), -1)

    def test_helpers_constants_and_modules(self):
        ns = self.define_in_main("""
            import math
            import os.path as osp
            SCALE = 3
            def fact(n):
                return 1 if n <= 1 else n * fact(n - 1)
            def helper(x):
                return math.sqrt(x) * SCALE
            def compute(x):
                squares = [helper(x) for _ in range(2)]
                return squares, fact(5), osp.join('a', 'b')
            """)
        interp = interpreters.create()
        self.assertEqual(interp.call(ns['compute'], 16),
                         ([12.0, 12.0], 120, os.path.join('a', 'b')))
        # The module was imported there, not pickled.
        interp.exec(dedent("""
            import sys
            fake = sys.modules['<fake __main__>']
            assert fake.math is sys.modules['math'], fake.math
            assert fake.SCALE == 3
            """))

    def test_method_of_class(self):
        ns = self.define_in_main("""
            class Base:
                def who(self):
                    return 'base'
            class Counter(Base):
                kind = 'counter'
                def __init__(self, value=0):
                    self.value = value
                def inc(self):
                    self.value += 1
                    return self.value
                def who(self):
                    return 'counter+' + super().who()
                @classmethod
                def module(cls):
                    return cls.__module__
                @staticmethod
                def static():
                    return __name__
                @property
                def double(self):
                    return self.value * 2
            def check(counter):
                return (type(counter) is Counter, counter.double,
                        counter.who())
            """)
        interp = interpreters.create()
        counter = ns['Counter'](17)
        # A copy crosses each time: the caller's object never changes.
        self.assertEqual(interp.call(counter.inc), 18)
        self.assertEqual(interp.call(counter.inc), 18)
        self.assertEqual(counter.value, 17)
        self.assertEqual(interp.call(ns['Counter'].module),
                         '<fake __main__>')
        self.assertEqual(interp.call(ns['Counter'].static),
                         '<fake __main__>')
        # The class rebuilt there is the one its functions see, and stays.
        self.assertEqual(interp.call(ns['check'], counter),
                         (True, 34, 'counter+base'))
        self.assertEqual(interp.call(ns['check'], ns['Counter'](1)),
                         (True, 2, 'counter+base'))

    def test_closure_refused(self):
        ns = self.define_in_main("""
            def outer():
                y = 1
                def inner():
                    return y
                return inner
            def uses(func):
                return func()
            """)
        interp = interpreters.create()
        with self.assertRaisesRegex(interpreters.NotShareableError,
                                    'closure'):
            interp.call(ns['outer']())
        with self.assertRaisesRegex(interpreters.NotShareableError,
                                    'closure'):
            interp.call(ns['uses'], ns['outer']())

    def test_global_that_cannot_cross(self):
        ns = self.define_in_main("""
            import threading
            lock = threading.Lock()
            def locked():
                return lock.locked()
            """)
        interp = interpreters.create()
        with self.assertRaisesRegex(interpreters.NotShareableError,
                                    "'lock'") as cm:
            interp.call(ns['locked'])
        self.assertIsInstance(cm.exception.__cause__, TypeError)

    def test_class_that_holds_its_own_object(self):
        # Its record would contain itself: refused, and the interpreter
        # stays usable.
        ns = self.define_in_main("""
            class Single:
                pass
            Single.default = Single()
            def get():
                return Single.default
            def fine():
                return 'fine'
            """)
        interp = interpreters.create()
        with self.assertRaisesRegex(interpreters.NotShareableError,
                                    'cannot rebuild the callable') as cm:
            interp.call(ns['get'])
        self.assertRegex(str(cm.exception), 'refers to itself')
        self.assertEqual(interp.call(ns['fine']), 'fine')

    def test_interpreters_module_unchanged(self):
        # interpreters keeps its rule: functions of __main__ run in the
        # target's __main__, with its globals.
        ns = self.define_in_main("""
            def where():
                return __name__, value
            """)
        interp = pep554.create()
        interp.run('value = "real"')
        self.assertEqual(interp.call(ns['where']), ('__main__', 'real'))
        interp.run('import sys; assert "<fake __main__>" not in sys.modules')
        # Through concurrent.interpreters, the same function sees the fake
        # module, which gets the caller's value.
        ns['value'] = 'caller'
        same = interpreters.Interpreter(interp.id)
        self.assertEqual(same.call(ns['where']),
                         ('<fake __main__>', 'caller'))
        self.assertEqual(interp.call(ns['where']), ('__main__', 'real'))


# The HOWTO's examples (Doc/howto/multiple-interpreters.rst in 3.14), with
# the stray quote of its dedent("""' fixed, as a program without an
# "if __name__ == '__main__'" guard.
HOWTO = dedent('''\
    from textwrap import dedent
    from concurrent import interpreters

    interp = interpreters.create()

    total = 0

    def inc():
        global total
        total += 1

    def show_total():
        print(total)

    interp.call(show_total)
    interp.call(inc)
    interp.call(show_total)
    interp.exec(dedent("""
        try:
            print(total)
        except NameError:
            pass
        else:
            raise AssertionError('expected NameError')
        """))
    interp.exec('total = -1')
    interp.exec('print(total)')
    interp.call(show_total)
    interp.call(inc)
    interp.call(show_total)
    interp.exec('print(total)')
    print(total)

    data = {}

    def put(key, value):
        data[key] = value

    def get(key, default=None):
        return data.get(key, default)

    print(interp.call(get, 'spam'))
    print(interp.call(get, 'spam', -1))
    interp.call(put, 'spam', True)
    print(interp.call(get, 'spam'))
    interp.call(put, 'spam', 42)
    print(interp.call(get, 'spam'))

    class Eggs:
        @classmethod
        def modname(cls):
            print(__name__)
        def __call__(self):
            print(__name__)
        def eggs(self):
            print(__name__)

    eggs = Eggs()
    res = interp.call(Eggs.modname)
    res = interp.call(eggs)
    res = interp.call(eggs.eggs)

    class Spam:
        def __init__(self, x):
            self.x = x

    spam = interp.call(Spam, 10)
    print(type(spam) is Spam, spam.x)

    class MyError(Exception):
        pass

    def fail():
        raise MyError('boom')

    try:
        interp.call(fail)
    except interpreters.ExecutionFailed as exc:
        print(type(exc.__cause__) is MyError, exc.__cause__)

    interp.close()
    ''')

HOWTO_OUTPUT = [
    '0', '1', '-1', '1', '2', '-1', '0',
    'None', '-1', 'True', '42',
    '<fake __main__>', '<fake __main__>', '<fake __main__>',
    'True 10',
    'True boom',
]


class HowtoExamplesTests(unittest.TestCase):
    """The HOWTO's examples print what it says, in every kind of __main__."""

    # Unbuffered (-u): each interpreter has its own sys.stdout on the one
    # file descriptor, and their outputs must not be reordered.

    def check_output(self, out):
        lines = out.decode().splitlines()
        self.assertEqual(lines, HOWTO_OUTPUT)

    def test_script(self):
        with os_helper.temp_dir() as dirname:
            script = script_helper.make_script(dirname, 'howto', HOWTO)
            res = script_helper.assert_python_ok('-u', script)
        self.check_output(res.out)

    def test_dash_c(self):
        res = script_helper.assert_python_ok('-u', '-c', HOWTO)
        self.check_output(res.out)

    def run_stdin(self, *args, source):
        proc = subprocess.run(
            [sys.executable, '-X', 'faulthandler', '-I', '-u', *args],
            input=source.encode(), capture_output=True,
            timeout=support.SHORT_TIMEOUT)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        return proc

    def test_stdin(self):
        self.check_output(self.run_stdin('-', source=HOWTO).stdout)

    def test_interactive(self):
        # In the REPL, each statement is compiled on its own, and the
        # values of expression statements are printed: end them with a
        # blank line, and drop the values.
        source = HOWTO.replace('res = interp.call', 'interp.call')
        proc = self.run_stdin('-i', source=source + '\n')
        self.check_output(proc.stdout)
        self.assertNotIn('Traceback', proc.stderr.decode())


if __name__ == '__main__':
    unittest.main()
