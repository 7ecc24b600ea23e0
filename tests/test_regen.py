"""Files our patch regenerates are what CPython's generators write."""

import subprocess

import pytest

from driver import config, tree

BUILD = config.build_dir()
SRC = tree.source_dir(BUILD)
PYTHON = BUILD / "release" / "python"

pytestmark = pytest.mark.skipif(not PYTHON.exists(),
                                reason="no release build: run make")


def test_stdlib_module_names_is_regenerated():
    # What `make regen-stdlib-module-names` would write, from the build.
    proc = subprocess.run(
        [str(PYTHON), str(SRC / "Tools" / "scripts" /
                          "generate_stdlib_module_names.py")],
        cwd=BUILD / "release", capture_output=True, text=True, check=True)
    committed = (SRC / "Python" / "stdlib_module_names.h").read_text()
    assert proc.stdout == committed
    assert '"_interpreters",' in committed
    assert '"interpreters",' in committed


def test_clinic_output_is_current(tmp_path):
    # Run Argument Clinic on copies: its output must equal what is
    # committed, the .c files' checksums included.
    clinic = SRC / "Tools" / "clinic" / "clinic.py"
    modules = SRC / "Modules"
    sources = [p for p in [modules / "_interpretersmodule.c",
                           *sorted((modules / "_interpreters").glob("*.c"))]
               if "[clinic start generated code]" in p.read_text()]
    assert sources
    for source in sources:
        header = source.parent / "clinic" / (source.name + ".h")
        work = tmp_path / source.parent.relative_to(SRC)
        (work / "clinic").mkdir(parents=True, exist_ok=True)
        copy = work / source.name
        copy.write_bytes(source.read_bytes())
        (work / "clinic" / header.name).write_bytes(header.read_bytes())
        subprocess.run([str(PYTHON), str(clinic), str(copy)], check=True,
                       capture_output=True)
        assert copy.read_bytes() == source.read_bytes(), source.name
        assert (work / "clinic" / header.name).read_bytes() == \
            header.read_bytes(), header.name
