"""The ``structlab`` command: info, data, course, student."""

import argparse
import sys


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

    pages = render_course(args.out, smoke=args.smoke)
    print(f"wrote {len(pages)} notebooks as HTML; open {args.out}/index.html")


def _student(args):
    from structlab.exercises.student import write_student_editions

    for path in write_student_editions(args.out):
        print(f"wrote {path}")


def main(argv=None):
    """Entry point of the ``structlab`` console script."""
    parser = argparse.ArgumentParser(prog="structlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="versions, native kernel, data assets").set_defaults(run=_info)
    commands.add_parser("data", help="verify data assets and build caches").set_defaults(run=_data)
    course = commands.add_parser("course", help="execute every notebook, write HTML")
    course.add_argument("--out", default="build/course", help="output folder (default: %(default)s)")
    course.add_argument("--smoke", action="store_true", help="small sizes, as in CI")
    course.set_defaults(run=_course)
    student = commands.add_parser("student", help="write student notebooks (solutions stubbed)")
    student.add_argument("--out", default="build/student", help="output folder (default: %(default)s)")
    student.set_defaults(run=_student)
    args = parser.parse_args(argv)
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
