"""The one tokenizer loader: a local folder (never the Hub from here), cached by folder.

Every feature loads tokenizers here: the Tokenizer pane and `workbench tokenize`
(`load_tokenizer`), the Datasets pane's statistics and preparation, and the Models pane's
loads and new models (`load_hf_tokenizer`). "", None and "embedded" mean the embedded encoder.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from workbench.core.embedded import EMBEDDED_MODEL_NAME, is_embedded
from workbench.core.errors import WorkbenchError
from workbench.core.lazy_imports import TRANSFORMERS_LOCK, transformers_module

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model")


def resolve_path(source: str | Path | None) -> Path:
    """The folder a source names: "", None or "embedded" is the embedded encoder's."""
    if is_embedded(source):
        from workbench.core.embedded import embedded_model_path

        return embedded_model_path()
    return Path(str(source).strip()).expanduser()


def tokenizer_path(source: str | Path | None) -> str:
    """`resolve_path` as text, for generated code."""
    return str(resolve_path(source))


def display_name(source: str | Path | None) -> str:
    """A short label that never shows an absolute path (snapshots, screenshots)."""
    if is_embedded(source):
        return EMBEDDED_MODEL_NAME
    return Path(source).name or str(source)


@dataclass
class LoadedTokenizer:
    """A loaded tokenizer with a lock: the fast backend keeps truncation/padding state between calls.

    One instance is shared by everyone who loads the same folder: hold `lock` around each call.
    """

    tokenizer: object
    source: str  # what the user gave: "" for the embedded model, else a path
    name: str
    model_type: str = "?"
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def vocab_size(self) -> int:
        return len(self.tokenizer)


_CACHE: dict[tuple[str, float, bool], LoadedTokenizer] = {}
_CACHE_SIZE = 4
_CACHE_LOCK = threading.RLock()  # two threads asking for one folder load it once


def load_tokenizer(
    source: str | Path | None, *, trust_remote_code: bool = False, fast_only: bool = True
) -> LoadedTokenizer:
    """AutoTokenizer from a local folder, or a clear one-line WorkbenchError.

    The last few are kept, keyed by folder, its files' times and the remote-code opt-in, so
    reopening one is instant and a re-saved folder is read again. `fast_only` refuses a
    tokenizer without a Rust backend (offsets and word ids need one).
    """
    path = resolve_path(source)
    key = (str(path.resolve()) if path.exists() else str(path), _stamp(path), trust_remote_code)
    with _CACHE_LOCK:
        loaded = _CACHE.get(key)
        if loaded is None:
            loaded = _load(path, source, trust_remote_code)
            if len(_CACHE) >= _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = loaded
    if fast_only and not getattr(loaded.tokenizer, "is_fast", False):
        raise WorkbenchError(
            f"The tokenizer in {path} has no fast (Rust) backend",
            hint="Offsets, word ids and training need a tokenizer.json; save it with a fast tokenizer first",
        )
    # The same tokenizer (and lock) under the name this caller used for it.
    return replace(loaded, source=_source_text(source), name=display_name(source))


def load_hf_tokenizer(source: str | Path | None, *, trust_remote_code: bool = False):
    """The transformers tokenizer itself, as a private copy: safe in any thread without the lock.

    For callers that hand it on (datasets.map, a loaded model, save_pretrained). Copying costs a
    fraction of loading, which stays cached.
    """
    loaded = load_tokenizer(source, trust_remote_code=trust_remote_code, fast_only=False)
    with loaded.lock:
        return copy.deepcopy(loaded.tokenizer)


def _source_text(source: str | Path | None) -> str:
    return "" if source is None else str(source)


def _stamp(path: Path) -> float:
    try:
        return (
            max((child.stat().st_mtime for child in path.iterdir()), default=0.0)
            if path.is_dir()
            else path.stat().st_mtime
        )
    except OSError:
        return 0.0


def _load(path: Path, source: str | Path | None, trust_remote_code: bool) -> LoadedTokenizer:
    if not path.exists():
        raise WorkbenchError(
            f"No tokenizer at {path}: the folder does not exist", hint="Give a local model or tokenizer folder"
        )
    if path.is_dir() and not any((path / name).exists() for name in TOKENIZER_FILES):
        raise WorkbenchError(
            f"No tokenizer files in {path}",
            hint=f"Expected one of: {', '.join(TOKENIZER_FILES)}",
        )
    from huggingface_hub.errors import StrictDataclassError  # config.json with a field of the wrong type

    try:
        with TRANSFORMERS_LOCK:
            tokenizer = transformers_module().AutoTokenizer.from_pretrained(
                str(path), local_files_only=True, trust_remote_code=trust_remote_code
            )
    except StrictDataclassError as error:  # its field and reason are on two lines
        raise WorkbenchError(f"Could not load a tokenizer from {path}: {' '.join(str(error).split())}") from error
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise WorkbenchError(f"Could not load a tokenizer from {path}: {first}") from error
    return wrap(tokenizer, source)


def wrap(tokenizer, source: str | Path | None = "") -> LoadedTokenizer:
    return LoadedTokenizer(
        tokenizer=tokenizer, source=_source_text(source), name=display_name(source), model_type=model_type_of(tokenizer)
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
