import numpy as np
import pytest

from structlab.approx.sss import (allocate_states, smallest_budget, sss_approximate,
                                  sss_realization, uniform_partition)


@pytest.mark.parametrize("rows, cols, lo, up", [
    ([5, 0, 6, 4, 3], [4, 7, 0, 5, 2], [2, 3, 3, 1], [1, 2, 2, 2]),
    ([10, 10, 10, 10], [12, 12, 12, 12], [3, 4, 2], [2, 2, 5]),
])
def test_exact_minimal_realization_recovers_a_random_sss(random_sss, rows, cols, lo, up):
    S = random_sss(rows, cols, lo, up)
    W = S.toarray()
    R = sss_realization(W, rows, cols)
    r, c = np.cumsum([0, *rows]), np.cumsum([0, *cols])
    hankel_ranks = [[np.linalg.matrix_rank(M[r[k + 1]:, :c[k + 1]]) for k in range(len(rows) - 1)]
                    for M, r, c in [(W, r, c), (W.T, c, r)]]
    assert [d.tolist() for d in R.state_dims] == hankel_ranks  # minimal
    assert all(np.all(d <= g) for d, g in zip(R.state_dims, [lo, up]))
    assert np.linalg.norm(R.toarray() - W) <= 1e-10 * np.linalg.norm(W)
    assert R.nparams <= S.nparams


def test_truncation_keeps_the_given_states_and_error_falls(rng):
    W = rng.standard_normal((60, 50))
    rows, cols = uniform_partition(60, 5), uniform_partition(50, 5)
    errors = []
    for d in (1, 3, 6, 100):
        R = sss_realization(W, rows, cols, [d] * 4, [d] * 4)
        assert all(np.all(dims <= d) for dims in R.state_dims)
        errors.append(np.linalg.norm(R.toarray() - W))
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-10 * np.linalg.norm(W)


@pytest.mark.parametrize("share", [0.1, 0.3, 0.6])
def test_budget_is_respected_and_spent(rng, share):
    W = rng.standard_normal((80, 64))
    budget = int(share * W.size)
    S = sss_approximate(W, budget)
    assert budget - 2 * (80 + 64) <= S.nparams <= budget  # no cheap step is left unspent
    assert np.linalg.norm(S.toarray() - W) < np.linalg.norm(W)


def test_approximation_beats_a_uniform_state_size(rng):
    # A matrix whose lower part is low rank and upper part is not: the greedy split
    # should spend the budget where the Hankel energy is.
    lower = np.tril(rng.standard_normal((60, 4)) @ rng.standard_normal((4, 60)), -1)
    W = lower + np.triu(rng.standard_normal((60, 60)), 1) * 0.3 + np.eye(60)
    budget = 1800
    S = sss_approximate(W, budget, stages=6)
    rows = uniform_partition(60, 6)
    uniform = max(d for d in range(1, 30)
                  if sss_realization(W, rows, rows, [d] * 5, [d] * 5).nparams <= budget)
    U = sss_realization(W, rows, rows, [uniform] * 5, [uniform] * 5)
    assert S.nparams <= budget
    assert np.linalg.norm(S.toarray() - W) < np.linalg.norm(U.toarray() - W)


def test_infeasible_budgets_and_bad_partitions_raise(rng):
    W = rng.standard_normal((30, 40))
    assert smallest_budget(W.shape) == 40
    with pytest.raises(ValueError, match=r"nparams must be at least 40 for a 30x40 matrix"):
        sss_approximate(W, 39)
    S = sss_approximate(W, 40)  # feasible at the edge: the block diagonal, no states
    assert S.nparams <= 40 and len(S.row_sizes) == 30
    with pytest.raises(ValueError, match="diagonal blocks of 2 stages alone exceed"):
        sss_approximate(W, 500, stages=2)
    with pytest.raises(ValueError, match=r"row_sizes must sum to 30, got \[10, 10\]"):
        sss_realization(W, [10, 10], [20, 20])
    with pytest.raises(ValueError, match="col_sizes must not contain negative sizes"):
        sss_realization(W, [15, 15], [50, -10])
    with pytest.raises(ValueError, match="same number of stages"):
        sss_realization(W, [15, 15], [40])


def test_allocation_prefers_energy_per_parameter():
    spectra = [[np.array([10.0, 1.0]), np.array([3.0, 2.0])]]
    sizes = [(np.array([1, 1, 1]), np.array([1, 1, 1]))]
    # first state at cut 0: 10**2 for 2 numbers; then cut 1 (9 for 3) beats cut 0 (1 for 2)
    dims, spent = allocate_states(spectra, sizes, budget=5)
    assert dims[0].tolist() == [1, 1] and spent == 5
    dims, spent = allocate_states(spectra, sizes, budget=4)  # cut 1 no longer affordable
    assert dims[0].tolist() == [2, 0] and spent == 4


def test_one_stage_and_state_size_checks(rng):
    W = rng.standard_normal((6, 5))
    for S in (sss_approximate(W, 30, stages=1), sss_approximate(W, 30)):
        assert S.nparams <= 30 and np.allclose(S.toarray(), W)  # the budget holds W itself
    assert sss_approximate(rng.standard_normal((1, 8)), 8).nparams == 8
    with pytest.raises(ValueError, match=r"state dims must be a sequence of non-negative integers, got \[-1\]"):
        sss_realization(W, [3, 3], [2, 3], [-1])
    with pytest.raises(ValueError, match=r"one size per cut \(1\), got 2"):
        sss_realization(W, [3, 3], [2, 3], [1, 1])
