"""Which files of a model folder go to the Hub: include/exclude patterns, sizes, and the remote state."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from workbench.core.formatting import human_size  # noqa: F401  (re-exported: its callers import it here)

# Never worth uploading; users add their own patterns on top.
DEFAULT_EXCLUDE = (
    ".git/*",
    "*/__pycache__/*",
    "__pycache__/*",
    "*.pyc",
    ".DS_Store",
    "*.tmp",
    ".cache/*",
    ".huggingface/*",
    "*.lock",
)
DEFAULT_INCLUDE = ("*",)
REGULAR_FILE_LIMIT = 10 * 1024 * 1024  # above this the Hub stores files with LFS/Xet
_ID_CACHE: dict[tuple[str, int, int], tuple[str, str]] = {}


@dataclass
class LocalFile:
    path_in_repo: str
    source: Path | bytes  # a file on disk, or generated content (the model card)
    size: int
    status: str = ""  # "new", "changed", "unchanged" once compared with the remote; "" before

    @property
    def generated(self) -> bool:
        return isinstance(self.source, bytes)

    def content_id(self) -> tuple[str, str]:
        """("git", blob sha1) for small files, ("sha256", hex) for large ones: what the Hub reports.

        Hashing a multi-GB checkpoint takes seconds, and the dialog re-checks as the form changes:
        ids of files on disk are cached by (path, size, mtime).
        """
        if isinstance(self.source, bytes):
            return self._compute_id()
        stat = Path(self.source).stat()
        key = (str(self.source), stat.st_size, stat.st_mtime_ns)
        if key not in _ID_CACHE:
            if len(_ID_CACHE) > 4096:
                _ID_CACHE.clear()
            _ID_CACHE[key] = self._compute_id()
        return _ID_CACHE[key]

    def _compute_id(self) -> tuple[str, str]:
        if self.size < REGULAR_FILE_LIMIT:
            data = self.source if isinstance(self.source, bytes) else Path(self.source).read_bytes()
            return "git", hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        digest = hashlib.sha256()
        with open(self.source, "rb") as handle:  # type: ignore[arg-type]
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return "sha256", digest.hexdigest()


def split_patterns(text: str) -> list[str]:
    """'*.json, tokenizer*' or one per line -> ['*.json', 'tokenizer*']."""
    return [part.strip() for chunk in text.splitlines() for part in chunk.split(",") if part.strip()]


def list_files(
    folder: Path,
    include: list[str] | tuple[str, ...] = DEFAULT_INCLUDE,
    exclude: list[str] | tuple[str, ...] = DEFAULT_EXCLUDE,
) -> list[LocalFile]:
    """Files under `folder` (relative POSIX paths, sorted) that match include and not exclude."""
    from huggingface_hub.utils import filter_repo_objects

    folder = Path(folder)
    paths = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    relative = [p.relative_to(folder).as_posix() for p in paths]
    kept = set(
        filter_repo_objects(relative, allow_patterns=list(include) or None, ignore_patterns=list(exclude) or None)
    )
    return [LocalFile(rel, path, path.stat().st_size) for rel, path in zip(relative, paths) if rel in kept]


def with_card(files: list[LocalFile], card_text: str | None) -> list[LocalFile]:
    """Replace (or add) README.md with the model card text."""
    if card_text is None:
        return files
    data = card_text.encode("utf-8")
    rest = [f for f in files if f.path_in_repo != "README.md"]
    return [LocalFile("README.md", data, len(data))] + rest


def mark_remote_status(files: list[LocalFile], remote_files: dict | None) -> None:
    """Set each file's status against the branch's files (`RemoteFile`s keyed by path)."""
    for local in files:
        remote = (remote_files or {}).get(local.path_in_repo)
        if remote is None:
            local.status = "new"
            continue
        kind, value = local.content_id()
        same = value == (remote.oid if kind == "git" else remote.lfs_sha256)
        local.status = "unchanged" if same else "changed"
