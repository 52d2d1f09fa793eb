"""The ``structlab`` command: the course, its editions, the grader, data and benchmarks.

A mistake in what is typed (a missing folder, ``--share 5``, an unknown method)
prints one line saying what was expected and exits with status 2; nothing is
half-written. Each command imports what it needs when it runs, so that
``structlab --help`` does not wait for torch.
"""

import argparse
import os
import sys
from pathlib import Path

import structlab
from structlab.approx.budget import METHODS

DESCRIPTION = "Compress neural-network layers with structured matrices, and measure it."


class UsageError(Exception):
    """A mistake in the command line: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _share(text):
    """A share of the dense numbers: a float in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text!r}")
    return value


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value <= 0:
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__}, got {text!r}")
        return value
    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _method(text):
    """A method name; hyphens stand for spaces (``sparse-product``)."""
    name = text.replace("-", " ").replace("_", " ")
    if name not in ("dense", "butterflies", *METHODS):
        known = ", ".join(m.replace(" ", "-") for m in ("dense", "butterflies", *METHODS))
        raise argparse.ArgumentTypeError(f"must be one of {known}, got {text!r}")
    return name


def _file_in_existing_folder(text):
    """An output file whose folder exists (so a typo does not create a tree somewhere)."""
    folder = Path(text).expanduser().resolve().parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {folder} does not exist")
    return Path(text)


def _info(args):
    from structlab.info import summary

    print(summary())


def _data(args):
    from structlab import assets, datasets
    from structlab.cache import cache_dir

    for row in assets.asset_status():
        print(f"{row['name']:<13} {row['status']:<16} {row['path'] or row['install']}")
    print("building the MNIST cache ...")
    mnist = datasets.mnist()
    print(f"mnist: {len(mnist.y_train)} train, {len(mnist.y_val)} validation, "
          f"{len(mnist.y_test)} test images in {cache_dir()}")


def _course(args):
    from structlab.course import render_course

    pages = render_course(args.out, smoke=args.smoke, seed=args.seed)
    for path, seconds in pages:
        print(f"{path.stem:<20} {seconds:7.1f} s")
    print(f"wrote {len(pages)} notebooks as HTML; open {args.out}/index.html")


def _student(args):
    from structlab.editions import write_release

    for path in write_release(args.out):
        print(f"wrote {path}")
    print(f"the student release is {args.out}: notebooks without solutions and a README; "
          "no hidden tests")


def _notebooks(args):
    from structlab.editions import write_notebooks

    written, kept = write_notebooks(args.folder, overwrite=args.force)
    for path in written:
        print(f"wrote {path}")
    for path in kept:
        print(f"kept  {path} (it exists and may hold your work; --force replaces it)")


def _tests_folder(args):
    from structlab.grading import default_tests_folder

    folder = args.tests or default_tests_folder()
    if folder is None or not Path(folder).is_dir():
        raise UsageError("--tests: the folder of hidden tests (tests/exercises of the course's "
                         "source checkout) was not found; pass --tests DIR")
    return folder


def _nbgrader(args):
    from structlab.editions import write_nbgrader_source
    from structlab.grading import load_hidden

    written = write_nbgrader_source(args.course, load_hidden(_tests_folder(args)))
    for path in written:
        print(f"wrote {path}")
    print(f"next, in {args.course}: nbgrader generate_assignment {written[0].parent.name} "
          "(and the others), then release, collect and `nbgrader autograde`")


def _grade(args):
    from structlab.gradebook import grade_all, submissions, write_csv
    from structlab.grading import resolve_chapter

    tests = _tests_folder(args)
    chapter = None if args.chapter is None else resolve_chapter(args.chapter)
    paths = submissions(args.submissions)
    if not paths:
        raise UsageError("SUBMISSION: no .ipynb file found")
    rows = grade_all(paths, tests, jobs=args.jobs, timeout=args.timeout, chapter=chapter)
    write_csv(rows, args.out)
    for row in rows:
        score = f"{row['total']}/{row['max']}" if row["chapter"] else "0"
        reason = row["reason"] if len(row["reason"]) < 100 else row["reason"][:97] + "..."
        print(f"{score:>6}  {row['chapter'] or '?':<20} {row['file']}  {reason}")
    print(f"graded {len(rows)} notebooks; gradebook written to {args.out}")


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


def parser():
    """The argument parser of ``structlab`` (every subcommand)."""
    top = _Parser(prog="structlab", description=DESCRIPTION)
    top.add_argument("--version", action="version", version=f"structlab {structlab.__version__}")
    commands = top.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                  metavar="COMMAND")

    def command(name, run, help):
        sub = commands.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
        sub.set_defaults(run=run)
        return sub

    command("info", _info, "versions, native kernel, cache folder, data assets")
    command("data", _data, "verify the data assets and build the MNIST cache")
    course = command("course", _course, "execute every chapter and write the HTML course")
    course.add_argument("--out", default="build/course", help="output folder (default: %(default)s)")
    course.add_argument("--smoke", action="store_true", help="small sizes, as in CI")
    course.add_argument("--seed", type=int, help="run every notebook with this SEED instead")
    student = command("student", _student,
                      "write the student release: notebooks without solutions, and a README")
    student.add_argument("--out", default="build/student", help="output folder (default: %(default)s)")
    notebooks = command("notebooks", _notebooks,
                        "write the student notebooks into FOLDER (keeps the ones already there)")
    notebooks.add_argument("folder", metavar="FOLDER")
    notebooks.add_argument("--force", action="store_true", help="replace notebooks already there")
    nbgrader = command("nbgrader", _nbgrader,
                       "write an nbgrader course's source/ folder (solutions and hidden tests)")
    nbgrader.add_argument("course", metavar="COURSE_FOLDER")
    nbgrader.add_argument("--tests", help="the hidden tests (default: the checkout's tests/exercises)")
    grade = command("grade", _grade, "grade submitted notebooks into a CSV gradebook")
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                       help="notebooks, or folders searched for .ipynb files")
    grade.add_argument("--out", required=True, type=_file_in_existing_folder,
                       help="the gradebook CSV to write")
    grade.add_argument("--jobs", type=_positive(int), default=os.cpu_count() or 1,
                       help="notebooks graded at once (default: %(default)s, the cores)")
    grade.add_argument("--timeout", type=_positive(float), default=60.0,
                       help="seconds each cell and each exercise may take (default: %(default)g)")
    grade.add_argument("--chapter", help="the chapter expected (number or name); other "
                                         "chapters' notebooks get 0 points")
    grade.add_argument("--tests", help="the hidden tests (default: the checkout's tests/exercises)")
    bench = command("bench", _bench, "time every structure's C kernel against dense")
    bench.add_argument("--smoke", action="store_true", help="small random layer, seconds")
    bench.add_argument("--batch", type=_positive(int), nargs="+", default=[1, 64])
    bench.add_argument("--share", type=_share, default=0.1,
                       help="share of the dense numbers, in (0, 1] (default: %(default)s)")
    export = command("export-layer", _export_layer,
                     "write a layer file for the standalone C timer (native/structlab-bench)")
    export.add_argument("out", type=_file_in_existing_folder, help="the layer file to write")
    export.add_argument("--matrix", default="mobilenet",
                        choices=["mobilenet", "lenet300", "hadamard", "random"])
    export.add_argument("--method", type=_method, default="sss",
                        help="dense, butterflies, " + ", ".join(m.replace(" ", "-") for m in METHODS)
                        + " (default: %(default)s)")
    export.add_argument("--share", type=_share, default=0.1,
                        help="share of the dense numbers, in (0, 1] (default: %(default)s)")
    export.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    export.add_argument("--no-butterflies", action="store_true",
                        help="store butterfly factors as CSR")
    export.add_argument("--seed", type=int, default=0)
    return top


def main(argv=None):
    """Entry point of the ``structlab`` console script; returns the exit status."""
    try:
        args = parser().parse_args(argv)
        args.run(args)
    except UsageError as error:
        print(f"structlab: error: {error}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError, NotADirectoryError) as error:
        # the library's own checks: they name the argument and what was expected
        print(f"structlab: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("structlab: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
