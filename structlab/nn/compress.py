"""Model surgery: new models with structured layers; the input model is never changed."""

import copy

import torch
from torch import nn

from structlab.approx.svd import absorb_bias, truncated_svd
from structlab.nn.layers import LowRankLinear
from structlab.nn.train import as_tensors, fit_full_batch


def replace_layer(model, name, layer):
    """A deep copy of ``model`` whose child ``name`` is ``layer``."""
    if not hasattr(model, name):
        raise ValueError(f"model has no layer named {name!r}; it has "
                         f"{[n for n, _ in model.named_children()]}")
    new = copy.deepcopy(model)
    setattr(new, name, layer)
    return new


def with_lowrank(model, name, rank=None, *, energy=None, nparams=None):
    """A copy of ``model`` whose ``nn.Linear`` ``name`` became a :class:`LowRankLinear`.

    Examples
    --------
    >>> from structlab.nn.models import wine_mlp
    >>> small = with_lowrank(wine_mlp(), "hidden", rank=2)
    >>> type(small.hidden).__name__, small.hidden.nparams
    ('LowRankLinear', 48)
    """
    layer = getattr(model, name, None)
    if not isinstance(layer, nn.Linear):
        raise TypeError(f"layer {name!r} must be an nn.Linear, got {type(layer).__name__}")
    return replace_layer(model, name, LowRankLinear.from_linear(
        layer, rank, energy=energy, nparams=nparams))


def truncate_hidden(model, rank, X, y, *, hidden="hidden", alpha=1e-4):
    """Shrink a hidden ``nn.Linear`` to ``rank`` units by SVD, then retrain the output layer.

    The new hidden layer computes ``diag(s_r) Vt_r [x; 1]`` (the seed's
    ``TruncatedSVD.fit_transform`` of ``[W; b]``), so its width drops from ``m``
    to ``rank``. The old output layer no longer fits, so the last child of
    ``model`` is replaced by a fresh ``nn.Linear(rank, classes)`` trained on
    the frozen hidden features of ``(X, y)``: the training data must be at hand.

    Parameters
    ----------
    model : nn.Sequential
        Its last child is the output ``nn.Linear``.
    rank : int
    X, y : array_like
        Training inputs and labels.
    hidden : str
        Name of the hidden ``nn.Linear`` to truncate.
    alpha : float
        L2 strength for retraining the output layer (see :func:`fit_full_batch`).

    Returns
    -------
    nn.Sequential
        A new model; ``model`` is untouched.
    """
    layer = getattr(model, hidden)
    out_name, out_layer = list(model.named_children())[-1]
    W = layer.weight.detach().double().numpy()
    b = layer.bias.detach().double().numpy()
    _, s, Vt = truncated_svd(absorb_bias(W, b), rank)
    reduced = nn.Linear(layer.in_features, rank)
    with torch.no_grad():
        reduced.weight.copy_(torch.as_tensor(s[:, None] * Vt[:, :-1]))
        reduced.bias.copy_(torch.as_tensor(s * Vt[:, -1]))
    new = replace_layer(model, hidden, reduced)
    setattr(new, out_name, nn.Linear(rank, out_layer.out_features))
    with torch.no_grad():
        features = new[:-1](as_tensors(X))
    fit_full_batch(getattr(new, out_name), features, y, alpha=alpha)
    return new


def lowrank_sweep(model, name, X, y, ranks=None):
    """Accuracy of the model with layer ``name`` at every rank: one row per rank.

    Rows hold ``rank``, ``params`` (of the compressed layer), ``total_params``
    (of the whole network) and ``accuracy`` on ``(X, y)``.
    """
    from structlab.nn.layers import count_parameters
    from structlab.nn.train import accuracy

    layer = getattr(model, name)
    if ranks is None:
        ranks = range(1, min(layer.out_features, layer.in_features + 1) + 1)
    rows = []
    for rank in ranks:
        small = with_lowrank(model, name, rank=rank)
        rows.append({"rank": rank, "params": getattr(small, name).nparams,
                     "total_params": count_parameters(small),
                     "accuracy": accuracy(small, X, y)})
    return rows
