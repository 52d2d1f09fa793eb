"""Hidden tests for chapter 6, run on the solution (pass) and the student edition (fail)."""

import numpy as np
import pytest

from structlab.approx.widths import energy_width

from .conftest import edition_params
from .test_svd_wine import _expect


@pytest.mark.parametrize("namespace", edition_params("06_evolving_widths.py"), indirect=True)
def test_widths_exercises(namespace):
    ns, solved = namespace

    def test():
        rng = np.random.default_rng(15)
        for _ in range(8):
            m, n, out = (int(v) for v in rng.integers(3, 20, size=3))
            rank = int(rng.integers(1, min(m, n) + 1))
            W1 = rng.standard_normal((m, rank)) @ rng.standard_normal((rank, n))
            W2 = rng.standard_normal((out, m))
            new_W1, new_W2 = ns["shrink_pair"](W1, W2, rank)
            assert np.shape(new_W1) == (rank, n) and np.allclose(new_W2 @ new_W1, W2 @ W1)
            wide = rng.standard_normal((m, m + int(rng.integers(1, 5))))
            v = ns["orthogonal_direction"](wide)
            assert np.isclose(np.linalg.norm(v), 1) and np.abs(wide @ v).max() < 1e-9
            s = np.sort(rng.random(int(rng.integers(1, 12))))[::-1]
            keep = float(rng.uniform(0.3, 1.0))
            assert ns["energy_width"](s, keep) == energy_width(np.diag(s), keep=keep)

    _expect(solved, test)
