"""SSS vs low rank vs a product of sparse factors on MobileNetV2's ImageNet classifier.

    python benchmarks/sss_imagenet.py [--smoke] [--json] [--imagenet ROOT] [--photos N]

The classifier is the 1000 x 1280 final layer of torchvision's MobileNetV2. At
each share of its 1,280,000 weights, every method gets the same budget of stored
numbers (the bias stays dense and is not counted); the table gives the relative
Frobenius error of the weight, the relative error of the logits and the top-1
agreement with the dense layer on penultimate features, and the fit time (one
thread). Features come from augmented views of the photos shipped by installed
packages, or from a user's ImageNet folder (``--imagenet``, then top-1 accuracy
is reported too). Nothing here passes or fails.

structurednets (Kissel & Diepold) reached, on this matrix at shares 0.1/0.2/0.3/0.5,
relative error 0.876/0.793/0.707/0.579 with SSS and 0.761/0.619/0.497/0.327 with
truncated SVD. Goal: beat their SSS at every share in under 1 s per fit.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread for every fit timed here

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from common import report  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from structlab import datasets  # noqa: E402
from structlab.approx.palm4msa import hierarchical, rectangular_constraints  # noqa: E402
from structlab.approx.report import classifier_metrics  # noqa: E402
from structlab.approx.sss import sss_approximate  # noqa: E402
from structlab.approx.svd import lowrank_approximation  # noqa: E402
from structlab.info import versions  # noqa: E402

SHARES = [0.1, 0.2, 0.3, 0.5]
# structurednets' relative errors on this matrix, per share: (SSS, truncated SVD)
STRUCTUREDNETS = {0.1: (0.876, 0.761), 0.2: (0.793, 0.619), 0.3: (0.707, 0.497),
                  0.5: (0.579, 0.327)}
PALM_SWEEPS = 10


def sss(W, budget):
    return sss_approximate(W, budget)


def lowrank(W, budget):
    return lowrank_approximation(W, max(1, budget // sum(W.shape)))


def sparse_product(W, budget):
    """Two sparse factors (m x r)(r x n), r = min(m, n), as many per row as the budget allows."""
    k = min(max(1, budget // (W.shape[0] + min(W.shape))), min(W.shape))
    return hierarchical(W, *rectangular_constraints(W.shape, 2, k), PALM_SWEEPS).product


METHODS = {"SSS": sss, "low rank": lowrank, "sparse product": sparse_product}


def run(W, b, features, shares):
    """Yield one row per (share, method); structurednets' figures only for the full matrix."""
    full = W.shape == (1000, 1280)
    for share in shares:
        budget = int(share * W.size)
        for name, fit in METHODS.items():
            start = time.perf_counter()
            S = fit(W, budget)
            seconds = time.perf_counter() - start
            metrics = classifier_metrics(W, b, S, features.X, features.y)
            reference = STRUCTUREDNETS.get(share, (None, None)) if full else (None, None)
            yield {"share": share, "method": name, "budget": budget, "nparams": S.nparams,
                   **{k: round(v, 4) for k, v in metrics.items()}, "fit_s": round(seconds, 3),
                   "structurednets_error": reference[0] if name == "SSS" else
                   reference[1] if name == "low rank" else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="the first 100 classes, 8 photo views, two shares: seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    parser.add_argument("--imagenet", metavar="ROOT", help="an ImageNet folder for the features")
    parser.add_argument("--photos", type=int, default=512, help="augmented photo views")
    args = parser.parse_args()
    model = datasets.mobilenet_v2()
    linear = model.classifier[-1]
    W = linear.weight.detach().double().numpy()
    b = linear.bias.detach().double().numpy()
    if args.imagenet:
        features = datasets.imagenet_features(args.imagenet, progress=not args.json)
    else:
        features = datasets.photo_features(8 if args.smoke else args.photos,
                                           progress=not args.json)
    shares = SHARES
    if args.smoke:
        W, b, shares = W[:100], b[:100], [0.2, 0.5]
    v = versions()
    title = (f"numpy {v['numpy']}, torch {v['torch']}; MobileNetV2 classifier {W.shape[0]}x"
             f"{W.shape[1]}; features: {features.source}; 1 thread")
    header = (f"{'share':>5} {'method':<15} {'numbers':>8} {'W error':>8} {'logit err':>9} "
              f"{'agree':>6} {'fit s':>7} {'structurednets':>15}")

    def line(r):
        reference = "-" if r["structurednets_error"] is None else f"{r['structurednets_error']:.3f}"
        return (f"{r['share']:>5} {r['method']:<15} {r['nparams']:>8} {r['weight_error']:>8.3f} "
                f"{r['logit_error']:>9.3f} {r['agreement']:>6.3f} {r['fit_s']:>7.2f} "
                f"{reference:>15}")

    with threadpool_limits(1):
        report(run(W, b, features, shares), as_json=args.json, title=title, header=header,
               format_row=line)

if __name__ == "__main__":
    main()
