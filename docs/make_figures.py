"""Draw the README's picture of each chapter into docs/figures/NN.png, from the library.

    python docs/make_figures.py [--only 01 07]

Uses the cached trained networks and features when present (the first run trains
LeNet-300-100 by the chapter 3 recipe); about two minutes. Seeds are fixed, so the
pictures only change when the code does (timings excepted: they are measured).
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from structlab import datasets, plots  # noqa: E402

OUT = Path(__file__).resolve().parent / "figures"


def wine():
    from structlab.nn.layers import layer_matrix
    from structlab.nn.models import wine_mlp
    from structlab.nn.train import fit_full_batch

    data = datasets.wine()
    model = wine_mlp(seed=0)
    fit_full_batch(model, data.X_train, data.y_train)
    return plots.spectrum(np.linalg.svd(layer_matrix(model.hidden), compute_uv=False), rank=2,
                          title="Wine MLP hidden layer [W | b]: rank 2 of 10")


def _lenet():
    from structlab.nn.recipes import trained_baseline

    data = datasets.mnist()
    return trained_baseline("lenet300", data.X_train, data.y_train)[0]


def _lenet_fc1():
    return _lenet().fc1.weight.detach().double().numpy()


def pruning():
    from structlab.approx.pruning import magnitude_mask

    W = _lenet_fc1()
    return plots.weight_histogram(W * magnitude_mask(W, sparsity=0.92),
                                  title="LeNet-300-100 fc1: the 8 % kept by magnitude")


def quantization():
    from structlab.approx.kmeans import init_centroids, kmeans_1d

    w = _lenet_fc1().ravel()
    centroids = {mode: kmeans_1d(w, init_centroids(w, 8, mode))[0]
                 for mode in ("forgy", "density", "linear")}
    return plots.centroids_on_histogram(w, centroids, title="3-bit shared values by k-means init")


def palm4msa():
    from structlab.approx.budget import hadamard_butterflies

    return plots.factor_images(hadamard_butterflies(32))


def sss():
    from structlab.approx.sss import sss_approximate

    W = datasets.mobilenet_v2().classifier[-1].weight.detach().double().numpy()[:240, :320]
    S = sss_approximate(W, W.size // 5, stages=8)
    return plots.sss_blocks(W, S.row_sizes, S.col_sizes, cut=3,
                            title="MobileNetV2 classifier (240 x 320 corner), 8 stages")


def widths():
    from structlab.nn.models import EVOLVING_PAIRS, evolving_cnn
    from structlab.nn.widths import WidthPolicy, evolve_cached

    data = datasets.mnist()
    policy = WidthPolicy(keep_energy=0.985, grow_ratio=0.95, max_shrink=0.5, min_width=4)
    _, log = evolve_cached(evolving_cnn, (16, 32, 64, 512), EVOLVING_PAIRS, data.X_train[:5000],
                           data.y_train[:5000], name="figure_evolving", policy=policy, epochs=6,
                           resize_until=3, progress=False)
    return plots.widths_over_epochs(log)


def timing():
    from structlab.kernel_bench import cases, rows

    return plots.speedups(list(rows(cases(), batches=(1,))))


def capstone():
    from structlab.approx.budget import METHODS
    from structlab.nn.compress import compress
    data = datasets.mnist()
    model = _lenet()
    points = []
    for method in METHODS:
        for share in ([0.1] if method == "codebook" else [0.05, 0.1, 0.2]):
            _, r = compress(model, method, share, layers=["fc1"],
                            data=(data.X_val[:2000], data.y_val[:2000]))
            points.append({"method": method, "bytes": r["bytes"], "score": r["accuracy"],
                           "us": r["layers"][0]["us"]})
    return plots.pareto(points, title="LeNet-300-100, fc1 compressed: validation accuracy")


FIGURES = {"01": wine, "02": pruning, "03": quantization, "04": palm4msa, "05": sss,
           "06": widths, "07": timing, "08": capstone}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=list(FIGURES), default=list(FIGURES))
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    for number in args.only:
        fig = FIGURES[number]()
        fig.savefig(OUT / f"{number}.png", dpi=90, bbox_inches="tight")
        print(f"wrote {OUT / f'{number}.png'}")


if __name__ == "__main__":
    main()
