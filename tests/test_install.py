"""Install anywhere: the sdist and the wheel as Colab or a JupyterHub image would get them.

Builds the sdist from this checkout, a wheel from the sdist (with the C kernels, and once
with the C build forced to fail), installs each wheel into a throwaway venv outside the
checkout, and there runs ``structlab info``, ``structlab notebooks`` and chapter 1 in smoke
mode. To spare a second copy of torch (5 GB), the throwaway venv finds the dependencies
through a ``.pth`` line pointing at this environment's site-packages; structlab itself
comes from the wheel (the test checks that it does).
"""

import os
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

import nbformat
import pytest

from structlab import exercises
from structlab._paths import checkout_root

pytestmark = pytest.mark.skipif(checkout_root() is None, reason="needs the source checkout")


def _run(command, **kwargs):
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, **kwargs)
    assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"
    return run


@pytest.fixture(scope="module")
def sdist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--sdist", "--no-isolation", "-o", str(out),
          str(checkout_root())])
    return next(out.glob("structlab-*.tar.gz"))


def test_the_sdist_carries_student_sources_and_no_solutions(sdist):
    with tarfile.open(sdist) as archive:
        names = [m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name]
        texts = [archive.extractfile(m).read().decode("utf-8", "replace")
                 for m in archive.getmembers() if m.isfile()]
    assert not any(n.startswith(("notebooks/", "tests/", "benchmarks/")) for n in names)
    assert sum(n.startswith("student/") and n.endswith(".py") for n in names) == 9
    assert {"native/build_kernels.py", "native/dense.c", "structlab/MANIFEST.toml"} <= set(names)
    markers = [line for t in texts for line in t.splitlines()
               if line.strip() == "### BEGIN SOLUTION" or line.endswith("(ns):")]
    assert markers == []


@pytest.mark.parametrize("compiler", ["working", "missing"])
def test_wheel_in_a_fresh_venv(sdist, tmp_path, compiler):
    environment = dict(os.environ)
    if compiler == "missing":
        environment["CC"] = "/bin/false"  # every compile fails, as on a machine without gcc
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--no-cache-dir", "-w", str(tmp_path / "wheels"), str(sdist)], env=environment)
    wheel = next((tmp_path / "wheels").glob("structlab-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                         "['purelib'])"]).stdout.strip())
    (purelib / "structlab-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--no-index", str(wheel)])
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("STRUCTLAB_DATA", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), STRUCTLAB_SMOKE="1", MPLBACKEND="Agg")
    info = _run([str(venv / "bin" / "structlab"), "info"], cwd=work, env=env).stdout
    assert "running from  an installed package" in info
    assert f"cache folder  {home / '.cache' / 'structlab'}" in info
    assert ("native kernel loaded" in info) == (compiler == "working")
    if compiler == "missing":
        assert "NumPy fallback in use: structlab._native was not built" in info
    _run([str(venv / "bin" / "structlab"), "notebooks", "course"], cwd=work, env=env)
    notebooks = sorted((work / "course").glob("*.ipynb"))
    assert len(notebooks) == 9 and not any("### BEGIN SOLUTION" in p.read_text() for p in notebooks)
    # One chapter per variant (each run starts a kernel): chapter 1's student edition with
    # the C kernels, the welcome, which times them against NumPy, on the fallback.
    name = "01_svd_wine_mlp" if compiler == "working" else "00_welcome"
    script = ("import sys, nbformat, structlab\n"
              "from structlab.course import execute\n"
              "assert structlab.__file__.startswith(sys.prefix), structlab.__file__\n"
              f"nb = execute(nbformat.read('course/{name}.ipynb', 4), cwd='course')\n"
              f"nbformat.write(nb, '{name}.ipynb')\n")
    _run([str(python), "-c", script], cwd=work, env=env)
    executed = nbformat.read(work / f"{name}.ipynb", as_version=4)
    outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"], name
    printed = "".join(o.get("text", "") for o in outputs)
    assert "running from  an installed package" in printed
    if compiler == "working":
        unsolved = len(exercises.names(name))  # the student edition: nothing solved
        assert printed.count("✘") == unsolved and "native kernel loaded" in printed
    else:
        assert "08_capstone" in printed and "NumPy fallback in use" in printed


def test_torch_is_pinned_in_one_place():
    root = checkout_root()
    pins = [line for line in (root / "requirements" / "torch.txt").read_text().splitlines()
            if line and not line.startswith("#")]
    assert pins == ["torch==2.14.1", "torchvision==0.29.1"]
    for name in ("Makefile", "environment.yml"):
        text = (root / name).read_text()
        assert "requirements/torch.txt" in text and "torch==" not in text, name
