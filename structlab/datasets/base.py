"""What the loaders return: a split classification dataset, or network features."""

from dataclasses import dataclass

import numpy as np


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
