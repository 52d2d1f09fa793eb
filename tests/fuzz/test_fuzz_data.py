"""Fuzz the data path: loaders, the restricted unpickler, caches, assets."""

import gzip
import pickle

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from structlab import assets, cache, datasets

from .contract import holds
from .strategies import BAD_SCALARS, counts


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-data")


@given(payload=st.one_of(st.binary(max_size=300),
                         st.builds(lambda b: pickle.dumps(b, protocol=2)[:-3] + b, st.binary(max_size=40)),
                         st.builds(lambda a: pickle.dumps(a, protocol=2),
                                   st.one_of(st.integers(), st.text(max_size=5),
                                             st.lists(st.integers(), max_size=4)))),
       compressed=st.booleans())
def test_the_unpickler_refuses_garbage_clearly(payload, compressed, folder):
    path = folder / ("blob.pkl.gz" if compressed else "blob.pkl")
    path.write_bytes(gzip.compress(payload) if compressed else payload)
    try:
        datasets.load_numpy_pickle(path)
    except pickle.UnpicklingError as error:  # this loader's one error: what was refused, and why
        assert str(error)


@given(n=counts(1, 3), seed=st.one_of(st.integers(0, 3), BAD_SCALARS))
def test_photos(n, seed):
    holds(lambda: len(datasets.AugmentedPhotos(n, seed)))


@given(root=st.one_of(st.sampled_from(["", "/nonexistent", "."]), BAD_SCALARS),
       n_val=counts(0, 5))
def test_folders(root, n_val):
    try:
        holds(lambda: datasets.mnist_from_folder(root, n_val=n_val))
        holds(lambda: datasets.imagenet_features(root, progress=False))
    except FileNotFoundError as error:  # a folder that is not there: said so
        assert str(error)


@given(name=st.one_of(st.sampled_from(["wine", "mnist", "imagenet", ""]), BAD_SCALARS))
def test_assets(name):
    holds(lambda: assets.manifest_entry(name))


@given(name=st.one_of(st.text(max_size=12), BAD_SCALARS))
def test_cache_paths_stay_in_the_cache(name):
    path = holds(lambda: cache.cache_path(name))
    if path is not None:
        assert path.parent == cache.cache_dir()


@given(key=st.text(max_size=8), payload=st.binary(max_size=200))
@example(key="\x00", payload=b"")  # a NumPy string array drops a trailing NUL
def test_damaged_caches_read_as_missing(key, payload, folder):
    path = folder / "damaged.npz"
    path.write_bytes(payload)
    assert cache.load_npz(path, key) is None
    cache.save_npz(path, key, x=np.arange(3))
    assert cache.load_npz(path, key)["x"].tolist() == [0, 1, 2]
