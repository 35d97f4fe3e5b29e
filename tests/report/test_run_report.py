"""A report for a real failed run: a tiny BERT launched on data without the configured text column.

The run fails for real in the training child; the report must carry the error with its traceback,
the versions, the spec and a script that fails the same way when run with python. A fake token is
planted in the environment, the spec and the log; it must not appear anywhere in the report.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.report.conftest import FAKE_TOKEN
from tests.training.conftest import one_thread_per_run, tiny_data, tiny_model_dir  # noqa: F401 (fixtures)
from workbench.cli import main

MISSING = "no column 'sentence' in the train data"
ENV_TOKEN = "hf_planted_in_the_environment_0123456789"


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """Stands in for the user's home folder: the data and the runs live under it."""
    return tmp_path_factory.mktemp("report-home")


@pytest.fixture(scope="module")
def failed_run(home, tiny_model_dir, tiny_data) -> Path:  # noqa: F811
    from workbench.training import runs
    from workbench.training.spec import default_spec

    data = home / "data"
    data.mkdir()
    train = Path(shutil.copy(tiny_data["train"], data / "train.csv"))
    spec = default_spec(model=str(tiny_model_dir), data=str(train))
    spec["data"]["text_column"] = "sentence"  # the file has `text,label`
    spec["model"]["id2label"] = {"0": "neg", "1": FAKE_TOKEN}  # a token pasted where it should not be
    spec["training"]["max_steps"] = 4
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OMP_NUM_THREADS", "1")
        patch.setenv("HF_TOKEN", ENV_TOKEN)
        # A launch refuses a column missing from the file's header; the child meets it when the file changed
        # after the launch (or its columns are only known once loaded): skip the check to get there.
        patch.setattr("workbench.training.preflight.column_problems", lambda data, head: {})
        info = runs.launch_run(spec, home / "runs")
        deadline = time.monotonic() + 300
        while runs.read_run(info.path).is_active:
            assert time.monotonic() < deadline, "the run did not end in 300 s"
            time.sleep(0.3)
    assert runs.read_run(info.path).status == "failed"
    # A library that printed a URL with credentials and a request header into the log.
    with open(info.path / "stdout.log", "a", encoding="utf-8") as log:
        log.write(f"GET https://user:{FAKE_TOKEN}@huggingface.co/api\nAuthorization: Bearer {FAKE_TOKEN}\n")
    return info.path


@pytest.fixture
def as_home(home, monkeypatch):
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_TOKEN", ENV_TOKEN)
    return home


def python_block(markdown: str) -> str:
    return re.search(r"```python\n(.*?)\n```", markdown, re.S).group(1)


def test_report_command_for_the_failed_run(failed_run, as_home, capsys):
    import accelerate
    import datasets
    import torch
    import transformers

    assert main(["report", str(failed_run)]) == 0
    captured = capsys.readouterr()
    saved = (failed_run / "report.md").read_text(encoding="utf-8")
    assert captured.out == saved + "\n"
    assert f"Saved as {failed_run / 'report.md'}" in captured.err
    # The summary line and the error with its traceback, from the child.
    summary = next(line for line in saved.splitlines() if line.startswith("**Summary:**"))
    assert "failed at step 0" in summary and MISSING in summary
    error = saved.split("## Error", 1)[1].split("## Run spec", 1)[0]
    assert MISSING in error and "Traceback (most recent call last)" in error and "require_columns" in error
    # The versions of the libraries in use, as they report themselves.
    for module in (torch, transformers, datasets, accelerate):
        assert f"- {module.__name__}: {module.__version__}" in saved
    # The spec, with paths under the home folder redacted, and the script.
    assert 'text_column = "sentence"' in saved
    assert 'train_file = "~/data/train.csv"' in saved
    assert str(as_home) not in saved
    assert "trainer.train()" in python_block(saved)
    # Tokens: the planted ones are gone, masked where they were.
    for secret in (FAKE_TOKEN, ENV_TOKEN):
        assert secret not in saved and secret not in captured.out and secret not in captured.err
    assert "https://***@huggingface.co" in saved and "Bearer ***" in saved and '"hf_***"' in saved


def test_the_script_reproduces_the_error(failed_run, as_home, tmp_path):
    from workbench.core.report import build_run_report

    script = tmp_path / "repro.py"
    script.write_text(python_block(build_run_report(failed_run)), encoding="utf-8")
    assert "os.path.expanduser('~/data/train.csv')" in script.read_text()
    env = {**os.environ, "HOME": str(as_home), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400
    )
    assert result.returncode != 0, result.stdout[-2000:]
    assert MISSING in result.stderr.splitlines()[-1], result.stderr[-2000:]


def test_no_redact_keeps_paths_but_never_tokens(failed_run, as_home):
    from workbench.core.report import build_run_report

    markdown = build_run_report(failed_run, redact=False)
    assert str(as_home / "data" / "train.csv") in markdown
    assert FAKE_TOKEN not in markdown and ENV_TOKEN not in markdown


def test_public_model_replaces_the_local_path_in_the_script(failed_run, as_home, fixed_environment):
    from workbench.core.report import build_run_report

    markdown = build_run_report(failed_run, public_model="prajjwal1/bert-tiny", environment=fixed_environment)
    script = python_block(markdown)
    assert "model_id = 'prajjwal1/bert-tiny'  # the run used" in script
    assert "from_pretrained(model_id" in script


def test_unknown_run_is_one_line(capsys):
    assert main(["report", "no-such-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: No run 'no-such-run'") and "Traceback" not in err
