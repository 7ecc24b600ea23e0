"""Make the build driver importable and share fixtures of the tooling tests."""

import io
import pathlib
import subprocess
import sys
import tarfile

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from driver import config  # noqa: E402


def git(cwd, *args):
    return subprocess.run(["git", "-C", str(cwd), *args], check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture
def fake_tarball(tmp_path):
    """A tiny stand-in for the release tarball: two upstream files."""
    path = tmp_path / config.TARBALL
    top = f"Python-{config.VERSION}/"
    files = {
        "README.rst": "pristine readme\n",
        "Lib/os.py": "import sys\n\nname = 'posix'\n",
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(top + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def overlay_repo(tmp_path):
    """A git repository shaped like ours: overlay files and patches/."""
    repo = tmp_path / "repo"
    (repo / "Lib").mkdir(parents=True)
    (repo / "patches").mkdir()
    (repo / "Lib" / "interpreters.py").write_text("'''new module'''\n")
    (repo / "patches" / "commit-message.txt").write_text("Add it\n\nBody\n")
    (repo / "patches" / "0001-os.patch").write_text(
        "Change os.name's neighbour.\n\n"
        "diff --git a/Lib/os.py b/Lib/os.py\n"
        "--- a/Lib/os.py\n+++ b/Lib/os.py\n"
        "@@ -1,3 +1,3 @@\n import sys\n \n-name = 'posix'\n"
        "+name = 'patched'\n")
    (repo / "patches" / "series").write_text("0001-os.patch\n")
    git(repo, "init", "-q")
    return repo
