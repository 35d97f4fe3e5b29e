"""Finding and loading a tokenizer from a local folder (never the Hub from here)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.lazy_imports import TRANSFORMERS_LOCK, transformers_module

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model")


def resolve_path(path: str | Path | None) -> Path:
    """ "" or None means the embedded default model."""
    if path is None or str(path) == "":
        from workbench.core.embedded import embedded_model_path

        return embedded_model_path()
    return Path(path).expanduser()


def display_name(path: str | Path | None) -> str:
    """A short label that never shows an absolute path (snapshots, screenshots)."""
    if path is None or str(path) == "":
        from workbench.core.embedded import EMBEDDED_MODEL_NAME

        return EMBEDDED_MODEL_NAME
    return Path(path).name or str(path)


@dataclass
class LoadedTokenizer:
    """A loaded tokenizer with a lock: the fast backend keeps truncation/padding state between calls."""

    tokenizer: object
    source: str  # what the user gave: "" for the embedded model, else a path
    name: str
    model_type: str = "?"
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)


_CACHE: dict[tuple[str, float], LoadedTokenizer] = {}
_CACHE_SIZE = 4


def load_tokenizer(source: str | Path | None) -> LoadedTokenizer:
    """Load with AutoTokenizer from a local folder; a clear WorkbenchError otherwise.

    The last few are kept (keyed by folder and its files' times), so reopening one is instant.
    """
    path = resolve_path(source)
    key = (str(path.resolve()) if path.exists() else str(path), _stamp(path))
    cached = _CACHE.get(key)
    if cached is not None:
        # The same tokenizer (and lock) under the name this caller used for it.
        return replace(cached, source=str(source or ""), name=display_name(source))
    loaded = _load(path, source)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = loaded
    return loaded


def _stamp(path: Path) -> float:
    try:
        return (
            max((child.stat().st_mtime for child in path.iterdir()), default=0.0)
            if path.is_dir()
            else path.stat().st_mtime
        )
    except OSError:
        return 0.0


def _load(path: Path, source: str | Path | None) -> LoadedTokenizer:
    if not path.exists():
        raise WorkbenchError(
            f"No tokenizer at {path}: the folder does not exist", hint="Give a local model or tokenizer folder"
        )
    if path.is_dir() and not any((path / name).exists() for name in TOKENIZER_FILES):
        raise WorkbenchError(
            f"No tokenizer files in {path}",
            hint=f"Expected one of: {', '.join(TOKENIZER_FILES)}",
        )
    try:
        with TRANSFORMERS_LOCK:
            tokenizer = transformers_module().AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise WorkbenchError(f"Could not load a tokenizer from {path}: {error}") from error
    if not getattr(tokenizer, "is_fast", False):
        raise WorkbenchError(
            f"The tokenizer in {path} has no fast (Rust) backend",
            hint="Offsets, word ids and training need a tokenizer.json; save it with a fast tokenizer first",
        )
    return wrap(tokenizer, source)


def wrap(tokenizer, source: str | Path | None = "") -> LoadedTokenizer:
    return LoadedTokenizer(
        tokenizer=tokenizer, source=str(source or ""), name=display_name(source), model_type=model_type_of(tokenizer)
    )


def model_type_of(tokenizer) -> str:
    """WordPiece, byte-level BPE, BPE, Unigram or WordLevel, read from the fast backend."""
    import json

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return type(tokenizer).__name__
    spec = json.loads(backend.to_str())
    kind = (spec.get("model") or {}).get("type", "?")
    if kind == "BPE" and "ByteLevel" in json.dumps(spec.get("pre_tokenizer")):
        return "byte-level BPE"
    return kind
