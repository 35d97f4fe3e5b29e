"""Row sources: one split's columns and rows as Arrow tables, read on demand.

Browsing, search, filters and statistics read rows through a `RowSource`, so they work the
same on a memory-mapped `datasets.Dataset` (`DatasetRows`) and on Parquet files read in place
(`ParquetRows`). Reading Parquet in place is what makes a large file open at once: the footer
gives the row count and the schema, a page decodes only the start of one row group, and
nothing is converted until a preparation needs a real `datasets.Dataset`.
"""

from __future__ import annotations

import bisect
import json
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.core.data.features import describe_arrow_type, describe_class_label, describe_feature
from workbench.core.data.files import FileStamp
from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:
    import pyarrow as pa
    from datasets import Dataset

# Parquet row groups are decoded in chunks of this many rows, only as far as a page needs,
# and the chunks are kept while they fit the budget (least recently used go first), so
# scrolling near a spot costs nothing after the first page, whatever the row group size.
CHUNK_ROWS = 4_096
DECODED_BUDGET_BYTES = 24 * 2**20
# Decoding this many chunks is quick enough for the UI thread (a few milliseconds); more is
# left to a worker (`RowSource.cheap`).
CHEAP_CHUNKS = 2
# Read column chunks as a stream of this many bytes, not whole (pyarrow's pre_buffer): a scan
# of a large file then holds a few megabytes at a time.
READ_BUFFER_BYTES = 2**20


class RowSource(ABC):
    """What the browser, search and statistics need from one split."""

    @property
    @abstractmethod
    def num_rows(self) -> int: ...

    @property
    @abstractmethod
    def schema(self) -> pa.Schema: ...

    @property
    def column_names(self) -> list[str]:
        return list(self.schema.names)

    @abstractmethod
    def slice(self, start: int, stop: int, columns: list[str] | None = None) -> pa.Table:
        """Rows `start` .. `stop` (clipped to the split)."""

    @abstractmethod
    def take(self, positions: Sequence[int], columns: list[str] | None = None) -> pa.Table:
        """The rows at `positions`, in that order."""

    @abstractmethod
    def batches(self, columns: list[str], batch_rows: int) -> Iterator[pa.Table]:
        """All rows of `columns`, in order, a bounded batch at a time (memory stays flat)."""

    @abstractmethod
    def column(self, name: str) -> pa.ChunkedArray:
        """One whole column (for statistics over a split)."""

    @abstractmethod
    def feature_kind(self, name: str) -> str:
        """The `datasets` feature type name of a column: "Value", "ClassLabel", "List", "Json" …"""

    @abstractmethod
    def class_names(self, name: str) -> list[str] | None:
        """The names of a class-label column, else None."""

    @abstractmethod
    def describe_columns(self) -> dict[str, str]:
        """Readable types, column by column ("string", "list<int32>", "class label (2: no, yes)")."""

    def arrow_bytes(self) -> int:
        """Bytes of Arrow cache files behind this split (0 when it is read in place)."""
        return 0

    def cheap(self, start: int, stop: int) -> bool:
        """Whether `slice(start, stop)` answers without decoding much (a UI thread may call it)."""
        return True

    def cheap_take(self, positions: Sequence[int]) -> bool:
        return True


def rows_of(data) -> RowSource:
    """A `RowSource` for a `datasets.Dataset` (or the source itself)."""
    return data if isinstance(data, RowSource) else DatasetRows(data)


class DatasetRows(RowSource):
    """A memory-mapped `datasets.Dataset`, read through its Arrow format."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._arrow = None

    def _view(self, columns: list[str] | None):
        if columns is None:
            if self._arrow is None:
                self._arrow = self.dataset.with_format("arrow")
            return self._arrow
        return self.dataset.with_format("arrow", columns=columns)

    @property
    def num_rows(self) -> int:
        return self.dataset.num_rows

    @property
    def schema(self) -> pa.Schema:
        return self.dataset.features.arrow_schema

    @property
    def column_names(self) -> list[str]:
        return list(self.dataset.column_names)

    def slice(self, start, stop, columns=None):
        return self._view(columns)[max(0, start) : max(0, stop)]

    def take(self, positions, columns=None):
        return self._view(columns)[[int(position) for position in positions]]

    def batches(self, columns, batch_rows):
        view = self._view(columns)
        for start in range(0, self.num_rows, batch_rows):
            yield view[start : start + batch_rows]

    def column(self, name):
        import pyarrow as pa

        values = self._view([name])[:][name]
        return values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])

    def feature_kind(self, name):
        return type(self.dataset.features[name]).__name__

    def class_names(self, name):
        feature = self.dataset.features[name]
        return list(feature.names) if type(feature).__name__ == "ClassLabel" else None

    def describe_columns(self):
        return {name: describe_feature(feature) for name, feature in self.dataset.features.items()}

    def arrow_bytes(self) -> int:
        total = 0
        for entry in self.dataset.cache_files:
            try:
                total += Path(entry["filename"]).stat().st_size
            except OSError:
                continue
        return total


class ParquetRows(RowSource):
    """Parquet files (the shards of one split) read in place with pyarrow, row group by row group.

    Opening reads only the footers. A page decodes the start of one row group up to the rows
    it shows (in `CHUNK_ROWS` chunks, kept within `DECODED_BUDGET_BYTES`); scans stream the
    requested columns. A file that changes on disk is refused from then on, with its name.
    """

    def __init__(self, paths: list[Path], stamps: list[FileStamp] | None = None) -> None:
        self.paths = list(paths)
        self.stamps = stamps or [FileStamp.of(path) for path in self.paths]
        self._files = []
        for path in self.paths:
            try:
                self._files.append(_parquet_file(path))
            except Exception as error:  # pyarrow raises ArrowInvalid/OSError for a broken footer
                raise WorkbenchError(f"{path.name}: not a readable Parquet file ({_first_line(error)}).") from None
        self._schema = self._files[0].schema_arrow
        for path, handle in zip(self.paths[1:], self._files[1:]):
            if not handle.schema_arrow.equals(self._schema, check_metadata=False):
                raise WorkbenchError(
                    f"{path.name}: its columns differ from {self.paths[0].name}'s"
                    f" ({', '.join(handle.schema_arrow.names)} vs {', '.join(self._schema.names)}).",
                    hint="Shards of one split must share one schema.",
                )
        # (file index, row group index) of every row group, and the first row of each.
        self._groups: list[tuple[int, int]] = []
        self._group_starts: list[int] = []
        total = 0
        for file_index, handle in enumerate(self._files):
            metadata = handle.metadata
            for group in range(metadata.num_row_groups):
                self._groups.append((file_index, group))
                self._group_starts.append(total)
                total += metadata.row_group(group).num_rows
        self._num_rows = total
        self._class_names = _class_labels_in(self._schema)
        # Decoded chunks by (row group, chunk number), least recently used first; one reader,
        # of the row group pages last read (its dictionaries and buffers are megabytes).
        self._chunks: OrderedDict[tuple[int, int], pa.RecordBatch] = OrderedDict()
        self._chunk_bytes = 0
        self._reader: _GroupReader | None = None
        self._lock = threading.Lock()

    @property
    def num_rows(self) -> int:
        return self._num_rows

    @property
    def schema(self) -> pa.Schema:
        return self._schema

    # -- pages ------------------------------------------------------------------------------
    def slice(self, start, stop, columns=None):
        start, stop = max(0, start), min(self._num_rows, stop)
        if start >= stop:
            return self._schema.empty_table().select(columns or self.column_names)
        pieces = []
        position = start
        with self._lock:
            while position < stop:
                group = bisect.bisect_right(self._group_starts, position) - 1
                group_start = self._group_starts[group]
                group_stop = group_start + self._group_rows(group)
                take = min(stop, group_stop) - position
                pieces.append(self._group_slice(group, position - group_start, take))
                position += take
        return _joined(pieces, columns)

    def take(self, positions, columns=None):
        pieces = []
        run_start = run_stop = None
        for position in (int(p) for p in positions):
            if position < 0 or position >= self._num_rows:
                raise IndexError(f"row {position} is out of range (0 .. {self._num_rows - 1})")
            if run_stop is not None and position == run_stop:
                run_stop += 1
                continue
            if run_start is not None:
                pieces.append(self.slice(run_start, run_stop, columns))
            run_start, run_stop = position, position + 1
        if run_start is not None:
            pieces.append(self.slice(run_start, run_stop, columns))
        if not pieces:
            return self._schema.empty_table().select(columns or self.column_names)
        return _joined(pieces, None)

    def cheap(self, start, stop):
        start, stop = max(0, start), min(self._num_rows, stop)
        if self._lock.locked():
            return start >= stop  # a page is being decoded: wait for it off this thread
        position = start
        while position < stop:
            group, offset = self._locate(position)
            if not self._chunk_is_cheap(group, offset // CHUNK_ROWS):
                return False
            position += CHUNK_ROWS - offset % CHUNK_ROWS
        return True

    def cheap_take(self, positions):
        if self._lock.locked():
            return len(positions) == 0
        return all(
            self._chunk_is_cheap(group, offset // CHUNK_ROWS)
            for group, offset in map(self._locate, map(int, positions))
        )

    def _locate(self, position: int) -> tuple[int, int]:
        group = bisect.bisect_right(self._group_starts, position) - 1
        return group, position - self._group_starts[group]

    def _chunk_is_cheap(self, group: int, number: int) -> bool:
        """Cached, or at most CHEAP_CHUNKS ahead of the reader or of the start of its group."""
        if (group, number) in self._chunks:
            return True
        reader = self._reader
        next_chunk = reader.next_chunk if reader is not None and reader.group == group else 0
        return number < CHEAP_CHUNKS or next_chunk <= number < next_chunk + CHEAP_CHUNKS

    def _group_rows(self, group: int) -> int:
        file_index, group_index = self._groups[group]
        return self._files[file_index].metadata.row_group(group_index).num_rows

    def _group_slice(self, group: int, offset: int, count: int) -> pa.Table:
        """Rows `offset` .. `offset + count` of one row group, from decoded chunks."""
        import pyarrow as pa

        first, last = offset // CHUNK_ROWS, (offset + count - 1) // CHUNK_ROWS
        batches = [self._chunk(group, number, keep=range(first, last + 1)) for number in range(first, last + 1)]
        return pa.Table.from_batches(batches).slice(offset - first * CHUNK_ROWS, count)

    def _chunk(self, group: int, number: int, keep: range):
        """Chunk `number` of a row group: cached, or decoded by reading on from where the group's
        reader is (a reader that has passed it, or none, starts again at the group's start)."""
        batch = self._chunks.get((group, number))
        if batch is not None:
            self._chunks.move_to_end((group, number))
            return batch
        reader = self._reader if self._reader is not None and self._reader.group == group else None
        if reader is None or reader.next_chunk > number:
            file_index, group_index = self._groups[group]
            self._check_unchanged(file_index)
            reader = self._reader = _GroupReader(self.paths[file_index], self._files[file_index], group, group_index)
        while reader.next_chunk <= number:
            chunk_number, decoded = reader.next_chunk, reader.read()
            self._chunks[(group, chunk_number)] = decoded
            self._chunk_bytes += decoded.get_total_buffer_size()
            self._forget_beyond_budget(keep_group=group, keep=keep)
        if reader.done:
            self._reader = None  # all decoded: its dictionaries and read buffers can go
        return self._chunks[(group, number)]

    def _forget_beyond_budget(self, keep_group: int, keep: range) -> None:
        """Drop the least recently used chunks beyond the budget (never those of this page).

        Their memory stays with Arrow's allocator for the next chunks: handing it back to the
        system here (as scans do) would double the CPU time of a far page."""
        for key in list(self._chunks):
            if self._chunk_bytes <= DECODED_BUDGET_BYTES:
                break
            if key[0] == keep_group and key[1] in keep:
                continue
            self._chunk_bytes -= self._chunks.pop(key).get_total_buffer_size()

    # -- scans ------------------------------------------------------------------------------
    def batches(self, columns, batch_rows):
        import pyarrow as pa

        for file_index, path in enumerate(self.paths):
            self._check_unchanged(file_index)
            # A reader of its own: scans run in workers while the table pages on the UI thread.
            reader = _parquet_file(path, metadata=self._files[file_index].metadata)
            try:
                for batch in reader.iter_batches(batch_size=batch_rows, columns=columns):
                    yield pa.Table.from_batches([batch])
                    _release_unused()  # a scan frees every batch: ~15 MB less RSS for ~15% more CPU
            except (OSError, pa.ArrowException) as error:
                raise WorkbenchError(f"{path.name}: could not be read ({_first_line(error)}).") from None
            finally:
                reader.close()
                _release_unused()

    def column(self, name):
        import pyarrow as pa

        chunks = [table.column(name) for table in self.batches([name], 65_536)]
        field = self._schema.field(name)
        return pa.chunked_array([chunk for values in chunks for chunk in values.chunks], type=field.type)

    # -- types ------------------------------------------------------------------------------
    def feature_kind(self, name):
        import pyarrow as pa

        if name in self._class_names:
            return "ClassLabel"
        kind = self._schema.field(name).type
        if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
            return "List"
        if pa.types.is_struct(kind):
            return "dict"
        return "Value"

    def class_names(self, name):
        names = self._class_names.get(name)
        return list(names) if names is not None else None

    def describe_columns(self):
        return {
            field.name: describe_class_label(self._class_names[field.name])
            if field.name in self._class_names
            else describe_arrow_type(field.type)
            for field in self._schema
        }

    def _check_unchanged(self, file_index: int) -> None:
        stamp = self.stamps[file_index]
        if stamp.changed():
            raise WorkbenchError(
                f"{stamp.path.name} changed on disk since it was opened;"
                " it is read in place, so it is not read any more.",
                hint="Reload it (r) to see the new version.",
            )

    def close(self) -> None:
        for handle in self._files:
            handle.close()
        self._chunks.clear()
        self._reader = None


class _GroupReader:
    """Decodes one Parquet row group from its start, a chunk at a time."""

    def __init__(self, path: Path, handle, group: int, group_index: int) -> None:
        self.path = path
        self.group = group
        self.group_index = group_index
        self.rows = handle.metadata.row_group(group_index).num_rows
        self.next_chunk = 0
        self._batches = handle.iter_batches(batch_size=CHUNK_ROWS, row_groups=[group_index], use_threads=False)

    @property
    def done(self) -> bool:
        return self.next_chunk * CHUNK_ROWS >= self.rows

    def read(self) -> pa.RecordBatch:
        import pyarrow as pa

        try:
            batch = next(self._batches)
        except StopIteration:
            raise WorkbenchError(
                f"{self.path.name}: row group {self.group_index} ended early; is the file being rewritten?"
            ) from None
        except (OSError, pa.ArrowException) as error:
            raise WorkbenchError(
                f"{self.path.name}: row group {self.group_index} could not be read ({_first_line(error)})."
            ) from None
        self.next_chunk += 1
        return batch


def _parquet_file(path: Path, metadata=None):
    import pyarrow.parquet as pq

    return pq.ParquetFile(path, metadata=metadata, pre_buffer=False, buffer_size=READ_BUFFER_BYTES)


def _release_unused() -> None:
    """Hand memory that Arrow's allocator keeps after a batch or a row group back to the system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


def _joined(pieces: list, columns: list[str] | None):
    import pyarrow as pa

    table = pieces[0] if len(pieces) == 1 else pa.concat_tables(pieces)
    return table.select(columns) if columns is not None else table


def _class_labels_in(schema) -> dict[str, list[str]]:
    """Class-label names that `datasets` stores in a Parquet file's schema metadata."""
    raw = (schema.metadata or {}).get(b"huggingface")
    if not raw:
        return {}
    try:
        features = json.loads(raw).get("info", {}).get("features", {})
    except (ValueError, AttributeError):
        return {}
    if not isinstance(features, dict):
        return {}
    return {
        name: [str(label) for label in feature["names"]]
        for name, feature in features.items()
        if isinstance(feature, dict) and feature.get("_type") == "ClassLabel" and isinstance(feature.get("names"), list)
    }


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
