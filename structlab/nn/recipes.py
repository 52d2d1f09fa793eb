"""Deep Compression recipes: one place for the settings the notebooks and benchmark share.

Every value here was chosen on MNIST's validation split, never on the test set.
Sparsities are the fractions pruned per layer, close to the paper's (Han et al.
2016, Tables 2-3); ``steps`` are the fractions of those targets reached by each
prune -> retrain round; ``bits`` are per-layer codebook index widths.
"""

from structlab.nn.models import lenet_5, lenet_300_100
from structlab.nn.train import train_cached

DEEP_COMPRESSION = {
    "lenet300": dict(
        build=lenet_300_100, epochs=20, lr=2e-3, l2=1e-4,
        sparsity={"fc1": 0.92, "fc2": 0.91, "fc3": 0.74},
        steps=[0.3, 0.5, 0.65, 0.8, 0.9, 1.0], retrain_epochs=4, retrain_lr=1e-3,
        bits={"fc1": 5, "fc2": 5, "fc3": 6}, finetune_epochs=3, finetune_lr=3e-4),
    "lenet5": dict(
        build=lenet_5, epochs=12, lr=2e-3, l2=1e-4,
        sparsity={"conv1": 0.34, "conv2": 0.88, "fc1": 0.93, "fc2": 0.81},
        steps=[0.3, 0.5, 0.7, 0.85, 1.0], retrain_epochs=2, retrain_lr=5e-4,
        bits={"conv1": 8, "conv2": 8, "fc1": 4, "fc2": 5}, finetune_epochs=2, finetune_lr=3e-4),
}


def trained_baseline(name, X, y, *, epochs=None, seed=0, validation=None):
    """The recipe's network trained on ``(X, y)`` with its settings, cached on disk.

    Parameters
    ----------
    name : {"lenet300", "lenet5"}
    X, y : array_like
    epochs : int, optional
        Default: the recipe's (notebooks pass fewer in smoke mode).
    seed : int
    validation : tuple (X_val, y_val), optional

    Returns
    -------
    model, history
        As :func:`structlab.nn.train.train_cached`.
    """
    recipe = DEEP_COMPRESSION[name]
    epochs = recipe["epochs"] if epochs is None else epochs
    return train_cached(recipe["build"], X, y, name=f"{name}_{len(X)}_{epochs}", epochs=epochs,
                        lr=recipe["lr"], l2=recipe["l2"], seed=seed, validation=validation)
