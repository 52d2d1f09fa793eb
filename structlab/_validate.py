"""Argument checks shared by the library: one clear ValueError/TypeError per bad input."""

import numbers

import numpy as np


def as_matrix(a, name, *, shape=None):
    """Return ``a`` as a finite 2-D float array, or raise naming ``name``.

    Parameters
    ----------
    a : array_like
    name : str
        The argument's name, used in the error message.
    shape : tuple of (int or None), optional
        Expected shape; ``None`` entries match any size.
    """
    arr = np.asarray(a)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got an array of shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
        arr = arr.astype(np.float64)
    if shape is not None and any(s is not None and s != a_s for s, a_s in zip(shape, arr.shape)):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def as_array(a, name):
    """Return ``a`` as a finite, non-empty float array of any shape, or raise naming ``name``."""
    arr = np.asarray(a)
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr if np.issubdtype(arr.dtype, np.floating) else arr.astype(np.float64)


def as_vector(a, name, *, size=None):
    """Return ``a`` as a finite 1-D float array of length ``size`` (if given)."""
    arr = np.asarray(a, dtype=np.result_type(np.asarray(a).dtype, np.float32))
    if arr.ndim != 1 or (size is not None and arr.shape[0] != size):
        want = f"({size},)" if size is not None else "1-D"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_int(value, name, *, low, high=None):
    """Return ``value`` as int if ``low <= value <= high``, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return int(value)
