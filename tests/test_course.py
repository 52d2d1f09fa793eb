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


def test_a_lost_reply_is_noticed_in_seconds(tmp_path, monkeypatch):
    """The kernel answers, the client never hears it: the run goes on from the cell's outputs."""
    import time

    import pytest
    from nbclient.util import ensure_async

    from structlab import course

    watchful = course._watchful_client_class()

    class LosesOneReply(watchful):
        lost = []

        async def _async_poll_for_reply(self, msg_id, *args, **kwargs):
            get = self.kc.shell_channel.get_msg

            async def lossy(*a, **k):
                msg = await ensure_async(get(*a, **k))
                if msg["msg_type"] == "execute_reply" and not LosesOneReply.lost:
                    LosesOneReply.lost.append(msg_id)
                    return await lossy(*a, **k)  # this one never arrives
                return msg

            self.kc.shell_channel.get_msg = lossy
            try:
                return await super()._async_poll_for_reply(msg_id, *args, **kwargs)
            finally:
                self.kc.shell_channel.get_msg = get

    monkeypatch.setattr(course, "_watchful_client_class", lambda: LosesOneReply)
    notebook = course.read_notebook("# %%\nx = 41\n\n# %%\nprint(x + 1)\n")
    start = time.monotonic()
    with pytest.warns(RuntimeWarning, match="finished a cell but its reply never came"):
        course.execute(notebook, cwd=tmp_path, timeout=120)
    assert time.monotonic() - start < 60 and LosesOneReply.lost
    assert notebook.cells[1].outputs[0]["text"] == "42\n"
