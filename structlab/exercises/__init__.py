"""Graded exercises: visible checks with readable feedback.

In a notebook, a student writes a function between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` and calls ``check("name", their_function)``. The check
runs the function on known cases and prints one line: a tick and what was
verified, or a cross and what went wrong. It never raises, so a notebook with
unsolved exercises still runs top to bottom.

Set ``STRUCTLAB_CHECK_LOG`` to a file path to append one JSON line per check
(name, passed, message): that is how tests and graders read the results.

Examples
--------
>>> result = check("rank_r_params", lambda n_in, n_out, rank: rank * (n_in + n_out + 1))
✔ rank_r_params: right for 4 layer shapes, including the seed's 48 weights
>>> bool(result)
True
"""

import json
import os
from dataclasses import dataclass

_CHECKS = {}


@dataclass(frozen=True)
class CheckResult:
    """Verdict of one check; true when it passed. Shows nothing more in a notebook,
    since :func:`check` already printed it."""

    name: str
    passed: bool
    message: str

    def __bool__(self):
        return self.passed

    def _ipython_display_(self):
        pass


def register(name):
    """Decorator adding a check function to the registry under ``name``.

    A check takes the student's answer, raises ``AssertionError`` with a hint
    when it is wrong, and returns a short description of what it verified.
    """
    def decorate(func):
        if name in _CHECKS:
            raise ValueError(f"exercise {name!r} is registered twice")
        _CHECKS[name] = func
        return func
    return decorate


def names():
    """Names of all registered exercises."""
    return sorted(_CHECKS)


def check(name, answer):
    """Check a student's ``answer`` to exercise ``name`` and print the verdict.

    Returns
    -------
    CheckResult
        True (as a bool) when every case passed.
    """
    if name not in _CHECKS:
        raise ValueError(f"unknown exercise {name!r}; known: {', '.join(names())}")
    try:
        message, passed = _CHECKS[name](answer), True
    except NotImplementedError:
        message, passed = "not implemented yet: replace the NotImplementedError line", False
    except AssertionError as exc:
        message, passed = str(exc) or "wrong answer", False
    except Exception as exc:  # the student's code failed: report it, keep the notebook going
        message, passed = f"your code raised {type(exc).__name__}: {exc}", False
    print(f"{'✔' if passed else '✘'} {name}: {message}")
    _log(name, passed, message)
    return CheckResult(name, passed, message)


def _log(name, passed, message):
    path = os.environ.get("STRUCTLAB_CHECK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"name": name, "passed": passed, "message": message}) + "\n")


# Chapters register their checks on import.
from structlab.exercises import (  # noqa: E402,F401
    capstone, palm4msa, pruning, quantization, sss, svd_wine, timing, widths)
