"""nbgrader's own generate_assignment and autograde on chapter 1: solved → full points, stub → 0;
the questions released without their model answers, left to grade by hand."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from structlab import exercises
from structlab.editions import question_points, write_nbgrader_source
from structlab.grading import default_tests_folder, load_hidden

nbgrader_api = pytest.importorskip("nbgrader.api", reason="nbgrader not installed "
                                   "(pip install -e '.[instructor]')")
CHAPTER = "01_svd_wine_mlp"


def _nbgrader(course, *arguments):
    # nbgrader runs `alembic` from PATH: the one beside this interpreter
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    run = subprocess.run([sys.executable, "-m", "nbgrader", *arguments], cwd=course,
                         env={**os.environ, "PATH": path, "STRUCTLAB_SMOKE": "1"},
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def test_generate_assignment_and_autograde(tmp_path):
    course = tmp_path / "course"
    write_nbgrader_source(course, load_hidden(default_tests_folder()))
    _nbgrader(course, "generate_assignment", CHAPTER, "--force")
    release = course / "release" / CHAPTER / f"{CHAPTER}.ipynb"
    released = release.read_text()
    assert "BEGIN SOLUTION" not in released and "HIDDEN TESTS" not in released
    # alice solves every exercise in the released notebook; bob hands it in untouched
    source = nbformat.read(course / "source" / CHAPTER / f"{CHAPTER}.ipynb", as_version=4)
    solutions = {c.id: c.source for c in source.cells if c.cell_type == "code"
                 and c.metadata.get("nbgrader", {}).get("solution")}
    answers = [c for c in source.cells if c.metadata["structlab"]["role"] == "answer"]
    model_lines = [line for c in answers for line in c.source.splitlines()[3:-1] if line]
    assert answers and model_lines and not any(line in released for line in model_lines)
    assert released.count("YOUR ANSWER HERE") == len(answers)
    solved = nbformat.read(release, as_version=4)
    for cell in solved.cells:
        cell.source = solutions.get(cell.id, cell.source)
    for student, notebook in [("alice", solved), ("bob", nbformat.read(release, as_version=4))]:
        folder = course / "submitted" / student / CHAPTER
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / f"{CHAPTER}.ipynb")
    _nbgrader(course, "autograde", CHAPTER, "--create")
    total = sum(exercises.exercise(n).points for n in exercises.names(CHAPTER))
    by_hand = sum(question_points(c) for c in answers)  # not graded yet: no points so far
    with nbgrader_api.Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {s: (gradebook.find_submission(CHAPTER, s).score,
                      gradebook.find_submission(CHAPTER, s).max_score) for s in ("alice", "bob")}
    assert scores == {"alice": (total, total + by_hand), "bob": (0, total + by_hand)}
    shutil.rmtree(course)
