"""The pinned tarball is found, verified, or refused with a clear message."""

import os
import pathlib

import pytest

from driver import config, source


def test_cache_directory_is_used_and_verified(tmp_path, fake_tarball):
    digest = source.sha256_of(fake_tarball)
    found = source.find_tarball(tmp_path / "downloads",
                                cache=fake_tarball.parent,
                                expected=digest)
    assert found == tmp_path / "downloads" / fake_tarball.name
    assert found.read_bytes() == fake_tarball.read_bytes()


def test_mismatch_stops_with_what_to_do(tmp_path, fake_tarball):
    with pytest.raises(source.SourceError) as info:
        source.find_tarball(tmp_path / "downloads",
                            cache=fake_tarball.parent)
    message = str(info.value)
    assert config.SHA256 in message
    assert source.sha256_of(fake_tarball) in message
    assert config.CACHE_ENV in message


def test_failed_download_says_what_to_do(tmp_path):
    missing = (tmp_path / "nowhere" / config.TARBALL).as_uri()
    with pytest.raises(source.SourceError) as info:
        source.find_tarball(tmp_path / "downloads", cache=tmp_path,
                            url=missing)
    assert "could not download" in str(info.value)
    assert config.CACHE_ENV in str(info.value)
    assert not list((tmp_path / "downloads").glob("*.part"))


def test_real_tarball_matches_the_pin():
    # The build used this very file; prove the pin is what we think it is.
    build = config.build_dir()
    candidates = list((build / "downloads").glob(config.TARBALL))
    cache = os.environ.get(config.CACHE_ENV)
    if cache:
        candidates += list(pathlib.Path(cache).glob(config.TARBALL))
    if not candidates:
        pytest.skip("no copy of the release tarball on this machine")
    source.verify(candidates[0])
