"""Run the course: execute notebooks headless and render them to HTML.

The notebooks' source of truth is ``notebooks/NN_name.py`` (jupytext
py:percent). Executing one starts a fresh ``python3`` kernel in ``notebooks/``;
``STRUCTLAB_SMOKE=1`` in the environment makes every notebook use its small sizes.
"""

import os
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def notebook_sources(folder=NOTEBOOKS):
    """The chapter sources ``NN_*.py`` of ``folder``, in course order."""
    sources = sorted(Path(folder).glob("[0-9][0-9]_*.py"))
    if not sources:
        raise FileNotFoundError(f"no notebook sources NN_*.py in {folder}")
    return sources


def read_notebook(source):
    """A jupytext py:percent source (text or path) as an ``nbformat`` notebook."""
    import jupytext

    if isinstance(source, Path):
        return jupytext.read(source, fmt="py:percent")
    return jupytext.reads(source, fmt="py:percent")


def execute(notebook, cwd=NOTEBOOKS, timeout=900, allow_errors=False):
    """Run every cell of ``notebook`` in a fresh kernel (in place) and return it."""
    from nbclient import NotebookClient

    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            allow_errors=allow_errors, resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


def render_course(out_dir, smoke=False, folder=NOTEBOOKS):
    """Execute every chapter and write ``NN_name.ipynb`` and ``.html`` plus ``index.html``.

    Returns
    -------
    list of Path
        The HTML pages written, in course order.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("STRUCTLAB_SMOKE")
    os.environ["STRUCTLAB_SMOKE"] = "1" if smoke else "0"
    pages = []
    try:
        for source in tqdm(notebook_sources(folder), desc="notebooks", unit="nb"):
            notebook = execute(read_notebook(source), cwd=source.parent)
            nbformat.write(notebook, out_dir / f"{source.stem}.ipynb")
            html, _ = HTMLExporter().from_notebook_node(notebook)
            pages.append(out_dir / f"{source.stem}.html")
            pages[-1].write_text(html, encoding="utf-8")
    finally:
        if previous is None:
            os.environ.pop("STRUCTLAB_SMOKE")
        else:
            os.environ["STRUCTLAB_SMOKE"] = previous
    links = "\n".join(f'<li><a href="{p.name}">{p.stem}</a></li>' for p in pages)
    mode = "smoke (small sizes)" if smoke else "full"
    (out_dir / "index.html").write_text(
        f"<!doctype html><title>structlab course</title><h1>structlab course</h1>"
        f"<p>Executed in {mode} mode.</p><ol>{links}</ol>\n", encoding="utf-8")
    return pages
