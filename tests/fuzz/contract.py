"""The contract every public entry point keeps: a clear ValueError/TypeError, or a sound result."""

import warnings

import numpy as np
import scipy.sparse
import torch

CLEAR = (ValueError, TypeError)


def finite(value, where="result"):
    """Assert that nothing in ``value`` (arrays, numbers, containers, structures) is NaN or inf."""
    from structlab.structures.base import Structure

    if isinstance(value, Structure):
        finite(value.toarray() if value.shape[0] * value.shape[1] <= 10_000 else 0.0, where)
    elif isinstance(value, torch.Tensor):
        finite(value.detach().cpu().numpy(), where)
    elif scipy.sparse.issparse(value):
        finite(value.data, where)
    elif isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        assert np.all(np.isfinite(value)), f"{where} holds NaN or inf"
    elif isinstance(value, (float, np.floating)):
        assert np.isfinite(value), f"{where} is {value}"
    elif isinstance(value, (tuple, list)):
        for i, item in enumerate(value):
            finite(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            finite(item, f"{where}[{key!r}]")


def _all_finite(value):
    try:
        finite(value)
        return True
    except AssertionError:
        return False


def holds(call, *inputs, check=None):
    """Run ``call()``: it raises a ValueError/TypeError that says something, or returns a
    result free of NaN and inf (unless one of ``inputs`` holds some: a product may
    carry them through), which ``check`` (if given) may test further.

    Any other exception fails the test, and so does a RuntimeWarning (a NaN in
    the making). Returns the result, or None when the call was refused.
    """
    clean = all(_all_finite(a) for a in inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("error" if clean else "ignore", RuntimeWarning)
        try:
            result = call()
        except CLEAR as error:
            assert str(error).strip(), f"{type(error).__name__} without a message"
            return None
    if clean:
        finite(result)
    if check is not None:
        check(result)
    return result
