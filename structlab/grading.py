"""Grade one chapter notebook: run the cells the grader runs, then check every exercise.

**What runs.** The chapter's ``parameters`` and ``setup`` cells, each exercise
cell, and every code cell the student added, in notebook order; never the rest
of the chapter (training, plots, widgets). A cell that raises is noted and the
next one runs. Cells are plain Python (``exec``): a ``%magic`` or ``!command``
is a syntax error there, noted like any other.

**What earns points.** Exercise ``name`` earns its registered points
(:mod:`structlab.exercises`) when its visible check passes *and* its hidden test
passes, so a hidden test is never weaker than the check the student saw.

**Hidden tests** live outside the package, in the instructor's checkout
(``tests/exercises/hidden_*.py``): each is a function ``hidden_<exercise>(ns)``
that takes the notebook's namespace and raises ``AssertionError`` when the
answer is wrong. Their modules may use plain imports only, so that
:func:`hidden_source` can copy a test into an nbgrader cell.

This module grades in the calling process; :mod:`structlab.gradebook` runs it
in a fresh subprocess per submission (``python -m structlab.grading``), with a
time limit, for a whole class.
"""

import argparse
import ast
import importlib.util
import json
import sys
import traceback
from pathlib import Path

import jupytext
import nbformat

from structlab import exercises
from structlab._paths import checkout_root

GRADED_ROLES = ("parameters", "setup", "exercise")
ROLES = (*GRADED_ROLES, "check", "answer", "info", "narrative")


class GradingError(Exception):
    """A submission that cannot be graded at all; the message is the gradebook's reason."""


# --- reading a submission -------------------------------------------------------------

def read_submission(path):
    """A submitted notebook (``.ipynb``, or a jupytext ``.py``) as an ``nbformat`` notebook.

    Raises
    ------
    GradingError
        When the file is missing, not a notebook, or damaged.
    """
    path = Path(path)
    try:
        if path.suffix == ".py":
            return jupytext.read(path, fmt="py:percent")
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        return notebook
    except FileNotFoundError:
        raise GradingError(f"no such file: {path}") from None
    except (OSError, ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError,
            nbformat.ValidationError) as error:
        raise GradingError(f"not a readable notebook ({type(error).__name__}: "
                           f"{_first_line(error)})") from None


def cell_role(cell, stamped=True):
    """What a cell is: one of :data:`ROLES`, or ``None`` for a cell the student added.

    The editions stamp every cell they ship with ``metadata.structlab.role``; a
    cell without it was added by the student. In a notebook that has no stamps
    at all (a chapter source, an old edition), ``stamped=False`` reads the
    tags instead and no cell counts as added.
    """
    if stamped:
        return cell.get("metadata", {}).get("structlab", {}).get("role")
    tags = cell.get("metadata", {}).get("tags", [])
    return next((role for role in ROLES if role in tags), "narrative")


def graded_cells(notebook):
    """``(number, source, added)`` of every code cell the grader runs, in order.

    ``number`` counts code cells from 1, as a student sees them; ``added`` is
    True for a cell the student added.
    """
    stamped = any("structlab" in cell.get("metadata", {}) for cell in notebook.cells)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    chosen = []
    for number, cell in enumerate(code, start=1):
        role = cell_role(cell, stamped)
        if role is None or role in GRADED_ROLES:
            chosen.append((number, cell.source, role is None))
    return chosen


def defined_functions(notebook):
    """Names of the functions defined at the top level of the notebook's code cells."""
    names = set()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            names |= {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    return names


def detect_chapter(notebook, filename=None):
    """The chapter a notebook belongs to, e.g. ``"01_svd_wine_mlp"``.

    In order: the ``structlab.chapter`` the editions write into the notebook's
    metadata; else the one chapter whose exercise functions it defines; else
    a file name that starts like a chapter (``01_...``).

    Raises
    ------
    GradingError
        When none of these says which graded chapter it is.
    """
    known = exercises.chapters()
    stamped = notebook.metadata.get("structlab", {}).get("chapter")
    if stamped in known:
        return stamped
    if stamped:
        raise GradingError(f"chapter {stamped} has no graded exercises")
    found = {exercises.exercise(name).chapter for name in defined_functions(notebook)
             if name in exercises.names()}
    if len(found) == 1:
        return found.pop()
    if found:
        raise GradingError("cannot tell which chapter this notebook is: it defines exercises "
                           f"of {', '.join(sorted(found))}")
    by_name = [chapter for chapter in known if filename and Path(filename).name[:3] == chapter[:3]]
    if by_name:
        return by_name[0]
    raise GradingError("cannot tell which chapter this notebook is: it has no structlab "
                       "metadata, defines no exercise function, and its file name does not "
                       f"start with a chapter number ({known[0][:3]} to {known[-1][:3]})")


def resolve_chapter(spec):
    """A chapter named by its number (``1``, ``"01"``) or stem (``"01_svd_wine_mlp"``)."""
    text = str(spec).strip()
    for chapter in exercises.chapters():
        if text in (chapter, chapter[:2]) or (text.isdigit() and int(text) == int(chapter[:2])):
            return chapter
    raise ValueError(f"chapter must be one of {', '.join(exercises.chapters())} "
                     f"(or its number), got {spec!r}")


# --- running it ---------------------------------------------------------------------

def run_cells(cells, namespace, on_cell=None):
    """Execute ``graded_cells(...)`` in ``namespace``; return notes on the cells that failed.

    ``on_cell(number)`` is called before each cell (the subprocess grader
    records it, to say which cell a time-out or crash happened in).
    """
    notes = []
    for number, source, added in cells:
        if on_cell:
            on_cell(number)
        where = f"code cell {number}" + (" (added by you)" if added else "")
        try:
            exec(compile(source, f"<code cell {number}>", "exec"), namespace)
        except SyntaxError as error:
            notes.append(f"{where} is not plain Python ({error.msg}, line {error.lineno}); "
                         "it was skipped")
        except SystemExit as error:
            notes.append(f"{where} called sys.exit({error.code!r}); the rest of it was skipped")
        except Exception as error:
            notes.append(f"{where} raised {type(error).__name__}: {_first_line(error)}")
    return notes


def default_tests_folder():
    """The checkout's ``tests/exercises`` (the hidden tests), or ``None`` outside a checkout."""
    root = checkout_root()
    folder = None if root is None else root / "tests" / "exercises"
    return folder if folder is not None and folder.is_dir() else None


def load_hidden(folder):
    """``{exercise name: hidden test}`` from the ``hidden_*.py`` files of ``folder``.

    Raises
    ------
    ValueError
        When the folder has none, names an unknown exercise, or misses one.
    """
    folder = Path(folder)
    tests = {}
    for path in sorted(folder.glob("hidden_*.py")):
        spec = importlib.util.spec_from_file_location(f"_structlab_hidden_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        clashes = set(vars(module)) & set(exercises.names())
        if clashes:  # copied into a notebook cell, it would replace the student's function
            raise ValueError(f"{path.name} binds {', '.join(sorted(clashes))}, the name of an "
                             "exercise function; import it under another name")
        for attribute, value in vars(module).items():
            if attribute.startswith("hidden_") and callable(value):
                exercises.exercise(attribute[len("hidden_"):])  # a typo is an error
                tests[attribute[len("hidden_"):]] = value
    missing = [name for name in exercises.names() if name not in tests]
    if missing:
        raise ValueError(f"no hidden test for {', '.join(missing)} in {folder} "
                         "(expected functions hidden_<exercise>(ns) in hidden_*.py files)")
    return tests


def grade_exercise(name, namespace, hidden):
    """``(points, reason)`` for exercise ``name``: its visible check, then its hidden test.

    ``reason`` is empty when the exercise earned its points.
    """
    answer = namespace.get(name)
    if not callable(answer):
        return 0, f"no function {name}: its exercise cell did not define it"
    try:
        result = exercises.run_check(name, answer)
        if result.setup_failed:  # the grader's machine, not the student
            return 0, f"visible check: {result.message}; grade again"
        if not result:
            return 0, ("not implemented yet" if result.message.startswith("not implemented")
                       else f"visible check: {result.message}")
        hidden[name](namespace)
    except SystemExit as error:
        return 0, f"your code called sys.exit({error.code!r})"
    except NotImplementedError:
        return 0, "hidden test: not implemented yet"
    except AssertionError as error:
        return 0, f"hidden test failed: {_assertion(error)}"
    except exercises.CheckSetupError as error:  # the grader's machine, not the student
        return 0, f"hidden test could not prepare its case, grade again: {_first_line(error)}"
    except Exception as error:
        return 0, f"hidden test: your code raised {type(error).__name__}: {_first_line(error)}"
    return exercises.exercise(name).points, ""


def grade_namespace(chapter, namespace, hidden, skip=()):
    """``{name: (points, reason)}`` for every exercise of ``chapter`` not in ``skip``."""
    return {name: grade_exercise(name, namespace, hidden)
            for name in exercises.names(chapter) if name not in skip}


def hidden_source(test):
    """Source of hidden test ``test`` that runs on its own, for an nbgrader cell.

    Its module's imports and helpers (every top-level statement but the
    docstring and the other hidden tests), then the test itself.
    """
    module = Path(test.__code__.co_filename).read_text(encoding="utf-8")
    body = ast.parse(module).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    kept = [node for node in body if not (isinstance(node, ast.FunctionDef)
                                           and node.name.startswith("hidden_")
                                           and node.name != test.__name__)]
    return "\n\n".join(ast.get_source_segment(module, node) for node in kept) + "\n"


def _first_line(error):
    text = str(error).strip()
    return (text.splitlines() or [""])[0][:300]


def _assertion(error):
    """An assertion's message, else the failing line of the hidden test."""
    if str(error).strip():
        return _first_line(error)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.line]
    return frames[-1].line if frames else "an assertion failed"


# --- the subprocess entry point ------------------------------------------------------

def _worker(argv=None):
    """Grade one submission, writing one JSON record per event to ``--results``.

    Records, in order: ``{"chapter": ...}`` (or ``{"error": reason}`` and
    nothing more), ``{"cell": number}`` before each cell, ``{"note": ...}``
    per failed cell, then ``{"start": name}`` and ``{"exercise": name,
    "points": ..., "reason": ...}`` per exercise, and ``{"done": true}`` last. Each
    is flushed at once, so
    the parent knows how far a process got that hung or crashed.
    """
    parser = argparse.ArgumentParser(prog="python -m structlab.grading")
    parser.add_argument("submission")
    parser.add_argument("--tests", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--chapter")
    parser.add_argument("--skip", nargs="*", default=[], help="exercises not to grade")
    parser.add_argument("--skip-cells", nargs="*", type=int, default=[], help="cells not to run")
    args = parser.parse_args(argv)
    with open(args.results, "a", encoding="utf-8") as out:
        def emit(**record):
            out.write(json.dumps(record) + "\n")
            out.flush()

        try:
            notebook = read_submission(args.submission)
            chapter = detect_chapter(notebook, args.submission)
            if args.chapter and chapter != args.chapter:
                raise GradingError(f"this is chapter {chapter}'s notebook, not {args.chapter}'s")
        except GradingError as error:
            emit(error=str(error))
            emit(done=True)
            return 0
        emit(chapter=chapter)
        hidden = load_hidden(args.tests)
        namespace = {"__name__": "__main__"}
        cells = [c for c in graded_cells(notebook) if c[0] not in args.skip_cells]
        for note in run_cells(cells, namespace, lambda n: emit(cell=n)):
            emit(note=note)
        for name in exercises.names(chapter):
            if name not in args.skip:
                emit(start=name)
                points, reason = grade_exercise(name, namespace, hidden)
                emit(exercise=name, points=points, reason=reason)
        emit(done=True)
    return 0


if __name__ == "__main__":
    sys.exit(_worker())
