"""Structured matrices: one file per type, all following :class:`~.base.Structure`."""

from structlab.structures.base import Structure
from structlab.structures.lowrank import LowRank

__all__ = ["Structure", "LowRank"]
