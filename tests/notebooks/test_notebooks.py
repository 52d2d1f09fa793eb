"""Every chapter runs top to bottom in smoke mode: the solution, and the student edition
(as released, with a second seed: one run shows both that stubs do not stop a chapter and
that nothing depends on seed 0)."""

import json

import pytest

from structlab import exercises
from structlab.course import execute, notebook_sources, read_notebook, with_parameters
from structlab.editions import chapter_notebook

pytestmark = pytest.mark.notebook
SOURCES = notebook_sources()
CHAPTERS = [s for s in SOURCES if "### BEGIN SOLUTION" in s.read_text(encoding="utf-8")]


def _run(notebook, source, tmp_path, monkeypatch, **parameters):
    """Execute a notebook in smoke mode; return the check results it logged."""
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("STRUCTLAB_SMOKE", "1")
    monkeypatch.setenv("STRUCTLAB_CHECK_LOG", str(log))
    if parameters:
        notebook = with_parameters(notebook, **parameters)
    notebook = execute(notebook, cwd=source.parent)
    errors = [out for cell in notebook.cells for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert not errors
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_every_numbered_chapter_has_exercises():
    assert [s.stem[:2] for s in CHAPTERS] == [f"{i:02d}" for i in range(1, len(CHAPTERS) + 1)]
    assert [s.stem for s in SOURCES if s not in CHAPTERS] == ["00_welcome"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_solution_notebook_passes_every_check(source, tmp_path, monkeypatch):
    results = _run(read_notebook(source), source, tmp_path, monkeypatch)
    if source in CHAPTERS:
        assert len(results) >= 3, "each chapter has at least three graded exercises"
    assert all(r["passed"] for r in results), [r for r in results if not r["passed"]]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_student_edition_runs_with_a_second_seed_and_every_check_fails(source, tmp_path,
                                                                        monkeypatch):
    notebook = chapter_notebook(source.read_text(encoding="utf-8"), source.stem, "student")
    results = _run(notebook, source, tmp_path, monkeypatch, SEED=1)
    assert [r["name"] for r in results] == exercises.names(source.stem)
    assert not any(r["passed"] for r in results), [r for r in results if r["passed"]]
    assert all("not implemented yet" in r["message"] for r in results)


def test_parameters_are_injected_after_the_parameters_cell():
    notebook = with_parameters(read_notebook("# %% tags=[\"parameters\"]\nSEED = 0\n\n# %%\nSEED\n"),
                               SEED=1)
    assert [c.source for c in notebook.cells] == ["SEED = 0", "SEED = 1", "SEED"]
    with pytest.raises(ValueError, match="no cell tagged 'parameters'"):
        with_parameters(read_notebook("# %%\nx = 1\n"), SEED=1)
