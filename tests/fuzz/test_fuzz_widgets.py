"""Fuzz the explorers' pure callbacks (structlab.widgets): what a slider can send them."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from structlab import widgets

from .contract import holds
from .strategies import counts, matrices, vectors


@given(W=matrices(), rank=counts(0, 6))
def test_lowrank_point(W, rank):
    holds(lambda: widgets.lowrank_point(W, rank), W)
    holds(lambda: widgets.rank_explorer(W, rank=rank), W)


@given(stages=counts(0, 9), state=counts(0, 5), b=vectors(), X=matrices())
def test_sss_point(stages, state, b, X):
    W = np.random.default_rng(0).standard_normal((6, 5))
    holds(lambda: widgets.sss_point(W, b, X, stages, state), b, X)


@given(method=st.sampled_from(["lowrank", "sss", "pruning", "nope"]),
       share=st.one_of(st.floats(0.05, 1.0), st.just(0.0), st.just(2.0)))
def test_timing_point(method, share):
    W = np.random.default_rng(1).standard_normal((8, 6))
    holds(lambda: widgets.timing_point(W, method, share))
