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
# # Chapter 6 — Layer widths that shrink and grow during training
#
# Every chapter so far compressed a *trained* layer. Here the network changes shape while
# it trains: after an epoch, a layer whose weight matrix has little energy in its last
# singular directions loses units, and one whose spectrum is flat (every direction in use)
# gains some. The idea comes from the SVD-evolutive-CNN prototype; the care goes into
# *which* units to keep and what to do with the next layer.
#
# **Goals.** After this chapter you can
# 1. shrink a layer to the units that best span its row space and fold the dropped units
#    into the next layer — exactly, when there is no nonlinearity in between,
# 2. grow a layer without changing what the network computes,
# 3. read the energy criterion off a spectrum, and watch a CNN's widths evolve.

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("STRUCTLAB_SMOKE", "0") == "1"  # CI: tiny data and epochs, same code
SEED = 0
TRAIN_ROWS = 1000 if SMOKE else 10_000
EPOCHS = 2 if SMOKE else 8
RESIZE_UNTIL = 1 if SMOKE else 4  # resize after these first epochs, then only train
START = (8, 16, 32, 128) if SMOKE else (16, 32, 64, 512)

# %% tags=["setup"]
import numpy as np
import scipy.linalg

import ipywidgets as widgets
from IPython.display import display

from structlab import plots
from structlab.approx.widths import refit_next, shrink
from structlab.datasets import mnist
from structlab.exercises import check
from structlab.info import summary
from structlab.nn.models import EVOLVING_PAIRS, evolving_cnn
from structlab.nn.widths import WidthPolicy, evolve_cached
from structlab.widgets import width_explorer

print(summary(with_data=False))
display(widgets.Label("If you can read this line, widgets render in your front end."))

# %% [markdown]
# ## 1. Shrinking a pair of layers
#
# Layer 1 computes $z = W_1 x$ ($W_1$ is width $\times$ inputs) and layer 2 reads $z$
# through $W_2$. If $W_1$ has rank $k$, some $k$ of its rows span all the others:
# $W_1[\text{dropped}] = T\, W_1[\text{kept}]$. Then
# $W_2 z = W_2[:, \text{kept}]\, z_\text{kept} + W_2[:, \text{dropped}]\, T\, z_\text{kept}$, so
# the dropped units can go and their outgoing weights fold onto the kept ones. Which
# rows? Column-pivoted QR of $W_1^\top$ picks them greedily (an *interpolative
# decomposition*) — not simply the first $k$ units.
#
# ### Exercise 1 — shrink a pair of linear maps
#
# Write `shrink_pair(W1, W2, k)` returning the new `(W1, W2)`: keep the `k` rows of `W1`
# chosen by `scipy.linalg.qr(W1.T, pivoting=True)` (the first `k` pivots), express the
# dropped rows in terms of them (`np.linalg.lstsq`), and fold.

# %% tags=["exercise"]
def shrink_pair(W1, W2, k):
    """Keep k units of layer 1 (pivoted QR), fold the rest into layer 2."""
    ### BEGIN SOLUTION
    pivots = scipy.linalg.qr(W1.T, pivoting=True)[2]
    kept, dropped = np.sort(pivots[:k]), np.sort(pivots[k:])
    T = np.linalg.lstsq(W1[kept].T, W1[dropped].T, rcond=None)[0].T
    return W1[kept], W2[:, kept] + W2[:, dropped] @ T
    ### END SOLUTION

# %% tags=["check"]
check("shrink_pair", shrink_pair)

# %% [markdown]
# Across a ReLU the fold is no longer exact: $\mathrm{relu}(Tz) \ne T\,\mathrm{relu}(z)$. How
# much does it cost? Below, a rank-4-plus-noise layer of 16 units shrinks to 6, three
# ways: fold, delete the units outright, or refit the next layer by least squares on
# sample activations (`refit_next`; both other answers are candidates of that fit, so it
# cannot do worse on those samples).

# %%
rng = np.random.default_rng(SEED)
W1 = rng.standard_normal((16, 4)) @ rng.standard_normal((4, 10)) + 0.05 * rng.standard_normal((16, 10))
b1, W2 = rng.standard_normal(16), rng.standard_normal((3, 16))
X = rng.standard_normal((500, 10))
before = np.maximum(X @ W1.T + b1, 0) @ W2.T
W1s, b1s, W2s, kept = shrink(W1, b1, W2, 6)
H = np.maximum(X @ W1s.T + b1s, 0)
W2r, b2r = refit_next(H, before)
for name, out in [("fold", H @ W2s.T), ("delete", H @ W2[:, kept].T), ("refit", H @ W2r.T + b2r)]:
    print(f"{name:>6}: relative error of the next layer's output "
          f"{np.linalg.norm(out - before) / np.linalg.norm(before):.3f}")

# %% [markdown]
# ## 2. Growing without changing the function
#
# A layer whose spectrum is flat uses every direction it has; it may need more. New units
# get weight rows **orthogonal** to the existing ones (new features, not copies) and the
# next layer reads them with **zero** weights, so the network computes exactly the same
# function until training moves those weights.
#
# ### Exercise 2 — a new direction
#
# Write `orthogonal_direction(W1)`: a unit vector `v` with `W1 @ v == 0` (there is one
# when `W1` has fewer rows than columns). Start from a random vector and remove its
# component in the row space (an orthonormal basis of the rows: `np.linalg.qr(W1.T)`).

# %% tags=["exercise"]
def orthogonal_direction(W1):
    """A unit vector orthogonal to every row of W1."""
    ### BEGIN SOLUTION
    Q = np.linalg.qr(W1.T)[0]
    v = np.random.default_rng(0).standard_normal(W1.shape[1])
    v -= Q @ (Q.T @ v)
    return v / np.linalg.norm(v)
    ### END SOLUTION

# %% tags=["check"]
check("orthogonal_direction", orthogonal_direction)

# %% [markdown]
# ## 3. The energy criterion
#
# How many units does a layer need? Count the leading singular values of $[W\,|\,b]$ that
# hold a share `keep` of the energy $\sum_i \sigma_i^2$.
#
# ### Exercise 3 — energy width
#
# Write `energy_width(s, keep)` for singular values `s` (decreasing): the fewest leading
# ones whose squares sum to at least `keep` of the total.

# %% tags=["exercise"]
def energy_width(s, keep):
    """Fewest leading singular values holding `keep` of the energy."""
    ### BEGIN SOLUTION
    share = np.cumsum(s**2) / np.sum(s**2)
    return int(np.searchsorted(share, keep - 1e-12) + 1)
    ### END SOLUTION

# %% tags=["check"]
check("energy_width", energy_width)

# %% [markdown]
# ## 4. A CNN whose widths evolve
#
# `evolving_cnn` has three 3×3 convolutions (with max-pooling) and two dense layers; a
# `WidthController` manages the four widths between them. After each of the first
# epochs it shrinks each layer to the units holding 98.5 % of its energy (at most half
# the layer at once, refitting a dense next layer on 2,000 training images) or grows a
# flat one; the last epochs only train. The optimizer is rebuilt over the new parameters
# at the same point of the learning-rate schedule. `benchmarks/evolving_widths.py` runs the full-size version (1.88 M
# parameters at the start, all 50,000 training images).

# %%
data = mnist()
Xtr, ytr = data.X_train[:TRAIN_ROWS], data.y_train[:TRAIN_ROWS]
policy = WidthPolicy(keep_energy=0.985, grow_ratio=0.95, max_shrink=0.5, min_width=4)
model, log = evolve_cached(lambda widths: evolving_cnn(widths, seed=SEED), START, EVOLVING_PAIRS,
                           Xtr, ytr, name=f"evolving_{TRAIN_ROWS}_{SEED}", policy=policy,
                           epochs=EPOCHS, resize_until=RESIZE_UNTIL,
                           validation=(data.X_val[:2000], data.y_val[:2000]), seed=SEED,
                           progress=not SMOKE)
for row in log:
    print(f"epoch {row['epoch']}: widths {row['widths']}, {row['params']:,} parameters, "
          f"validation accuracy {row['val_accuracy']:.4f}")
print(f"{log[0]['params']:,} -> {log[-1]['params']:,} parameters "
      f"(trained in {log[-1]['seconds']:.0f} s; a re-run loads the cached result)")
plots.widths_over_epochs(log);

# %% [markdown]
# ## 5. Explore the thresholds
#
# On the trained network: what would each layer become under other thresholds? The
# curves are the cumulative energy of each layer's spectrum; the dashed line is `keep`.
# The model is not changed: a `WidthController.step` would do it.

# %%
width_explorer(model, EVOLVING_PAIRS, keep_energy=0.985, grow_ratio=0.5)

# %% [markdown]
# ## Reflect
#
# - Shrinking by an interpolative decomposition keeps real units, so the network stays an
#   ordinary CNN of smaller width — no factors, no special kernels.
# - The fold is exact only before a nonlinearity; with data, refit the next layer.
# - The energy threshold, how often to resize, and how much at once are the knobs; the
#   benchmark reports where they land on the full MNIST.
