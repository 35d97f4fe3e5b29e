"""Helpers for the end-to-end tests: wait for a run, show its log when a test fails."""

from __future__ import annotations

import time
from pathlib import Path

import pytest


def wait_until(predicate, timeout: float = 180.0, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy; fail the test on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {getattr(predicate, '__name__', predicate)}")


def wait_for_end(run_dir: Path, timeout: float = 240.0):
    from workbench.training import runs

    def ended():
        info = runs.read_run(run_dir)
        return info if not info.is_active else None

    return wait_until(ended, timeout, interval=0.2)


def dump_log(run_dir: Path) -> str:
    log = run_dir / "stdout.log"
    return log.read_text(errors="replace")[-4000:] if log.exists() else "(no stdout.log)"


def run_child(spec: dict, run_dir: Path, *, resume: bool = False, env: dict | None = None, timeout: float = 300):
    """Run the training child in this interpreter's venv, without the launcher: one process on the CPU."""
    import os
    import subprocess
    import sys

    from workbench.training.spec import dump_spec

    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "spec.toml").write_text(dump_spec(spec), encoding="utf-8")
    command = [sys.executable, "-m", "workbench.training.child", "--run-dir", str(run_dir)]
    return subprocess.run(
        command + (["--resume"] if resume else []),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=Path(__file__).resolve().parents[2],
    )
