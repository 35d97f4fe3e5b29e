"""A spare demo (`WORKBENCH_SPARE_RUN=1`): the next `workbench demo` is served by a process started ahead
(gradio imported, a model process with torch and transformers imported), with the same answers; the
command's Ctrl-C or death ends the demo and every process of the spare; a spare from another environment
declines and the demo starts as usual. Each test runs the real command and asks through gradio_client."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.demo.conftest import REPO, free_port, start_demo_command
from workbench.core.demo import spare
from workbench.core.demo.answers import Answerer
from workbench.core.demo.target import DemoTarget, load_target

TEXT = "A gripping film."


@pytest.fixture
def spare_env(tmp_path):
    """The environment of the test's commands and spares (its own runs folder); its spares end after."""
    env = {
        **os.environ,
        "WORKBENCH_RUNS_DIR": str(tmp_path / "runs"),
        spare.SPARE_ENV: "1",
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    yield env
    spare.stop_spares(tmp_path / "runs" / spare.SPARE_DIR)  # those the commands started, waiting or importing


def start_waiting_spare(env) -> int:
    folder = Path(env["WORKBENCH_RUNS_DIR"]) / spare.SPARE_DIR
    pid = spare.start_spare(folder, env=env)
    deadline = time.monotonic() + 180
    while not spare.waiting(folder):
        assert time.monotonic() < deadline, "no spare came up"
        time.sleep(0.2)
    return pid


def group(pgid: int) -> set[int]:
    """The live processes of a process group (a spare leads its own: itself, its model process, …)."""
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.add(int(stat.parent.name))
    return members


def wait_gone(pgid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while group(pgid):
        assert time.monotonic() < deadline, f"left running: {group(pgid)}"
        time.sleep(0.1)


def start_demo(model: Path, port: int, env: dict, tmp_path: Path):
    """`workbench demo MODEL --port PORT --timings`; (process, its stderr file), once it printed its URL."""
    errors = open(tmp_path / f"stderr-{port}.txt", "w+", encoding="utf-8")  # noqa: SIM115 - read after the run
    command = [sys.executable, "-m", "workbench", "demo", str(model), "--port", str(port), "--timings"]
    process, line = start_demo_command(command, env, errors)
    assert line == f"Demo of sentiment at http://127.0.0.1:{port}/\n"
    return process, errors


def timings(errors) -> str:
    errors.seek(0)
    return next(row for row in errors.read().splitlines() if row.startswith("timings: "))


def ask(port: int) -> dict[str, float]:
    from gradio_client import Client

    output = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(TEXT, api_name="/predict")
    return {item["label"]: item["confidence"] for item in output["confidences"]}


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_a_spare_serves_the_same_demo_and_ends_with_the_command_while_another_environment_starts_as_usual(
    tiny, spare_env, tmp_path
):
    expected = Answerer(load_target(DemoTarget(tiny["sentiment"], "s", "sequence-classification"))).classify(TEXT)
    spare_pid = start_waiting_spare(spare_env)

    # Another environment: the spare declines, the demo starts its own model process and gradio.
    port = free_port()
    other, errors = start_demo(tiny["sentiment"], port, {**spare_env, "WORKBENCH_TEST_OTHER": "1"}, tmp_path)
    try:
        assert ask(port) == pytest.approx(expected, abs=1e-4)
        assert "[spare]" not in timings(errors) and " import gradio " in timings(errors)
    finally:
        other.terminate()
        other.wait(timeout=30)
    assert spare.waiting(Path(spare_env["WORKBENCH_RUNS_DIR"]) / spare.SPARE_DIR)  # still waiting
    assert group(spare_pid)

    # The same environment: the spare serves it, with the same answers.
    port = free_port()
    process, errors = start_demo(tiny["sentiment"], port, spare_env, tmp_path)
    try:
        assert " build [spare] " in timings(errors) and " import gradio " not in timings(errors)
        assert len(group(spare_pid)) >= 2  # the spare and its model process
        assert ask(port) == pytest.approx(expected, abs=1e-4)
        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert port_is_free(port)  # closed before the command ended
    wait_gone(spare_pid)


def test_a_demo_dies_with_its_command(tiny, spare_env, tmp_path):
    spare_pid = start_waiting_spare(spare_env)
    port = free_port()
    process, _ = start_demo(tiny["sentiment"], port, spare_env, tmp_path)
    process.kill()  # no goodbye: the spare hears its connection close
    process.wait(timeout=30)
    wait_gone(spare_pid)
    assert port_is_free(port)


def test_a_taken_port_is_one_line_as_without_a_spare(tiny, spare_env, tmp_path):
    spare_pid = start_waiting_spare(spare_env)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "workbench", "demo", str(tiny["sentiment"]), "--port", str(port)]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=spare_env, timeout=240)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-2:] == [
        f"workbench: Port {port} is taken on 127.0.0.1.",
        "Pick another with --port.",
    ]
    assert "Traceback" not in result.stderr
    wait_gone(spare_pid)


@pytest.mark.parametrize(
    ("name", "head", "labels_text"),
    [("sentiment", "sequence-classification", None), ("sentiment", "sequence-classification", "neg, pos, meh")]
    + [("ner", "token-classification", None), ("mlm", "masked-lm", None), ("gpt2", "causal-lm", None)],
)
def test_the_labels_a_spare_builds_the_page_with_before_the_model_loads_are_the_models(tiny, name, head, labels_text):
    target = DemoTarget(tiny[name], name, head)
    assert spare.expected_labels(target, labels_text) == load_target(target, labels_text).id2label
