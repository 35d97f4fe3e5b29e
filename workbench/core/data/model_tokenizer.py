"""The tokenizer of the active model ("" = the embedded default), loaded once per path."""

from __future__ import annotations

import threading
from functools import lru_cache

from workbench.core.errors import WorkbenchError

_lock = threading.Lock()


def resolve_model_path(model_path: str | None) -> str:
    if model_path:
        return str(model_path)
    from workbench.core.embedded import embedded_model_path

    return str(embedded_model_path())


def load_tokenizer(model_path: str | None):
    """AutoTokenizer for a local folder or a cached model; "" means the embedded default."""
    with _lock:
        return _load(resolve_model_path(model_path))


@lru_cache(maxsize=4)
def _load(path: str):
    from pathlib import Path

    from transformers import AutoTokenizer

    if not Path(path).exists():
        from workbench.core.hub.status import require_online

        require_online(path)
    try:
        return AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as error:
        raise WorkbenchError(f"Could not load the tokenizer of {path}: {str(error).splitlines()[0]}") from None
