"""The small networks the course compresses."""

from collections import OrderedDict

import torch
from torch import nn

from structlab._validate import as_numpy, check_int


# Widths far beyond any model of the course (the widest layer here has 1536 units)
# are refused before torch tries to allocate them.
MAX_WIDTH = 2**16


def _sizes(values, name, count):
    """``values`` as ``count`` integers in [1, MAX_WIDTH] (layer widths), or a clear error."""
    sizes = as_numpy(values, name)
    if (sizes.shape != (count,) or sizes.dtype.kind not in "iu" or sizes.min() < 1
            or sizes.max() > MAX_WIDTH):
        raise ValueError(f"{name} must be {count} integers between 1 and {MAX_WIDTH}, "
                         f"got {values!r}")
    return tuple(int(s) for s in sizes)


def _seeded(seed):
    torch.manual_seed(check_int(seed, "seed", low=0))


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
    n_features, n_hidden, n_classes = _sizes([n_features, n_hidden, n_classes],
                                             "n_features, n_hidden, n_classes", 3)
    _seeded(seed)
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
    _seeded(seed)
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
    _seeded(seed)
    return nn.Sequential(OrderedDict(
        image=nn.Unflatten(1, (1, 28, 28)),
        conv1=nn.Conv2d(1, 20, 5), pool1=nn.MaxPool2d(2),
        conv2=nn.Conv2d(20, 50, 5), pool2=nn.MaxPool2d(2),
        flatten=nn.Flatten(),
        fc1=nn.Linear(800, 500), relu=nn.ReLU(),
        fc2=nn.Linear(500, 10),
    ))


def evolving_cnn(widths=(32, 64, 128, 1536), seed=0):
    """A small CNN for MNIST whose four widths chapter 6 lets evolve during training.

    ``conv1`` (1 -> c1), ``conv2`` (c1 -> c2) and ``conv3`` (c2 -> c3) are 3x3
    with ReLU and 2x2 max-pooling (28 -> 14 -> 7 -> 3), then ``fc1``
    (9 c3 -> h) with ReLU and ``fc2`` (h -> 10). Takes flat 784-pixel rows.
    The default start has 1.88 M parameters, most of them in ``fc1``, so a
    wide start stays affordable on a CPU.

    Examples
    --------
    >>> sum(p.numel() for p in evolving_cnn().parameters())
    1879050
    >>> sum(p.numel() for p in evolving_cnn((8, 16, 24, 32)).parameters())
    12002
    """
    c1, c2, c3, h = _sizes(widths, "widths", 4)
    _seeded(seed)
    return nn.Sequential(OrderedDict(
        image=nn.Unflatten(1, (1, 28, 28)),
        conv1=nn.Conv2d(1, c1, 3, padding=1), act1=nn.ReLU(), pool1=nn.MaxPool2d(2),
        conv2=nn.Conv2d(c1, c2, 3, padding=1), act2=nn.ReLU(), pool2=nn.MaxPool2d(2),
        conv3=nn.Conv2d(c2, c3, 3, padding=1), act3=nn.ReLU(), pool3=nn.MaxPool2d(2),
        flatten=nn.Flatten(),
        fc1=nn.Linear(9 * c3, h), act4=nn.ReLU(),
        fc2=nn.Linear(h, 10),
    ))


EVOLVING_PAIRS = [("conv1", "conv2"), ("conv2", "conv3"), ("conv3", "fc1"), ("fc1", "fc2")]


class ResidualBlock(nn.Module):
    """``relu(x + branch(x))`` with ``branch`` = 3x3 conv (C -> width), ReLU, 3x3 conv (width -> C).

    The skip connection fixes the block's outer channels ``C``; its inner
    ``width`` is free, and chapter 6 manages it as the pair
    ``("branch.conv_a", "branch.conv_b")``.

    Examples
    --------
    >>> block = ResidualBlock(4, 6)
    >>> block(torch.zeros(2, 4, 5, 5)).shape
    torch.Size([2, 4, 5, 5])
    """

    def __init__(self, channels, width):
        super().__init__()
        channels, width = _sizes([channels, width], "channels, width", 2)
        self.branch = nn.Sequential(OrderedDict(
            conv_a=nn.Conv2d(channels, width, 3, padding=1), act=nn.ReLU(),
            conv_b=nn.Conv2d(width, channels, 3, padding=1)))

    def forward(self, x):
        return torch.relu(x + self.branch(x))


def evolving_resnet(widths=(64, 64, 1024), channels=(16, 32), seed=0):
    """A residual CNN for MNIST whose block widths and hidden width chapter 6 lets evolve.

    ``stem`` (1 -> C1, 3x3, ReLU, pool to 14x14), ``block1`` =
    :class:`ResidualBlock` (C1, w1), ``widen`` (C1 -> C2, 3x3, ReLU, pool to
    7x7), ``block2`` = :class:`ResidualBlock` (C2, w2), pool to 3x3, ``fc1``
    (9 C2 -> h) with ReLU and ``fc2`` (h -> 10); flat 784-pixel rows in. The
    skip connections tie the outer channels ``(C1, C2)``, so only ``(w1, w2,
    h)`` evolve (:data:`EVOLVING_RESNET_PAIRS`).

    Examples
    --------
    >>> sum(p.numel() for p in evolving_resnet().parameters())
    366458
    >>> evolving_resnet((4, 4, 8))(torch.zeros(2, 784)).shape
    torch.Size([2, 10])
    """
    w1, w2, h = _sizes(widths, "widths", 3)
    c1, c2 = _sizes(channels, "channels", 2)
    _seeded(seed)
    return nn.Sequential(OrderedDict(
        image=nn.Unflatten(1, (1, 28, 28)),
        stem=nn.Conv2d(1, c1, 3, padding=1), act1=nn.ReLU(), pool1=nn.MaxPool2d(2),
        block1=ResidualBlock(c1, w1),
        widen=nn.Conv2d(c1, c2, 3, padding=1), act2=nn.ReLU(), pool2=nn.MaxPool2d(2),
        block2=ResidualBlock(c2, w2), pool3=nn.MaxPool2d(2),
        flatten=nn.Flatten(),
        fc1=nn.Linear(9 * c2, h), act3=nn.ReLU(),
        fc2=nn.Linear(h, 10),
    ))


EVOLVING_RESNET_PAIRS = [("block1.branch.conv_a", "block1.branch.conv_b"),
                         ("block2.branch.conv_a", "block2.branch.conv_b"), ("fc1", "fc2")]
