"""Magnitude pruning (Han et al. 2015): keep the large weights, drop the rest.

Two ways to set the cut, both on absolute values:

- by **quality**: drop ``|w| <= quality * std(w)`` (the seed's rule: weights of a
  trained layer are roughly a zero-mean Gaussian, so ``quality = 1`` drops about
  68 % of them);
- by **sparsity**: drop exactly the fraction ``sparsity`` of smallest weights.

Examples
--------
>>> import numpy as np
>>> w = np.array([[0.1, -2.0], [0.5, 3.0]])
>>> magnitude_mask(w, sparsity=0.5)
array([[False,  True],
       [False,  True]])
"""

import numpy as np

from structlab._validate import as_array, as_mask, check_float


def std_threshold(w, quality):
    """Pruning threshold ``quality * std(w)`` over all entries of ``w``.

    Parameters
    ----------
    w : array_like
        A layer's weights (any shape, not empty).
    quality : float, >= 0
    """
    w = as_array(w, "w")
    quality = check_float(quality, "quality", low=0)
    return float(quality * np.std(w))


def magnitude_mask(w, *, quality=None, sparsity=None, mask=None):
    """Boolean mask of the weights to keep, by std-quality or by target sparsity.

    Give exactly one of ``quality`` (drop ``|w| <= quality * std``) or
    ``sparsity`` in [0, 1) (drop that fraction of all entries, smallest ``|w|``
    first; ties at the cut are broken by position so the count is exact).

    Parameters
    ----------
    w : array_like
        A layer's weights, any shape.
    quality, sparsity : float
    mask : array_like of bool, optional
        Weights that survived earlier rounds. Pruned weights stay pruned, and
        the std of the quality rule is taken over the survivors only (over
        all weights it would shrink as the zeros pile up).

    Returns
    -------
    ndarray of bool, same shape as ``w``
    """
    w = as_array(w, "w")
    alive = np.ones(w.shape, dtype=bool) if mask is None else as_mask(mask, "mask", w.shape)
    if (quality is None) == (sparsity is None):
        raise ValueError("give exactly one of quality or sparsity")
    if quality is not None:
        return alive & (np.abs(w) > std_threshold(w[alive], quality)) if alive.any() else alive
    sparsity = check_float(sparsity, "sparsity", low=0, high=1, open_high=True)
    # Already-pruned entries sort first (key -1), so they are dropped before any survivor.
    order = np.argsort(np.where(alive, np.abs(w), -1.0), axis=None, kind="stable")
    keep = alive.ravel().copy()
    keep[order[:int(round(sparsity * w.size))]] = False
    return keep.reshape(w.shape)


def sparsity_of(mask):
    """Fraction of entries a mask drops."""
    mask = as_mask(mask, "mask")
    if not mask.size:
        raise ValueError("mask is empty: no sparsity to speak of")
    return 1.0 - mask.sum() / mask.size
