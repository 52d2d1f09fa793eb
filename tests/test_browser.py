"""A real browser: JupyterLab on 127.0.0.1 with chapter 1 run and its rank slider moved, and
the rendered HTML course opened with the network blocked.

Needs Debian's ``chromium`` (``.ci/run`` installs it with apt) and the
``playwright`` package (test extra); skipped with the reason otherwise.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from structlab.course import NOTEBOOKS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium executable: install "
                                 "Debian's chromium (apt-get install chromium) to run it")]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kernel_environment():
    """Smoke sizes, and the front end's matplotlib backend (conftest sets Agg for the tests)."""
    env = dict(os.environ, STRUCTLAB_SMOKE="1")
    env.pop("MPLBACKEND", None)
    return env


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on 127.0.0.1 serving a copy of chapter 1 as .ipynb, in smoke mode."""
    jupytext = pytest.importorskip("jupytext")
    notebook = jupytext.read(NOTEBOOKS / "01_svd_wine_mlp.py", fmt="py:percent")
    jupytext.write(notebook, tmp_path / "chapter1.ipynb", fmt="ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={tmp_path}", "--allow-root"],
        env=_kernel_environment(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within a minute")
        yield f"{url}/lab/tree/chapter1.ipynb?token={token}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_chapter_one_runs_in_chromium_and_the_rank_slider_updates(jupyterlab):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(jupyterlab)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=60_000)
        page.click("text=Run", timeout=10_000)  # the menu bar
        page.click("text=Run All Cells")
        slider = page.locator(".widget-slider", has_text="rank").first
        slider.wait_for(timeout=180_000)
        # the last cell of the chapter has run: no cell still waiting or running
        page.wait_for_function("() => ![...document.querySelectorAll('.jp-InputPrompt')]"
                               ".some(p => p.textContent.includes('*'))", timeout=240_000)
        box = slider.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]")
        readout = box.locator(".widget-html-content").first
        image = box.locator(".jp-OutputArea-output img").first
        slider.scroll_into_view_if_needed()  # JupyterLab only renders the cells in view
        image.wait_for(state="attached", timeout=60_000)
        page.wait_for_function("el => el.textContent.includes('rank 2')",
                               arg=readout.element_handle(), timeout=30_000)
        before = (readout.text_content(), image.get_attribute("src"))
        slider.locator(".noUi-handle").focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.wait_for_function("el => el.textContent.includes('rank 4')",
                               arg=readout.element_handle(), timeout=30_000)
        page.wait_for_function("([img, old]) => img.getAttribute('src') !== old",
                               arg=[image.element_handle(), before[1]], timeout=30_000)
        after = (readout.text_content(), box.locator(".jp-OutputArea-output img").first
                 .get_attribute("src"))
        news = page.get_by_text("official Jupyter news").count()  # `make install` turns it off
        browser.close()
    assert after[0] != before[0] and "rank 4" in after[0]
    assert after[1] != before[1]
    assert news == 0


@pytest.fixture
def offline_course(tmp_path):
    """Chapter 1 rendered by ``render_course`` (smoke mode), served on 127.0.0.1."""
    import functools
    import http.server
    import threading

    from structlab.course import render_course

    folder = tmp_path / "sources"
    folder.mkdir()
    shutil.copy(NOTEBOOKS / "01_svd_wine_mlp.py", folder)
    render_course(tmp_path / "course", smoke=True, folder=folder)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(tmp_path / "course"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/01_svd_wine_mlp.html"
    finally:
        server.shutdown()


def test_the_html_course_works_offline(offline_course):
    """Every request off 127.0.0.1 is blocked and recorded: there must be none, math typeset."""
    sync_api = pytest.importorskip("playwright.sync_api")
    off_host = []

    def route(r):
        if urllib.parse.urlsplit(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            off_host.append(r.request.url)
            r.abort()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu",
                                                   "--disable-background-networking"])
        page = browser.new_page()
        page.route("**/*", route)
        page.goto(offline_course)
        page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue"
                               " && MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running"
                               " && document.querySelectorAll('.MathJax, .MathJax_Display,"
                               " mjx-container').length > 0", timeout=60_000)
        typeset = page.locator(".MathJax, .MathJax_Display").count()
        prose = page.locator(".jp-MarkdownCell").all_inner_texts()
        snapshot = page.locator(".structlab-snapshot")
        snapshot_text, images = snapshot.first.inner_text(), snapshot.first.locator("img").count()
        browser.close()
    assert off_host == []
    assert typeset > 20
    assert not [text for text in prose if "$" in text]
    assert "rank = 2" in snapshot_text and "rank 2" in snapshot_text and images == 1
