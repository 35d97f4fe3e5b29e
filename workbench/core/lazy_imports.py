"""The one way worker threads import transformers: once, under a process-wide lock.

transformers is a lazy module. When two threads import it at the same time (the Models pane
comparing heads while the Tokenizer pane loads its tokenizer), Python's import machinery
breaks the cross-thread import deadlock by handing one thread a half-initialised module, and
`from transformers import AutoTokenizer` fails with ImportError. Every core function that
may run in a worker imports transformers through `transformers_module()`, and holds
`TRANSFORMERS_LOCK` while it calls into transformers' own loading.
"""

from __future__ import annotations

import threading

TRANSFORMERS_LOCK = threading.RLock()
_imported = False


def transformers_module():
    """`import transformers` (and its auto classes) done once, whatever thread asks first."""
    global _imported
    if not _imported:
        with TRANSFORMERS_LOCK:
            import transformers
            import transformers.models.auto.configuration_auto  # noqa: F401 - the tables every lookup reads
            import transformers.models.auto.modeling_auto  # noqa: F401

            _imported = True
    import transformers

    return transformers
