"""Training and evaluation loops."""

import pickle
import warnings

import torch
from torch import nn

from structlab._validate import as_array, as_numpy, check_float, check_int
from structlab.cache import atomic_write, cache_path

MAX_EPOCHS = 100_000


def as_tensors(X, y=None, dtype=torch.float32):
    """``X`` as ``dtype`` and ``y`` as int64 torch tensors (``y`` optional), checked.

    ``X`` must hold finite real numbers, one sample per row (at least one);
    ``y`` one non-negative integer label per row.
    """
    X = as_array(X, "X")
    if X.ndim < 2:
        raise ValueError(f"X must hold one sample per row (2-D or more), got shape {X.shape}")
    X = torch.as_tensor(X, dtype=dtype)
    if y is None:
        return X
    y = as_numpy(y, "y")
    if y.shape != (len(X),) or (y.size and (y.dtype.kind not in "iu" or y.min() < 0)):
        raise ValueError(f"y must hold one non-negative integer label per row of X ({len(X)}), "
                         f"got dtype {y.dtype} and shape {y.shape}")
    return X, torch.as_tensor(y, dtype=torch.int64)


def check_fit(model, X, y=None):
    """Run ``model`` on the first row of ``X`` (in eval mode): it must take ``X`` and give
    one score per class that ``y`` names. A ValueError, not torch's RuntimeError, if not."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(X[:1])
    except RuntimeError as error:
        raise ValueError(f"the model cannot take X of shape {tuple(X.shape)}: "
                         f"{str(error).splitlines()[0]}") from None
    finally:
        model.train(was_training)
    if y is not None and (out.ndim != 2 or (y.numel() and int(y.max()) >= out.shape[1])):
        raise ValueError(f"y holds labels up to {int(y.max()) if y.numel() else None}, but the "
                         f"model gives outputs of shape {tuple(out.shape)}")
    return out


def fit_full_batch(model, X, y, *, alpha=1e-4, max_iter=200):
    """Train ``model`` on all of ``(X, y)`` at once with L-BFGS (cross-entropy + L2).

    The right tool for small tabular sets such as wine, and what the seed used
    (scikit-learn's ``MLPClassifier(solver="lbfgs")``). The loss is theirs too:
    mean cross-entropy plus ``alpha / (2 n)`` times the squared weights
    (biases are not penalized), so ``alpha=1e-4`` is scikit-learn's default.
    Deterministic: L-BFGS draws no random numbers.

    Parameters
    ----------
    model : nn.Module
        Trained in place; parameters with ``requires_grad=False`` stay fixed.
    X : array_like, shape (n, features)
    y : array_like of int, shape (n,)
    alpha : float
        L2 strength.
    max_iter : int
        L-BFGS iterations.

    Returns
    -------
    float
        The final training loss.

    Examples
    --------
    >>> import numpy as np
    >>> from structlab.nn.models import wine_mlp
    >>> X = np.random.default_rng(0).standard_normal((40, 13)); y = (X[:, 0] > 0).astype(int)
    >>> model = wine_mlp()
    >>> loss = fit_full_batch(model, X, y)
    >>> accuracy(model, X, y)
    1.0
    """
    X, y = as_tensors(X, y)
    alpha = check_float(alpha, "alpha", low=0)
    max_iter = check_int(max_iter, "max_iter", low=1, high=MAX_EPOCHS)
    check_fit(model, X, y)
    params = [p for p in model.parameters() if p.requires_grad]
    weights = [p for p in params if p.ndim > 1]
    penalty = alpha / (2 * len(X))
    optimizer = torch.optim.LBFGS(params, max_iter=max_iter, tolerance_grad=1e-9,
                                  tolerance_change=1e-12, history_size=20,
                                  line_search_fn="strong_wolfe")
    loss_fn = nn.CrossEntropyLoss()

    def closure():
        optimizer.zero_grad()
        loss = loss_fn(model(X), y) + penalty * sum((w**2).sum() for w in weights)
        loss.backward()
        return loss

    model.train()
    optimizer.step(closure)
    with torch.no_grad():
        return float(loss_fn(model(X), y) + penalty * sum((w**2).sum() for w in weights))


def _float_dtype(model):
    """The dtype ``model`` computes in: its first floating parameter's (float32 if none)."""
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)


@torch.no_grad()
def accuracy(model, X, y, batch_size=4096):
    """Fraction of rows of ``X`` whose arg-max output equals ``y`` (evaluated in batches).

    ``X`` is given to the model in the model's own dtype. With ``y`` the top-1
    classes of a reference model, this is the two models' *agreement*.
    """
    X, y = as_tensors(X, y, _float_dtype(model))
    batch_size = check_int(batch_size, "batch_size", low=1)
    check_fit(model, X, y)
    model.eval()
    correct = sum(int((model(X[i:i + batch_size]).argmax(dim=1) == y[i:i + batch_size]).sum())
                  for i in range(0, len(X), batch_size))
    return correct / len(X)


def l2_penalty(model):
    """Sum of squared *effective* weights (after any mask or codebook) of every layer."""
    return sum((module.weight**2).sum() for module in model.modules()
               if isinstance(getattr(module, "weight", None), torch.Tensor)
               and module.weight.ndim > 1)


def _cosine(optimizer, steps, done):
    """Cosine decay over ``steps`` for ``optimizer``, already ``done`` steps along."""
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    with warnings.catch_warnings():  # winding forward without optimizer steps is the point
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(done):
            schedule.step()
    return schedule


def train(model, X, y, *, epochs, batch_size=128, lr=1e-3, l2=0.0, seed=0,
          validation=None, progress=True, on_epoch_end=None):
    """Train ``model`` with Adam on mini-batches, learning rate on a cosine decay to 0.

    Returns one record per epoch.

    Parameters
    ----------
    model : nn.Module
        Trained in place. Masked or shared weights (parametrizations) keep
        their structure: gradients flow only where the structure allows.
    X, y : array_like
        Training rows and integer labels.
    epochs : int
    batch_size : int
    lr : float
        Adam's initial learning rate; it decays along a half cosine to zero
        at the last step, so a short run still ends with small steps.
    l2 : float
        Coefficient of :func:`l2_penalty` added to the mean cross-entropy: a
        real term of the loss, so its gradient pulls weights towards zero.
    seed : int
        Seeds the shuffling and torch.
    validation : tuple (X_val, y_val), optional
        Evaluated after every epoch (never the test set).
    progress : bool
        Show a tqdm bar over epochs.
    on_epoch_end : callable, optional
        ``on_epoch_end(epoch)``, called after each epoch; a true result says
        the model's layers were replaced (e.g. resized by a
        :class:`~structlab.nn.widths.WidthController`), and the optimizer is
        rebuilt over the new parameters at the same point of the schedule. A
        dict result is passed on as the ``carry`` of
        :func:`~structlab.nn.widths.rebuild_optimizer`.

    Returns
    -------
    list of dict
        ``epoch``, ``loss`` (mean over the epoch) and ``val_accuracy`` (or None).
    """
    from tqdm.auto import tqdm

    X, y = as_tensors(X, y)
    epochs = check_int(epochs, "epochs", low=1, high=MAX_EPOCHS)
    batch_size = check_int(batch_size, "batch_size", low=1)
    lr, l2 = check_float(lr, "lr", low=0, open_low=True), check_float(l2, "l2", low=0)
    seed = check_int(seed, "seed", low=0)
    check_fit(model, X, y)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    steps = epochs * -(-len(X) // batch_size)
    schedule = _cosine(optimizer, steps, 0)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    bar = tqdm(range(1, epochs + 1), desc="epochs", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        total = 0.0
        for batch in torch.randperm(len(X), generator=generator).split(batch_size):
            optimizer.zero_grad()
            loss = loss_fn(model(X[batch]), y[batch])
            if l2:
                loss = loss + l2 * l2_penalty(model)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(batch)
        record = {"epoch": epoch, "loss": total / len(X), "val_accuracy": None}
        if validation is not None:
            record["val_accuracy"] = accuracy(model, *validation)
        history.append(record)
        bar.set_postfix(loss=f"{record['loss']:.4f}", val=record["val_accuracy"])
        replaced = on_epoch_end is not None and on_epoch_end(epoch)
        if replaced:
            from structlab.nn.widths import rebuild_optimizer

            optimizer = rebuild_optimizer(optimizer, model,
                                          carry=replaced if isinstance(replaced, dict) else None)
            for group in optimizer.param_groups:
                group["lr"] = lr  # the schedule restarts from the top and is wound forward
            schedule = _cosine(optimizer, steps, epoch * -(-len(X) // batch_size))
    return history


def train_cached(build, X, y, *, name, epochs, **train_kwargs):
    """A model from ``build()`` trained by :func:`train`, or its cached weights.

    The weights are saved under ``data/cache/{name}.pt`` (atomically), keyed
    by the training settings and the torch version, so a notebook re-run or a
    slider callback does not retrain. The cache only ever holds weights that
    this function produced.

    Parameters
    ----------
    build : callable
        Returns a fresh model (e.g. :func:`structlab.nn.models.lenet_300_100`).
    X, y : array_like
    name : str
        Cache file stem; use one name per configuration.
    epochs : int
    **train_kwargs
        Passed to :func:`train` (``lr``, ``l2``, ``seed``, ``validation``...).

    Returns
    -------
    model : nn.Module
    history : list of dict
        The training history (the cached one when loaded).
    """
    key = {"epochs": epochs, "rows": len(X), "torch": str(torch.__version__),
           **{k: v for k, v in train_kwargs.items() if k in ("lr", "l2", "seed", "batch_size")}}
    model = build()

    def run():
        history = train(model, X, y, epochs=epochs, **train_kwargs)
        return {"state": model.state_dict(), "history": history}

    saved = cached(name, key, run)
    model.load_state_dict(saved["state"])
    return model, saved["history"]


def cached(name, key, compute):
    """``compute()``'s dict, or the one saved as ``{name}.pt`` in the data cache with the same ``key``.

    The file is written atomically and read with ``weights_only=True``, so it
    holds tensors and plain containers only; an unreadable or stale file is
    recomputed and replaced.
    """
    path = cache_path(f"{name}.pt")
    try:
        saved = torch.load(path, weights_only=True)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError):
        saved = {}  # no cache yet, or an unreadable one: recompute and replace it
    if saved.get("key") == key:
        return saved
    saved = {"key": key, **compute()}
    atomic_write(path, lambda f: torch.save(saved, f))
    return saved


def distill(layer, X, target_logits, *, epochs, lr=1e-3, batch_size=256, seed=0, progress=True):
    """Train ``layer`` so that ``layer(X)`` matches ``target_logits`` (mean squared error).

    For fine-tuning a structured final layer on features without labels: the
    dense layer's logits are the target. Adam, learning rate on a cosine decay.

    Returns
    -------
    list of float
        Mean training loss per epoch.
    """
    from tqdm.auto import tqdm

    X, Y = (as_array(a, name) for a, name in ((X, "X"), (target_logits, "target_logits")))
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y):
        raise ValueError(f"X and target_logits must be matrices with one row per sample, got "
                         f"shapes {X.shape} and {Y.shape}")
    epochs = check_int(epochs, "epochs", low=1, high=MAX_EPOCHS)
    batch_size, seed = check_int(batch_size, "batch_size", low=1), check_int(seed, "seed", low=0)
    lr = check_float(lr, "lr", low=0, open_low=True)
    X, Y = (torch.as_tensor(a, dtype=_float_dtype(layer)) for a in (X, Y))
    out = check_fit(layer, X)
    if out.shape[1:] != Y.shape[1:]:
        raise ValueError(f"the layer gives {tuple(out.shape[1:])} outputs per row, "
                         f"target_logits has {tuple(Y.shape[1:])}")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(layer.parameters(), lr=lr)
    steps = epochs * -(-len(X) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    history = []
    for _ in tqdm(range(epochs), desc="distill", disable=not progress):
        total = 0.0
        for batch in torch.randperm(len(X), generator=generator).split(batch_size):
            optimizer.zero_grad()
            loss = (layer(X[batch]) - Y[batch]).square().mean()
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
        history.append(total / len(X))
    return history
