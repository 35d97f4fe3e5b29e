"""Two nodes simulated on one machine: two `accelerate launch` processes (torchrun underneath) with
`--num_machines 2 --machine_rank 0/1 --main_process_ip 127.0.0.1` on the CPU (gloo), one run folder."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import tomllib

from workbench.core.runs.folder import FINAL_DIR, SPEC_FILE
from workbench.core.runs.listing import read_events, read_run
from workbench.core.runs.protocol import Alert, EventReader, Finished, LogLine, RunStarted, Step, SystemSample
from workbench.training.launch import child_environment, launch_run, stop_run
from workbench.training.nodes import NODE_EVENTS, free_port, node_commands


def start_nodes(spec: dict, runs: Path) -> tuple[Path, list[subprocess.Popen]]:
    spec["training"].update(
        num_machines=2, main_process_ip="127.0.0.1", main_process_port=free_port(), use_cpu=True, eval_strategy="no"
    )
    run_dir = launch_run(spec, runs, start=False).path
    full = tomllib.loads((run_dir / SPEC_FILE).read_text(encoding="utf-8"))
    commands = node_commands(full, run_dir)
    assert [command[command.index("--machine_rank") + 1] for command in commands] == ["0", "1"]
    processes = []
    for rank, command in enumerate(commands):
        with open(run_dir / f"node{rank}.log", "wb") as log:
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=run_dir,
                    env=child_environment(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    return run_dir, processes


def wait_all(processes: list[subprocess.Popen], run_dir: Path, timeout: float = 150) -> list[int]:
    deadline = time.monotonic() + timeout
    try:
        return [process.wait(timeout=max(1, deadline - time.monotonic())) for process in processes]
    except subprocess.TimeoutExpired:
        logs = "\n".join((run_dir / f"node{rank}.log").read_text(errors="replace")[-3000:] for rank in range(2))
        pytest.fail(f"the nodes did not end in {timeout} s:\n{logs}")
    finally:
        for process in processes:
            kill_node(process)


def kill_node(process: subprocess.Popen) -> None:
    """SIGKILL a node: `accelerate launch` and its ranks (torchrun starts each rank in a session of its own,
    so killing the launcher's process group alone leaves the ranks running)."""
    try:
        tree = psutil.Process(process.pid).children(recursive=True) + [psutil.Process(process.pid)]
    except psutil.NoSuchProcess:
        return
    for member in tree:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    process.wait(timeout=30)


def logs(run_dir: Path) -> str:
    return "\n".join((run_dir / f"node{rank}.log").read_text(errors="replace")[-3000:] for rank in range(2))


def test_two_nodes_train_one_run_folder(tiny_spec, tmp_path):
    tiny_spec["training"].update(max_steps=6, save_steps=3, logging_steps=1)
    tiny_spec["monitor"]["system_sample_interval_s"] = 0.3
    run_dir, processes = start_nodes(tiny_spec, tmp_path / "runs")
    codes = wait_all(processes, run_dir)
    assert codes == [0, 0], logs(run_dir)
    events = read_events(run_dir).events
    assert read_run(run_dir).status == "finished", logs(run_dir)
    started = [event for event in events if isinstance(event, RunStarted)]
    assert len(started) == 1 and started[0].num_processes == 2  # one writer: the global main process
    steps = [event.step for event in events if isinstance(event, Step)]
    assert steps == sorted(set(steps)) and steps[-1] == 6
    assert isinstance(events[-1], Finished)
    samples = [event for event in events if isinstance(event, SystemSample)]
    assert {sample.extra.get("node_rank") for sample in samples} == {0, 1}
    assert all(sample.extra.get("host") for sample in samples)
    node_events = EventReader(run_dir / NODE_EVENTS.format(rank=1)).poll()  # node 1 writes its samples only
    *samples_of_node1, end = node_events  # its samples, then its end record: never a step or a final event
    assert samples_of_node1 and all(isinstance(event, SystemSample) for event in samples_of_node1)
    assert isinstance(end, LogLine) and end.extra["node_end"] is True
    assert not [event for event in events if isinstance(event, Alert)]  # a clean end reports no lost node
    assert not list(run_dir.glob(NODE_EVENTS.format(rank=0)))
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(run_dir / FINAL_DIR)
    assert model.num_labels == 2


def test_stop_ends_both_nodes(tiny_spec, tmp_path):
    tiny_spec["training"].update(max_steps=100000, save_steps=0, logging_steps=1)
    run_dir, processes = start_nodes(tiny_spec, tmp_path / "runs")
    deadline = time.monotonic() + 120
    while not any(isinstance(event, Step) for event in read_events(run_dir).events):
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes), logs(run_dir)
        time.sleep(0.2)
    stop_run(run_dir)
    codes = wait_all(processes, run_dir, timeout=90)
    assert codes == [0, 0], logs(run_dir)
    assert read_run(run_dir).status == "stopped"
    finals = [event for event in read_events(run_dir).events if isinstance(event, Finished)]
    assert [event.status for event in finals] == ["stopped"]


def test_a_node_that_dies_is_reported_with_its_host(tiny_spec, tmp_path):
    tiny_spec["training"].update(max_steps=100000, save_steps=0, logging_steps=1)
    run_dir, processes = start_nodes(tiny_spec, tmp_path / "runs")
    deadline = time.monotonic() + 120

    def node_1_seen_by_node_0() -> bool:
        # Node 0 names a lost node from the samples it relayed: its file existing is not enough (it is
        # created before the first sample, and under load node 1 could die before node 0 read one).
        events = read_events(run_dir).events
        relayed = any(isinstance(event, SystemSample) and event.extra.get("node_rank") == 1 for event in events)
        return relayed and any(isinstance(event, Step) for event in events)

    while not node_1_seen_by_node_0():
        assert time.monotonic() < deadline and all(p.poll() is None for p in processes), logs(run_dir)
        time.sleep(0.2)
    kill_node(processes[1])  # machine 1 is lost
    wait_all(processes, run_dir, timeout=90)
    assert read_run(run_dir).status in ("failed", "crashed"), logs(run_dir)
    alerts = [event.message for event in read_events(run_dir).events if isinstance(event, Alert)]
    assert any(message.startswith(f"Node 1 ({socket.gethostname()})") for message in alerts), (alerts, logs(run_dir))
