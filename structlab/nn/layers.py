"""Structured layers that train by backprop and run at their real, smaller shapes."""

import numpy as np
import torch
from torch import nn

from structlab._validate import check_int


def count_parameters(module):
    """Number of scalars in ``module``'s parameters (trainable or not)."""
    return sum(p.numel() for p in module.parameters())


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
        U, V = np.asarray(U), np.asarray(V)
        dtype = torch.from_numpy(np.empty(0, dtype=np.result_type(U, V))).dtype
        layer = cls(V.shape[1], U.shape[0], V.shape[0], bias=bias is not None, dtype=dtype)
        with torch.no_grad():
            layer.project.weight.copy_(torch.as_tensor(V))
            layer.expand.weight.copy_(torch.as_tensor(U))
            if bias is not None:
                layer.project.bias.copy_(torch.as_tensor(np.asarray(bias)))
        return layer

    @classmethod
    def from_linear(cls, linear, rank=None, *, energy=None, nparams=None):
        """Compress a trained ``nn.Linear`` by truncated SVD of ``[W | b]``.

        The budget is one of ``rank``, ``energy`` or ``nparams`` as in
        :func:`structlab.approx.svd.lowrank_approximation`; ``nparams`` counts
        the augmented matrix's factors, which is exactly this layer's size.
        """
        from structlab.approx.svd import absorb_bias, lowrank_approximation

        W = linear.weight.detach().cpu().double().numpy()
        if linear.bias is None:
            S = lowrank_approximation(W, rank, energy=energy, nparams=nparams)
            return cls.from_factors(S.U, S.V).to(linear.weight.dtype)
        b = linear.bias.detach().cpu().double().numpy()
        S = lowrank_approximation(absorb_bias(W, b), rank, energy=energy, nparams=nparams)
        return cls.from_factors(S.U, S.V[:, :-1], bias=S.V[:, -1]).to(linear.weight.dtype)
