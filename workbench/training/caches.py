"""Caches shared by the runs of one runs directory, under `<runs dir>/.cache/` (a dot folder, never a run).

- `tokenized/<key>/`: a task's `Prepared` data (the tokenized splits saved with `datasets`'
  `save_to_disk`, read back memory-mapped; the labels, evaluation context and notes pickled). The key
  hashes everything that decides the tokenized rows: the data files' stamps (path, size, mtime) or
  the Hub dataset id, the tokenizer's full serialized state, the whole `data` table, the model table
  (head, labels, config), the seed, the task's source code and the library versions. Written to a
  temporary folder and renamed into place, so a crashed writer never leaves a half cache; a cache
  that fails to load is removed and rebuilt.
- `inductor/`: torch.compile's FX-graph and AOTAutograd caches and Triton's kernels
  (`TORCHINDUCTOR_CACHE_DIR`, `TRITON_CACHE_DIR`), so a second compiled run of the same model
  loads its graphs instead of compiling them again.

The pickles are written and read only by the workbench, in the user's own runs directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import time
from collections.abc import Callable
from pathlib import Path

CACHE_DIR = ".cache"
TOKENIZED_DIR = "tokenized"
INDUCTOR_DIR = "inductor"
# Bump when what is stored, or how a task prepares its data, changes in a way the key cannot see.
TOKENIZED_FORMAT = 1
META_FILE = "meta.json"
EXTRAS_FILE = "extras.pkl"
SPLITS = ("train", "validation")
KEEP_TOKENIZED = 8  # the most recently used tokenized datasets kept; older ones are removed
# Spec keys that never change the tokenized rows (so runs differing only in them share a cache).
NOT_TOKENIZING = {
    "data": {"cache", "pad_to_buckets"},
    "model": {"torch_compile", "compile_mode", "compile_dynamic", "attn_implementation"},
}
COMPILE_ENV = ("TORCHINDUCTOR_CACHE_DIR", "TRITON_CACHE_DIR")


def cache_root(run_dir: Path) -> Path:
    """The runs directory's cache folder: a run folder lives directly in the runs directory."""
    return Path(run_dir).resolve().parent / CACHE_DIR


# -- the key -------------------------------------------------------------------------------------


def _file_stamps(data: dict) -> list:
    """(path, size, mtime_ns) of every data file the spec names, and of its siblings that share the
    name as a prefix (seq2seq's parallel files `train.en` + `train.de` are named `train`)."""
    stamps = []
    for key in ("train_file", "validation_file"):
        name = data.get(key)
        if not name:
            continue
        path = Path(name).expanduser().resolve()
        candidates = [path] if path.exists() else []
        if path.parent.is_dir():
            candidates += sorted(p for p in path.parent.glob(path.name + ".*") if p.is_file())
        for candidate in candidates:
            stat = candidate.stat()
            stamps.append([key, str(candidate), stat.st_size, stat.st_mtime_ns])
        if not candidates:
            stamps.append([key, str(path), None, None])
    if data.get("dataset"):  # a Hub dataset: its prepared copy in the datasets cache (a new revision is a new folder)
        from workbench.core.data.loading import find_in_cache

        entry = find_in_cache(str(data["dataset"]), data.get("dataset_config") or None, None)
        if entry is not None:
            stamps.append(["dataset", str(entry.folder), entry.size, entry.folder.stat().st_mtime_ns])
    return stamps


def tokenizer_fingerprint(tokenizer) -> str:
    """A hash of everything the tokenizer does: a fast tokenizer's full JSON (vocabulary, merges,
    normalizer, post-processor), or a slow one's vocabulary, plus its class and settings."""
    digest = hashlib.sha256()
    digest.update(type(tokenizer).__name__.encode())
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and hasattr(backend, "to_str"):
        digest.update(backend.to_str().encode())
    else:
        digest.update(json.dumps(sorted(tokenizer.get_vocab().items())).encode())
    settings = {
        "init_kwargs": getattr(tokenizer, "init_kwargs", {}),
        "padding_side": getattr(tokenizer, "padding_side", None),
        "truncation_side": getattr(tokenizer, "truncation_side", None),
        "model_max_length": getattr(tokenizer, "model_max_length", None),
        "special_tokens": getattr(tokenizer, "all_special_tokens", None),
    }
    digest.update(json.dumps(settings, sort_keys=True, default=repr).encode())
    return digest.hexdigest()


def _model_config(model_path: str) -> str | None:
    """The model's config.json, hashed (language models read it to size their blocks)."""
    config = Path(model_path) / "config.json"
    try:
        return hashlib.sha256(config.read_bytes()).hexdigest()
    except OSError:
        return None


def _task_source(task) -> str:
    """A hash of the task's module and the shared data code: a changed preparation misses."""
    import importlib

    digest = hashlib.sha256()
    for name in (type(task).__module__, "workbench.core.tasks.base", "workbench.core.data.loading"):
        try:
            digest.update(Path(importlib.import_module(name).__file__).read_bytes())
        except (ImportError, OSError, TypeError):
            digest.update(name.encode())
    return digest.hexdigest()


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("datasets", "transformers", "tokenizers", "pyarrow"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def tokenized_key(spec: dict, tokenizer, task, model_path: str) -> str:
    """The cache key of this spec's tokenized data (hex sha256)."""
    tables = {
        section: {key: value for key, value in (spec.get(section) or {}).items() if key not in NOT_TOKENIZING[section]}
        for section in ("data", "model")
    }
    described = {
        "format": TOKENIZED_FORMAT,
        "task": task.name,
        "data": tables["data"],
        "model": tables["model"],
        "seed": (spec.get("training") or {}).get("seed"),
        "files": _file_stamps(spec.get("data") or {}),
        "tokenizer": tokenizer_fingerprint(tokenizer),
        "model_config": _model_config(model_path),
        "task_source": _task_source(task),
        "versions": _versions(),
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True, default=repr).encode()).hexdigest()


# -- storing and loading ---------------------------------------------------------------------------


def _is_dataset(value) -> bool:
    import datasets

    return isinstance(value, datasets.Dataset)


def save_prepared(prepared, folder: Path) -> None:
    """Write `prepared` into a new folder (its parent must exist); atomic: a temporary folder renamed."""
    folder = Path(folder)
    temporary = folder.parent / f".tmp-{folder.name}-{os.getpid()}"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    try:
        stored = {}
        for split in SPLITS:
            value = getattr(prepared, split)
            if value is None:
                stored[split] = None
            elif _is_dataset(value):
                value.save_to_disk(str(temporary / split))
                stored[split] = "dataset"
            else:
                raise TypeError(f"{split} is a {type(value).__name__}, not a datasets.Dataset")
        extras = {"labels": prepared.labels, "eval_context": prepared.eval_context, "notes": list(prepared.notes)}
        (temporary / EXTRAS_FILE).write_bytes(pickle.dumps(extras, protocol=pickle.HIGHEST_PROTOCOL))
        meta = {"format": TOKENIZED_FORMAT, "splits": stored, "written": time.time()}
        (temporary / META_FILE).write_text(json.dumps(meta), encoding="utf-8")  # last: a complete folder
        try:
            os.rename(temporary, folder)
        except OSError:
            if not (folder / META_FILE).is_file():  # not another process's complete copy
                raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def load_prepared(folder: Path):
    """The `Prepared` stored in `folder` (splits memory-mapped); raises on anything missing or broken."""
    import datasets

    from workbench.core.tasks.base import Prepared

    folder = Path(folder)
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    if meta.get("format") != TOKENIZED_FORMAT:
        raise ValueError(f"cache format {meta.get('format')}, expected {TOKENIZED_FORMAT}")
    splits = {}
    for split in SPLITS:
        kind = meta["splits"].get(split)
        splits[split] = datasets.load_from_disk(str(folder / split)) if kind == "dataset" else None
    extras = pickle.loads((folder / EXTRAS_FILE).read_bytes())
    context, notes = extras["eval_context"], extras["notes"]
    return Prepared(splits["train"], splits["validation"], extras["labels"], eval_context=context, notes=notes)


def prepare_cached(
    spec: dict,
    tokenizer,
    task,
    model_path: str,
    run_dir: Path,
    prepare: Callable[[], object],
    log: Callable[..., None],
    *,
    write: bool = True,
):
    """`prepare()` (the task's load and tokenize), through the runs directory's tokenized-data cache.

    Logs "tokenized data: cache hit (<key8>) in 0.3 s", "cache miss (<key8>)" or why the cache was
    not used; `write=False` (processes other than the main one) only reads."""
    started = time.perf_counter()
    if not (spec.get("data") or {}).get("cache", True):
        return prepare()
    try:
        key = tokenized_key(spec, tokenizer, task, model_path)
    except Exception as error:  # a tokenizer that cannot be fingerprinted: tokenize without the cache
        log(f"tokenized data: not cached ({type(error).__name__}: {error})", level="warning")
        return prepare()
    folder = cache_root(run_dir) / TOKENIZED_DIR / key
    short = key[:8]
    if (folder / META_FILE).is_file():
        try:
            prepared = load_prepared(folder)
        except Exception as error:  # a corrupt or foreign cache: rebuild it
            log(
                f"tokenized data: cache {short} unreadable ({type(error).__name__}: {error}); rebuilding",
                level="warning",
            )
            if write:
                shutil.rmtree(folder, ignore_errors=True)
        else:
            if write:
                try:
                    os.utime(folder / META_FILE)  # recently used: pruned last
                except OSError:
                    pass
            log(f"tokenized data: cache hit ({short}) in {time.perf_counter() - started:.1f} s")
            return prepared
    prepared = prepare()
    tokenized_s = time.perf_counter() - started
    if not write:
        log(f"tokenized data: cache miss ({short}), tokenized in {tokenized_s:.1f} s")
        return prepared
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        save_prepared(prepared, folder)
    except Exception as error:  # unpicklable context, full disk, read-only runs dir: the run goes on
        shutil.rmtree(folder, ignore_errors=True)
        log(
            f"tokenized data: cache miss ({short}), tokenized in {tokenized_s:.1f} s;"
            f" not stored ({type(error).__name__}: {error})",
            level="warning",
        )
        return prepared
    saved_s = time.perf_counter() - started - tokenized_s
    prune_tokenized(folder.parent, KEEP_TOKENIZED)
    log(f"tokenized data: cache miss ({short}), tokenized in {tokenized_s:.1f} s, stored in {saved_s:.1f} s")
    # Read back memory-mapped, as a hit would: the run then trains on the same Arrow files either way.
    try:
        return load_prepared(folder)
    except Exception:
        return prepared


def prune_tokenized(root: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` most recently used tokenized datasets (and temporary folders left
    by a writer that died over an hour ago); the folders removed."""
    removed, complete = [], []
    for path in Path(root).iterdir():
        try:
            if path.name.startswith(".tmp-"):
                if time.time() - path.stat().st_mtime > 3600:
                    removed.append(path)
            elif (path / META_FILE).is_file():
                complete.append(((path / META_FILE).stat().st_mtime, path))
        except OSError:
            continue
    complete.sort(reverse=True)
    removed += [path for _, path in complete[keep:]]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed


# -- torch.compile's caches ------------------------------------------------------------------------


def use_compile_cache(run_dir: Path, environ=None) -> dict[str, str]:
    """Point inductor's and Triton's caches into the runs directory (unless the user set them); the
    variables set. Call before torch compiles anything."""
    environ = os.environ if environ is None else environ
    root = cache_root(run_dir) / INDUCTOR_DIR
    chosen = {}
    for name, folder in (("TORCHINDUCTOR_CACHE_DIR", root), ("TRITON_CACHE_DIR", root / "triton")):
        if environ.get(name):
            continue
        environ[name] = chosen[name] = str(folder)
    return chosen


def compile_cache_counts(counters=None) -> dict[str, int]:
    """FX-graph and AOTAutograd cache hits, misses and bypasses from torch._dynamo's counters."""
    if counters is None:
        from torch._dynamo.utils import counters
    inductor, aot = counters.get("inductor", {}), counters.get("aot_autograd", {})
    return {
        "fx_hits": int(inductor.get("fxgraph_cache_hit", 0)),
        "fx_misses": int(inductor.get("fxgraph_cache_miss", 0)),
        "fx_bypass": int(inductor.get("fxgraph_cache_bypass", 0)),
        "aot_hits": int(aot.get("autograd_cache_hit", 0)),
        "aot_misses": int(aot.get("autograd_cache_miss", 0)),
        "aot_bypass": int(aot.get("autograd_cache_bypass", 0)),
    }


def describe_compile_cache(counts: dict[str, int]) -> str:
    """'compile cache: 14 hits, 0 misses (FX graphs 7/0, AOTAutograd 7/0)'."""
    hits = counts["fx_hits"] + counts["aot_hits"]
    misses = counts["fx_misses"] + counts["aot_misses"]
    bypass = counts["fx_bypass"] + counts["aot_bypass"]
    line = (
        f"compile cache: {hits} hits, {misses} misses"
        f" (FX graphs {counts['fx_hits']}/{counts['fx_misses']},"
        f" AOTAutograd {counts['aot_hits']}/{counts['aot_misses']})"
    )
    return line + (f", {bypass} bypassed" if bypass else "")
