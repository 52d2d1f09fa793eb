"""Every structure's C kernel against the dense product, one thread, measured in one run.

    python benchmarks/kernels.py [--smoke] [--json] [--batch 1 64] [--plot FILE]

Matrices: MobileNetV2's ImageNet classifier (1000 x 1280, shipped weights),
LeNet-300-100's fc1 (300 x 784, trained on MNIST by the chapter 3 recipe) and
the 1024-point Walsh-Hadamard transform (10 butterfly factors). Each is
compressed by every method to about 10 % of its numbers (the codebook: 4-bit
indices for all entries). For each row: best and median microseconds of the
structure's kernel, of the dense C kernel and of NumPy's ``X @ W.T``
(OpenBLAS) on the same matrix and input; the FLOP ratio (theoretical
speed-up), the measured speed-up over the dense C kernel, and achieved =
speed-up / FLOP ratio. Goals at batch 1: the dense C kernel within 1.3x of
NumPy; every structure achieving >= 50 % of its FLOP ratio.
"""


import numpy as np
from common import layer_options, report

from structlab import kernels
from structlab.info import versions
from structlab.kernel_bench import HEADER, cases, format_row, rows


def main():
    parser = layer_options(__doc__.splitlines()[0])
    parser.add_argument("--plot", help="save the speed-up plot to this file")
    args = parser.parse_args()
    timing = dict(repeats=3, min_sample=2e-4) if args.smoke else {}
    v = versions()
    title = (f"numpy {v['numpy']}, native kernel {kernels.native_available()}, float32, 1 thread; "
             f"times in microseconds (best / median){', SMOKE' if args.smoke else ''}")
    table = []

    def keep(generator):  # the plot needs every row once the table is printed
        for row in generator:
            table.append(row)
            yield row

    report(keep(rows(cases(args.smoke, args.share, progress=not args.json), args.batch,
                     np.float32, **timing)),
           as_json=args.json, title=title, header=HEADER, format_row=format_row)
    if args.plot:
        from structlab import plots

        plots.speedups(table).savefig(args.plot, dpi=120, bbox_inches="tight")


if __name__ == "__main__":
    main()
