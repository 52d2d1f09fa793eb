"""Fuzz the torch side (structlab.nn): a clear error or a sound result, for any input."""

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from torch import nn

from structlab.nn import compress, layers, models, train, widths
from structlab.structures.sparse_product import SparseProduct

from .contract import holds
from .strategies import BAD_SCALARS, counts, matrices, real_arrays, shares, vectors

LABELS = st.one_of(st.builds(lambda n, s: np.random.default_rng(s).integers(0, 3, n),
                             st.integers(0, 8), st.integers(0, 9)),
                   st.lists(st.integers(-2, 5), max_size=8), vectors(), BAD_SCALARS)
FEATURES = st.one_of(real_arrays(min_side=0, max_side=8).map(
    lambda a: a if a.ndim != 2 else np.resize(a, (a.shape[0], 13))), matrices())


@given(X=FEATURES, y=LABELS)
@example(X=np.zeros((0, 13)), y=[])
def test_accuracy_and_tensors(X, y):
    holds(lambda: train.as_tensors(X, y), X)
    holds(lambda: train.accuracy(models.wine_mlp(), X, y), X)


@given(X=FEATURES, y=LABELS, epochs=counts(1, 2), batch_size=counts(1, 9),
       lr=st.one_of(st.floats(1e-4, 0.1), BAD_SCALARS))
def test_train_and_fit(X, y, epochs, batch_size, lr):
    holds(lambda: train.train(models.wine_mlp(), X, y, epochs=epochs, batch_size=batch_size,
                              lr=lr, progress=False), X)
    holds(lambda: train.fit_full_batch(models.wine_mlp(), X, y, max_iter=3), X)


@given(X=matrices(), Y=matrices(), epochs=counts(1, 2))
def test_distill(X, Y, epochs):
    layer = nn.Linear(3, 2, dtype=torch.float64)
    holds(lambda: train.distill(layer, X, Y, epochs=epochs, progress=False), X, Y)


@pytest.fixture(scope="module")
def private_data(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STRUCTLAB_DATA", str(tmp_path_factory.mktemp("data")))
        yield


@given(name=st.one_of(st.sampled_from(["../escape", "/tmp/x", "a/b", "", "ok-name"]), BAD_SCALARS))
def test_cache_names(name, private_data):
    holds(lambda: train.cached(name, {"k": 1}, lambda: {"v": torch.zeros(1)}))


def _inputs(draw_shape):
    return st.one_of(st.builds(lambda a: torch.as_tensor(a), real_arrays(max_dims=3, max_side=6)),
                     st.builds(lambda a: torch.as_tensor(a, dtype=torch.float32),
                               real_arrays(max_side=6)), matrices())


@given(x=_inputs(None))
@example(x=torch.ones(1, 5, dtype=torch.float64))
@example(x=torch.ones(1, 3, dtype=torch.float32))
def test_structured_layers_check_their_input(x):
    rng = np.random.default_rng(0)
    product = layers.SparseProductLinear.from_product(
        SparseProduct([rng.standard_normal((2, 3)), rng.standard_normal((3, 3))]))
    lowrank = layers.LowRankLinear.from_factors(rng.standard_normal((2, 1)),
                                                rng.standard_normal((1, 3)))
    from structlab.approx.sss import sss_approximate

    sss = layers.SSSLinear.from_sss(sss_approximate(rng.standard_normal((4, 3)), nparams=12))
    for layer in (product, lowrank, sss):
        holds(lambda: layer(x), x)


@given(W=matrices(), b=st.one_of(st.none(), vectors()), rank=counts(0, 6))
def test_layer_constructors(W, b, rank):
    holds(lambda: layers.LowRankLinear.from_factors(W, W, b))
    holds(lambda: layers.LowRankLinear.from_linear(nn.Linear(4, 3), rank))
    holds(lambda: layers.LowRankLinear(4, 3, rank))


@given(n_hidden=counts(1, 12), seed=st.one_of(st.integers(0, 3), BAD_SCALARS),
       width_list=st.one_of(st.lists(counts(1, 8), min_size=0, max_size=5), BAD_SCALARS))
@example(n_hidden=10**18, seed=0, width_list=[])
def test_models(n_hidden, seed, width_list):
    holds(lambda: models.wine_mlp(n_hidden=n_hidden, seed=seed))
    holds(lambda: models.evolving_cnn(width_list, seed=0))
    holds(lambda: models.evolving_resnet(width_list, seed=0))


@given(name=st.one_of(st.sampled_from(["hidden", "output", "nope", "0", ""]), BAD_SCALARS),
       rank=counts(0, 12), share=shares(), n_factors=st.one_of(counts(1, 4), st.just(10**6)),
       k=counts(0, 6))
@example(name="hidden", rank=1, share=0.5, n_factors=10**6, k=1)
def test_compress_a_wine_mlp(name, rank, share, n_factors, k):
    model = models.wine_mlp()
    holds(lambda: compress.with_lowrank(model, name, rank))
    holds(lambda: compress.with_sparse_product(model, name, n_factors, k, n_iter=2))
    holds(lambda: compress.prune(model, sparsity={name: 0.5} if isinstance(name, str) else name))
    holds(lambda: compress.quantize(model, {name: 2} if isinstance(name, str) else name))
    holds(lambda: compress.compress(model, "lowrank", share, timing=False))


@given(first=st.tuples(st.integers(1, 8), st.integers(1, 8)),
       second=st.tuples(st.integers(1, 16), st.integers(1, 8)), k=counts(0, 9))
@example(first=(4, 6), second=(12, 3), k=2)
def test_shrink_and_grow_layers(first, second, k):
    def build(shape):
        return nn.Linear(*shape)

    pair = holds(lambda: (build(first), build(second)))
    if pair is None:
        return

    def chains(result):
        layer, next_layer = result[:2]
        assert next_layer.in_features == layer.out_features

    holds(lambda: widths.shrink_layers(*pair, k), check=chains)
    holds(lambda: widths.grow_layers(*pair, k), check=chains)


@given(keep=st.one_of(st.floats(0.3, 1.0), BAD_SCALARS), grow=st.one_of(st.floats(0.05, 1.0),
                                                                        BAD_SCALARS))
def test_width_policy(keep, grow):
    policy = holds(lambda: widths.WidthPolicy(keep_energy=keep, grow_ratio=grow))
    if policy is not None:
        holds(lambda: policy.target(np.random.default_rng(0).standard_normal((6, 4)), None))


@pytest.mark.parametrize("method", ["lowrank", "pruning", "sss", "sparse product", "codebook",
                                    "nope", None])
def test_compress_methods(method):
    holds(lambda: compress.compress(models.wine_mlp(), method, 0.5, timing=False))
