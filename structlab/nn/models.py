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


def lenet_300_100(seed=0):
    """LeNet-300-100: ``784 -> 300 -> 100 -> 10`` with ReLU, 266,610 parameters.

    The fully connected MNIST network of Han et al. (2015, 2016). Takes flat
    784-pixel rows.

    Examples
    --------
    >>> sum(p.numel() for p in lenet_300_100().parameters())
    266610
    """
    torch.manual_seed(seed)
    return nn.Sequential(OrderedDict(
        fc1=nn.Linear(784, 300), relu1=nn.ReLU(),
        fc2=nn.Linear(300, 100), relu2=nn.ReLU(),
        fc3=nn.Linear(100, 10),
    ))


def lenet_5(seed=0):
    """LeNet-5 as in Caffe's MNIST example, 431,080 parameters.

    ``conv1`` 20 filters 5x5, max-pool 2, ``conv2`` 50 filters 5x5, max-pool 2,
    ``fc1`` 800 -> 500 with ReLU, ``fc2`` 500 -> 10. Like Caffe's version (the
    one Han et al. compress) it has no nonlinearity after the convolutions.
    Takes flat 784-pixel rows and reshapes them to 1x28x28 images.

    Examples
    --------
    >>> sum(p.numel() for p in lenet_5().parameters())
    431080
    """
    torch.manual_seed(seed)
    return nn.Sequential(OrderedDict(
        image=nn.Unflatten(1, (1, 28, 28)),
        conv1=nn.Conv2d(1, 20, 5), pool1=nn.MaxPool2d(2),
        conv2=nn.Conv2d(20, 50, 5), pool2=nn.MaxPool2d(2),
        flatten=nn.Flatten(),
        fc1=nn.Linear(800, 500), relu=nn.ReLU(),
        fc2=nn.Linear(500, 10),
    ))
