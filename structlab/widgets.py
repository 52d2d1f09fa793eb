"""Interactive explorers: pure callbacks (values in, numbers out), plots kept apart.

Tests drive a widget by setting ``slider.value``; no browser needed.
"""

from dataclasses import dataclass

import ipywidgets as widgets
import matplotlib.pyplot as plt
import scipy.linalg
from IPython import get_ipython
from IPython.display import display

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
class RankExplorer:
    """A rank slider, its readout and its spectrum plot (see :func:`rank_explorer`)."""

    slider: widgets.IntSlider
    readout: widgets.HTML
    plot: widgets.Output
    widget: widgets.VBox

    def _ipython_display_(self):
        display(self.widget)


def rank_explorer(W, score=None, rank=1, score_name="test accuracy"):
    """Slider over the rank of ``W``'s approximation, with live numbers and spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> explorer = rank_explorer(np.diag([3.0, 2.0, 1.0]))
    >>> explorer.slider.value = 2
    >>> "rank 2" in explorer.readout.value
    True
    """
    W = as_matrix(W, "W")
    rank = check_int(rank, "rank", low=1, high=min(W.shape))
    s = scipy.linalg.svdvals(W)
    slider = widgets.IntSlider(value=rank, min=1, max=min(W.shape), description="rank",
                               continuous_update=False)
    readout, plot = widgets.HTML(), widgets.Output()

    def update(change=None):
        readout.value = format_point(lowrank_point(W, slider.value, score), score_name)
        if get_ipython() is None:  # no front end to draw in (plain Python, tests)
            return
        with plot:
            plot.clear_output(wait=True)
            fig = plots.spectrum(s, slider.value)
            display(fig)
            plt.close(fig)  # displayed once, not again by the inline backend

    slider.observe(update, names="value")
    update()
    return RankExplorer(slider, readout, plot, widgets.VBox([slider, readout, plot]))
