"""Which files of a model folder go to the Hub: include/exclude patterns, sizes, and the remote state."""

from __future__ import annotations

import hashlib
import os
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


@dataclass(frozen=True)
class SkippedLink:
    """A symbolic link in the folder that is not uploaded, and why."""

    path_in_repo: str
    reason: str

    def describe(self) -> str:
        return f"{self.path_in_repo}: {self.reason}"


def link_roots(folder: Path) -> list[Path]:
    """Where a link may point to be followed: inside the folder, and for a Hugging Face cache snapshot
    (models--org--name/snapshots/REV, whose files are links to ../../blobs/*) the repository's blobs."""
    root = Path(folder).resolve()
    roots = [root]
    if root.parent.name == "snapshots" and (root.parent.parent / "blobs").is_dir():
        roots.append((root.parent.parent / "blobs").resolve())
    return roots


def _link_target(link: Path, roots: list[Path], folder: Path) -> tuple[Path | None, str]:
    """(the file a link resolves to, "") or (None, why it is skipped)."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # missing target, or a loop of links
        return None, f"broken link (to {os.readlink(link) if link.is_symlink() else '?'})"
    if target.is_dir():
        return None, "a link to a folder (not followed)"
    if not target.is_file():
        return None, "a link to something that is not a file"
    if not any(target == root or root in target.parents for root in roots):
        return None, f"points outside {folder} (to {target})"
    return target, ""


def scan_folder(
    folder: Path,
    include: list[str] | tuple[str, ...] = DEFAULT_INCLUDE,
    exclude: list[str] | tuple[str, ...] = DEFAULT_EXCLUDE,
) -> tuple[list[LocalFile], list[SkippedLink]]:
    """Files under `folder` (relative POSIX paths, sorted) that match include and not exclude, and the links
    skipped. A link to a file inside the folder (or to a cache snapshot's blobs) is uploaded under the link's
    name with the target's content; links pointing elsewhere, broken links and links to folders are skipped."""
    from huggingface_hub.utils import filter_repo_objects

    folder = Path(folder)
    roots = link_roots(folder)
    found: dict[str, Path | str] = {}  # relative path -> file to read, or why the link is skipped
    for directory, dirnames, filenames in os.walk(folder):
        base = Path(directory)
        for name in dirnames:
            if (base / name).is_symlink():
                found[(base / name).relative_to(folder).as_posix()] = "a link to a folder (not followed)"
        for name in filenames:
            path = base / name
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink():
                target, reason = _link_target(path, roots, folder)
                found[relative] = target if target is not None else reason
            elif path.is_file():
                found[relative] = path
    kept = set(
        filter_repo_objects(sorted(found), allow_patterns=list(include) or None, ignore_patterns=list(exclude) or None)
    )
    files, skipped = [], []
    for relative in sorted(kept):
        source = found[relative]
        if isinstance(source, Path):
            files.append(LocalFile(relative, source, source.stat().st_size))
        else:
            skipped.append(SkippedLink(relative, source))
    return files, skipped


def list_files(
    folder: Path,
    include: list[str] | tuple[str, ...] = DEFAULT_INCLUDE,
    exclude: list[str] | tuple[str, ...] = DEFAULT_EXCLUDE,
) -> list[LocalFile]:
    """The files `scan_folder` uploads (without the skipped links)."""
    return scan_folder(folder, include, exclude)[0]


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
