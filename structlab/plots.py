"""Matplotlib figures shared by the notebooks; each returns its ``Figure``."""

import matplotlib.pyplot as plt
import numpy as np


def spectrum(s, rank=None, *, ax=None, title="Singular values", log=False):
    """Bar chart of singular values, the first ``rank`` highlighted, with cumulative energy.

    ``log`` puts the values on a log scale, so that a tail a thousand times
    smaller than the leading values stays visible.

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
    ax.set(xlabel="index i", ylabel="singular value $\\sigma_i$" + (" (log scale)" if log else ""),
           title=title, xticks=index, yscale="log" if log else "linear")
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


def weight_histogram(w, *, ax=None, title="Weights", bins=120, keep_zeros=False):
    """Histogram of a layer's weights (pruned zeros left out unless ``keep_zeros``)."""
    w = np.ravel(np.asarray(w, dtype=float))
    if not keep_zeros:
        w = w[w != 0]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    else:
        fig = ax.figure
    ax.hist(w, bins=bins, color="tab:blue", alpha=0.8)
    ax.set(xlabel="weight value", ylabel="count", title=f"{title} ({w.size} weights)")
    return fig


def weight_cdf(w, *, centroids=None, ax=None, title="Cumulative distribution"):
    """Empirical CDF of the nonzero weights, with centroids marked on it if given."""
    w = np.sort(np.ravel(np.asarray(w, dtype=float)))
    w = w[w != 0]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    else:
        fig = ax.figure
    ax.plot(w, np.arange(1, w.size + 1) / w.size, color="tab:blue")
    if centroids is not None:
        levels = np.searchsorted(w, centroids) / w.size
        ax.plot(centroids, levels, "o", color="tab:red", ms=4, label="centroids")
        ax.legend(loc="upper left")
    ax.set(xlabel="weight value", ylabel="fraction below", title=title)
    return fig


def centroids_on_histogram(w, centroids_by_name, *, ax=None, title="Shared values"):
    """Histogram of the nonzero weights with each set of centroids as a row of ticks."""
    fig = weight_histogram(w, ax=ax, title=title)
    ax = fig.axes[0] if ax is None else ax
    top = ax.get_ylim()[1]
    for row, (name, centroids) in enumerate(centroids_by_name.items()):
        y = top * (1.02 + 0.06 * row)
        ax.plot(centroids, np.full(len(centroids), y), "|", ms=10, mew=1.5, label=name)
    ax.set_ylim(0, top * (1.1 + 0.06 * len(centroids_by_name)))
    ax.legend(loc="upper right", fontsize=8)
    return fig


def sensitivity(scan, sparsities, *, baseline=None, ax=None):
    """Accuracy against sparsity, one line per layer, from :func:`sensitivity_scan`."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    else:
        fig = ax.figure
    for name, accuracies in scan.items():
        ax.plot(np.asarray(sparsities) * 100, accuracies, "o-", ms=3, label=name)
    if baseline is not None:
        ax.axhline(baseline, color="gray", ls="--", label="unpruned")
    ax.set(xlabel="weights pruned in that layer (%)", ylabel="validation accuracy",
           title="Sensitivity: one layer pruned at a time, no retraining")
    ax.legend(fontsize=8)
    return fig


def factor_images(product, *, titles=None, max_panels=8):
    """Each factor of a :class:`~structlab.structures.SparseProduct` as an image, then the product.

    Colour is the signed value (red positive, blue negative, white zero), so a
    butterfly shows as its two diagonals and the product as the dense matrix it makes.
    """
    factors = [F.toarray() for F in product.factors][:max_panels]
    panels = factors + [product.toarray()]
    titles = titles or [f"S{j}: {np.count_nonzero(F)} nnz" for j, F in enumerate(factors)] + [
        f"product ({product.shape[0]}x{product.shape[1]})"]
    fig, axes = plt.subplots(1, len(panels), figsize=(2.1 * len(panels), 2.4),
                             layout="constrained")
    for ax, M, title in zip(np.atleast_1d(axes), panels, titles):
        limit = np.abs(M).max() or 1.0
        ax.imshow(M, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
        ax.set(title=title, xticks=[], yticks=[])
        ax.title.set_fontsize(8)
    return fig


def accuracy_vs_params(curves, *, baseline=None, dense_params=None, ax=None,
                       ylabel="validation accuracy", title=None):
    """Accuracy against stored numbers, one line per method.

    Parameters
    ----------
    curves : dict of {label: list of (params, accuracy)}
    baseline : float, optional
        Accuracy of the uncompressed model (dashed line).
    dense_params : int, optional
        Numbers in the dense layer (dotted line; the x axis is logarithmic).
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    else:
        fig = ax.figure
    for label, points in curves.items():
        params, scores = zip(*sorted(points))
        ax.plot(params, scores, "o-", ms=4, label=label)
    if baseline is not None:
        ax.axhline(baseline, color="gray", ls="--", label="uncompressed")
    if dense_params is not None:
        ax.axvline(dense_params, color="gray", ls=":", label="dense layer")
    ax.set(xscale="log", xlabel="numbers stored by the layer", ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    return fig


def sss_blocks(W, row_sizes, col_sizes, cut=None, *, ax=None, title=None):
    """``|W|`` with its SSS stage grid; the Hankel blocks at ``cut`` outlined.

    Below the diagonal (red) the rows after stage ``cut`` and the columns up to
    it; above (blue) the mirror image. Their ranks are the state sizes an exact
    SSS realization needs at that cut.
    """
    from matplotlib.patches import Rectangle

    if ax is None:
        fig, ax = plt.subplots(figsize=(4.2, 3.6), layout="constrained")
    else:
        fig = ax.figure
    W = np.asarray(W)
    ax.imshow(np.abs(W), cmap="Greys", interpolation="nearest", aspect="auto")
    rows, cols = np.cumsum([0, *row_sizes]), np.cumsum([0, *col_sizes])
    for r in rows[1:-1]:
        ax.axhline(r - 0.5, color="tab:orange", lw=0.8)
    for c in cols[1:-1]:
        ax.axvline(c - 0.5, color="tab:orange", lw=0.8)
    if cut is not None:
        r, c = rows[cut + 1], cols[cut + 1]
        ax.add_patch(Rectangle((-0.5, r - 0.5), c, W.shape[0] - r, fill=False, ec="tab:red", lw=2,
                               label=f"lower Hankel block, cut {cut}"))
        ax.add_patch(Rectangle((c - 0.5, -0.5), W.shape[1] - c, r, fill=False, ec="tab:blue",
                               lw=2, label=f"upper Hankel block, cut {cut}"))
        ax.legend(fontsize=7, loc="lower left")
    ax.set(title=title or f"{len(row_sizes)} stages", xticks=[], yticks=[])
    return fig


def error_vs_share(rows, *, metric="weight_error", ax=None, references=None):
    """One line per method: ``metric`` against the share of the dense layer's numbers.

    ``rows`` are dicts with ``method``, ``share`` and ``metric``; ``references``
    maps a label to ``{share: value}`` drawn as dashed lines.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    else:
        fig = ax.figure
    for method in dict.fromkeys(r["method"] for r in rows):
        points = sorted((r["share"], r[metric]) for r in rows if r["method"] == method)
        ax.plot(*zip(*points), "o-", ms=4, label=method)
    for label, values in (references or {}).items():
        ax.plot(*zip(*sorted(values.items())), "x--", ms=5, color="gray", label=label)
    ax.set(xlabel="share of the dense layer's numbers", ylabel=metric.replace("_", " "))
    ax.legend(fontsize=8)
    return fig


def widths_over_epochs(log, *, ax=None):
    """Each managed layer's width per epoch, and the parameter count (right axis, log)."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    else:
        fig = ax.figure
    epochs = [row["epoch"] for row in log]
    for name in log[0]["widths"]:
        ax.plot(epochs, [row["widths"][name] for row in log], "o-", ms=3, label=name)
    ax.set(xlabel="epoch", ylabel="width", yscale="log")
    ax.legend(fontsize=8, loc="upper center")
    params = ax.twinx()
    params.plot(epochs, [row["params"] for row in log], "k--", label="parameters")
    params.set(yscale="log", ylabel="parameters (dashed)")
    return fig


def spectra(weights, *, keep=None, ax=None):
    """Cumulative energy of each layer's singular values (units on axis 0), one line each."""
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    else:
        fig = ax.figure
    for name, W in weights.items():
        s2 = np.linalg.svd(np.asarray(W).reshape(len(W), -1), compute_uv=False) ** 2
        ax.plot(np.arange(1, len(s2) + 1), np.cumsum(s2) / s2.sum(), ".-", ms=3, label=name)
    if keep is not None:
        ax.axhline(keep, color="gray", ls="--", label=f"keep {keep:g}")
    ax.set(xlabel="leading singular values kept", ylabel="share of energy", xscale="log")
    ax.legend(fontsize=8)
    return fig


def speedups(rows, *, ax=None):
    """Measured speed-up over the dense C kernel against the FLOP ratio, one marker per row.

    ``rows`` as :func:`structlab.kernel_bench.rows` yields (``case``,
    ``method``, ``batch``, ``flop_ratio``, ``speedup``). Colour is the method,
    the marker's shape the case (which layer), filled for batch 1 and hollow
    for larger batches; the diagonal is the theory and the dotted line half of
    it (the chapter's goal).

    Examples
    --------
    >>> rows = [{"case": "fc1", "method": "lowrank", "batch": 1, "flop_ratio": 10, "speedup": 6}]
    >>> len(speedups(rows).axes[0].collections)
    1
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
    else:
        fig = ax.figure
    rows = [r for r in rows if r["method"] != "dense"]
    methods = list(dict.fromkeys(r["method"] for r in rows))
    shapes = dict(zip(dict.fromkeys(r["case"] for r in rows), "os^Dv<>p"))
    for r in rows:
        colour = f"C{methods.index(r['method'])}"
        ax.scatter(r["flop_ratio"], r["speedup"], marker=shapes[r["case"]], s=36,
                   edgecolors=colour, facecolors=colour if r["batch"] == 1 else "none")
    top = max([r["flop_ratio"] for r in rows] + [2])
    line = np.geomspace(0.5, top * 1.5)
    handles = [ax.plot(line, line, "k-", lw=0.8, label="theory (FLOP ratio)")[0],
               ax.plot(line, line / 2, "k:", lw=0.8, label="half of it (goal)")[0]]
    handles += [plt.Line2D([], [], ls="", marker="o", color=f"C{i}", label=method)
                for i, method in enumerate(methods)]
    handles += [plt.Line2D([], [], ls="", marker=shape, color="gray", label=case)
                for case, shape in shapes.items()]
    batches = sorted({r["batch"] for r in rows})
    handles += [plt.Line2D([], [], ls="", marker="o", color="gray",
                           markerfacecolor="gray" if b == 1 else "none", label=f"batch {b}")
                for b in batches]
    ax.set(xscale="log", yscale="log", xlabel="FLOP ratio (dense / structure)",
           ylabel="measured speed-up over dense C")
    ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def time_vs_numbers(point, *, ax=None):
    """One timed structure against the dense product: time per product over stored numbers.

    ``point`` as :func:`structlab.widgets.timing_point` returns. The line is
    the dense time scaled by the multiply-adds: where a structure would land
    if time followed the FLOP count.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
    else:
        fig = ax.figure
    dense_us = point["dense_c_best"] * 1e6
    numbers = np.geomspace(point["dense_flops"] / 1000, point["dense_flops"])
    ax.plot(numbers, dense_us * numbers / point["dense_flops"], "k:", lw=0.8,
            label="time proportional to the FLOPs")
    ax.scatter([point["dense_flops"]], [dense_us], color="k", label="dense C kernel")
    ax.scatter([point["dense_flops"]], [point["numpy_best"] * 1e6], marker="x", color="gray",
               label="NumPy X @ W.T")
    ax.scatter([point["numbers"]], [point["structure_best"] * 1e6], s=60, color="C3",
               label=point["method"])
    ax.set(xscale="log", yscale="log", xlabel="stored numbers", ylabel="µs per product (best)")
    ax.legend(fontsize=8)
    return fig


def pareto(rows, *, size="bytes", score="score", time="us", ax=None, title=None):
    """Score against size, one colour per method, the marker's area growing with the time.

    ``rows`` are dicts with ``method``, ``size``, ``score`` and ``time``
    keys; the grey staircase joins the points no other point beats (smaller
    and better).
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    else:
        fig = ax.figure
    times = np.array([r[time] for r in rows], dtype=float)
    area = 20 + 200 * (np.log(times) - np.log(times.min())) / max(np.ptp(np.log(times)), 1e-9)
    for i, method in enumerate(dict.fromkeys(r["method"] for r in rows)):
        keep = [j for j, r in enumerate(rows) if r["method"] == method]
        ax.scatter([rows[j][size] for j in keep], [rows[j][score] for j in keep], s=area[keep],
                   color=f"C{i}", alpha=0.7, label=method)
    front, best = [], -np.inf
    for r in sorted(rows, key=lambda r: (r[size], -r[score])):
        if r[score] > best:
            front.append((r[size], r[score]))
            best = r[score]
    ax.step(*zip(*front), where="post", color="gray", lw=0.8, label="Pareto front")
    ax.set(xscale="log", xlabel=size, ylabel=score, title=title)
    ax.legend(fontsize=7, loc="lower right", title=f"area: {time} (log)", title_fontsize=7)
    return fig
