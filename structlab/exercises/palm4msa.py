"""Checks for chapter 4, palm4MSA."""

import numpy as np

from structlab.approx.palm4msa import Constraint, project_splin, rectangular_constraints
from structlab.exercises import register

CHAPTER = "04_palm4msa"


@register("splin", CHAPTER, points=1)
def _splin(func):
    rng = np.random.default_rng(21)
    for shape, k in [((5, 8), 1), ((6, 6), 3), ((4, 7), 7), ((30, 12), 5)]:
        M = rng.standard_normal(shape)
        got = np.asarray(func(M.copy(), k))
        assert got.shape == M.shape, f"splin must return a matrix of shape {M.shape}, got {got.shape}"
        per_row = np.count_nonzero(got, axis=1)
        assert np.all(per_row == k), (
            f"k={k} on a {shape[0]}x{shape[1]} matrix: rows keep {sorted(set(per_row.tolist()))} "
            f"entries, expected exactly {k} per row")
        expected = project_splin(M, k)
        assert np.array_equal(got, expected), (
            f"k={k}: you kept the wrong entries or changed their values; keep the k largest "
            "in magnitude |M[i, j]| of each row, with their signs")
    return "keeps the k largest magnitudes of every row on 4 matrices"


def palm_update_reference(A, L, S, R, lam, k):
    """One palm4MSA update of ``S`` (dense NumPy, exact spectral norms), for checking."""
    c = 1.001 * lam**2 * np.linalg.norm(L, 2) ** 2 * np.linalg.norm(R, 2) ** 2
    gradient = lam * L.T @ (lam * L @ S @ R - A) @ R.T
    return Constraint("splin", S.shape, k).project(S - gradient / c)


@register("palm_update", CHAPTER, points=3)
def _palm_update(func):
    rng = np.random.default_rng(22)
    for (m, p, q, n), k, lam in [((6, 5, 4, 7), 2, 1.0), ((8, 8, 8, 8), 3, 2.5), ((10, 4, 6, 3), 6, 0.3)]:
        A, L = rng.standard_normal((m, n)), rng.standard_normal((m, p))
        S, R = rng.standard_normal((p, q)), rng.standard_normal((q, n))
        got = np.asarray(func(A, L, S, R, lam, k))
        expected = palm_update_reference(A, L, S, R, lam, k)
        assert got.shape == expected.shape, f"the new factor must have shape {S.shape}, got {got.shape}"
        assert np.count_nonzero(got) == np.count_nonzero(expected), (
            f"the new factor has {np.count_nonzero(got)} nonzeros, expected {k} per row "
            f"({np.count_nonzero(expected)})")
        assert abs(np.linalg.norm(got) - 1) < 1e-9, (
            f"the new factor must have unit Frobenius norm (lam carries the scale), got "
            f"{np.linalg.norm(got):.4g}")
        assert np.allclose(got, expected, atol=1e-9), (
            "right support and norm, wrong values: check the gradient "
            "lam * L.T @ (lam * L @ S @ R - A) @ R.T and the step 1 / c with "
            "c = 1.001 * lam**2 * ||L||_2**2 * ||R||_2**2 (spectral norms)")
    return "matches the reference step on 3 problems"


@register("sparse_product_nnz", CHAPTER, points=1)
def _sparse_product_nnz(func):
    cases = [((300, 784), 2, 4), ((784, 300), 3, 8), ((512, 512), 4, 16), ((10, 64), 4, 1),
             ((1000, 1280), 5, 32)]
    for shape, n_factors, k in cases:
        fcons, rcons = rectangular_constraints(shape, n_factors, k)
        expected = sum(c.max_nnz for c in rcons[-1:] + fcons)
        got = func(shape[0], shape[1], n_factors, k)
        assert got == expected, (
            f"{shape[0]}x{shape[1]} as {n_factors} factors with k={k} per row: you counted {got}, "
            f"expected {expected}; the chain is (m x r)(r x r)...(r x n) with r = min(m, n)")
    return f"right on {len(cases)} layer shapes"
