import numpy as np
import pytest
import torch
import torch.nn.functional as F

from structlab.approx.widths import (energy_width, grow, orthogonal_rows, refit_next, shrink,
                                     skeleton)


def low_rank(rng, shape, rank):
    return rng.standard_normal((shape[0], rank)) @ rng.standard_normal((rank, int(np.prod(shape[1:]))))


def test_skeleton_writes_dropped_units_in_terms_of_kept_ones(rng):
    W, b = low_rank(rng, (10, 7), 3), None
    kept, dropped, T = skeleton(W, b, 3)
    assert len(kept) == 3 and np.all(np.diff(kept) > 0) and sorted([*kept, *dropped]) == list(range(10))
    np.testing.assert_allclose(W[dropped], T @ W[kept], atol=1e-10)
    kept, dropped, T = skeleton(W, None, 10)
    assert kept.tolist() == list(range(10)) and len(dropped) == 0


def test_shrinking_an_exact_rank_layer_changes_the_output_by_round_off(rng):
    A = low_rank(rng, (12, 9), 4)
    W1, b1, W2, b2 = A[:, :8], A[:, 8], rng.standard_normal((5, 12)), rng.standard_normal(5)
    X = rng.standard_normal((30, 8))
    before = (X @ W1.T + b1) @ W2.T + b2  # no nonlinearity between the layers
    W1s, b1s, W2s, kept = shrink(W1, b1, W2, 4)
    after = (X @ W1s.T + b1s) @ W2s.T + b2
    np.testing.assert_allclose(after, before, atol=1e-9 * np.abs(before).max())
    assert W1s.shape == (4, 8) and b1s.shape == (4,) and W2s.shape == (5, 4)
    saved = (12 - 4) * (8 + 1 + 5)
    assert W1.size + b1.size + W2.size - (W1s.size + b1s.size + W2s.size) == saved


def test_shrinking_conv_channels_is_exact_before_the_nonlinearity(rng):
    kernel1 = low_rank(rng, (8, 3, 3, 3), 3).reshape(8, 3, 3, 3)
    kernel2 = rng.standard_normal((4, 8, 3, 3))
    x = torch.as_tensor(rng.standard_normal((2, 3, 10, 10)))
    before = F.conv2d(F.conv2d(x, torch.as_tensor(kernel1), padding=1), torch.as_tensor(kernel2))
    k1, _, k2, kept = shrink(kernel1, None, kernel2, 3)
    assert k1.shape == (3, 3, 3, 3) and k2.shape == (4, 3, 3, 3)
    after = F.conv2d(F.conv2d(x, torch.as_tensor(k1), padding=1), torch.as_tensor(k2))
    torch.testing.assert_close(after, before)


def test_refit_beats_folding_and_deleting_across_a_relu(rng):
    """Across the nonlinearity the fold is an approximation; the least-squares refit wins."""
    W1 = low_rank(rng, (16, 10), 4) + 0.05 * rng.standard_normal((16, 10))
    b1, W2, b2 = rng.standard_normal(16), rng.standard_normal((3, 16)), rng.standard_normal(3)
    X = rng.standard_normal((500, 10))
    dense = np.maximum(X @ W1.T + b1, 0) @ W2.T + b2
    W1s, b1s, W2s, kept = shrink(W1, b1, W2, 6)
    H = np.maximum(X @ W1s.T + b1s, 0)
    folded = H @ W2s.T + b2
    deleted = H @ W2[:, kept].T + b2
    W2r, b2r = refit_next(H, dense)
    refit = H @ W2r.T + b2r
    error = {name: np.linalg.norm(out - dense) for name, out in
             [("folded", folded), ("deleted", deleted), ("refit", refit)]}
    assert error["refit"] <= error["folded"] and error["refit"] <= error["deleted"]
    assert error["refit"] < 0.7 * min(error["folded"], error["deleted"])
    W2n, none = refit_next(H, dense - b2, bias=False)
    assert W2n.shape == (3, 6) and none is None
    with pytest.raises(ValueError, match="same number of rows"):
        refit_next(H, dense[:10])


def test_growth_leaves_the_function_unchanged(rng):
    W1, b1, W2 = rng.standard_normal((5, 9)), rng.standard_normal(5), rng.standard_normal((3, 5))
    X = rng.standard_normal((40, 9))
    W1g, b1g, W2g = grow(W1, b1, W2, 3, rng)
    assert W1g.shape == (8, 9) and b1g.shape == (8,) and W2g.shape == (3, 8)
    np.testing.assert_allclose(np.maximum(X @ W1g.T + b1g, 0) @ W2g.T,
                               np.maximum(X @ W1.T + b1, 0) @ W2.T, atol=1e-12)
    np.testing.assert_allclose(W1g[5:] @ W1.T, 0, atol=1e-10)  # orthogonal to the row space
    np.testing.assert_allclose(np.linalg.norm(W1g[5:], axis=1),
                               np.linalg.norm(W1, axis=1).mean())
    kernel = grow(rng.standard_normal((4, 2, 3, 3)), None, rng.standard_normal((6, 4, 1, 1)), 2, rng)
    assert kernel[0].shape == (6, 2, 3, 3) and kernel[2].shape == (6, 6, 1, 1)
    assert not kernel[2][:, 4:].any()


def test_bad_inputs(rng):
    W1, W2 = rng.standard_normal((5, 4)), rng.standard_normal((3, 5))
    with pytest.raises(ValueError, match="k must be between 1 and 5, got 0"):
        shrink(W1, None, W2, 0)
    with pytest.raises(ValueError, match="k must be between 1 and 5, got 6"):
        shrink(W1, None, W2, 6)
    with pytest.raises(ValueError, match="W2 must have the 5 units of W1 on axis 1"):
        shrink(W1, None, W2.T, 2)
    with pytest.raises(ValueError, match=r"b1 must have shape \(5,\)"):
        shrink(W1, np.ones(4), W2, 2)
    with pytest.raises(ValueError, match="extra must be at most 0: the rows span 4 of 4"):
        grow(W1, None, W2, 1, rng)
    with pytest.raises(ValueError, match="extra must be at least 1"):
        orthogonal_rows(W1[:2], 0, rng)
    with pytest.raises(ValueError, match=r"keep must be in \(0, 1\], got 0"):
        energy_width(W1, keep=0)


def test_energy_width():
    W = np.diag([4.0, 2.0, 1.0, 0.0])
    assert energy_width(W, keep=16 / 21) == 1 and energy_width(W, keep=0.99) == 3
    assert energy_width(W, keep=1.0) == 3


def test_more_units_than_input_dimensions(rng):
    """A layer with more units than fan_in + 1 keeps extra units beyond its row space."""
    W, b = rng.standard_normal((12, 3)), rng.standard_normal(12)
    for k in (4, 6, 11):  # rank [W | b] = 4: exact from k = 4 on
        kept, dropped, T = skeleton(W, b, k)
        assert len(kept) == k and T.shape == (12 - k, k)
        A = np.hstack([W, b[:, None]])
        np.testing.assert_allclose(A[dropped], T @ A[kept], atol=1e-9)
