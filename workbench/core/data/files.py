"""What a path holds: its format, its files, and the splits guessed from their names."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.formatting import human_size  # noqa: F401  (re-exported: its callers import it here)

# Extension -> format. The format names are ours; `builder_for` maps them to `datasets` builders.
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".txt": "text",
    ".text": "text",
    ".raw": "text",  # WikiText's raw files
    # CoNLL column files: text, read as sentences by core/data/formats/conll.py
    ".conll": "text",
    ".iob": "text",
    ".bio": "text",
}
TEXT_FORMATS = {"csv", "tsv", "json", "jsonl", "text"}
SPLIT_ALIASES = {
    "train": ("train", "training"),
    "validation": ("validation", "valid", "val", "dev", "eval", "evaluation"),
    "test": ("test", "testing"),
}
SNIFF_BYTES = 64 * 1024
PARQUET_MAGIC = b"PAR1"
ARROW_FILE_MAGIC = b"ARROW1"
ARROW_STREAM_MARKER = b"\xff\xff\xff\xff"


@dataclass(frozen=True)
class FileStamp:
    """Size and modification time, to notice a file that changes while it is open."""

    path: Path
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        stat = path.stat()
        return cls(path, stat.st_size, stat.st_mtime_ns)

    def changed(self) -> bool:
        try:
            return FileStamp.of(self.path) != self
        except OSError:
            return True


def format_of(path: Path) -> str:
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(EXTENSIONS))
        raise WorkbenchError(
            f"{path.name}: unknown file type {path.suffix or '(no extension)'!r}.",
            hint=f"Known extensions: {known}.",
        )
    return fmt


def guess_split(name: str) -> str | None:
    """train/validation/test from a file name ("dev.tsv" -> validation), or None."""
    words = re.split(r"[^a-z]+", Path(name).name.lower())
    for split, aliases in SPLIT_ALIASES.items():
        if any(word in aliases for word in words):
            return split
    return None


def validation_sibling(path: Path) -> Path | None:
    """The validation file beside a training file: same folder, same suffix, a name that says
    validation (train.tsv -> dev.tsv, train.txt -> valid.txt, train.en -> val.en), or None."""
    path = Path(path)
    if guess_split(path.name) != "train" or not path.parent.is_dir():
        return None
    found = [
        candidate
        for candidate in sorted(path.parent.iterdir())
        if candidate.is_file() and candidate.suffix == path.suffix and guess_split(candidate.name) == "validation"
    ]
    return found[0] if found else None


def split_name_from_stem(name: str) -> str:
    """A valid split name made from a file name that names no known split."""
    stem = Path(name).name.split(".")[0]
    cleaned = re.sub(r"\W+", "_", stem).strip("_")
    return cleaned or "train"


def guess_splits(files: list[Path]) -> dict[str, list[Path]]:
    """Assign files to splits by name; shards of one split stay together, in name order.

    One file that names no split is "train"; several become one split per file stem.
    """
    files = sorted(files)
    if len(files) == 1:
        return {guess_split(files[0].name) or "train": files}
    splits: dict[str, list[Path]] = {}
    for path in files:
        split = guess_split(path.name) or split_name_from_stem(path.name)
        splits.setdefault(split, []).append(path)
    return order_splits(splits)


def order_splits(splits: dict) -> dict:
    """train, validation, test first, then the others by name."""
    known = [name for name in SPLIT_ALIASES if name in splits]
    return {name: splits[name] for name in known + sorted(set(splits) - set(known))}


def data_files_in(folder: Path) -> list[Path]:
    """Data files directly in a folder (and one level down, for data/ layouts)."""
    found = [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in EXTENSIONS]
    found = [p for p in found if p.name not in {"dataset_info.json", "dataset_dict.json", "state.json"}]
    if not found:
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            found.extend(p for p in sorted(sub.iterdir()) if p.is_file() and p.suffix.lower() in EXTENSIONS)
    return found


def is_saved_dataset(folder: Path) -> bool:
    """A folder written by `save_to_disk` (a Dataset or a DatasetDict)."""
    return (folder / "dataset_dict.json").is_file() or (
        (folder / "state.json").is_file() and (folder / "dataset_info.json").is_file()
    )


def is_builder_cache(folder: Path) -> bool:
    """A `datasets` cache folder: dataset_info.json next to `<builder>-<split>.arrow` files."""
    return (folder / "dataset_info.json").is_file() and any(folder.glob("*-*.arrow"))


def check_readable(path: Path, fmt: str) -> FileStamp:
    """Missing, empty or binary files fail here, before anything is loaded."""
    if not path.exists():
        raise WorkbenchError(f"{path}: no such file.", hint="Check the path; ~ and relative paths are expanded.")
    if path.is_dir():
        raise WorkbenchError(f"{path}: is a folder, expected a file.")
    if not path.is_file():  # a named pipe or a device: its size says 0 and reading it may never end
        raise WorkbenchError(
            f"{path}: not a regular file (a named pipe, socket or device).",
            hint="Save the data to a file first, then open that file.",
        )
    if not os.access(path, os.R_OK):
        raise WorkbenchError(f"{path.name}: not readable (permission denied).")
    stamp = FileStamp.of(path)
    if stamp.size == 0:
        raise WorkbenchError(f"{path.name}: the file is empty (0 bytes).")
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if fmt == "parquet":
        if not head.startswith(PARQUET_MAGIC):
            raise WorkbenchError(f"{path.name}: not a Parquet file (it does not start with 'PAR1').")
    elif fmt == "arrow":
        if not (head.startswith(ARROW_FILE_MAGIC) or head.startswith(ARROW_STREAM_MARKER)):
            raise WorkbenchError(f"{path.name}: not an Arrow IPC file or stream.")
    else:
        _check_text(path, head, whole=stamp.size <= SNIFF_BYTES)
        if not head.strip(b"\xef\xbb\xbf \t\r\n"):
            raise WorkbenchError(f"{path.name}: the file holds only whitespace.")
    return stamp


def _check_text(path: Path, head: bytes, *, whole: bool) -> None:
    zero = head.find(b"\x00")
    if zero >= 0:
        raise WorkbenchError(
            f"{path.name}: looks binary (a NUL byte at offset {zero}), not {path.suffix or 'text'} text.",
            hint="Text formats must be UTF-8. Is this a compressed or a different kind of file?",
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if whole or error.start < len(head) - 4:  # a multi-byte character cut by the sniff is fine
            line = head[: error.start].count(b"\n") + 1
            raise WorkbenchError(
                f"{path.name} line {line}: not valid UTF-8 (byte 0x{head[error.start]:02x} at offset {error.start}).",
                hint="Convert the file to UTF-8 first (iconv -f latin1 -t utf-8).",
            ) from None
