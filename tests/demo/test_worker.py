"""The demo's model in a child process: the same answers as in-process, errors as one line, a clean stop."""

from __future__ import annotations

import json

import pytest

from workbench.core.demo.answers import Answerer
from workbench.core.demo.target import DemoTarget, load_target
from workbench.core.demo.worker import RemoteAnswerer
from workbench.core.errors import WorkbenchError


def test_a_child_answers_as_the_model_here_does_and_stops(tiny):
    target = DemoTarget(tiny["mlm"], "mlm", "masked-lm")
    remote = RemoteAnswerer(target)
    try:
        remote.wait_ready()
        assert set(remote.timings) == {"model", "warm-up"}
        assert remote.timings["model"][0] > 0

        here = Answerer(load_target(target))
        assert remote.fill_mask("Paris is the [MASK] of France.") == pytest.approx(
            here.fill_mask("Paris is the [MASK] of France."), abs=1e-5
        )
        with pytest.raises(WorkbenchError) as raised:  # bad input: the child's message, no traceback
            remote.fill_mask("no mask at all")
        with pytest.raises(WorkbenchError) as expected:
            here.fill_mask("no mask at all")
        assert raised.value.message == expected.value.message
        assert remote.fill_mask("Paris is the [MASK] of France.")  # still answering after an error
    finally:
        remote.close()
    assert not remote.process.is_alive()


def test_a_child_streams_generation_like_the_model_here(tiny):
    target = DemoTarget(tiny["gpt2"], "gpt2", "causal-lm")
    remote = RemoteAnswerer(target)
    try:
        remote.wait_ready()
        streamed = list(remote.generate("Once upon a time,", 5, 0.0))
    finally:
        remote.close()
    here = list(Answerer(load_target(target)).generate("Once upon a time,", 5, 0.0))
    assert streamed == here and len(streamed) >= 2  # text growing token by token


def test_a_model_that_cannot_load_is_one_message(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "architectures": ["BertModel"]}))
    target = DemoTarget(folder, "broken", "sequence-classification")
    remote = RemoteAnswerer(target)
    with pytest.raises(WorkbenchError) as raised:
        remote.wait_ready()
    with pytest.raises(WorkbenchError) as here:
        load_target(target)
    assert str(raised.value) == str(here.value)  # what the CLI prints in one process, reason and hint
    assert "no weights" in str(raised.value) and "Traceback" not in str(raised.value)
    assert not remote.process.is_alive()
