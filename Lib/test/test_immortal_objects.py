"""Immortal objects (core patch 0020): the statics every interpreter shares.

In a build configured --with-immortal-objects, Py_INCREF() and Py_DECREF()
leave the reference count of an immortal object alone, so that interpreters
with their own GIL can share it without racing on it.  sys.getrefcount()
reports the count as it is: on 64-bit platforms an object is immortal when
bit 31 of its count is set, and the runtime sets 3 * 2**30; on 32-bit ones,
when its count is at least 2**30 (3 * 2**29 set).  Without the option,
every object is counted as in 3.11.
"""

import gc
import sys
import sysconfig
import textwrap
import threading
import time
import unittest
from test import support
from test.support import import_helper, script_helper

try:
    from concurrent import interpreters as cinterpreters
except ImportError:  # no _interpreters module
    cinterpreters = None

IMMORTAL_OBJECTS = bool(sysconfig.get_config_var("Py_IMMORTAL_OBJECTS"))
requires_immortal_objects = unittest.skipUnless(
    IMMORTAL_OBJECTS, "needs a build configured --with-immortal-objects")

IS_64BIT = sys.maxsize > 2**32
IMMORTAL_REFCNT = 3 * 2**30 if IS_64BIT else 3 * 2**29


def is_immortal_count(count):
    if IS_64BIT:
        # Only the low 32 bits are tested.
        return bool(count & 2**31)
    return count >= 2**30


def is_immortal(obj):
    # sys.getrefcount() adds one reference of its own to a mortal object.
    return is_immortal_count(sys.getrefcount(obj))


# What _testcapi's incref_n() and friends see beyond sys.getrefcount(): the
# argument tuple of the call.
IN_CALL = 1

# One of each kind this stage makes immortal.
SHARED_STATICS = (
    None, True, False, Ellipsis, NotImplemented,  # singletons
    -5, 0, 1, 256,                                # small ints
    b"", b"a", (), "",                            # global_objects
    "__init__",                                   # a _Py_ID string
    int, type, object, tuple, str,                # static types
    ValueError, BaseException, OSError,           # static exception types
)


@requires_immortal_objects
class ImmortalStaticsTests(unittest.TestCase):

    def test_shared_statics_are_immortal(self):
        for obj in SHARED_STATICS:
            with self.subTest(obj=obj):
                self.assertTrue(is_immortal(obj), sys.getrefcount(obj))

    def test_new_objects_stay_mortal(self):
        class C:
            pass
        for obj in (object(), 257, "not a static string " * 2, (1, 2),
                    C, C(), [None]):
            with self.subTest(obj=obj):
                self.assertFalse(is_immortal(obj))
                before = sys.getrefcount(obj)
                refs = [obj, obj]
                self.assertEqual(sys.getrefcount(obj), before + 2)
                del refs
                self.assertEqual(sys.getrefcount(obj), before)

    def test_references_leave_count_unchanged(self):
        for obj in (None, True, 1, (), int, ValueError):
            with self.subTest(obj=obj):
                before = sys.getrefcount(obj)
                refs = [obj] * 3 + [obj, obj]
                self.assertEqual(sys.getrefcount(obj), before)
                del refs
                self.assertEqual(sys.getrefcount(obj), before)

    def test_repetition_leaves_count_unchanged(self):
        # list and tuple repetition add n references in one write.
        before = sys.getrefcount(None), sys.getrefcount(1)
        big_list = [None] * 1000
        big_tuple = (None, 1) * 1000
        self.assertEqual((sys.getrefcount(None), sys.getrefcount(1)), before)
        del big_list, big_tuple
        self.assertEqual((sys.getrefcount(None), sys.getrefcount(1)), before)

    def test_interning_leaves_count_unchanged(self):
        name = "__init__"
        before = sys.getrefcount(name)
        self.assertIs(sys.intern("".join(["__in", "it__"])), name)
        self.assertEqual(sys.getrefcount(name), before)

    def test_immortal_value(self):
        for obj in SHARED_STATICS:
            with self.subTest(obj=obj):
                self.assertEqual(sys.getrefcount(obj), IMMORTAL_REFCNT)

    def _unbalanced_writes(self, delta):
        # An extension built with stock 3.11 headers writes +1/-1 to
        # immortal objects too.  Simulate a long run of unbalanced
        # increments or decrements: None stays immortal, and new
        # references to it write nothing.
        ctypes = import_helper.import_module("ctypes")
        refcnt = ctypes.c_ssize_t.from_address(id(None))
        before = refcnt.value
        try:
            refcnt.value = before + delta
            self.assertTrue(is_immortal(None))
            x = None
            del x
            self.assertEqual(refcnt.value, before + delta)
        finally:
            refcnt.value = before
        self.assertEqual(sys.getrefcount(None), before)

    def test_survives_unbalanced_decrements(self):
        self._unbalanced_writes(-1_000_000)

    def test_survives_unbalanced_increments(self):
        self._unbalanced_writes(1_000_000)

    @unittest.skipUnless(IS_64BIT, "64-bit layout of the count")
    def test_beyond_the_margin_mortal_never_freed(self):
        # 2**30 unbalanced increments carry out of the low 32 bits: the
        # object is mortal again, with a count no realistic number of
        # decrements brings to zero.  References are then counted.
        ctypes = import_helper.import_module("ctypes")
        refcnt = ctypes.c_ssize_t.from_address(id(None))
        before = refcnt.value
        try:
            # Past the carry, with room: references taken while None was
            # immortal and given back now take a little off the count.
            refcnt.value = 2**32 + 2**20
            mortal = not is_immortal(None)
            start = refcnt.value
            refs = [None] * 10
            with_refs = refcnt.value
            del refs
            taken = with_refs - start
            given_back = with_refs - refcnt.value
        finally:
            refcnt.value = before
        self.assertEqual(sys.getrefcount(None), before)
        self.assertTrue(mortal)
        self.assertEqual((taken, given_back), (10, 10))

    def test_subinterpreter_leaves_count_unchanged(self):
        # What an own-GIL interpreter needs: another interpreter's
        # references to the shared statics write nothing to them.
        interpreters = import_helper.import_module("interpreters")
        shared = (None, True, 1, (), "__init__", int, ValueError)
        before = [sys.getrefcount(obj) for obj in shared]
        interp = interpreters.create()
        try:
            interp.run("refs = [None, True, 1, (), '__init__', int, "
                       "ValueError] * 1000; import json, re")
            self.assertEqual([sys.getrefcount(obj) for obj in shared],
                             before)
        finally:
            interp.destroy()
        self.assertEqual([sys.getrefcount(obj) for obj in shared], before)

    @support.requires_subprocess()
    def test_immortal_after_reinitialization(self):
        # A fresh interpreter (run to completion, then finalized) sees the
        # same: the static types are made immortal before use.
        code = ("import sys; "
                "print(min(sys.getrefcount(o) for o in "
                "(None, int, ValueError, b'x', ())))")
        res = script_helper.assert_python_ok("-c", code)
        self.assertEqual(int(res.out), IMMORTAL_REFCNT)


@requires_immortal_objects
class StaticTypeContentsTests(unittest.TestCase):
    # Core patch 0024: what the static types' dicts, tp_mro and tp_bases
    # hold is immortal too, so that an interpreter looking up str.join
    # writes to no count.

    # A descriptor of each kind, a builtin method (__new__), a static and a
    # class method, a docstring, an MRO and a bases tuple.
    # (dict.fromkeys and str.__doc__ would make new objects: the class
    # method descriptor and the docstring are looked up in the dicts.)
    CONTENTS = (
        str.join, int.__add__, object.__init__, int.real, complex.real,
        object.__new__, str.maketrans, vars(dict)["fromkeys"],
        vars(str)["__doc__"], bool.__mro__, bool.__bases__,
        ValueError.__init__, ValueError.args, OSError.errno,
    )

    def test_contents_are_immortal(self):
        for obj in self.CONTENTS:
            with self.subTest(obj=obj):
                self.assertTrue(is_immortal(obj), sys.getrefcount(obj))

    def test_every_static_type_dict(self):
        kinds = {type(str.join), type(int.__add__), type(object.__init__),
                 type(int.real), type(complex.real), type(object.__new__),
                 type(vars(dict)["fromkeys"]), staticmethod, str,
                 type(None)}
        for tp in (object, type, int, str, dict, list, tuple, BaseException,
                   OSError, StopIteration):
            with self.subTest(type=tp):
                # vars() makes a mappingproxy: the dict is its referent.
                tp_dict, = gc.get_referents(vars(tp))
                self.assertTrue(is_immortal(tp_dict))
                for name, value in tp_dict.items():
                    self.assertTrue(is_immortal(name), name)
                    self.assertIn(type(value), kinds, name)
                    self.assertTrue(is_immortal(value), name)

    def test_lookups_leave_count_unchanged(self):
        before = sys.getrefcount(str.join)
        refs = [str.join for _ in range(100)]
        self.assertEqual(sys.getrefcount(str.join), before)
        del refs
        self.assertEqual(sys.getrefcount(str.join), before)

    def test_descriptor_names_are_immortal(self):
        for descr in (str.join, int.__add__, int.real,
                      vars(dict)["fromkeys"]):
            with self.subTest(descr=descr):
                self.assertTrue(is_immortal(descr.__name__))

    def test_subinterpreter_lookups_leave_count_unchanged(self):
        interpreters = import_helper.import_module("interpreters")
        shared = (str.join, int.__add__, vars(str), bool.__mro__)
        before = [sys.getrefcount(obj) for obj in shared]
        interp = interpreters.create()
        try:
            interp.run("refs = [str.join, int.__add__, vars(str), "
                       "bool.__mro__] * 1000")
            self.assertEqual([sys.getrefcount(obj) for obj in shared],
                             before)
        finally:
            interp.destroy()
        self.assertEqual([sys.getrefcount(obj) for obj in shared], before)

    @unittest.skipUnless(IS_64BIT, "64-bit layout of dict and its keys")
    def test_empty_dicts_leave_shared_keys_count_unchanged(self):
        # Every empty dict points to one keys object (Py_EMPTY_KEYS):
        # its count is never written.  PyDictObject: ob_refcnt, ob_type,
        # ma_used, ma_version_tag, then ma_keys; dk_refcnt comes first.
        ctypes = import_helper.import_module("ctypes")

        def empty_keys_count():
            empty = {}
            keys = ctypes.c_void_p.from_address(id(empty) + 32).value
            return ctypes.c_ssize_t.from_address(keys).value

        before = empty_keys_count()
        dicts = [{} for _ in range(100)]
        self.assertEqual(empty_keys_count(), before)
        del dicts
        self.assertTrue(is_immortal_count(before), before)


@requires_immortal_objects
class StockExtensionTests(unittest.TestCase):
    # _testcapi.stock_incref_n() and stock_decref_n() are compiled without
    # Py_IMMORTAL_OBJECTS, as an extension built with stock 3.11 headers:
    # they add and subtract 1 on the whole count.  incref_n() and
    # decref_n() are the same code compiled with this build's headers.

    def setUp(self):
        self.testcapi = import_helper.import_module("_testcapi")

    def test_stock_balanced_references_leave_none_immortal(self):
        before = sys.getrefcount(None)
        self.assertEqual(self.testcapi.stock_incref_n(None, 1000),
                         before + 1000)
        self.assertTrue(is_immortal(None))
        self.assertEqual(self.testcapi.stock_decref_n(None, 1000), before)
        self.assertEqual(sys.getrefcount(None), before)

    @support.requires_subprocess()
    def test_stock_unbalanced_references_leave_none_immortal(self):
        # 1000 references taken or given back and never balanced: None
        # stays immortal, references this build takes write nothing, and
        # the process exits cleanly.
        for func, delta in (("stock_incref_n", 1000),
                            ("stock_decref_n", -1000)):
            with self.subTest(func=func):
                code = textwrap.dedent(f"""
                    import sys, _testcapi
                    count = _testcapi.{func}(None, 1000)
                    assert count == {IMMORTAL_REFCNT + delta}, count
                    assert sys.getrefcount(None) == count
                    refs = [None] * 100
                    assert sys.getrefcount(None) == count
                    del refs
                    assert _testcapi.incref_n(None, 10) == count
                    print(count & 2**31 if sys.maxsize > 2**32
                          else count >= 2**30)
                    """)
                res = script_helper.assert_python_ok("-c", code)
                self.assertIn(res.out.strip(),
                              (str(2**31).encode(), b"True"))
                self.assertEqual(res.err, b"")

    def test_this_build_leaves_none_unchanged(self):
        before = sys.getrefcount(None)
        self.assertEqual(self.testcapi.incref_n(None, 1000), before)
        self.assertEqual(self.testcapi.decref_n(None, 1000), before)
        self.assertEqual(sys.getrefcount(None), before)

    def test_mortal_object_counted_by_both(self):
        obj = object()
        before = sys.getrefcount(obj)
        for incref, decref in (("incref_n", "decref_n"),
                               ("stock_incref_n", "stock_decref_n")):
            with self.subTest(incref=incref):
                self.assertEqual(getattr(self.testcapi, incref)(obj, 10),
                                 before + IN_CALL + 10)
                self.assertEqual(getattr(self.testcapi, decref)(obj, 10),
                                 before + IN_CALL)
                self.assertEqual(sys.getrefcount(obj), before)

    def test_decref_refuses_to_free(self):
        obj = object()
        for func in ("decref_n", "stock_decref_n"):
            with self.subTest(func=func):
                with self.assertRaises(ValueError):
                    getattr(self.testcapi, func)(
                        obj, sys.getrefcount(obj) + IN_CALL)
                with self.assertRaises(ValueError):
                    getattr(self.testcapi, func)(obj, -1)


@unittest.skipIf(IMMORTAL_OBJECTS, "the build has immortal objects")
class MortalBuildTests(unittest.TestCase):
    # Without --with-immortal-objects every object is counted, as in 3.11.

    def test_singletons_are_counted(self):
        # Not None: the interpreter itself takes and gives back references
        # to it at any time (frames, the cyclic GC).
        for obj in (Ellipsis, NotImplemented):
            with self.subTest(obj=obj):
                before = sys.getrefcount(obj)
                refs = [obj] * 10
                self.assertEqual(sys.getrefcount(obj), before + 10)
                del refs
                self.assertEqual(sys.getrefcount(obj), before)

    def test_statics_are_counted(self):
        for obj in (True, 1, (), int, ValueError):
            with self.subTest(obj=obj):
                before = sys.getrefcount(obj)
                refs = [obj, obj]
                self.assertEqual(sys.getrefcount(obj), before + 2)
                del refs
                self.assertEqual(sys.getrefcount(obj), before)

    def test_this_build_counts_like_stock(self):
        testcapi = import_helper.import_module("_testcapi")
        obj = object()
        before = sys.getrefcount(obj)
        for func in ("incref_n", "stock_incref_n"):
            with self.subTest(func=func):
                self.assertEqual(getattr(testcapi, func)(obj, 5),
                                 before + IN_CALL + 5)
                self.assertEqual(testcapi.decref_n(obj, 5), before + IN_CALL)


@requires_immortal_objects
@unittest.skipUnless(hasattr(sys, "gettotalrefcount"), "needs a debug build")
class RefTotalTests(unittest.TestCase):

    def test_immortal_references_counted(self):
        # The total counts the references of immortal objects too, as it
        # did before immortal objects, although their count does not
        # change (core patch 0037).
        objs = SHARED_STATICS
        total = sys.gettotalrefcount()
        refs = list(objs) * 50
        self.assertGreaterEqual(sys.gettotalrefcount() - total, len(refs))
        del refs
        self.assertLess(abs(sys.gettotalrefcount() - total), 10)

    def test_reference_moved_to_a_mortal_object(self):
        # A reference moved from None to a mortal object, as when a slot of
        # the type method cache fills, leaves the total as it was: what
        # regrtest -R measures does not depend on which objects are
        # immortal.  When immortal objects' references were not counted,
        # the total grew by one for each slot.
        slots = [None] * 1000
        name = ''.join(['a mortal', ' string'])
        total = sys.gettotalrefcount()
        for index in range(len(slots)):
            slots[index] = name
        self.assertLess(abs(sys.gettotalrefcount() - total), 10)
        for index in range(len(slots)):
            slots[index] = None
        self.assertLess(abs(sys.gettotalrefcount() - total), 10)

    @unittest.skipIf(cinterpreters is None, "needs _interpreters")
    def test_parallel_references_all_counted(self):
        # Interpreters with their own GIL take and give back references at
        # the same moment.  Each counts its own (core patch 0037): with
        # one process-wide count, the updates that two of them made at
        # once were lost, and the total drifted by hundreds per second.
        workers = [cinterpreters.create(own_gil=True) for _ in range(2)]
        self.addCleanup(self.close_all, workers)
        self.run_in_parallel(workers)  # warm-up: caches, code paths
        total = sys.gettotalrefcount()
        self.run_in_parallel(workers)
        self.assertLess(abs(sys.gettotalrefcount() - total), 20)

    def run_in_parallel(self, workers):
        # Each worker loops until the same deadline: they overlap for
        # nearly all of their run, however the threads start.
        deadline = time.monotonic() + 1.0
        for interp in workers:
            interp.prepare_main(deadline=deadline)
        code = textwrap.dedent("""
            import time
            item = object()
            items = [item] * 1000
            while time.monotonic() < deadline:
                for each in items:
                    pass
            del item, items, each
            """)
        failures = []

        def run(interp):
            try:
                interp.exec(code)
            except cinterpreters.ExecutionFailed as exc:
                failures.append(exc)

        threads = [threading.Thread(target=run, args=(interp,))
                   for interp in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(support.SHORT_TIMEOUT)
            self.assertFalse(thread.is_alive())
        self.assertEqual(failures, [])

    @staticmethod
    def close_all(workers):
        for interp in workers:
            interp.close()

    def test_legacy_count_in_total(self):
        # Extension modules built with stock 3.11 debug headers add to
        # _Py_RefTotal directly: it stays part of the total.
        ctypes = import_helper.import_module("ctypes")
        legacy = ctypes.c_ssize_t.in_dll(ctypes.pythonapi, "_Py_RefTotal")
        total = sys.gettotalrefcount()
        legacy.value += 10000
        try:
            self.assertAlmostEqual(sys.gettotalrefcount() - total, 10000,
                                   delta=100)
        finally:
            legacy.value -= 10000


if __name__ == "__main__":
    unittest.main()
