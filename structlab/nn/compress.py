"""Model surgery: new models with structured layers; the input model is never changed."""

import copy

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from structlab.approx.huffman import LayerStorage, best_index_bits, layer_storage
from structlab.approx.kmeans import kmeans_share
from structlab.approx.palm4msa import hierarchical, rectangular_constraints
from structlab.approx.pruning import magnitude_mask
from structlab.approx.svd import truncated_svd
from structlab.nn.layers import (LowRankLinear, SharedWeights, SparseProductConv2d,
                                 SparseProductLinear, WeightMask, as_module, count_parameters,
                                 layer_matrix)
from structlab.nn.train import accuracy, as_tensors, fit_full_batch


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
    layer = _layer(model, hidden)
    out_name, out_layer = list(model.named_children())[-1]
    _, s, Vt = truncated_svd(layer_matrix(layer), rank)
    projection = s[:, None] * Vt  # diag(s_r) Vt_r: r rows over the inputs (and the 1 of the bias)
    reduced = nn.Linear(layer.in_features, rank, bias=layer.bias is not None)
    with torch.no_grad():
        reduced.weight.copy_(torch.as_tensor(projection[:, :layer.in_features]))
        if layer.bias is not None:
            reduced.bias.copy_(torch.as_tensor(projection[:, -1]))
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
    layer = _layer(model, name)
    if ranks is None:
        ranks = range(1, min(layer_matrix(layer).shape) + 1)
    rows = []
    for rank in ranks:
        small = with_lowrank(model, name, rank=rank)
        rows.append({"rank": rank, "params": getattr(small, name).nparams,
                     "total_params": count_parameters(small),
                     "accuracy": accuracy(small, X, y)})
    return rows


def layer_weight_matrix(module):
    """A layer's weight as a float64 matrix: ``out x in`` for Linear, ``K x C*h*w`` for Conv2d.

    For a convolution this is the transposed filter matrix ``F.T`` of
    :func:`structlab.nn.layers.filter_matrix`: one flattened filter per row.
    """
    return effective_weight(module).reshape(module.weight.shape[0], -1).astype(np.float64)


def with_weight(model, name, W):
    """A copy of ``model`` whose layer ``name`` computes with the matrix ``W`` instead.

    ``W`` has the shape of :func:`layer_weight_matrix`; the bias is kept. The
    accuracy of an approximation does not depend on how it is stored, so this
    scores any structure (``S.toarray()``) with the dense layer's code.
    """
    module = _layer(model, name)
    if parametrize.is_parametrized(module, "weight"):
        raise ValueError(f"layer {name!r} is pruned or quantized (its weight is computed by a "
                         "parametrization); use the unpruned model")
    want = tuple(layer_weight_matrix(module).shape)
    if np.shape(W) != want:
        raise ValueError(f"W must have shape {want} for layer {name!r}, got {np.shape(W)}")
    new = copy.deepcopy(model)
    with torch.no_grad():
        _layer(new, name).weight.copy_(torch.as_tensor(W).reshape(module.weight.shape))
    return new


def with_sparse_product(model, name, n_factors, k, *, n_iter=30, seed=0):
    """A copy of ``model`` whose layer ``name`` is a product of sparse factors.

    The weight matrix (:func:`layer_weight_matrix`) is approximated by
    hierarchical palm4MSA under
    :func:`~structlab.approx.palm4msa.rectangular_constraints` and the layer
    becomes a :class:`SparseProductLinear` or :class:`SparseProductConv2d`
    (bias kept dense, supports fixed, values trainable).

    Returns
    -------
    model : nn.Module
    fit : structlab.approx.palm4msa.Fit
    """
    module = _layer(model, name)
    W = layer_weight_matrix(module)
    fit = hierarchical(W, *rectangular_constraints(W.shape, n_factors, k), n_iter, seed=seed)
    if isinstance(module, nn.Conv2d):
        layer = SparseProductConv2d.from_conv(module, fit.product)
    else:
        bias = None if module.bias is None else module.bias.detach().cpu().numpy()
        layer = SparseProductLinear.from_product(fit.product, bias)
    return replace_layer(model, name, layer.to(module.weight.dtype)), fit


def prunable_layers(model):
    """Names of the ``nn.Linear`` and ``nn.Conv2d`` children of ``model``, in order."""
    return [name for name, module in model.named_children()
            if isinstance(module, (nn.Linear, nn.Conv2d))]


def effective_weight(module):
    """A layer's weight as the forward pass sees it (after mask or codebook), as NumPy."""
    return module.weight.detach().cpu().numpy()


def layer_mask(module):
    """Boolean NumPy mask of a layer's surviving weights (all True if never pruned)."""
    for p in _parametrizations(module):
        if isinstance(p, (WeightMask, SharedWeights)):
            return p.mask.cpu().numpy().copy()
    return np.ones(module.weight.shape, dtype=bool)


def prune(model, *, quality=None, sparsity=None, layers=None):
    """A copy of ``model`` whose layers keep only their large weights.

    Parameters
    ----------
    model : nn.Module
        Possibly pruned before: survivors of earlier rounds are the candidates,
        pruned weights stay pruned.
    quality, sparsity : float or dict of {layer name: float}
        Exactly one: the std-quality rule or the target sparsity of
        :func:`structlab.approx.pruning.magnitude_mask`, for all layers or per layer.
    layers : list of str, optional
        Layers to prune; default all of :func:`prunable_layers` (those given in
        a dict budget, when a dict is given).

    Returns
    -------
    nn.Module
        The copy. Each pruned layer carries a :class:`WeightMask` parametrization
        and its stored weight is zeroed where pruned.
    """
    if (quality is None) == (sparsity is None):
        raise ValueError("give exactly one of quality or sparsity")
    key = "quality" if quality is not None else "sparsity"
    new = copy.deepcopy(model)
    for name, value in _per_layer(new, quality if quality is not None else sparsity, layers):
        module = _layer(new, name)
        _set_mask(module, magnitude_mask(effective_weight(module), mask=layer_mask(module),
                                         **{key: value}))
    return new


def sensitivity_scan(model, sparsities, X, y, layers=None):
    """Accuracy on ``(X, y)`` when one layer at a time is pruned to each sparsity.

    No retraining: this shows which layers tolerate pruning (Han et al.'s
    sensitivity analysis) to choose per-layer budgets. Use validation data.

    Returns
    -------
    dict of {layer name: list of float}
        One accuracy per entry of ``sparsities``.
    """
    layers = layers or prunable_layers(model)
    return {name: [accuracy(prune(model, sparsity=s, layers=[name]), X, y) for s in sparsities]
            for name in layers}


def _per_layer(model, budget, layers):
    """(layer name, value) pairs from one budget for all layers or a dict of them."""
    if layers is None:
        layers = list(budget) if isinstance(budget, dict) else prunable_layers(model)
    return [(name, budget[name] if isinstance(budget, dict) else budget) for name in layers]


def _layer(model, name):
    module = getattr(model, name, None)
    if not isinstance(module, (nn.Linear, nn.Conv2d)):
        raise ValueError(f"{name!r} is not a Linear or Conv2d layer of the model; "
                         f"those are {prunable_layers(model)}")
    return module


def _parametrizations(module):
    if parametrize.is_parametrized(module, "weight"):
        return list(module.parametrizations.weight)
    return []


def _set_parametrization(module, parametrization):
    """Make ``parametrization`` the only one on ``module.weight``.

    An existing one is swapped in place: ``remove_parametrizations`` would edit
    the parametrized class, which a deep copy shares with its original.
    """
    if parametrize.is_parametrized(module, "weight"):
        module.parametrizations.weight[0] = parametrization
    else:
        parametrize.register_parametrization(module, "weight", parametrization)


def _set_mask(module, mask):
    mask = torch.as_tensor(mask, dtype=torch.bool)
    _set_parametrization(module, WeightMask(mask))
    with torch.no_grad():
        # Stored zeros too, so the pruned network survives removing the mask.
        module.parametrizations.weight.original.mul_(mask)


def quantize(model, bits, *, init="linear", layers=None, seed=0):
    """A copy of ``model`` whose layers share ``2**bits`` weight values each.

    The surviving weights of each layer (all of them if it was never pruned)
    are clustered by 1-D k-means from the chosen ``init``; pruned weights stay
    exactly zero. Each layer then carries a :class:`SharedWeights`
    parametrization whose centroids train by backprop (:func:`train`).

    Parameters
    ----------
    model : nn.Module
    bits : int or dict of {layer name: int}
        Bits per weight index, >= 1.
    init : {"forgy", "density", "linear"}
    layers : list of str, optional
        Default: all of :func:`prunable_layers` (or the keys of a dict ``bits``).
    seed : int
        For the ``forgy`` init.
    """
    new = copy.deepcopy(model)
    for name, layer_bits in _per_layer(new, bits, layers):
        module = _layer(new, name)
        weight, mask = effective_weight(module), layer_mask(module)
        rows = len(weight)  # a convolution is clustered through its filter matrix
        shared = kmeans_share(weight.reshape(rows, -1), layer_bits, init,
                              mask.reshape(rows, -1), seed)
        _set_parametrization(module, SharedWeights(
            shared.centroids, shared.index.reshape(weight.shape), mask))
        module.parametrizations.weight.original.requires_grad_(False)
    return new


def model_storage(model, index_bits=None):
    """Deep Compression storage of every layer of ``model`` (see :func:`layer_storage`).

    Shared-weight layers store codebook indices, pruned layers float32 values,
    untouched layers their dense float32 weights. ``index_bits=None`` picks the
    best relative-index width per layer.

    Returns
    -------
    list of LayerStorage
    """
    rows = []
    for name in prunable_layers(model):
        module = getattr(model, name)
        n_bias = 0 if module.bias is None else module.bias.numel()
        shared = [p for p in _parametrizations(module) if isinstance(p, SharedWeights)]
        if not _parametrizations(module):
            size = module.weight.numel()
            bits = 32 * (size + n_bias)
            rows.append(LayerStorage(name, size + n_bias, size, 0, 32, 0, bits, bits))
            continue
        kwargs = dict(mask=layer_mask(module), n_bias=n_bias)
        if shared:
            kwargs.update(index=shared[0].index.cpu().numpy(), n_centroids=len(shared[0].centroids))
        rows.append(best_index_bits(name, **kwargs) if index_bits is None
                    else layer_storage(name, index_bits=index_bits, **kwargs))
    return rows


def iterative_prune(model, sparsity, X, y, *, steps=(0.5, 0.75, 0.9, 1.0), epochs=4, lr=5e-4,
                    l2=1e-5, seed=0, validation=None, progress=True):
    """Prune towards per-layer target sparsities in steps, retraining after each cut.

    Step ``t`` prunes every layer to ``t * target`` (survivors only: pruned
    weights stay pruned), then retrains with the masks held (Han et al. 2015:
    many small cuts lose less than one big one).

    Parameters
    ----------
    model : nn.Module
        Left untouched.
    sparsity : dict of {layer name: float}
        Target fraction pruned per layer, each in [0, 1).
    X, y : array_like
        Training data for the retraining.
    steps : sequence of float
        Increasing fractions of the targets, ending at 1.
    epochs, lr, l2, seed, progress
        Retraining settings of :func:`structlab.nn.train.train`.
    validation : tuple (X_val, y_val), optional
        If given, each record holds the accuracy before and after retraining.

    Returns
    -------
    model : nn.Module
        The pruned, retrained copy.
    records : list of dict
        Per step: ``step``, ``kept`` (fraction per layer), ``before`` and ``after``.
    """
    from structlab.nn.train import train

    records = []
    for step in steps:
        model = prune(model, sparsity={name: s * step for name, s in sparsity.items()})
        before = accuracy(model, *validation) if validation else None
        train(model, X, y, epochs=epochs, lr=lr, l2=l2, seed=seed, progress=progress)
        records.append({"step": step, "before": before,
                        "after": accuracy(model, *validation) if validation else None,
                        "kept": {name: float(layer_mask(getattr(model, name)).mean())
                                 for name in sparsity}})
    return model, records


class StructuredLinear(nn.Module):
    """``structure @ x + bias``, computed by the structure's own torch layer.

    Keeps ``structure`` (a :class:`~structlab.structures.base.Structure`) so
    its C kernel can be timed or exported; the bias stays dense.
    """

    def __init__(self, structure, bias=None, dtype=torch.float32):
        super().__init__()
        self.structure = structure
        self.inner = as_module(structure).to(dtype)
        self.bias = None if bias is None else nn.Parameter(torch.as_tensor(bias, dtype=dtype))

    def forward(self, x):
        y = self.inner(x)
        return y if self.bias is None else y + self.bias


def _set_submodule(model, name, module):
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent), child, module)


def _predictions(model, X):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(X[i:i + 4096]).argmax(dim=1) for i in range(0, len(X), 4096)])


def compress(model, method, budget=0.1, *, layers=None, data=None, timing=True, bits=None,
             seed=0):
    """A copy of ``model`` whose linear layers are replaced by ``method`` structures, and a report.

    Every chosen ``nn.Linear`` is approximated by
    :func:`structlab.approx.budget.approximate` (low rank, pruning, codebook,
    pruned codebook, sparse product or SSS) with about ``budget`` of its
    numbers and becomes a :class:`StructuredLinear`; the input model is not
    touched.

    Parameters
    ----------
    model : nn.Module
    method : str
        One of :data:`structlab.approx.budget.METHODS`.
    budget : float in (0, 1]
        Share of each layer's weights to keep (a ``codebook`` keeps them all
        at ``bits`` bits instead).
    layers : list of str, optional
        Dotted names of the ``nn.Linear`` layers to compress; default all.
    data : tuple (X, y), optional
        Inputs (and labels, or None) on which to score both models: accuracy
        when labels are given, and top-1 agreement with ``model`` always.
    timing : bool
        Time each compressed layer's C kernel against the dense one (one
        thread, batch 1; :func:`structlab.timing.compare`).
    bits, seed
        Passed to :func:`~structlab.approx.budget.approximate`.

    Returns
    -------
    new_model : nn.Module
    report : dict
        ``layers``: one dict per layer (``layer``, ``numbers``,
        ``dense_numbers``, ``bytes`` the float32 kernel reads — packed indices
        included —, ``dense_bytes``, ``weight_error``, and with ``timing``
        ``us`` / ``dense_us`` per product); totals ``numbers``,
        ``dense_numbers``, ``bytes``, ``dense_bytes``; and with ``data``
        ``accuracy``, ``dense_accuracy`` and ``agreement``.

    Examples
    --------
    >>> from structlab.nn.models import lenet_300_100
    >>> new, report = compress(lenet_300_100(), "lowrank", 0.1, timing=False)
    >>> [row["layer"] for row in report["layers"]], report["numbers"] < report["dense_numbers"] / 5
    (['fc1', 'fc2', 'fc3'], True)
    """
    from structlab.approx.budget import approximate
    from structlab.approx.report import relative_error
    from structlab.kernels import Plan
    from structlab.timing import compare

    linear = {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    layers = list(linear) if layers is None else list(layers)
    unknown = [name for name in layers if name not in linear]
    if unknown:
        raise ValueError(f"layers {unknown} are not nn.Linear layers of the model; those are "
                         f"{list(linear)}")
    new = copy.deepcopy(model)
    rows = []
    for name in layers:
        module = linear[name]
        W = module.weight.detach().cpu().double().numpy()
        S = approximate(W, method, budget, bits=bits, seed=seed)
        bias = None if module.bias is None else module.bias.detach().cpu().double().numpy()
        _set_submodule(new, name, StructuredLinear(S, bias, module.weight.dtype))
        row = {"layer": name, "numbers": S.nparams, "dense_numbers": W.size,
               "bytes": Plan(S, np.float32).packed.nbytes, "dense_bytes": 4 * W.size,
               "weight_error": relative_error(W, S)}
        if timing:
            timed = compare(S, 1, np.float32, repeats=5, min_sample=1e-3)
            row.update(us=timed["structure_best"] * 1e6, dense_us=timed["dense_c_best"] * 1e6)
        rows.append(row)
    report = {"method": method, "budget": budget, "layers": rows,
              **{key: sum(r[key] for r in rows)
                 for key in ("numbers", "dense_numbers", "bytes", "dense_bytes")}}
    if data is not None:
        X, y = data
        X = as_tensors(X)
        before, after = _predictions(model, X), _predictions(new, X)
        report["agreement"] = float((before == after).float().mean())
        if y is not None:
            y = torch.as_tensor(np.asarray(y))
            report["accuracy"] = float((after == y).float().mean())
            report["dense_accuracy"] = float((before == y).float().mean())
    return new, report
