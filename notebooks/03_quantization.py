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
# # Chapter 3 — Trained quantization and Huffman coding
#
# After pruning (chapter 2), LeNet-300-100 keeps about 8 % of its weights, but each is
# still a 32-bit float. Deep Compression's second and third stages (Han et al. 2016):
#
# - **weight sharing**: cluster a layer's surviving weights into $2^b$ groups by 1-D
#   k-means; store a $b$-bit index per weight and one table of $2^b$ shared values;
# - **trained quantization**: fine-tune the shared values by backprop — each centroid's
#   gradient is the sum of its members' gradients;
# - **Huffman coding** of the indices and of the relative positions, whose
#   distributions are far from uniform.
#
# **Goals.** After this chapter you can initialize k-means three ways and say why the
# paper prefers *linear*, fine-tune centroids, build a Huffman code, and account for
# every bit of a compressed layer.

# %% tags=["parameters"]
import os

from structlab.nn.recipes import DEEP_COMPRESSION

SMOKE = os.environ.get("STRUCTLAB_SMOKE", "0") == "1"  # CI: tiny data and epochs, same code
SEED = 0
RECIPE = DEEP_COMPRESSION["lenet300"]  # shared with benchmarks/deep_compression.py
TRAIN_ROWS = 3000 if SMOKE else 50_000
EPOCHS = 1 if SMOKE else RECIPE["epochs"]
RETRAIN_EPOCHS = 1 if SMOKE else RECIPE["retrain_epochs"]
FINETUNE_EPOCHS = 1 if SMOKE else RECIPE["finetune_epochs"]
TARGET = RECIPE["sparsity"]  # fractions pruned per layer, close to the paper's
STEPS = [0.5, 1.0] if SMOKE else RECIPE["steps"]
L2 = RECIPE["l2"]
BITS = RECIPE["bits"]  # index bits per layer

# %% tags=["setup"]
import matplotlib.pyplot as plt
import numpy as np

import ipywidgets as widgets
from IPython.display import display

from structlab import plots
from structlab.approx.huffman import decode, encode, huffman_code
from structlab.approx.kmeans import INIT_MODES, init_centroids, kmeans_1d
from structlab.datasets import mnist
from structlab.exercises import check
from structlab.info import summary
from structlab.nn.compress import (effective_weight, iterative_prune, layer_mask, model_storage,
                                   quantize)
from structlab.nn.recipes import trained_baseline
from structlab.nn.train import accuracy, train
from structlab.widgets import quantization_explorer

print(summary(with_data=False))
display(widgets.Label("If you can read this line, widgets render in your front end."))

# %% [markdown]
# ## 1. Start from a pruned network
#
# The same recipe as chapter 2 (cached training, then prune → retrain in steps).

# %%
data = mnist()
X, y = data.X_train[:TRAIN_ROWS], data.y_train[:TRAIN_ROWS]
val = (data.X_val, data.y_val)
model, _ = trained_baseline("lenet300", X, y, epochs=EPOCHS, seed=SEED, validation=val)
pruned, _ = iterative_prune(model, TARGET, X, y, steps=STEPS, epochs=RETRAIN_EPOCHS,
                            lr=RECIPE["retrain_lr"], l2=L2, seed=SEED, progress=not SMOKE)
pruned_val = accuracy(pruned, *val)
survivors = effective_weight(pruned.fc1)[layer_mask(pruned.fc1)]
print(f"pruned network: validation accuracy {pruned_val:.4f}, fc1 keeps {survivors.size} weights")

# %% [markdown]
# ## 2. Where to start k-means
#
# 1-D k-means (Lloyd's algorithm) only finds a local optimum, so the start matters.
# Three starts from the paper:
#
# - **forgy**: $k$ distinct weights picked at random;
# - **density**: the weights at equally spaced levels of their CDF — here the levels
#   $(i + \tfrac12)/k$ for $i = 0, \dots, k-1$, i.e. quantiles;
# - **linear**: $k$ values equally spaced between the smallest and the largest weight.
#
# ### Exercise 1 — linear initialization
#
# Write `linear_init(w, k)`: `k` values equally spaced from `w.min()` to `w.max()`
# (both included).

# %% tags=["exercise"]
def linear_init(w, k):
    """k centroids equally spaced over [min(w), max(w)]."""
    ### BEGIN SOLUTION
    return np.linspace(np.min(w), np.max(w), k)
    ### END SOLUTION

# %% tags=["check"]
check("linear_init", linear_init)

# %% [markdown]
# ### Exercise 2 — density initialization
#
# Write `density_init(w, k)`: the values of `w` at the CDF levels $(i + \tfrac12)/k$,
# $i = 0, \dots, k-1$ (`np.quantile` computes them).

# %% tags=["exercise"]
def density_init(w, k):
    """k centroids at the CDF levels (i + 1/2) / k."""
    ### BEGIN SOLUTION
    return np.quantile(w, (np.arange(k) + 0.5) / k)
    ### END SOLUTION

# %% tags=["check"]
check("density_init", density_init)

# %% [markdown]
# Below: the surviving fc1 weights with the 16 centroids each start converges to, and
# the CDF with the density start's levels. Forgy and density crowd the two peaks —
# where the weights are — and leave few centroids for the rare large weights, which
# matter most to the output. Linear keeps them covered.

# %%
k = 16
final = {mode: kmeans_1d(survivors, init_centroids(survivors, k, mode, SEED))[0]
         for mode in INIT_MODES}
fig, axes = plt.subplots(1, 2, figsize=(11, 3.2), layout="constrained")
plots.centroids_on_histogram(survivors, final, ax=axes[0], title=f"fc1: {k} centroids after k-means")
plots.weight_cdf(survivors, centroids=init_centroids(survivors, k, "density"), ax=axes[1],
                 title="density start: equal steps of the CDF");
for mode, centroids in final.items():
    labels = kmeans_1d(survivors, centroids)[1]
    large = np.abs(survivors) > np.quantile(np.abs(survivors), 0.99)
    error = np.abs(survivors - centroids[labels])
    print(f"{mode:<8} mean |error| {error.mean():.5f}   on the largest 1 %: {error[large].mean():.5f}")

# %% [markdown]
# ## 3. Explore: bits and initialization
#
# Share every layer's surviving weights among $2^b$ values — no fine-tuning yet — and
# read off validation accuracy and the Huffman-coded size. Where does accuracy start to
# drop? Does the init matter more at few bits or at many?

# %%
quantization_explorer(pruned, *val, bits=4, init="linear")

# %% [markdown]
# ## 4. Trained quantization: fine-tune the shared values
#
# `quantize` replaces each weight by `centroids[index]` through a parametrization, so
# the centroids are the trainable parameters. The forward pass *gathers* them, and
# autograd's backward of a gather is a scatter-add: each centroid receives the **sum of
# the gradients of its member weights** — the paper's update rule, for free. The indices
# (which weight uses which value) and the zeros stay fixed.

# %%
shared = quantize(pruned, BITS, init="linear", seed=SEED)
before = accuracy(shared, *val)
train(shared, X, y, epochs=FINETUNE_EPOCHS, lr=RECIPE["finetune_lr"], seed=SEED,
      progress=not SMOKE)
after = accuracy(shared, *val)
print(f"shared weights {BITS}: validation {before:.4f} -> {after:.4f} after fine-tuning "
      f"(pruned float32: {pruned_val:.4f})")
print("distinct nonzero values in fc1:", len(np.unique(effective_weight(shared.fc1)[layer_mask(shared.fc1)])))

# %% [markdown]
# ## 5. Huffman coding
#
# The indices are not uniform (the peaks hold most weights), nor are the gaps between
# kept positions (short gaps are frequent). A Huffman code gives frequent symbols short
# code words; no code word is a prefix of another, so the bit stream decodes
# unambiguously.
#
# ### Exercise 3 — optimal code lengths
#
# Write `huffman_lengths(counts)`: given `{symbol: count}`, return `{symbol: length}`,
# the code-word lengths of a Huffman code. Repeatedly merge the two lightest groups;
# every symbol in a merged group gets one bit longer. (Ties may be broken any way: the
# check accepts every optimal answer.)

# %% tags=["exercise"]
def huffman_lengths(counts):
    """Code-word length of every symbol in a Huffman code for these counts."""
    ### BEGIN SOLUTION
    import heapq

    lengths = {symbol: 0 for symbol in counts}
    if len(counts) == 1:
        return {symbol: 1 for symbol in counts}
    heap = [(count, i, [symbol]) for i, (symbol, count) in enumerate(counts.items())]
    heapq.heapify(heap)
    tie = len(heap)
    while len(heap) > 1:
        count_a, _, group_a = heapq.heappop(heap)
        count_b, _, group_b = heapq.heappop(heap)
        for symbol in group_a + group_b:
            lengths[symbol] += 1
        heapq.heappush(heap, (count_a + count_b, tie, group_a + group_b))
        tie += 1
    return lengths
    ### END SOLUTION

# %% tags=["check"]
check("huffman_lengths", huffman_lengths)

# %% [markdown]
# A bit-exact round trip on the real fc1 indices, with structlab's coder:

# %%
fc1 = shared.fc1.parametrizations.weight[0]
indices = fc1.index[fc1.mask].numpy()
code = huffman_code(indices)
packed, nbits = encode(indices, code)
assert np.array_equal(decode(packed, nbits, code), indices)
print(f"fc1: {indices.size} indices, {BITS['fc1']} bits each fixed = "
      f"{indices.size * BITS['fc1']} bits; "
      f"Huffman {nbits} bits ({nbits / indices.size:.2f} bits per index), round trip exact")

# %% [markdown]
# ## 6. Every bit, per layer
#
# `model_storage` counts the index stream and the position stream (fixed width, then
# Huffman), the fillers, the float32 codebooks, the Huffman tables (one length per
# symbol) and the float32 biases, and picks each layer's best index width.

# %%
rows = model_storage(shared)
print(f"{'layer':<6} {'kept':>6} {'fillers':>7} {'w bits':>6} {'idx bits':>8} "
      f"{'P+Q KB':>7} {'P+Q+H KB':>9} {'ratio':>6}")
for r in rows:
    print(f"{r.name:<6} {r.kept:>6} {r.fillers:>7} {r.weight_bits:>6} {r.index_bits:>8} "
          f"{r.fixed_bits / 8000:>7.1f} {r.huffman_bits / 8000:>9.1f} {r.ratio:>6.1f}")
dense = sum(r.dense_bits for r in rows)
fixed, coded = sum(r.fixed_bits for r in rows), sum(r.huffman_bits for r in rows)
print(f"total: {dense / 8000:.0f} KB dense -> {fixed / 8000:.1f} KB pruned+quantized "
      f"-> {coded / 8000:.1f} KB with Huffman ({dense / coded:.1f}x); "
      f"validation accuracy {after:.4f}")
print("paper (Han et al. 2016, LeNet-300-100): 1070 KB -> 27 KB, 40x, test error 1.64 % -> 1.58 %")

# %% [markdown]
# ## Reflect
#
# - The stages multiply: compare the dense, pruned+quantized and Huffman columns above
#   (and chapter 2's pruned-only size).
# - The paper's numbers come from Caffe with its own training schedule. Ours, with test
#   error measured once at the end, are in `python benchmarks/deep_compression.py`.
# - Trained quantization learns *values*, not assignments; a weight never changes
#   cluster during fine-tuning. What would it take to let it?
