"""Here because pyproject.toml can declare neither cffi extensions nor generated package data.

Two things happen at build time:

- the C kernels are compiled (``cffi_modules``); the extension is optional, so
  without a working C compiler the install still succeeds and structlab runs its
  NumPy fallback (``structlab info`` says so, and why);
- every chapter's *student* source (solutions replaced by stubs) is written into
  the package as ``structlab/chapters/NN_name.py``, for ``structlab notebooks``.
  The solutions never enter a wheel or an sdist: a checkout strips
  ``notebooks/``, an sdist carries the stripped ``student/`` sources instead.
"""

import runpy
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent


def student_sources():
    """``(file name, student source)`` of every chapter: from ``notebooks/``, else ``student/``."""
    # run on its own: the build environment need not have structlab's dependencies
    strip = runpy.run_path(str(HERE / "structlab" / "exercises" / "student.py"))["strip_solutions"]
    folder = HERE / "notebooks" if (HERE / "notebooks").is_dir() else HERE / "student"
    return [(p.name, strip(p.read_text(encoding="utf-8")))
            for p in sorted(folder.glob("[0-9][0-9]_*.py"))]


def write_sources(folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in student_sources():
        (folder / name).write_text(text, encoding="utf-8")


class BuildPy(build_py):
    def run(self):
        super().run()
        write_sources(Path(self.build_lib) / "structlab" / "chapters")


class SDist(sdist):
    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        write_sources(Path(base_dir) / "student")


setup(cffi_modules=["native/build_kernels.py:ffibuilder"],
      cmdclass={"build_py": BuildPy, "sdist": SDist})
