"""The ``structlab`` command: info, data, course, student, bench, export-layer."""

import argparse
import sys
from pathlib import Path

from structlab.approx.budget import METHODS


def _info(args):
    from structlab.info import summary

    print(summary())


def _data(args):
    from structlab import datasets

    for row in datasets.asset_status():
        print(f"{row['name']:<13} {row['status']:<16} {row['path']}")
    print("building the MNIST cache ...")
    mnist = datasets.mnist()
    print(f"mnist: {len(mnist.y_train)} train, {len(mnist.y_val)} validation, "
          f"{len(mnist.y_test)} test images in {datasets.cache_dir()}")


def _course(args):
    from structlab.course import render_course

    pages = render_course(args.out, smoke=args.smoke, seed=args.seed)
    for path, seconds in pages:
        print(f"{path.stem:<20} {seconds:7.1f} s")
    print(f"wrote {len(pages)} notebooks as HTML; open {args.out}/index.html")


def _student(args):
    from structlab.exercises.student import write_student_editions

    for path in write_student_editions(args.out):
        print(f"wrote {path}")


def _bench(args):
    import numpy as np

    from structlab.kernel_bench import HEADER, cases, format_row, rows

    print(HEADER)
    print("-" * len(HEADER))
    timing = dict(repeats=3, min_sample=2e-4) if args.smoke else {}
    for row in rows(cases(args.smoke, args.share, progress=True), args.batch, np.float32,
                    **timing):
        print(format_row(row), flush=True)


def _export_layer(args):
    import numpy as np

    from structlab.kernel_bench import matrix, structure
    from structlab.kernels import export_layer

    S = structure(matrix(args.matrix, args.seed), args.method, args.share, args.seed)
    export_layer(S, args.out, np.dtype(args.dtype), butterflies=not args.no_butterflies)
    path = Path(args.out).resolve()  # make -C changes directory first
    print(f"wrote {path}: {args.method} {args.matrix}, {getattr(S, 'nparams', np.size(S)):,} "
          f"numbers; time it with `make -C native bench LAYER={path}`")


def main(argv=None):
    """Entry point of the ``structlab`` console script."""
    parser = argparse.ArgumentParser(prog="structlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="versions, native kernel, data assets").set_defaults(run=_info)
    commands.add_parser("data", help="verify data assets and build caches").set_defaults(run=_data)
    course = commands.add_parser("course", help="execute every notebook, write HTML")
    course.add_argument("--out", default="build/course", help="output folder (default: %(default)s)")
    course.add_argument("--smoke", action="store_true", help="small sizes, as in CI")
    course.add_argument("--seed", type=int, help="run every notebook with this SEED instead")
    course.set_defaults(run=_course)
    student = commands.add_parser("student", help="write student notebooks (solutions stubbed)")
    student.add_argument("--out", default="build/student", help="output folder (default: %(default)s)")
    student.set_defaults(run=_student)
    bench = commands.add_parser("bench", help="time every structure's C kernel against dense")
    bench.add_argument("--smoke", action="store_true", help="small random layer, seconds")
    bench.add_argument("--batch", type=int, nargs="+", default=[1, 64])
    bench.add_argument("--share", type=float, default=0.1, help="share of the dense numbers")
    bench.set_defaults(run=_bench)
    export = commands.add_parser("export-layer", help="write a layer file for native/structlab-bench")
    export.add_argument("out", help="the layer description file to write")
    export.add_argument("--matrix", default="mobilenet",
                        choices=["mobilenet", "lenet300", "hadamard", "random"])
    export.add_argument("--method", default="sss", choices=["dense", "butterflies", *METHODS])
    export.add_argument("--share", type=float, default=0.1, help="share of the dense numbers")
    export.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    export.add_argument("--no-butterflies", action="store_true",
                        help="store butterfly factors as CSR")
    export.add_argument("--seed", type=int, default=0)
    export.set_defaults(run=_export_layer)
    args = parser.parse_args(argv)
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
