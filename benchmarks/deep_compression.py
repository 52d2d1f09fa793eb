"""Deep Compression on MNIST: the paper's Table 1, reproduced beside its numbers.

    python benchmarks/deep_compression.py [--model lenet300|lenet5|all] [--smoke] [--json]

For each network: train a baseline, prune iteratively (retraining with the masks
held), share weights by k-means (linear init) and fine-tune the centroids, then
Huffman-code weight indices and relative positions. Every stage is evaluated on
the 10k test set; all choices were made on the validation split. Sizes count
every stored bit (indices, positions, fillers, codebooks, Huffman tables, float32
biases) against the dense float32 network.
"""

import argparse
import time

from common import report

from structlab.datasets import mnist
from structlab.info import versions
from structlab.nn.compress import iterative_prune, model_storage, quantize
from structlab.nn.recipes import DEEP_COMPRESSION
from structlab.nn.train import accuracy, train

# Han et al. 2016, Table 1: (error before, error after, size before KB, size after KB, ratio)
PAPER = {"lenet300": (1.64, 1.58, 1070, 27, 40), "lenet5": (0.80, 0.74, 1720, 44, 39)}

def run(name, config, data, smoke=False):
    """Yield one result row per stage of the pipeline for network ``name``."""
    scale = (lambda epochs: 1) if smoke else (lambda epochs: epochs)
    fit = dict(validation=(data.X_val, data.y_val), progress=not smoke)
    start = time.perf_counter()

    def row(stage, model, fixed=False):
        storage = model_storage(model)
        dense = sum(r.dense_bits for r in storage)
        size = sum(r.fixed_bits if fixed else r.huffman_bits for r in storage)
        return {"model": name, "stage": stage,
                "test_error_pct": round(100 * (1 - accuracy(model, data.X_test, data.y_test)), 2),
                "val_error_pct": round(100 * (1 - accuracy(model, data.X_val, data.y_val)), 2),
                "size_kb": round(size / 8000, 2), "dense_kb": round(dense / 8000, 2),
                "ratio": round(dense / size, 1), "seconds": round(time.perf_counter() - start, 1)}

    model = config["build"](seed=0)
    train(model, data.X_train, data.y_train, epochs=scale(config["epochs"]), lr=config["lr"],
          l2=config["l2"], **fit)
    yield row("baseline", model)
    model, _ = iterative_prune(model, config["sparsity"], data.X_train, data.y_train,
                               steps=config["steps"], epochs=scale(config["retrain_epochs"]),
                               lr=config["retrain_lr"], l2=config["l2"], progress=not smoke)
    yield row("pruned", model)
    model = quantize(model, config["bits"], init="linear")
    train(model, data.X_train, data.y_train, epochs=scale(config["finetune_epochs"]),
          lr=config["finetune_lr"], **fit)
    yield row("pruned+quantized", model, fixed=True)
    yield row("pruned+quantized+huffman", model)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["lenet300", "lenet5", "all"], default="all")
    parser.add_argument("--smoke", action="store_true", help="2k training images, 1 epoch per stage")
    parser.add_argument("--json", action="store_true", help="one JSON object per result row")
    args = parser.parse_args()
    data = mnist()
    if args.smoke:
        data = type(data)(data.X_train[:2000], data.y_train[:2000], data.X_val[:1000],
                          data.y_val[:1000], data.X_test[:1000], data.y_test[:1000], data.classes)
    names = list(DEEP_COMPRESSION) if args.model == "all" else [args.model]
    v = versions()
    title = f"torch {v['torch']}, numpy {v['numpy']}{', SMOKE' if args.smoke else ''}"
    header = (f"{'model':<9} {'stage':<25} {'test err %':>10} {'val err %':>9} {'size KB':>8} "
              f"{'ratio':>6} {'time s':>7}   paper")

    def line(r):
        paper = PAPER[r["model"]]
        note = {"baseline": f"{paper[0]:.2f} % error, {paper[2]} KB",
                "pruned+quantized+huffman": f"{paper[1]:.2f} % error, {paper[3]} KB, {paper[4]}x"}
        return (f"{r['model']:<9} {r['stage']:<25} {r['test_error_pct']:>10.2f} "
                f"{r['val_error_pct']:>9.2f} {r['size_kb']:>8.1f} {r['ratio']:>6.1f} "
                f"{r['seconds']:>7.0f}   {note.get(r['stage'], '')}")

    rows = (row for name in names for row in run(name, DEEP_COMPRESSION[name], data,
                                                 smoke=args.smoke))
    report(rows, as_json=args.json, title=title, header=header, format_row=line)

if __name__ == "__main__":
    main()
