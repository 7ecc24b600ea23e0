# Tests of the process-wide state of the core that interpreters share or
# now keep each for themselves: type version tags, the caches of the float
# formatting and parsing code (dtoa.c), and argument parsers, which the
# first interpreter to use one initialises for all.
#
# The races these fixes remove need interpreters that do not share a GIL;
# the ThreadSanitizer stress tests cover them.  These tests check what one
# GIL can observe: that behaviour stays as it was.
import subprocess
import sys
import sysconfig
import threading
import unittest
from textwrap import dedent
from test import support
from test.support import import_helper
from test.support import script_helper
from test.support import threading_helper
from test.support.interpreters_helper import TestBase

_interpreters = import_helper.import_module('_interpreters')
_testcapi = import_helper.import_module('_testcapi')
import interpreters


# The version tag of a new class, once an attribute lookup assigned it.
NEW_TAG = dedent("""
    import _testcapi

    def new_tag():
        class C:
            x = 1
        C.x
        return _testcapi.type_get_version(C)
    """)


@support.cpython_only
class VersionTagTests(TestBase):

    def new_tag(self):
        class C:
            x = 1
        C.x
        return _testcapi.type_get_version(C)

    def test_unique_and_increasing_across_interpreters(self):
        # The interpreters take tags from one counter, so that the tag of a
        # type of one interpreter never matches that of another's type.
        subs = [interpreters.create() for _ in range(3)]
        for interp in subs:
            interp.run(NEW_TAG)
        tags = []
        for _ in range(5):
            tags.append(self.new_tag())
            for interp in subs:
                tags.append(interp.call(eval, 'new_tag()'))
        if 0 in tags or max(tags) > 0xFFFFF000:
            self.skipTest("out of type version tags")
        self.assertEqual(tags, sorted(set(tags)))

    def test_static_type_gets_a_tag_in_a_subinterpreter(self):
        # A static type that no interpreter looked anything up on yet gets
        # its tag in whichever interpreter does first.
        code = dedent("""
            import _testcapi, interpreters
            assert _testcapi.type_get_version(_testcapi.MyList) == 0
            interp = interpreters.create()
            interp.run('''if 1:
                import _testcapi
                _testcapi.MyList.append
                tag = _testcapi.type_get_version(_testcapi.MyList)
                ''')
            tag = interp.call(eval, 'tag')
            assert tag != 0, tag
            assert _testcapi.type_get_version(_testcapi.MyList) == tag
            """)
        script_helper.assert_python_ok('-c', code)


# Values whose repr and parsing need the Bigints of dtoa.c: many digits,
# large and small exponents (the cached powers of 5) and strings of more
# than 1233 digits (Bigints that bypass the caches).
FLOAT_STRINGS = [
    '0.1', '2.5e-324', '1.7976931348623157e308', '123456789.123456789',
    '9' * 400 + 'e-300', '0.' + '1' * 1500, '1' * 2000,
    '2.4703282292062327e-324', '1e23', '8.98846567431158e307',
]

ROUND_TRIPS = dedent("""
    def round_trips(strings):
        results = []
        for s in strings:
            x = float(s)
            r = repr(x)
            assert float(r) == x, (s, r)
            results.append((r, format(x, '.60e'), format(x, '.17g')))
        return results
    """)
CALL_ROUND_TRIPS = f'round_trips({FLOAT_STRINGS!r})'


class DtoaTests(TestBase):

    def round_trips(self, strings):
        ns = {}
        exec(ROUND_TRIPS, ns)
        return ns['round_trips'](strings)

    def test_float_round_trips_in_several_interpreters(self):
        expected = self.round_trips(FLOAT_STRINGS)
        subs = [interpreters.create() for _ in range(3)]
        for interp in subs:
            interp.run(ROUND_TRIPS)
        for _ in range(3):
            for interp in subs:
                result = interp.call(eval, CALL_ROUND_TRIPS)
                self.assertEqual(result, [tuple(r) for r in expected])
            self.assertEqual(self.round_trips(FLOAT_STRINGS), expected)

    def test_interpreters_destroyed_after_using_dtoa(self):
        # Each interpreter frees its caches when it is destroyed, then
        # the main interpreter's still work.
        expected = self.round_trips(FLOAT_STRINGS)
        for _ in range(5):
            interp = interpreters.create()
            interp.run(ROUND_TRIPS + CALL_ROUND_TRIPS)
            interp.destroy()
        self.assertEqual(self.round_trips(FLOAT_STRINGS), expected)

    def test_at_exit_of_subinterpreter_and_process(self):
        # An interpreter left for the process's exit to finalize, then the
        # main interpreter's finalization, free their caches.
        code = ROUND_TRIPS + dedent(f"""
            import interpreters
            interp = interpreters.create()
            interp.run({ROUND_TRIPS + CALL_ROUND_TRIPS!r})
            print({CALL_ROUND_TRIPS})
            """)
        res = script_helper.assert_python_ok('-c', code)
        self.assertEqual(res.out.decode().strip(),
                         str(self.round_trips(FLOAT_STRINGS)))


class ArgParserTests(TestBase):

    def test_parser_first_used_in_a_destroyed_subinterpreter(self):
        # A subinterpreter is the first to use math.isclose()'s parser (a
        # fresh process), then it is destroyed: the main interpreter then
        # finds the parser initialised, keyword names and function name
        # included.
        code = dedent("""
            import interpreters
            interp = interpreters.create()
            interp.run('''if 1:
                import math
                assert math.isclose(1.0, b=1.0, rel_tol=0.5)
                try:
                    math.isclose(1.0, 1.0, tol=1)
                except TypeError as exc:
                    message = str(exc)
                else:
                    raise AssertionError('no TypeError')
                ''')
            sub_message = interp.call(eval, 'message')
            interp.destroy()

            import math
            assert math.isclose(a=1.0, b=1.5, abs_tol=0.5)
            assert not math.isclose(1.0, 1.5, rel_tol=0.1)
            try:
                math.isclose(1.0, 1.0, tol=1)
            except TypeError as exc:
                assert str(exc) == sub_message, (str(exc), sub_message)
                print(exc)
            """)
        res = script_helper.assert_python_ok('-I', '-c', code)
        self.assertEqual(
            res.out.decode().strip(),
            "'tol' is an invalid keyword argument for isclose()")

    def test_parsers_used_in_many_interpreters(self):
        # int.from_bytes(), str.split() and sorted() are Argument Clinic
        # functions with keyword parameters.
        code = dedent("""
            results = (
                int.from_bytes(b'\\x01\\x02', byteorder='little', signed=True),
                'a b  c'.split(sep=' ', maxsplit=1),
                sorted([3, 1, 2], key=lambda x: -x, reverse=True),
            )
            """)
        expected = {}
        exec(code, expected)
        for _ in range(3):
            interp = interpreters.create()
            interp.run(code)
            self.assertEqual(interp.call(eval, 'results'),
                             expected['results'])
            interp.destroy()


# Patches 0029-0031: counters, tables filled on first use and static
# buffers that any interpreter wrote.  The code below runs the same way in
# the main interpreter, in interpreters that share its GIL and in
# interpreters with their own GIL (through _testinternalcapi's hook, which
# gives the text of the variable "result").

# int(s, base) for every base, with strings shorter and longer than the
# group of digits that PyLong_FromString() converts at once; each value is
# checked against Horner's rule, which parses nothing.
INT_FROM_STRING = dedent("""
    def int_from_string_results():
        digits = '0123456789abcdefghijklmnopqrstuvwxyz'
        results = []
        for base in range(2, 37):
            for length in (1, 5, 19, 60, 301):
                text = ''.join(digits[(i * 7 + 1) % base or 1]
                               for i in range(length))
                value = 0
                for ch in text:
                    value = value * base + digits.index(ch)
                parsed = int(text, base)
                assert parsed == value, (base, text, parsed, value)
                assert int(text.upper(), base) == value
                assert int('_'.join(text), base) == value
                results.append(parsed)
        return results
    """)

# The "Did you mean" part of the messages of NameError and AttributeError,
# as sys.excepthook prints them (the C code behind it, not traceback.py's).
SUGGESTIONS = dedent("""
    def suggestions():
        import io, sys
        class Spam:
            blech = 1
            a_rather_long_attribute_name_of_spam = 2
        def message(code):
            stderr = sys.stderr
            sys.stderr = io.StringIO()
            try:
                exec(code, {'Spam': Spam, 'somevariable': 1,
                            'another_long_variable_name_here': 2})
            except Exception:
                sys.excepthook(*sys.exc_info())
            finally:
                text, sys.stderr = sys.stderr.getvalue(), stderr
            return text.splitlines()[-1]
        return [message(code) for code in (
            'Spam.blach', 'Spam.a_rather_long_attribute_name_of_spma',
            'somevaraible', 'another_long_variable_name_hree',
            'Spam.nothing_like_any_name')]
    """)

EXPECTED_SUGGESTIONS = [
    "AttributeError: type object 'Spam' has no attribute 'blach'. "
    "Did you mean: 'blech'?",
    "AttributeError: type object 'Spam' has no attribute "
    "'a_rather_long_attribute_name_of_spma'. "
    "Did you mean: 'a_rather_long_attribute_name_of_spam'?",
    "NameError: name 'somevaraible' is not defined. "
    "Did you mean: 'somevariable'?",
    "NameError: name 'another_long_variable_name_hree' is not defined. "
    "Did you mean: 'another_long_variable_name_here'?",
    "AttributeError: type object 'Spam' has no attribute "
    "'nothing_like_any_name'",
]

# Special methods assigned to a class after it was made: one name may fill
# several slots (__getitem__: mp_subscript and sq_item; __len__: sq_length
# and mp_length), which resolve_slotdups() sorts out.
DUNDER_ASSIGNMENT = dedent("""
    def dunder_assignment():
        class C:
            pass
        c = C()
        results = []
        C.__getitem__ = lambda self, key: ('item', key)
        C.__len__ = lambda self: 7
        C.__add__ = lambda self, other: ('add', other)
        results += [c[3], len(c), c + 1]
        C.__getitem__ = lambda self, key: ('other item', key)
        C.__len__ = lambda self: 8
        results += [c['k'], len(c)]
        del C.__add__
        try:
            c + 1
        except TypeError:
            results.append('no add')
        return results
    """)

EXPECTED_DUNDER = [('item', 3), 7, ('add', 1), ('other item', 'k'), 8,
                   'no add']

# Calls with starred arguments go through the parser's dummy name; invalid
# syntax through its error rules.
PARSER = dedent("""
    def parser_results():
        results = []
        for source in ('f(*a, b, *c, d=1, **e)', 'g(x for x in y)',
                       'f(**{}, *[])', 'f(a for a in b, c)', '{1: 2, 3}',
                       'f(x, y=1, *z)'):
            try:
                import ast
                results.append(ast.dump(ast.parse(source)))
            except SyntaxError as exc:
                results.append((exc.msg, exc.lineno, exc.offset))
        return results
    """)

ALL_RESULTS = (INT_FROM_STRING + SUGGESTIONS + DUNDER_ASSIGNMENT + PARSER
               + dedent("""
    import sys
    result = (int_from_string_results(), suggestions(),
              dunder_assignment(), parser_results(), sys.version)
    """))


def main_results():
    ns = {}
    exec(ALL_RESULTS, ns)
    return ns['result']


@support.cpython_only
class CountersAndTablesTests(TestBase):
    """What one GIL can observe of patches 0029-0031: everything behaves
    as before, in every kind of interpreter."""

    def test_results_in_the_main_interpreter(self):
        ints, suggestions, dunder, parsed, version = main_results()
        self.assertEqual(len(ints), 35 * 5)
        self.assertEqual(suggestions, EXPECTED_SUGGESTIONS)
        self.assertEqual(dunder, EXPECTED_DUNDER)
        self.assertEqual(version, sys.version)
        self.assertIn('Starred', parsed[0])
        self.assertIsInstance(parsed[3], tuple)

    def test_same_results_in_subinterpreters(self):
        expected = main_results()
        for _ in range(2):
            interp = interpreters.create()
            interp.run(ALL_RESULTS)
            self.assertEqual(interp.call(eval, 'result'), expected)
            interp.destroy()

    def test_first_int_from_string_in_a_subinterpreter(self):
        # In a new process, an interpreter that shares the GIL is the first
        # to convert strings in every base; then the main interpreter.
        code = INT_FROM_STRING + dedent("""
            import interpreters
            interp = interpreters.create()
            interp.run(INT_FROM_STRING + 'r = int_from_string_results()')
            assert interp.call(eval, 'r') == int_from_string_results()
            print('ok')
            """)
        code = f'INT_FROM_STRING = {INT_FROM_STRING!r}\n' + code
        res = script_helper.assert_python_ok('-c', code)
        self.assertEqual(res.out.strip(), b'ok')

    def test_dict_versions_counted_per_interpreter(self):
        # Each interpreter counts the versions of its dicts (3.12 does
        # too): the dict mutations of one never move another's counter, so
        # that interpreters with their own GIL never write one counter.
        d = {}
        before = _testcapi.dict_get_version(d)
        mutations = 100_000
        interp = interpreters.create()
        interp.run(dedent(f"""
            import _testcapi
            d = {{}}
            first = _testcapi.dict_get_version(d)
            for i in range({mutations}):
                d[i] = i
            last = _testcapi.dict_get_version(d)
            """))
        first = interp.call(eval, 'first')
        last = interp.call(eval, 'last')
        d['x'] = 1
        after = _testcapi.dict_get_version(d)
        self.assertGreaterEqual(last - first, mutations)
        self.assertGreater(after, before)
        self.assertLess(after - before, mutations // 2)

    def test_dict_versions_unique_in_an_interpreter(self):
        code = dedent("""
            import _testcapi
            seen = set()
            dicts = [{} for _ in range(10)]
            for i in range(200):
                d = dicts[i % 10]
                d[i] = i
                version = _testcapi.dict_get_version(d)
                assert version not in seen, version
                seen.add(version)
                dicts.append(dict(d))
                copy_version = _testcapi.dict_get_version(dicts[-1])
                assert copy_version not in seen, copy_version
                seen.add(copy_version)
            ok = True
            """)
        exec(code, {})
        interp = interpreters.create()
        interp.run(code)
        self.assertIs(interp.call(eval, 'ok'), True)

    def test_module_indexes_and_quickened_count(self):
        # PyModuleDef_Init() numbers each extension module's definition
        # once: PyState_FindModule() finds the module of this interpreter.
        code = dedent("""
            import sys
            import _testmultiphase, _testcapi, array
            count = sys._getquickenedcount()
            def f():
                return sum(range(3))
            for _ in range(10):
                f()
            assert sys._getquickenedcount() >= count
            ok = True
            """)
        exec(code, {})
        for _ in range(2):
            interp = interpreters.create()
            interp.run(code)
            self.assertIs(interp.call(eval, 'ok'), True)
            interp.destroy()


_testinternalcapi = import_helper.import_module('_testinternalcapi')


@support.cpython_only
class OwnGILCountersAndTablesTests(unittest.TestCase):
    """The same code in interpreters with their own GIL: one at a time,
    then two at once from two threads (each hook call releases the
    caller's GIL while its interpreter runs)."""

    def run_own(self, code):
        info = _testinternalcapi.run_in_own_gil_interpreter(
            code, timeout=support.SHORT_TIMEOUT)
        self.assertIsNone(info['error'])
        self.assertTrue(info['own_gil'])
        return info['result']

    def test_same_results_in_own_gil_interpreters(self):
        expected = str(main_results())
        for _ in range(2):
            self.assertEqual(self.run_own(ALL_RESULTS), expected)

    def test_first_int_from_string_in_own_gil_interpreter(self):
        # In a new process, an own-GIL interpreter is the first to convert
        # strings in every base.
        sub_code = INT_FROM_STRING + 'result = int_from_string_results()'
        code = dedent(f"""
            import _testinternalcapi
            info = _testinternalcapi.run_in_own_gil_interpreter(
                {sub_code!r}, timeout={support.SHORT_TIMEOUT})
            assert info['error'] is None, info
            """) + INT_FROM_STRING + dedent("""
            assert info['result'] == str(int_from_string_results())
            print('ok')
            """)
        res = script_helper.assert_python_ok('-c', code)
        self.assertEqual(res.out.strip(), b'ok')

    # Without immortal objects, two interpreters running at once race on
    # the reference counts of the objects that all share (None, small
    # ints): "deallocating None" aborts the process now and then.
    @unittest.skipUnless(sysconfig.get_config_var('Py_IMMORTAL_OBJECTS'),
                         'needs a build with immortal objects')
    @support.requires_resource('cpu')
    @threading_helper.requires_working_threading()
    def test_two_own_gil_interpreters_at_once(self):
        expected = str(main_results())
        results = {}
        start = threading.Barrier(2, timeout=support.SHORT_TIMEOUT)

        def run(name):
            start.wait()
            outcome = []
            for _ in range(3):
                info = _testinternalcapi.run_in_own_gil_interpreter(
                    ALL_RESULTS, timeout=support.SHORT_TIMEOUT)
                outcome.append((info['error'], info['result']))
            results[name] = outcome

        threads = [threading.Thread(target=run, args=(name,))
                   for name in ('a', 'b')]
        with threading_helper.start_threads(threads):
            pass
        self.assertEqual(results, {name: [(None, expected)] * 3
                                   for name in ('a', 'b')})


@support.cpython_only
class OwnGILInternedTests(unittest.TestCase):
    """Interned strings in interpreters with their own GIL (patch 0028),
    through the private hook of _testinternalcapi (patch 0018)."""

    def setUp(self):
        self.capi = import_helper.import_module('_testinternalcapi')

    def run_own(self, code):
        info = self.capi.run_in_own_gil_interpreter(
            dedent(code), timeout=support.SHORT_TIMEOUT)
        self.assertIsNone(info['error'])
        self.assertTrue(info['own_gil'])
        return info['result']

    def test_own_strings(self):
        # The main interpreter interned the text first: the other
        # interpreter interns a string of its own, once.
        kept = sys.intern(''.join(['interned ', 'in main']))
        result = self.run_own("""
            import sys
            first = sys.intern(''.join(['interned ', 'in main']))
            again = sys.intern(' '.join(['interned', 'in main']))
            result = id(first), first is again
            """)
        own_id, same = eval(result)
        self.assertNotEqual(own_id, id(kept))
        self.assertTrue(same)
        self.assertIs(sys.intern(''.join(['interned ', 'in main'])), kept)

    def test_static_strings_are_shared(self):
        # _Py_ID() and _Py_STR() strings (which C code compares by pointer)
        # and the one-character strings are the same objects in every
        # interpreter, the interned ones for their text.
        texts = ['__init__', '__rmatmul__', 'zipimporter', '<module>', '.',
                 '', 'x', '\xe9']
        main_ids = [id(sys.intern(''.join(list(text)))) for text in texts]
        result = self.run_own(f"""
            import sys
            result = [id(sys.intern(''.join(list(text))))
                      for text in {texts!r}]
            """)
        self.assertEqual(eval(result), main_ids)

    def test_one_character_names(self):
        # type.__setattr__() interns the name and requires it interned: the
        # one-character strings are, in every interpreter (deep-frozen code
        # has equal strings of its own, which must not take their place).
        result = self.run_own("""
            class C:
                pass
            C.x = 1
            setattr(C, chr(0xe9), 2)
            result = C.x, getattr(C, chr(0xe9))
            """)
        self.assertEqual(result, '(1, 2)')

    def test_slot_names(self):
        # update_slot() finds the slots by the pointer of their names,
        # which the interpreters share.
        result = self.run_own("""
            class C:
                pass
            C.__add__ = lambda self, other: 42
            C.__len__ = lambda self: 7
            result = C() + 1, len(C())
            """)
        self.assertEqual(result, '(42, 7)')

    def test_many_interpreters(self):
        # Strings interned and freed in many interpreters one after the
        # other leave the main interpreter's interned strings as they were.
        texts = [f'kept by main {i}' for i in range(100)]
        kept = [sys.intern(''.join(list(text))) for text in texts]
        code = f"""
            import sys
            own = [sys.intern('own %d' % i) for i in range(1000)]
            equal = [sys.intern(''.join(list(text))) for text in {texts!r}]
            assert all(sys.intern(s[:1] + s[1:]) is s for s in own + equal)
            del own
            result = len(equal)
            """
        for _ in range(50):
            self.assertEqual(self.run_own(code), str(len(texts)))
        for text, string in zip(texts, kept):
            self.assertIs(sys.intern(''.join(list(text))), string)
        new = sys.intern(''.join(['new ', 'in main']))
        self.assertIs(sys.intern(''.join(['new ', 'in ', 'main'])), new)

    @unittest.skipUnless(sysconfig.get_config_var('Py_IMMORTAL_OBJECTS'),
                         'the counts of None, True, static types... race')
    @support.requires_resource('cpu')
    @threading_helper.requires_working_threading()
    def test_two_interpreters_in_parallel(self):
        # Two interpreters with their own GIL intern and free strings at the
        # same time: with one dict for both, the process crashed
        # (segmentation fault, "free(): invalid pointer").  Each of them
        # starts and ends alone, while the other waits in os.read(): what
        # they do then uses many objects that all interpreters share, whose
        # counts are only safe under two GILs where they are immortal (a
        # pydebug build without immortal objects saw the count of True and
        # of static types drop to 0).  A thread of the main
        # interpreter writes each byte that the other interpreter waits
        # for if its own interpreter could not.
        code = dedent("""
            import os
            import threading
            import _testinternalcapi

            a_looping, b_looping, a_gone = [os.pipe() for _ in range(3)]
            # No builtin type, no small int, no NotImplemented (list +=):
            # objects of its own only, but for a few True and False.
            LOOP = '''if 1:
                import sys
                r = 1000
                while r < 1040:
                    keep = {}
                    j = 1000
                    while j < 3000:
                        keep[j] = sys.intern('text %d %d' % (r, j))
                        j += 1
                    r += 1
                result = len(keep)
                '''
            CODE_A = (f'import os\\n'
                      f'os.write({a_looping[1]}, b"x")\\n'
                      f'os.read({b_looping[0]}, 1)\\n') + LOOP
            CODE_B = (f'import os\\n'
                      f'os.write({b_looping[1]}, b"x")\\n'
                      + LOOP +
                      f'os.read({a_gone[0]}, 1)\\n')
            results = {}

            def run(name, code):
                info = _testinternalcapi.run_in_own_gil_interpreter(
                    code, timeout=TIMEOUT)
                results[name] = (info['result'], info['error'])

            def run_a():
                try:
                    run('a', CODE_A)
                finally:
                    os.write(a_looping[1], b'x')
                    os.write(a_gone[1], b'x')

            def run_b():
                os.read(a_looping[0], 1)
                try:
                    run('b', CODE_B)
                finally:
                    os.write(b_looping[1], b'x')

            threads = [threading.Thread(target=run_a),
                       threading.Thread(target=run_b)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for fd in a_looping + b_looping + a_gone:
                os.close(fd)
            expected = {'a': ('2000', None), 'b': ('2000', None)}
            assert results == expected, results
            """)
        proc = script_helper.spawn_python(
            '-c', f'TIMEOUT = {support.SHORT_TIMEOUT}\n' + code)
        with proc:
            try:
                out, _ = proc.communicate(timeout=support.LONG_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                self.fail('the interpreters did not end')
        self.assertEqual(proc.returncode, 0, out.decode(errors='replace'))

if __name__ == '__main__':
    unittest.main()
