"""The grader: what it runs, how it tells chapters apart, and a whole class in subprocesses."""

import csv
import subprocess
import sys

import nbformat
import pytest

from structlab import editions, exercises, grading
from structlab._paths import checkout_root
from structlab.gradebook import grade_submission

CHAPTER_1 = "01_svd_wine_mlp"


def _edition(chapter, edition="solution"):
    text = {stem: text for stem, text, _ in editions.chapter_sources()}[chapter]
    return editions.chapter_notebook(text, chapter, edition)


def _replace_body(notebook, name, body):
    """The exercise cell defining ``name`` rewritten with ``body`` as its function body."""
    cell = next(c for c in notebook.cells if c.get("id") == name)
    header = cell.source.split("\n", 1)[0]
    cell.source = header + "\n" + "\n".join("    " + line for line in body.splitlines())


def _added(source):
    return nbformat.v4.new_code_cell(source)  # no structlab metadata: the student's own


def test_graded_cells_are_parameters_setup_exercises_and_added_cells():
    notebook = _edition(CHAPTER_1)
    notebook.cells.append(_added("mine = 1"))
    chosen = grading.graded_cells(notebook)
    roles = [c.metadata.get("structlab", {}).get("role") for c in notebook.cells
             if c.cell_type == "code"]
    expected = [n for n, role in enumerate(roles, start=1)
                if role in ("parameters", "setup", "exercise")] + [len(roles)]
    assert [number for number, _, _ in chosen] == expected
    assert [added for _, _, added in chosen] == [False] * (len(expected) - 1) + [True]


def test_a_chapter_source_without_stamps_is_read_by_its_tags():
    notebook = grading.read_submission(checkout_root() / "notebooks" / f"{CHAPTER_1}.py")
    graded = 2 + len(exercises.names(CHAPTER_1))  # parameters, setup, the exercises
    assert [added for _, _, added in grading.graded_cells(notebook)] == [False] * graded
    assert grading.detect_chapter(notebook) == CHAPTER_1  # by the functions it defines


def test_failing_cells_are_noted_and_the_next_one_runs():
    cells = [(1, "%matplotlib inline", True), (2, "1 / 0", True), (3, "import sys\nsys.exit(3)", True),
             (4, "x = 1", False)]
    namespace = {}
    notes = grading.run_cells(cells, namespace)
    assert namespace["x"] == 1
    assert notes == ["code cell 1 (added by you) is not plain Python (invalid syntax, line 1); "
                     "it was skipped",
                     "code cell 2 (added by you) raised ZeroDivisionError: division by zero",
                     "code cell 3 (added by you) called sys.exit(3); the rest of it was skipped"]


def test_chapter_detection():
    notebook = _edition("03_quantization", "student")
    assert grading.detect_chapter(notebook) == "03_quantization"
    notebook.metadata.pop("structlab")
    assert grading.detect_chapter(notebook) == "03_quantization"  # by its exercise functions
    blank = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert grading.detect_chapter(blank, "02_pruning-alice.ipynb") == "02_pruning"
    with pytest.raises(grading.GradingError, match="cannot tell which chapter"):
        grading.detect_chapter(blank, "homework.ipynb")
    with pytest.raises(grading.GradingError, match="chapter 00_welcome has no graded exercises"):
        grading.detect_chapter(_edition("00_welcome", "student"))
    assert [grading.resolve_chapter(s) for s in (1, "01", CHAPTER_1)] == [CHAPTER_1] * 3
    with pytest.raises(ValueError, match="chapter must be one of 01_svd_wine_mlp"):
        grading.resolve_chapter("9")


@pytest.mark.parametrize("content, message", [
    (b"{not json", "not a readable notebook"), (b"\xff\xfe\x00", "not a readable notebook"),
    (b'{"cells": 3}', "not a readable notebook")])
def test_damaged_files_are_not_notebooks(tmp_path, content, message):
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    with pytest.raises(grading.GradingError, match=message):
        grading.read_submission(path)
    with pytest.raises(grading.GradingError, match="no such file"):
        grading.read_submission(tmp_path / "missing.ipynb")


def test_hidden_tests_must_cover_every_exercise_and_not_shadow_one(tmp_path):
    (tmp_path / "hidden_a.py").write_text("def hidden_rank_r_params(ns):\n    pass\n")
    with pytest.raises(ValueError, match="no hidden test for compress_layer, smallest_rank"):
        grading.load_hidden(tmp_path)
    (tmp_path / "hidden_b.py").write_text("from math import sqrt as compress_layer\n")
    with pytest.raises(ValueError, match="hidden_b.py binds compress_layer"):
        grading.load_hidden(tmp_path)
    (tmp_path / "hidden_b.py").write_text("def hidden_nope(ns):\n    pass\n")
    with pytest.raises(ValueError, match="unknown exercise 'nope'"):
        grading.load_hidden(tmp_path)


def test_another_chapters_notebook_gets_zero_and_says_which_it_is(tmp_path):
    path = tmp_path / "02.ipynb"
    nbformat.write(_edition("02_pruning"), path)
    row = grade_submission(path, grading.default_tests_folder(), chapter=CHAPTER_1)
    assert (row["total"], row["chapter"]) == (0, "")
    assert row["reason"] == "this is chapter 02_pruning's notebook, not 01_svd_wine_mlp's"


def test_a_hidden_test_that_cannot_prepare_its_case_is_not_the_students_fault():
    def hidden(ns):
        raise exercises.CheckSetupError("budget_network raised OSError: disk full")

    solved = {"rank_r_params": lambda n_in, n_out, rank: rank * (n_in + n_out + 1)}
    assert grading.grade_exercise("rank_r_params", solved, {"rank_r_params": hidden}) == (
        0, "hidden test could not prepare its case, grade again: budget_network raised "
           "OSError: disk full")


def test_a_visible_check_that_cannot_prepare_its_case_asks_to_grade_again(monkeypatch):
    import structlab.datasets

    def full_disk(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(structlab.datasets, "wine", full_disk)
    points, reason = grading.grade_exercise("small_wine_network", {"small_wine_network": len}, {})
    assert points == 0 and reason.startswith(
        "visible check: the check could not prepare its case (_dense_wine raised OSError: disk "
        "full)") and reason.endswith("; grade again")


def test_a_class_in_subprocesses(tmp_path):
    """Solutions full, stubs zero, and every kind of broken notebook costs only its own points."""
    folder = tmp_path / "submissions"
    folder.mkdir()
    nbformat.write(_edition(CHAPTER_1), folder / "ch1-solution.ipynb")
    nbformat.write(_edition(CHAPTER_1, "student"), folder / "ch1-student.ipynb")
    nbformat.write(_edition("08_capstone"), folder / "ch8-solution.ipynb")
    broken = _edition(CHAPTER_1)  # one exercise crashes, one never ends, one leaves quietly
    _replace_body(broken, "rank_r_params", "import ctypes\nreturn ctypes.string_at(0)")
    _replace_body(broken, "compress_layer", "while True:\n    pass")
    _replace_body(broken, "smallest_rank", "import os\nos._exit(0)")
    nbformat.write(broken, folder / "broken.ipynb")
    own_cells = _edition(CHAPTER_1)  # a helper in a cell of the student's, and two bad cells
    _replace_body(own_cells, "compress_layer", "return my_svd_layer(W, b, rank)")
    own_cells.cells += [_added("import ctypes\nctypes.string_at(0)"),
                        _added("def my_svd_layer(W, b, rank):\n"
                               "    U, s, Vt = np.linalg.svd(np.column_stack([W, b]), "
                               "full_matrices=False)\n"
                               "    return Vt[:rank, :-1], Vt[:rank, -1], U[:, :rank] * s[:rank]"),
                        _added("import sys\nsys.exit(3)")]
    nbformat.write(own_cells, folder / "own-cells.ipynb")
    (folder / "corrupt.ipynb").write_text("{ this is not a notebook")
    before = sorted(p.name for p in folder.iterdir())
    out = tmp_path / "grades.csv"
    run = subprocess.run([sys.executable, "-m", "structlab.cli", "grade", str(folder),
                          "--out", str(out), "--jobs", "2", "--timeout", "20"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written there
    rows = {row["file"].rsplit("/", 1)[1]: row for row in csv.DictReader(out.open())}
    assert list(next(csv.reader(out.open()))) == ["file", "chapter", *exercises.names(CHAPTER_1),
                                                  *exercises.names("08_capstone"), "total", "max",
                                                  "reason"]
    totals = {name: (row["total"], row["max"]) for name, row in rows.items()}
    one, eight = (str(sum(exercises.exercise(n).points for n in exercises.names(c)))
                  for c in (CHAPTER_1, "08_capstone"))
    unbroken = str(exercises.exercise("small_wine_network").points)  # the design task is intact
    assert totals == {"ch1-solution.ipynb": (one, one), "ch1-student.ipynb": ("0", one),
                      "ch8-solution.ipynb": (eight, eight), "broken.ipynb": (unbroken, one),
                      "own-cells.ipynb": (one, one), "corrupt.ipynb": ("0", "")}
    assert rows["ch1-solution.ipynb"]["reason"] == "" and rows["ch8-solution.ipynb"]["compress_layer"] == ""
    reason = rows["broken.ipynb"]["reason"]
    assert "rank_r_params: the grading process crashed (signal 11) while checking it" in reason
    assert "compress_layer: the grading process did not finish within 20 s while checking it" in reason
    assert "smallest_rank: the grading process stopped early (exit status 0)" in reason
    notes = rows["own-cells.ipynb"]["reason"]
    assert "crashed (signal 11); it was skipped" in notes and "called sys.exit(3)" in notes
    assert rows["corrupt.ipynb"]["reason"].startswith("not a readable notebook")
    assert "graded 6 notebooks" in run.stdout


@pytest.mark.parametrize("arguments, message", [
    (["grade", "missing.ipynb", "--out", "g.csv"], "SUBMISSION: no such file or folder"),
    (["grade", ".", "--out", "no/such/folder/g.csv"], "does not exist"),
    (["grade", ".", "--out", "g.csv", "--jobs", "0"], "must be a positive int"),
    (["grade", ".", "--out", "g.csv", "--chapter", "12"], "chapter must be one of"),
])
def test_grade_command_mistakes_are_one_line(tmp_path, arguments, message):
    run = subprocess.run([sys.executable, "-m", "structlab.cli", *arguments], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode == 2 and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
