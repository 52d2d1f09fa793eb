"""Every chapter runs top to bottom in smoke mode, as solution and as student edition."""

import json

import pytest

from structlab.course import execute, notebook_sources, read_notebook, with_parameters
from structlab.exercises.student import strip_solutions

pytestmark = pytest.mark.notebook
SOURCES = notebook_sources()
CHAPTERS = [s for s in SOURCES if "### BEGIN SOLUTION" in s.read_text(encoding="utf-8")]


def _run(text, source, tmp_path, monkeypatch, **parameters):
    """Execute notebook text in smoke mode; return the check results it logged."""
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("STRUCTLAB_SMOKE", "1")
    monkeypatch.setenv("STRUCTLAB_CHECK_LOG", str(log))
    notebook = read_notebook(text)
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
    results = _run(source.read_text(encoding="utf-8"), source, tmp_path, monkeypatch)
    if source in CHAPTERS:
        assert len(results) >= 3, "each chapter has at least three graded exercises"
    assert all(r["passed"] for r in results), [r for r in results if not r["passed"]]


@pytest.mark.parametrize("source", CHAPTERS, ids=lambda p: p.stem)
def test_student_notebook_runs_and_every_check_fails(source, tmp_path, monkeypatch):
    text = source.read_text(encoding="utf-8")
    results = _run(strip_solutions(text), source, tmp_path, monkeypatch)
    assert len(results) == text.count("### BEGIN SOLUTION") >= 3
    assert not any(r["passed"] for r in results), [r for r in results if r["passed"]]
    assert all("not implemented yet" in r["message"] for r in results)


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_runs_with_a_second_seed(source, tmp_path, monkeypatch):
    results = _run(source.read_text(encoding="utf-8"), source, tmp_path, monkeypatch, SEED=1)
    assert all(r["passed"] for r in results), [r for r in results if not r["passed"]]


def test_parameters_are_injected_after_the_parameters_cell():
    notebook = with_parameters(read_notebook("# %% tags=[\"parameters\"]\nSEED = 0\n\n# %%\nSEED\n"),
                               SEED=1)
    assert [c.source for c in notebook.cells] == ["SEED = 0", "SEED = 1", "SEED"]
    with pytest.raises(ValueError, match="no cell tagged 'parameters'"):
        with_parameters(read_notebook("# %%\nx = 1\n"), SEED=1)
