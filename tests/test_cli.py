import re
import subprocess
import sys

import numpy as np
import pytest

from structlab.cli import main


def _cli(*arguments, **kwargs):
    return subprocess.run([sys.executable, "-m", "structlab.cli", *arguments], capture_output=True,
                          text=True, **kwargs)


def test_info_reports_versions_kernel_cache_and_assets():
    out = _cli("info", check=True).stdout
    assert "numpy" in out and "torch" in out
    assert re.search(r"^native kernel (loaded .+|NOT loaded, NumPy fallback in use: .+)$", out,
                     re.MULTILINE)
    assert re.search(r"^cache folder  /", out, re.MULTILINE)
    assert re.search(r"^  mnist +(ok|missing|sha256 MISMATCH) ", out, re.MULTILINE)


def test_the_fallback_says_why(monkeypatch):
    run = _cli("info", check=True, env={**__import__("os").environ, "STRUCTLAB_NO_NATIVE": "1"})
    assert "NumPy fallback in use: STRUCTLAB_NO_NATIVE is set" in run.stdout


def test_version():
    import structlab

    run = _cli("--version", check=True)
    assert run.stdout.strip() == f"structlab {structlab.__version__}"


def test_student_and_notebooks_commands(tmp_path, capsys):
    assert main(["student", "--out", str(tmp_path / "release")]) == 0
    assert (tmp_path / "release" / "01_svd_wine_mlp.ipynb").is_file()
    assert (tmp_path / "release" / "README.md").is_file()
    assert "no hidden tests" in capsys.readouterr().out
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "02_pruning.ipynb").write_text("my work")
    assert main(["notebooks", str(tmp_path / "mine")]) == 0
    assert "kept  " in capsys.readouterr().out
    assert (tmp_path / "mine" / "02_pruning.ipynb").read_text() == "my work"


@pytest.mark.parametrize("arguments, message", [
    (["bench", "--share", "5"], "argument --share: must be a number in (0, 1], got '5'"),
    (["bench", "--batch", "0"], "argument --batch: must be a positive int, got '0'"),
    (["export-layer", "layer.txt", "--method", "svd"], "argument --method: must be one of dense,"),
    (["export-layer", "no/such/folder/layer.txt"], "the folder"),
    (["course", "--seed", "x"], "argument --seed: invalid int value"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["grade"], "the following arguments are required"),
])
def test_mistakes_are_one_clear_line_and_status_2(tmp_path, arguments, message):
    run = _cli(*arguments, cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("structlab: error: ") and message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_help_is_plain_text():
    for arguments in ([], ["grade"], ["export-layer"], ["course"]):
        text = _cli(*arguments, "--help", check=True).stdout
        assert "``" not in text and ":func:" not in text


def test_export_layer_and_bench_commands(tmp_path, capsys):
    from structlab.approx.budget import approximate
    from structlab.kernel_bench import matrix
    from structlab.kernels import Plan

    out = tmp_path / "layer.txt"
    assert main(["export-layer", str(out), "--matrix", "random", "--method", "sss",
                 "--share", "0.3"]) == 0
    assert main(["export-layer", str(tmp_path / "product.txt"), "--matrix", "random",
                 "--method", "sparse-product"]) == 0  # hyphens for the spaces in a method name
    assert f"make -C native bench LAYER={out}" in capsys.readouterr().out
    header = out.read_bytes().split(b"\n")
    assert header[:4] == [b"structlab-layer 1", b"kind sss", b"dtype f32", b"shape 96 128"]
    expected = Plan(approximate(matrix("random"), "sss", 0.3), np.float32).packed.arrays
    assert b"array values f32 %d" % expected["values"].size in header
    assert main(["bench", "--smoke", "--batch", "1"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("case") and len(table) == 2 + 10
    assert all(line.endswith(("met", "met flops", "met bytes", "MISS")) for line in table[2:])
