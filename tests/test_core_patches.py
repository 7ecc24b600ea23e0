"""The patches to the core keep the promises of a CPython bug-fix release.

- Every C file a patch touches compiles where the platform has no fork()
  (WASI, Emscripten: HAVE_FORK undefined), with implicit function
  declarations as errors, as gcc >= 14 and clang >= 16 have them.
- No existing field of _PyRuntime, of the interpreter state or of the
  thread state moves or changes size.  Out-of-process tools (profilers
  such as py-spy and austin) read them at offsets they know for 3.11, so a
  fix adds fields only after all the existing ones.  Checked for the
  host's ABI, for structs without padding (-fpack-struct: no real ABI,
  but a field added in the middle of a struct moves the next ones even
  where padding of the host's ABI hides it, as on LP64), and where the
  compiler can build for it, for 32-bit x86 (-m32).
"""

import io
import re
import shlex
import subprocess
import tarfile

import pytest

from driver import config, tree

BUILD = config.build_dir()
SRC = tree.source_dir(BUILD)
RELEASE = BUILD / "release"
PYCONFIG = RELEASE / "pyconfig.h"

pytestmark = pytest.mark.skipif(
    not (PYCONFIG.is_file() and (SRC / ".git").is_dir()),
    reason="no configured release build: run make")


def compiler():
    """The C compiler of the release build, as a list of arguments."""
    makefile = (RELEASE / "Makefile").read_text()
    match = re.search(r"^CC=[ \t]*(.*)$", makefile, re.MULTILINE)
    assert match, "no CC in the Makefile"
    return shlex.split(match.group(1))


def run_compiler(args, **kwargs):
    return subprocess.run([*compiler(), *args], capture_output=True,
                          text=True, **kwargs)


def core_flags(src, pyconfig_dir, path):
    """The include path and defines to compile src/path as the build does.

    pyconfig_dir comes first, so that its pyconfig.h is the one used.
    Files in Modules/ are compiled as built-in modules, the others as the
    core.
    """
    define = ("-DPy_BUILD_CORE_BUILTIN" if path.startswith("Modules/")
              else "-DPy_BUILD_CORE")
    return [f"-I{pyconfig_dir}", f"-I{src}/Include/internal",
            f"-I{src}/Include", define]


# --- no fork() ------------------------------------------------------------

def patched_c_files():
    """The C files that the patches in patches/series change."""
    paths = set()
    for patch in tree.read_series(config.PATCHES):
        for line in patch.read_text().splitlines():
            if line.startswith("+++ b/") and line.endswith(".c"):
                paths.add(line[len("+++ b/"):])
    return sorted(paths)


def write_pyconfig_without_fork(directory):
    """Write the build's pyconfig.h without fork() into directory.

    forkpty() goes too (HAVE_FORKPTY): posixmodule.c needs fork()'s
    declarations for it.
    """
    lines = PYCONFIG.read_text().splitlines(keepends=True)
    kept = [line for line in lines
            if not re.match(r"#define HAVE_FORK(PTY)? ", line)]
    if len(kept) == len(lines):
        pytest.skip("the build has no fork() already")
    (directory / "pyconfig.h").write_text("".join(kept))


def compile_without_fork(src, path, tmp_path):
    """Check src/path with HAVE_FORK undefined; return the compiler run."""
    write_pyconfig_without_fork(tmp_path)
    return run_compiler([
        "-std=c11", "-fsyntax-only",
        "-Werror=implicit-function-declaration",
        *core_flags(src, tmp_path, path), str(src / path)])


def test_patches_touch_c_files():
    assert "Python/ceval.c" in patched_c_files()


@pytest.mark.parametrize("path", patched_c_files())
def test_compiles_without_fork(path, tmp_path):
    proc = compile_without_fork(SRC, path, tmp_path)
    assert proc.returncode == 0, proc.stderr


# --- layout of the runtime state --------------------------------------------

# Every member of the pristine 3.11.2 structs, with the members of the
# nested structs that the patches are near (the GIL, the thread states,
# the eval loop's state).
RUNTIME_MEMBERS = (
    "_initialized", "preinitializing", "preinitialized", "core_initialized",
    "initialized", "_finalizing",
    "interpreters", "interpreters.mutex", "interpreters.head",
    "interpreters.main", "interpreters.next_id",
    "xidregistry", "xidregistry.mutex", "xidregistry.head",
    "main_thread", "exitfuncs", "nexitfuncs",
    "ceval", "ceval.signals_pending", "ceval.gil", "ceval.gil.interval",
    "ceval.gil.last_holder", "ceval.gil.locked", "ceval.gil.switch_number",
    "ceval.gil.cond", "ceval.gil.mutex", "ceval.gil.switch_cond",
    "ceval.gil.switch_mutex",
    "gilstate", "gilstate.check_enabled", "gilstate.tstate_current",
    "gilstate.autoInterpreterState", "gilstate.autoTSSkey",
    "preconfig", "open_code_hook", "open_code_userdata", "audit_hook_head",
    "unicode_ids", "unicode_ids.lock", "unicode_ids.next_index",
    "global_objects", "_main_interpreter",
)

INTERP_MEMBERS = (
    "next", "threads", "threads.next_unique_id", "threads.head",
    "threads.count", "threads.stacksize", "runtime", "id", "id_refcount",
    "requires_idref", "id_mutex", "_initialized", "finalizing", "_static",
    "ceval", "ceval.recursion_limit", "ceval.eval_breaker",
    "ceval.gil_drop_request", "ceval.pending", "gc", "modules",
    "modules_by_index", "sysdict", "builtins", "importlib",
    "override_frozen_modules", "codec_search_path", "codec_search_cache",
    "codec_error_registry", "codecs_initialized", "config", "dlopenflags",
    "dict", "builtins_copy", "import_func", "eval_frame",
    "co_extra_user_count", "co_extra_freefuncs", "before_forkers",
    "after_forkers_parent", "after_forkers_child", "warnings", "atexit",
    "audit_hooks", "unicode", "float_state", "slice_cache", "tuple", "list",
    "dict_state", "async_gen", "context", "exc_state", "ast", "type_cache",
    "callable_cache", "int_max_str_digits", "_initial_thread",
)

TSTATE_MEMBERS = (
    "prev", "next", "interp", "_initialized", "_static",
    "recursion_remaining", "recursion_limit", "recursion_headroom",
    "tracing", "tracing_what", "cframe", "c_profilefunc", "c_tracefunc",
    "c_profileobj", "c_traceobj", "curexc_type", "curexc_value",
    "curexc_traceback", "exc_info", "dict", "gilstate_counter", "async_exc",
    "thread_id", "native_thread_id", "trash_delete_nesting",
    "trash_delete_later", "on_delete", "on_delete_data",
    "coroutine_origin_tracking_depth", "async_gen_firstiter",
    "async_gen_finalizer", "context", "context_ver", "id", "trace_info",
    "datastack_chunk", "datastack_top", "datastack_limit", "exc_state",
    "root_cframe",
)

STRUCTS = {
    "_PyRuntimeState": RUNTIME_MEMBERS,
    "PyInterpreterState": INTERP_MEMBERS,
    "PyThreadState": TSTATE_MEMBERS,
}

# Members that may grow: the last of their struct, whose own members keep
# their place (the interpreter state grows at its end).
GROWING = {("_PyRuntimeState", "_main_interpreter")}


def layout_program():
    """C code whose assembly gives the offset and size of every member."""
    lines = [
        "#define Py_BUILD_CORE 1",
        "#include <stddef.h>",
        '#include "Python.h"',
        '#include "pycore_runtime.h"',
        "",
        # The values land in the assembly: no need to link or run it,
        # which building for another ABI could not do.
        "#define MEMBER(type, member) __asm__ volatile ( \\",
        '    "\\n@member " #type " " #member " %c0 %c1" \\',
        "    : : \"i\" (offsetof(type, member)), \\",
        "        \"i\" (sizeof(((type *)0)->member)))",
        "#define SIZE(type) __asm__ volatile ( \\",
        '    "\\n@size " #type " %c0" : : "i" (sizeof(type)))',
        "",
        "void",
        "layout(void)",
        "{",
    ]
    for struct, members in STRUCTS.items():
        lines.append(f"    SIZE({struct});")
        lines.extend(f"    MEMBER({struct}, {member});" for member in members)
    lines.append("}")
    return "\n".join(lines) + "\n"


def layout(include_root, pyconfig_dir, flags, tmp_path):
    """Return {(struct, member): (offset, size)} and {struct: size}."""
    source = tmp_path / "layout.c"
    source.write_text(layout_program())
    proc = run_compiler([
        *flags, "-S", "-o", "-",
        f"-I{pyconfig_dir}", f"-I{include_root}/Include/internal",
        f"-I{include_root}/Include", str(source)])
    assert proc.returncode == 0, proc.stderr
    members = {}
    sizes = {}
    for line in proc.stdout.splitlines():
        fields = line.split()
        if fields[:1] == ["@member"]:
            struct, member, offset, size = fields[1:]
            members[struct, member] = (int(offset), int(size))
        elif fields[:1] == ["@size"]:
            sizes[fields[1]] = int(fields[2])
    assert len(members) == sum(map(len, STRUCTS.values()))
    assert sizes.keys() == STRUCTS.keys()
    return members, sizes


def layout_changes(pristine, patched):
    """Describe how the patched layout breaks the pristine one."""
    changes = []
    for key, (offset, size) in pristine[0].items():
        new_offset, new_size = patched[0][key]
        name = ".".join(key)
        if new_offset != offset:
            changes.append(f"{name} moved from {offset} to {new_offset}")
        if new_size < size or (new_size > size and key not in GROWING):
            changes.append(f"{name}: size {size} became {new_size}")
    for struct, size in pristine[1].items():
        if patched[1][struct] < size:
            changes.append(f"sizeof({struct}) shrank")
    return changes


# pyconfig.h of this build describes its own ABI; for -m32, the sizes
# that differ come from what the compiler predefines for the target.
# glibc's pthread_t and time_t (without _TIME_BITS=64) are longs.
M32_SIZES = {
    "ALIGNOF_LONG": "__SIZEOF_LONG__",
    "ALIGNOF_SIZE_T": "__SIZEOF_SIZE_T__",
    "SIZEOF_LONG": "__SIZEOF_LONG__",
    "SIZEOF_LONG_DOUBLE": "__SIZEOF_LONG_DOUBLE__",
    "SIZEOF_PTHREAD_T": "__SIZEOF_LONG__",
    "SIZEOF_SIZE_T": "__SIZEOF_SIZE_T__",
    "SIZEOF_TIME_T": "__SIZEOF_LONG__",
    "SIZEOF_UINTPTR_T": "__SIZEOF_POINTER__",
    "SIZEOF_VOID_P": "__SIZEOF_POINTER__",
}


def write_pyconfig(directory, flags):
    """Write the build's pyconfig.h, for the ABI of flags, into directory."""
    text = PYCONFIG.read_text()
    if "-m32" in flags:
        for name, value in M32_SIZES.items():
            text, n = re.subn(rf"^#define {name} .*$",
                              f"#define {name} {value}",
                              text, flags=re.MULTILINE)
            assert n == 1, name
    directory.mkdir()
    (directory / "pyconfig.h").write_text(text)


def pristine_include(directory):
    """Unpack the pristine Include/ of the baseline into directory."""
    archive = subprocess.run(
        ["git", "-C", str(SRC), "archive", "--format=tar", "baseline",
         "Include"], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(directory)
    return directory


def can_build(flags, tmp_path):
    probe = tmp_path / "probe.c"
    probe.write_text("#include <pthread.h>\n#include <stdio.h>\n")
    return run_compiler([*flags, "-fsyntax-only", str(probe)]).returncode == 0


@pytest.mark.parametrize("flags", [[], ["-fpack-struct"], ["-m32"]],
                         ids=["host", "packed", "m32"])
def test_runtime_fields_keep_their_place(flags, tmp_path):
    if flags and not can_build(flags, tmp_path):
        pytest.skip(f"the compiler cannot build with {' '.join(flags)}")
    write_pyconfig(tmp_path / "config", flags)
    pristine = layout(pristine_include(tmp_path / "pristine"),
                      tmp_path / "config", flags, tmp_path)
    patched = layout(SRC, tmp_path / "config", flags, tmp_path)
    assert layout_changes(pristine, patched) == []
