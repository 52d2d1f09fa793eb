"""Chapter 7's table: every structure's C kernel timed against the dense product.

Shared by ``benchmarks/kernels.py``, ``structlab bench``, ``structlab
export-layer`` and notebook 07. The matrices are real layers: MobileNetV2's
ImageNet classifier (1000 x 1280, the shipped weights), LeNet-300-100's first
layer (300 x 784, trained on MNIST by the chapter 3 recipe, cached), and the
1024-point Walsh-Hadamard transform as 10 butterfly factors.
"""

import numpy as np

from structlab.approx.budget import METHODS, approximate, hadamard_butterflies
from structlab.timing import compare, measure

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
    ratio) or by bytes (``bytes``: reading what it must at least 70 % as fast
    as a copy moves bytes, :func:`structlab.timing.compare`), whichever
    bounds it.
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
            f"{r['bandwidth'] / 1e9:>9.1f} {r['bound_share']:>8.2f} "
            f"{r['goal']:>9}")


# --- the same structures as torch layers -----------------------------------------------

TORCH_HEADER = (f"{'layer':<23} {'method':<16} {'batch':>5} {'fwd us':>8} {'C us':>8} "
                f"{'/C':>5} {'nn.Linear':>9} {'speed-up':>8} {'train us':>9} {'nn.Linear':>9} "
                f"{'speed-up':>8} {'saved KB':>9} {'dense KB':>9} {'params':>9} {'stored':>9}")


def format_torch_row(r):
    """One line of the table under :data:`TORCH_HEADER` (best microseconds, KB = 1000 bytes)."""
    return (f"{r['case']:<23} {r['method']:<16} {r['batch']:>5} {r['forward_us']:>8.1f} "
            f"{r['c_us']:>8.1f} {r['forward_us'] / r['c_us']:>5.2f} {r['dense_forward_us']:>9.1f} "
            f"{r['forward_speedup']:>7.2f}x {r['train_us']:>9.1f} {r['dense_train_us']:>9.1f} "
            f"{r['train_speedup']:>7.2f}x {r['state_dict_bytes'] / 1e3:>9.1f} "
            f"{r['dense_bytes'] / 1e3:>9.1f} {r['params']:>9,} {r['numbers']:>9,}")


def _saved_bytes(module):
    """Bytes of ``module.state_dict()`` as ``torch.save`` writes it."""
    import io

    import torch  # torch only for this table

    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def _torch_times(module, x, **measure_kwargs):
    """Best microseconds of a forward pass without autograd, and of a training step."""
    import torch  # torch only for this table

    def forward():
        with torch.no_grad():
            module(x)

    def training_step():  # forward and backward, the gradients cleared first as in a loop
        module.zero_grad(set_to_none=True)
        module(x).sum().backward()

    return (measure(forward, **measure_kwargs).best * 1e6,
            measure(training_step, **measure_kwargs).best * 1e6)


def torch_rows(case_list, batches=(1, 64), seed=0, progress=False, **measure_kwargs):
    """Every structure's torch layer (:func:`structlab.nn.layers.as_module`, float32) timed
    against ``nn.Linear`` of its shape and against its own C kernel, one dict per row.

    Each row: the best microseconds of the layer's forward pass (``torch.no_grad``),
    of the C kernel on the same input (``c_us``), of ``nn.Linear``'s, and of a
    training step (forward and backward of the output's sum) of each layer; the
    speed-ups over ``nn.Linear``; the layer's ``state_dict`` bytes (``torch.save``)
    against the dense layer's parameters; trainable numbers against the structure's
    stored numbers; and the largest difference from the structure's own product.
    Dense rows and the butterflies as CSR (the same layer again) are skipped.

    Examples
    --------
    >>> table = list(torch_rows(cases(smoke=True), batches=(1,), repeats=2, min_sample=1e-4))
    >>> sorted({r["method"] for r in table})[:2], all(r["max_error"] < 1e-3 for r in table)
    (['butterflies', 'codebook'], True)
    """
    import torch  # torch only for this table
    from tqdm.auto import tqdm

    from structlab.kernels import Plan
    from structlab.nn.layers import as_module

    rng = np.random.default_rng(seed)
    todo = [c for c in case_list if c[1] not in ("dense", "butterflies as CSR")]
    for case, method, S, _ in tqdm(todo, desc="timing", disable=not progress, leave=False):
        layer = as_module(S).float()
        m, n = S.shape
        dense = torch.nn.Linear(n, m, bias=False)
        with torch.no_grad():
            dense.weight.copy_(torch.as_tensor(S.toarray(), dtype=torch.float32))
        plan = Plan(S, np.float32)
        for batch in batches:
            x = torch.as_tensor(rng.standard_normal((batch, n)), dtype=torch.float32)
            with torch.no_grad():
                error = float((layer(x).double() - torch.as_tensor(
                    S.matmat(x.double().numpy().T).T)).abs().max())
            forward_us, train_us = _torch_times(layer, x, **measure_kwargs)
            dense_forward_us, dense_train_us = _torch_times(dense, x, **measure_kwargs)
            c_us = measure(plan.bind(x.numpy()), **measure_kwargs).best * 1e6
            yield {"case": case, "method": method, "batch": batch, "forward_us": forward_us,
                   "c_us": c_us, "dense_forward_us": dense_forward_us,
                   "forward_speedup": dense_forward_us / forward_us, "train_us": train_us,
                   "dense_train_us": dense_train_us, "train_speedup": dense_train_us / train_us,
                   "state_dict_bytes": _saved_bytes(layer),
                   "dense_bytes": 4 * m * n, "structure_bytes": int(S.nbytes),
                   "params": sum(p.numel() for p in layer.parameters()),
                   "numbers": int(S.nparams), "max_error": error}
