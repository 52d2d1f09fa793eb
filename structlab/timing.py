"""Fair timing: one thread, inputs prepared before the clock, warm-up, best and median of repeats.

A structured product is only faster if it is faster than the dense product
*measured the same way, in the same run*. :func:`compare` times a structure's C
kernel beside the dense C kernel and NumPy's ``X @ W.T`` (OpenBLAS or MKL), all
on one thread with their buffers ready, and reports the achieved speed-up
against the theoretical one (the ratio of multiply-adds).
"""

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from structlab._validate import check_float, check_int


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the best (least disturbed) and the median of the repeats."""

    best: float
    median: float
    calls: int


@contextmanager
def single_thread(threads=1):
    """BLAS (through threadpoolctl) and torch limited to ``threads`` threads inside the block."""
    import torch

    torch_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(torch_threads)


def measure(func, *args, repeats=15, warmup=3, min_sample=2e-3, threads=1):
    """Time ``func(*args)``; each sample loops enough calls to last ``min_sample`` s.

    BLAS and torch get ``threads`` threads (one by default: a structure's
    kernel and its dense baseline then compete on the same single core).

    Looping inside a sample keeps the clock's own cost (about 0.1 µs) out of
    microsecond kernels; ``warmup`` calls first fill the caches and allocate
    any lazy buffers.

    Returns
    -------
    Timing

    Examples
    --------
    >>> t = measure(sum, range(1000), repeats=3)
    >>> 0 < t.best <= t.median
    True
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    repeats = check_int(repeats, "repeats", low=1, high=10_000)
    warmup = check_int(warmup, "warmup", low=0, high=10_000)
    min_sample = check_float(min_sample, "min_sample", low=0, high=10)
    threads = check_int(threads, "threads", low=1)
    with single_thread(threads):
        for _ in range(warmup):
            func(*args)
        number = 1
        while True:
            start = time.perf_counter()
            for _ in range(number):
                func(*args)
            if time.perf_counter() - start >= min_sample or number >= 1 << 20:
                break
            number *= 2
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(number):
                func(*args)
            samples.append((time.perf_counter() - start) / number)
    return Timing(min(samples), statistics.median(samples), number * repeats)


def best_time(func, *args, repeats=20, warmup=2):
    """Best seconds per call of ``func(*args)`` on one thread (see :func:`measure`).

    Examples
    --------
    >>> best_time(sum, range(1000)) > 0
    True
    """
    return measure(func, *args, repeats=repeats, warmup=warmup).best


def compare(S, batch=1, dtype=np.float32, seed=0, butterflies=True, **measure_kwargs):
    """Time a structure's kernel against the dense C kernel and NumPy on the same matrix.

    Parameters
    ----------
    S : Structure, ndarray or scipy.sparse matrix
    batch : int
        Input vectors per product.
    dtype : float32 or float64
    seed : int
        Seeds the random input.
    butterflies : bool
        As :func:`structlab.packing.pack`.
    **measure_kwargs
        Passed to :func:`measure`.

    Returns
    -------
    dict
        ``kind``, ``shape``, ``batch``, ``flops`` and ``dense_flops`` (per
        vector), ``bytes`` and ``dense_bytes`` (what each kernel reads), the
        best and median seconds of ``structure``, ``dense_c`` and ``numpy``,
        ``flop_ratio`` (theoretical speed-up), ``speedup`` (dense C / structure,
        best times) and ``achieved`` (= speedup / flop_ratio). The memory
        bound: ``read_bytes`` (the structure's arrays and the input, what the
        kernel must read at least once), ``copy_best`` (seconds for NumPy to
        copy that many bytes, in the same run, so at that working-set size,
        caches included), ``bandwidth`` (bytes per second a copy moves, read
        and written, as STREAM counts them) and ``bound_share`` (the time
        reading ``read_bytes`` at that bandwidth would take, divided by the
        kernel's: 1 for a kernel as fast as a copy's traffic; a kernel that
        only reads can pass 1).

    Examples
    --------
    >>> from structlab.structures.lowrank import LowRank
    >>> rng = np.random.default_rng(0)
    >>> row = compare(LowRank(rng.random((64, 2)), rng.random((2, 64))), repeats=3)
    >>> row["kind"], row["flop_ratio"]
    ('lowrank', 16.0)
    """
    from structlab.kernels import Plan

    batch = check_int(batch, "batch", low=1, high=100_000)
    seed = check_int(seed, "seed", low=0)
    plan = Plan(S, dtype, butterflies)
    if plan.packed.flops == 0:
        raise ValueError("S stores no numbers: there is no product to time")
    m, n = plan.shape
    dense = Plan(S if isinstance(S, np.ndarray) else S.toarray(), dtype)
    X = np.random.default_rng(seed).standard_normal((batch, n)).astype(dtype)
    W_T = dense.packed.arrays["W"].T
    out = np.empty((batch, m), dtype)
    read_bytes = plan.packed.nbytes + X.nbytes
    source, target = np.ones(read_bytes, np.uint8), np.empty(read_bytes, np.uint8)
    times = {"structure": measure(plan.bind(X, out=np.empty_like(out)), **measure_kwargs),
             "dense_c": measure(dense.bind(X, out=np.empty_like(out)), **measure_kwargs),
             "numpy": measure(lambda: np.matmul(X, W_T, out=out), **measure_kwargs),
             "copy": measure(np.copyto, target, source, **measure_kwargs)}
    row = {"kind": plan.kind, "shape": [m, n], "batch": batch, "flops": plan.packed.flops,
           "dense_flops": m * n, "bytes": plan.packed.nbytes, "dense_bytes": dense.packed.nbytes,
           "read_bytes": read_bytes}
    for name, t in times.items():
        row[f"{name}_best"], row[f"{name}_median"] = t.best, t.median
    row["flop_ratio"] = m * n / plan.packed.flops
    row["speedup"] = times["dense_c"].best / times["structure"].best
    row["achieved"] = row["speedup"] / row["flop_ratio"]
    row["bandwidth"] = 2 * read_bytes / times["copy"].best
    row["bound_share"] = read_bytes / row["bandwidth"] / times["structure"].best
    return row

