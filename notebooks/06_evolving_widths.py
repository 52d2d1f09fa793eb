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

# %% [markdown]
# **Time.** Plan about 2 hours for the lab. In full mode the chapter ran in 18 s
# on the 2-core machine it was written on, with its trained networks and features
# already cached (a first run also trains them); with `STRUCTLAB_SMOKE=1` it runs in
# under a minute, with illustrative numbers.

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
from structlab.approx.widths import grow, refit_next, shrink
from structlab.datasets import mnist
from structlab.exercises import check
from structlab.info import measured, summary
from structlab.nn.models import EVOLVING_PAIRS, evolving_cnn
from structlab.nn.widths import WidthPolicy, evolve_cached
from structlab.widgets import width_explorer

print(summary(with_data=False, smoke=SMOKE))
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
    """Keep k units of layer 1 (pivoted QR), fold the rest into layer 2.

    Parameters
    ----------
    W1 : ndarray, shape (width, n)
        Layer 1, one row per unit.
    W2 : ndarray, shape (p, width)
        Layer 2, reading the units.
    k : int
        Units to keep, 1 <= k <= width.

    Returns
    -------
    W1_new : ndarray, shape (k, n)
        The kept rows of W1, in their original order.
    W2_new : ndarray, shape (p, k)
        W2's columns of the kept units plus the dropped ones folded in.
    """
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
    """A unit vector orthogonal to every row of W1.

    Parameters
    ----------
    W1 : ndarray, shape (width, n), with width < n

    Returns
    -------
    ndarray, shape (n,)
        ``v`` with ``np.linalg.norm(v) == 1`` and ``W1 @ v`` zero (to round-off).
    """
    ### BEGIN SOLUTION
    Q = np.linalg.qr(W1.T)[0]
    v = np.random.default_rng(0).standard_normal(W1.shape[1])
    v -= Q @ (Q.T @ v)
    return v / np.linalg.norm(v)
    ### END SOLUTION

# %% tags=["check"]
check("orthogonal_direction", orthogonal_direction)

# %% [markdown]
# `grow` does this for several units at once: the next cell grows section 1's shrunk
# pair (6 units) by 3 and compares the next layer's outputs before and after.
#
# **Question 1 (predict before you run the next cell).** Across the ReLU, will the
# outputs change? If so, by about how much; if not, why not — when the fold of section 1
# was *not* exact across the same ReLU?

# %% [markdown] tags=["answer"]
# **Your answer:**
#
# ### BEGIN SOLUTION
# They will not change (the printed change is zero, or round-off at most): the new
# units' outgoing weights are zero, so whatever the ReLU makes of their inputs is
# multiplied by zero and the next layer's input is unchanged. Shrinking instead folds
# the dropped units into the kept ones through $T$, which is exact for the linear map
# $z \mapsto W_2 z$ but not after a ReLU, since $\mathrm{relu}(Tz) \ne T\,\mathrm{relu}(z)$.
# ### END SOLUTION

# %%
W1g, b1g, W2g = grow(W1s, b1s, W2s, 3, np.random.default_rng(SEED))
grown = np.maximum(X @ W1g.T + b1g, 0) @ W2g.T
shrunk = np.maximum(X @ W1s.T + b1s, 0) @ W2s.T
print(f"{W1s.shape[0]} -> {W1g.shape[0]} units: largest change of the next layer's output "
      f"{np.abs(grown - shrunk).max():.1e} (new rows orthogonal to the old: "
      f"{np.abs(W1g[6:] @ W1s.T).max():.1e})")

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
    """Fewest leading singular values holding `keep` of the energy.

    Parameters
    ----------
    s : ndarray, shape (r,)
        Singular values, decreasing, not all zero.
    keep : float in (0, 1]
        Share of the energy sum(s**2) to keep.

    Returns
    -------
    int
        The smallest w with sum(s[:w]**2) >= keep * sum(s**2).
    """
    ### BEGIN SOLUTION
    share = np.cumsum(s**2) / np.sum(s**2)
    return int(np.searchsorted(share, keep - 1e-12) + 1)
    ### END SOLUTION

# %% tags=["check"]
energy_solved = check("energy_width", energy_width)

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
# How to read the plot: one coloured line per managed layer, its width (log scale)
# after each epoch; the dashed black line is the network's parameter count (right axis,
# log scale). After `RESIZE_UNTIL` epochs the widths stay put and training continues.

# %% [markdown]
# Your `energy_width` on the trained network: how many units would each layer keep at
# the policy's energy share now, against its width? (Each layer's units are the rows of
# $[W \mid b]$, a convolution's filters flattened.) Where the two differ, the controller
# stopped resizing (`resize_until`) or was held back by `max_shrink`.

# %%
if energy_solved:
    for name, _ in EVOLVING_PAIRS:
        layer = model.get_submodule(name)
        units = np.column_stack([layer.weight.detach().flatten(1).double().numpy(),
                                 layer.bias.detach().double().numpy()])
        wanted = energy_width(scipy.linalg.svdvals(units), policy.keep_energy)
        print(f"{name}: {len(units)} units; {wanted} hold {policy.keep_energy:.1%} of the energy")
else:
    print("solve exercise 3 to see it")

# %% [markdown]
# ## 5. Explore the thresholds
#
# On the trained network: what would each layer become under other thresholds? The
# curves are the cumulative energy of each layer's spectrum; the dashed line is `keep`.
# The model is not changed: a `WidthController.step` would do it.

# %%
width_explorer(model, EVOLVING_PAIRS, keep_energy=0.985, grow_ratio=0.5)

# %% [markdown]
# ## 6. Design task: a third of the numbers
#
# Choose a policy. Write `width_policy()`, returning a `WidthPolicy` and `resize_until`
# (after how many epochs the widths stop changing), such that the CNN started at widths
# (8, 16, 32, 128) and trained for 6 epochs on 2000 images ends with **at most 15,000
# stored numbers** — about a third of the same network trained at fixed widths — and
# loses **at most 3 points** of validation accuracy against that fixed-width network.
#
# The check runs your policy (a few seconds) and grades the outcome; the hidden test
# re-measures it on the test split; the cell after the check runs your policy on this
# chapter's network too. This chapter's policy (98.5 % of the energy) keeps
# too many units. Section 5's explorer shows what other thresholds would do to each
# layer; `max_shrink` and `resize_until` decide how fast, and for how long, the network
# may change while it trains.

# %% tags=["exercise"]
def width_policy():
    """A policy that ends at most 15,000 numbers, at most 3 points below fixed widths.

    Returns
    -------
    policy : WidthPolicy
    resize_until : int
        Epochs (of the check's 6) after which the widths stop changing.
    """
    ### BEGIN SOLUTION
    # 96 % of the energy: the explorer shows each layer's curve flattening there;
    # half a layer at most per step, for the first three epochs, then three to recover.
    return WidthPolicy(keep_energy=0.96, grow_ratio=0.95, max_shrink=0.5, min_width=4), 3
    ### END SOLUTION

# %% tags=["check"]
policy_result = check("width_policy", width_policy)

# %%
if policy_result:  # your policy on this chapter's run: about as long as the training above
    yours, until = width_policy()
    _, your_log = evolve_cached(lambda widths: evolving_cnn(widths, seed=SEED), START,
                                EVOLVING_PAIRS, Xtr, ytr, name=f"evolving_yours_{TRAIN_ROWS}_{SEED}",
                                policy=yours, epochs=EPOCHS, resize_until=min(until, EPOCHS),
                                validation=(data.X_val[:2000], data.y_val[:2000]), seed=SEED,
                                progress=not SMOKE)
    for label, run in (("your policy", your_log), ("the chapter's policy", log)):
        print(f"{label}: widths {run[-1]['widths']}, {run[-1]['params']:,} parameters, "
              f"validation accuracy {run[-1]['val_accuracy']:.4f}")
else:
    print("Solve the design task to run your policy on this chapter's network.")

# %% [markdown]
# ## Questions
#
# **Question 2.** Shrinking keeps real units (an interpolative decomposition) rather
# than the top singular directions (an SVD). What does the network gain from that, and
# what does it give up?

# %% [markdown] tags=["answer"]
# **Your answer:**
#
# ### BEGIN SOLUTION
# It stays an ordinary network of smaller width: the kept units keep their own weights
# and the ReLU acts on them as before, so no factors, no special layer and no kernel are
# needed, and the result trains and runs like any CNN. The SVD would give the best
# rank-$k$ fit of the weights, but its directions mix units, and a ReLU does not commute
# with that mixing; the interpolative decomposition is a little worse as a fit.
# ### END SOLUTION

# %% [markdown]
# **Question 3.** Name the controller's knobs (`WidthPolicy`, `resize_until`). If the
# final network were too large, which would you change first, and how would you check
# that the change did not cost accuracy?

# %% [markdown] tags=["answer"]
# **Your answer:**
#
# ### BEGIN SOLUTION
# The energy share kept (`keep_energy`), the flatness at which a layer grows
# (`grow_ratio`), the most a layer may shrink at once (`max_shrink`), the smallest width
# (`min_width`) and the epochs during which resizing happens (`resize_until`). A lower
# `keep_energy` shrinks most directly; more resizing epochs let the network recover
# between cuts. Check on the validation split (the log prints its accuracy per epoch),
# never on the test set.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# **What you learned.**
# - An interpolative decomposition keeps real units and folds the dropped ones into the
#   next layer: exact for linear maps, refitted on data across a ReLU.
# - Growth adds orthogonal units read with zero weights: the function is unchanged.
# - A controller resizes every layer by an energy criterion during training; the
#   policy's knobs trade size for accuracy.

# %%
print(measured([
    ("start", f"widths {log[0]['widths']}, {log[0]['params']:,} parameters"),
    ("end", f"widths {log[-1]['widths']}, {log[-1]['params']:,} parameters, validation "
     f"accuracy {log[-1]['val_accuracy']:.4f}"),
    ("your width_policy, check's network", policy_result.message if policy_result
     else "not solved yet"),
    ("your width_policy, this chapter's run", f"{your_log[-1]['params']:,} parameters, "
     f"validation accuracy {your_log[-1]['val_accuracy']:.4f}" if policy_result
     else "not solved yet"),
]))

# %% [markdown]
# **Going further** (not graded).
#
# 1. Run the controller with `keep_energy` 0.95 and 0.995: final parameters and
#    validation accuracy of each.
# 2. Shrink the trained model's first dense layer by deleting units (no fold, no refit)
#    and by `shrink_layers`: compare validation accuracy.
# 3. Start from a *small* network and let it grow only (a high `grow_ratio`): where do
#    the widths settle?
