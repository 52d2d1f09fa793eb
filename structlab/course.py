"""Run the course: execute notebooks headless and render them to HTML.

The notebooks' source of truth is ``notebooks/NN_name.py`` (jupytext
py:percent). Executing one starts a fresh ``python3`` kernel in ``notebooks/``;
``STRUCTLAB_SMOKE=1`` in the environment makes every notebook use its small sizes.
"""

import asyncio
import copy
import html
import importlib.util
import os
import shutil
import time
import warnings
from pathlib import Path

import jupytext
import nbformat
from tqdm.auto import tqdm

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def notebook_sources(folder=NOTEBOOKS):
    """The chapter sources ``NN_*.py`` of ``folder``, in course order."""
    sources = sorted(Path(folder).glob("[0-9][0-9]_*.py"))
    if not sources:
        raise FileNotFoundError(
            f"no chapter sources NN_*.py in {folder}: the course's source checkout has them; "
            "an installed package has the student notebooks only (`structlab notebooks DIR`)")
    return sources


def read_notebook(source):
    """A jupytext py:percent source (text or path) as an ``nbformat`` notebook."""
    if isinstance(source, Path):
        return jupytext.read(source, fmt="py:percent")
    return jupytext.reads(source, fmt="py:percent")


def with_parameters(notebook, **values):
    """``notebook`` with a cell setting ``values`` inserted after its ``parameters`` cell.

    As papermill does: the chapter's defaults stay visible, the override
    follows them (e.g. ``SEED=1`` to run a chapter with a second seed).
    """
    tagged = [i for i, cell in enumerate(notebook.cells)
              if "parameters" in cell.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise ValueError("the notebook has no cell tagged 'parameters'")
    lines = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    cell = nbformat.v4.new_code_cell(lines, metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(tagged[0] + 1, cell)
    return notebook


# Seconds of silence on the shell channel after which the runner asks whether the kernel
# is still busy with the cell (a kernel_info request queues behind it).
PROBE_AFTER = 5.0


def _watchful_client_class():
    """nbclient's client, told to notice an execute reply that never arrives."""
    from queue import Empty
    from time import monotonic

    from nbclient import NotebookClient  # the course extra, not needed by the library
    from nbclient.exceptions import CellTimeoutError
    from nbclient.util import ensure_async

    class WatchfulClient(NotebookClient):
        """Now and then (seen with ipykernel 6 and 7, loaded machines, several chapters) a
        kernel finishes a cell and sends its reply, but the client never receives it and
        would wait out the whole cell timeout. A kernel handles shell requests one at a
        time, so when the shell channel goes quiet this client sends a ``kernel_info``
        request: if its answer comes and the cell's reply has not, the reply was lost.
        The cell's outputs are complete by then (its iopub "idle" came), so the run
        goes on with a reply made from them, and a warning says so.
        """

        lost_replies = 0

        async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg,
                                        task_poll_kernel_alive):
            deadline = None if timeout is None else monotonic() + timeout
            probe = None
            while True:
                wait = PROBE_AFTER if deadline is None else max(
                    0.0, min(PROBE_AFTER, deadline - monotonic()))
                try:
                    msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=wait))
                except Empty:
                    if deadline is not None and monotonic() >= deadline:
                        task_poll_kernel_alive.cancel()
                        raise CellTimeoutError.error_from_timeout_and_cell(
                            "Cell execution timed out", timeout, cell) from None
                    await self._async_check_alive()
                    if probe is None:
                        probe = self.kc.kernel_info()
                    continue
                parent = msg["parent_header"].get("msg_id")
                if parent != msg_id and (probe is None or parent != probe):
                    continue
                try:
                    await asyncio.wait_for(task_poll_output_msg, self.iopub_timeout)
                except (asyncio.TimeoutError, Empty):
                    task_poll_kernel_alive.cancel()
                    raise CellTimeoutError.error_from_timeout_and_cell(
                        "Timeout waiting for IOPub output", self.iopub_timeout, cell) from None
                task_poll_kernel_alive.cancel()
                if parent == msg_id:
                    return msg
                type(self).lost_replies += 1
                warnings.warn(f"the kernel finished a cell but its reply never came (seen "
                              f"{type(self).lost_replies} time(s)); going on with its outputs",
                              RuntimeWarning, stacklevel=2)
                return _reply_from_outputs(msg_id, cell)

    return WatchfulClient


def _reply_from_outputs(msg_id, cell):
    """The execute reply a cell's outputs imply (an error output means an error reply)."""
    errors = [out for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    content = ({"status": "error", "ename": errors[-1]["ename"], "evalue": errors[-1]["evalue"],
                "traceback": errors[-1]["traceback"]} if errors else {"status": "ok"})
    return {"parent_header": {"msg_id": msg_id}, "header": {"msg_type": "execute_reply"},
            "content": {**content, "execution_count": cell.get("execution_count")}}


def execute(notebook, cwd=NOTEBOOKS, timeout=None, allow_errors=False, retries=1):
    """Run every cell of ``notebook`` in a fresh kernel (in place) and return it.

    A fresh kernel and every cell in order: what *Restart and run all* does.
    ``timeout`` is per cell: default 120 s in smoke mode (no smoke cell needs
    half a minute), 1800 s otherwise. A reply the client never receives is
    noticed within seconds (``WatchfulClient``); a cell that still times out
    is retried once with the whole notebook in a new kernel, with a warning.
    """
    from nbclient.exceptions import CellTimeoutError  # the course extra

    if timeout is None:
        timeout = 120 if os.environ.get("STRUCTLAB_SMOKE") == "1" else 1800
    original = copy.deepcopy(notebook)
    client_class = _watchful_client_class()
    for attempt in range(retries + 1):
        client = client_class(notebook, timeout=timeout, kernel_name="python3",
                              allow_errors=allow_errors,
                              resources={"metadata": {"path": str(cwd)}})
        try:
            client.execute()
            return notebook
        except CellTimeoutError as error:
            if attempt == retries:
                raise
            warnings.warn(f"a cell got no reply within {timeout} s ({error}); running the "
                          "notebook again in a new kernel", RuntimeWarning, stacklevel=2)
            notebook.cells = copy.deepcopy(original.cells)


def _title(notebook):
    """The first markdown heading of a notebook, without the hashes."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return ""


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"
# nbconvert's lab page always loads require.js from a CDN; nothing on these pages needs it.
OFFLINE_TEMPLATE = ("{%- extends 'index.html.j2' -%}\n"
                    "{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}\n")


def copy_mathjax(out_dir):
    """Copy the MathJax that jupyter-server-mathjax ships into ``out_dir/mathjax``."""
    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None:
        raise FileNotFoundError("the offline HTML course needs a local MathJax: "
                                "pip install jupyter-server-mathjax")
    shutil.copytree(Path(spec.origin).parent / "static", Path(out_dir) / "mathjax",
                    dirs_exist_ok=True)


def offline_html(notebook, mathjax="mathjax"):
    """An executed notebook as an HTML page that needs nothing from the network.

    Math is typeset by the MathJax copied beside the page (:func:`copy_mathjax`);
    widgets, which would need a widget manager from a CDN, show the static
    snapshot they published beside their live view (explorers do, see
    :class:`structlab.widgets.Explorer`), else their text form.
    """
    import jinja2  # with nbconvert: the course extra, not needed by the library
    from nbconvert import HTMLExporter

    page = copy.deepcopy(notebook)
    page.metadata.pop("widgets", None)
    for cell in page.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    exporter = HTMLExporter(template_name="lab", template_file="structlab_offline.html.j2",
                            extra_loaders=[jinja2.DictLoader(
                                {"structlab_offline.html.j2": OFFLINE_TEMPLATE})],
                            mathjax_url=f"{mathjax}/MathJax.js?config={MATHJAX_CONFIG}")
    return exporter.from_notebook_node(page)[0]


def render_course(out_dir, smoke=False, folder=NOTEBOOKS, seed=None):
    """Execute every chapter and write ``NN_name.ipynb`` and ``.html`` plus ``index.html``.

    The index lists each chapter's title and how long it took to run. The
    pages work offline (:func:`offline_html`), with MathJax in ``out_dir/mathjax``.

    Returns
    -------
    list of (Path, float)
        The HTML pages written, in course order, with the seconds each notebook took.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_mathjax(out_dir)
    previous = os.environ.get("STRUCTLAB_SMOKE")
    os.environ["STRUCTLAB_SMOKE"] = "1" if smoke else "0"
    pages, items = [], []
    try:
        for source in tqdm(notebook_sources(folder), desc="notebooks", unit="nb"):
            notebook = read_notebook(source)
            if seed is not None:
                notebook = with_parameters(notebook, SEED=seed)
            start = time.perf_counter()
            execute(notebook, cwd=source.parent)
            seconds = time.perf_counter() - start
            nbformat.write(notebook, out_dir / f"{source.stem}.ipynb")
            path = out_dir / f"{source.stem}.html"
            path.write_text(offline_html(notebook), encoding="utf-8")
            pages.append((path, seconds))
            items.append(f'<li><a href="{path.name}">{html.escape(_title(notebook))}</a> '
                         f"<small>({source.stem}, {seconds:.0f} s)</small></li>")
    finally:
        if previous is None:
            os.environ.pop("STRUCTLAB_SMOKE")
        else:
            os.environ["STRUCTLAB_SMOKE"] = previous
    mode = "smoke (small sizes)" if smoke else "full"
    (out_dir / "index.html").write_text(
        f"<!doctype html><meta charset=\"utf-8\"><title>structlab course</title>"
        f"<h1>structlab course</h1><p>Executed in {mode} mode"
        f"{'' if seed is None else f', seed {seed}'}; run times on this machine.</p>"
        f"<ol start=\"0\">{''.join(items)}</ol>\n", encoding="utf-8")
    return pages
