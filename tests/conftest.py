"""Test-wide setup: no network, and config/data dirs that belong to the test alone."""

from __future__ import annotations

import os

# Set before anything imports huggingface_hub, which reads these once.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# No idle prebuilding of panes: an app a test closes mid-build would fail the test at random.
# tests/shell/test_lazy_panes.py switches it on where it tests it.
os.environ["WORKBENCH_PREBUILD_AFTER"] = "off"
# No spare run or demo processes (on by default for users): each test run would leave some waiting.
# tests/training/test_spare_e2e.py and tests/demo/test_spare.py switch them on where they test them.
os.environ["WORKBENCH_SPARE_RUN"] = "0"

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


def _shared_data() -> Path:
    """../shared/data from the repo root; from a worktree (/work/wt/<name>) the nearest one above."""
    here = Path(__file__).resolve()
    for parent in here.parents[1:]:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    return here.parents[2] / "shared" / "data"


SHARED_DATA = _shared_data()
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


SPARE_MODULES = ("workbench.training.spare", "workbench.core.demo.spare")


@pytest.fixture(scope="session", autouse=True)
def no_spares_left_behind(tmp_path_factory):
    """End any spare process a test started under this session's temporary folders: a test that turns
    spares on (or an environment that lost WORKBENCH_SPARE_RUN=0) must not leave one waiting 10 minutes."""
    yield
    import psutil

    base = str(tmp_path_factory.getbasetemp())
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if any(module in command for module in SPARE_MODULES) and base in command:
            for member in [process, *process.children(recursive=True)]:
                try:
                    member.kill()
                except psutil.Error:
                    pass
