"""Algorithms that find a structure for a dense matrix (one file per algorithm)."""
