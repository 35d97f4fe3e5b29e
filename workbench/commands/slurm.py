"""`workbench slurm SPEC --nodes N --gpus-per-node G`: a run folder with an `sbatch` script that trains on N nodes.

The script runs one task per node (`srun`); each runs `accelerate launch` for its GPUs with the rendezvous
taken from Slurm's environment: `SLURM_NNODES` machines, `SLURM_NODEID` as the machine rank, and the first
host of `scontrol show hostnames $SLURM_JOB_NODELIST` as the main address. Node 0 runs under the run's
supervisor (the lock, the crash record), as `workbench train` does. The run folder, this Python and the
workbench must be on storage every node sees. `--submit` calls `sbatch` when it is on PATH.
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

SLURM_PLACEHOLDER_IP = "slurm-first-node"  # the spec's main_process_ip; the script passes the real one
# sbatch's --time forms: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, or no limit.
SLURM_TIME = re.compile(r"(\d+-)?\d+(:\d+){0,2}|unlimited|infinite", re.IGNORECASE)
SLURM_PARTITIONS = re.compile(r"[\w.-]+(,[\w.-]+)*")  # one partition, or several with commas


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "slurm",
        help="write an sbatch script that trains a spec on several nodes (and --submit it)",
        description="Create a run folder holding the spec and an sbatch script: srun starts `accelerate launch`"
        " on every node, with the rendezvous from Slurm's environment. Nothing runs until it is submitted.",
    )
    parser.add_argument("spec", help="the run spec (TOML)")
    parser.add_argument("--nodes", type=int, required=True, help="machines (Slurm nodes)")
    parser.add_argument("--gpus-per-node", type=int, required=True, help="GPUs, and so processes, per node")
    parser.add_argument("--partition", help="the Slurm partition (#SBATCH --partition)")
    parser.add_argument("--time", help="the time limit, e.g. 02:00:00 (#SBATCH --time)")
    parser.add_argument("--submit", action="store_true", help="submit the script with sbatch")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a spec field, e.g. --set training.learning_rate=3e-5 (repeatable)",
    )
    parser.set_defaults(handler=run)


def slurm_spec(spec: dict, nodes: int, gpus_per_node: int) -> dict:
    training = spec.setdefault("training", {})
    training.update(num_machines=nodes, num_processes=gpus_per_node, machine_rank=0)
    if not training.get("main_process_ip"):
        training["main_process_ip"] = SLURM_PLACEHOLDER_IP
    return spec


def node_script(spec: dict, run_dir: Path, gpus_per_node: int) -> str:
    """The bash each node's task runs: `accelerate launch` with Slurm's rendezvous, node 0 supervised."""
    from workbench.training.launch import launch_command

    command = launch_command(spec, run_dir, gpus=gpus_per_node, machine_rank=0)
    from_slurm = {
        "--num_machines": '"$SLURM_NNODES"',
        "--machine_rank": '"$SLURM_NODEID"',
        "--main_process_ip": '"$MAIN_IP"',
        "--num_processes": f'"$((SLURM_NNODES * {gpus_per_node}))"',
    }
    words = [shlex.quote(word) for word in command]
    for flag, shell in from_slurm.items():
        words[command.index(flag) + 1] = shell
    supervisor = shlex.join([sys.executable, "-m", "workbench.training.launch", "--run-dir", str(run_dir), "--"])
    return "\n".join(
        [
            f"cd {shlex.quote(str(run_dir))}",
            "LAUNCH=(" + " ".join(words) + ")",
            'if [ "$SLURM_NODEID" = 0 ]; then exec ' + supervisor + ' "${LAUNCH[@]}"; fi',
            'exec "${LAUNCH[@]}"',
        ]
    )


def sbatch_script(
    spec: dict, run_dir: Path, *, nodes: int, gpus_per_node: int, partition: str | None, time_limit: str | None
) -> str:
    from workbench.training.launch import child_environment

    pythonpath = child_environment()["PYTHONPATH"]
    lines = [
        "#!/bin/bash",
        f"#SBATCH --job-name=workbench-{run_dir.name}",
        f"#SBATCH --nodes={nodes}",
        "#SBATCH --ntasks-per-node=1",
        f"#SBATCH --gpus-per-node={gpus_per_node}",
        f"#SBATCH --output={run_dir}/slurm-%j.log",
    ]
    lines += [f"#SBATCH --partition={partition}"] if partition else []
    lines += [f"#SBATCH --time={time_limit}"] if time_limit else []
    lines += [
        "# Written by `workbench slurm`: one task per node runs `accelerate launch` for its GPUs; the rendezvous",
        "# comes from Slurm (SLURM_NNODES, SLURM_NODEID, the job's first host). The run folder is shared storage.",
        "set -euo pipefail",
        'MAIN_IP=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
        f"export MAIN_IP PYTHONPATH={shlex.quote(pythonpath)}",
        "export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_DATASETS_DISABLE_PROGRESS_BARS=1",
        "read -r -d '' NODE <<'WORKBENCH_NODE' || true",
        node_script(spec, run_dir, gpus_per_node),
        "WORKBENCH_NODE",
        'srun --nodes="$SLURM_NNODES" --ntasks-per-node=1 bash -c "$NODE"',
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from workbench.core.errors import WorkbenchError
    from workbench.core.runs.folder import SLURM_SCRIPT_FILE
    from workbench.core.runs.listing import load_spec_quietly
    from workbench.training import spec as specs
    from workbench.training.launch import launch_run

    for name, value in (("--nodes", args.nodes), ("--gpus-per-node", args.gpus_per_node)):
        if value < 1:
            raise WorkbenchError(f"{name} must be 1 or more, not {value}.")
    # Checked here: sbatch would refuse the script only once submitted, maybe from another machine.
    if args.time is not None and not SLURM_TIME.fullmatch(args.time):
        raise WorkbenchError(
            f"--time {args.time!r} is not a Slurm time limit.",
            hint="Use minutes, H:M:S or D-H:M:S, e.g. 90, 02:00:00 or 1-12:00:00.",
        )
    if args.partition is not None and not SLURM_PARTITIONS.fullmatch(args.partition):
        raise WorkbenchError(
            f"--partition {args.partition!r} is not a Slurm partition name.",
            hint="Letters, digits, '_', '-' and '.'; several partitions separated by commas (gpu,gpu-long).",
        )
    spec = specs.load_spec(args.spec)
    if args.overrides:
        spec = specs.apply_overrides(spec, args.overrides)
    spec = slurm_spec(spec, args.nodes, args.gpus_per_node)
    # The main address is only known once Slurm has placed the job: no DNS or port check here.
    info = launch_run(spec, start=False, check_network=False)
    script = info.path / SLURM_SCRIPT_FILE
    full = load_spec_quietly(info.path)
    text = sbatch_script(
        full,
        info.path,
        nodes=args.nodes,
        gpus_per_node=args.gpus_per_node,
        partition=args.partition,
        time_limit=args.time,
    )
    script.write_text(text, encoding="utf-8")
    print(f"wrote {script}")
    if not args.submit:
        print(f"  submit: sbatch {shlex.quote(str(script))}\n  follow: workbench logs {info.run_id} -f")
        return 0
    sbatch = shutil.which("sbatch")
    if sbatch is None:
        raise WorkbenchError(
            "sbatch is not on PATH on this machine; the script was written but not submitted.",
            hint=f"Submit it from the cluster's login node: sbatch {script}",
        )
    result = subprocess.run([sbatch, str(script)], cwd=info.path, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise WorkbenchError(f"sbatch refused {script}: {(result.stderr or result.stdout).strip()}")
    print(result.stdout.strip())
    return 0
