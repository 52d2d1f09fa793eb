"""Matplotlib figures shared by the notebooks; each returns its ``Figure``."""

import matplotlib.pyplot as plt
import numpy as np


def spectrum(s, rank=None, *, ax=None, title="Singular values"):
    """Bar chart of singular values, the first ``rank`` highlighted, with cumulative energy.

    Examples
    --------
    >>> fig = spectrum([4.0, 2.5, 1.0], rank=2)
    >>> len(fig.axes)
    2
    """
    s = np.asarray(s, dtype=float)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    else:
        fig = ax.figure
    index = np.arange(1, len(s) + 1)
    kept = index <= (rank if rank is not None else len(s))
    ax.bar(index[kept], s[kept], color="tab:blue", label="kept")
    ax.bar(index[~kept], s[~kept], color="lightgray", label="dropped")
    ax.set(xlabel="index i", ylabel="singular value $\\sigma_i$", title=title, xticks=index)
    energy_ax = ax.twinx()
    energy_ax.plot(index, np.cumsum(s**2) / np.sum(s**2), "o-", color="tab:orange", ms=3)
    energy_ax.set(ylim=(0, 1.05), ylabel="energy kept")
    ax.legend(loc="center right")
    return fig


def rank_curves(table, *, baseline=None, dense_params=None, ax=None):
    """Test accuracy and the layer's weights against rank.

    Parameters
    ----------
    table : list of dict
        Rows with ``rank``, ``params`` and ``accuracy``, as returned by
        :func:`structlab.nn.compress.lowrank_sweep`.
    baseline : float, optional
        Accuracy of the uncompressed network (dashed line).
    dense_params : int, optional
        Weights of the dense layer: where the factors stop paying (dotted line).
    """
    ranks = [row["rank"] for row in table]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    else:
        fig = ax.figure
    ax.plot(ranks, [row["accuracy"] for row in table], "o-", label="rank-r network")
    if baseline is not None:
        ax.axhline(baseline, color="gray", ls="--", label="uncompressed")
    ax.set(xlabel="rank r", ylabel="test accuracy", xticks=ranks, ylim=(0, 1.02))
    params_ax = ax.twinx()
    params_ax.plot(ranks, [row["params"] for row in table], "s-", color="tab:green", ms=3)
    if dense_params is not None:
        params_ax.axhline(dense_params, color="tab:green", ls=":")
        params_ax.annotate("dense layer", (ranks[0], dense_params), color="tab:green",
                           textcoords="offset points", xytext=(0, 4))
    params_ax.set_ylabel("weights of the layer (green)", color="tab:green")
    ax.legend(loc="lower right")
    return fig
