"""`workbench env`: the versions the libraries report themselves, the flags, paths and Accelerate config."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from tests.report.conftest import FAKE_TOKEN
from workbench.cli import main
from workbench.core.report.environment import format_environment

LIBRARIES = ("torch", "transformers", "tokenizers", "datasets", "accelerate", "evaluate", "huggingface_hub", "textual")


@pytest.fixture
def env_json() -> dict:
    """`workbench env --json`, parsed (the first call imports torch: seconds on a busy box)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["env", "--json"]) == 0
    return json.loads(out.getvalue())


@pytest.mark.parametrize("name", LIBRARIES)
def test_versions_match_the_libraries_own(env_json, name):
    module = importlib.import_module(name)
    assert env_json["libraries"][name] == module.__version__


def test_torch_build_and_devices(env_json):
    import torch

    assert env_json["torch"]["version"] == torch.__version__
    assert env_json["torch"]["cuda"] == torch.version.cuda
    assert env_json["torch"]["cuda_available"] == torch.cuda.is_available()
    if not torch.cuda.is_available():
        assert env_json["gpus"]["devices"] == []
        assert env_json["gpus"]["note"]  # says why there are none


def test_flags_paths_and_platform(env_json):
    import platform

    import workbench
    from workbench.core.settings import load_settings

    assert env_json["workbench"] == workbench.__version__
    assert env_json["python"]["version"] == platform.python_version()
    assert env_json["flags"]["HF_HUB_OFFLINE"] == "1"  # tests/conftest.py sets it
    assert env_json["paths"]["runs_dir"] == str(load_settings().runs_path)  # under /tmp: not redacted
    assert "Installation method" in env_json["huggingface_hub"]  # huggingface_hub's own dump


def test_accelerate_config_in_effect(tmp_path, monkeypatch):
    from accelerate.commands.config import config_args

    from workbench.core.report.environment import accelerate_config

    path = tmp_path / "default_config.yaml"
    path.write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: 'NO'\nmixed_precision: bf16\nnum_processes: 1\n"
    )
    monkeypatch.setattr(config_args, "default_config_file", str(path))
    found = accelerate_config()
    assert found["found"] and found["values"]["mixed_precision"] == "bf16"
    path.write_text("{ not: [yaml")
    assert "error" in accelerate_config()  # a broken file is reported, not raised
    monkeypatch.setattr(config_args, "default_config_file", str(tmp_path / "absent.yaml"))
    assert accelerate_config() == {"path": str(tmp_path / "absent.yaml"), "found": False}


def test_markdown_output_has_versions_and_no_token(monkeypatch, capsys):
    import transformers

    monkeypatch.setenv("HF_TOKEN", FAKE_TOKEN)
    assert main(["env"]) == 0
    out = capsys.readouterr().out
    assert f"- transformers: {transformers.__version__}" in out
    assert "- Hub token: HF_TOKEN environment variable" in out
    assert FAKE_TOKEN not in out


def test_gpu_lines_name_driver_and_memory(fixed_environment):
    text = format_environment(fixed_environment)
    assert "- GPUs (driver 570.86.15, CUDA 12.8):\n  - 0: NVIDIA H200, 140.4 GiB" in text
    assert "- torch: 2.13.0 (CUDA 12.8, cuDNN 91002, CUDA)" in text


def test_help_imports_nothing_heavy():
    """`workbench --help` builds every subparser; env and report must not import torch or the HF stack."""
    code = (
        "import sys; from workbench.cli import build_parser; build_parser();"
        "heavy = ('torch', 'transformers', 'datasets', 'accelerate', 'huggingface_hub');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
