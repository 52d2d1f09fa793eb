"""What the benchmark scripts share: one way to print result rows."""

import json


def report(rows, *, as_json, title, header, format_row):
    """Print result rows (dicts) as one JSON object per line, or as a table.

    Rows are printed as they arrive (``rows`` may be a generator of slow fits).

    Parameters
    ----------
    rows : iterable of dict
    as_json : bool
        JSON lines (same fields as the table) for scripts, instead of the table.
    title, header : str
        Printed above the table: what was run, and the column names.
    format_row : callable
        ``format_row(row) -> str``, one table line.
    """
    if not as_json:
        print(title)
        print(header)
        print("-" * len(header))
    for row in rows:
        print(json.dumps(row) if as_json else format_row(row), flush=True)
