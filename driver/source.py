"""Find the pinned CPython release tarball and prove it is the right one."""

import hashlib
import os
import pathlib
import shutil
import tempfile
import urllib.error
import urllib.request

from . import config


class SourceError(Exception):
    """The tarball could not be had, or is not the pinned one."""


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path, expected=config.SHA256):
    """Raise SourceError unless the file at path has the expected sha256."""
    actual = sha256_of(path)
    if actual != expected:
        raise SourceError(
            f"{path} is not the pinned {config.TARBALL}:\n"
            f"  sha256 {actual}\n  expected {expected}\n"
            f"Delete it and run make again, or point {config.CACHE_ENV} "
            f"at a directory holding the genuine release tarball.")


def download(url, dest):
    """Download url to dest atomically; raise SourceError on failure."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, \
                urllib.request.urlopen(url, timeout=60) as response:
            shutil.copyfileobj(response, out)
        os.replace(tmp, dest)
    except (OSError, urllib.error.URLError) as exc:
        os.unlink(tmp)
        raise SourceError(
            f"could not download {url}: {exc}\n"
            f"Download {config.TARBALL} by hand and set {config.CACHE_ENV} "
            f"to the directory that holds it.") from None


def find_tarball(downloads, cache=None, url=config.URL,
                 expected=config.SHA256):
    """Return the path of a verified tarball.

    A verified copy in downloads/ is used as is; else the tarball is
    copied from the cache directory (default: $CPYTHON_DOWNLOAD_CACHE)
    or, as a last resort, downloaded into downloads/.
    """
    if cache is None:
        cache = os.environ.get(config.CACHE_ENV)
    name = url.rsplit("/", 1)[-1]
    target = pathlib.Path(downloads) / name
    if target.is_file():
        verify(target, expected)
        return target
    cached = pathlib.Path(cache) / name if cache else None
    if cached and cached.is_file():
        verify(cached, expected)
        # Keep a copy, so later steps need not be told where the cache is.
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached, target)
    else:
        download(url, target)
    verify(target, expected)
    return target
