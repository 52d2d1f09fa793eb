import re
import subprocess
import sys

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
