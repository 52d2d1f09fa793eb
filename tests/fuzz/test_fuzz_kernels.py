"""The kernel fuzz cases (kernel_cases.py) in a subprocess per kernel path: a crash fails here."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from structlab import kernels

CASES = Path(__file__).with_name("kernel_cases.py")


@pytest.mark.parametrize("path", ["native", "fallback"])
def test_kernel_fuzz_cases(path, request):
    if path == "native" and not kernels.native_available():
        pytest.skip(f"no C kernels here: {kernels.FALLBACK_REASON}")
    env = {**os.environ, "STRUCTLAB_NO_NATIVE": "1" if path == "fallback" else "0"}
    profile = request.config.getoption("hypothesis_profile", default=None) or "ci"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          f"--hypothesis-profile={profile}", str(CASES)],
                         cwd=CASES.parents[2], env=env, capture_output=True, text=True,
                         timeout=1800)
    assert run.returncode == 0, (f"exit status {run.returncode} (negative: killed by that "
                                 f"signal)\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}")
