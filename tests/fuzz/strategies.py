"""What the fuzz suite feeds the library: mostly sensible values, often not.

Each strategy mixes inputs a correct call would pass (so that the code past
the argument checks runs too) with the mistakes people make: wrong shapes and
dtypes, NaN and infinity, empty and huge sizes, tensors that require grad,
ragged lists, None, strings.
"""

import numpy as np
import scipy.sparse
import torch
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

BAD_SCALARS = st.sampled_from([None, "3", float("nan"), float("inf"), -1, 0, True, 2.5, 10**18,
                               -(10**18), [], [1, [2]], 1j])
FLOAT_DTYPES = st.sampled_from([np.float64, np.float32])
ODD_DTYPES = st.sampled_from([np.int64, np.float16, np.complex128, np.bool_, np.uint8, object])


def _floats(dtype, allow_bad):
    width = 32 if dtype == np.float32 else 64
    good = st.floats(-5, 5, width=width)
    if not allow_bad:
        return good
    return st.one_of(good, good, good, st.sampled_from([np.nan, np.inf, -np.inf, 0.0]))


@st.composite
def real_arrays(draw, min_dims=2, max_dims=2, min_side=1, max_side=6, allow_bad=True):
    """Float arrays of the given ranks, sometimes holding NaN or infinity."""
    dtype = draw(FLOAT_DTYPES)
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                  max_side=max_side))
    return draw(hnp.arrays(dtype, shape, elements=_floats(dtype, allow_bad)))


@st.composite
def odd_arrays(draw):
    """Arrays a numeric routine should refuse or convert: other ranks, dtypes, empties."""
    kind = draw(st.sampled_from(["rank", "dtype", "empty", "tensor", "list", "sparse"]))
    if kind == "rank":
        return draw(real_arrays(min_dims=0, max_dims=3, min_side=1, max_side=4))
    if kind == "dtype":
        dtype = draw(ODD_DTYPES)
        shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, max_side=4))
        if dtype is object:
            return np.full(shape, None, dtype=object)
        return np.ones(shape, dtype=dtype)
    if kind == "empty":
        return np.zeros(draw(st.sampled_from([(0, 3), (3, 0), (0, 0), (0,)])))
    if kind == "tensor":
        array = draw(real_arrays(allow_bad=False))
        return torch.tensor(array, requires_grad=draw(st.booleans()))
    if kind == "sparse":
        return scipy.sparse.random(3, 4, density=0.5, format="csr", rng=0)
    return draw(st.sampled_from([[[1.0, 2.0], [3.0]], [[1, 2], [3, 4]], "matrix", [[None]]]))


def matrices(**kwargs):
    """A 2-D float array most of the time; an odd array or a bad scalar otherwise."""
    return st.one_of(real_arrays(**kwargs), real_arrays(**kwargs), real_arrays(**kwargs),
                     odd_arrays(), BAD_SCALARS)


def vectors(**kwargs):
    return st.one_of(real_arrays(min_dims=1, max_dims=1, **kwargs),
                     real_arrays(min_dims=1, max_dims=1, **kwargs), odd_arrays(), BAD_SCALARS)


def counts(low=0, high=8):
    """An integer in [low, high] most of the time; otherwise a bad or absurd one."""
    return st.one_of(st.integers(low, high), st.integers(low, high), BAD_SCALARS)


def shares():
    """A float in (0, 1] most of the time; otherwise out of range or not a number."""
    return st.one_of(st.floats(0.01, 1.0), st.floats(0.01, 1.0), BAD_SCALARS, st.just(5.0))


@st.composite
def malformed_csr(draw):
    """A CSR matrix with one of its index arrays corrupted (out of range, decreasing, cut short)."""
    dense = draw(hnp.arrays(np.float64, (draw(st.integers(1, 6)), draw(st.integers(1, 6))),
                            elements=st.floats(-2, 2)))
    csr = scipy.sparse.csr_array(dense)
    if csr.nnz == 0:
        csr = scipy.sparse.csr_array(np.ones_like(dense))
    how = draw(st.sampled_from(["column high", "column negative", "pointer", "pointer end",
                                "huge column", "short indices"]))
    indices, indptr = csr.indices.copy(), csr.indptr.copy()
    at = draw(st.integers(0, len(indices) - 1))
    if how == "column high":
        indices[at] = dense.shape[1] + draw(st.integers(0, 5))
    elif how == "column negative":
        indices[at] = -draw(st.integers(1, 5))
    elif how == "huge column":
        indices = indices.astype(np.int64)
        indices[at] = 2**40
    elif how == "pointer":
        indptr[draw(st.integers(1, len(indptr) - 1))] = 10**6
    elif how == "pointer end":
        indptr[-1] = len(indices) + 3
    else:
        indices = indices[:-1]
    bad = scipy.sparse.csr_array(dense.shape)
    bad.data, bad.indices, bad.indptr = csr.data[:len(indices)], indices, indptr
    return bad
