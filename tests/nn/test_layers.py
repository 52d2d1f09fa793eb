import numpy as np
import pytest
import torch
from torch import nn

from structlab.nn.layers import LowRankLinear, as_module, count_parameters


@pytest.fixture
def linear():
    torch.manual_seed(0)
    return nn.Linear(13, 10).double()


def test_full_rank_reproduces_the_layer(linear):
    x = torch.randn(7, 13, dtype=torch.float64)
    layer = LowRankLinear.from_linear(linear, rank=10)
    torch.testing.assert_close(layer(x), linear(x))


def test_rank_r_layer_is_two_real_linear_maps(linear):
    layer = LowRankLinear.from_linear(linear, rank=2)
    assert isinstance(layer.project, nn.Linear) and isinstance(layer.expand, nn.Linear)
    assert layer.project.weight.shape == (2, 13) and layer.project.bias.shape == (2,)
    assert layer.expand.weight.shape == (10, 2) and layer.expand.bias is None
    assert layer.nparams == count_parameters(layer) == 2 * (13 + 10 + 1) == 48


def test_rank_r_layer_is_the_best_rank_r_approximation(linear):
    W_aug = torch.cat([linear.weight, linear.bias[:, None]], dim=1).detach().numpy()
    s = np.linalg.svd(W_aug, compute_uv=False)
    layer = LowRankLinear.from_linear(linear, rank=3)
    product = layer.expand.weight @ torch.cat([layer.project.weight, layer.project.bias[:, None]], 1)
    err = np.linalg.norm(W_aug - product.detach().numpy())
    np.testing.assert_allclose(err, np.sqrt(np.sum(s[3:] ** 2)), rtol=1e-10)


def test_budget_by_parameters_and_energy(linear):
    assert LowRankLinear.from_linear(linear, nparams=100).rank == 4
    assert LowRankLinear.from_linear(linear, energy=1.0).rank == 10


def test_layer_without_bias_and_dtype_follow_the_input():
    linear = nn.Linear(6, 4, bias=False)
    layer = LowRankLinear.from_linear(linear, rank=4)
    assert layer.project.bias is None and layer.project.weight.dtype == torch.float32
    x = torch.randn(3, 6)
    torch.testing.assert_close(layer(x), linear(x), rtol=1e-5, atol=1e-5)


def test_trains_by_backprop(linear):
    layer = LowRankLinear.from_linear(linear, rank=2)
    layer(torch.randn(4, 13, dtype=torch.float64)).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in layer.parameters())


def test_from_factors_validates():
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        LowRankLinear.from_factors(np.ones((4, 2)), np.ones((2, 3)), bias=np.ones(1))
    with pytest.raises(ValueError, match=r"V must have shape \(2, any\)"):
        LowRankLinear.from_factors(np.ones((4, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="U contains NaN"):
        LowRankLinear.from_factors(np.full((4, 2), np.nan), np.ones((2, 3)))


@pytest.mark.parametrize("rank", [0, 11])
def test_bad_rank(rank):
    with pytest.raises(ValueError, match="rank must be between 1 and 10"):
        LowRankLinear(13, 10, rank)


# ---------------------------------------------------------------- sparse products

def _random_product(rng, shapes, density=0.4):
    import scipy.sparse

    from structlab.structures import SparseProduct
    factors = [scipy.sparse.random_array(s, density=density, rng=rng).toarray() for s in shapes]
    return SparseProduct(factors, lam=1.7)


def test_sparse_product_linear_matches_the_structure_and_keeps_supports(rng):
    from structlab.nn.layers import SparseProductLinear

    product = _random_product(rng, [(6, 4), (4, 4), (4, 9)])
    bias = rng.standard_normal(6)
    layer = SparseProductLinear.from_product(product, bias)
    X = rng.standard_normal((5, 9))
    out = layer(torch.as_tensor(X))
    np.testing.assert_allclose(out.detach().numpy(), X @ product.toarray().T + bias)
    assert layer.nparams == product.nparams + 6
    assert (layer.in_features, layer.out_features) == (9, 6)
    out.square().sum().backward()  # gradients reach every stored value, and only those
    assert all(F.values.grad is not None and F.values.grad.shape == F.values.shape
               for F in layer.factors)
    np.testing.assert_allclose(layer.to_structure().toarray(), product.toarray())


def test_patches_then_filter_matrix_is_conv2d(rng):
    """T(R(X) F) equals conv2d for stride 1 and 'same' padding."""
    from structlab.nn.layers import filter_matrix, patches, unpatch

    conv = nn.Conv2d(3, 4, kernel_size=3, padding=1, dtype=torch.float64)
    X = torch.as_tensor(rng.standard_normal((2, 3, 7, 6)))
    Z = unpatch(patches(X, 3, padding=1) @ filter_matrix(conv), 7, 6) + conv.bias[:, None, None]
    torch.testing.assert_close(Z, conv(X))
    assert filter_matrix(conv).shape == (27, 4)


@pytest.mark.parametrize("stride, padding", [(1, 2), (2, 0)])
def test_sparse_product_conv_matches_conv2d(rng, stride, padding):
    from structlab.nn.layers import SparseProductConv2d

    product = _random_product(rng, [(5, 8), (8, 50)])
    conv = nn.Conv2d(2, 5, kernel_size=5, stride=stride, padding=padding, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.as_tensor(product.toarray()).reshape(5, 2, 5, 5))
    layer = SparseProductConv2d.from_conv(conv, product)
    X = torch.as_tensor(rng.standard_normal((3, 2, 11, 9)))
    torch.testing.assert_close(layer(X), conv(X))
    assert layer.nparams == product.nparams + 5
    with pytest.raises(ValueError, match=r"must have the shape of the filters \(K, C\*h\*w\) = \(5, 50\)"):
        SparseProductConv2d.from_conv(conv, _random_product(rng, [(5, 49)]))


# ---------------------------------------------------------------- SSS

@pytest.mark.parametrize("rows, cols", [([3, 0, 5, 4], [2, 6, 0, 3]), ([4], [7]), ([2, 3, 1], [3, 3, 3])])
def test_sss_linear_matches_the_structure(rng, random_sss, rows, cols):
    from structlab.nn.layers import SSSLinear

    K = len(rows)
    S = random_sss(rows, cols, rng.integers(0, 3, K - 1), rng.integers(0, 3, K - 1))
    bias = rng.standard_normal(sum(rows))
    layer = SSSLinear.from_sss(S, bias)
    X = rng.standard_normal((5, sum(cols)))
    out = layer(torch.as_tensor(X))
    np.testing.assert_allclose(out.detach().numpy(), X @ S.toarray().T + bias, atol=1e-12)
    assert layer.nparams == S.nparams + sum(rows)
    out.square().sum().backward()
    assert all(p.grad is not None for p in layer.parameters() if p.numel())
    np.testing.assert_allclose(layer.to_structure().toarray(), S.toarray())
    np.testing.assert_allclose(as_module(S)(torch.as_tensor(X)).detach().numpy(), X @ S.toarray().T)


def test_sss_linear_trains_towards_a_target(rng):
    from structlab.approx.sss import sss_approximate
    from structlab.nn.layers import SSSLinear

    target = rng.standard_normal((20, 16))
    start = target + 2 * rng.standard_normal(target.shape)  # a poor start: backprop must fix it
    layer = SSSLinear.from_sss(sss_approximate(start, nparams=200))
    X = torch.as_tensor(rng.standard_normal((256, 16)))
    Y = X @ torch.as_tensor(target).T
    optimizer = torch.optim.Adam(layer.parameters(), lr=1e-2)
    losses = []
    for _ in range(100):
        optimizer.zero_grad()
        loss = (layer(X) - Y).square().mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    assert layer.to_structure().nparams == layer.nparams  # no bias: the structure is all of it


def test_distill_moves_a_layer_towards_the_teacher(rng):
    from structlab.nn.train import distill

    teacher = rng.standard_normal((5, 8))
    X = rng.standard_normal((200, 8))
    student = nn.Linear(8, 5, bias=False, dtype=torch.float64)
    losses = distill(student, X, X @ teacher.T, epochs=30, lr=5e-2, batch_size=50, progress=False)
    assert len(losses) == 30 and losses[-1] < 0.05 * losses[0]


def test_sparse_product_conv_refuses_other_padding_modes(rng):
    from structlab.nn.layers import SparseProductConv2d

    conv = nn.Conv2d(2, 5, 3, padding=1, padding_mode="circular")
    with pytest.raises(ValueError, match="padding_mode='zeros' \\(got 'circular'\\)"):
        SparseProductConv2d.from_conv(conv, _random_product(rng, [(5, 18)]))
