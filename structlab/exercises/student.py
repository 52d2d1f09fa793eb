"""The student edition of a chapter's source: every solution replaced by a stub.

``setup.py`` runs this file on its own when it builds a wheel (to package the
student sources, never the solutions), so it imports the standard library only.
"""

import re

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ["# YOUR CODE HERE", 'raise NotImplementedError("exercise not solved yet")']
# In a markdown cell (py:percent writes its lines as comments) a region holds a
# model answer to a question; the student sees this line in its place.
MD_BEGIN, MD_END = f"# {BEGIN}", f"# {END}"
ANSWER_STUB = "# *Write your answer here.*"


def strip_solutions(source):
    """Replace every ``### BEGIN/END SOLUTION`` region of ``source`` by a stub.

    The stub keeps the indentation of the ``BEGIN`` marker, so a solution in a
    function body becomes a function that raises ``NotImplementedError`` (which
    :func:`structlab.exercises.check` reports as "not implemented yet"). In a
    markdown cell (``# ### BEGIN SOLUTION`` at the start of a line) the region
    is a model answer, replaced by an invitation to write one.

    Examples
    --------
    >>> print(strip_solutions("def f():\\n    ### BEGIN SOLUTION\\n    return 1\\n"
    ...                       "    ### END SOLUTION\\n"), end="")
    def f():
        # YOUR CODE HERE
        raise NotImplementedError("exercise not solved yet")
    """
    out, begun_at = [], None  # begun_at: the line that opened the region we are in
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        markdown = line.rstrip() in (MD_BEGIN, MD_END)  # a marker in a markdown cell
        marker = line.rstrip()[2:] if markdown else line.strip()
        if marker == BEGIN:
            if begun_at is not None:
                raise ValueError(f"line {number}: {BEGIN} inside another solution region "
                                 f"(opened on line {begun_at})")
            indent, begun_at = re.match(r"\s*", line).group(), number
            if not indent and not markdown:
                # A top-level stub would raise and stop the student's notebook.
                raise ValueError(f"line {number}: {BEGIN} must sit inside a function body")
            stubs = [ANSWER_STUB] if markdown else [indent + stub for stub in STUB]
            out.extend(f"{stub}\n" for stub in stubs)
        elif marker == END:
            if begun_at is None:
                raise ValueError(f"line {number}: {END} without a {BEGIN}")
            begun_at = None
        elif begun_at is None:
            out.append(line)
    if begun_at is not None:
        raise ValueError(f"line {begun_at}: {BEGIN} is never closed by {END}")
    return "".join(out)
