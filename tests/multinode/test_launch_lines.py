"""Several machines without starting anything: the command of each node, the spec's checks, the
`--print-launch` lines, the sbatch script, and the per-node samples relayed into events.jsonl."""

from __future__ import annotations

import shlex
import socket
import sys
import threading
import time

import pytest

from workbench.cli import main
from workbench.commands.slurm import sbatch_script, slurm_spec
from workbench.core.runs.protocol import Alert, EventReader, SystemSample
from workbench.training.launch import child_environment, launch_command, prepare_spec
from workbench.training.nodes import NODE_EVENTS, NodeSamples, launch_problems, node_commands
from workbench.training.spec import SpecError, default_spec, validate_spec


def two_nodes(**training) -> dict:
    spec = default_spec()
    spec["training"].update({"num_machines": 2, "main_process_ip": "127.0.0.1", "num_processes": 8, **training})
    return spec


def flag(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_each_node_gets_accelerate_launch_with_its_rank_and_the_total_processes(tmp_path):
    commands = node_commands(two_nodes(main_process_port=29400), tmp_path)
    assert len(commands) == 2
    for rank, command in enumerate(commands):
        assert "accelerate.commands.launch" in command and "--multi_gpu" in command
        assert flag(command, "--machine_rank") == str(rank)
        assert flag(command, "--num_machines") == "2"
        assert flag(command, "--num_processes") == "16"  # the total over both machines, as Accelerate expects
        assert flag(command, "--main_process_ip") == "127.0.0.1"
        assert flag(command, "--main_process_port") == "29400"
        assert flag(command, "--rdzv_backend") == "static"
        assert flag(command, "--run-dir") == str(tmp_path)
    assert commands[0][1:3] == ["-m", "workbench.training.launch"]  # the main node is supervised
    assert commands[1][1:3] == ["-m", "accelerate.commands.launch"]
    assert all("--resume" in command for command in node_commands(two_nodes(), tmp_path, resume=True))


def test_port_zero_means_accelerates_default_and_one_machine_is_unchanged(tmp_path):
    assert flag(launch_command(two_nodes(), tmp_path, machine_rank=1), "--main_process_port") == "29500"
    single = launch_command(default_spec(), tmp_path, gpus=0)
    assert single[1:3] == ["-m", "workbench.training.child"]  # one process: the child, without a launcher


def test_cpu_nodes_use_torchruns_launcher_not_the_cpu_one(tmp_path):
    command = launch_command(two_nodes(use_cpu=True, num_processes=1), tmp_path, machine_rank=1)
    assert "--multi_gpu" in command and "--cpu" not in command
    assert flag(command, "--num_processes") == "2" and "--cpu-threads" in command


@pytest.mark.parametrize(
    ("training", "field", "words"),
    [
        ({"machine_rank": 2}, "training.machine_rank", "must be 0 to 1"),
        ({"machine_rank": -1}, "training.machine_rank", "must be 0 to 1"),
        ({"main_process_port": 70000}, "training.main_process_port", "1 to 65535"),
        ({"main_process_ip": ""}, "training.main_process_ip", "is empty"),
        ({"rdzv_backend": "zmq"}, "training.rdzv_backend", "static"),
        ({"num_machines": 0, "main_process_ip": ""}, "training.num_machines", "1 or more"),
    ],
)
def test_spec_checks_name_the_field(training, field, words):
    errors = [error for error in validate_spec(two_nodes(**training)) if error.field == field]
    assert errors and words in errors[0].message


def test_a_name_that_does_not_resolve_is_refused_before_the_launch(tiny_spec):
    tiny_spec["training"].update(num_machines=2, main_process_ip="no-such-host.invalid")
    with pytest.raises(SpecError) as raised:
        prepare_spec(tiny_spec)
    assert "training.main_process_ip" in str(raised.value) and "does not resolve" in str(raised.value)


def test_a_busy_port_on_the_main_node_is_refused():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        problems = launch_problems(two_nodes(main_process_port=port))
        assert [problem.field for problem in problems] == ["training.main_process_port"]
        assert f"port {port} is in use" in problems[0].message
        assert launch_problems(two_nodes(main_process_port=port, machine_rank=1)) == []  # not the main node


def print_launch_of_two_machines(spec, tmp_path, monkeypatch, capsys, port: int) -> list[str]:
    """`workbench train SPEC --print-launch` for two machines, in a runs folder of its own: the lines printed."""
    from workbench.training.spec import dump_spec

    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(tmp_path / "runs"))
    spec["training"].update(num_machines=2, main_process_ip="127.0.0.1", main_process_port=port)
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(dump_spec(spec), encoding="utf-8")
    assert main(["train", str(spec_file), "--print-launch"]) == 0
    return capsys.readouterr().out.splitlines()


def test_print_launch_prints_one_line_per_machine_and_starts_nothing(tiny_spec, tmp_path, monkeypatch, capsys):
    lines = print_launch_of_two_machines(tiny_spec, tmp_path, monkeypatch, capsys, port=29511)
    assert len(lines) == 2
    commands = [shlex.split(line) for line in lines]
    assert [flag(command, "--machine_rank") for command in commands] == ["0", "1"]
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert flag(commands[1], "--run-dir") == str(run_dir)
    assert not (run_dir / "pid").exists() and not (run_dir / "events.jsonl").exists()  # nothing launched


def test_a_prepared_folder_reads_prepared_and_gives_its_lines_again(tiny_spec, tmp_path, monkeypatch, capsys):
    # It read "crashed" ("died without a final event"), and `resume --print-launch` refused it for want of a checkpoint.
    from workbench.core.runs.follow import RunFollower
    from workbench.core.runs.listing import read_run

    printed = print_launch_of_two_machines(tiny_spec, tmp_path, monkeypatch, capsys, port=29512)
    (run_dir,) = (tmp_path / "runs").iterdir()

    info = read_run(run_dir)
    assert info.status == "prepared" and not info.is_active
    assert f"workbench resume {run_dir.name} --print-launch" in info.error
    assert not RunFollower(run_dir).child_gone(), "not started is not gone: a monitor keeps waiting for it"

    assert main(["resume", run_dir.name, "--print-launch"]) == 0
    again = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]
    assert again == printed  # the start lines, not resume lines

    assert main(["resume", run_dir.name]) == 2
    error = capsys.readouterr().err
    assert "has not started" in error and f"workbench resume {run_dir.name} --print-launch" in error
    assert not (run_dir / "pid").exists(), "refused before anything is written"

    # Its main machine took it and died before any event: that one did crash.
    (run_dir / "pid").write_text("999999999", encoding="utf-8")
    assert read_run(run_dir).status == "crashed"


def test_sbatch_script_runs_accelerate_launch_on_every_node_with_slurms_rendezvous(tmp_path):
    run_dir = tmp_path / "run"
    spec = slurm_spec(default_spec(model="org/model", data="train.csv"), 2, 8)
    script = sbatch_script(spec, run_dir, nodes=2, gpus_per_node=8, partition="gpu", time_limit="02:00:00")
    python, pythonpath = sys.executable, child_environment()["PYTHONPATH"]
    assert (
        script
        == f"""#!/bin/bash
#SBATCH --job-name=workbench-run
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --output={run_dir}/slurm-%j.log
#SBATCH --partition=gpu
#SBATCH --time=02:00:00
# Written by `workbench slurm`: one task per node runs `accelerate launch` for its GPUs; the rendezvous
# comes from Slurm (SLURM_NNODES, SLURM_NODEID, the job's first host). The run folder is shared storage.
set -euo pipefail
MAIN_IP=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
export MAIN_IP PYTHONPATH={shlex.quote(pythonpath)}
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_DATASETS_DISABLE_PROGRESS_BARS=1
read -r -d '' NODE <<'WORKBENCH_NODE' || true
cd {run_dir}
LAUNCH=({python} -m accelerate.commands.launch --num_machines "$SLURM_NNODES" --machine_rank "$SLURM_NODEID" \
--main_process_ip "$MAIN_IP" --main_process_port 29500 --rdzv_backend static --num_processes "$((SLURM_NNODES * 8))" \
--mixed_precision no --dynamo_backend no --multi_gpu -m workbench.training.child --run-dir {run_dir})
if [ "$SLURM_NODEID" = 0 ]; then exec {python} -m workbench.training.launch --run-dir {run_dir} -- "${{LAUNCH[@]}}"; fi
exec "${{LAUNCH[@]}}"
WORKBENCH_NODE
srun --nodes="$SLURM_NNODES" --ntasks-per-node=1 bash -c "$NODE"
"""
    )


def test_slurm_writes_the_script_into_a_new_run_folder_and_says_when_sbatch_is_missing(
    tiny_spec, tmp_path, monkeypatch, capsys
):
    from workbench.training.spec import dump_spec

    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(dump_spec(tiny_spec), encoding="utf-8")
    code = main(["slurm", str(spec_file), "--nodes", "2", "--gpus-per-node", "4", "--submit"])
    assert code == 2
    assert "sbatch is not on PATH" in capsys.readouterr().err
    (run_dir,) = (tmp_path / "runs").iterdir()
    script = (run_dir / "slurm.sbatch").read_text(encoding="utf-8")
    assert "#SBATCH --nodes=2" in script and '"$((SLURM_NNODES * 4))"' in script
    assert "num_machines = 2" in (run_dir / "spec.toml").read_text(encoding="utf-8")
    from workbench.core.runs.listing import read_run

    info = read_run(run_dir)  # queued, not crashed
    assert info.status == "prepared" and "Slurm job (slurm.sbatch) has not begun" in info.error


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [("--time", "forever", "is not a Slurm time limit"), ("--partition", "a b;rm", "is not a Slurm partition name")],
)
def test_slurm_refuses_a_time_or_partition_sbatch_would_refuse(
    tiny_spec, tmp_path, monkeypatch, capsys, flag, value, words
):
    from workbench.commands.slurm import SLURM_PARTITIONS, SLURM_TIME
    from workbench.training.spec import dump_spec

    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(tmp_path / "runs"))
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(dump_spec(tiny_spec), encoding="utf-8")
    assert main(["slurm", str(spec_file), "--nodes", "2", "--gpus-per-node", "4", flag, value]) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # refused before the run folder
    assert all(SLURM_TIME.fullmatch(good) for good in ("90", "30:00", "02:00:00", "1-12", "1-12:00:00", "UNLIMITED"))
    assert all(SLURM_PARTITIONS.fullmatch(good) for good in ("gpu", "gpu-long", "gpu,gpu.h200"))


def test_node_samples_are_tagged_relayed_by_the_main_node_and_a_silent_node_is_named(tmp_path):
    relayed = []
    node1 = NodeSamples(tmp_path, 1, relayed.append, interval=0.01)
    main_node = NodeSamples(tmp_path, 0, relayed.append, interval=0.01)
    main_node.silent_after = 0.05
    node1(SystemSample(cpu_percent=1.0, rss_mb=2.0))
    assert relayed == []  # a non-main node never writes events.jsonl
    (written,) = EventReader(tmp_path / NODE_EVENTS.format(rank=1)).poll()
    assert written.extra["node_rank"] == 1 and written.extra["host"] == socket.gethostname()
    main_node(SystemSample(cpu_percent=3.0, rss_mb=4.0))
    assert [sample.extra["node_rank"] for sample in relayed] == [0, 1]
    time.sleep(0.1)
    main_node(SystemSample(cpu_percent=3.0, rss_mb=4.0))
    alerts = [event for event in relayed if isinstance(event, Alert)]
    assert len(alerts) == 1 and alerts[0].kind == "node_lost" and socket.gethostname() in alerts[0].message
    assert "Node 1" in alerts[0].message


def test_a_node_that_ends_cleanly_is_not_reported_and_one_that_vanishes_is(tmp_path):
    relayed = []
    main_node = NodeSamples(tmp_path, 0, relayed.append, interval=1.0, end_wait_s=0.2)
    clean, vanished = (NodeSamples(tmp_path, rank, relayed.append, interval=1.0) for rank in (1, 2))
    for node in (clean, vanished):
        node(SystemSample(cpu_percent=1.0, rss_mb=2.0))
    clean.stop()  # writes its end record; `vanished` never does (SIGKILL, a lost machine)
    main_node(SystemSample(cpu_percent=3.0, rss_mb=4.0))
    main_node.stop()
    alerts = [event.message for event in relayed if isinstance(event, Alert)]
    assert len(alerts) == 1 and alerts[0].startswith("Node 2 (") and "without ending" in alerts[0]


def test_a_resumed_run_relays_only_the_new_samples(tmp_path):
    old = NodeSamples(tmp_path, 1, lambda event: None, interval=1.0)
    old(SystemSample(cpu_percent=1.0, rss_mb=2.0))
    old.stop()
    session_start = time.time() + 0.01
    time.sleep(0.02)
    new = NodeSamples(tmp_path, 1, lambda event: None, interval=1.0)
    new(SystemSample(cpu_percent=5.0, rss_mb=6.0))  # this session's: written before the main node is up
    relayed = []
    main_node = NodeSamples(tmp_path, 0, relayed.append, interval=1.0, end_wait_s=0, since=session_start)
    main_node(SystemSample(cpu_percent=3.0, rss_mb=4.0))
    assert [(sample.extra["node_rank"], sample.cpu_percent) for sample in relayed] == [(0, 3.0), (1, 5.0)]


def test_the_main_node_waits_for_every_machine_it_has_not_heard_from(tmp_path):
    relayed = []
    main_node = NodeSamples(tmp_path, 0, relayed.append, interval=1.0, end_wait_s=10, machines=3)
    late = NodeSamples(tmp_path, 1, relayed.append, interval=1.0)

    def late_node():  # a slower machine: its first sample and its end come after the main node is done
        time.sleep(0.3)
        late(SystemSample(cpu_percent=1.0, rss_mb=2.0))
        late.stop()

    writer = threading.Thread(target=late_node)
    writer.start()
    main_node.end_wait_s = 1.5  # node 2 never writes: reported once this runs out
    main_node.stop()
    writer.join()
    assert [event.extra["node_rank"] for event in relayed if isinstance(event, SystemSample)] == [1]
    alerts = [event.message for event in relayed if isinstance(event, Alert)]
    assert len(alerts) == 1 and alerts[0].startswith("Node 2 (host unknown") and "without ending" in alerts[0]


def test_train_on_a_machine_other_than_the_main_one_points_to_print_launch(tiny_spec, tmp_path, monkeypatch, capsys):
    from workbench.training.spec import dump_spec

    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(tmp_path / "runs"))
    tiny_spec["training"].update(num_machines=2, machine_rank=1, main_process_ip="127.0.0.1")
    spec_file = tmp_path / "spec.toml"
    spec_file.write_text(dump_spec(tiny_spec), encoding="utf-8")
    assert main(["train", str(spec_file), "--detach"]) == 2
    assert "--print-launch" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # nothing created


def test_the_run_history_keeps_every_gpu_of_every_node():
    from workbench.core.runs.history import RunHistory
    from workbench.core.runs.protocol import GpuSample

    history = RunHistory()
    for node in (0, 1):
        sample = SystemSample(cpu_percent=1.0, rss_mb=1.0, gpus=[GpuSample(index=i, name="H200") for i in (0, 1)])
        sample.extra = {"host": f"node{node}", "node_rank": node}
        history.ingest([sample])
    assert len(history.gpus) == 4
