"""A spare demo model process (`WORKBENCH_SPARE_RUN=1`): the next demo is answered by a process started
ahead, with the same answers; a demo from another environment is declined and spawns its own."""

from __future__ import annotations

import time

import pytest

from workbench.core.demo import spare
from workbench.core.demo.answers import Answerer
from workbench.core.demo.target import DemoTarget, load_target
from workbench.core.demo.worker import RemoteAnswerer


@pytest.fixture
def spare_on(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv(spare.SPARE_ENV, "1")
    folder = spare.spare_folder()
    yield folder
    spare.stop_spares(folder)  # the spares the demos left, waiting or still importing


def wait_for_spare(folder, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not spare.waiting(folder):
        assert time.monotonic() < deadline, "no spare came up"
        time.sleep(0.2)


def test_the_next_demo_is_answered_by_the_spare_with_the_same_answers(tiny, spare_on):
    target = DemoTarget(tiny["mlm"], "mlm", "masked-lm")
    first = RemoteAnswerer(target)  # no spare yet: it spawns its model process
    assert not first.from_spare and first.process is not None
    first.wait_ready()
    assert first.start_next_spare() is not None  # the command does this once the demo serves
    first.close()
    wait_for_spare(spare_on)

    second = RemoteAnswerer(target)
    try:
        assert second.from_spare and second.process is None
        second.wait_ready()
        here = Answerer(load_target(target))
        assert second.fill_mask("Paris is the [MASK] of France.") == pytest.approx(
            here.fill_mask("Paris is the [MASK] of France."), abs=1e-5
        )
    finally:
        second.close()


def test_a_spare_from_another_environment_declines(tiny, spare_on, monkeypatch):
    spare.start_spare(spare_on)
    wait_for_spare(spare_on)
    monkeypatch.setenv("WORKBENCH_TEST_OTHER", "1")
    assert spare.connect(DemoTarget(tiny["mlm"], "mlm", "masked-lm"), None, spare_on) is None
    assert spare.waiting(spare_on)  # still waiting for a demo it can take
