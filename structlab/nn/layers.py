"""Structured layers that train by backprop and run at their real, smaller shapes."""

import numpy as np
import torch
from torch import nn

from structlab._validate import as_matrix, as_vector, check_int
from structlab.approx.svd import absorb_bias, lowrank_approximation


def check_input(x, in_features, dtype):
    """A layer's input: a tensor with ``in_features`` entries on its last axis, in ``dtype``."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"the input must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim < 1 or x.shape[-1] != in_features:
        raise ValueError(f"the input must have {in_features} features on its last axis, got "
                         f"shape {tuple(x.shape)}")
    if x.dtype != dtype:
        raise TypeError(f"the input is {x.dtype} but the layer computes in {dtype}: convert one "
                        f"(x.to({dtype}) or layer.to({x.dtype}))")
    return x


def count_parameters(module):
    """Number of scalars in ``module``'s parameters (trainable or not)."""
    return sum(p.numel() for p in module.parameters())


def stored_numbers(module):
    """Every number ``module`` keeps: parameters, buffers (persistent or not) and any
    tensor or array held as a plain attribute of it or of a submodule, each once.

    Examples
    --------
    >>> net = torch.nn.BatchNorm1d(4)  # 8 parameters, 8 running statistics, 1 counter
    >>> count_parameters(net), stored_numbers(net)
    (8, 17)
    >>> net.hidden_factor = np.ones((3, 5))  # not a parameter, still stored
    >>> stored_numbers(net)
    32
    """
    tensors = [*module.parameters(), *module.buffers()]
    tensors += [value for m in module.modules() for value in vars(m).values()
                if isinstance(value, (torch.Tensor, np.ndarray))]
    seen = {}
    for t in tensors:  # shared (tied) storage counts once
        key = (t.data_ptr(), t.numel()) if isinstance(t, torch.Tensor) else (id(t), t.size)
        seen[key] = t.numel() if isinstance(t, torch.Tensor) else t.size
    return sum(seen.values())


def layer_matrix(linear):
    """A linear layer as one float64 NumPy matrix: ``[W | b]`` with a bias, ``W`` without.

    Examples
    --------
    >>> layer_matrix(nn.Linear(13, 10)).shape
    (10, 14)
    """
    W = linear.weight.detach().cpu().double().numpy()
    if linear.bias is None:
        return W
    return absorb_bias(W, linear.bias.detach().cpu().double().numpy())


class LowRankLinear(nn.Module):
    """Rank-``r`` linear layer ``y = U (V x + c)``: two real linear maps.

    ``project`` is ``Linear(in_features, rank)`` holding ``V`` and the bias ``c``,
    ``expand`` is ``Linear(rank, out_features)`` holding ``U`` without a bias.
    The bias sits on the rank-``r`` side because that is where absorbing it into
    ``[W | b]`` puts it. It stores ``rank * (in + out + 1)`` numbers (``bias=True``)
    and never rebuilds a dense ``out x in`` weight.

    Examples
    --------
    >>> import torch
    >>> layer = LowRankLinear.from_linear(torch.nn.Linear(13, 10), rank=2)
    >>> layer.nparams, layer(torch.zeros(5, 13)).shape
    (48, torch.Size([5, 10]))
    """

    def __init__(self, in_features, out_features, rank, bias=True, dtype=None):
        super().__init__()
        check_int(rank, "rank", low=1, high=min(in_features + int(bias), out_features))
        self.project = nn.Linear(in_features, rank, bias=bias, dtype=dtype)
        self.expand = nn.Linear(rank, out_features, bias=False, dtype=dtype)

    @property
    def rank(self):
        return self.project.out_features

    @property
    def nparams(self):
        return count_parameters(self)

    def forward(self, x):
        check_input(x, self.project.in_features, self.project.weight.dtype)
        return self.expand(self.project(x))

    @classmethod
    def from_factors(cls, U, V, bias=None):
        """Layer computing ``U @ (V @ x + bias)``; ``bias`` of shape (r,) or None.

        The layer's dtype is the factors' (float64 factors give a float64 layer).
        """
        U = as_matrix(U, "U")
        V = as_matrix(V, "V", shape=(U.shape[1], None))
        if bias is not None:
            bias = as_vector(bias, "bias", size=V.shape[0])
        dtype = torch.from_numpy(np.empty(0, dtype=np.result_type(U, V))).dtype
        layer = cls(V.shape[1], U.shape[0], V.shape[0], bias=bias is not None, dtype=dtype)
        with torch.no_grad():
            layer.project.weight.copy_(torch.as_tensor(V))
            layer.expand.weight.copy_(torch.as_tensor(U))
            if bias is not None:
                layer.project.bias.copy_(torch.as_tensor(bias))
        return layer

    @classmethod
    def from_linear(cls, linear, rank=None, *, energy=None, nparams=None):
        """Compress a trained ``nn.Linear`` by truncated SVD of ``[W | b]``.

        The budget is one of ``rank``, ``energy`` or ``nparams`` as in
        :func:`structlab.approx.svd.lowrank_approximation`; ``nparams`` counts
        the augmented matrix's factors, which is exactly this layer's size.
        """
        S = lowrank_approximation(layer_matrix(linear), rank, energy=energy, nparams=nparams)
        if linear.bias is None:
            return cls.from_factors(S.U, S.V).to(linear.weight.dtype)
        return cls.from_factors(S.U, S.V[:, :-1], bias=S.V[:, -1]).to(linear.weight.dtype)


class WeightMask(nn.Module):
    """Parametrization ``W -> W * mask``: a pruned layer keeps its zeros while it trains.

    Registered on a layer's ``weight`` with :mod:`torch.nn.utils.parametrize`,
    so it works for ``nn.Linear`` and ``nn.Conv2d`` alike. The effective weight
    is exactly zero where ``mask`` is 0, and its gradient there is exactly zero
    too (the derivative of ``W * mask``), so retraining cannot revive a weight.
    """

    def __init__(self, mask):
        super().__init__()
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.bool))

    def forward(self, weight):
        return weight * self.mask


class SharedWeights(nn.Module):
    """Parametrization ``W -> centroids[index]`` (0 where pruned): trained weight sharing.

    Every weight of the layer reads one of ``k`` shared values. The centroids
    are the trainable parameters; because the forward pass gathers them,
    autograd makes each centroid's gradient the **sum of the gradients of its
    member weights**, which is the fine-tuning rule of Deep Compression.
    The layer's original weight is no longer used (its ``requires_grad`` is
    switched off by :func:`structlab.nn.compress.quantize`).
    """

    def __init__(self, centroids, index, mask):
        super().__init__()
        self.centroids = nn.Parameter(torch.as_tensor(centroids, dtype=torch.float32).clone())
        # copies: a structure's index arrays are read-only, and a buffer owns its memory
        self.register_buffer("index", torch.tensor(np.asarray(index), dtype=torch.int64))
        self.register_buffer("mask", torch.tensor(np.asarray(mask), dtype=torch.bool))

    def forward(self, weight):
        shared = self.centroids[self.index]
        return torch.where(self.mask, shared, torch.zeros((), dtype=shared.dtype))


class SparseProductLinear(nn.Module):
    """Linear layer ``y = S[0] @ ... @ S[J-1] @ x + b`` with fixed sparse supports.

    Each factor keeps the positions of its nonzeros as buffers and their values
    as a trainable parameter, so fine-tuning moves the values but never the
    support. The input goes through the factors right to left, one
    gather-multiply-scatter per factor (``index_add``), so a product costs one
    multiply-add per nonzero and the dense weight is never formed. The scale
    ``lam`` of a :class:`~structlab.structures.SparseProduct` is folded into the
    first factor.

    Examples
    --------
    >>> import numpy as np
    >>> from structlab.structures import SparseProduct
    >>> layer = SparseProductLinear.from_product(SparseProduct([np.eye(3), np.ones((3, 4))], lam=2.0))
    >>> layer.nparams, layer(torch.ones(1, 4, dtype=torch.float64)).tolist()
    (15, [[8.0, 8.0, 8.0]])
    """

    def __init__(self, factors, bias=None):
        super().__init__()
        self.shapes = [tuple(F.shape) for F in factors]
        self.values = nn.ParameterList()
        for j, F in enumerate(factors):
            F = F.tocoo()
            self.register_buffer(f"rows{j}", torch.as_tensor(F.row, dtype=torch.int64))
            self.register_buffer(f"cols{j}", torch.as_tensor(F.col, dtype=torch.int64))
            self.values.append(nn.Parameter(torch.as_tensor(F.data.copy())))
        self.bias = None if bias is None else nn.Parameter(torch.as_tensor(bias).clone())

    @classmethod
    def from_product(cls, product, bias=None):
        """Layer computing ``product @ x + bias`` (``bias`` of shape (m,) or None)."""
        factors = [F.copy() for F in product.factors]
        factors[0] = factors[0] * product.lam
        if bias is not None:
            bias = as_vector(bias, "bias", size=product.shape[0]).astype(product.dtype)
        return cls(factors, bias)

    @property
    def in_features(self):
        return self.shapes[-1][1]

    @property
    def out_features(self):
        return self.shapes[0][0]

    @property
    def nparams(self):
        return count_parameters(self)

    def forward(self, x):
        check_input(x, self.in_features, self.values[0].dtype)
        for j in reversed(range(len(self.shapes))):
            rows, cols = getattr(self, f"rows{j}"), getattr(self, f"cols{j}")
            out = x.new_zeros(*x.shape[:-1], self.shapes[j][0])
            x = out.index_add(-1, rows, x[..., cols] * self.values[j])
        return x if self.bias is None else x + self.bias

    def to_structure(self):
        """The current weight as a :class:`~structlab.structures.SparseProduct` (bias left out)."""
        import scipy.sparse

        from structlab.structures.sparse_product import SparseProduct

        factors = []
        for j, shape in enumerate(self.shapes):
            data = self.values[j].detach().cpu().numpy()
            rows, cols = getattr(self, f"rows{j}").cpu().numpy(), getattr(self, f"cols{j}").cpu().numpy()
            factors.append(scipy.sparse.csr_array((data, (rows, cols)), shape=shape))
        return SparseProduct(factors)


def filter_matrix(conv):
    """A convolution's weight as the filter matrix ``F`` of shape ``(C*h*w, K)``.

    Column ``k`` is filter ``k`` flattened in the order (channel, row, column),
    the order in which :func:`patches` lays out each patch.
    """
    return conv.weight.detach().reshape(conv.out_channels, -1).T


def patches(x, kernel_size, padding=0, stride=1):
    """The reshape operator ``R_{h,w}``: every ``h x w`` patch of ``x`` as a row.

    Parameters
    ----------
    x : Tensor, shape (B, C, H, W)
    kernel_size, padding, stride : int or (int, int)
        As for ``nn.Conv2d``.

    Returns
    -------
    Tensor, shape (B, H_out * W_out, C * h * w)
        Row ``i * W_out + j`` is the patch whose top-left corner is output pixel
        ``(i, j)``, flattened channel first, as in :func:`filter_matrix`.

    Examples
    --------
    >>> patches(torch.zeros(2, 3, 5, 5), 3, padding=1).shape
    torch.Size([2, 25, 27])
    """
    return nn.functional.unfold(x, kernel_size, padding=padding, stride=stride).transpose(1, 2)


def unpatch(Z, height, width):
    """The reshape operator ``T_{H,W}``: rows of ``Z`` (B, H*W, K) back into an image (B, K, H, W)."""
    return Z.transpose(1, 2).reshape(Z.shape[0], Z.shape[2], height, width)


class SparseProductConv2d(nn.Module):
    """Convolution ``T(R(x) F)`` whose filter matrix ``F`` is a product of sparse factors.

    With ``R`` = :func:`patches` and ``T`` = :func:`unpatch`, a convolution is
    the matrix product of every patch with ``F`` (``C h w x K``). Here
    ``F.T`` (``K x C h w``, one filter per row) is a
    :class:`SparseProductLinear` applied to each patch, so the layer costs
    ``H_out W_out`` times the factors' nonzeros instead of ``H_out W_out C h w K``.

    Parameters
    ----------
    linear : SparseProductLinear
        Maps a flattened patch (``C h w``) to the ``K`` outputs (bias included).
    kernel_size, padding, stride : int or (int, int)
        As for ``nn.Conv2d``.
    """

    def __init__(self, linear, kernel_size, padding=0, stride=1):
        super().__init__()
        self.linear = linear
        self.kernel_size, self.padding, self.stride = (nn.modules.utils._pair(v) for v in
                                                       (kernel_size, padding, stride))

    @classmethod
    def from_conv(cls, conv, product):
        """Replace ``conv``'s ``K x C h w`` weight by ``product``; bias and geometry are kept."""
        want = (conv.out_channels, conv.weight[0].numel())
        if product.shape != want:
            raise ValueError(f"product must have the shape of the filters (K, C*h*w) = {want}, "
                             f"got {product.shape}")
        if (conv.groups != 1 or conv.dilation != (1, 1) or not isinstance(conv.padding, tuple)
                or conv.padding_mode != "zeros"):
            raise ValueError("conv must have groups=1, dilation=1, numeric padding and "
                             f"padding_mode='zeros' (got {conv.padding_mode!r}): patches are "
                             "zero-padded")
        bias = None if conv.bias is None else conv.bias.detach().cpu().numpy()
        linear = SparseProductLinear.from_product(product, bias).to(conv.weight.dtype)
        return cls(linear, conv.kernel_size, conv.padding, conv.stride)

    @property
    def nparams(self):
        return count_parameters(self)

    def forward(self, x):
        (kh, kw), (ph, pw), (sh, sw) = self.kernel_size, self.padding, self.stride
        height = (x.shape[-2] + 2 * ph - kh) // sh + 1
        width = (x.shape[-1] + 2 * pw - kw) // sw + 1
        rows = patches(x, self.kernel_size, self.padding, self.stride)
        return unpatch(self.linear(rows), height, width)


def _parameters(arrays, dtype):
    return nn.ParameterList([nn.Parameter(torch.as_tensor(np.array(a), dtype=dtype))
                             for a in arrays])


class SSSLinear(nn.Module):
    """Linear layer ``y = T x + b`` with ``T`` sequentially semiseparable, trained by backprop.

    Every generator of :class:`~structlab.structures.sss.SSS` is a parameter
    (the diagonal blocks, and ``B``, ``A``, ``C`` of the lower and upper
    systems); the forward pass runs the two state recursions over the stages,
    so the dense ``T`` is never formed and a batch costs ``nparams`` multiply-adds
    per row. Initialize it from an approximation with :meth:`from_sss`.

    Examples
    --------
    >>> import numpy as np
    >>> from structlab.approx.sss import sss_approximate
    >>> W = np.random.default_rng(0).standard_normal((12, 10))
    >>> layer = SSSLinear.from_sss(sss_approximate(W, nparams=100), bias=np.zeros(12))
    >>> layer(torch.ones(3, 10, dtype=torch.float64)).shape, layer.nparams <= 100 + 12
    (torch.Size([3, 12]), True)
    """

    def __init__(self, sss, bias=None, dtype=None):
        super().__init__()
        dtype = dtype or torch.from_numpy(np.empty(0, sss.dtype)).dtype
        self.row_sizes = [int(s) for s in sss.row_sizes]
        self.col_sizes = [int(s) for s in sss.col_sizes]
        self.D = _parameters(sss.D, dtype)
        for name, system in [("lower", sss.lower), ("upper", sss.upper)]:
            for part in "BAC":
                setattr(self, f"{name}_{part}", _parameters(getattr(system, part), dtype))
        self.bias = None if bias is None else nn.Parameter(torch.as_tensor(bias, dtype=dtype).clone())

    @classmethod
    def from_sss(cls, sss, bias=None):
        """Layer computing ``sss @ x + bias`` (``bias`` of shape (m,) or None)."""
        if bias is not None:
            bias = as_vector(bias, "bias", size=sss.shape[0])
        return cls(sss, bias)

    @property
    def nparams(self):
        return count_parameters(self)

    @staticmethod
    def _split(x, sizes):
        return list(torch.split(x, sizes, dim=-1))

    def _causal(self, name, inputs, n_out):
        """Block-lower part: the forward state recursion; returns per-stage outputs."""
        B, A, C = (getattr(self, f"{name}_{p}") for p in "BAC")
        outputs = [inputs[0].new_zeros(*inputs[0].shape[:-1], n_out[0])]
        state = None
        for k in range(len(B)):
            state = inputs[k] @ B[k].T + (state @ A[k].T if k else 0)
            outputs.append(state @ C[k].T)
        return outputs

    def _anticausal(self, name, inputs, n_out):
        """Transpose of a block-lower part: the backward state recursion."""
        B, A, C = (getattr(self, f"{name}_{p}") for p in "BAC")
        outputs = [None] * len(n_out)
        outputs[-1] = inputs[0].new_zeros(*inputs[0].shape[:-1], n_out[-1])
        state = None
        for k in range(len(B) - 1, -1, -1):
            read = inputs[k + 1] @ C[k]
            state = read if state is None else read + state @ A[k + 1]
            outputs[k] = state @ B[k]
        return outputs

    def forward(self, x):
        check_input(x, sum(self.col_sizes), self.D[0].dtype)
        parts = self._split(x, self.col_sizes)
        lower = self._causal("lower", parts, self.row_sizes)
        upper = self._anticausal("upper", parts, self.row_sizes)
        y = torch.cat([u @ D.T + lo + up for u, D, lo, up in zip(parts, self.D, lower, upper)],
                      dim=-1)
        return y if self.bias is None else y + self.bias

    def to_structure(self):
        """The current weight as an :class:`~structlab.structures.sss.SSS` (bias left out)."""
        from structlab.structures.sss import SSS, Causal

        def numpy(params):
            return [p.detach().cpu().numpy() for p in params]

        systems = [Causal(outs, ins, *(numpy(getattr(self, f"{name}_{p}")) for p in "BAC"))
                   for name, outs, ins in [("lower", self.row_sizes, self.col_sizes),
                                           ("upper", self.col_sizes, self.row_sizes)]]
        return SSS(self.row_sizes, self.col_sizes, numpy(self.D), *systems)
