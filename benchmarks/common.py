"""What the benchmark scripts share: the layer benchmarks' options, one way to print result rows."""

import argparse
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


def layer_options(description):
    """A parser with the options of the benchmarks that time layers at about ``--share`` of
    their numbers: ``--smoke``, ``--json``, ``--batch`` and ``--share``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="small random matrix, seconds")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--share", type=float, default=0.1)
    return parser
