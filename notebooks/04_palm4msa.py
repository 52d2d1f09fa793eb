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
# # Chapter 4 — palm4MSA: a layer as a product of sparse factors
#
# Low rank (chapter 1) stores a matrix as two thin factors; pruning (chapter 2) stores
# one sparse matrix. A **fast transform** does something else: the Hadamard and Fourier
# matrices are dense, yet each is a product of $\log_2 n$ *sparse* factors with two
# nonzeros per row, so $y = Wx$ costs $2n\log_2 n$ multiply-adds instead of $n^2$.
# Le Magoarou & Gribonval (2016) asked whether *any* matrix — say, a trained layer — can
# be approximated that way, and gave an algorithm, **palm4MSA**, with a hierarchical
# variant. Giffon (2019) proposed it for the fully connected and convolutional layers of
# a trained network.
#
# **Goals.** After this chapter you can
# 1. write the projection that keeps $k$ entries per row, and one palm4MSA factor update,
# 2. recover the Hadamard matrix exactly as butterflies with hierarchical palm4MSA,
# 3. approximate a trained fully connected layer and a convolution (through its filter
#    matrix) and compare with low rank at the same number of parameters,
# 4. fine-tune the factors' values with their supports held.

# %% [markdown]
# **Time.** Plan about 2½ hours for the lab. In full mode the chapter ran in 2.3 minutes
# on the 2-core machine it was written on, with its trained networks and features
# already cached (a first run also trains them); with `STRUCTLAB_SMOKE=1` it runs in
# under a minute, with illustrative numbers.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("STRUCTLAB_SMOKE", "0") == "1"  # CI: tiny data and sweeps, same code
SEED = 0
TRAIN_ROWS = 3000 if SMOKE else 50_000
VAL_ROWS = 1000 if SMOKE else 10_000
EPOCHS = 1 if SMOKE else None  # None: the recipe's (shared with chapters 2 and 3)
HADAMARD_N = 16 if SMOKE else 32
SWEEPS = 5 if SMOKE else 30  # per two-factor split and per global pass
N_FACTORS = 3
KS = [2, 8] if SMOKE else [1, 2, 4, 8, 16, 32]  # nonzeros per row of every factor
FINETUNE_EPOCHS = 1 if SMOKE else 2

# %% tags=["setup"]
import time

import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import hadamard

import ipywidgets as widgets
from IPython.display import display

from structlab import plots
from structlab.approx.palm4msa import (Constraint, butterfly_constraints, hierarchical, palm4msa,
                                      project_splin, rectangular_constraints)
from structlab.approx.svd import lowrank_approximation
from structlab.datasets import mnist
from structlab.exercises import check
from structlab.info import measured, summary
from structlab.nn.compress import layer_weight_matrix, with_sparse_product, with_weight
from structlab.nn.recipes import trained_baseline
from structlab.nn.train import accuracy, train
from structlab.widgets import palm_explorer, palm_point

print(summary(with_data=False, smoke=SMOKE))
display(widgets.Label("If you can read this line, widgets render in your front end."))

# %% [markdown]
# ## 1. A fast transform: the Hadamard matrix as butterflies
#
# The $n \times n$ Hadamard matrix ($n = 2^L$) is the Kronecker power of
# $\begin{psmallmatrix}1 & 1\\ 1 & -1\end{psmallmatrix}$. It factors into $L$
# **butterflies**, each with two nonzeros per row and per column. Hierarchical palm4MSA
# does not know this: it is only told "$L$ factors, two nonzeros per row and column"
# and finds them by peeling one factor at a time off the right and refining all of them
# together after each peel.

# %%
H = hadamard(HADAMARD_N).astype(float)
fit = hierarchical(H, *butterfly_constraints(HADAMARD_N), n_iter=3000, tol=1e-12, min_gain=1e-3)
butterflies = fit.product
print(f"{HADAMARD_N}x{HADAMARD_N} Hadamard: {len(butterflies.factors)} factors, "
      f"{butterflies.nparams} nonzeros instead of {H.size}, relative error {fit.error:.1e}, "
      f"{fit.seconds:.2f} s")
plots.factor_images(butterflies);

# %% [markdown]
# Each factor is a butterfly (two diagonals, possibly permuted), and their product is
# the Hadamard matrix to round-off. `benchmarks/palm4msa_vs_pyfaust.py` does the same
# for $n = 1024$ (10 factors, 20,480 nonzeros instead of a million) and times it against
# FAµST, the reference implementation.
#
# ## 2. The building blocks
#
# palm4MSA approximates $A \approx \lambda\, S_0 S_1 \cdots S_{J-1}$ where each factor
# lies in a **constraint set** $\mathcal{E}_j$ — for instance "at most $k$ nonzeros per
# row, unit Frobenius norm" (`splin`); the scalar $\lambda$ carries the scale. Each
# factor in turn takes one projected gradient step:
#
# $$S_j \leftarrow P_{\mathcal{E}_j}\!\Big(S_j - \tfrac{1}{c}\,\lambda L^\top(\lambda L S_j R - A)R^\top\Big),
# \qquad c = 1.001\,\lambda^2\,\|L\|_2^2\,\|R\|_2^2,$$
#
# where $L$ and $R$ are the products of the factors left and right of $S_j$, and $c$
# is (just above) the Lipschitz constant of the gradient: with an exact projection such a
# step cannot make the error worse. After each sweep, $\lambda$ is refitted in closed form.
#
# ### Exercise 1 — the `splin` projection
#
# Write `splin(M, k)`: keep the `k` entries of largest magnitude in each row of `M`
# (with their signs), set the rest to zero. (Hint: `np.argsort(-np.abs(M), axis=1)`.)

# %% tags=["exercise"]
def splin(M, k):
    """Keep the k largest-magnitude entries of every row of M.

    Parameters
    ----------
    M : ndarray, shape (m, n), float
    k : int
        Entries kept per row, 1 <= k <= n.

    Returns
    -------
    ndarray, shape (m, n)
        `M` with all but the k largest |entries| of each row set to zero
        (ties broken any way).
    """
    ### BEGIN SOLUTION
    keep = np.argsort(-np.abs(M), axis=1)[:, :k]
    out = np.zeros_like(M)
    np.put_along_axis(out, keep, np.take_along_axis(M, keep, axis=1), axis=1)
    return out
    ### END SOLUTION

# %% tags=["check"]
check("splin", splin)

# %% [markdown]
# ### Exercise 2 — one palm4MSA update
#
# Write `palm_update(A, L, S, R, lam, k)`: the new factor from the formula above, with
# $P$ the `splin` projection with `k` per row **followed by normalization** to unit
# Frobenius norm. For $P$, call your `splin` or the library's `project_splin` (the
# grader checks each exercise on its own, with the library's). Use exact spectral norms (`np.linalg.norm(L, 2)`); the library uses a
# warm-started power iteration instead, because it runs this thousands of times.

# %% tags=["exercise"]
def palm_update(A, L, S, R, lam, k):
    """One projected gradient step of palm4MSA on the factor S (between L and R).

    Parameters
    ----------
    A : ndarray, shape (m, n)
        The matrix being factored, A ~ lam * L @ S @ R.
    L : ndarray, shape (m, p)
        The product of the factors left of S (the identity if none).
    S : ndarray, shape (p, q)
        The factor to update.
    R : ndarray, shape (q, n)
        The product of the factors right of S (the identity if none).
    lam : float
        The product's scale.
    k : int
        Nonzeros per row that S keeps.

    Returns
    -------
    ndarray, shape (p, q)
        The new S: a gradient step of size 1 / c, with c = 1.001 * (lam ||L||_2 ||R||_2)**2,
        projected onto k nonzeros per row and scaled to unit Frobenius norm.
    """
    ### BEGIN SOLUTION
    c = 1.001 * lam**2 * np.linalg.norm(L, 2) ** 2 * np.linalg.norm(R, 2) ** 2
    gradient = lam * L.T @ (lam * L @ S @ R - A) @ R.T
    new = project_splin(S - gradient / c, k)
    return new / np.linalg.norm(new)
    ### END SOLUTION

# %% tags=["check"]
check("palm_update", palm_update)

# %% [markdown]
# With $c$ above the Lipschitz constant and exact projections (`splin`, `spcol`, `sp`; not
# `splincol`), every sweep lowers the error, up to round-off and to the accuracy of the
# estimated $\|L\|_2$ (the library checks it in its tests). Here on a random
# $60 \times 40$ matrix with three `splin` factors:

# %%
rng = np.random.default_rng(SEED)
A = rng.standard_normal((60, 40))
constraints = [Constraint("splin", (60, 40), 6), Constraint("splin", (40, 40), 6),
               Constraint("splin", (40, 40), 6)]
run = palm4msa(A, constraints, n_iter=60 if not SMOKE else 10)
print(f"error never went up: {bool(np.all(np.diff(run.errors) <= 1e-12))}; "
      f"{run.errors[0]:.3f} -> {run.error:.3f} in {len(run.errors)} sweeps")
fig, ax = plt.subplots(figsize=(5, 2.6), layout="constrained")
ax.plot(np.arange(1, len(run.errors) + 1), run.errors, "o-", ms=3)
ax.set(xlabel="sweep", ylabel="relative error", title="palm4MSA is monotone");

# %% [markdown]
# ### Exercise 3 — what does a sparse product store?
#
# For a layer of shape $m \times n$ the library chains $(m \times r)(r \times r)\cdots
# (r \times n)$ with $r = \min(m, n)$ and puts $k$ nonzeros in every row of every factor
# (`rectangular_constraints`). Write `sparse_product_nnz(m, n, n_factors, k)`: how many
# numbers does that store? (One multiply-add per stored number: it is also the cost of
# one product with a vector.)

# %% tags=["exercise"]
def sparse_product_nnz(m, n, n_factors, k):
    """Nonzeros of (m x r)(r x r)...(r x n) with k per row, r = min(m, n).

    Parameters
    ----------
    m, n : int
        Shape of the matrix the product stands for.
    n_factors : int
        Number of factors, at least 2.
    k : int
        Nonzeros in each row of each factor.

    Returns
    -------
    int
    """
    ### BEGIN SOLUTION
    r = min(m, n)
    return m * k + (n_factors - 1) * r * k
    ### END SOLUTION

# %% tags=["check"]
check("sparse_product_nnz", sparse_product_nnz)

# %% [markdown]
# ## 3. A trained fully connected layer: LeNet-300-100's fc1
#
# The first layer of chapter 2's network is $300 \times 784$ (235,200 weights, 88 % of
# the network). We replace it by $J = 3$ sparse factors with $k$ nonzeros per row, for
# several $k$, and compare with the truncated SVD that stores no more numbers. The new
# layer is a real `SparseProductLinear`: it multiplies factor by factor (each factor a
# call of the C kernel a pruned layer uses) and never forms the dense weight. All
# accuracies are on the validation split.

# %%
data = mnist()
X, y = data.X_train[:TRAIN_ROWS], data.y_train[:TRAIN_ROWS]
val = (data.X_val[:VAL_ROWS], data.y_val[:VAL_ROWS])
lenet300, _ = trained_baseline("lenet300", X, y, epochs=EPOCHS, seed=SEED, validation=val)
base300 = accuracy(lenet300, *val)


def compare(model, name, ks):
    """Sparse product (k per row) vs low rank at the same size, one row per k."""
    rows = []
    for k in ks:
        r = palm_point(model, name, N_FACTORS, k, *val, n_iter=SWEEPS, seed=SEED)
        rows.append({"k": k, "nnz": r["nnz"], "accuracy": r["accuracy"],
                     "rank": r["lowrank_rank"], "lowrank": r["lowrank_accuracy"]})
        print(f"k={k:>2}: {r['nnz']:>6} numbers ({r['dense'] / r['nnz']:5.1f}x), error "
              f"{r['error']:.3f}, accuracy {r['accuracy']:.4f} ({r['seconds']:.1f} s)   | rank "
              f"{r['lowrank_rank']}: " + ("-" if r["lowrank_accuracy"] is None
                                              else f"{r['lowrank_accuracy']:.4f}"))
    return rows


fc1_rows = compare(lenet300, "fc1", KS)
plots.accuracy_vs_params(
    {f"{N_FACTORS} sparse factors": [(r["nnz"], r["accuracy"]) for r in fc1_rows],
     "low rank, same size": [(r["rank"] * sum(layer_weight_matrix(lenet300.fc1).shape),
                              r["lowrank"]) for r in fc1_rows if r["lowrank"] is not None]},
    baseline=base300, dense_params=300 * 784, title="LeNet-300-100, fc1 replaced");

# %% [markdown]
# Read the two curves at equal size. Where does the sparse product win, and where does
# low rank? A trained layer's spectrum decays (chapter 1), which is what low rank
# exploits; a sparse product pays for its flexibility with a harder, non-convex fit.
#
# ## 4. A convolution, through its filter matrix
#
# A convolution with $K$ filters of size $C \times h \times w$ is a matrix product in
# disguise. Let $\mathcal{R}_{h,w}$ turn the (padded) input into the matrix of all its
# patches, one row per output pixel ($HW \times Chw$), and $\mathcal{T}_{H,W}$ fold an
# $HW \times K$ matrix back into a $K$-channel image. Then
#
# $$Z = \mathcal{T}_{H,W}\big(\mathcal{R}_{h,w}(X)\,F\big),\qquad F \in \mathbb{R}^{Chw \times K},$$
#
# with column $k$ of $F$ the flattened filter $k$ (`structlab.nn.layers.patches`,
# `unpatch` and `filter_matrix`; a test checks this equals `conv2d`). So the same
# factorization applies to $F^\top$ ($K \times Chw$): LeNet-5's conv2 has $K = 50$
# filters over $C h w = 20 \cdot 5 \cdot 5 = 500$ inputs. In full mode the cell after
# the question takes about 1½ minutes (86 s on a 2-core machine, LeNet-5 cached).
#
# **Question 1 (predict before you run the next cell).** conv2's filter matrix is
# $50 \times 500$: short and wide, where fc1 was $300 \times 784$. At equal size, will
# low rank do better or worse against the sparse product here than on fc1? Think of the
# largest rank a $50 \times 500$ matrix can have, and what a rank-$r$ factor costs.

# %% [markdown] tags=["answer"] points=2
# **Your answer:**
#
# ### BEGIN SOLUTION
# A rank-$r$ factorization of an $m \times n$ matrix costs $r(m + n)$ numbers: 550 per
# unit of rank for conv2, and conv2's rank is at most 50. So a small budget buys only a
# few of its 50 directions, and those hold less of the energy of a 50 × 500 filter
# matrix than a few directions hold of a trained fc1 whose spectrum decays; a sparse
# product spends the same numbers on individual entries of every filter. The
# prediction is that the sparse product's advantage grows (or low rank's lead
# shrinks) on conv2; the two plots decide it for this run.
# ### END SOLUTION

# %%
lenet5, _ = trained_baseline("lenet5", X, y, epochs=EPOCHS, seed=SEED, validation=val)
base5 = accuracy(lenet5, *val)
conv_rows = compare(lenet5, "conv2", KS)
plots.accuracy_vs_params(
    {f"{N_FACTORS} sparse factors": [(r["nnz"], r["accuracy"]) for r in conv_rows],
     "low rank, same size": [(r["rank"] * 550, r["lowrank"]) for r in conv_rows
                             if r["lowrank"] is not None]},
    baseline=base5, dense_params=50 * 500, title="LeNet-5, conv2 filters replaced");

# %% [markdown]
# How to read the two plots: one line per structure, one point per $k$ (for low rank,
# the rank of the same size). Across: the numbers the layer stores (log scale; the
# dotted line is the dense layer's); up: the network's validation accuracy with that
# layer replaced (the dashed line is the uncompressed network's). At equal size, the
# higher point is the better structure; a point left of another at the same height
# stores less for the same accuracy.

# %% [markdown]
# ### Design task — conv2 ten times smaller, as a sparse product
#
# Write `conv2_product(W)`: given conv2's weight matrix `W` ($50 \times 500$, one
# flattened filter per row, float64), return a `SparseProduct` of **at least two
# factors**, each mixing (at least two nonzeros per row on average), storing **at most
# 2,500 numbers** (a tenth of the weights) such that the network with conv2 replaced
# loses **at most 1.5 points** of validation accuracy — and beats the low-rank layer of
# the same size.
#
# The check grades the outcome on its own LeNet-5 (trained on the first 3000 training
# images, so that grading takes seconds); the hidden test re-measures it on the test
# split. Then the cell after the check applies your design to this chapter's conv2.
#
# Yours to choose: the number of factors, their shapes (the inner dimension need not be
# 50), the nonzeros per row or in total (`Constraint("splin" | "spcol" | "sp", shape,
# k)`), `palm4msa` or `hierarchical`, and the sweeps. The chapter's chain, three
# factors with 16 nonzeros per row (2,400 numbers), loses too much on the check's
# network (try it: `hierarchical(W, *rectangular_constraints(W.shape, 3, 16), 30).product`).
# The cell after the check prints how your design and that chain do on this chapter's
# conv2 — not necessarily in the same order (question 4).

# %% tags=["exercise"]
def conv2_product(W):
    """conv2's filters as a product of sparse factors storing at most 2,500 numbers.

    Parameters
    ----------
    W : ndarray, shape (50, 500), float64
        conv2's weight matrix, one flattened 20 x 5 x 5 filter per row.

    Returns
    -------
    SparseProduct
        At least two factors, each with at least 2 nonzeros per row on average,
        ``nparams <= 2500``, shape (50, 500): e.g. the
        ``.product`` of :func:`palm4msa`'s fit.
    """
    ### BEGIN SOLUTION
    # Wide factor on the left: each filter reads 20 columns of a 500 x 500 factor that
    # mixes 3 inputs per row, so every filter still sees up to 60 of its 500 inputs.
    constraints = [Constraint("splin", (50, 500), 20), Constraint("splin", (500, 500), 3)]
    return palm4msa(W, constraints, 50, seed=SEED).product
    ### END SOLUTION

# %% tags=["check"]
design_solved = check("conv2_product", conv2_product)

# %%
if design_solved:
    F = layer_weight_matrix(lenet5.conv2)
    rivals = {"your design": conv2_product(F),
              "the chapter's chain (3 factors, k=16)":
              hierarchical(F, *rectangular_constraints(F.shape, 3, 16), SWEEPS).product}
    for label, product in rivals.items():
        rank = product.nparams // sum(F.shape)
        same_size = "no rank fits"
        if rank:
            low = with_weight(lenet5, "conv2", lowrank_approximation(F, rank).toarray())
            same_size = f"{accuracy(low, *val):.4f}"
        print(f"{label} on this chapter's conv2: {product.nparams} numbers, validation accuracy "
              f"{accuracy(with_weight(lenet5, 'conv2', product.toarray()), *val):.4f}; low rank "
              f"of the same size (rank {rank}): {same_size}")
    print(f"dense: {base5:.4f}")
    mine = rivals["your design"]
else:
    print("Solve the design task to see your product on this chapter's conv2 here.")

# %% [markdown]
# ## 5. Fine-tuning with the supports held
#
# palm4MSA only looked at the weights, not at the data. `SparseProductLinear` keeps each
# factor's support fixed and trains its values by backprop, like a pruned layer keeps its
# mask. A couple of epochs recover much of the accuracy lost at a small $k$.

# %%
K_TUNE = 4
tuned, tune_fit = with_sparse_product(lenet300, "fc1", N_FACTORS, K_TUNE, n_iter=SWEEPS, seed=SEED)
before = accuracy(tuned, *val)
start = time.perf_counter()
train(tuned, X, y, epochs=FINETUNE_EPOCHS, lr=1e-3, seed=SEED, progress=not SMOKE)
after = accuracy(tuned, *val)
print(f"fc1 as {N_FACTORS} factors, k={K_TUNE} ({tune_fit.product.nparams} numbers): validation "
      f"accuracy {before:.4f} -> {after:.4f} after {FINETUNE_EPOCHS} epoch(s) "
      f"({time.perf_counter() - start:.0f} s); dense network {base300:.4f}")
trained_values = sum(factor.values.numel() for factor in tuned.fc1.factors)
print(f"trainable numbers in fc1: {trained_values} values + {tuned.fc1.bias.numel()} biases; "
      f"the supports are buffers, so the product still has {tuned.fc1.to_structure().nparams} nonzeros")

# %% [markdown]
# ## 6. Explore
#
# Number of factors and nonzeros per row for fc1 (fewer sweeps than above, so each move
# takes a second or two). The images show the factors' supports and values. Which
# settings give the best accuracy per stored number? Does adding factors help at a
# fixed total?

# %%
palm_explorer(lenet300, "fc1", *val, n_factors=N_FACTORS, k=4, n_iter=10 if not SMOKE else 3)

# %% [markdown]
# ## Questions
#
# **Question 2.** The Hadamard matrix of section 1 was factored *exactly*; fc1 only
# approximately, at every $k$. What property of the Hadamard matrix makes the
# difference, and what would a trained layer need to have for the same to happen?

# %% [markdown] tags=["answer"]
# **Your answer:**
#
# ### BEGIN SOLUTION
# The Hadamard matrix is, by construction, a product of $\log_2 n$ sparse butterfly
# factors (its fast transform); the supports of those factors exist, and palm4MSA only
# has to find them. A trained layer has no such structure unless training put it there:
# it would need to be (close to) a product of a few sparse factors, e.g. because it was
# trained in that form, as section 5's fine-tuned layer is.
# ### END SOLUTION

# %% [markdown]
# **Question 3.** Section 5 fine-tunes the product with its supports held. Why not
# re-run palm4MSA on the fine-tuned dense weights instead? And why could even a product
# with fewer multiply-adds than the dense layer end up slower (chapter 7 measures it)?

# %% [markdown] tags=["answer"]
# **Your answer:**
#
# ### BEGIN SOLUTION
# palm4MSA fits the weights, not the data: it minimizes $\|W - \prod S_j\|_F$, which
# says nothing about the loss. Training the values on data (with the supports fixed, so
# the structure and its size stay) optimizes what matters, accuracy. It can be slower
# because each multiply-add on a sparse factor reads an index and gathers an input from
# an irregular place, while the dense product streams contiguous memory through vector
# units; a sparse product must save several times the work just to break even.
# ### END SOLUTION

# %% [markdown]
# **Question 4.** Compare your design task's product with the chapter's chain (3
# factors, 16 per row) twice: on the check's network (the check line says how yours did,
# and the check run on the chain how it does) and on this chapter's conv2 (the lines printed
# after the check). Did the order change? Why can a fit that only looks at the weights rank
# two structures differently on two trainings of the same layer, and what would make the
# comparison trustworthy?

# %% [markdown] tags=["answer"]
# **Your answer:**
#
# ### BEGIN SOLUTION
# (The order is the run's; in the full run this chapter was written with, the chain
# beat the model answer on the chapter's conv2, the reverse of the check's network.)
# palm4MSA minimizes the weight error, and the weight error says little about accuracy
# (section 3): which entries matter depends on the inputs the layer sees and on how
# the training spread the information over the filters — a network trained on 3000
# images for 3 epochs has different, less structured filters than one trained on
# 50,000 for 12. A trustworthy comparison scores each structure on the network it will
# be used in, on held-out data, ideally after fine-tuning with the supports held
# (section 5), and over more than one training seed.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# **What you learned.**
# - A product of a few sparse factors represents a fast transform (Hadamard) exactly and
#   a trained layer approximately; palm4MSA fits it by projected gradient steps.
# - At equal size, low rank and the sparse product win on different layers: the spectrum
#   and the shape decide.
# - Fine-tuning with the supports held trains the values on data, as pruning's mask does.

# %%
def pairs(rows):
    return "; ".join(f"k={r['k']} {r['accuracy']:.3f}" + (
        "" if r["lowrank"] is None else f" (rank {r['rank']}: {r['lowrank']:.3f})") for r in rows)


print(measured([
    (f"fc1, dense {base300:.4f}", pairs(fc1_rows)),
    (f"conv2, dense {base5:.4f}", pairs(conv_rows)),
    (f"fc1 at k={K_TUNE}, fine-tuned", f"{before:.4f} -> {after:.4f}"),
    ("your conv2_product", f"{mine.nparams} numbers, validation accuracy "
     f"{accuracy(with_weight(lenet5, 'conv2', mine.toarray()), *val):.4f}"
     if design_solved else "not solved yet"),
]))

# %% [markdown]
# **Going further** (not graded).
#
# 1. Factor section 1's Hadamard matrix with half as many factors, each with twice the
#    nonzeros per row (`rectangular_constraints`): can palm4MSA still make it exact?
# 2. Replace fc1 by a sparse product *and* fine-tune at several $k$: plot accuracy
#    against stored numbers before and after, beside low rank.
# 3. Try `hierarchical` against `palm4msa` on conv2's filter matrix at one budget:
#    which reaches the lower error, and in how long?
