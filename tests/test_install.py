"""`make install`: the fork installed under a prefix, and what it can do there.

One install (about 20 s on 2 cores: the stdlib is byte-compiled three
times) into a temporary prefix, through the driver's command line as
`make install PREFIX=...` runs it; the installed python then runs without
the build directory.
"""

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from driver import config
from driver import install

BUILD = config.build_dir()
PYTHON = BUILD / "release" / "python"

pytestmark = pytest.mark.skipif(not PYTHON.exists(),
                                reason="no release build: run make")


@pytest.fixture(scope="module")
def prefix(tmp_path_factory):
    """Install into a fresh prefix; yield it, then remove it (300 MB)."""
    root = tmp_path_factory.mktemp("install")
    prefix = root / "prefix"
    proc = subprocess.run(
        [sys.executable, "-B", "-m", "driver", "install",
         "--prefix", str(prefix)],
        cwd=config.REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    yield prefix
    shutil.rmtree(root)


def run(python, *args):
    env = install.clean_env()
    proc = subprocess.run([str(python), *args], capture_output=True,
                          text=True, env=env, cwd="/")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_installs_python3_11_and_never_python3(prefix):
    names = {path.name for path in (prefix / "bin").iterdir()}
    assert {"python3.11", "pip3.11", "pydoc3.11"} <= names
    assert not names & {"python", "python3", "pip", "pip3"}


def test_finds_its_own_stdlib(prefix):
    out = run(prefix / "bin" / "python3.11", "-c", textwrap.dedent("""
        import os, sys, sysconfig
        print(sys.prefix)
        print(os.path.dirname(os.__file__))
        print(sysconfig.get_paths()["purelib"])
        """))
    stdlib = prefix / "lib" / "python3.11"
    assert out.splitlines() == [str(prefix), str(stdlib),
                                str(stdlib / "site-packages")]


def test_runs_a_subinterpreter(prefix):
    out = run(prefix / "bin" / "python3.11", "-c", textwrap.dedent("""
        import interpreters
        interp = interpreters.create()
        interp.run("import sys; print('in', sys.prefix)")
        print(interp.call(sum, [40, 2]))
        interp.destroy()
        print(interpreters.list_all())
        """))
    assert out.splitlines() == [f"in {prefix}", "42",
                                "[interpreters.Interpreter(id=0)]"]


def test_pip_is_installed_in_the_prefix(prefix):
    out = run(prefix / "bin" / "python3.11", "-m", "pip", "--version")
    site = prefix / "lib" / "python3.11" / "site-packages"
    assert out.startswith("pip ")
    assert f" from {site / 'pip'} (python 3.11)" in out


def test_reinstall_over_itself_is_allowed(prefix):
    install.check_target(prefix)


def test_refuses_to_replace_another_python(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    other = bindir / "python3.11"
    # A python without _interpreters: a system one, say.
    other.write_text("#!/bin/sh\nexit 1\n")
    other.chmod(0o755)
    with pytest.raises(install.InstallError, match="is left alone"):
        install.check_target(tmp_path)


def test_refuses_a_prefix_it_cannot_write(tmp_path, monkeypatch):
    def access(path, mode):
        return path != tmp_path

    monkeypatch.setattr(os, "access", access)
    with pytest.raises(install.InstallError, match="sudo make install"):
        install.check_target(tmp_path / "not" / "there")


def test_refuses_a_relative_prefix():
    with pytest.raises(install.InstallError, match="absolute"):
        install.install(BUILD / "release", "relative/prefix")
