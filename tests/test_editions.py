"""The editions of every chapter: what each holds, and the student release."""

import json

import nbformat
import pytest

from structlab import editions, exercises
from structlab.grading import default_tests_folder, load_hidden

SOURCES = editions.chapter_sources()
IDS = [stem for stem, _, _ in SOURCES]


@pytest.mark.parametrize("stem, text, solved", SOURCES, ids=IDS)
def test_every_edition_of_every_chapter(stem, text, solved):
    hidden = load_hidden(default_tests_folder())
    names = exercises.names(stem)
    for edition in editions.EDITIONS:
        notebook = editions.chapter_notebook(text, stem, edition, hidden)
        nbformat.validate(notebook)
        assert notebook.metadata["structlab"] == {"chapter": stem, "edition": edition}
        assert "jupytext" not in notebook.metadata
        roles = [c.metadata["structlab"]["role"] for c in notebook.cells]
        assert len({c.id for c in notebook.cells}) == len(notebook.cells)  # unique ids
        assert roles.count("info") == (1 if names and edition != "solution" else 0)
        code = [c for c in notebook.cells if c.cell_type == "code"]
        solutions = [c for c in code if c.metadata.get("nbgrader", {}).get("solution")]
        grades = [c for c in code if c.metadata.get("nbgrader", {}).get("grade")]
        assert [c.id for c in solutions] == names
        assert [c.metadata["nbgrader"]["grade_id"] for c in grades] == [f"check-{n}" for n in names]
        assert [c.metadata["nbgrader"]["points"] for c in grades] == [
            exercises.exercise(n).points for n in names]
        assert all(c.metadata["nbgrader"]["locked"] for c in grades)
        answers = [c for c in notebook.cells if c.metadata["structlab"]["role"] == "answer"]
        assert all(c.metadata["nbgrader"] == {
            "grade_id": c.id, "schema_version": 3, "task": False, "solution": True,
            "grade": True, "locked": False, "points": editions.question_points(c)}
            for c in answers)
        model = {"solution": "*Model answer", "student": "*Write your answer here.*",
                 "nbgrader": "### BEGIN SOLUTION"}[edition]
        assert all(c.source.startswith("**Your answer:**") and model in c.source
                   for c in answers)
        source = "\n".join(c.source for c in notebook.cells)
        assert ("### BEGIN SOLUTION" in source) == (edition != "student" and bool(names))
        assert ("### BEGIN HIDDEN TESTS" in source) == (edition == "nbgrader" and bool(names))
    again = editions.chapter_notebook(text, stem, "student")
    assert nbformat.writes(again) == nbformat.writes(editions.chapter_notebook(text, stem))


def test_the_grading_note_lists_every_exercise_and_its_points():
    note = editions.grading_note("01_svd_wine_mlp", "student")
    assert "`parameters` and `setup` cells" in note and "every code cell you add" in note
    assert "| 1 | `rank_r_params` | 1 |" in note and "| 2 | `compress_layer` | 2 |" in note
    assert "| 4 | `small_wine_network` | 3 |" in note and "| | **total** | **7** |" in note
    assert "nbgrader runs the whole notebook" in editions.grading_note("01_svd_wine_mlp", "nbgrader")


def test_the_student_release_has_no_solutions_and_no_hidden_tests(tmp_path):
    written = editions.write_release(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{stem}.ipynb" for stem in IDS] + ["README.md"])
    assert len(written) == len(IDS) + 1
    hidden = [line.strip() for path in default_tests_folder().glob("hidden_*.py")
              for line in path.read_text().splitlines() if line.strip().startswith("assert")]
    for path in tmp_path.glob("*.ipynb"):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
        assert not any(json.dumps(line)[1:-1] in text for line in hidden), path.name
        notebook = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
        has_exercises = bool(exercises.names(path.stem))
        assert ("YOUR CODE HERE" in text) == has_exercises


def test_notebooks_keep_a_students_work_unless_forced(tmp_path):
    mine = tmp_path / "01_svd_wine_mlp.ipynb"
    mine.write_text("my work")
    written, kept = editions.write_notebooks(tmp_path)
    assert kept == [mine] and mine.read_text() == "my work" and len(written) == len(IDS) - 1
    written, kept = editions.write_notebooks(tmp_path, overwrite=True)
    assert kept == [] and nbformat.read(mine, as_version=4).metadata["structlab"]["edition"] == "student"


def test_bad_editions():
    stem, text, _ = SOURCES[1]
    with pytest.raises(ValueError, match="edition must be one of"):
        editions.chapter_notebook(text, stem, "teacher")
    with pytest.raises(ValueError, match="the nbgrader edition needs the hidden tests"):
        editions.chapter_notebook(text, stem, "nbgrader")
    with pytest.raises(ValueError, match="is exercise 'rank_r_params' of 01_svd_wine_mlp"):
        editions.chapter_notebook(text, "02_pruning")


@pytest.mark.parametrize("stem, text, solved", SOURCES[1:], ids=IDS[1:])
def test_every_lab_asks_questions_one_of_them_a_prediction(stem, text, solved):
    """2-4 questions graded by hand; at least one asks for a prediction before a cell runs."""
    cells = editions.chapter_notebook(text, stem, "student").cells
    answers = [i for i, c in enumerate(cells) if c.metadata["structlab"]["role"] == "answer"]
    assert 2 <= len(answers) <= 4
    predictions = [i for i in answers if "predict before you run the next cell"
                   in cells[i - 1].source and cells[i + 1].cell_type == "code"]
    assert predictions, "no question asks for a prediction before a cell runs"
    note = next(c.source for c in cells if c.metadata["structlab"]["role"] == "info")
    points = sum(editions.question_points(cells[i]) for i in answers)
    assert f"The {len(answers)} questions" in note and f"{points} points in all" in note


@pytest.mark.parametrize("header, message", [
    ('# %% [markdown] tags=["answer"] points=0', "points must be a positive integer, got 0"),
    ('# %% [markdown] tags=["answer"] points="2"', "points must be a positive integer, got '2'"),
    ('# %% tags=["answer"]', "an answer cell must be a markdown cell"),
])
def test_a_malformed_answer_cell_is_refused(header, message):
    text = f"# %% [markdown]\n# # Title\n\n{header}\n# **Your answer:**\n"
    with pytest.raises(ValueError, match=message):
        editions.chapter_notebook(text, "00_welcome", "solution")
