"""The runs directory's caches: tokenized data reused between runs, torch.compile's cache wiring."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.training.helpers import run_child
from workbench.core.runs import protocol
from workbench.training import caches


def _prepare(spec, run_dir, logged, *, write=True):
    from transformers import AutoTokenizer

    from workbench.core.tasks import get_task

    task = get_task(spec["model"]["head"])
    model_path = spec["model"]["name_or_path"]
    tokenizer = AutoTokenizer.from_pretrained(model_path)

    def log(message, level="info"):
        logged.append(message)

    def prepare():
        return task.prepare(task.load_raw(spec["data"]), spec, tokenizer)

    return caches.prepare_cached(spec, tokenizer, task, model_path, run_dir, prepare, log, write=write)


def _ids(prepared):
    return prepared.train["input_ids"], prepared.validation["input_ids"]


@pytest.fixture
def data_copy(tiny_data, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("train", "dev"):
        shutil.copy2(tiny_data[name], folder / f"{name}.csv")
    return folder


@pytest.fixture
def spec(tiny_spec, data_copy):
    tiny_spec["data"].update(train_file=str(data_copy / "train.csv"), validation_file=str(data_copy / "dev.csv"))
    return tiny_spec


def test_a_second_prepare_hits_the_cache_and_gives_the_same_rows(spec, tmp_path):
    runs = tmp_path / "runs"
    first_log, second_log = [], []
    first = _prepare(spec, runs / "run-1", first_log)
    second = _prepare(spec, runs / "run-2", second_log)
    assert any("cache miss" in line for line in first_log), first_log
    assert any("cache hit" in line for line in second_log), second_log
    assert _ids(first) == _ids(second)
    assert first.train["labels"] == second.train["labels"]
    assert first.labels == second.labels and first.eval_context == second.eval_context
    key_dirs = list((runs / ".cache" / "tokenized").iterdir())
    assert [path.name[:8] for path in key_dirs] == [second_log[-1].split("(")[1][:8]]  # one complete folder
    # The cached rows are what a run without the cache tokenizes.
    spec["data"]["cache"] = False
    uncached_log = []
    uncached = _prepare(spec, runs / "run-3", uncached_log)
    assert uncached_log == [] and _ids(uncached) == _ids(first)


def test_max_length_and_a_touched_file_miss(spec, data_copy, tmp_path):
    runs = tmp_path / "runs"
    _prepare(spec, runs / "a", [])
    spec["data"]["max_length"] = 4
    logged = []
    short = _prepare(spec, runs / "b", logged)
    assert "cache miss" in logged[-1]
    assert max(len(row) for row in short.train["input_ids"]) == 4
    spec["data"]["max_length"] = 128
    hit = []
    _prepare(spec, runs / "c", hit)
    assert "cache hit" in hit[-1]
    stat = (data_copy / "train.csv").stat()
    os.utime(data_copy / "train.csv", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    touched = []
    _prepare(spec, runs / "d", touched)
    assert "cache miss" in touched[-1]
    # Keys that only change padding or compiling share the cache.
    spec["data"]["pad_to_buckets"] = [32, 64]
    spec["model"]["torch_compile"] = True
    shared = []
    _prepare(spec, runs / "e", shared)
    assert "cache hit" in shared[-1]


def test_a_corrupt_cache_is_rebuilt(spec, tmp_path):
    runs = tmp_path / "runs"
    first = _prepare(spec, runs / "a", [])
    (folder,) = (runs / ".cache" / "tokenized").iterdir()
    (folder / caches.EXTRAS_FILE).write_bytes(b"not a pickle")
    logged = []
    rebuilt = _prepare(spec, runs / "b", logged)
    assert "unreadable" in logged[0] and "rebuilding" in logged[0]
    assert "cache miss" in logged[-1]
    assert _ids(rebuilt) == _ids(first)
    again = []
    _prepare(spec, runs / "c", again)
    assert "cache hit" in again[-1]


def test_a_reader_that_must_not_write_leaves_no_cache(spec, tmp_path):
    runs = tmp_path / "runs"
    logged = []
    _prepare(spec, runs / "a", logged, write=False)
    assert "cache miss" in logged[-1]
    assert not (runs / ".cache" / "tokenized").exists()


def test_an_unstorable_context_still_prepares(spec, tmp_path, monkeypatch):
    def refuse(prepared, folder):
        raise OSError("No space left on device")

    monkeypatch.setattr(caches, "save_prepared", refuse)
    logged = []
    prepared = _prepare(spec, tmp_path / "runs" / "a", logged)
    assert "not stored" in logged[-1] and "No space left" in logged[-1]
    assert len(prepared.train) == 300


def test_compile_cache_environment_respects_the_users_own(tmp_path):
    environ = {"TRITON_CACHE_DIR": "/mine/triton"}
    chosen = caches.use_compile_cache(tmp_path / "runs" / "run-1", environ)
    assert chosen == {"TORCHINDUCTOR_CACHE_DIR": str((tmp_path / "runs" / ".cache" / "inductor").resolve())}
    assert environ["TRITON_CACHE_DIR"] == "/mine/triton"
    assert environ["TORCHINDUCTOR_CACHE_DIR"] == chosen["TORCHINDUCTOR_CACHE_DIR"]


def test_compile_cache_counts_are_read_and_described():
    counters = {
        "inductor": {"fxgraph_cache_hit": 7, "fxgraph_cache_miss": 1},
        "aot_autograd": {"autograd_cache_hit": 6, "autograd_cache_bypass": 2},
    }
    counts = caches.compile_cache_counts(counters)
    assert counts["fx_hits"] == 7 and counts["aot_misses"] == 0 and counts["aot_bypass"] == 2
    line = caches.describe_compile_cache(counts)
    assert line.startswith("compile cache: 13 hits, 1 misses")
    assert "2 bypassed" in line


@pytest.mark.slow
def test_a_second_run_of_the_same_spec_logs_a_cache_hit(spec, tmp_path):
    spec["training"].update(max_steps=2, save_steps=0, eval_strategy="no")
    spec["monitor"]["system_sample_interval_s"] = 0
    messages = []
    for name in ("first", "second"):
        result = run_child(spec, tmp_path / "runs" / name)
        assert result.returncode == 0, result.stderr[-3000:]
        events = protocol.read_events(tmp_path / "runs" / name / "events.jsonl")
        messages.append([e.message for e in events if isinstance(e, protocol.LogLine)])
    assert any(m.startswith("tokenized data: cache miss") for m in messages[0]), messages[0]
    assert any(m.startswith("tokenized data: cache hit") for m in messages[1]), messages[1]


COMPILE_SCRIPT = """
import sys
from pathlib import Path

from workbench.training.caches import compile_cache_counts, describe_compile_cache, use_compile_cache

use_compile_cache(Path(sys.argv[1]) / "run-1")
import torch

model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
compiled = torch.compile(model, dynamic=False)
compiled(torch.randn(4, 8)).sum().backward()
print(describe_compile_cache(compile_cache_counts()))
"""


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("gcc") is None and shutil.which("cc") is None, reason="inductor on CPU needs a C compiler"
)
def test_a_second_process_loads_compiled_graphs_from_the_runs_directory(tmp_path):
    """torch.compile on the CPU, twice in fresh processes: the second finds every graph in the cache."""
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if key not in caches.COMPILE_ENV}
    lines = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-c", COMPILE_SCRIPT, str(tmp_path)], capture_output=True, text=True, env=env, timeout=400
        )
        assert result.returncode == 0, result.stderr[-3000:]
        lines.append(result.stdout.strip().splitlines()[-1])
    assert "0 hits" in lines[0] and " 0 misses" not in lines[0], lines
    assert lines[1].startswith("compile cache: ") and " 0 misses" in lines[1] and "0 hits" not in lines[1], lines
    assert (tmp_path / ".cache" / "inductor" / "fxgraph").is_dir()


def test_only_the_most_recently_used_datasets_are_kept(tmp_path):
    root = tmp_path / "tokenized"
    for index in range(5):
        folder = root / f"key{index}"
        folder.mkdir(parents=True)
        (folder / caches.META_FILE).write_text("{}")
        os.utime(folder / caches.META_FILE, (1000 + index, 1000 + index))
    os.utime(root / "key0" / caches.META_FILE)  # used just now
    (root / "key9").mkdir()  # no meta.json: not a complete cache, not counted
    stale = root / ".tmp-key7-123"
    stale.mkdir()
    os.utime(stale, (1, 1))
    removed = caches.prune_tokenized(root, keep=2)
    assert sorted(path.name for path in removed) == [".tmp-key7-123", "key1", "key2", "key3"]
    assert sorted(path.name for path in root.iterdir()) == ["key0", "key4", "key9"]


def test_a_hub_dataset_is_keyed_by_its_prepared_folder_in_the_datasets_cache(tmp_path, monkeypatch):
    """A Hub dataset has no files of its own: its prepared copy in the datasets cache stands for them, so a
    new revision (a new folder there) misses the tokenized cache instead of reusing the old tokens."""
    from workbench.training.caches import _file_stamps

    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    data = {"dataset": "nyu-mll/glue", "dataset_config": "mrpc"}
    assert _file_stamps(data) == []  # not in the cache: keyed by the id and config alone (in the data table)

    def prepare(revision: str) -> None:
        folder = tmp_path / "hf" / "nyu-mll___glue" / "mrpc" / "0.0.0" / revision
        folder.mkdir(parents=True)
        (folder / "dataset_info.json").write_text("{}")
        (folder / "glue-train.arrow").write_bytes(b"x" * 10)

    prepare("aaaa")
    first = _file_stamps(data)
    assert len(first) == 1 and first[0][0] == "dataset" and first[0][1].endswith("aaaa") and first[0][2] == 10
    (tmp_path / "hf" / "nyu-mll___glue" / "mrpc" / "0.0.0" / "aaaa" / "glue-train.arrow").unlink()
    (tmp_path / "hf" / "nyu-mll___glue" / "mrpc" / "0.0.0" / "aaaa" / "dataset_info.json").unlink()
    prepare("bbbb")
    second = _file_stamps(data)
    assert second[0][1].endswith("bbbb") and second != first
