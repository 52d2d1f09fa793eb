"""The structured torch layers on the C kernels: same numbers as the structure, both paths, compact."""

import io

import numpy as np
import pytest
import torch

from structlab import kernels
from structlab.approx.budget import METHODS, approximate, hadamard_butterflies
from structlab.nn.layers import CodebookLinear, SparseLinear, as_module
from structlab.nn.ops import kernels_take, torch_path
from structlab.structures import SparseProduct

NATIVE = pytest.mark.skipif(not kernels.native_available(), reason=str(kernels.FALLBACK_REASON))


def _weight(m, n, rank, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, rank)) @ rng.standard_normal((rank, n)) + 0.1 * rng.standard_normal((m, n))


@pytest.fixture(scope="module")
def structures():
    """Every structure of a small float64 layer (the numerics), plus butterflies."""
    found = {method: approximate(_weight(40, 56, 24), method, 0.2, seed=0) for method in METHODS}
    found["butterflies"] = hadamard_butterflies(32)
    return found


def _float32(S):
    """A sparse product in float32, so that its bytes compare with a float32 layer's."""
    return SparseProduct([F.astype(np.float32) for F in S.factors], S.lam)


@pytest.fixture(scope="module")
def large_structures():
    """A float32 layer large enough that per-row and per-stage bookkeeping is small (the bytes)."""
    W = _weight(256, 512, 64).astype(np.float32)
    found = {method: approximate(W, method, 0.1, seed=0, n_iter=3) for method in METHODS}
    found["sparse product"] = _float32(found["sparse product"])
    found["butterflies"] = _float32(hadamard_butterflies(256))
    return found


def _paths(native):
    if native and not kernels.native_available():
        pytest.skip(str(kernels.FALLBACK_REASON))
    return torch_path() if not native else torch.enable_grad()


@pytest.mark.parametrize("native", [True, False], ids=["C", "torch"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("method", [*METHODS, "butterflies"])
def test_forward_and_backward_match_the_dense_product(structures, method, dtype, native):
    """Output, input gradient and parameter gradients against the same layer through dense torch."""
    S = structures[method]
    layer = as_module(S).to(dtype)
    W = S.toarray()
    if method in ("codebook", "pruned codebook"):  # the layer's table is float32, rounded once
        W = W.astype(np.float32)
    W = torch.as_tensor(W, dtype=dtype)
    tolerance = dict(rtol=1e-4, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-9, atol=1e-9)
    rng = np.random.default_rng(1)
    for shape in [(1, S.shape[1]), (3, S.shape[1]), (70, S.shape[1]), (2, 5, S.shape[1])]:
        for contiguous in (True, False):
            raw = torch.as_tensor(rng.standard_normal((*shape[:-1], 2 * shape[-1])), dtype=dtype)
            x = (raw[..., ::2] if not contiguous else raw[..., :shape[-1]].contiguous())
            x = x.clone() if contiguous else x
            x.requires_grad_(True)
            grad_out = torch.as_tensor(rng.standard_normal((*shape[:-1], S.shape[0])), dtype=dtype)
            layer.zero_grad()
            with _paths(native):
                y = layer(x)
                (y * grad_out).sum().backward()
            torch.testing.assert_close(y.detach(), x.detach() @ W.T, **tolerance)
            torch.testing.assert_close(x.grad, grad_out @ W, **tolerance)
            # parameter gradients: the torch path differentiated by autograd is the reference
            reference = as_module(S).to(dtype)
            with torch_path():
                (reference(x.detach()) * grad_out).sum().backward()
            for (name, p), q in zip(layer.named_parameters(), reference.parameters()):
                torch.testing.assert_close(p.grad, q.grad, **tolerance, msg=name)


@NATIVE
def test_the_c_path_is_taken_on_cpu_floats_only():
    assert kernels_take(torch.ones(2, 3)) and kernels_take(torch.ones(2, 3, dtype=torch.float64))
    assert not kernels_take(torch.ones(2, 3, dtype=torch.float16))
    assert not kernels_take(torch.ones(2, 3, device="meta"))
    with torch_path():
        assert not kernels_take(torch.ones(2, 3))
    assert kernels_take(torch.ones(2, 3))  # the block restored it


@pytest.mark.parametrize("method", [*METHODS, "butterflies"])
def test_bad_inputs_are_clear_errors(structures, method):
    layer = as_module(structures[method]).float()
    n = structures[method].shape[1]
    with pytest.raises(ValueError, match=f"must have {n} features on its last axis, got shape"):
        layer(torch.ones(2, n + 1))
    with pytest.raises(TypeError, match="the input is torch.float64 but the layer computes in "
                                        "torch.float32"):
        layer(torch.ones(2, n, dtype=torch.float64))
    with pytest.raises(TypeError, match="the input must be a torch.Tensor, got ndarray"):
        layer(np.ones((2, n), np.float32))
    if not isinstance(layer, torch.nn.Sequential) and hasattr(layer, "device"):
        with pytest.raises(ValueError, match="the input is on meta but the layer is on cpu"):
            layer(torch.ones(2, n, device="meta"))


def _tensor_bytes(state):
    return sum(t.numel() * t.element_size() for t in state.values())


# The state_dict's bytes against the structure's own count. A pruned codebook's positions are
# 8-bit gaps where Deep Compression's count (nbytes) packs them in 5 bits: 12 bits an entry
# against 9, so its bound is 4/3 (the 10 % is not met there; see the layer's docstring).
BYTES_BOUND = {"pruned codebook": 1.34}


@pytest.mark.parametrize("method", [*METHODS, "butterflies"])
def test_state_dict_holds_the_compressed_numbers_only(large_structures, method):
    """Parameters are the stored numbers, the saved tensors within 10 % of the structure's bytes."""
    S = large_structures[method]
    layer = as_module(S).float()
    params = sum(p.numel() for p in layer.parameters())
    if method in ("codebook", "pruned codebook"):
        assert params == len(S.centroids)  # the indices are buffers, packed
    else:
        assert params == S.nparams
    stored = _tensor_bytes(layer.state_dict())
    assert 0.9 * S.nbytes <= stored <= BYTES_BOUND.get(method, 1.1) * S.nbytes, (stored, S.nbytes)
    assert stored < 0.25 * 4 * S.shape[0] * S.shape[1]  # far below the dense float32 weight


@pytest.mark.parametrize("method", [*METHODS, "butterflies"])
def test_state_dict_round_trips_through_torch_save(structures, method):
    S = structures[method]
    trained = as_module(S).float()
    with torch.no_grad():
        for p in trained.parameters():
            p.mul_(1.5)
    buffer = io.BytesIO()
    torch.save(trained.state_dict(), buffer)
    fresh = as_module(S).float()
    fresh.load_state_dict(torch.load(io.BytesIO(buffer.getvalue())))
    x = torch.randn(4, S.shape[1])
    with torch.no_grad():
        torch.testing.assert_close(fresh(x), trained(x))
        assert not torch.allclose(fresh(x), as_module(S).float()(x))


def test_training_moves_values_and_never_positions(structures):
    S = structures["pruning"]
    layer = as_module(S).float()
    positions = [b.clone() for b in layer.buffers()]
    optimizer = torch.optim.SGD(layer.parameters(), lr=1e-3)
    x = torch.randn(16, S.shape[1])
    for _ in range(3):
        optimizer.zero_grad()
        layer(x).square().sum().backward()
        optimizer.step()
    assert all(torch.equal(a, b) for a, b in zip(positions, layer.buffers()))
    trained = layer.to_csr()
    assert not np.allclose(trained.data, S.csr.data)
    np.testing.assert_array_equal(trained.toarray() != 0, S.toarray() != 0)
    with torch.no_grad():
        expected = x.numpy() @ trained.toarray().T
        np.testing.assert_allclose(layer(x).numpy(), expected, atol=1e-5 * np.abs(expected).max())


def test_positions_take_the_narrowest_gaps():
    import scipy.sparse

    near = SparseLinear.from_csr(scipy.sparse.csr_array(np.tril(np.ones((300, 300)))))
    far = SparseLinear.from_csr(scipy.sparse.csr_array(np.eye(300)))  # row 299 starts at 299
    assert near.gaps.dtype == torch.uint8 and far.gaps.dtype == torch.uint16
    assert near.indptr.dtype == torch.int32
    x = torch.arange(300.0, dtype=torch.float64)[None]
    with torch.no_grad():
        assert far(x).flatten().tolist() == x.flatten().tolist()
        assert near(x).flatten().tolist() == x.cumsum(1).flatten().tolist()


def test_codebook_gradient_is_the_sum_over_each_centroids_entries(structures):
    """Deep Compression's rule: dL/dc_k = sum of dL/dW_ij over the entries with index k."""
    S = structures["pruned codebook"]
    layer = CodebookLinear.from_codebook(S, np.float64)
    x = torch.randn(5, S.shape[1], dtype=torch.float64)
    g = torch.randn(5, S.shape[0], dtype=torch.float64)
    (layer(x) * g).sum().backward()
    entry_grads = (g.T @ x).numpy()
    expected = np.bincount(S.index[S.mask], weights=entry_grads[S.mask], minlength=len(S.centroids))
    np.testing.assert_allclose(layer.centroids.grad.numpy(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("method, name", [("pruning", "gaps"), ("pruned codebook", "gaps"),
                                          ("codebook", "row_bytes"), ("sss", "desc")])
def test_a_layout_the_kernel_cannot_follow_is_refused_and_nothing_changes(structures, method,
                                                                          name):
    """From a file or by assignment, positions out of bounds are a ValueError, never a crash."""
    layer = as_module(structures[method]).float()
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    state = layer.state_dict()
    bad = state[name].clone()
    bad[-1] = torch.iinfo(bad.dtype).max if bad.dtype != torch.int64 else 10**9
    state[name] = bad
    with pytest.raises(ValueError, match="layout of a .* matrix"):
        layer.load_state_dict(state)
    assert all(torch.equal(before[k], v) for k, v in layer.state_dict().items())
    with pytest.raises(ValueError, match="layout of a .* matrix"):
        setattr(layer, name, bad)
    assert torch.equal(getattr(layer, name), before[name])
    x = torch.randn(2, structures[method].shape[1])
    with torch.no_grad():
        layer(x)  # still computes, from the layout it kept


def test_a_state_dict_of_another_layout_is_refused_before_anything_is_copied():
    """Shapes that fit in part would leave a half-loaded layout: refused whole, nothing copied."""
    import scipy.sparse

    layer = SparseLinear.from_csr(scipy.sparse.csr_array(np.eye(4)))
    other = SparseLinear.from_csr(scipy.sparse.csr_array(np.ones((4, 4))))
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    with pytest.raises(ValueError, match=r"must be a torch\.\w+ tensor of shape \(4,\) like the "
                                         r"layer's, got torch\.\w+ \(16,\)"):
        layer.load_state_dict(other.state_dict())
    assert all(torch.equal(before[k], v) for k, v in layer.state_dict().items())


def test_index_buffers_of_the_wrong_type_or_size_are_refused(structures):
    codebook = as_module(structures["codebook"]).float()
    with pytest.raises(ValueError, match="row_bytes must hold int32, got int16"):
        codebook.row_bytes = codebook.row_bytes.to(torch.int16)
    sss = as_module(structures["sss"]).float()
    with pytest.raises(ValueError, match="desc must hold int64, got int32"):
        sss.desc = sss.desc.int()
    state = sss.state_dict()
    state["desc"] = state["desc"].int()
    with pytest.raises(ValueError, match="desc must be a torch.int64 tensor"):
        sss.load_state_dict(state, assign=True)  # assigned tensors keep their dtype
    sparse = as_module(structures["pruning"]).float()
    with pytest.raises(ValueError, match="values must be a contiguous 1-D array"):
        sparse.values = torch.nn.Parameter(sparse.values.detach()[:, None].contiguous())
