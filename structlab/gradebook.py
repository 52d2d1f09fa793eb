"""Grade a whole class: every submission in a fresh subprocess, in parallel, into one CSV.

Each submission is graded by ``python -m structlab.grading`` (see
:mod:`structlab.grading` for what runs and what earns points) in a new process
whose working folder is an empty temporary one, with a time limit. Whatever a
submission does — loop forever, crash the interpreter, call ``sys.exit``, be
the wrong chapter or not a notebook at all — costs that submission its points
with a reason, and the batch goes on. When a process dies or runs out of time
inside one exercise, that exercise gets 0 and a new process grades the ones
after it, so one bad function does not cost the others; a cell that hangs or
crashes is skipped the same way, and noted.

Examples
--------
>>> row = {"file": "alice.ipynb", "chapter": "01_svd_wine_mlp", "total": 3, "max": 4,
...        "points": {"rank_r_params": 1, "compress_layer": 2, "smallest_rank": 0},
...        "reason": "smallest_rank: visible check: ..."}
>>> csv_columns([row])[:4]
['file', 'chapter', 'rank_r_params', 'compress_layer']
"""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm.auto import tqdm

from structlab import exercises
from structlab.cache import atomic_write


def submissions(paths):
    """The notebooks to grade: each file given, and every ``.ipynb`` under each folder given.

    Raises
    ------
    ValueError
        For a path that does not exist.
    """
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += sorted(p for p in path.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif path.exists():
            found.append(path)
        else:
            raise ValueError(f"SUBMISSION: no such file or folder: {path}")
    return found


def grade_submission(path, tests, *, timeout=60, chapter=None):
    """Grade one submission in fresh subprocesses; return its gradebook row (a dict).

    Parameters
    ----------
    path : path
        The notebook.
    tests : path
        The folder of hidden tests (``hidden_*.py``).
    timeout : float
        Seconds each step may take: each cell the grader runs, each exercise.
    chapter : str, optional
        The chapter expected (e.g. ``"01_svd_wine_mlp"``); another chapter's
        notebook gets 0 points and says so.

    Returns
    -------
    dict
        ``file``, ``chapter``, ``points`` (exercise -> points earned),
        ``total``, ``max`` and ``reason`` (empty when every point was earned).
    """
    path = Path(path)
    found, notes, skip_cells = {}, [], []
    while True:  # each pass grades more: a cell or exercise that hangs or crashes is skipped
        records, ending = _run_worker(path, tests, timeout, chapter, list(found), skip_cells)
        errors = [r["error"] for r in records if "error" in r]
        detected = next((r["chapter"] for r in records if "chapter" in r), None)
        if errors or detected is None:
            return _row(path, None, {}, errors or [f"the grading process {ending} before it "
                                                   "read the notebook"])
        notes += [r["note"] for r in records if "note" in r and r["note"] not in notes]
        graded = {r["exercise"]: (r["points"], r["reason"]) for r in records if "exercise" in r}
        progress = bool(graded.keys() - found.keys())
        found.update(graded)
        steps = [r for r in records if "cell" in r or "start" in r]
        if ending is None or not steps:
            break
        if "cell" in steps[-1]:
            skip_cells.append(steps[-1]["cell"])
            notes.append(f"code cell {steps[-1]['cell']} {ending}; it was skipped")
        elif steps[-1]["start"] not in found:
            found[steps[-1]["start"]] = (0, f"the grading process {ending} while checking it")
        elif not progress:  # it ended between two steps, again: give up on the rest
            break
        if all(name in found for name in exercises.names(detected)):
            break
    results = {name: found.get(name, (0, f"not graded: the grading process {ending}"))
               for name in exercises.names(detected)}
    return _row(path, detected, results, notes)


def _run_worker(path, tests, timeout, chapter, skip, skip_cells):
    """Records the worker wrote, and ``None`` if it finished or how it ended otherwise.

    ``timeout`` applies to each step the worker announces (a cell, an
    exercise), so a slow import does not eat into an exercise's time.
    """
    with tempfile.TemporaryDirectory(prefix="structlab-grade-") as work:
        results = Path(work) / "results.jsonl"
        command = [sys.executable, "-m", "structlab.grading", str(path.resolve()),
                   "--tests", str(Path(tests).resolve()), "--results", str(results),
                   "--skip", *skip, "--skip-cells", *map(str, skip_cells)]
        command += ["--chapter", chapter] if chapter else []
        environment = {**os.environ, "STRUCTLAB_SMOKE": "1", "MPLBACKEND": "Agg",
                       "OMP_NUM_THREADS": "1"}
        environment.pop("STRUCTLAB_CHECK_LOG", None)
        # A new session, so that a time-out also stops whatever the student's code started.
        process = subprocess.Popen(command, cwd=work, env=environment, start_new_session=True,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        ending, size, deadline = None, 0, time.monotonic() + timeout
        while process.poll() is None:
            time.sleep(0.05)
            if results.exists() and results.stat().st_size != size:  # a new step began
                size, deadline = results.stat().st_size, time.monotonic() + timeout
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                ending = f"did not finish within {timeout:g} s"
        if ending is None and process.returncode != 0:
            ending = _how(process.returncode)
        records = []
        if results.exists():
            for line in results.read_text(encoding="utf-8").splitlines():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:  # a line cut short by a crash
                    pass
        if ending is None and {"done": True} not in records:
            ending = "stopped early (exit status 0)"  # os._exit(0) in a student's function
        return records, ending


def _how(code):
    return f"crashed (signal {-code})" if code < 0 else f"exited with status {code}"


def _row(path, chapter, results, notes):
    points = {name: p for name, (p, _) in results.items()}
    reasons = [f"{name}: {reason}" for name, (_, reason) in results.items() if reason] + notes
    return {"file": str(path), "chapter": chapter or "", "points": points,
            "total": sum(points.values()),
            "max": sum(exercises.exercise(n).points for n in points) if chapter else "",
            "reason": "; ".join(reasons)}


def grade_all(paths, tests, *, jobs=None, timeout=60, chapter=None, progress=True):
    """Grade every submission (:func:`grade_submission`), ``jobs`` at a time; rows in order."""
    jobs = jobs or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(grade_submission, p, tests, timeout=timeout, chapter=chapter)
                   for p in paths]
        return [future.result() for future in tqdm(futures, desc="grading", unit="notebook",
                                                     disable=not progress)]


def csv_columns(rows):
    """``file, chapter``, the exercises of every chapter present (course order), ``total, max, reason``."""
    present = {row["chapter"] for row in rows}
    names = [name for name in exercises.names() if exercises.exercise(name).chapter in present]
    return ["file", "chapter", *names, "total", "max", "reason"]


def write_csv(rows, out):
    """Write the gradebook to ``out`` atomically (one row per submission)."""
    columns = csv_columns(rows)
    text = io.StringIO()
    writer = csv.DictWriter(text, columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**{k: v for k, v in row.items() if k != "points"}, **row["points"]})
    atomic_write(out, lambda f: f.write(text.getvalue().encode("utf-8")))
