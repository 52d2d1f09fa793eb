"""Chapter 7's table: every structure's C kernel timed against the dense product.

Shared by ``benchmarks/kernels.py``, ``structlab bench``, ``structlab
export-layer`` and notebook 07. The matrices are real layers: MobileNetV2's
ImageNet classifier (1000 x 1280, the shipped weights), LeNet-300-100's first
layer (300 x 784, trained on MNIST by the chapter 3 recipe, cached), and the
1024-point Walsh-Hadamard transform as 10 butterfly factors.
"""

import numpy as np

from structlab.approx.budget import METHODS, approximate, hadamard_butterflies
from structlab.timing import compare

GOAL_DENSE = 1.3  # the dense C kernel within this factor of NumPy/BLAS at batch 1
GOAL_ACHIEVED = 0.5  # each structure reaching this share of its FLOP ratio at batch 1,
GOAL_BOUND = 0.7  # or this share of its memory bound (a copy of the bytes it reads)


LABELS = {"mobilenet": "MobileNetV2 classifier", "lenet300": "LeNet-300-100 fc1",
          "hadamard": "Hadamard", "random": "random"}


def matrix(name, seed=0, size=None):
    """A dense layer by name (float64): ``mobilenet`` (1000 x 1280), ``lenet300`` (300 x 784),
    ``hadamard`` (``size`` x ``size``, default 1024) or ``random`` (``size`` = (m, n), default 96 x 128).

    ``lenet300`` trains the chapter 3 recipe on MNIST the first time (cached).
    """
    if name == "mobilenet":
        from structlab import datasets

        return datasets.mobilenet_v2().classifier[-1].weight.detach().double().numpy()
    if name == "lenet300":
        from structlab import datasets
        from structlab.nn.recipes import trained_baseline

        data = datasets.mnist()
        lenet, _ = trained_baseline("lenet300", data.X_train, data.y_train, seed=seed)
        return lenet.fc1.weight.detach().double().numpy()
    if name == "hadamard":
        return hadamard_butterflies(size or 1024).toarray()
    if name == "random":
        return np.random.default_rng(seed).standard_normal(size or (96, 128))
    raise ValueError(f"name must be one of {list(LABELS)}, got {name!r}")


def structure(W, method, share=0.1, seed=0, n_iter=20):
    """``W`` itself (``dense``), its exact butterflies (``butterflies``, a Hadamard matrix) or
    :func:`~structlab.approx.budget.approximate` with ``method``."""
    if method == "dense":
        return W
    if method == "butterflies":
        n = len(W)
        if W.shape != (n, n) or n < 2 or n & (n - 1) or not np.array_equal(
                hadamard_butterflies(n).toarray(), W):
            raise ValueError("butterflies are exact for a Hadamard matrix only (--matrix hadamard)")
        return hadamard_butterflies(n)
    return approximate(W, method, share, n_iter=n_iter, seed=seed)


def cases(smoke=False, share=0.1, seed=0, progress=False):
    """``(case, method, structure, butterflies)`` for every layer x method, plus the Hadamard transform.

    Every method stores about ``share`` of the dense numbers (the codebook
    stores all entries at 4 bits instead); ``dense`` is the matrix itself.
    ``smoke``: a small random layer and Hadamard 64, nothing to load or train.
    """
    from tqdm.auto import tqdm

    layers = ["random"] if smoke else ["mobilenet", "lenet300"]
    todo = [(name, method) for name in layers for method in ("dense", *METHODS)]
    weights = {name: matrix(name, seed) for name in layers}
    for name, method in tqdm(todo, desc="fitting", disable=not progress, leave=False):
        W = weights[name]
        label = f"{LABELS[name]} {W.shape[0]}x{W.shape[1]}" if smoke else LABELS[name]
        yield label, method, structure(W, method, share, seed, 5 if smoke else 20), True
    H = matrix("hadamard", size=64 if smoke else 1024)
    label = f"Hadamard {len(H)}"
    yield label, "dense", H, True
    yield label, "butterflies", structure(H, "butterflies"), True
    yield label, "butterflies as CSR", structure(H, "butterflies"), False


def goal(row):
    """``met`` / ``MISS`` against the chapter's goals at batch 1, ``-`` where none is set.

    A structure meets its goal by FLOPs (``flops``: at least half its FLOP
    ratio) or by bytes (``bytes``: at least 70 % of a copy's speed over the
    bytes it reads), whichever bounds it.
    """
    if row["batch"] != 1:
        return "-"
    if row["method"] == "dense":
        return "met" if row["dense_c_best"] <= GOAL_DENSE * row["numpy_best"] else "MISS"
    if row["achieved"] >= GOAL_ACHIEVED:
        return "met flops"
    return "met bytes" if row["bound_share"] >= GOAL_BOUND else "MISS"


def rows(case_list, batches=(1, 64), dtype=np.float32, progress=False, **measure_kwargs):
    """Time every case at every batch size (:func:`structlab.timing.compare`); one dict per row.

    Examples
    --------
    >>> table = list(rows(cases(smoke=True), batches=(1,), repeats=2, min_sample=1e-4))
    >>> sorted({r["method"] for r in table})[:3]
    ['butterflies', 'butterflies as CSR', 'codebook']
    """
    from tqdm.auto import tqdm

    todo = [(c, b) for c in case_list for b in batches]
    for (case, method, S, butterflies), batch in tqdm(todo, desc="timing", disable=not progress,
                                                      leave=False):
        row = compare(S, batch, dtype, butterflies=butterflies, **measure_kwargs)
        row["numbers"] = int(np.size(S)) if isinstance(S, np.ndarray) else S.nparams
        row = {"case": case, "method": method, **row}
        row["goal"] = goal(row)
        yield row


HEADER = (f"{'case':<23} {'method':<19} {'batch':>5} {'numbers':>9} {'structure':>15} "
          f"{'dense C':>15} {'numpy':>15} {'C/np':>5} {'flops x':>8} {'speed-up':>8} "
          f"{'achieved':>8} {'KB read':>8} {'copy GB/s':>9} {'of bound':>8} {'goal':>9}")


def format_row(r):
    """One line of the table under :data:`HEADER` (times in µs, best/median)."""
    def us(name):
        return f"{r[name + '_best'] * 1e6:.1f}/{r[name + '_median'] * 1e6:.1f}"

    return (f"{r['case']:<23} {r['method']:<19} {r['batch']:>5} {r['numbers']:>9,} "
            f"{us('structure'):>15} {us('dense_c'):>15} {us('numpy'):>15} "
            f"{r['dense_c_best'] / r['numpy_best']:>5.2f} {r['flop_ratio']:>8.1f} "
            f"{r['speedup']:>8.2f} {r['achieved']:>8.2f} {r['read_bytes'] / 1e3:>8.1f} "
            f"{r['read_bytes'] / r['copy_best'] / 1e9:>9.1f} {r['bound_share']:>8.2f} "
            f"{r['goal']:>9}")
