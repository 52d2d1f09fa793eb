import pytest

from structlab.exercises.student import exercise_namespace, strip_solutions, write_student_editions

SOURCE = '''# %% tags=["setup"]
import math

# %% tags=["exercise"]
def area(r):
    """Circle area."""
    ### BEGIN SOLUTION
    return math.pi * r**2
    ### END SOLUTION

# %%
print("not run by exercise_namespace")
'''


def test_strip_keeps_everything_but_the_solution():
    student = strip_solutions(SOURCE)
    assert "math.pi" not in student and "BEGIN SOLUTION" not in student
    assert '    raise NotImplementedError("exercise not solved yet")\n' in student
    assert '"""Circle area."""' in student and 'print("not run' in student


def test_exercise_namespace_runs_setup_and_exercise_cells_only(capsys):
    ns = exercise_namespace(SOURCE)
    assert ns["area"](1.0) == pytest.approx(3.14159, rel=1e-5)
    assert capsys.readouterr().out == ""
    with pytest.raises(NotImplementedError):
        exercise_namespace(strip_solutions(SOURCE))["area"](1.0)


@pytest.mark.parametrize("bad, message", [
    ("def f():\n    ### BEGIN SOLUTION\n    x = 1\n", "line 2: ### BEGIN SOLUTION is never closed"),
    ("x = 1\n### END SOLUTION\n", "line 2: ### END SOLUTION without"),
    ("def f():\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n", "line 3: ### BEGIN SOLUTION inside"),
    ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", "line 1: .* must sit inside a function body"),
])
def test_unbalanced_markers(bad, message):
    with pytest.raises(ValueError, match=message):
        strip_solutions(bad)


def test_write_student_editions(tmp_path):
    import nbformat

    written = write_student_editions(tmp_path)
    assert [p.name for p in written][:2] == ["00_welcome.ipynb", "01_svd_wine_mlp.ipynb"]
    for path in written:
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text
        assert ("YOUR CODE HERE" in text) == (path.name != "00_welcome.ipynb")  # no exercises
        notebook = nbformat.read(path, as_version=4)
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
