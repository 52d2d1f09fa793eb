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
# # Welcome to structlab
#
# A neural network's dense layers are big matrices: MobileNetV2's last layer alone holds
# 1.28 million weights. This course is about replacing such matrices by **structured**
# ones — low rank, sparse, shared values, products of sparse factors, semiseparable —
# that store fewer numbers and can compute faster. Every chapter asks the same three
# questions of one structure, and *measures* the answers on your laptop's CPU:
#
# 1. **How many numbers?** (and how many bytes, at a real encoding)
# 2. **How much accuracy?** (on real data: wine, MNIST, ImageNet features)
# 3. **How much time?** (C kernels, one core, against the dense product)
#
# ## How to use it
#
# - Run each chapter top to bottom (*Run → Run All Cells*). Cells marked **Exercise**
#   hold a function for you to write; the `check(...)` line under it prints ✔ or ✘ with
#   a hint, and never stops the notebook.
# - Cells marked **Question** ask you to explain what you see, or to *predict* what the
#   next cell will show before you run it: write your answer in the *Your answer* cell
#   first, then run the cell and compare. Your instructor grades them by hand.
# - A **design task** asks for a result that meets a target (a network of at most so
#   many numbers, say, within so much accuracy); its check measures what you built.
# - Sliders (ipywidgets) let you move a rank, a sparsity, a number of bits or stages and
#   see the numbers and plots follow.
# - The first cell of each chapter holds its parameters. `STRUCTLAB_SMOKE=1` makes every
#   chapter use small sizes (seconds); without it the chapters use the full data and take
#   from seconds to a few minutes. Trained networks and features are cached under
#   `data/cache/`, so a second run is faster.
# - Everything runs offline: the datasets and weights ship in installed packages.
#
# ## Is everything working?

# %% tags=["parameters"]
import os

SMOKE = os.environ.get("STRUCTLAB_SMOKE", "0") == "1"
SEED = 0

# %% tags=["setup"]
import numpy as np

import ipywidgets as widgets
from IPython.display import display

from structlab import assets
from structlab.editions import chapter_sources
from structlab.info import native_line, summary
from structlab.kernels import Plan
from structlab.structures.lowrank import LowRank
from structlab.timing import measure

print(summary(smoke=SMOKE))

# %% [markdown]
# **Widgets.** Move the slider: the text beside it should follow. If you see a slider and
# the text changes, widgets render in your front end. (If you see
# `IntSlider(value=...)` instead, the ipywidgets extension is missing from this Jupyter.)

# %%
slider = widgets.IntSlider(value=4, min=1, max=64, description="rank")
label = widgets.HTML()


def show(change=None):
    r = slider.value
    label.value = f"a rank-{r} 1000×1280 layer stores {r * 2280:,} numbers ({r * 2280 / 1.28e4:.1f} % of dense)"


slider.observe(show, "value")
show()
display(widgets.HBox([slider, label]))

# %% [markdown]
# **Native kernels.** The C kernels in `native/` are compiled when structlab is
# installed. With them, a rank-64 product of a 1000 × 1280 layer should take a fraction
# of the dense product's time:

# %%
rng = np.random.default_rng(SEED)
W = rng.standard_normal((1000, 1280)).astype(np.float32)
S = LowRank(rng.standard_normal((1000, 64)), rng.standard_normal((64, 1280)))
x = rng.standard_normal((1, 1280)).astype(np.float32)
timing = dict(repeats=3, min_sample=2e-4) if SMOKE else {}
dense, low = (measure(Plan(M, np.float32).bind(x), **timing).best for M in (W, S))
print(native_line())
print(f"dense {dense * 1e6:.1f} µs, rank 64 {low * 1e6:.1f} µs: {dense / low:.1f}x faster "
      f"(the FLOP ratio is {W.size / S.nparams:.1f}x)")
dense_mb, low_mb = (Plan(M, np.float32).packed.nbytes / 1e6 for M in (W, S))
print(f"bytes read per product: dense {dense_mb:.2f} MB, rank 64 {low_mb:.2f} MB")

# %% [markdown]
# The speed-up need not equal the FLOP ratio. A product this size is limited as much by
# memory as by arithmetic: the dense weights (the first figure above) are larger than a
# typical core's L2 cache (1–2 MB), the two thin factors smaller, so each multiply-add
# of the low-rank product waits less for its data — the speed-up can even exceed the
# FLOP ratio. On a slow or busy machine it can fall short of it. Chapter 7 measures
# both effects.

# %% [markdown]
# **Data.** Every asset is checked against its sha256 before it is read:

# %%
for row in assets.asset_status():
    print(f"{row['name']:<13} {row['status']}" + ("" if row["path"] else f"  ({row['install']})"))

# %% [markdown]
# ## The chapters
#
# | # | chapter | structure | data |
# |---|---|---|---|
# | 1 | `01_svd_wine_mlp` | low rank by SVD; the bias absorbed into the weight; truncated SVD with a retrained output layer | wine |
# | 2 | `02_pruning` | pruning (Deep Compression): magnitude threshold, retraining with the mask held, sparse storage | MNIST |
# | 3 | `03_quantization` | weight sharing by k-means, centroid fine-tuning, Huffman coding | MNIST |
# | 4 | `04_palm4msa` | products of sparse factors (palm4MSA): fast transforms, dense and convolutional layers | Hadamard, MNIST |
# | 5 | `05_sss_imagenet` | sequentially semiseparable matrices on MobileNetV2's classifier | ImageNet features |
# | 6 | `06_evolving_widths` | layer widths that shrink and grow by SVD during training | MNIST |
# | 7 | `07_timing` | C kernels for every structure, timed honestly against the dense product | all |
# | 8 | `08_capstone` | every method on the same layers: size, accuracy, time, the Pareto front | ImageNet features, MNIST |
#
# Chapters 2–8 build on chapter 1's vocabulary; after that, any order works. The
# chapters, in order:

# %%
for stem, _, _ in chapter_sources():
    print(stem)
