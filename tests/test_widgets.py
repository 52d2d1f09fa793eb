import re

import numpy as np
import pytest

from structlab import plots
from structlab.widgets import format_point, lowrank_point, rank_explorer


@pytest.fixture
def W(rng):
    return rng.standard_normal((10, 14))


def test_lowrank_point_numbers(W):
    point = lowrank_point(W, 2, score=lambda r: r / 10)
    s = np.linalg.svd(W, compute_uv=False)
    assert point["params"] == 48 and point["dense_params"] == 140
    assert point["ratio"] == pytest.approx(140 / 48)
    assert point["rel_error"] == pytest.approx(np.sqrt(np.sum(s[2:] ** 2) / np.sum(s**2)))
    assert point["score"] == 0.2
    assert lowrank_point(W, 10)["rel_error"] == pytest.approx(0, abs=1e-12)
    assert "rank 2</b>: 48 weights" in format_point(point)


def test_slider_drives_the_readout(W):
    calls = []
    explorer = rank_explorer(W, score=lambda r: calls.append(r) or 0.5, rank=3)
    slider = explorer.controls["rank"]
    assert slider.max == 10 and "rank 3" in explorer.readout.value
    slider.value = 7
    assert "rank 7</b>: 168 weights" in explorer.readout.value
    assert calls == [3, 7]


def test_explorer_rejects_bad_rank(W):
    with pytest.raises(ValueError, match="rank must be between 1 and 10"):
        rank_explorer(W, rank=11)


def test_spectrum_plot_marks_kept_values():
    fig = plots.spectrum([4.0, 2.0, 1.0, 0.5], rank=2)
    bars = fig.axes[0].patches
    kept = [bar for bar in bars if bar.get_facecolor() == fig.axes[0].patches[0].get_facecolor()]
    assert len(bars) == 4 and len(kept) == 2


def test_rank_curves_plot():
    table = [{"rank": r, "params": 24 * r, "accuracy": 0.5 + r / 20} for r in (1, 2, 3)]
    fig = plots.rank_curves(table, baseline=0.7, dense_params=60)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), [0.55, 0.6, 0.65])
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), [24, 48, 72])
    assert fig.axes[1].lines[1].get_ydata()[0] == 60


def test_palm_explorer_sliders_refit_the_layer(rng):
    import torch

    from structlab.nn.models import lenet_300_100
    from structlab.widgets import palm_explorer

    torch.manual_seed(0)
    model = lenet_300_100()
    X, y = rng.random((50, 784)).astype(np.float32), rng.integers(0, 10, 50)
    explorer = palm_explorer(model, "fc3", X, y, n_factors=2, k=2, n_iter=2)
    # fc3 is 10 x 100: (10 x 10)(10 x 100) with 2 per row stores at most 40 numbers
    numbers = int(re.search(r"2 factors, 2 per row</b>: (\d+) numbers", explorer.readout.value)[1])
    assert 30 < numbers <= 40 and "no rank fits" in explorer.readout.value  # rank 1 needs 110
    explorer.controls["k"].value = 8
    assert re.search(r"2 factors, 8 per row</b>: 1\d\d numbers", explorer.readout.value)
    assert "rank 1 at the same size" in explorer.readout.value


def test_factor_images_and_accuracy_plot():
    from structlab.structures import SparseProduct

    product = SparseProduct([np.eye(4), np.kron(np.eye(2), [[1.0, 1.0], [1.0, -1.0]])])
    fig = plots.factor_images(product)
    assert len(fig.axes) == 3 and fig.axes[2].get_title() == "product (4x4)"
    np.testing.assert_array_equal(fig.axes[2].images[0].get_array(), product.toarray())
    fig = plots.accuracy_vs_params({"a": [(10, 0.5), (5, 0.4)]}, baseline=0.9, dense_params=100)
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), [5, 10])


def test_sss_explorer_sliders(rng):
    from structlab.widgets import sss_explorer

    W, b, X = rng.standard_normal((30, 40)), rng.standard_normal(30), rng.standard_normal((20, 40))
    explorer = sss_explorer(W, b, X, stages=3, state=2)
    assert re.search(r"3 stages, state 2</b>: [\d,]+ numbers", explorer.readout.value)
    explorer.controls["state"].value = 40  # more than any cut can hold: exact
    assert "weight error 0.000" in explorer.readout.value
    assert "agreement 1.000" in explorer.readout.value
    explorer.controls["stages"].value = 1  # one stage: the dense matrix itself
    assert "1,200 numbers (100.0 % of dense)" in explorer.readout.value


def test_width_explorer_reports_targets():
    import torch

    from structlab.nn.models import EVOLVING_PAIRS, evolving_cnn
    from structlab.widgets import width_explorer

    torch.manual_seed(0)
    model = evolving_cnn((4, 6, 8, 10))
    explorer = width_explorer(model, EVOLVING_PAIRS, keep_energy=0.5, grow_ratio=1.0)
    assert "conv1 4 &rarr;" in explorer.readout.value and "fc1 10 &rarr;" in explorer.readout.value
    targets = [int(t) for t in re.findall(r"&rarr; (\d+)", explorer.readout.value)]
    explorer.controls["keep_energy"].value = 0.999
    more = [int(t) for t in re.findall(r"&rarr; (\d+)", explorer.readout.value)]
    assert all(a <= b for a, b in zip(targets, more)) and targets != more
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for p in evolving_cnn((4, 6, 8, 10)).parameters())  # nothing resized


def test_width_explorer_reaches_the_layers_inside_residual_blocks():
    from structlab.nn.models import EVOLVING_RESNET_PAIRS, evolving_resnet
    from structlab.widgets import width_point

    point = width_point(evolving_resnet((5, 6, 7)), EVOLVING_RESNET_PAIRS, 0.5, 1.0)
    assert {name: start for name, (start, _) in point["widths"].items()} == {
        "block1.branch.conv_a": 5, "block2.branch.conv_a": 6, "fc1": 7}
