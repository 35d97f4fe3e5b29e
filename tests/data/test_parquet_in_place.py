"""Parquet browsed in place: footers on open, row groups decoded on demand, `datasets` only when asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.core.data import rows as rows_module
from workbench.core.data import stats
from workbench.core.data.codegen import preparation_code
from workbench.core.data.describe import dataset_info
from workbench.core.data.labels import infer_labels
from workbench.core.data.loading import LazySplits, open_dataset
from workbench.core.data.paging import RowPager
from workbench.core.data.prepare import PreparePlan
from workbench.core.data.rows import DatasetRows, ParquetRows
from workbench.core.data.search import iter_filter, iter_search
from workbench.core.errors import WorkbenchError

ROOT = Path(__file__).resolve().parents[2]


def make_table(start: int, count: int) -> pa.Table:
    ids = np.arange(start, start + count)
    return pa.table(
        {
            "id": ids,
            "text": [f"row {i} {'ocean' if i % 7 == 0 else 'river'} words" for i in ids],
            "label": [["neg", "pos"][i % 2] for i in ids],
            "score": ids / 10,
        }
    )


@pytest.fixture
def sharded(tmp_path) -> tuple[Path, pa.Table]:
    """Two shards of one split, 1,000 rows in row groups of 150 (so pages cross groups and files)."""
    folder = tmp_path / "sharded"
    folder.mkdir()
    pq.write_table(make_table(0, 600), folder / "train-00000-of-00002.parquet", row_group_size=150)
    pq.write_table(make_table(600, 400), folder / "train-00001-of-00002.parquet", row_group_size=150)
    pq.write_table(make_table(5000, 10), folder / "test.parquet")
    return folder, pa.concat_tables([make_table(0, 600), make_table(600, 400)])


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 32 rows and room for about two row groups, so eviction and resuming happen."""
    monkeypatch.setattr(rows_module, "CHUNK_ROWS", 32)
    monkeypatch.setattr(rows_module, "DECODED_BUDGET_BYTES", 2 * make_table(0, 150).get_total_buffer_size())


def test_open_reads_footers_and_pages_match_the_file(sharded, small_chunks):
    folder, whole = sharded
    opened = open_dataset(folder)
    assert opened.in_place and opened.fmt == "parquet"
    assert isinstance(opened.splits, LazySplits) and not opened.splits.built
    assert {name: opened.num_rows(name) for name in opened.rows} == {"train": 1000, "test": 10}
    rows = opened.rows["train"]
    assert isinstance(rows, ParquetRows)
    expected = whole.to_pylist()
    for start in (0, 140, 590, 595, 960, 999, 300, 10):  # across groups, across files, backwards
        assert rows.slice(start, start + 40).to_pylist() == expected[start : start + 40]
    positions = [999, 0, 151, 152, 153, 600, 42]
    assert rows.take(positions).to_pylist() == [expected[p] for p in positions]
    assert rows.slice(990, 2000).num_rows == 10
    assert "train" in opened.splits and "dev" not in opened.splits and list(opened.splits) == ["train", "test"]
    assert not opened.splits.built, "browsing (and asking which splits there are) must not convert the files"


def test_cheap_says_which_reads_can_run_on_the_ui_thread(sharded, small_chunks):
    rows = open_dataset(sharded[0]).rows["train"]
    assert rows.cheap(0, 40) and rows.cheap(600, 640)  # the first chunks of a row group
    assert not rows.cheap(140, 150) and not rows.cheap_take([3, 999])  # far into a group
    rows.slice(140, 150)
    assert rows.cheap(140, 150) and rows.cheap(150 - 1, 150 + 10)  # decoded, and the next group's start
    pager = RowPager(rows)
    assert not pager.ready(980, 20)
    pager.rows(980, 20)
    assert pager.ready(980, 20)


def test_the_pager_search_filter_and_statistics_agree_with_datasets(sharded):
    folder, whole = sharded
    opened = open_dataset(folder)
    in_place = opened.rows["train"]
    converted = DatasetRows(opened.splits["train"])  # the datasets copy, built on demand
    assert opened.splits.built and converted.num_rows == in_place.num_rows

    assert RowPager(in_place).rows(590, 20) == RowPager(converted).rows(590, 20)
    found = np.concatenate([step.matches for step in iter_search(in_place, "OCEAN", batch_rows=64)])
    assert found.tolist() == [i for i in range(1000) if i % 7 == 0]
    assert np.array_equal(found, np.concatenate([s.matches for s in iter_search(converted, "OCEAN")]))
    high = np.concatenate([step.matches for step in iter_filter(in_place, "score", ">", "95.5")])
    assert high.tolist() == list(range(956, 1000))
    assert stats.label_distribution(in_place, "label") == [("neg", 500), ("pos", 500)]
    assert np.array_equal(stats.char_lengths(in_place, "text"), stats.char_lengths(converted, "text"))


def test_info_describes_parquet_without_converting(sharded):
    folder, _ = sharded
    opened = open_dataset(folder)
    info = dataset_info(opened)
    assert info["features"] == {"id": "int64", "text": "string", "label": "string", "score": "float64"}
    assert (info["text_column"], info["label_column"], info["label_names"]) == ("text", "label", ["neg", "pos"])
    assert info["splits"]["train"]["files"] == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]
    code = preparation_code(
        opened, PreparePlan("text", None, "label"), infer_labels(opened.rows["train"], "label"), "model"
    )
    assert "load_dataset('parquet', data_files=data_files)" in code and "train_test_split" in code
    assert not opened.splits.built


def test_class_labels_written_by_datasets_are_read_from_the_schema(tmp_path):
    import datasets

    data = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "label": [2, 0, 1]})
    data = data.cast_column("label", datasets.ClassLabel(names=["x", "y", "z"]))
    data.to_parquet(str(tmp_path / "labelled.parquet"))
    opened = open_dataset(tmp_path / "labelled.parquet")
    rows = opened.rows["train"]
    assert rows.class_names("label") == ["x", "y", "z"] and rows.feature_kind("label") == "ClassLabel"
    info = dataset_info(opened)
    assert info["features"]["label"] == "class label (3: x, y, z)"
    assert info["label_names"] == ["x", "y", "z"]
    assert np.concatenate([s.matches for s in iter_filter(rows, "label", "==", "z")]).tolist() == [0]
    assert stats.label_distribution(rows, "label") == [("x", 1), ("y", 1), ("z", 1)]


def test_opening_parquet_does_not_import_datasets(sharded):
    """The first open in a fresh app pays only for pyarrow: `datasets` waits for a preparation."""
    folder, _ = sharded
    code = (
        "import sys\n"
        "from workbench.core.data.describe import dataset_info\n"
        "from workbench.core.data.loading import open_dataset\n"
        "from workbench.core.data.paging import RowPager\n"
        "opened = open_dataset(sys.argv[1])\n"
        "dataset_info(opened)\n"
        "RowPager(opened.rows['train']).rows(0, 40)\n"
        "print('datasets' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(folder)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    assert result.stdout.strip() == "False"


def test_a_parquet_file_that_changes_while_open_is_not_read_any_more(tmp_path, small_chunks):
    path = tmp_path / "live.parquet"
    pq.write_table(make_table(0, 600), path, row_group_size=150)
    opened = open_dataset(path)
    rows = opened.rows["train"]
    assert rows.slice(0, 10).num_rows == 10
    pq.write_table(make_table(0, 700), path, row_group_size=100)
    os.utime(path, ns=(1, 1))  # a different stamp even on a coarse clock
    assert opened.changed_files() == [path]
    with pytest.raises(WorkbenchError, match="live.parquet changed on disk since it was opened"):
        rows.slice(500, 510)
    with pytest.raises(WorkbenchError, match="live.parquet changed on disk"):
        list(iter_search(rows, "ocean"))
    with pytest.raises(WorkbenchError, match="live.parquet changed on disk since it was opened"):
        opened.splits["train"]


def test_broken_and_mismatched_parquet_files_are_named(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    with pytest.raises(WorkbenchError, match=r"broken.parquet: not a readable Parquet file"):
        open_dataset(tmp_path / "broken.parquet")

    shards = tmp_path / "shards"
    shards.mkdir()
    pq.write_table(make_table(0, 5), shards / "train-0.parquet")
    pq.write_table(make_table(5, 5).drop_columns(["score"]), shards / "train-1.parquet")
    with pytest.raises(WorkbenchError, match=r"train-1.parquet: its columns differ from train-0.parquet's"):
        open_dataset(shards)


def test_an_empty_parquet_file_opens_with_no_rows(tmp_path):
    pq.write_table(make_table(0, 1).slice(0, 0), tmp_path / "empty.parquet")
    opened = open_dataset(tmp_path / "empty.parquet")
    assert opened.num_rows("train") == 0
    assert RowPager(opened.rows["train"]).rows(0, 40) == []
    assert [step.done for step in iter_search(opened.rows["train"], "x")] == [0]
