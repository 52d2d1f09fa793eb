"""Structured layers that train by backprop and run at their real, smaller shapes."""

import numpy as np
import torch
from torch import nn

from structlab._validate import as_matrix, as_vector, check_int
from structlab.approx.svd import absorb_bias, lowrank_approximation


def count_parameters(module):
    """Number of scalars in ``module``'s parameters (trainable or not)."""
    return sum(p.numel() for p in module.parameters())


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
        self.register_buffer("index", torch.as_tensor(index, dtype=torch.int64))
        self.register_buffer("mask", torch.as_tensor(mask, dtype=torch.bool))

    def forward(self, weight):
        shared = self.centroids[self.index]
        return torch.where(self.mask, shared, torch.zeros((), dtype=shared.dtype))
