"""Open local files, `save_to_disk` folders, the local datasets cache, or (online) a Hub id,
as memory-mapped Arrow `datasets.Dataset`s, one per split.

Parquet is the exception: it is browsed in place (`ParquetRows`: the footer gives rows and
schema at once, pages decode only what they show), and becomes a `datasets.Dataset` only when
something asks `OpenedDataset.splits` for one (a preparation), in a worker.

Nothing half-loaded: every problem raises a `WorkbenchError` naming the file, line or
column before an `OpenedDataset` exists; row counts are checked against our own scan.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core.data import scan
from workbench.core.data.files import (
    FileStamp,
    check_readable,
    data_files_in,
    format_of,
    guess_splits,
    is_builder_cache,
    is_saved_dataset,
    order_splits,
)
from workbench.core.data.rows import ParquetRows, RowSource, rows_of
from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:
    from datasets import Dataset

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
FILE_SUFFIXES = {
    *(".csv", ".tsv", ".json", ".jsonl", ".parquet", ".arrow", ".txt", ".tab", ".ndjson", ".pq", ".text"),
    *(".conll", ".iob", ".bio", ".raw"),
}


@dataclass
class OpenedDataset:
    """What the browser shows and where it came from.

    `rows` is what browsing, search and statistics read (always at hand); `splits` holds the
    `datasets.Dataset`s that preparation needs (for Parquet, built on first access: slow, so
    only in workers).
    """

    source: str
    kind: str  # "files", "saved", "cache" or "hub"
    splits: Mapping[str, Dataset]
    fmt: str = ""
    split_files: dict[str, list[Path]] = field(default_factory=dict)
    stamps: list[FileStamp] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    config: str | None = None
    rows: dict[str, RowSource] = field(default_factory=dict)
    in_place: bool = False  # True when the views read the files themselves (no copy to browse)
    header: bool = True  # False: CSV/TSV without a header row, columns column_1 … column_N

    def __post_init__(self) -> None:
        if not self.rows:
            self.rows = {name: rows_of(dataset) for name, dataset in self.splits.items()}

    @property
    def name(self) -> str:
        """A short name for screens: the file or folder name, or the Hub id."""
        if self.kind == "hub":
            return self.source
        files = [path for paths in self.split_files.values() for path in paths]
        if len(files) == 1:
            return files[0].name
        return Path(self.source).name or self.source

    def num_rows(self, split: str) -> int:
        return self.rows[split].num_rows

    def source_bytes(self, split: str) -> int:
        return sum(_size(path) for path in self.split_files.get(split, []))

    def arrow_bytes(self, split: str) -> int:
        return self.rows[split].arrow_bytes()

    def changed_files(self) -> list[Path]:
        """Files that changed on disk since they were opened (reload to see them)."""
        return [stamp.path for stamp in self.stamps if stamp.changed()]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def default_cache_dir() -> str | None:
    """Read at call time (not at `datasets` import), so tests and users can point it elsewhere."""
    return os.environ.get("HF_DATASETS_CACHE") or None


def datasets_module():
    """`datasets`, quiet: no progress bars or log lines on a terminal the TUI owns."""
    import datasets

    datasets.disable_progress_bars()
    # CRITICAL, not ERROR: a loader's own "Failed to load JSON ..." line would precede the message we give instead
    datasets.logging.set_verbosity(datasets.logging.CRITICAL)
    return datasets


def open_dataset(
    source: str | Path,
    splits: dict[str, list[str | Path]] | None = None,
    *,
    config: str | None = None,
    split: str | None = None,
    cache_dir: str | None = None,
    header: bool = True,
    names: list[str] | None = None,
) -> OpenedDataset:
    """Open `source` (a file, a folder or a Hub id); `splits` overrides the guessed split files;
    `header=False` reads CSV/TSV files whose first line is data (columns `names`, else `column_1` … `column_N`)."""
    cache_dir = cache_dir or default_cache_dir()
    if splits:
        files = {name: [Path(p).expanduser() for p in paths] for name, paths in splits.items() if paths}
        return open_files(files, source=str(source), cache_dir=cache_dir, header=header, names=names)
    text = str(source).strip()
    if not text:
        raise WorkbenchError("No path given.", hint="Type a file, a folder or (online) a Hub id.")
    path = Path(text).expanduser()
    if path.is_dir():
        return open_folder(path, cache_dir=cache_dir, header=header, names=names)
    if path.exists():
        return open_files(guess_splits([path]), source=str(path), cache_dir=cache_dir, header=header, names=names)
    if _looks_like_hub_id(text):
        return open_hub(text, config=config, split=split, cache_dir=cache_dir)
    raise WorkbenchError(f"{path}: no such file or folder.", hint="Check the path; ~ is expanded.")


def _looks_like_hub_id(text: str) -> bool:
    return bool(HUB_ID.match(text)) and Path(text).suffix.lower() not in FILE_SUFFIXES


def open_folder(
    folder: Path, *, cache_dir: str | None = None, header: bool = True, names: list[str] | None = None
) -> OpenedDataset:
    if is_saved_dataset(folder):
        return open_saved(folder)
    if is_builder_cache(folder):
        return open_builder_cache(folder, source=str(folder))
    files = data_files_in(folder)
    if not files:
        raise WorkbenchError(
            f"{folder}: no data files (CSV, TSV, JSON, JSON Lines, Parquet, Arrow or text)"
            " and not a save_to_disk folder."
        )
    return open_files(guess_splits(files), source=str(folder), cache_dir=cache_dir, header=header, names=names)


# -- local files -------------------------------------------------------------------------


def builder_for(fmt: str, columns: list[str] | None = None) -> tuple[str, dict]:
    """The `datasets` builder and its options for one of our formats (`columns`: CSV/TSV without a header)."""
    if fmt in {"csv", "tsv"}:
        return "csv", scan.csv_options(fmt, columns)
    if fmt in {"json", "jsonl"}:
        return "json", {}
    if fmt == "text":
        return "text", {"encoding": "utf-8-sig"}
    return fmt, {}


def open_files(
    split_files: dict[str, list[Path]],
    *,
    source: str,
    cache_dir: str | None = None,
    header: bool = True,
    names: list[str] | None = None,
) -> OpenedDataset:
    all_files = [path for paths in split_files.values() for path in paths]
    if not all_files:
        raise WorkbenchError("No files to open.")
    formats = {}
    for path in all_files:
        if not path.exists():
            raise WorkbenchError(f"{path}: no such file.", hint="Check the path; ~ is expanded.")
    parallel = _special_format(all_files)
    if parallel is not None and parallel.NAME == "parallel":  # train.en: no extension of ours to check
        stamps = [FileStamp.of(path) for path in all_files]
        splits = {name: parallel.read_files(paths) for name, paths in split_files.items()}
        return OpenedDataset(
            source=source,
            kind="files",
            splits=order_splits(splits),
            fmt=parallel.NAME,
            split_files=split_files,
            stamps=stamps,
            header=header,
        )
    for path in all_files:
        formats[path] = format_of(path)
    kinds = {"jsonl" if fmt == "json" else fmt for fmt in formats.values()}
    if len(kinds) > 1:
        listing = ", ".join(f"{path.name} ({fmt})" for path, fmt in formats.items())
        raise WorkbenchError(f"The splits mix file formats: {listing}.", hint="Open files of one format together.")
    fmt = formats[all_files[0]]
    if not header and fmt not in {"csv", "tsv"}:
        raise WorkbenchError(f"'No header row' applies to CSV and TSV files, not {fmt.upper()}.")
    stamps = [check_readable(path, formats[path]) for path in all_files]
    special = _special_format(all_files)
    if special is not None:
        splits = {name: special.read_files(paths) for name, paths in split_files.items()}
        return OpenedDataset(
            source=source,
            kind="files",
            splits=order_splits(splits),
            fmt=special.NAME,
            split_files=split_files,
            stamps=stamps,
            header=header,
        )
    if fmt == "parquet":
        return open_parquet(split_files, source=source, stamps=stamps, cache_dir=cache_dir)
    if fmt == "json":
        fmt = _json_flavour(all_files[0])

    expected: dict[str, int] = {}
    columns: list[str] = []
    warnings: list[str] = []
    for split_name, paths in split_files.items():
        total = 0
        for path in paths:
            result = _scan(path, fmt, header)
            if result is None:
                total = -1
                break
            total += result.records
            columns = columns or result.header
            warnings.extend(
                f"{path.name} line {line}, column {column!r}: a cell of {chars / 2**20:.1f} MB (shown truncated)."
                for line, column, chars in result.big_cells
            )
        expected[split_name] = total

    if not header and names:
        columns = scan.checked_names(names, columns)
    builder, options = builder_for(fmt, None if header else columns)
    datasets = datasets_module()
    try:
        loaded = datasets.load_dataset(
            builder,
            data_files={name: [str(path) for path in paths] for name, paths in split_files.items()},
            cache_dir=cache_dir,
            **options,
        )
    except Exception as error:  # datasets wraps pandas/pyarrow errors; name the file and line instead
        raise WorkbenchError(scan.diagnose_load_error(split_files, fmt, error)) from None

    _check_unchanged(stamps)
    splits = order_splits(dict(loaded.items()))
    for split_name, dataset in splits.items():
        want = expected.get(split_name, -1)
        if want >= 0 and dataset.num_rows != want:
            names = ", ".join(path.name for path in split_files[split_name])
            raise WorkbenchError(
                f"{names}: {dataset.num_rows} rows were parsed but the file has {want} records;"
                " refusing a dataset with merged or dropped rows.",
                hint="Unbalanced quotes are the usual cause; TSV files are read without quoting.",
            )
        splits[split_name] = _strip_bom(dataset)
        if fmt in {"json", "jsonl"} and any(type(f).__name__ == "Json" for f in dataset.features.values()):
            # A field whose type changes between rows loads as a Json column: say where.
            for path in split_files[split_name]:
                problem = scan.diagnose_jsonl(path) if fmt == "jsonl" else None
                if problem:
                    warnings.append(problem)
    return OpenedDataset(
        source=source,
        kind="files",
        splits=splits,
        fmt=fmt,
        split_files=split_files,
        stamps=stamps,
        warnings=warnings,
        header=header,
    )


def _special_format(files: list[Path]):
    """The task-shaped format (CoNLL, SQuAD, …) all these files share, or None."""
    from workbench.core.data.formats import sniff_format

    found = {sniff_format(path) for path in files}
    if len(found) == 1 and None not in found:
        return found.pop()
    return None


def open_parquet(
    split_files: dict[str, list[Path]], *, source: str, stamps: list[FileStamp], cache_dir: str | None = None
) -> OpenedDataset:
    """Parquet read in place: only the footers now; the `datasets` copy waits until it is needed."""
    stamp_of = {stamp.path: stamp for stamp in stamps}
    rows = {
        name: ParquetRows(paths, [stamp_of[path] for path in paths])
        for name, paths in order_splits(split_files).items()
    }
    splits = LazySplits(list(rows), lambda: _parquet_datasets(split_files, rows, stamps, cache_dir))
    return OpenedDataset(
        source=source,
        kind="files",
        splits=splits,
        fmt="parquet",
        split_files=split_files,
        stamps=stamps,
        rows=rows,
        in_place=True,
    )


def _parquet_datasets(
    split_files: dict[str, list[Path]], rows: dict[str, RowSource], stamps: list[FileStamp], cache_dir: str | None
) -> dict[str, Dataset]:
    """The memory-mapped `datasets` copy of Parquet splits (converted once; the cache is reused)."""
    _check_unchanged_since_open(stamps)
    datasets = datasets_module()
    try:
        loaded = datasets.load_dataset(
            "parquet",
            data_files={name: [str(path) for path in paths] for name, paths in split_files.items()},
            cache_dir=cache_dir,
        )
    except Exception as error:
        raise WorkbenchError(scan.diagnose_load_error(split_files, "parquet", error)) from None
    _check_unchanged_since_open(stamps)
    splits = {}
    for name, source in rows.items():
        dataset = loaded[name]
        if dataset.num_rows != source.num_rows:
            raise WorkbenchError(
                f"Split {name!r}: {dataset.num_rows} rows were converted but the files hold {source.num_rows}."
            )
        splits[name] = dataset
    return splits


class LazySplits(Mapping):
    """Split names now, `datasets.Dataset`s on first access (built once, thread-safe)."""

    def __init__(self, names: list[str], build: Callable[[], dict[str, Dataset]]) -> None:
        self._names = list(names)
        self._build = build
        self._built: dict[str, Dataset] | None = None
        self._lock = threading.Lock()

    @property
    def built(self) -> bool:
        return self._built is not None

    def __getitem__(self, name: str) -> Dataset:
        if name not in self._names:
            raise KeyError(name)
        with self._lock:
            if self._built is None:
                self._built = self._build()
        return self._built[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names  # Mapping's default would look the value up (and convert)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"LazySplits({self._names}, built={self.built})"


def _json_flavour(path: Path) -> str:
    """A .json file holding one array is "json"; one object a line is "jsonl"."""
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "json" if head.startswith(b"[") else "jsonl"


def _scan(path: Path, fmt: str, header: bool = True) -> scan.ScanResult | None:
    if fmt in {"csv", "tsv"}:
        return scan.scan_csv(path, fmt, header)
    if fmt == "text":
        return scan.scan_lines(path)
    if fmt == "jsonl":
        return scan.scan_jsonl(path)
    return None  # JSON arrays, Parquet and Arrow carry their own structure


def _check_unchanged(stamps: list[FileStamp]) -> None:
    changed = [stamp.path.name for stamp in stamps if stamp.changed()]
    if changed:
        raise WorkbenchError(
            f"{', '.join(changed)} changed while it was being loaded; nothing was opened.",
            hint="Open it again once it is written completely.",
        )


def _check_unchanged_since_open(stamps: list[FileStamp]) -> None:
    changed = [stamp.path.name for stamp in stamps if stamp.changed()]
    if changed:
        raise WorkbenchError(
            f"{', '.join(changed)} changed on disk since it was opened.", hint="Reload it (r), then try again."
        )


def _strip_bom(dataset: Dataset) -> Dataset:
    first = dataset.column_names[0] if dataset.column_names else ""
    if first.startswith(scan.BOM):
        return dataset.rename_column(first, first.lstrip(scan.BOM))
    return dataset


# -- save_to_disk folders and the local datasets cache -----------------------------------


def open_saved(folder: Path) -> OpenedDataset:
    datasets = datasets_module()
    try:
        loaded = datasets.load_from_disk(str(folder))
    except Exception as error:
        raise WorkbenchError(f"{folder.name}: not a readable save_to_disk folder ({error}).") from None
    splits = order_splits(dict(loaded.items())) if isinstance(loaded, datasets.DatasetDict) else {"train": loaded}
    stamps = [FileStamp.of(path) for path in sorted(folder.rglob("*")) if path.is_file()]
    split_files = {name: [Path(entry["filename"]) for entry in dataset.cache_files] for name, dataset in splits.items()}
    return OpenedDataset(str(folder), "saved", splits, fmt="arrow", split_files=split_files, stamps=stamps)


ARROW_SPLIT = re.compile(r"^(?P<builder>.+?)-(?P<split>[A-Za-z0-9_.]+?)(-\d{5}-of-\d{5})?\.arrow$")


def open_builder_cache(folder: Path, *, source: str) -> OpenedDataset:
    """A folder of the datasets cache (`<builder>-<split>[-NNNNN-of-NNNNN].arrow`), memory-mapped."""
    datasets = datasets_module()
    by_split: dict[str, list[Path]] = {}
    for path in sorted(folder.glob("*.arrow")):
        match = ARROW_SPLIT.match(path.name)
        if match:
            by_split.setdefault(match["split"], []).append(path)
    if not by_split:
        raise WorkbenchError(f"{folder}: no <name>-<split>.arrow files.")
    info = datasets.DatasetInfo.from_directory(str(folder))
    splits = {}
    for name, paths in order_splits(by_split).items():
        parts = [datasets.Dataset.from_file(str(path), info=info, split=name) for path in paths]
        splits[name] = parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
    stamps = [FileStamp.of(path) for paths in by_split.values() for path in paths]
    return OpenedDataset(source, "cache", splits, fmt="arrow", split_files=by_split, stamps=stamps)


@dataclass(frozen=True)
class CacheEntry:
    """One prepared dataset in the local datasets cache."""

    name: str  # "nyu-mll/glue (mrpc)" or "csv (default-…)"
    folder: Path
    splits: tuple[str, ...]
    size: int


def list_cache(cache_dir: str | None = None) -> list[CacheEntry]:
    """Datasets prepared in the local cache (no network; walks at most five levels)."""
    root = Path(cache_dir or default_cache_dir() or Path.home() / ".cache" / "huggingface" / "datasets")
    if not root.is_dir():
        return []
    entries = []
    for info in sorted(root.glob("*/*/*/*/dataset_info.json")):
        folder = info.parent
        arrows = sorted(folder.glob("*.arrow"))
        splits = sorted({m["split"] for m in (ARROW_SPLIT.match(p.name) for p in arrows) if m})
        if not splits:
            continue
        relative = folder.relative_to(root).parts
        dataset_name = relative[0].replace("___", "/")
        entries.append(
            CacheEntry(f"{dataset_name} ({relative[1]})", folder, tuple(splits), sum(_size(p) for p in arrows))
        )
    return entries


def find_in_cache(hub_id: str, config: str | None, cache_dir: str | None) -> CacheEntry | None:
    wanted = hub_id.replace("/", "___")
    short = hub_id.split("/")[-1]
    for entry in list_cache(cache_dir):
        parts = entry.folder.relative_to(entry.folder.parents[3]).parts
        name_matches = parts[0] == wanted or parts[0].split("___")[-1] == short
        if name_matches and (config is None or parts[1] == config):
            return entry
    return None


def open_hub(hub_id: str, *, config: str | None, split: str | None, cache_dir: str | None) -> OpenedDataset:
    """A Hub id: from the local cache when it is there, else fetched (only when online)."""
    from workbench.core.hub.status import require_online

    cached = find_in_cache(hub_id, config, cache_dir)
    if cached is not None:
        opened = open_builder_cache(cached.folder, source=hub_id)
        opened.config = config
        if split:
            if split not in opened.splits:
                raise WorkbenchError(f"{hub_id}: no split {split!r}; the cache has {', '.join(opened.splits)}.")
            opened.splits = {split: opened.splits[split]}
            opened.rows = {split: opened.rows[split]}
        return opened
    require_online(hub_id)
    datasets = datasets_module()
    try:
        loaded = datasets.load_dataset(hub_id, config, split=split, cache_dir=cache_dir)
    except Exception as error:
        raise WorkbenchError(f"{hub_id}: could not be loaded from the Hub ({str(error).splitlines()[0]}).") from None
    splits = {split: loaded} if split else dict(loaded.items())
    return OpenedDataset(hub_id, "hub", splits, fmt="arrow", config=config)
