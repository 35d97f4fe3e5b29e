"""What the child does before its first step: no avoidable imports, the GPU started in a thread."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.training.child import NO_WARMUP_ENV, start_device_warmup

CHILD_WITH_MODULES = """
import sys

from workbench.training.child import main

code = main(["--run-dir", sys.argv[1]])
watched = ("peft", "transformers.trainer_utils", "transformers.optimization", "evaluate")
print("MODULES", {name: name in sys.modules for name in watched}, code)
"""


def test_no_warmup_on_the_cpu_or_when_turned_off(monkeypatch):
    assert start_device_warmup({"training": {"use_cpu": True}}) is None
    monkeypatch.setenv(NO_WARMUP_ENV, "1")
    assert start_device_warmup({"training": {}}) is None


def test_the_warmup_thread_ends_quietly_without_a_gpu(monkeypatch):
    monkeypatch.delenv(NO_WARMUP_ENV, raising=False)
    thread = start_device_warmup({"training": {"use_cpu": False}})
    assert thread is not None and thread.daemon
    thread.join(timeout=120)
    assert not thread.is_alive()


@pytest.mark.slow
def test_a_run_never_imports_peft_or_transformers_training_stack(tiny_spec, tmp_path):
    """transformers.optimization imports trainer_utils, which imports peft when installed: the
    engine's own schedules avoid both; the metric libraries still load for the evaluation."""
    from workbench.training.spec import dump_spec

    tiny_spec["training"].update(max_steps=2, save_steps=0, eval_strategy="steps", eval_steps=2)
    tiny_spec["monitor"]["system_sample_interval_s"] = 0
    run_dir = tmp_path / "runs" / "run-1"
    run_dir.mkdir(parents=True)
    (run_dir / "spec.toml").write_text(dump_spec(tiny_spec), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", CHILD_WITH_MODULES, str(run_dir)],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=Path(__file__).resolve().parents[2],
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("MODULES"))
    assert line.endswith(" 0"), result.stderr[-3000:]
    assert "'peft': False" in line and "'transformers.trainer_utils': False" in line
    assert "'transformers.optimization': False" in line and "'evaluate': True" in line
    events = [json.loads(row) for row in (run_dir / "events.jsonl").read_text().splitlines()]
    messages = [event.get("message", "") for event in events]
    first = messages.index(next(m for m in messages if m.startswith("first optimizer step")))
    assert any(m.startswith("tokenized data: cache miss") for m in messages[:first])
