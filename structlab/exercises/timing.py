"""Checks for chapter 7, timing structured products."""

import copy

import numpy as np
import scipy.sparse

from structlab.exercises import SPLITS, check_accuracy_kept, held_out, register
from structlab.exercises.pruning import BUDGET_LOSS, budget_network
from structlab.kernels import Plan
from structlab.packing import pack_csr

CHAPTER = "07_timing"


@register("break_even_rank", CHAPTER, points=1)
def _break_even_rank(func):
    cases = [(4, 4), (10, 14), (300, 784), (1000, 1280), (1, 7), (6, 3), (2, 2)]
    for m, n in cases:
        expected = max((r for r in range(min(m, n) + 1) if r * (m + n) < m * n), default=0)
        got = func(m, n)
        assert got == expected, (
            f"{m}x{n}: you said {got}, expected {expected}. A rank-r product costs r*(m + n) "
            f"multiply-adds against m*n = {m * n}; find the largest r that is strictly cheaper "
            "(watch the case where r*(m + n) equals m*n)")
    return f"right on {len(cases)} shapes"


@register("csr_matvec", CHAPTER, points=2)
def _csr_matvec(func):
    rng = np.random.default_rng(71)
    for m, n, density in [(5, 7, 0.4), (12, 3, 0.5), (6, 6, 0.0), (1, 9, 1.0)]:
        dense = rng.standard_normal((m, n)) * (rng.random((m, n)) < density)
        dense[0] = 0.0  # an empty row
        csr = scipy.sparse.csr_array(dense)
        x = rng.standard_normal(n)
        got = np.asarray(func(csr.indptr, csr.indices, csr.data, x), dtype=float)
        assert got.shape == (m,), f"the result must have {m} entries (one per row), got {got.shape}"
        assert np.allclose(got, dense @ x), (
            f"{m}x{n}, density {density}: wrong values. Row i's entries are values[p] at columns "
            "indices[p] for indptr[i] <= p < indptr[i + 1]; an empty row gives 0")
    return "matches the dense product on 4 matrices, empty rows included"


@register("csr_bytes", CHAPTER, points=1)
def _csr_bytes(func):
    rng = np.random.default_rng(72)
    for m, n, density, dtype in [(300, 784, 0.1, np.float32), (1000, 1280, 0.05, np.float32),
                                 (20, 30, 0.5, np.float64)]:
        packed = pack_csr(scipy.sparse.random(m, n, density, rng=rng), dtype)
        nnz, gap = len(packed.arrays["values"]), packed.sizes["gap_bytes"]
        got = func(m, nnz, np.dtype(dtype).itemsize, gap)
        assert got == packed.nbytes, (
            f"{m} rows, {nnz} stored entries, {np.dtype(dtype).itemsize}-byte values, "
            f"{gap}-byte gaps: you said {got} bytes, the kernel reads {packed.nbytes}. Count "
            "the values, one gap per value, and the m + 1 row pointers (int32, 4 bytes each)")
    got = func(10, 50, 4, 2)  # gaps of 2 bytes, where some gap is 256 columns or more
    assert got == 50 * 6 + 11 * 4, (
        f"10 rows, 50 entries, 4-byte values and 2-byte gaps: you said {got}, expected "
        f"{50 * 6 + 11 * 4}. Use gap_bytes for the gaps; the row pointers stay 4 bytes")
    return "the bytes the C kernel reads, on 3 matrices, and with 2-byte gaps"


# The design task's target. At batch 1 a product is limited by the bytes it reads
# (section 4), so the task budgets bytes, which a check can count exactly, where a time
# would vary from run to run: fc1 of chapter 2's check network as a structure whose
# float32 kernel reads at most a tenth of the dense fc1's bytes, indices included, the
# network at most one point less accurate. Pruning to 10 % of the weights reads 30 %.
FAST_BYTES_SHARE = 0.1


def fast_fc1_outcome(design, splits=("val",)):
    """What ``design(model)``'s fc1 reads, and the network's accuracies.

    ``design`` gets chapter 2's check network (LeNet-300-100) and returns it with
    fc1 a :class:`~structlab.nn.compress.StructuredLinear`, e.g. from
    :func:`~structlab.nn.compress.compress`.

    Returns
    -------
    share : float
        What fc1's float32 kernel reads over what the dense fc1 reads.
    accuracies : dict of {split: (accuracy, dense accuracy)}
        On each of ``splits`` (see :func:`structlab.exercises.held_out`).
    """
    # torch comes in only when this check runs: the grader's parent process and the
    # editions import every chapter's checks, and torch takes seconds to import
    import torch

    from structlab.nn.compress import StructuredLinear
    from structlab.nn.train import accuracy

    model, data = budget_network()
    new = design(copy.deepcopy(model))
    assert isinstance(new, torch.nn.Module), (
        f"return the network (a torch.nn.Module), got {type(new).__name__}")
    fc1 = getattr(new, "fc1", None)
    assert isinstance(fc1, StructuredLinear), (
        f"the returned network's fc1 must be a StructuredLinear (what compress() makes), got "
        f"{type(fc1).__name__}: only a structure has a C kernel whose bytes can be counted")
    assert fc1.structure.shape == tuple(model.fc1.weight.shape), (
        f"fc1's structure must be {tuple(model.fc1.weight.shape)}, got {fc1.structure.shape}")
    share = Plan(fc1.structure, np.float32).packed.nbytes / (4 * model.fc1.weight.numel())
    return share, {split: (accuracy(new, *held_out(data, split)),
                           accuracy(model, *held_out(data, split))) for split in splits}


@register("fast_fc1", CHAPTER, points=3)
def check_fast_fc1(func, splits=("val",)):
    """The design task's rules on ``splits``; the hidden test adds the test split."""
    share, accuracies = fast_fc1_outcome(func, splits)
    assert share <= FAST_BYTES_SHARE, (
        f"your fc1's kernel reads {share:.1%} of the dense fc1's bytes (values and indices); "
        f"the target is at most {FAST_BYTES_SHARE:.0%}")
    check_accuracy_kept(accuracies, BUDGET_LOSS, "the dense network's")
    acc, dense = accuracies[splits[0]]
    return (f"fc1 reads {share:.1%} of the dense bytes; {SPLITS[splits[0]]} accuracy "
            f"{acc:.4f} (dense {dense:.4f})")
