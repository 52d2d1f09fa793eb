"""The student edition of a chapter's source: every solution replaced by a stub.

``setup.py`` runs this file on its own when it builds a wheel (to package the
student sources, never the solutions), so it imports the standard library only.
"""

import re

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
