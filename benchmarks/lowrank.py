"""Low rank vs dense: time of one layer product, single thread, measured in one run.

    python benchmarks/lowrank.py [--batch 1] [--repeats 50]

For each shape and rank it prints the best time of the dense product and the
low-rank product, through the C kernels and through NumPy/OpenBLAS, next to
the theoretical ratio m*n / (r*(m+n)). Nothing here passes or fails;
``benchmarks/kernels.py`` times every structure.
"""

import argparse

import numpy as np

from structlab import kernels
from structlab.info import versions
from structlab.structures.lowrank import LowRank
from structlab.timing import best_time

CASES = [  # (name, m, n, ranks)
    ("wine hidden layer 10x14", 10, 14, [2]),
    ("LeNet-300-100 fc1 300x784", 300, 784, [10, 50]),
    ("MobileNetV2 classifier 1000x1280", 1000, 1280, [16, 64, 256]),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    v = versions()
    print(f"numpy {v['numpy']}, native kernel: {kernels.native_available()}, "
          f"batch {args.batch}, float32, 1 thread, best of {args.repeats}")
    header = (f"{'layer':<34} {'rank':>5} {'theory':>7} {'C dense us':>11} {'C lowrank us':>13} "
              f"{'C ratio':>8} {'BLAS dense us':>14} {'BLAS lowrank us':>16} {'BLAS ratio':>11}")
    print(header)
    print("-" * len(header))
    for name, m, n, ranks in CASES:
        W = rng.standard_normal((m, n)).astype(np.float32)
        X = rng.standard_normal((args.batch, n)).astype(np.float32)
        c_dense = best_time(kernels.Plan(W).bind(X), repeats=args.repeats)
        blas_dense = best_time(np.matmul, X, W.T, repeats=args.repeats)
        for r in ranks:
            U = rng.standard_normal((m, r)).astype(np.float32)
            V = rng.standard_normal((r, n)).astype(np.float32)
            c_low = best_time(kernels.Plan(LowRank(U, V)).bind(X), repeats=args.repeats)
            blas_low = best_time(lambda: (X @ V.T) @ U.T, repeats=args.repeats)
            print(f"{name:<34} {r:>5} {m * n / (r * (m + n)):>7.2f} {c_dense * 1e6:>11.1f} "
                  f"{c_low * 1e6:>13.1f} {c_dense / c_low:>8.2f} {blas_dense * 1e6:>14.1f} "
                  f"{blas_low * 1e6:>16.1f} {blas_dense / blas_low:>11.2f}")


if __name__ == "__main__":
    main()
