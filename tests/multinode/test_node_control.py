"""Several machines, controlled from one: a kill request every node's sampler obeys, a resume that
prints every node's command instead of starting a lone rank 0, and the GPU panel naming each node."""

from __future__ import annotations

import pytest

from workbench.cli import main
from workbench.core.errors import WorkbenchError
from workbench.core.runs.folder import KILL_FILE, LAUNCHED_FILE, STOP_FILE, clear_requests
from workbench.core.runs.history import RunHistory
from workbench.core.runs.protocol import GpuSample, SystemSample
from workbench.training.launch import kill_run, launch_run, resume_run
from workbench.training.nodes import NodeSamples


def test_a_node_kills_itself_when_the_run_is_killed_elsewhere(tmp_path, monkeypatch):
    killed = []
    node = NodeSamples(tmp_path, rank=1, emit=None, interval=2.0)
    monkeypatch.setattr(NodeSamples, "kill_this_node", lambda self: killed.append(self.rank))
    node(SystemSample(cpu_percent=1.0, rss_mb=10.0))
    assert killed == []
    (tmp_path / "control").mkdir()
    (tmp_path / KILL_FILE).write_text("1")
    node(SystemSample(cpu_percent=1.0, rss_mb=10.0))
    assert killed == [1]
    clear_requests(tmp_path)  # a resume starts clean
    assert not (tmp_path / KILL_FILE).exists() and not (tmp_path / STOP_FILE).exists()


def _two_machine_run(tiny_spec, tmp_path):
    tiny_spec["training"].update(num_machines=2, main_process_ip="127.0.0.1", main_process_port=29555)
    return launch_run(tiny_spec, tmp_path / "runs", start=False).path


def test_killing_a_run_over_two_machines_leaves_the_request_for_the_others(tiny_spec, tmp_path):
    run_dir = _two_machine_run(tiny_spec, tmp_path)
    try:
        kill_run(run_dir, wait_s=0.1)  # nothing runs on this host: the request is still left
    except WorkbenchError as error:
        assert "nothing to kill" in error.message
    assert (run_dir / KILL_FILE).exists()


def test_a_run_over_two_machines_resumes_with_each_machines_command(tiny_spec, tmp_path, capsys, monkeypatch):
    from workbench.training import checkpoints

    run_dir = _two_machine_run(tiny_spec, tmp_path)
    (run_dir / LAUNCHED_FILE).write_text("1.0")  # its machines ran it (take_run's record), and it ended
    monkeypatch.setattr(checkpoints, "latest_checkpoint", lambda folder: folder / "checkpoints" / "step-4")
    with pytest.raises(WorkbenchError, match="2 machines") as refused:
        resume_run(run_dir)
    assert "--print-launch" in refused.value.hint
    (run_dir / "control").mkdir(exist_ok=True)
    (run_dir / STOP_FILE).write_text("1")
    assert main(["resume", str(run_dir), "--print-launch"]) == 0
    out = capsys.readouterr().out
    assert "# machine rank 0" in out and "# machine rank 1" in out and "--machine_rank 1" in out
    assert out.count("--resume") == 2
    assert not (run_dir / STOP_FILE).exists()  # the old stop request would end the resumed run at once


def test_the_gpu_panel_history_keeps_each_nodes_gpus_apart():
    history = RunHistory()
    for rank, host in ((0, "gpu-a"), (1, "gpu-b")):
        sample = SystemSample(cpu_percent=1.0, rss_mb=1.0, gpus=[GpuSample(index=0, name="H200", utilization=50.0)])
        sample.extra = {"node_rank": rank, "host": host}
        history.ingest([sample])
    assert sorted((gpu.node_rank, gpu.host) for gpu in history.gpus.values()) == [(0, "gpu-a"), (1, "gpu-b")]
    assert history.nodes == 2
