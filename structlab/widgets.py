"""Interactive explorers: pure callbacks (values in, numbers out), plots kept apart.

Tests drive a widget by setting ``slider.value``; no browser needed.
"""

import base64
import html
import io
from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import scipy.linalg
from IPython import get_ipython
from IPython.display import Image, display

from structlab import plots
from structlab._validate import as_matrix, check_int
from structlab.approx.report import relative_error
from structlab.approx.svd import lowrank_approximation


def lowrank_point(W, rank, score=None):
    """Numbers for one rank: stored weights, ratio, relative error, and ``score(rank)``.

    Parameters
    ----------
    W : array_like, shape (m, n)
        The matrix to approximate (for a layer, ``[W | b]``).
    rank : int
    score : callable, optional
        ``score(rank) -> float``, e.g. the test accuracy of the rank-r network.

    Examples
    --------
    >>> import numpy as np
    >>> lowrank_point(np.eye(3), 1)["params"]
    6
    """
    W = as_matrix(W, "W")
    S = lowrank_approximation(W, rank)
    return {"rank": rank, "params": S.nparams, "dense_params": S.dense_nparams,
            "ratio": S.compression_ratio, "rel_error": relative_error(W, S),
            "score": None if score is None else float(score(rank))}


def format_point(point, score_name="test accuracy"):
    """One-line HTML readout of :func:`lowrank_point`."""
    text = (f"<b>rank {point['rank']}</b>: {point['params']} weights "
            f"(dense {point['dense_params']}, {point['ratio']:.2f}x), "
            f"relative error {point['rel_error']:.3f}")
    if point["score"] is not None:
        text += f", {score_name} {point['score']:.3f}"
    return text


@dataclass
class Explorer:
    """Controls, a readout and a plot, wired by :func:`explorer`.

    ``controls`` maps each callback argument to its widget; set ``.value`` on
    one to recompute (that is how tests drive it). ``figure`` holds the plot
    as last drawn (PNG bytes; empty outside IPython).

    Displayed, it publishes the live widget and, beside it, a static HTML
    snapshot of its current state (:meth:`snapshot`): a front end with
    widgets shows the live one, a page without them (the HTML course, a
    notebook viewer) the snapshot.
    """

    controls: dict
    readout: widgets.HTML
    plot: widgets.Output
    widget: widgets.VBox
    figure: bytes = b""

    def snapshot(self):
        """The controls' values, the readout and the plot, as static HTML."""
        values = ", ".join(f"{getattr(c, 'description', '') or name} = {c.value}"
                           for name, c in self.controls.items())
        image = (f'<img alt="the plot" src="data:image/png;base64,'
                 f'{base64.b64encode(self.figure).decode()}">' if self.figure else "")
        return (f'<div class="structlab-snapshot"><p><em>A static snapshot of this explorer '
                f"({html.escape(values)}); run the notebook to move its controls.</em></p>"
                f"<p>{self.readout.value}</p>{image}</div>")

    def _ipython_display_(self):
        display({**self.widget._repr_mimebundle_(), "text/html": self.snapshot()}, raw=True)


def explorer(controls, point, describe, draw):
    """Wire widgets to pure functions: ``point(**values) -> result``, then text and figure.

    Parameters
    ----------
    controls : dict of {argument name: ipywidgets value widget}
    point : callable
        Pure computation from the controls' values to a result.
    describe : callable
        ``describe(result) -> str`` (HTML) for the readout.
    draw : callable
        ``draw(result) -> matplotlib Figure``; drawn only inside IPython.
    """
    readout, plot = widgets.HTML(), widgets.Output()
    shown = Explorer(controls, readout, plot, widgets.VBox([*controls.values(), readout, plot]))

    def update(change=None):
        result = point(**{name: control.value for name, control in controls.items()})
        readout.value = describe(result)
        if get_ipython() is None:  # no front end to draw in (plain Python, tests)
            return
        fig, png = draw(result), io.BytesIO()
        fig.savefig(png, format="png", bbox_inches="tight")
        plt.close(fig)  # shown once, as the PNG below, not again by the inline backend
        shown.figure = png.getvalue()
        with plot:
            plot.clear_output(wait=True)
            display(Image(shown.figure))

    for control in controls.values():
        control.observe(update, names="value")
    update()
    return shown


def rank_explorer(W, score=None, rank=1, score_name="test accuracy"):
    """Slider over the rank of ``W``'s approximation, with live numbers and spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> e = rank_explorer(np.diag([3.0, 2.0, 1.0]))
    >>> e.controls["rank"].value = 2
    >>> "rank 2" in e.readout.value
    True
    """
    W = as_matrix(W, "W")
    rank = check_int(rank, "rank", low=1, high=min(W.shape))
    s = scipy.linalg.svdvals(W)
    slider = widgets.IntSlider(value=rank, min=1, max=min(W.shape), description="rank",
                               continuous_update=False)
    return explorer({"rank": slider}, lambda rank: lowrank_point(W, rank, score),
                    lambda point: format_point(point, score_name),
                    lambda point: plots.spectrum(s, point["rank"]))


def _size_summary(model, X, y):
    from structlab.nn.compress import model_storage
    from structlab.nn.train import accuracy

    storage = model_storage(model)
    size = sum(r.huffman_bits for r in storage)
    return {"accuracy": accuracy(model, X, y), "size_kb": size / 8000,
            "ratio": sum(r.dense_bits for r in storage) / size}


def pruning_point(model, quality, X, y, layer=None):
    """Prune every layer at ``quality * std`` (no retraining): accuracy and size.

    Returns a dict with ``quality``, per-layer ``sparsity``, ``accuracy`` on
    ``(X, y)``, Huffman-coded ``size_kb`` and ``ratio`` (see
    :func:`structlab.nn.compress.model_storage`), and the surviving ``weights``
    of ``layer`` (default the first) for plotting.
    """
    from structlab.nn.compress import effective_weight, layer_mask, prunable_layers, prune

    pruned = prune(model, quality=quality)
    names = prunable_layers(pruned)
    layer = layer or names[0]
    return {"quality": quality, "layer": layer,
            "sparsity": {n: 1 - layer_mask(getattr(pruned, n)).mean() for n in names},
            "weights": effective_weight(getattr(pruned, layer)), **_size_summary(pruned, X, y)}


def pruning_explorer(model, X, y, quality=1.0):
    """Slider over the std-quality of pruning: sparsity, accuracy, size, weight histogram."""
    slider = widgets.FloatSlider(value=quality, min=0.0, max=3.0, step=0.1,
                                 description="quality", continuous_update=False)

    def describe(p):
        layers = ", ".join(f"{n} {100 * s:.0f} %" for n, s in p["sparsity"].items())
        return (f"<b>quality {p['quality']:.1f}</b>: pruned {layers}; accuracy "
                f"{p['accuracy']:.4f}, {p['size_kb']:.1f} KB ({p['ratio']:.1f}x)")

    return explorer({"quality": slider}, lambda quality: pruning_point(model, quality, X, y),
                    describe, lambda p: plots.weight_histogram(
                        p["weights"], title=f"{p['layer']} after pruning"))


def quantization_point(model, bits, init, X, y, layer=None):
    """Share each layer's weights among ``2**bits`` values (no fine-tuning): accuracy, size.

    A layer with fewer than ``2**bits`` distinct surviving weights gets the
    largest number of bits it can fill (listed in ``capped``).

    Returns a dict with ``bits``, ``init``, ``capped``, ``accuracy``,
    Huffman-coded ``size_kb`` and ``ratio``, and the ``weights`` and
    ``centroids`` of ``layer`` (default the first) before sharing, for plotting.
    """
    from structlab.nn.compress import effective_weight, layer_mask, prunable_layers, quantize

    names = prunable_layers(model)
    fits = {n: int(np.log2(len(np.unique(effective_weight(getattr(model, n))[
        layer_mask(getattr(model, n))])))) for n in names}
    per_layer = {n: min(bits, fits[n]) for n in names}
    shared = quantize(model, per_layer, init=init)
    layer = layer or names[0]
    centroids = getattr(shared, layer).parametrizations.weight[0].centroids.detach().numpy()
    return {"bits": bits, "init": init, "layer": layer, "centroids": centroids,
            "capped": {n: b for n, b in per_layer.items() if b < bits},
            "weights": effective_weight(getattr(model, layer)), **_size_summary(shared, X, y)}


def quantization_explorer(model, X, y, bits=4, init="linear"):
    """Bits slider and init menu: accuracy, size and where the centroids sit."""
    controls = {
        "bits": widgets.IntSlider(value=bits, min=1, max=8, description="bits",
                                  continuous_update=False),
        "init": widgets.Dropdown(options=["linear", "density", "forgy"], value=init,
                                 description="init"),
    }

    def describe(p):
        capped = "".join(f"; {n} capped at {b} bits (too few weights)"
                         for n, b in p["capped"].items())
        return (f"<b>{p['bits']} bits, {p['init']} init</b>: accuracy {p['accuracy']:.4f}, "
                f"{p['size_kb']:.1f} KB ({p['ratio']:.1f}x){capped}")

    return explorer(controls, lambda bits, init: quantization_point(model, bits, init, X, y),
                    describe, lambda p: plots.centroids_on_histogram(
                        p["weights"], {p["init"]: p["centroids"]},
                        title=f"{p['layer']}: {2 ** p['bits']} shared values"))


def palm_point(model, name, n_factors, k, X, y, n_iter=20, seed=0):
    """Layer ``name`` as ``n_factors`` sparse factors with ``k`` nonzeros per row, scored.

    Returns a dict with ``n_factors``, ``k``, ``nnz``, ``dense`` (numbers of the
    dense weight), ``error`` (relative Frobenius), fit ``seconds``, ``accuracy``
    on ``(X, y)``, the ``lowrank_rank`` storing no more numbers and its
    ``lowrank_accuracy`` (``None`` when not even rank 1 fits), and the
    ``product`` for drawing.
    """
    from structlab.nn.compress import layer_weight_matrix, with_sparse_product, with_weight
    from structlab.nn.train import accuracy

    W = layer_weight_matrix(getattr(model, name))
    small, fit = with_sparse_product(model, name, n_factors, k, n_iter=n_iter, seed=seed)
    rank = fit.product.nparams // sum(W.shape)
    lowrank = None
    if rank >= 1:
        approx = lowrank_approximation(W, min(rank, min(W.shape))).toarray()
        lowrank = accuracy(with_weight(model, name, approx), X, y)
    return {"n_factors": n_factors, "k": k, "nnz": fit.product.nparams, "dense": W.size,
            "error": fit.error, "seconds": fit.seconds, "accuracy": accuracy(small, X, y),
            "lowrank_rank": rank,
            "lowrank_accuracy": lowrank, "product": fit.product}


def palm_explorer(model, name, X, y, n_factors=3, k=4, n_iter=20):
    """Sliders over the number of factors and nonzeros per row: size, error, accuracy."""
    controls = {
        "n_factors": widgets.IntSlider(value=n_factors, min=2, max=6, description="factors",
                                       continuous_update=False),
        "k": widgets.SelectionSlider(options=[1, 2, 4, 8, 16, 32, 64], value=k,
                                     description="nnz / row", continuous_update=False),
    }

    def describe(p):
        lowrank = ("no rank fits in that budget" if p["lowrank_accuracy"] is None else
                   f"rank {p['lowrank_rank']} at the same size: {p['lowrank_accuracy']:.4f}")
        return (f"<b>{p['n_factors']} factors, {p['k']} per row</b>: {p['nnz']:,} numbers "
                f"({p['dense'] / p['nnz']:.1f}x smaller), relative error {p['error']:.3f}, "
                f"accuracy {p['accuracy']:.4f}; {lowrank}")

    return explorer(controls, lambda n_factors, k: palm_point(model, name, n_factors, k, X, y,
                                                               n_iter),
                    describe, lambda p: plots.factor_images(p["product"]))


def sss_point(W, b, X, stages, state):
    """``W`` as SSS with ``stages`` uniform stages and ``state`` states at every cut, scored.

    Returns a dict with ``stages``, ``state``, ``nparams``, ``share`` of the
    dense numbers, the ``metrics`` of
    :func:`structlab.approx.report.classifier_metrics` on features ``X``, the
    ``sss`` and the stage sizes for drawing.
    """
    from structlab.approx.report import classifier_metrics
    from structlab.approx.sss import sss_realization, uniform_partition

    rows, cols = uniform_partition(W.shape[0], stages), uniform_partition(W.shape[1], stages)
    S = sss_realization(W, rows, cols, [state] * (stages - 1), [state] * (stages - 1))
    return {"stages": stages, "state": state, "nparams": S.nparams, "share": S.nparams / W.size,
            "metrics": classifier_metrics(W, b, S, X), "sss": S, "rows": rows, "cols": cols}


def sss_explorer(W, b, X, stages=8, state=16):
    """Sliders over the number of stages and the state size: size, error, agreement."""
    controls = {
        "stages": widgets.IntSlider(value=stages, min=1, max=64, description="stages",
                                    continuous_update=False),
        "state": widgets.IntSlider(value=state, min=0, max=128, description="state",
                                   continuous_update=False),
    }

    def describe(p):
        m = p["metrics"]
        return (f"<b>{p['stages']} stages, state {p['state']}</b>: {p['nparams']:,} numbers "
                f"({100 * p['share']:.1f} % of dense), weight error {m['weight_error']:.3f}, "
                f"logit error {m['logit_error']:.3f}, top-1 agreement {m['agreement']:.3f}")

    def draw(p):
        return plots.sss_blocks(p["sss"].toarray(), p["rows"], p["cols"],
                                cut=p["stages"] // 2 - 1 if p["stages"] > 1 else None,
                                title="the SSS approximation")

    return explorer(controls, lambda stages, state: sss_point(W, b, X, stages, state),
                    describe, draw)


def width_point(model, pairs, keep_energy, grow_ratio):
    """The width a :class:`~structlab.nn.widths.WidthPolicy` would choose for each managed layer.

    Pure: the model is not changed. Returns ``keep_energy``, ``grow_ratio``,
    ``widths`` (name -> (current, target)) and the layers' ``weights``.
    """
    from structlab.nn.widths import WidthPolicy, width_of

    policy = WidthPolicy(keep_energy=keep_energy, grow_ratio=grow_ratio)
    widths, weights = {}, {}
    for name, _ in pairs:
        layer = model.get_submodule(name)
        weight = layer.weight.detach().cpu().numpy()
        bias = None if layer.bias is None else layer.bias.detach().cpu().numpy()
        widths[name] = (width_of(layer), policy.target(weight, bias))
        weights[name] = weight
    return {"keep_energy": keep_energy, "grow_ratio": grow_ratio, "widths": widths,
            "weights": weights}


def width_explorer(model, pairs, keep_energy=0.95, grow_ratio=0.5):
    """Sliders over the shrink and grow thresholds: what each layer would become."""
    controls = {
        "keep_energy": widgets.FloatSlider(value=keep_energy, min=0.5, max=0.999, step=0.005,
                                           readout_format=".3f", description="keep energy",
                                           continuous_update=False),
        "grow_ratio": widgets.FloatSlider(value=grow_ratio, min=0.05, max=1.0, step=0.05,
                                          description="grow ratio", continuous_update=False),
    }

    def describe(p):
        moves = ", ".join(f"{name} {now} &rarr; {target}"
                          for name, (now, target) in p["widths"].items())
        return f"<b>keep {p['keep_energy']:.3f}, grow at {p['grow_ratio']:.2f}</b>: {moves}"

    return explorer(controls, lambda keep_energy, grow_ratio: width_point(
        model, pairs, keep_energy, grow_ratio), describe,
        lambda p: plots.spectra(p["weights"], keep=p["keep_energy"]))


def timing_point(W, method, share, batch=1):
    """``W`` compressed by ``method`` to ``share`` of its numbers and timed against dense.

    Returns :func:`structlab.timing.compare`'s row plus ``method``, ``share``
    and ``numbers`` (stored numbers).
    """
    from structlab.approx.budget import approximate
    from structlab.timing import compare

    S = approximate(W, method, share)
    return {"method": method, "share": share, "numbers": S.nparams,
            **compare(S, batch, repeats=5, min_sample=1e-3)}


def timing_explorer(W, methods=("lowrank", "pruning", "sss", "sparse product"), share=0.1):
    """A method menu and a share slider: measured time against the number of stored numbers.

    For methods whose size follows the share (not ``codebook``, whose size
    follows its bits).
    """
    controls = {
        "method": widgets.Dropdown(options=list(methods), value=methods[0], description="method"),
        "share": widgets.FloatLogSlider(value=share, base=10, min=-2, max=0, step=0.125,
                                        description="share", readout_format=".3f",
                                        continuous_update=False),
    }

    def describe(p):
        return (f"<b>{p['method']}, {p['numbers']:,} numbers</b> ({100 * p['share']:.1f} % of "
                f"dense): {p['structure_best'] * 1e6:.1f} µs against dense C "
                f"{p['dense_c_best'] * 1e6:.1f} µs; speed-up {p['speedup']:.2f}x of a possible "
                f"{p['flop_ratio']:.1f}x")

    return explorer(controls, lambda method, share: timing_point(W, method, share), describe,
                    plots.time_vs_numbers)
