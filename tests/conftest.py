"""Test-wide setup: no network, and config/data dirs that belong to the test alone."""

from __future__ import annotations

import os

# Set before anything imports huggingface_hub, which reads these once.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MRPC_DIR = SHARED_DATA / "glue" / "mrpc"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    """Each test gets its own config and data dirs, so nothing leaks into ~/.config."""
    root = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("WORKBENCH_CONFIG_DIR", str(root / "config"))
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(root / "data"))
    for variable in ("WORKBENCH_THEME", "WORKBENCH_RUNS_DIR", "WORKBENCH_DEFAULT_MODEL"):
        monkeypatch.delenv(variable, raising=False)
    return root


@pytest.fixture
def mrpc_dir() -> Path:
    if not MRPC_DIR.is_dir():
        pytest.fail(f"The GLUE MRPC files are expected in {MRPC_DIR}")
    return MRPC_DIR
