# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 7 — Timing structured products honestly
#
# Every chapter so far counted *numbers*: a rank-64 layer stores 10 % of the dense one, so
# it "should" be 10× faster. Whether it is depends on how the product is computed: memory
# traffic, index lookups, loop overheads and vector instructions decide, not the count of
# multiply-adds. This chapter times every structure of the course with C kernels
# (`native/*.c`, called through cffi) against the dense product computed the same way.
#
# **Goals.** After this chapter you can
# 1. time a kernel fairly: one thread, inputs ready before the clock, warm-up, best and
#    median of repeats, the baseline measured in the same run;
# 2. count the multiply-adds *and* the bytes a structure needs, and predict its speed-up;
# 3. read the table: which structures reach their theoretical speed-up on this CPU, and why
#    the others do not.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("STRUCTLAB_SMOKE", "0") == "1"  # CI: small random layer, same code
SEED = 0
TIMING = dict(repeats=3, min_sample=2e-4) if SMOKE else {}  # see structlab.timing.measure

# %% tags=["setup"]
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import ipywidgets as widgets
from IPython.display import display

import structlab
from structlab import kernels, plots
from structlab.approx.budget import approximate, hadamard_butterflies
from structlab.exercises import check
from structlab.info import summary
from structlab.kernel_bench import HEADER, cases, format_row, matrix, rows
from structlab.kernels import Plan
from structlab.timing import measure
from structlab.widgets import timing_explorer

print(summary(with_data=False))
print("native kernels loaded:", kernels.native_available())
display(widgets.Label("If you can read this line, widgets render in your front end."))

# %% [markdown]
# ## 1. Three ways to fool yourself
#
# A timing answers "how long does *this* take", so make sure *this* is the product.
#
# **Cold calls.** The first call pays for page faults, cache misses and lazy allocations.
# `structlab.timing.measure` makes warm-up calls first, then loops enough calls per sample
# to last a couple of milliseconds (the clock itself costs about 0.1 µs), and reports the
# best (least disturbed) and the median sample.

# %%
W = matrix("random" if SMOKE else "mobilenet", SEED).astype(np.float32)
x = np.random.default_rng(SEED).standard_normal((1, W.shape[1])).astype(np.float32)
dense = Plan(W).bind(x)
start = time.perf_counter()
dense()
cold = time.perf_counter() - start
warm = measure(dense, **TIMING)
print(f"dense {W.shape[0]}x{W.shape[1]}: first call {cold * 1e6:.1f} µs, then best "
      f"{warm.best * 1e6:.1f} µs / median {warm.median * 1e6:.1f} µs over {warm.calls} calls")

# %% [markdown]
# **Threads.** NumPy's `@` calls a multi-threaded BLAS; a structure's kernel here runs on
# one core. Comparing the two says nothing about the structure. Every timing in this
# chapter limits BLAS and torch to one thread (`threadpoolctl`), so both sides use one
# core. What the limit changes for a batch of 64 inputs on this machine:

# %%
X64 = np.random.default_rng(SEED).standard_normal((64, W.shape[1])).astype(np.float32)
for threads in sorted({1, os.cpu_count()}):
    t = measure(lambda: X64 @ W.T, threads=threads, **TIMING)
    print(f"NumPy X @ W.T, batch 64, {threads} BLAS thread(s): {t.best * 1e6:.1f} µs")

# %% [markdown]
# **Conversions.** A convenient wrapper converts its arguments on every call. For a fast
# kernel that conversion can cost more than the product. `kernels.matmat(S, x)` lays the
# structure out for its kernel (`structlab.packing`) on every call; a `Plan` does it once,
# and `plan.bind(x)` also makes the C pointers in advance. The 1024-point Hadamard
# transform as 10 butterfly factors:

# %%
H = hadamard_butterflies(64 if SMOKE else 1024)
xh = np.random.default_rng(SEED).standard_normal(H.shape[1]).astype(np.float32)
wrapper = measure(lambda: kernels.matmat(H, xh), **TIMING)
plan = Plan(H, np.float32)
bound = measure(plan.bind(xh[None, :]), **TIMING)
print(f"kernels.matmat (packs every call): {wrapper.best * 1e6:8.1f} µs")
print(f"plan.bind (packed once):           {bound.best * 1e6:8.1f} µs "
      f"-> the convenient call takes {wrapper.best / bound.best:.0f}x as long as the kernel")

# %% [markdown]
# ## 2. What the theory promises: multiply-adds
#
# A structure's **FLOP ratio** — dense multiply-adds over its own — is the speed-up it
# would reach if time followed arithmetic. For low rank $r$, a product costs $r(m + n)$
# instead of $mn$.
#
# ### Exercise 1 — break-even rank
#
# Write `break_even_rank(m, n)`: the largest rank whose low-rank product does *strictly
# fewer* multiply-adds than the dense $m \times n$ product (0 if none).

# %% tags=["exercise"]
def break_even_rank(m, n):
    """Largest r with r * (m + n) < m * n."""
    ### BEGIN SOLUTION
    return (m * n - 1) // (m + n)
    ### END SOLUTION

# %% tags=["check"]
check("break_even_rank", break_even_rank)

# %% [markdown]
# ## 3. Inside a kernel: compressed sparse rows
#
# A pruned matrix is stored as CSR: the kept `values`, the column index of each
# (`indices`), and where each row starts (`indptr`). Row $i$'s result is
# $\sum_p \text{values}[p]\, x[\text{indices}[p]]$ over $\text{indptr}[i] \le p <
# \text{indptr}[i+1]$ — one multiply-add per stored value, but each reads an index and
# then $x$ at that index (a *gather*) instead of the next number in memory.
#
# ### Exercise 2 — the CSR loop
#
# Write `csr_matvec(indptr, indices, values, x)` with plain Python loops.

# %% tags=["exercise"]
def csr_matvec(indptr, indices, values, x):
    """y = A @ x for A in CSR form."""
    ### BEGIN SOLUTION
    y = np.zeros(len(indptr) - 1)
    for i in range(len(y)):
        for p in range(indptr[i], indptr[i + 1]):
            y[i] += values[p] * x[indices[p]]
    return y
    ### END SOLUTION

# %% tags=["check"]
csr_solved = check("csr_matvec", csr_matvec)

# %% [markdown]
# The same loop in C (`native/csr.c`) against yours, on a 10 % pruned layer:

# %%
pruned = approximate(W[:100], "pruning", 0.1)
csr = pruned.csr
xs = np.random.default_rng(SEED).standard_normal(W.shape[1]).astype(np.float32)
c_loop = measure(Plan(pruned, np.float32).bind(xs[None, :]), **TIMING)
if csr_solved:
    python_loop = measure(csr_matvec, csr.indptr, csr.indices, csr.data, xs, repeats=3, warmup=1)
    print(f"{csr.nnz:,} stored values: your Python loop {python_loop.best * 1e3:.2f} ms, C kernel "
          f"{c_loop.best * 1e6:.2f} µs ({python_loop.best / c_loop.best:,.0f}x)")
else:
    print(f"{csr.nnz:,} stored values: C kernel {c_loop.best * 1e6:.2f} µs "
          "(solve exercise 2 to time your loop beside it)")

# %% [markdown]
# ## 4. What memory allows: bytes moved
#
# At batch 1 a layer's weights are read once per product, and reading them is most of the
# work: the dense kernel streams $4mn$ bytes (float32). A structure that reads fewer bytes
# can be faster even with as many multiply-adds (a 4-bit codebook), and one that reads
# 8-byte indices beside its values pays for them.
#
# ### Exercise 3 — bytes of a CSR product
#
# Write `csr_bytes(m, nnz, value_bytes, index_bytes)`: the bytes the CSR kernel reads for
# one product (values, column indices, row pointers; ignore $x$ and $y$).

# %% tags=["exercise"]
def csr_bytes(m, nnz, value_bytes, index_bytes):
    """Bytes of the values, column indices and row pointers of an m-row CSR matrix."""
    ### BEGIN SOLUTION
    return nnz * (value_bytes + index_bytes) + (m + 1) * index_bytes
    ### END SOLUTION

# %% tags=["check"]
check("csr_bytes", csr_bytes)

# %% [markdown]
# If the product were limited by memory alone, the speed-up would be the ratio of bytes.
# Predicted against measured, for pruned versions of the layer:

# %%
print(f"{'kept':>6} {'FLOP ratio':>10} {'bytes ratio':>11} {'measured':>9}")
for share in (0.05, 0.1, 0.3):
    S = approximate(W, "pruning", share)
    row = next(rows([("", "pruning", S, True)], batches=(1,), **TIMING))
    predicted = 4 * W.size / Plan(S, np.float32).packed.nbytes  # what csr_bytes counts
    print(f"{share:>6.2f} {row['flop_ratio']:>10.1f} {predicted:>11.2f} {row['speedup']:>9.2f}")

# %% [markdown]
# Even the byte count is optimistic for CSR: a gather costs more than a contiguous load,
# so at 10 % density pruning is about as fast as the dense product, not 10× faster.
#
# ## 5. Every structure, timed
#
# `structlab.kernel_bench` compresses real layers — MobileNetV2's ImageNet classifier and
# LeNet-300-100's first layer — by every method of the course to about 10 % of their
# numbers (the codebook instead stores every entry as a 4-bit index), adds the exact
# 1024-point Hadamard transform as 10 butterflies, and times each at batch 1 and 64 beside
# the dense C kernel and NumPy (`python benchmarks/kernels.py` prints the same table).
# *achieved* = measured speed-up / FLOP ratio; the chapter's goals at batch 1 are the
# dense C kernel within 1.3× of NumPy, and every structure achieving at least 0.5.

# %%
table = []
print(HEADER)
for row in rows(cases(SMOKE, seed=SEED, progress=not SMOKE), batches=(1, 64), **TIMING):
    table.append(row)
    print(format_row(row))
plots.speedups(table);

# %% [markdown]
# ## 6. Time against size
#
# Pick a method and move the share of stored numbers: the red point is the measured time,
# the dotted line where it would be if time followed the multiply-adds. (Each move fits
# and times a new structure: a second for most methods, several for the sparse product
# on the large layer.)

# %%
timing_explorer(W.astype(np.float64), methods=("lowrank", "sss", "pruning"))

# %% [markdown]
# ## 7. Without Python
#
# The seed project timed its layers with a small C program reading a layer file. So can
# you: `structlab export-layer` (or `kernels.export_layer`) writes the packed arrays and
# the dense matrix, and `make -C native bench LAYER=file` builds `native/structlab-bench`,
# which times dense against structured with the same C kernels and checks they agree.

# %%
native = Path(structlab.__file__).resolve().parents[1] / "native"
if shutil.which("make") and shutil.which("cc") and (native / "Makefile").exists():
    layer = Path(tempfile.mkdtemp()) / "layer.txt"
    kernels.export_layer(H, layer)
    run = subprocess.run(["make", "-s", "-C", str(native), "bench", f"LAYER={layer}"],
                         capture_output=True, text=True, check=True)
    print(run.stdout)
else:
    print("needs make, a C compiler and the source checkout's native/ folder")

# %% [markdown]
# ## Reflect
#
# - **Low rank** and **butterflies** keep their loops contiguous and long: they reach
#   half or more of their FLOP ratio (the butterflies: about 31× of a possible 51× at
#   1024 points on the machine this was written on). The same butterflies stored as CSR
#   factors are 15× slower: the index-free path is what pays.
# - **Pruning** pays an 8-byte index and a gather per stored value: at 10 % density it
#   hardly beats the dense product. Its win is storage (chapter 2), not time.
# - A **4-bit codebook** does all $mn$ multiply-adds yet reads an eighth of the bytes; with
#   the table in two vector registers (AVX-512) it runs at about 0.75× the dense speed.
# - **SSS** reaches about half its FLOP ratio on MobileNetV2's classifier (30 stages of
#   33 × 43) but much less on LeNet's smaller layer, where each block is a few vector
#   lengths and loop overheads dominate; the **sparse product** (64 nonzeros per row) is
#   gather-bound like pruning.
# - At batch 64 the dense product reuses each weight 64 times from cache; structures gain
#   less there. Numbers are from this machine: run the table on yours.
