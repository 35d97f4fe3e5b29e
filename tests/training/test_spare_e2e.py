"""A spare run process (`WORKBENCH_SPARE_RUN=1`): the next run takes the spare the previous launch started,
with its imports done; a launcher with another environment is declined and starts its run the usual way;
an unused spare ends after its idle time."""

from __future__ import annotations

import pytest

from tests.training.helpers import dump_log, wait_for_end, wait_until
from workbench.training import runs, spare

pytestmark = pytest.mark.slow
TAKEN = "Started by a spare run process"


def quick(spec: dict) -> dict:
    spec["training"].update(metrics=[], eval_strategy="no", max_steps=3, save_steps=0)
    spec["monitor"]["system_sample_interval_s"] = 0
    return spec


def log_of(run_dir) -> str:
    return (run_dir / "stdout.log").read_text(encoding="utf-8", errors="replace")


def test_the_next_run_takes_the_spare_and_another_environment_is_declined(tiny_spec, monkeypatch):
    monkeypatch.setenv(spare.SPARE_ENV, "1")
    quick(tiny_spec)
    first = runs.launch_run(tiny_spec)
    runs_dir = first.path.parent
    try:
        assert wait_for_end(first.path).status == "finished", dump_log(first.path)
        assert TAKEN not in log_of(first.path)  # no spare was waiting for the first run
        wait_until(lambda: spare.spare_sockets(runs_dir), timeout=120)

        second = runs.launch_run(tiny_spec)
        assert wait_for_end(second.path).status == "finished", dump_log(second.path)
        assert TAKEN in log_of(second.path), dump_log(second.path)
        assert (second.path / "final" / "config.json").is_file()

        wait_until(lambda: spare.spare_sockets(runs_dir), timeout=120)  # the second launch left a spare too
        monkeypatch.setenv("WORKBENCH_TEST_OTHER", "1")  # this launcher's environment is not the spare's
        third = runs.launch_run(tiny_spec)
        assert wait_for_end(third.path).status == "finished", dump_log(third.path)
        assert TAKEN not in log_of(third.path)
    finally:
        spare.stop_spares(runs_dir)


def test_an_unused_spare_ends_after_its_idle_time(tmp_path):
    assert spare.main(["--runs-dir", str(tmp_path), "--idle", "1"]) == 0
    assert spare.spare_sockets(tmp_path) == []


def test_only_a_directly_started_child_can_take_a_spare():
    import sys

    command = [sys.executable, "-m", "workbench.training.child", "--run-dir", "/r", "--resume"]
    assert spare.child_arguments(command) == ["--run-dir", "/r", "--resume"]
    assert spare.child_arguments([sys.executable, "-m", "accelerate.commands.launch", *command[1:]]) is None
    assert spare.environment_key({"A": "1", "PWD": "/x"}) == spare.environment_key({"A": "1", "PWD": "/y"})
    assert spare.environment_key({"A": "1"}) != spare.environment_key({"A": "2"})
