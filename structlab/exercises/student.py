"""Write the student edition of a notebook: solutions replaced by a stub."""

import re
from pathlib import Path

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ["# YOUR CODE HERE", 'raise NotImplementedError("exercise not solved yet")']


def strip_solutions(source):
    """Replace every ``### BEGIN/END SOLUTION`` region of ``source`` by a stub.

    The stub keeps the indentation of the ``BEGIN`` marker, so a solution in a
    function body becomes a function that raises ``NotImplementedError`` (which
    :func:`structlab.exercises.check` reports as "not implemented yet").

    Examples
    --------
    >>> print(strip_solutions("def f():\\n    ### BEGIN SOLUTION\\n    return 1\\n"
    ...                       "    ### END SOLUTION\\n"), end="")
    def f():
        # YOUR CODE HERE
        raise NotImplementedError("exercise not solved yet")
    """
    out, indent, begun_at = [], None, None
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if indent is not None:
                raise ValueError(f"line {number}: {BEGIN} inside another solution region "
                                 f"(opened on line {begun_at})")
            indent, begun_at = re.match(r"\s*", line).group(), number
            if not indent:
                # A top-level stub would raise and stop the student's notebook.
                raise ValueError(f"line {number}: {BEGIN} must sit inside a function body")
            out.extend(f"{indent}{stub}\n" for stub in STUB)
        elif stripped == END:
            if indent is None:
                raise ValueError(f"line {number}: {END} without a {BEGIN}")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ValueError(f"line {begun_at}: {BEGIN} is never closed by {END}")
    return "".join(out)


def write_student_editions(out_dir, folder=None):
    """Write ``NN_name.ipynb`` student notebooks (no solutions, no outputs) to ``out_dir``.

    Returns
    -------
    list of Path
        The notebooks written.
    """
    import jupytext

    from structlab.course import NOTEBOOKS, notebook_sources, read_notebook

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in notebook_sources(folder or NOTEBOOKS):
        notebook = read_notebook(strip_solutions(source.read_text(encoding="utf-8")))
        written.append(out_dir / f"{source.stem}.ipynb")
        jupytext.write(notebook, written[-1])
    return written


def exercise_namespace(source):
    """Run only the ``setup`` and ``exercise`` cells of a notebook source; return its names.

    This is how hidden tests and graders reach a student's functions without
    running the whole chapter (training, plots). ``source`` is py:percent text.
    """
    from structlab.course import read_notebook

    namespace = {"__name__": "__exercises__"}
    for cell in read_notebook(source).cells:
        if cell.cell_type == "code" and {"setup", "exercise"} & set(cell.metadata.get("tags", [])):
            exec(compile(cell.source, "<notebook cell>", "exec"), namespace)
    return namespace
