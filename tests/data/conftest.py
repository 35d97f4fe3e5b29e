"""Datasets tests: a datasets cache of their own (shared by the session, so loads are reused)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def datasets_cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hf-datasets-cache")


@pytest.fixture(autouse=True)
def isolated_datasets_cache(datasets_cache_dir, monkeypatch) -> Path:
    """`workbench.core.data` reads HF_DATASETS_CACHE at call time, so this keeps ~/.cache clean."""
    monkeypatch.setenv("HF_DATASETS_CACHE", str(datasets_cache_dir))
    return datasets_cache_dir


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


def line_count(path: Path) -> int:
    with path.open("rb") as handle:
        data = handle.read()
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
