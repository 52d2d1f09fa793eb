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

# %% [markdown]
# **Time.** Plan about 2 hours for the lab. In full mode the chapter ran in 44 s
# on the 2-core machine it was written on, with its trained networks and features
# already cached (a first run also trains them); with `STRUCTLAB_SMOKE=1` it runs in
# under a minute, with illustrative numbers.

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
from structlab.exercises.pruning import budget_network
from structlab.info import measured, summary
from structlab.kernel_bench import (HEADER, TORCH_HEADER, cases, format_row, format_torch_row,
                                    matrix, rows, torch_rows)
from structlab.kernels import Plan
from structlab.nn.compress import compress
from structlab.timing import compare, measure
from structlab.widgets import timing_explorer

print(summary(with_data=False, smoke=SMOKE))
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
    """Largest r with r * (m + n) < m * n.

    Parameters
    ----------
    m, n : int
        Shape of the dense matrix.

    Returns
    -------
    int
        The largest rank at which two factors store fewer numbers than W.
    """
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
    """y = A @ x for A in CSR form.

    Parameters
    ----------
    indptr : ndarray of int, shape (m + 1,)
        Row i's entries are ``values[indptr[i]:indptr[i + 1]]``.
    indices : ndarray of int, shape (nnz,)
        Column of each entry.
    values : ndarray of float, shape (nnz,)
    x : ndarray, shape (n,)

    Returns
    -------
    ndarray, shape (m,), float
    """
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
# wide indices beside its values pays for them. This course's CSR kernel stores where each
# value sits as Deep Compression does, relative: a *gap* per value, the number of columns
# since the previous value of its row (the first counts from the row's start), in 1 byte
# when every gap fits (2 bytes otherwise), plus one 4-byte pointer per row to where the
# row starts (`structlab.encoding.relative_positions`).
#
# ### Exercise 3 — bytes of a CSR product
#
# Write `csr_bytes(m, nnz, value_bytes, gap_bytes)`: the bytes the CSR kernel reads for
# one product (values, gaps, row pointers; ignore $x$ and $y$).

# %% tags=["exercise"]
def csr_bytes(m, nnz, value_bytes, gap_bytes):
    """Bytes of the values, gaps and row pointers of an m-row CSR matrix.

    Parameters
    ----------
    m, nnz : int
        Rows and stored entries.
    value_bytes, gap_bytes : int
        Bytes per value and per gap (the m + 1 row pointers are int32).

    Returns
    -------
    int
    """
    ### BEGIN SOLUTION
    return nnz * (value_bytes + gap_bytes) + (m + 1) * 4
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
# so the measured column falls short of the bytes column (on the machine this chapter
# was written on, pruning at 10 % density ran about as fast as the dense product).
#
# ## 5. Every structure, timed
#
# `structlab.kernel_bench` compresses real layers — MobileNetV2's ImageNet classifier and
# LeNet-300-100's first layer — by every method of the course to about 10 % of their
# numbers (the codebook instead stores every entry as a 4-bit index), adds the exact
# 1024-point Hadamard transform as 10 butterflies, and times each at batch 1 and 64 beside
# the dense C kernel and NumPy (`python benchmarks/kernels.py` prints the same table;
# in full mode the cell takes about half a minute).
# *achieved* = measured speed-up / FLOP ratio. *KB read* is what the kernel must read at
# least once (its arrays and the input), *copy GB/s* the bytes per second NumPy moves
# (read and written) copying that many bytes in the same run, and *of bound* the time
# reading *KB read* at that rate would take, divided by the kernel's time: near 1, the
# kernel is as fast as the memory traffic allows (a kernel that only reads can exceed 1;
# the dense product does). The last column holds the course's own
# goals for its kernels at batch 1 (the dense C kernel within 1.3× of NumPy, every
# structure achieving at least 0.5 of its FLOP ratio — `met flops` — or 0.7 of its
# memory bound — `met bytes`): `MISS` marks a kernel of ours that falls short of
# them, a fact about the kernel and this machine, not about your work.
#
# **Question 1 (predict before you run the next cell).** Order these by the speed-up you
# expect at batch 1, largest first: low rank, pruning, the 4-bit codebook, the
# butterflies (exact Hadamard, as butterflies and as CSR factors). Then: which of them
# will gain *least* at batch 64, and why?

# %% [markdown] tags=["answer"] points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# The butterflies (as butterflies) and low rank first: few multiply-adds in long,
# contiguous loops. The butterflies as CSR next or far behind: the same multiply-adds,
# but each one reads a gap and gathers. Pruning and the codebook last: pruning pays a
# stored gap and a gather per value (at 10 % density it is close to dense speed), and
# the codebook does *all* $mn$ multiply-adds, only reading fewer bytes. At batch 64 the
# dense product reuses each weight 64 times from cache; the sparse kernels do too (they
# run the whole batch through a row at once, each value scaling a contiguous row of the
# transposed batch), so pruning and the sparse product can gain *more* than at batch 1.
# The dense codebook gains least: its advantage was bytes, and at batch 64 bytes matter
# least. The table decides the order on this machine.
# ### END SOLUTION

# %%
table = []
layers = list(cases(SMOKE, seed=SEED, progress=not SMOKE))  # fitted once, timed twice
print(HEADER)
for row in rows(layers, batches=(1, 64), **TIMING):
    table.append(row)
    print(format_row(row))
plots.speedups(table);

# %% [markdown]
# How to read the plot: each marker is one row of the table. Its colour is the method,
# its shape the layer (the legend lists both), filled at batch 1 and hollow at batch 64.
# On the solid diagonal a structure is exactly as much faster as it has fewer
# multiply-adds; above it, faster still (it also reads fewer bytes); below the dotted
# line, it reaches less than half of its FLOP ratio. The codebook sits at a FLOP ratio
# of 1: it does every multiply-add of the dense product.

# %% [markdown]
# ### The same structures in PyTorch
#
# A structure only helps a model if its *torch layer* is small and fast. Each layer of
# `structlab.nn.layers` (`as_module(S)`) stores the structure's numbers as parameters and
# its positions as narrow buffers, and on the CPU computes with the C kernels timed above
# — forward, and backward for training (`structlab.nn.ops`). The table times each one
# against `nn.Linear` of the same shape (PyTorch's own dense product), and against its
# own C kernel (*/C*: what calling it from Python adds), and gives its saved size
# (`state_dict`, as `torch.save` writes it) against the dense weight's
# (`python benchmarks/torch_layers.py` prints the same table).

# %%
print(TORCH_HEADER)
for row in torch_rows(layers, batches=(1, 64), **TIMING):
    print(format_torch_row(row))

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
# ### Design task — fc1 for batch 1
#
# At batch 1 a product is limited by the bytes it reads (section 4). Write
# `fast_fc1(model)`: given chapter 2's LeNet-300-100 (the small one its design task is
# graded on), return the network with `fc1` replaced by a structure whose float32 kernel
# reads **at most a tenth of the dense fc1's bytes** — values *and* indices, as
# `Plan(S, np.float32).packed.nbytes` counts them — while the network loses **at most
# one point** of validation accuracy. `compress(model, method, share, layers=["fc1"],
# timing=False)` builds such networks; what each method reads is yours to work out.
#
# The bytes are graded, not a time: a count is exact, a time varies from run to run.
# The cell after the check times your fc1 against the dense one with this chapter's
# timer, so you can see whether the bytes told the truth.

# %% tags=["exercise"]
def fast_fc1(model):
    """LeNet-300-100 with fc1 a structure reading at most 10 % of the dense bytes.

    Parameters
    ----------
    model : nn.Module
        A trained LeNet-300-100 (layers fc1, fc2, fc3); yours to modify or copy.

    Returns
    -------
    nn.Module
        The network, its ``fc1`` a ``StructuredLinear`` (as ``compress`` makes).
    """
    ### BEGIN SOLUTION
    # Low rank reads its numbers and nothing else (two dense passes, no indices), so 9 %
    # of the numbers is 9 % of the bytes; pruning to 10 % would read 30 % (section 4).
    return compress(model, "lowrank", 0.09, layers=["fc1"], timing=False)[0]
    ### END SOLUTION

# %% tags=["check"]
design_solved = check("fast_fc1", fast_fc1)

# %%
if design_solved:
    mine = fast_fc1(budget_network()[0]).fc1.structure
    timed = compare(mine, 1, np.float32, **TIMING)
    print(f"your fc1 ({type(mine).__name__}): reads {timed['bytes'] / timed['dense_bytes']:.1%} "
          f"of the dense bytes; {timed['speedup']:.1f}x faster than the dense C kernel at batch 1 "
          f"({timed['flop_ratio']:.1f}x fewer multiply-adds)")
else:
    print("Solve the design task to time your fc1 here.")

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
# ## Questions
#
# **Question 2.** In the table, find the two rows of the Hadamard transform (butterflies
# and the same factors as CSR). They do the same multiply-adds. Quote both speed-ups;
# what explains the difference?

# %% [markdown] tags=["answer"]
# **Your answer:**
#
# ### BEGIN SOLUTION
# The butterfly kernel knows where every nonzero is (a fixed stride pattern), so it
# streams contiguous values and inputs without reading an index; the CSR kernel reads a
# gap for every value, adds it up to the column and gathers the input from there, which
# costs more than the multiply-add itself. The ratio of the two measured speed-ups is the price of the
# indices on this machine.
# ### END SOLUTION

# %% [markdown]
# **Question 3.** SSS achieves a different share of its FLOP ratio on MobileNetV2's
# classifier than on LeNet-300-100's fc1 (read the *achieved* column). Why would the
# same kernel do better on the larger matrix?

# %% [markdown] tags=["answer"]
# **Your answer:**
#
# ### BEGIN SOLUTION
# Its blocks are bigger: the classifier's stages are tens of rows and columns, so each
# small product runs over several vector lengths, while on the smaller layer each block
# is a few vector lengths and the per-stage loop overhead (and the recursion's short,
# dependent products) dominates. Speed-ups from structure need blocks large enough to
# keep the vector units busy.
# ### END SOLUTION

# %% [markdown]
# Every number in this chapter comes from this machine: run the table (or
# `python benchmarks/kernels.py`) on yours and compare.

# %% [markdown]
# ## Summary
#
# **What you learned.**
# - Count multiply-adds, then bytes: a product is limited by whichever its loops and
#   memory make slower, and time is measured, never assumed.
# - Contiguous structures (low rank, butterflies) come close to their FLOP ratio;
#   index-driven ones (CSR, sparse products) pay for every index.
# - Batch size changes the answer: at batch 64 the dense product reuses its weights.

# %%
print(measured(
    [(f"{r['case']}, {r['method']}", f"speed-up {r['speedup']:.2f}x over dense C at batch 1, "
      f"FLOP ratio {r['flop_ratio']:.1f}x") for r in table if r["batch"] == 1]
    + [("your fast_fc1", f"reads {timed['bytes'] / timed['dense_bytes']:.1%} of the bytes, "
        f"{timed['speedup']:.1f}x faster at batch 1" if design_solved else "not solved yet")]))

# %% [markdown]
# **Going further** (not graded).
#
# 1. Time low rank at ranks 8 to 512 on the 1000 × 1280 layer at batch 1 and 64: where
#    does each break even with the dense product, against `break_even_rank`?
# 2. With `csr_bytes`, predict the speed-up of a 10 % pruned layer if it stored 8-byte
#    column indices (as SciPy's CSR does on 64-bit machines) instead of 1-byte gaps. At
#    what density does pruning stop beating the dense product by bytes alone, for each?
# 3. Export a layer (`structlab export-layer`) and time it with `native/structlab-bench`:
#    do the C numbers agree with the Python timer?
