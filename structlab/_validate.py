"""Argument checks shared by the library: one clear ValueError/TypeError per bad input.

Arrays may come as anything NumPy reads, or as torch tensors (with or without
grad, on any device: they are detached and copied to the CPU). What they must
hold is real numbers: integers are converted to float64; complex numbers,
booleans, strings and objects, and float16 (too coarse for the fits here),
are refused with a TypeError naming the argument.

Examples
--------
>>> as_matrix([[1, 2]], "W").dtype
dtype('float64')
>>> as_matrix([[1j]], "W")
Traceback (most recent call last):
  ...
TypeError: W holds complex numbers; structlab works with real ones
"""

import numbers

import numpy as np
import scipy.sparse


def as_numpy(a, name):
    """``a`` as a NumPy array (a torch tensor detached, on the CPU), or a TypeError naming ``name``."""
    if hasattr(a, "detach") and hasattr(a, "cpu") and hasattr(a, "numpy"):  # a torch.Tensor
        a = a.detach().cpu().numpy()
    if scipy.sparse.issparse(a):
        raise TypeError(f"{name} must be a dense array, got a SciPy sparse {type(a).__name__}")
    try:
        return np.asarray(a)
    except (TypeError, ValueError) as error:  # a ragged list, say
        raise TypeError(f"{name} must be an array of numbers: {error}") from None


def real_floats(arr, name):
    """``arr`` as float32/float64 (integers become float64); a TypeError for any other kind."""
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} holds complex numbers; structlab works with real ones")
    if kind == "b":
        raise TypeError(f"{name} must hold numbers, got booleans")
    if kind in "iu":
        return arr.astype(np.float64)
    if arr.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name} must hold float32 or float64 numbers, got dtype {arr.dtype}")
    return arr


def _finite(arr, name):
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def as_matrix(a, name, *, shape=None):
    """Return ``a`` as a finite 2-D float array, or raise naming ``name``.

    Parameters
    ----------
    a : array_like or torch.Tensor
    name : str
        The argument's name, used in the error message.
    shape : tuple of (int or None), optional
        Expected shape; ``None`` entries match any size.
    """
    arr = as_numpy(a, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got an array of shape {arr.shape}")
    arr = real_floats(arr, name)
    if shape is not None and any(s is not None and s != a_s for s, a_s in zip(shape, arr.shape)):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    return _finite(arr, name)


def as_array(a, name):
    """Return ``a`` as a finite, non-empty float array of any shape, or raise naming ``name``."""
    arr = real_floats(as_numpy(a, name), name)
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    return _finite(arr, name)


def as_vector(a, name, *, size=None):
    """Return ``a`` as a finite 1-D float array of length ``size`` (if given)."""
    arr = real_floats(as_numpy(a, name), name)
    if arr.ndim != 1 or (size is not None and arr.shape[0] != size):
        want = f"({size},)" if size is not None else "1-D"
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    return _finite(arr, name)


def check_int(value, name, *, low, high=None):
    """Return ``value`` as int if ``low <= value <= high``, else raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be {bounds}, got {value}")
    return int(value)


def check_float(value, name, *, low=None, high=None, open_low=False, open_high=False):
    """Return ``value`` as a finite float between ``low`` and ``high`` (either bound open).

    Examples
    --------
    >>> check_float(0.5, "share", low=0, high=1, open_low=True)
    0.5
    >>> check_float(0, "share", low=0, high=1, open_low=True)
    Traceback (most recent call last):
      ...
    ValueError: share must be in (0, 1], got 0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    too_low = low is not None and (value <= low if open_low else value < low)
    too_high = high is not None and (value >= high if open_high else value > high)
    if not np.isfinite(value) or too_low or too_high:
        left, right = "(" if open_low else "[", ")" if open_high else "]"
        bounds = (f" in {left}{low}, {high}{right}" if low is not None and high is not None
                  else f" {'above' if open_low else 'at least'} {low}" if low is not None
                  else f" {'below' if open_high else 'at most'} {high}" if high is not None
                  else " finite")
        raise ValueError(f"{name} must be{bounds}, got {value}")
    return float(value)


def check_shape(shape, name, *, low=1):
    """``shape`` as a pair of integers ``(m, n)``, each at least ``low``."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"{name} must be a pair (rows, columns), got {shape!r}")
    return tuple(check_int(s, name, low=low) for s in shape)


def check_share(value, name="share"):
    """A share of a matrix's numbers: a float in (0, 1]."""
    return check_float(value, name, low=0, high=1, open_low=True)


def as_csr(S, name):
    """A SciPy sparse matrix as a well-formed CSR array of finite real floats, or raise.

    SciPy trusts the index arrays it is given; a column index out of range, or
    row pointers that do not rise, make its own C++ routines (and ours) read out
    of bounds. They are checked here, before anything walks them.
    """
    if not scipy.sparse.issparse(S):
        raise TypeError(f"{name} must be a SciPy sparse matrix, got {type(S).__name__}")
    try:
        if S.format in ("csr", "csc", "bsr"):
            S.check_format(full_check=True)
        elif S.format == "coo" and S.nnz:
            rows, cols = S.coords if hasattr(S, "coords") else (S.row, S.col)
            if (min(rows.min(), cols.min()) < 0 or rows.max() >= S.shape[0]
                    or cols.max() >= S.shape[1]):
                raise ValueError("coordinates outside the shape")
    except ValueError as error:
        raise ValueError(f"{name} is a malformed sparse matrix: {error}") from None
    csr = scipy.sparse.csr_array(S)
    csr.data = _finite(real_floats(csr.data, f"{name}'s values"), f"{name}'s values")
    return csr


def as_mask(a, name, shape=None):
    """``a`` as a boolean array (numbers: nonzero is True) of ``shape`` if given, or raise."""
    arr = as_numpy(a, name)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a boolean array, got dtype {arr.dtype}")
    if shape is not None and arr.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {arr.shape}")
    return arr != 0 if arr.dtype.kind != "b" else arr.copy()
