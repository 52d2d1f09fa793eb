"""structlab: compress neural-network layers with structured matrices, and measure it.

The library behind the course notebooks. Structures (the nouns) live in
:mod:`structlab.structures`, the algorithms that find them (the verbs) in
:mod:`structlab.approx`, the torch side in :mod:`structlab.nn`.

Examples
--------
>>> import numpy as np
>>> from structlab.approx.svd import lowrank_approximation
>>> W = np.random.default_rng(0).standard_normal((30, 20))
>>> S = lowrank_approximation(W, rank=5)
>>> S.shape, S.nparams
((30, 20), 250)
"""

__version__ = "0.1.0"
