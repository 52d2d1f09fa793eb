import re
import subprocess
import sys

import numpy as np

from structlab.cli import main


def test_info_reports_versions_kernel_and_assets():
    out = subprocess.run([sys.executable, "-m", "structlab.cli", "info"], capture_output=True,
                         text=True, check=True).stdout
    assert "numpy" in out and "torch" in out
    assert "native kernel" in out
    assert re.search(r"^  mnist +(ok|missing|sha256 MISMATCH) ", out, re.MULTILINE)


def test_student_command(tmp_path, capsys):
    assert main(["student", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "01_svd_wine_mlp.ipynb").is_file()
    assert "wrote" in capsys.readouterr().out


def test_export_layer_and_bench_commands(tmp_path, capsys):
    from structlab.approx.budget import approximate
    from structlab.kernel_bench import matrix
    from structlab.kernels import Plan

    out = tmp_path / "layer.txt"
    assert main(["export-layer", str(out), "--matrix", "random", "--method", "sss",
                 "--share", "0.3"]) == 0
    assert f"make -C native bench LAYER={out}" in capsys.readouterr().out
    header = out.read_bytes().split(b"\n")
    assert header[:4] == [b"structlab-layer 1", b"kind sss", b"dtype f32", b"shape 96 128"]
    expected = Plan(approximate(matrix("random"), "sss", 0.3), np.float32).packed.arrays
    assert b"array values f32 %d" % expected["values"].size in header
    assert main(["bench", "--smoke", "--batch", "1"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith("case") and len(table) == 2 + 10
    assert all(line.endswith(("met", "MISS")) for line in table[2:])
