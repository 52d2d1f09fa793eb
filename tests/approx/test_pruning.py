import numpy as np
import pytest

from structlab.approx.pruning import magnitude_mask, sparsity_of, std_threshold


def test_quality_rule_is_quality_times_std(rng):
    w = rng.standard_normal((50, 40))
    for quality in (0.0, 0.5, 1.0, 2.0):
        mask = magnitude_mask(w, quality=quality)
        np.testing.assert_array_equal(mask, np.abs(w) > quality * w.std())
    # on Gaussian weights, quality 1 drops about 68 % (the seed's argument)
    assert sparsity_of(magnitude_mask(w, quality=1.0)) == pytest.approx(0.683, abs=0.03)


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.92, 0.999])
def test_sparsity_rule_drops_exactly_that_fraction_of_smallest(rng, sparsity):
    w = rng.standard_normal((30, 20))
    mask = magnitude_mask(w, sparsity=sparsity)
    assert (~mask).sum() == round(sparsity * w.size)
    if mask.any() and (~mask).any():
        assert np.abs(w[mask]).min() >= np.abs(w[~mask]).max()


def test_ties_still_give_the_exact_count():
    mask = magnitude_mask(np.ones((4, 5)), sparsity=0.5)
    assert (~mask).sum() == 10


def test_pruned_weights_stay_pruned(rng):
    w = rng.standard_normal((20, 20))
    first = magnitude_mask(w, sparsity=0.5)
    w_after = np.where(first, w, 0) + 0.01 * rng.standard_normal(w.shape) * ~first  # retrain noise
    second = magnitude_mask(w_after, sparsity=0.8, mask=first)
    assert not np.any(second & ~first) and (~second).sum() == 320
    third = magnitude_mask(w_after, quality=1.0, mask=first)
    assert not np.any(third & ~first)
    np.testing.assert_array_equal(third, first & (np.abs(w_after) > w_after[first].std()))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(sparsity=1.0), ValueError, r"sparsity must be in \[0, 1\), got 1.0"),
    (dict(sparsity=-0.1), ValueError, "sparsity must be in"),
    (dict(quality=-1.0), ValueError, "quality must be at least 0, got -1.0"),
    (dict(quality=np.nan), ValueError, "quality must be"),
    (dict(), ValueError, "exactly one of quality or sparsity"),
    (dict(quality=1.0, sparsity=0.5), ValueError, "exactly one"),
])
def test_bad_budgets(kwargs, error, message):
    with pytest.raises(error, match=message):
        magnitude_mask(np.ones((3, 3)), **kwargs)


def test_bad_weights():
    with pytest.raises(ValueError, match="w is empty"):
        magnitude_mask(np.zeros((0, 3)), sparsity=0.5)
    with pytest.raises(ValueError, match="w contains NaN"):
        std_threshold([1.0, np.nan], 1.0)
    with pytest.raises(ValueError, match=r"mask must have shape \(3, 3\)"):
        magnitude_mask(np.ones((3, 3)), sparsity=0.5, mask=np.ones((3, 2), bool))
