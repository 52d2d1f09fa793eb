"""The small networks the course compresses."""

from collections import OrderedDict

import torch
from torch import nn


def wine_mlp(n_features=13, n_hidden=10, n_classes=3, seed=0):
    """The seed's wine classifier: ``Linear(13, 10) -> tanh -> Linear(10, 3)``.

    Layers are named ``hidden``, ``act`` and ``out`` so chapters can replace
    ``model.hidden`` by a structured layer.

    Examples
    --------
    >>> model = wine_mlp()
    >>> sum(p.numel() for p in model.parameters())
    173
    """
    torch.manual_seed(seed)
    return nn.Sequential(OrderedDict(
        hidden=nn.Linear(n_features, n_hidden),
        act=nn.Tanh(),
        out=nn.Linear(n_hidden, n_classes),
    ))
