"""The end of `make`: what the build lacks, said where it is seen.

setup.py prints, at the end of every make, which optional modules it could
not build; the driver reads that from the build log and repeats it last,
with the Debian package each module needs.
"""

import contextlib
import importlib.util
import io
import os
import subprocess
import warnings

import pytest

from driver import build, config, tree

BUILD = config.build_dir()
SRC = tree.source_dir(BUILD)

# The end of a build log of 3.11.2 on a machine without libssl-dev and
# libffi-dev, where _sqlite3 failed to compile and _lzma to import.
SAMPLE_LOG = """\
gcc -shared build/temp.linux-x86_64-3.11/Modules/_uuidmodule.o -luuid -o \
build/lib.linux-x86_64-3.11/_uuid.cpython-311-x86_64-linux-gnu.so

The necessary bits to build these optional modules were not found:
_ctypes               _hashlib              _ssl
nis
To find the necessary bits, look in setup.py in detect_modules() for the \
module's name.


The following modules found by detect_modules() in setup.py have not
been built, they are *disabled* by configure:
_scproxy


Failed to build these modules:
_sqlite3


Following modules built successfully but were removed because they could \
not be imported:
_lzma


Could not build the ssl module!
Python requires a OpenSSL 1.1.1 or newer

running build_scripts
"""


def test_unbuilt_modules_from_a_log():
    assert build.unbuilt_modules(SAMPLE_LOG) == {
        "missing": ["_ctypes", "_hashlib", "_ssl", "nis"],
        "failed": ["_sqlite3", "_lzma"],
    }


def test_complete_build_says_nothing():
    log = "gcc -c x.c\nrunning build_scripts\n"
    unbuilt = build.unbuilt_modules(log)
    assert unbuilt == {"missing": [], "failed": []}
    assert build.module_report(unbuilt, "build.log") == []


def test_report_names_packages_and_the_command():
    lines = build.module_report(build.unbuilt_modules(SAMPLE_LOG),
                                "build/release/build.log")
    text = "\n".join(lines)
    assert lines[0] == lines[-1] == "=" * 72
    assert "lacks these optional modules" in lines[1]
    row = next(line for line in lines if "libssl-dev" in line)
    assert row.split()[:2] == ["_hashlib", "_ssl"]
    assert any(line.split()[0] == "_ctypes" and "libffi-dev" in line
               for line in lines)
    assert any(line.split()[0] == "nis" and "libnsl-dev" in line
               for line in lines)
    assert "_sqlite3 _lzma" in text
    assert "failed to build (see build/release/build.log)" in text
    assert lines[-2].endswith("sh driver/install-build-deps.sh")


def test_every_named_package_is_installed_by_the_installer():
    packages = subprocess.run(
        ["sh", str(build.DEPS_SCRIPT), "--list"], check=True,
        capture_output=True, text=True).stdout.split()
    # libcrypt-dev comes with build-essential (libc6-dev depends on it).
    assert set(build.MODULE_PACKAGES.values()) - set(packages) \
        == {"libcrypt-dev"}


@pytest.mark.skipif(not (SRC / "setup.py").is_file(),
                    reason="no synced source tree: run make")
def test_parses_what_setup_py_prints():
    # The summary as 3.11.2's own setup.py writes it.
    spec = importlib.util.spec_from_file_location("cpython_setup",
                                                  SRC / "setup.py")
    setup = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        spec.loader.exec_module(setup)
    cmd = object.__new__(setup.PyBuildExt)
    cmd.extensions = []
    cmd.missing = ["readline", "_ssl", "_bz2", "_curses", "_uuid"]
    cmd.failed = ["_ctypes"]
    cmd.failed_on_import = ["_tkinter"]
    cmd.disabled_configure = ["_scproxy"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cmd.summary([], [])
    assert build.unbuilt_modules(out.getvalue()) == {
        "missing": ["_bz2", "_curses", "_ssl", "_uuid", "readline"],
        "failed": ["_ctypes", "_tkinter"],
    }


def test_build_prints_the_report_last(tmp_path, monkeypatch, capsys):
    # A build whose make succeeds and leaves SAMPLE_LOG behind.
    bdir = tmp_path / "release"
    bdir.mkdir()

    def fake_configure(src, bdir, args, env=None):
        pass

    def fake_make(bdir, jobs, env=None):
        (bdir / "build.log").write_text(SAMPLE_LOG)
        return 0

    monkeypatch.setattr(build, "configure", fake_configure)
    monkeypatch.setattr(build, "make", fake_make)
    build.build(tmp_path / "src", tmp_path, "release", 1)
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "=" * 72
    assert any("libssl-dev" in line for line in out)


def test_configure_runs_again_when_a_package_changes(tmp_path,
                                                     monkeypatch):
    # A fake dpkg-query whose answer the test changes, and a fake
    # configure that counts its runs.
    fakebin = tmp_path / "bin"
    fakebin.mkdir()
    status = tmp_path / "status"
    status.write_text("libssl-dev=3.0 install ok installed\n")
    (fakebin / "dpkg-query").write_text(f"#!/bin/sh\ncat {status}\n")
    (fakebin / "dpkg-query").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fakebin}:/usr/bin:/bin")
    src = tmp_path / "src"
    src.mkdir()
    runs = tmp_path / "runs"
    (src / "configure").write_text(
        f"#!/bin/sh\necho run >> {runs}\necho > Makefile\n")
    (src / "configure").chmod(0o755)
    bdir = tmp_path / "release"

    def count():
        build.configure(src, bdir, ["--with-pydebug"])
        return len(runs.read_text().splitlines())

    assert count() == 1
    assert count() == 1
    status.write_text("libssl-dev=3.0 install ok installed\n"
                      "libffi-dev=3.4 install ok installed\n")
    assert count() == 2
    assert count() == 2


def test_dependency_state_without_dpkg(monkeypatch, tmp_path):
    # A shell, but no dpkg-query: not a Debian machine.
    os.symlink("/bin/sh", tmp_path / "sh")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert build.deps_state() == ""
