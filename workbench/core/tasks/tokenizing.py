"""What every task's tokenization shares."""

from __future__ import annotations

import os
from contextlib import contextmanager


@contextmanager
def tokenizer_parallelism():
    """The Rust tokenizer on every core for the one-off tokenization, then off again.

    The launcher sets TOKENIZERS_PARALLELISM=false for the child, because data-loader workers are
    forked and a tokenizer that has used its thread pool must not be used across a fork. Mapping the
    data before any worker exists is safe, and a batch of 1,000 rows on 16 cores is many times faster
    than on one (24 s for 100,000 MRPC pairs on one core of an H200 host)."""
    before = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "true"
    try:
        yield
    finally:
        os.environ["TOKENIZERS_PARALLELISM"] = "false" if before is None else before
