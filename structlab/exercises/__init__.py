"""Graded exercises: the registry (chapter, points, visible check) and readable feedback.

In a notebook, a student writes a function between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` and calls ``check("name", their_function)``. The check
runs the function on known cases and prints one line: a tick and what was
verified, or a cross and what went wrong. It never raises, so a notebook with
unsolved exercises still runs top to bottom.

Each exercise is registered once, with its chapter and its points
(:func:`register`); the visible checks, the hidden tests, the grader
(:mod:`structlab.grading`), the nbgrader metadata and the gradebook all read
the points from here.

Set ``STRUCTLAB_CHECK_LOG`` to a file path to append one JSON line per check
(name, passed, points, message): that is how tests read a notebook's results.

Examples
--------
>>> result = check("rank_r_params", lambda n_in, n_out, rank: rank * (n_in + n_out + 1))
✔ rank_r_params [1/1 point]: right for 4 layer shapes, including the seed's 48 weights
>>> bool(result), result.points
(True, 1)
"""

import functools
import json
import os
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Exercise:
    """One graded exercise: the function a student writes, where, and what it is worth.

    ``check`` takes the student's answer, raises ``AssertionError`` with a hint
    when it is wrong, and returns a short description of what it verified.
    """

    name: str
    chapter: str
    points: int
    check: Callable


@dataclass(frozen=True)
class CheckResult:
    """Verdict of one check; true when it passed. Shows nothing more in a notebook,
    since :func:`check` already printed it."""

    name: str
    passed: bool
    message: str
    points: int
    setup_failed: bool = False  # the check's own preparation failed, not the answer

    def __bool__(self):
        return self.passed

    def _ipython_display_(self):
        pass


_EXERCISES = {}


class CheckSetupError(RuntimeError):
    """A check's own preparation failed (its data, its trained network), not the student's code."""


def check_setup(build):
    """Decorate a check's preparation so that its failures are reported as the check's own.

    A design task's check loads data and trains (or loads from the cache) its network
    before it calls the student's code; if that fails (a full disk, an unreadable
    cache), the verdict must not say "your code raised".
    """
    @functools.wraps(build)
    def prepare(*args, **kwargs):
        try:
            return build(*args, **kwargs)
        except CheckSetupError:  # a preparation inside another: named once
            raise
        except Exception as exc:
            raise CheckSetupError(f"{build.__name__} raised {type(exc).__name__}: {exc}") from exc
    return prepare


def register(name, chapter, points):
    """Decorator adding a check function to the registry as exercise ``name``.

    Parameters
    ----------
    name : str
        The function the student writes (its name in the notebook).
    chapter : str
        The notebook's stem, e.g. ``"01_svd_wine_mlp"``.
    points : int
        What a correct answer earns.
    """
    if not isinstance(points, int) or points < 1:
        raise ValueError(f"points must be a positive integer, got {points!r}")

    def decorate(func):
        if name in _EXERCISES:
            raise ValueError(f"exercise {name!r} is registered twice")
        _EXERCISES[name] = Exercise(name, chapter, points, func)
        return func
    return decorate


def exercise(name):
    """The registered :class:`Exercise` called ``name``; a ValueError lists the known ones."""
    if name not in _EXERCISES:
        raise ValueError(f"unknown exercise {name!r}; known: {', '.join(sorted(_EXERCISES))}")
    return _EXERCISES[name]


def names(chapter=None):
    """Exercise names in course order (by chapter, then as registered), optionally of one chapter."""
    found = [e for e in _EXERCISES.values() if chapter in (None, e.chapter)]
    return [e.name for e in sorted(found, key=lambda e: e.chapter)]


def chapters():
    """The chapters that have exercises, in course order."""
    return sorted({e.chapter for e in _EXERCISES.values()})


def points_label(points, of):
    """``"[1/1 point]"``, ``"[0/3 points]"``: what a check line shows."""
    return f"[{points}/{of} point{'' if of == 1 else 's'}]"


def run_check(name, answer):
    """Run exercise ``name``'s visible check on ``answer`` without printing anything.

    Returns
    -------
    CheckResult
        Its ``points`` are the exercise's points when it passed, else 0.
    """
    entry = exercise(name)
    try:
        message, passed = entry.check(answer), True
    except NotImplementedError:
        message, passed = "not implemented yet: replace the NotImplementedError line", False
    except AssertionError as exc:
        message, passed = str(exc) or "wrong answer", False
    except CheckSetupError as exc:
        message = (f"the check could not prepare its case ({exc}); this is not your code: run "
                   "the cell again, and tell your instructor if it persists")
        return CheckResult(name, False, message, 0, setup_failed=True)
    except Exception as exc:  # the student's code failed: report it, keep the notebook going
        message, passed = f"your code raised {type(exc).__name__}: {exc}", False
    return CheckResult(name, passed, message, entry.points if passed else 0)


def check(name, answer):
    """Check a student's ``answer`` to exercise ``name`` and print the verdict.

    Returns
    -------
    CheckResult
        True (as a bool) when every case passed.
    """
    result = run_check(name, answer)
    label = points_label(result.points, exercise(name).points)
    print(f"{'✔' if result else '✘'} {name} {label}: {result.message}")
    _log(result)
    return result


def _log(result):
    path = os.environ.get("STRUCTLAB_CHECK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"name": result.name, "passed": result.passed,
                                "points": result.points, "message": result.message}) + "\n")


SPLITS = {"val": "validation", "test": "test"}


def held_out(data, split):
    """``(X, y)`` of a dataset's ``split``: ``"val"`` (visible checks) or ``"test"`` (hidden tests).

    Design tasks are graded on held-out data: the visible check on the validation
    split, the hidden test on the validation and the test split.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {list(SPLITS)}, got {split!r}")
    return (data.X_val, data.y_val) if split == "val" else (data.X_test, data.y_test)


def check_accuracy_kept(accuracies, loss, reference):
    """Assert that on every split the accuracy is at most ``loss`` below the reference's.

    Parameters
    ----------
    accuracies : dict of {split: (accuracy, reference accuracy)}
    loss : float
        The largest drop allowed (0.01 is one point).
    reference : str
        Whose accuracy it is, for the message: ``"the dense network's"``.
    """
    for split, (acc, ref) in accuracies.items():
        points = f"{100 * loss:g} point{'' if loss == 0.01 else 's'}"
        assert acc >= ref - loss - 1e-12, (
            f"{SPLITS[split]} accuracy {acc:.4f}, {reference} {ref:.4f}: more than {points} lost")


# Chapters register their checks on import.
from structlab.exercises import (  # noqa: E402,F401
    capstone, palm4msa, pruning, quantization, sss, svd_wine, timing, widths)
