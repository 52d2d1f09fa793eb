"""Every exercise's hidden test: full points on the solution, none on the stub or a mistake."""

import inspect

import pytest

from structlab import editions, exercises, grading
from structlab.exercises.student import strip_solutions

from .conftest import (edition_namespace, graded_submission, hidden_tests,
                       hidden_tests_from_source, namespace_of, solution_sources)
from .test_checks import PLAUSIBLE_MISTAKES

EXERCISES = [pytest.param(exercises.exercise(n).chapter, n, id=n) for n in exercises.names()]

# Design tasks whose hidden test *is* the visible check, run on the validation and the
# test split: it rejects whatever the visible check rejects by construction, so running
# each of their mistakes (a training each) through it again would prove nothing new.
SAME_RULES_AND_TEST_SPLIT = {"prune_to_budget", "compress_to_budget", "conv2_product",
                             "width_policy", "fast_fc1", "capstone_design"}
# Every design task (3 points, graded by outcome): small_wine_network's and sss_design's
# hidden tests grade on cases of their own (other wine splits, other segmented matrices).
DESIGN_TASKS = SAME_RULES_AND_TEST_SPLIT | {"small_wine_network", "sss_design"}


def test_design_hidden_tests_rerun_the_visible_rules_on_both_splits():
    for name in SAME_RULES_AND_TEST_SPLIT:
        source = inspect.getsource(hidden_tests()[name])
        assert 'splits=("val", "test")' in source and f'ns["{name}"]' in source, name


def test_every_exercise_has_one_hidden_test_and_positive_points():
    assert sorted(hidden_tests()) == sorted(exercises.names())
    assert all(exercises.exercise(n).points >= 1 for n in exercises.names())


@pytest.mark.parametrize("chapter, name", EXERCISES)
def test_solution_earns_the_points_and_the_stub_none(chapter, name):
    # Each hidden test runs from its own source, as nbgrader keeps it in a cell: so this
    # also proves that the source runs on its own (its imports and helpers came along).
    points = exercises.exercise(name).points
    assert grading.grade_exercise(name, edition_namespace(chapter, "solution"),
                                  hidden_tests_from_source()) == (points, "")
    earned, reason = grading.grade_exercise(name, edition_namespace(chapter, "student"),
                                            hidden_tests_from_source())
    assert (earned, reason) == (0, "not implemented yet")


@pytest.mark.parametrize("chapter, name", [case for case in EXERCISES
                                           if case.values[1] not in DESIGN_TASKS])
def test_one_exercise_solved_earns_exactly_its_points(chapter, name):
    # The design tasks are left out (each would train or search twice more): this tests
    # the grader's bookkeeping, the same for every exercise, and the test above grades
    # their solutions and stubs.
    notebook = editions.chapter_notebook(solution_sources()[chapter], chapter, "solution")
    for cell in notebook.cells:
        if cell.metadata["structlab"]["role"] == "exercise" and cell.id != name:
            cell.source = strip_solutions(cell.source)
    results = grading.grade_namespace(chapter, namespace_of(notebook), hidden_tests())
    assert {n: p for n, (p, _) in results.items()} == {
        n: exercises.exercise(n).points if n == name else 0 for n in exercises.names(chapter)}


@pytest.mark.parametrize("name, wrong", [case for case in PLAUSIBLE_MISTAKES
                                         if case[0] not in SAME_RULES_AND_TEST_SPLIT])
def test_hidden_tests_alone_reject_every_plausible_mistake(name, wrong):
    """At least as strict as the visible checks: each mistake they catch, the hidden test does too.

    (The grader runs the visible check first anyway; this holds the hidden tests to it.)
    """
    with pytest.raises(Exception):  # a wrong answer, or the student's code failing on a case
        hidden_tests()[name]({name: wrong})


def test_graded(graded_exercise):
    """``STRUCTLAB_GRADE=their.ipynb pytest tests/exercises -k graded``: one test per exercise."""
    path, chapter, notebook = graded_submission()
    namespace = {"__name__": "__main__"}
    grading.run_cells(grading.graded_cells(notebook), namespace)
    points, reason = grading.grade_exercise(graded_exercise, namespace, hidden_tests())
    assert points == exercises.exercise(graded_exercise).points, f"{path.name}: {reason}"
