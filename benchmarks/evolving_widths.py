"""Layer widths that shrink and grow by SVD while a CNN trains on MNIST.

    python benchmarks/evolving_widths.py [--smoke] [--json] [--run shrink grow residual]

``shrink`` starts from a wide CNN (1.88 M parameters) and lets a
:class:`~structlab.nn.widths.WidthController` resize its four widths after each
of the first 8 of 24 epochs: to the fewest units holding 98.5 % of a layer's
spectral energy, at most half a layer per step, the next layer refitted by least
squares on 2,000 training images when it is a Linear. (Chosen on the validation
split among keep = 0.95 / 0.98 / 0.985 / 0.99 and 14 or 24 epochs.) ``grow`` starts far too narrow
and lets flat spectra add units. ``residual`` shrinks a residual CNN
(:func:`~structlab.nn.models.evolving_resnet`): the inner widths of its two
blocks and its hidden layer (the skip connections fix the outer channels), with
the shrink run's policy for 16 epochs, resizing during the first 6 (not tuned).
Every row is one epoch: widths (in the order of the run's pairs), parameters,
validation accuracy, wall time; the last row of a run adds the test accuracy
(measured once, at the end; nothing was tuned on it). Goal on this 2-core CPU:
>= 98.5 % test accuracy with <= 15,000 parameters in <= 15 minutes.
"""

import argparse

import torch
from common import report

from structlab.datasets import mnist
from structlab.info import versions
from structlab.nn.models import (EVOLVING_PAIRS, EVOLVING_RESNET_PAIRS, evolving_cnn,
                                 evolving_resnet)
from structlab.nn.train import accuracy
from structlab.nn.widths import WidthPolicy, evolve

SHRINK = WidthPolicy(keep_energy=0.985, grow_ratio=0.95, max_shrink=0.5, min_width=4)
RUNS = {
    # name: (model, pairs, start widths, policy, epochs, resize during the first ... epochs)
    "shrink": (evolving_cnn, EVOLVING_PAIRS, (32, 64, 128, 1536), SHRINK, 24, 8),
    "grow": (evolving_cnn, EVOLVING_PAIRS, (2, 2, 2, 2),
             WidthPolicy(keep_energy=0.999, grow_ratio=0.05, grow_by=1.0, max_width=32), 10, 6),
    "residual": (evolving_resnet, EVOLVING_RESNET_PAIRS, (64, 64, 1024), SHRINK, 16, 6),
}


def run(name, data, smoke=False):
    """Train one run; a row per epoch (the last one with the test accuracy)."""
    build, pairs, widths, policy, epochs, resize_until = RUNS[name]
    X, y = data.X_train, data.y_train
    val = (data.X_val, data.y_val)
    if smoke:
        X, y, val, epochs, resize_until = X[:1000], y[:1000], (val[0][:500], val[1][:500]), 2, 2
        widths = tuple(max(2, w // 8) for w in widths)
    model = build(widths, seed=0)
    log = evolve(model, pairs, X, y, policy=policy, epochs=epochs,
                 resize_until=resize_until, validation=val, progress=False).log
    rows = [{"run": name, "epoch": row["epoch"], "widths": row["widths"], "params": row["params"],
             "val_accuracy": round(row["val_accuracy"], 4), "seconds": round(row["seconds"], 1),
             "test_accuracy": None} for row in log[1:]]
    rows[-1]["test_accuracy"] = round(accuracy(model, data.X_test, data.y_test), 4)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="1k images, 2 epochs, narrow starts")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    parser.add_argument("--run", nargs="+", choices=list(RUNS), default=list(RUNS))
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = mnist()
    v = versions()
    legend = "; ".join(f"{name} {'/'.join(layer for layer, _ in RUNS[name][1])}" for name in args.run)
    title = (f"torch {v['torch']}, {torch.get_num_threads()} threads{', SMOKE' if args.smoke else ''}"
             f"; widths of {legend}")
    header = (f"{'run':<8} {'epoch':>5} {'widths':>16} "
              f"{'params':>9} {'val acc':>8} {'seconds':>8} {'test acc':>8}")

    def line(r):
        test = "" if r["test_accuracy"] is None else f"{r['test_accuracy']:.4f}"
        widths = "/".join(str(w) for w in r["widths"].values())
        return (f"{r['run']:<8} {r['epoch']:>5} {widths:>16} {r['params']:>9,} "
                f"{r['val_accuracy']:>8.4f} {r['seconds']:>8.1f} {test:>8}")

    rows = (row for name in args.run for row in run(name, data, smoke=args.smoke))
    report(rows, as_json=args.json, title=title, header=header, format_row=line)


if __name__ == "__main__":
    main()
