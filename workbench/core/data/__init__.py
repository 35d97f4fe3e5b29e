"""Datasets: open local files, folders and caches as memory-mapped Arrow, and browse,
search, measure and prepare them for a head.

Small modules, no textual, and nothing heavy at import time: `datasets`, `pyarrow`
and `transformers` are imported inside the functions that need them.
"""
