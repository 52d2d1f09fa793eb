"""Resizing a pair of torch layers in place of the width between them (chapter 6).

The pair is ``layer`` (``nn.Linear`` or ``nn.Conv2d``) and ``next_layer``, which
reads ``layer``'s output units: an ``nn.Linear`` after a Linear, an ``nn.Conv2d``
after a Conv2d, or an ``nn.Linear`` after a Conv2d whose output was flattened
(each channel then feeds a block of ``in_features / channels`` inputs). The math
is :mod:`structlab.approx.widths`; here are the torch layers around it.
"""

import dataclasses
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from structlab.approx.widths import energy_width, grow, refit_next, shrink


def _unit_axis_view(layer, next_layer):
    """``next_layer``'s weight as a float64 array with ``layer``'s units on axis 1.

    A Linear after a Conv2d reads the flattened channels, ``width`` blocks of H*W.
    """
    width = width_of(layer)
    W2 = next_layer.weight.detach().cpu().double().numpy()
    flattened = isinstance(layer, nn.Conv2d) and isinstance(next_layer, nn.Linear)
    if flattened and next_layer.in_features != width:
        if next_layer.in_features % width:
            raise ValueError(f"next_layer has {next_layer.in_features} inputs, not a multiple of "
                             f"the {width} units of layer")
        return W2.reshape(W2.shape[0], width, -1)  # flattened channels: C blocks of H*W
    if W2.shape[1] != width:
        raise ValueError(f"next_layer reads {W2.shape[1]} units, layer makes {width}")
    return W2


def _resize_units(tensor, axis, width, kept=None, extra=0):
    """``tensor`` with its ``width`` units on ``axis`` reduced to ``kept`` or padded by ``extra`` zeros.

    A flattened Linear input (``axis`` 1 holding ``width`` blocks) is handled
    as ``(out, width, block)``. Used to carry optimizer state across a resize.
    """
    shape = tensor.shape
    view = tensor.reshape(*shape[:axis], width, -1) if axis == 1 and tensor.ndim == 2 else tensor
    if kept is not None:
        view = view.index_select(axis, torch.as_tensor(kept, device=tensor.device))
    if extra:
        pad = list(view.shape)
        pad[axis] = extra
        view = torch.cat([view, view.new_zeros(pad)], dim=axis)
    return view.reshape(*shape[:axis], -1) if view.ndim != tensor.ndim else view


def _carry(old, new, width, kept=None, extra=0):
    """Map each new parameter of a resized pair to (old parameter, its state's resize)."""
    layer, next_layer = old
    moved = {new[0].weight: (layer.weight, lambda t: _resize_units(t, 0, width, kept, extra)),
             new[1].weight: (next_layer.weight, lambda t: _resize_units(t, 1, width, kept, extra))}
    if layer.bias is not None:
        moved[new[0].bias] = (layer.bias, lambda t: _resize_units(t, 0, width, kept, extra))
    if next_layer.bias is not None:
        moved[new[1].bias] = (next_layer.bias, lambda t: t)
    return moved


def _check_pair(layer, next_layer):
    kinds = (nn.Linear, nn.Conv2d)
    if not isinstance(layer, kinds) or not isinstance(next_layer, kinds):
        raise TypeError(f"layer and next_layer must be nn.Linear or nn.Conv2d, got "
                        f"{type(layer).__name__} and {type(next_layer).__name__}")
    if isinstance(layer, nn.Linear) and isinstance(next_layer, nn.Conv2d):
        raise TypeError("a Conv2d cannot read the units of a Linear")
    if isinstance(layer, nn.Conv2d) and layer.groups != 1:
        raise ValueError("grouped convolutions are not supported")


def width_of(layer):
    """Output units of a Linear or output channels of a Conv2d."""
    return layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels


def _rebuilt(template, weight, bias):
    """A new layer like ``template`` holding ``weight`` and ``bias`` (its sizes from them)."""
    like = {"dtype": template.weight.dtype, "device": template.weight.device}
    if isinstance(template, nn.Linear):
        layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, **like)
    else:
        layer = nn.Conv2d(weight.shape[1], weight.shape[0], template.kernel_size,
                          stride=template.stride, padding=template.padding,
                          dilation=template.dilation, bias=bias is not None,
                          padding_mode=template.padding_mode, **like)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight))
        if bias is not None:
            layer.bias.copy_(torch.as_tensor(bias))
    return layer


def _parts(layer, next_layer):
    _check_pair(layer, next_layer)
    W1 = layer.weight.detach().cpu().double().numpy()
    b1 = None if layer.bias is None else layer.bias.detach().cpu().double().numpy()
    return W1, b1, _unit_axis_view(layer, next_layer)


def _next_bias(next_layer):
    return None if next_layer.bias is None else next_layer.bias.detach().cpu().double().numpy()


def _relu_then_flatten(layer, next_layer):
    if isinstance(layer, nn.Conv2d) and isinstance(next_layer, nn.Linear):
        return lambda z: torch.relu(z).flatten(1)
    return torch.relu


def refits(next_layer):
    """Whether :func:`shrink_layers` refits ``next_layer`` from input samples (only a Linear)."""
    return isinstance(next_layer, nn.Linear)


def shrink_layers(layer, next_layer, k, *, inputs=None, between=None):
    """New ``(layer, next_layer)`` with ``k`` units between them.

    The kept units are an interpolative decomposition's skeleton of
    ``layer``'s ``[W | b]`` and the dropped ones are folded into
    ``next_layer`` (exact without a nonlinearity). With ``inputs`` (samples of
    ``layer``'s input) and a Linear ``next_layer``, its weights and bias are
    instead refitted by least squares to reproduce its old output on them
    (:func:`structlab.approx.widths.refit_next`), which is better across the
    nonlinearity. ``between`` maps ``layer``'s output to ``next_layer``'s input
    (default ReLU, then flatten after a convolution); it must act unit by unit
    (ReLU, pooling), so that a unit's outputs stay its own.

    Returns
    -------
    layer, next_layer : new modules (the inputs are untouched)
    kept : ndarray of int
        Indices of the surviving units.
    """
    W1, b1, W2 = _parts(layer, next_layer)
    new_W1, new_b1, new_W2, kept = shrink(W1, b1, W2, k)
    new_layer = _rebuilt(layer, new_W1, new_b1)
    new_b2 = _next_bias(next_layer)
    if inputs is not None and refits(next_layer):
        between = between or _relu_then_flatten(layer, next_layer)
        with torch.no_grad():
            target = next_layer(between(layer(inputs)))
            hidden = between(new_layer(inputs))
        new_W2, new_b2 = refit_next(hidden.cpu().double().numpy(), target.cpu().double().numpy(),
                                    bias=next_layer.bias is not None)
    new_W2 = new_W2.reshape(new_W2.shape[0], -1) if isinstance(next_layer, nn.Linear) else new_W2
    return new_layer, _rebuilt(next_layer, new_W2, new_b2), kept


def grow_layers(layer, next_layer, extra, *, seed=0):
    """New ``(layer, next_layer)`` with ``extra`` more units; the pair's function is unchanged.

    The new units' weights are orthogonal to the existing rows (a Conv2d's
    kernels flattened), their biases zero, and ``next_layer`` reads them with
    zero weights.
    """
    W1, b1, W2 = _parts(layer, next_layer)
    new_W1, new_b1, new_W2 = grow(W1, b1, W2, extra, np.random.default_rng(seed))
    new_W2 = new_W2.reshape(new_W2.shape[0], -1) if isinstance(next_layer, nn.Linear) else new_W2
    return (_rebuilt(layer, new_W1, new_b1),
            _rebuilt(next_layer, new_W2, _next_bias(next_layer)))


@dataclass(frozen=True)
class WidthPolicy:
    """When a layer shrinks or grows, judged on the spectrum of its ``[W | b]``.

    Attributes
    ----------
    keep_energy : float
        Shrink to the fewest units whose singular values hold this share of the
        energy (:func:`structlab.approx.widths.energy_width`), when that is
        fewer than the current width.
    grow_ratio : float
        Grow when the smallest singular value squared is at least this share of
        the mean (a flat spectrum: every direction is in use).
    grow_by : float
        Growth as a fraction of the width (at least one unit).
    max_shrink : float
        At most this fraction of the units goes in one step: the network
        retrains between steps instead of losing most of a layer at once.
    min_width, max_width : int
    """

    keep_energy: float = 0.99
    grow_ratio: float = 0.5
    grow_by: float = 0.25
    max_shrink: float = 1.0
    min_width: int = 1
    max_width: int = 4096

    def target(self, weight, bias=None):
        """The width this policy wants for a layer with this weight (units on axis 0)."""
        W = np.asarray(weight, dtype=np.float64).reshape(len(weight), -1)
        A = W if bias is None else np.hstack([W, np.asarray(bias, dtype=np.float64)[:, None]])
        width, fan_in = W.shape
        s2 = np.linalg.svd(A, compute_uv=False) ** 2
        if width < fan_in and s2[-1] >= self.grow_ratio * s2.mean():
            # new units need directions orthogonal to the rows: at most fan_in of them
            wanted = min(fan_in, width + max(1, int(self.grow_by * width)))
        else:
            floor = int(np.ceil(width * (1 - self.max_shrink)))
            wanted = min(width, max(floor, energy_width(A, keep=self.keep_energy)))
        return int(np.clip(wanted, self.min_width, self.max_width))


class WidthController:
    """Resizes named layer pairs of a model from their spectra, and logs what it did.

    Parameters
    ----------
    model : nn.Module
        Its layers are replaced in place when they resize. The two layers of a
        pair are children of one ``nn.Sequential`` (the model itself, or a
        submodule such as a residual block's branch); the children between
        them (activation, pooling, flatten) are what the least-squares refit
        runs the layer's output through.
    pairs : list of (str, str)
        ``(layer, next_layer)`` names, dotted for submodules
        (``"block1.branch.conv_a"``); ``layer``'s width is the one managed.
    policy : WidthPolicy or dict
        One policy for every layer, or one per managed layer name (e.g. a
        larger ``min_width`` for the first convolution).
    seed : int
        Seeds the directions of grown units.

    Attributes
    ----------
    log : list of dict
        One row per :meth:`step` or :meth:`record`: ``epoch``, ``widths``,
        ``params``, and whatever the caller adds.
    carry : dict
        For the last step's resized layers: new parameter -> (old parameter,
        function resizing a state tensor of the old one's shape), for
        :func:`rebuild_optimizer`.
    """

    def __init__(self, model, pairs, policy=None, seed=0):
        self.model, self.pairs = model, list(pairs)
        policy = policy or WidthPolicy()
        self.policies = (dict(policy) if isinstance(policy, dict)
                         else {name: policy for name, _ in self.pairs})
        missing = {name for name, _ in self.pairs} - set(self.policies)
        if missing:
            raise ValueError(f"policy has no entry for {sorted(missing)}")
        self.seed = seed
        self.log, self.carry = [], {}

    def widths(self):
        """Current width of every managed layer, by name."""
        return {name: width_of(self.model.get_submodule(name)) for name, _ in self.pairs}

    def step(self, epoch, inputs=None):
        """Resize every pair whose policy target differs from its width; return the changes.

        ``inputs`` (a callable ``name -> samples of that layer's input``, or
        None) enables the least-squares refit of a dense (``nn.Linear``) next
        layer on shrink.
        """
        changes, self.carry = {}, {}
        for name, next_name in self.pairs:
            old = self.model.get_submodule(name), self.model.get_submodule(next_name)
            bias = None if old[0].bias is None else old[0].bias.detach().cpu().numpy()
            target = self.policies[name].target(old[0].weight.detach().cpu().numpy(), bias)
            width = width_of(old[0])
            if target < width:
                refit = inputs is not None and refits(old[1])  # no samples it would not use
                samples = inputs(name) if refit else None
                *new, kept = shrink_layers(*old, target, inputs=samples,
                                           between=self._between(name, next_name) if refit else None)
                self.carry.update(_carry(old, new, width, kept=kept))
            elif target > width:
                new = grow_layers(*old, target - width, seed=self.seed + epoch)
                self.carry.update(_carry(old, new, width, extra=target - width))
            else:
                continue
            self._replace(name, new[0])
            self._replace(next_name, new[1])
            changes[name] = (width, target)
        self.record(epoch)
        return changes

    def _replace(self, name, module):
        parent, _, child = name.rpartition(".")
        setattr(self.model.get_submodule(parent), child, module)

    def _between(self, name, next_name):
        """The children strictly between a pair in their common parent, as one module."""
        parent, _, first = name.rpartition(".")
        other_parent, _, second = next_name.rpartition(".")
        if parent != other_parent:
            raise ValueError(f"{name!r} and {next_name!r} must be children of the same module")
        container = self.model.get_submodule(parent)
        names = [n for n, _ in container.named_children()]
        return nn.Sequential(*(getattr(container, n) for n in
                               names[names.index(first) + 1:names.index(second)]))

    def record(self, epoch):
        """Log the widths and the model's parameter count at ``epoch`` (no resizing)."""
        self.log.append({"epoch": epoch, "widths": self.widths(),
                         "params": sum(p.numel() for p in self.model.parameters())})


def layer_inputs(model, names, X):
    """What each named submodule of ``model`` (dotted names allowed) receives on ``X`` (a dict).

    For :meth:`WidthController.step`'s least-squares refit: run once on a
    fixed sample of training rows before a resize.
    """
    captured, hooks = {}, []
    for name in names:
        def save(module, args, name=name):
            captured[name] = args[0].detach()
        hooks.append(model.get_submodule(name).register_forward_pre_hook(save))
    try:
        with torch.no_grad():
            model(X)
    finally:
        for hook in hooks:
            hook.remove()
    return captured


def rebuild_optimizer(optimizer, model, carry=None):
    """An optimizer of the same class and settings over ``model``'s trainable parameters.

    Per-parameter state (Adam's step count and moments) is kept for every
    parameter that survived unchanged. A resized parameter listed in
    ``carry`` (:attr:`WidthController.carry`) inherits its predecessor's
    state, resized the same way: the kept units' moments survive, grown units
    start from zero. Any other new parameter starts fresh.
    """
    defaults = {k: v for k, v in optimizer.param_groups[0].items()
                if k not in ("params", "initial_lr")}
    trainable = [p for p in model.parameters() if p.requires_grad]
    new = type(optimizer)(trainable, **defaults)
    for p in trainable:
        if p in optimizer.state:
            new.state[p] = optimizer.state[p]
        elif carry and p in carry and carry[p][0] in optimizer.state:
            old, resize = carry[p]
            new.state[p] = {key: resize(value) if torch.is_tensor(value) and value.shape == old.shape
                            else value for key, value in optimizer.state[old].items()}
    return new


def evolve(model, pairs, X, y, *, policy, epochs, resize_until, validation=None,
           sample_rows=2000, lr=2e-3, seed=0, progress=True):
    """Train ``model`` while its widths evolve: resize after each of the first ``resize_until`` epochs.

    After every epoch up to ``resize_until`` a :class:`WidthController`
    resizes ``pairs`` (refitting dense next layers on the first
    ``sample_rows`` training rows), the optimizer keeps the moments of what
    survived, and the cosine learning-rate schedule continues where it was;
    the remaining epochs only train.

    Returns
    -------
    WidthController
        Its ``log`` has one row per epoch (and one for the start, epoch 0):
        ``widths``, ``params``, ``val_accuracy`` (with ``validation``) and
        ``seconds`` since the start.

    Examples
    --------
    >>> from structlab.nn.models import EVOLVING_PAIRS, evolving_cnn
    >>> X, y = np.random.default_rng(0).random((64, 784), dtype=np.float32), np.arange(64) % 10
    >>> log = evolve(evolving_cnn((4, 4, 4, 8)), EVOLVING_PAIRS, X, y, policy=WidthPolicy(0.9),
    ...              epochs=2, resize_until=1, progress=False).log
    >>> [row["epoch"] for row in log], log[1]["params"] < log[0]["params"]
    ([0, 1, 2], True)
    """
    from structlab.nn.train import accuracy, train

    controller = WidthController(model, pairs, policy, seed=seed)
    sample = torch.as_tensor(np.asarray(X[:sample_rows]))
    start = time.perf_counter()

    def finish_row():
        row = controller.log[-1]
        row["val_accuracy"] = None if validation is None else accuracy(model, *validation)
        row["seconds"] = time.perf_counter() - start

    def on_epoch_end(epoch):
        if epoch > resize_until:
            controller.record(epoch)
            finish_row()
            return False
        # inputs on demand: an earlier pair's resize changes what later layers receive
        changed = controller.step(epoch, inputs=lambda name: layer_inputs(model, [name], sample)[name])
        finish_row()
        return controller.carry if changed else False

    controller.record(0)
    finish_row()
    train(model, X, y, epochs=epochs, lr=lr, seed=seed, progress=progress, on_epoch_end=on_epoch_end)
    return controller


def evolve_cached(build, widths, pairs, X, y, *, name, policy, **evolve_kwargs):
    """:func:`evolve` on ``build(widths)``, or the model and log it saved under ``name``.

    ``build(widths)`` makes the model from one width per pair (e.g.
    :func:`structlab.nn.models.evolving_cnn`); the cache holds the final
    widths, weights and log, keyed by every setting, so a notebook re-run or
    a slider does not retrain.

    Returns
    -------
    model : nn.Module
    log : list of dict
        As :attr:`WidthController.log`.
    """
    from structlab.nn.train import cached

    policies = policy if isinstance(policy, dict) else {n: policy for n, _ in pairs}
    validation = evolve_kwargs.get("validation")
    key = {"widths": list(widths), "pairs": [list(p) for p in pairs], "rows": len(X),
           "policy": {n: dataclasses.asdict(p) for n, p in policies.items()},
           "validation_rows": None if validation is None else len(validation[0]),
           "torch": str(torch.__version__),
           **{k: v for k, v in evolve_kwargs.items() if k not in ("progress", "validation")}}

    def run():
        model = build(widths)
        controller = evolve(model, pairs, X, y, policy=policy, **evolve_kwargs)
        return {"state": model.state_dict(), "log": controller.log}

    saved = cached(name, key, run)
    final = saved["log"][-1]["widths"]
    model = build(tuple(final[n] for n, _ in pairs))
    model.load_state_dict(saved["state"])
    return model, saved["log"]
