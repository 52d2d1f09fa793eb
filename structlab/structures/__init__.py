"""Structured matrices: one file per type, all following :class:`~.base.Structure`."""

from structlab.structures.base import Structure
from structlab.structures.codebook import Codebook
from structlab.structures.lowrank import LowRank
from structlab.structures.sparse import Sparse
from structlab.structures.sparse_product import SparseProduct
from structlab.structures.sss import SSS

__all__ = ["Structure", "Codebook", "LowRank", "Sparse", "SparseProduct", "SSS"]
