"""Structured layers that train by backprop and run at their real, smaller shapes."""

import functools

import numpy as np
import scipy.sparse
import torch
from torch import nn

from structlab._validate import as_matrix, as_vector, check_int
from structlab.approx.svd import absorb_bias, lowrank_approximation
from structlab.nn import ops
from structlab.packing import (Packed, check_packed, pack_codebook, pack_csr, pack_sss,
                               sss_product, unpack_sss)
from structlab.structures import SSS, Codebook, LowRank, Sparse, SparseProduct


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


def _tensor(array):
    """A NumPy array as a tensor that owns a copy (structures' arrays are read-only)."""
    return torch.from_numpy(np.array(array))


def _numpy(t):
    return t.detach().cpu().numpy()


class _KernelLayer(nn.Module):
    """What every layer on the C kernels shares: the input check, scratch memory, the two paths.

    The C kernels trust the positions they follow, so a layer checks its
    layout (:func:`structlab.packing.check_packed`) whenever its tensors come
    from outside: when built, before ``load_state_dict`` copies anything in,
    and when a parameter or buffer is assigned. A layout that does not fit is
    a ValueError naming what is out of place, and the layer is left as it was.
    """

    def __init__(self):
        super().__init__()
        self.register_load_state_dict_pre_hook(self._check_incoming)

    def _tensors(self):
        return {**self._parameters, **self._buffers}

    def check_layout(self, tensors=None):
        """Raise ValueError unless ``tensors`` (default: the layer's own) make a layout the kernel can follow."""
        check_packed(self.layout({**self._tensors(), **(tensors or {})}))

    def _check_incoming(self, module, state_dict, prefix, local_metadata, *args):
        """Before ``load_state_dict`` copies anything: every tensor fits, and the layout they make.

        Torch copies each tensor whose shape matches and reports the others at
        the end, so a partly fitting file would leave a half-loaded layout:
        every shape is checked here first. Copies are cast to the layer's
        dtypes, so the layout is checked as it will be (assigned tensors keep
        their own dtype, so theirs must match).
        """
        assign = local_metadata.get("assign_to_params_buffers", False)
        incoming = {}
        for name, current in self._tensors().items():
            if current is None or prefix + name not in state_dict:
                continue
            new = state_dict[prefix + name]
            if new.shape != current.shape or (assign and new.dtype != current.dtype):
                raise ValueError(f"{prefix + name} must be a {current.dtype} tensor of shape "
                                 f"{tuple(current.shape)} like the layer's, got {new.dtype} "
                                 f"{tuple(new.shape)}: a layer's layout is fixed when it is built")
            incoming[name] = new if assign else new.to(current.dtype)
        self.check_layout(incoming)

    def __setattr__(self, name, value):
        if self.__dict__.get("_laid_out") and name in self._tensors():
            self.check_layout({name: value})
        super().__setattr__(name, value)

    def _laid_out_now(self):
        """End of ``__init__``: check the layout once; from now on, check every assignment."""
        self.check_layout()
        self.__dict__["_laid_out"] = True

    def _features(self, x, dtype):
        """``x`` checked, as a contiguous ``(batch, in_features)`` matrix, and its leading shape."""
        check_input(x, self.in_features, dtype)
        if x.device != self.device:
            raise ValueError(f"the input is on {x.device} but the layer is on {self.device}: move "
                             f"one (x.to('{self.device}') or layer.to('{x.device}'))")
        return ops.rows2d(x)

    def work(self, batch, dtype):
        """Scratch memory of the row kernels for ``batch`` inputs, made once per batch size."""
        cache = self.__dict__.setdefault("_work", {})  # not a buffer: never saved
        if (batch, dtype) not in cache:
            cache[(batch, dtype)] = ops.sparse_work(self.in_features, batch, dtype)
        return cache[(batch, dtype)]

    @property
    def nparams(self):
        return count_parameters(self)


class _RowsLayer(_KernelLayer):
    """A layer on the row kernels (``csr_*``, ``codebook_*``): :meth:`kernel_args` describes ``W``."""

    def kernel_forward(self, X, numbers):
        Y = X.new_empty(len(X), self.out_features)
        args, _alive = self.kernel_args(numbers)
        ops.run(f"{self.kernel}_apply", X.dtype, *args, ops.pointer(X), len(X), ops.pointer(Y),
                ops.pointer(self.work(len(X), X.dtype)))
        return Y

    def kernel_backward(self, X, dY, numbers, input_grad, numbers_grad):
        """``dX = dY @ W`` by the transposed kernel, the numbers' gradient by the ``_grad`` one."""
        args, _alive = self.kernel_args(numbers)
        work = ops.pointer(self.work(len(X), X.dtype))
        dX = dnumbers = None
        if input_grad:
            dX = X.new_empty(X.shape)
            ops.run(f"{self.kernel}_apply_t", X.dtype, *args, ops.pointer(dY), len(X),
                    ops.pointer(dX), work)
        if numbers_grad:
            grad = self.gradient_buffer(numbers)
            ops.run(f"{self.kernel}_grad", X.dtype, *args, ops.pointer(dY), ops.pointer(X),
                    len(X), ops.pointer(grad), work)
            dnumbers = grad[:len(numbers)]
        return dX, dnumbers


def _positions(indptr, gaps):
    """Row and column (int64 tensors) of every stored entry, decoded from the narrow buffers."""
    counts = torch.diff(indptr.long())
    steps = torch.cumsum(gaps.long() + 1, 0)
    before = torch.cat([steps.new_zeros(1), steps])[indptr[:-1].long()]
    rows = torch.repeat_interleave(torch.arange(len(counts), device=gaps.device), counts)
    return rows, steps - torch.repeat_interleave(before, counts) - 1


class SparseLinear(_RowsLayer):
    """Pruned linear layer ``y = W x``: the kept weights and their positions, nothing else.

    ``values`` (the kept weights, row by row) is the only parameter; where
    they sit is two buffers at the C kernels' encoding: ``indptr`` (int32 row
    pointers) and ``gaps`` (uint8 relative column positions, uint16 where a
    gap needs it; :func:`structlab.packing.relative_positions`). On the CPU
    the forward and backward passes are the C kernels; elsewhere (or in
    :func:`structlab.nn.ops.torch_path`) gathers and ``index_add``. Training
    moves the values and never the positions.

    Examples
    --------
    >>> import scipy.sparse
    >>> layer = SparseLinear.from_csr(scipy.sparse.csr_array([[0.0, 2.0], [3.0, 0.0]]))
    >>> layer.nparams, layer(torch.tensor([[1.0, 10.0]], dtype=torch.float64)).tolist()
    (2, [[20.0, 3.0]])
    """

    kernel = "csr"

    def __init__(self, shape, indptr, gaps, values):
        super().__init__()
        self.out_features, self.in_features = (int(s) for s in shape)
        self.register_buffer("indptr", _tensor(indptr))
        self.register_buffer("gaps", _tensor(gaps))
        self.values = nn.Parameter(_tensor(values))
        self._laid_out_now()

    def layout(self, t):
        """The :class:`~structlab.packing.Packed` CSR layout that tensors ``t`` (by name) describe."""
        return Packed("csr", (self.out_features, self.in_features),
                      {name: _numpy(t[name]) for name in ("indptr", "gaps", "values")},
                      {"gap_bytes": t["gaps"].element_size()})

    @classmethod
    def from_csr(cls, matrix):
        """The layer of a SciPy sparse matrix (its stored entries, explicit zeros included)."""
        packed = pack_csr(matrix, matrix.dtype)
        return cls(packed.shape, *(packed.arrays[k] for k in ("indptr", "gaps", "values")))

    @property
    def device(self):
        return self.values.device

    def kernel_args(self, values):
        """The C kernel's arguments that describe the matrix, and the tensors they point into."""
        buffers = self._buffers  # not self.indptr: nn.Module's attribute lookup costs microseconds
        gaps = buffers["gaps"]
        args = [ops.pointer(buffers["indptr"]), ops.pointer(gaps), gaps.element_size(),
                ops.pointer(values), self.out_features, self.in_features]
        return args, (values,)

    def gradient_buffer(self, values):
        """Where the kernel writes the values' gradient (every entry is written)."""
        return torch.empty_like(values)

    def forward(self, x):
        X, lead = self._features(x, self.values.dtype)
        if ops.kernels_take(X):
            y = ops.product(X, self.values, self)
        else:
            rows, cols = _positions(self.indptr, self.gaps)
            y = X.new_zeros(len(X), self.out_features).index_add(1, rows, X[:, cols] * self.values)
        return y.reshape(*lead, self.out_features)

    def to_csr(self):
        """The current weight as a SciPy CSR array."""
        rows, cols = (t.cpu().numpy() for t in _positions(self.indptr, self.gaps))
        return scipy.sparse.csr_array((self.values.detach().cpu().numpy(), (rows, cols)),
                                      shape=(self.out_features, self.in_features))


class CodebookLinear(_RowsLayer):
    """Weight-shared linear layer: every stored weight is ``centroids[k]`` for a packed index ``k``.

    ``centroids`` is the only parameter; the indices stay packed ``bits`` to an
    entry (``packed``, uint8, each row from the byte ``row_bytes[i]``, int32),
    and a pruned layer's positions are ``indptr`` and ``gaps`` as in
    :class:`SparseLinear` (empty for a dense one). Backpropagation gives each
    centroid the sum of its entries' gradients (Deep Compression's
    fine-tuning rule), by the C kernel on the CPU.

    Examples
    --------
    >>> from structlab.structures import Codebook
    >>> layer = CodebookLinear.from_codebook(Codebook([-1.0, 2.0], [[0, 1], [1, 1]]))
    >>> layer.nparams, layer(torch.ones(1, 2)).tolist()
    (2, [[1.0, 4.0]])
    """

    kernel = "codebook"

    def __init__(self, shape, bits, centroids, packed, row_bytes, indptr=None, gaps=None):
        super().__init__()
        self.out_features, self.in_features = (int(s) for s in shape)
        self.bits = int(bits)
        self.centroids = nn.Parameter(_tensor(centroids))
        self.register_buffer("packed", _tensor(packed))
        self.register_buffer("row_bytes", _tensor(row_bytes))
        self.register_buffer("indptr", _tensor(np.zeros(0, np.int32) if indptr is None else indptr))
        self.register_buffer("gaps", _tensor(np.zeros(0, np.uint8) if gaps is None else gaps))
        self._laid_out_now()

    def layout(self, t):
        """The :class:`~structlab.packing.Packed` codebook layout that tensors ``t`` (by name) describe."""
        pruned = len(t["indptr"]) > 0
        arrays = {"packed": _numpy(t["packed"]), "row_bytes": _numpy(t["row_bytes"]),
                  "table": _numpy(self._table(t["centroids"].detach()))}
        if pruned:
            arrays.update(indptr=_numpy(t["indptr"]), gaps=_numpy(t["gaps"]))
        return Packed("codebook", (self.out_features, self.in_features), arrays,
                      {"bits": self.bits, "sparse": int(pruned),
                       "gap_bytes": t["gaps"].element_size() if pruned else 0})

    @classmethod
    def from_codebook(cls, S, dtype=np.float32):
        """The layer of a :class:`~structlab.structures.Codebook` (float32 centroids by default)."""
        a = pack_codebook(S, dtype).arrays
        return cls(S.shape, S.bits, np.asarray(S.centroids, dtype), a["packed"], a["row_bytes"],
                   a.get("indptr"), a.get("gaps"))

    @property
    def device(self):
        return self.centroids.device

    @property
    def pruned(self):
        return len(self.indptr) > 0

    def _table(self, centroids):
        """The centroids zero-padded to the 32 values (at least) the kernel may read."""
        table = centroids.new_zeros(max(32, 1 << self.bits))
        table[:len(centroids)] = centroids
        return table

    def kernel_args(self, centroids):
        """The C kernel's arguments that describe the matrix, and the tensors they point into."""
        b, table = self._buffers, self._table(centroids)
        positions = ([ops.pointer(b["indptr"]), ops.pointer(b["gaps"])] if self.pruned
                     else [ops.null()] * 2)
        args = [ops.pointer(b["packed"]), ops.pointer(b["row_bytes"]), self.bits,
                ops.pointer(table), *positions, b["gaps"].element_size() if self.pruned else 0,
                self.out_features, self.in_features]
        return args, (table,)

    def gradient_buffer(self, centroids):
        """Where the kernel adds each entry's gradient: zeros, as long as the padded table."""
        return self._table(torch.zeros_like(centroids))

    def indices(self):
        """Row, column and centroid index (int64 tensors) of every stored entry."""
        m, n = self.out_features, self.in_features
        if self.pruned:
            rows, cols = _positions(self.indptr, self.gaps)
        else:
            rows = torch.arange(m, device=self.device).repeat_interleave(n)
            cols = torch.arange(n, device=self.device).repeat(m)
        counts = torch.bincount(rows, minlength=m)
        within = torch.arange(len(rows), device=self.device) - torch.repeat_interleave(
            torch.cumsum(counts, 0) - counts, counts)
        first = self.row_bytes[:-1].long()[rows] * 8 + within * self.bits
        bit_list = (self.packed.long()[:, None] >> torch.arange(8, device=self.device)) & 1
        bit_list = bit_list.reshape(-1)
        index = sum(bit_list[first + t] << t for t in range(self.bits))
        return rows, cols, index

    def forward(self, x):
        X, lead = self._features(x, self.centroids.dtype)
        if ops.kernels_take(X):
            y = ops.product(X, self.centroids, self)
        else:
            rows, cols, index = self.indices()
            y = X.new_zeros(len(X), self.out_features).index_add(
                1, rows, X[:, cols] * self.centroids[index])
        return y.reshape(*lead, self.out_features)


class SparseProductLinear(nn.Module):
    """Linear layer ``y = S[0] @ ... @ S[J-1] @ x + b`` with fixed sparse supports.

    Each factor is a :class:`SparseLinear` (its values trainable, its
    positions narrow buffers), so fine-tuning moves the values but never the
    support, and the input goes through the factors right to left on the C
    kernels, one multiply-add per nonzero; the dense weight is never formed.
    The scale ``lam`` of a :class:`~structlab.structures.SparseProduct` is
    folded into the first factor applied.

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
        self.factors = nn.ModuleList(SparseLinear.from_csr(F) for F in factors)
        self.bias = None if bias is None else nn.Parameter(torch.as_tensor(bias).clone())

    @classmethod
    def from_product(cls, product, bias=None):
        """Layer computing ``product @ x + bias`` (``bias`` of shape (m,) or None)."""
        factors = [scipy.sparse.csr_array(F) for F in product.factors]
        factors[-1] = factors[-1] * product.lam
        if bias is not None:
            bias = as_vector(bias, "bias", size=product.shape[0]).astype(product.dtype)
        return cls(factors, bias)

    @property
    def shapes(self):
        return [(F.out_features, F.in_features) for F in self.factors]

    @property
    def in_features(self):
        return self.factors[-1].in_features

    @property
    def out_features(self):
        return self.factors[0].out_features

    @property
    def nparams(self):
        return count_parameters(self)

    def forward(self, x):
        check_input(x, self.in_features, self.factors[0].values.dtype)
        for factor in reversed(self.factors):
            x = factor(x)
        return x if self.bias is None else x + self.bias

    def to_structure(self):
        """The current weight as a :class:`~structlab.structures.SparseProduct` (bias left out)."""
        return SparseProduct([F.to_csr() for F in self.factors])


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


class SSSLinear(_KernelLayer):
    """Linear layer ``y = T x + b`` with ``T`` sequentially semiseparable, trained by backprop.

    Every generator of :class:`~structlab.structures.sss.SSS` (the diagonal
    blocks, and ``B``, ``A``, ``C`` of the lower and upper systems) is stored
    once, in the one array ``values`` the C kernel reads (the layout of
    :func:`structlab.packing.pack_sss`, described per stage by the small
    buffer ``desc``), and ``values`` is the layer's parameter. The forward
    pass runs the two state recursions over the stages, so the dense ``T`` is
    never formed and a batch costs ``nparams`` multiply-adds per row: on the
    CPU the C kernel, elsewhere :func:`structlab.packing.sss_product` in
    torch; the backward pass differentiates the latter. Initialize it from an
    approximation with :meth:`from_sss`.

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
        packed = pack_sss(sss, torch.empty(0, dtype=dtype).numpy().dtype)
        self.out_features, self.in_features = packed.shape
        self.max_state = packed.sizes["max_state"]
        self.register_buffer("desc", _tensor(packed.arrays["desc"]))
        self.values = nn.Parameter(_tensor(packed.arrays["values"]))
        self.bias = None if bias is None else nn.Parameter(torch.as_tensor(bias, dtype=dtype).clone())
        self._laid_out_now()

    def layout(self, t):
        """The :class:`~structlab.packing.Packed` SSS layout that tensors ``t`` (by name) describe."""
        return Packed("sss", (self.out_features, self.in_features),
                      {"desc": _numpy(t["desc"]), "values": _numpy(t["values"])},
                      {"stages": len(t["desc"]), "max_state": self.max_state})

    @classmethod
    def from_sss(cls, sss, bias=None):
        """Layer computing ``sss @ x + bias`` (``bias`` of shape (m,) or None)."""
        if bias is not None:
            bias = as_vector(bias, "bias", size=sss.shape[0])
        return cls(sss, bias)

    @property
    def device(self):
        return self.values.device

    def kernel_forward(self, X, values):
        Y = X.new_empty(len(X), self.out_features)
        work = X.new_empty(max(1, 2 * self.max_state))
        ops.run("sss_apply", X.dtype, len(self.desc), ops.pointer(self.desc), ops.pointer(values),
                self.out_features, self.in_features, ops.pointer(X), len(X), ops.pointer(Y),
                ops.pointer(work), self.max_state)
        return Y

    def kernel_backward(self, X, dY, values, input_grad, values_grad):
        """Both gradients from one run of the adjoint recursions (``sss_grad`` in native/sss.c)."""
        states = int(self.desc[:, 2].sum() + self.desc[:, 3].sum()) + 2 * self.max_state
        dX, grad = X.new_empty(X.shape), torch.zeros_like(values)
        work = X.new_empty(max(1, states))  # named: a pointer does not keep its tensor alive
        ops.run("sss_grad", X.dtype, len(self.desc), ops.pointer(self.desc), ops.pointer(values),
                self.out_features, self.in_features, ops.pointer(X), ops.pointer(dY), len(X),
                ops.pointer(dX), ops.pointer(grad), ops.pointer(work), self.max_state)
        return dX if input_grad else None, grad if values_grad else None

    def forward(self, x):
        X, lead = self._features(x, self.values.dtype)
        if ops.kernels_take(X):
            y = ops.product(X, self.values, self)
        else:
            y = sss_product(self.desc.cpu().numpy(), self.values, X, torch.cat, torch.split)
        y = y.reshape(*lead, self.out_features)
        return y if self.bias is None else y + self.bias

    def to_structure(self):
        """The current weight as an :class:`~structlab.structures.sss.SSS` (bias left out)."""
        return unpack_sss(self.desc.cpu().numpy(), self.values.detach().cpu().numpy())


@functools.singledispatch
def as_module(structure):
    """The bias-free torch layer computing ``structure @ x``, storing what the structure stores.

    One construction per structure, chosen on the torch side (the structures
    know nothing of torch): :class:`LowRankLinear`, :class:`SparseLinear`
    (pruning), :class:`CodebookLinear` (weight sharing, float32 table),
    :class:`SparseProductLinear` and :class:`SSSLinear`, in the structure's
    dtype unless said otherwise.

    Examples
    --------
    >>> layer = as_module(LowRank(np.ones((4, 1)), np.ones((1, 3))))
    >>> type(layer).__name__, layer.nparams, layer(torch.ones(2, 3, dtype=torch.float64)).shape
    ('LowRankLinear', 7, torch.Size([2, 4]))
    """
    raise TypeError(f"no torch layer for {type(structure).__name__}: as_module takes "
                    f"{', '.join(t.__name__ for t in as_module.registry if t is not object)}")


@as_module.register
def _lowrank(structure: LowRank):
    return LowRankLinear.from_factors(structure.U, structure.V)


@as_module.register
def _sparse(structure: Sparse):
    return SparseLinear.from_csr(structure.csr)


@as_module.register
def _codebook(structure: Codebook):
    return CodebookLinear.from_codebook(structure)


@as_module.register
def _sparse_product(structure: SparseProduct):
    return SparseProductLinear.from_product(structure)


@as_module.register
def _sss(structure: SSS):
    return SSSLinear.from_sss(structure)
