"""The standalone path: export a layer file, time it with the C program, no Python in the loop."""

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from structlab.kernels import export_layer

NATIVE = Path(__file__).resolve().parents[1] / "native"
LINE = re.compile(r"^(\w+) +(\d+) x (\d+) +(f32|f64) batch (\d+) +dense +[\d.]+ us .*"
                  r"structured +[\d.]+ us .* speed-up +[\d.]+ +max \|difference\| / max \|y\| (\S+)$")


@pytest.fixture(scope="module")
def bench_program():
    if shutil.which("make") is None or shutil.which("cc") is None:
        pytest.skip("make and a C compiler are needed for the standalone timer")
    subprocess.run(["make", "-C", str(NATIVE), "structlab-bench"], check=True, capture_output=True)
    return NATIVE / "structlab-bench"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_exported_structure_runs_in_the_c_program(bench_program, every_structure, tmp_path,
                                                        dtype):
    for name, S in every_structure:
        path = tmp_path / "layer.txt"
        export_layer(S, path, dtype)
        out = subprocess.run([str(bench_program), str(path), "3", "3"], capture_output=True,
                             text=True, check=True).stdout.strip()
        match = LINE.match(out)
        assert match, f"{name}: {out}"
        kind, m, n, file_dtype, batch, difference = match.groups()
        dense = S if isinstance(S, np.ndarray) else S.toarray()
        assert (int(m), int(n), int(batch)) == (*dense.shape, 3), name
        assert file_dtype == ("f32" if dtype == np.float32 else "f64")
        assert float(difference) < (1e-5 if dtype == np.float32 else 1e-12), f"{name}: {out}"


def test_the_c_program_rejects_bad_files(bench_program, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("not a layer\n")
    run = subprocess.run([str(bench_program), str(bad)], capture_output=True, text=True)
    assert run.returncode == 1 and "not a structlab layer file" in run.stderr
    export_layer(np.eye(3), bad)
    bad.write_bytes(bad.read_bytes()[:-30])  # cut inside the dense array
    run = subprocess.run([str(bench_program), str(bad)], capture_output=True, text=True)
    assert run.returncode == 1 and "truncated array dense" in run.stderr
    run = subprocess.run([str(bench_program)], capture_output=True, text=True)
    assert run.returncode == 2 and "usage" in run.stderr
    export_layer(np.eye(3), bad)
    data = bad.read_bytes()
    at = data.index(b"array dense")
    bad.write_bytes(data[:at] + data[at:].replace(np.float32(1).tobytes(), np.float32(2).tobytes(), 1))
    run = subprocess.run([str(bench_program), str(bad)], capture_output=True, text=True)
    assert run.returncode == 1 and "results differ" in run.stderr
