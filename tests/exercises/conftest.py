"""The hidden tests (``hidden_*.py`` here) and the notebook editions they run on.

To grade one student's notebook with pytest (the ``structlab grade`` command
grades a whole class, each notebook in its own process):
``STRUCTLAB_GRADE=their.ipynb pytest tests/exercises -k graded``; only the
tests of that notebook's chapter run.
"""

import os
from functools import cache
from pathlib import Path

from structlab import editions, exercises, grading

HERE = Path(__file__).resolve().parent


@cache
def hidden_tests():
    return grading.load_hidden(HERE)


@cache
def hidden_tests_from_source():
    """The hidden tests as nbgrader runs them: each from its own cell source
    (:func:`structlab.grading.hidden_source`), with nothing else of its module."""
    tests = {}
    for name, test in hidden_tests().items():
        scope = {"__name__": "__main__"}
        exec(grading.hidden_source(test), scope)
        tests[name] = scope[test.__name__]
    return tests


@cache
def solution_sources():
    return {stem: text for stem, text, _ in editions.chapter_sources()}


def namespace_of(notebook):
    """What the grader's cells define in ``notebook`` (checks and hidden tests not run)."""
    namespace = {"__name__": "__main__"}
    notes = grading.run_cells(grading.graded_cells(notebook), namespace)
    assert not notes, notes
    return namespace


@cache
def edition_namespace(chapter, edition):
    notebook = editions.chapter_notebook(solution_sources()[chapter], chapter, edition)
    return namespace_of(notebook)


def graded_submission():
    """``(path, chapter, notebook)`` of ``$STRUCTLAB_GRADE``, or ``None`` when it is unset."""
    path = os.environ.get("STRUCTLAB_GRADE")
    if not path:
        return None
    notebook = grading.read_submission(path)
    return Path(path), grading.detect_chapter(notebook, path), notebook


def pytest_generate_tests(metafunc):
    if "graded_exercise" in metafunc.fixturenames:
        submission = graded_submission()
        names = exercises.names(submission[1]) if submission else []
        metafunc.parametrize("graded_exercise", names,
                             ids=[f"graded-{name}" for name in names])
