"""The cache folder: where it is, what names it takes, how its files are written."""

import os
import stat

import numpy as np
import pytest

from structlab import cache


@pytest.fixture
def no_data_variable(monkeypatch):
    monkeypatch.delenv("STRUCTLAB_DATA", raising=False)


def test_structlab_data_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("STRUCTLAB_DATA", str(tmp_path / "shared"))
    assert cache.cache_dir() == tmp_path / "shared" / "cache"
    assert cache.cache_dir().is_dir()


def test_a_writable_checkout_keeps_its_cache_in_data(tmp_path, monkeypatch, no_data_variable):
    monkeypatch.setattr(cache, "checkout_root", lambda: tmp_path)
    assert cache.cache_dir() == tmp_path / "data" / "cache"


@pytest.mark.parametrize("situation", ["installed wheel", "read-only checkout"])
def test_otherwise_the_per_user_cache(tmp_path, monkeypatch, no_data_variable, situation):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if situation == "installed wheel":
        monkeypatch.setattr(cache, "checkout_root", lambda: None)
    else:  # os.access, since root may write anywhere and chmod would not show it
        monkeypatch.setattr(cache, "checkout_root", lambda: tmp_path / "checkout")
        monkeypatch.setattr(cache.os, "access", lambda path, mode: False)
    assert cache.cache_dir() == tmp_path / "xdg" / "structlab"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "structlab"


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", "sub/file.pt", "", ".", "..",
                                  "a\\b", None])
def test_cache_names_are_plain_file_names(name, tmp_path, monkeypatch):
    monkeypatch.setenv("STRUCTLAB_DATA", str(tmp_path))
    with pytest.raises(ValueError, match="a cache name must be a plain file name"):
        cache.cache_path(name)
    assert cache.cache_path("mnist.npz") == tmp_path / "cache" / "mnist.npz"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_files_get_the_permissions_the_umask_gives(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        cache.atomic_write(tmp_path / "f.bin", lambda f: f.write(b"x"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "f.bin").stat().st_mode) == mode


def test_npz_round_trip_keyed_and_damaged_files(tmp_path):
    path = tmp_path / "a.npz"
    cache.save_npz(path, "k1", compressed=True, x=np.arange(5, dtype=np.uint8))
    assert cache.load_npz(path, "k1")["x"].tolist() == [0, 1, 2, 3, 4]
    assert cache.load_npz(path, "k2") is None
    assert cache.load_npz(tmp_path / "missing.npz", "k1") is None
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # truncated
    assert cache.load_npz(path, "k1") is None
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]  # no temporary file left
