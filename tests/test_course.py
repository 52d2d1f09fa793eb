"""`structlab course`: every notebook executed in order, HTML pages and an index with run times."""

import re

from structlab.course import render_course

TINY = '''# %% [markdown]
# # Chapter {n} — tiny

# %% tags=["parameters"]
SEED = 0

# %%
print("seed", SEED)
'''


def test_render_course_writes_pages_and_an_index(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for n in (1, 0):
        (folder / f"0{n}_tiny.py").write_text(TINY.format(n=n))
    pages = render_course(tmp_path / "out", smoke=True, folder=folder, seed=3)
    assert [p.name for p, _ in pages] == ["00_tiny.html", "01_tiny.html"]
    assert all(seconds > 0 for _, seconds in pages)
    assert "seed 3" in (tmp_path / "out" / "01_tiny.html").read_text()
    index = (tmp_path / "out" / "index.html").read_text()
    assert re.search(r'<a href="00_tiny.html">Chapter 0 — tiny</a> <small>\(00_tiny, \d+ s\)', index)
    assert "smoke (small sizes) mode, seed 3" in index


def test_a_cell_without_reply_is_retried_once_in_a_new_kernel(tmp_path):
    import pytest
    from nbclient.exceptions import CellTimeoutError

    from structlab.course import execute, read_notebook

    flag = tmp_path / "first-attempt"
    stalls_once = read_notebook(
        f"# %%\nimport pathlib, time\nflag = pathlib.Path({str(flag)!r})\n"
        "if not flag.exists():\n    flag.touch()\n    time.sleep(30)\nprint('done')\n")
    with pytest.warns(RuntimeWarning, match="running the notebook again in a new kernel"):
        notebook = execute(stalls_once, cwd=tmp_path, timeout=5)
    assert notebook.cells[0].outputs[0]["text"] == "done\n"
    with pytest.raises(CellTimeoutError):
        execute(read_notebook("# %%\nimport time\ntime.sleep(30)\n"), cwd=tmp_path, timeout=3,
                retries=0)
