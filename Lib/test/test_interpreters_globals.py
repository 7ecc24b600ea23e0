# Tests of the process-wide state of the core that interpreters share or
# now keep each for themselves: type version tags, the caches of the float
# formatting and parsing code (dtoa.c), and argument parsers, which the
# first interpreter to use one initialises for all.
#
# The races these fixes remove need interpreters that do not share a GIL;
# the ThreadSanitizer stress tests cover them.  These tests check what one
# GIL can observe: that behaviour stays as it was.
import unittest
from textwrap import dedent
from test import support
from test.support import import_helper
from test.support import script_helper

_interpreters = import_helper.import_module('_interpreters')
_testcapi = import_helper.import_module('_testcapi')
import interpreters


class TestBase(unittest.TestCase):
    """Destroy every interpreter a test made."""

    def setUp(self):
        self._old_ids = set(_interpreters.list_all())

    def tearDown(self):
        new_ids = set(_interpreters.list_all()) - self._old_ids
        for interp_id in sorted(new_ids, reverse=True):
            _interpreters.destroy(interp_id)


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


if __name__ == '__main__':
    unittest.main()
