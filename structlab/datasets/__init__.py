"""Datasets, offline first: every default ships in an installed package.

Each asset is listed in the package's ``MANIFEST.toml`` and sha256-checked before
it is read (:mod:`structlab.assets`); derived caches are written atomically to
the cache folder (:mod:`structlab.cache`). One private module per source
(``_wine``, ``_mnist``, ``_imagenet`` for MobileNetV2 and its features); their
public names are all here.

Examples
--------
>>> d = wine()
>>> d.X_train.shape, d.X_test.shape
((124, 13), (54, 13))
"""

from structlab.datasets.base import Dataset, Features
from structlab.datasets._imagenet import (
    IMAGENET_MEAN, IMAGENET_STD, PHOTOS, AugmentedPhotos, check_features, extract_features,
    feature_extractor, imagenet_features, imagenet_transform, mobilenet_v2, photo_features,
    photo_paths)
from structlab.datasets._mnist import NumpyOnlyUnpickler, load_numpy_pickle, mnist, mnist_from_folder
from structlab.datasets._wine import wine

__all__ = [
    "Dataset", "Features", "wine", "mnist", "mnist_from_folder",
    "load_numpy_pickle", "NumpyOnlyUnpickler", "mobilenet_v2", "imagenet_transform",
    "feature_extractor", "extract_features", "check_features", "photo_paths", "PHOTOS",
    "AugmentedPhotos", "photo_features", "imagenet_features", "IMAGENET_MEAN", "IMAGENET_STD"
]
