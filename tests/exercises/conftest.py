"""Hidden tests run against the notebook editions named here.

``solution`` is the instructor's source; ``student`` is the generated edition
with every solution stubbed, on which every test must fail (that proves the
tests can fail). To grade a student's notebook, point ``STRUCTLAB_GRADE`` at it:
``STRUCTLAB_GRADE=their.ipynb pytest tests/exercises -k graded``.
"""

import os
from pathlib import Path

import pytest

from structlab.course import NOTEBOOKS
from structlab.exercises.student import exercise_namespace, strip_solutions


def _source_text(path):
    path = Path(path)
    if path.suffix == ".ipynb":
        import jupytext

        return jupytext.writes(jupytext.read(path), fmt="py:percent")
    return path.read_text(encoding="utf-8")


def editions(chapter):
    """(id, source text, solved?) for the solution, the stubbed edition, and a graded file."""
    solution = _source_text(NOTEBOOKS / chapter)
    found = [("solution", solution, True), ("student", strip_solutions(solution), False)]
    if os.environ.get("STRUCTLAB_GRADE"):
        found.append(("graded", _source_text(os.environ["STRUCTLAB_GRADE"]), None))
    return found


def edition_params(chapter):
    return [pytest.param((text, solved), id=name) for name, text, solved in editions(chapter)]


@pytest.fixture
def namespace(request):
    text, solved = request.param
    return exercise_namespace(text), solved
