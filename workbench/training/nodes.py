"""Several machines: the `accelerate launch` flags of each node, the checks made before a launch, and the
per-node system samples.

Accelerate (torchrun underneath) is the engine; this module only writes its command line. The spec's keys
carry Accelerate's names: `training.num_machines`, `machine_rank`, `main_process_ip`, `main_process_port`
(0 = Accelerate's 29500) and `rdzv_backend`; `training.num_processes` counts the processes of ONE machine
and `--num_processes` is the total over all machines, as Accelerate expects.

One run folder on shared storage. The global main process writes events.jsonl, checkpoints and final/
(`accelerator.is_main_process` in loop.py and child.py). Every node's local main process samples its own
host; a node other than the main one cannot write events.jsonl, so it appends its samples to
`events-node<R>.jsonl` (one writer per file), and the main process's sampler relays the new lines of
those files into events.jsonl on each of its ticks, tagged `host` and `node_rank` (extra keys, kept by
readers in `.extra`). A node whose samples stop for a while is reported by an alert naming its host.
The stop request (control/stop) is read by every rank, and the ranks agree on the step to stop at.
"""

from __future__ import annotations

import errno
import os
import shlex
import socket
import sys
import time
from pathlib import Path

from workbench.training.spec import FieldError

DEFAULT_PORT = 29500  # Accelerate's and torchrun's
NODE_EVENTS = "events-node{rank}.jsonl"
SILENT_INTERVALS = 5  # a node whose samples stop for this many intervals (10 s at least) is reported


def machines(spec: dict) -> int:
    return int(spec["training"].get("num_machines", 1) or 1)


def port(spec: dict) -> int:
    return int(spec["training"].get("main_process_port", 0) or DEFAULT_PORT)


def node_flags(spec: dict, machine_rank: int, processes_per_node: int) -> list[str]:
    """`accelerate launch`'s multi-node flags for one machine."""
    training = spec["training"]
    return [
        "--num_machines",
        str(machines(spec)),
        "--machine_rank",
        str(machine_rank),
        "--main_process_ip",
        str(training.get("main_process_ip", "")),
        "--main_process_port",
        str(port(spec)),
        "--rdzv_backend",
        str(training.get("rdzv_backend", "static")),
        "--num_processes",
        str(processes_per_node * machines(spec)),
    ]


def port_in_use(number: int, host: str = "") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, number))
        except OSError as error:
            return error.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def is_this_host(address: str) -> bool:
    try:
        wanted = {info[4][0] for info in socket.getaddrinfo(address, None)}
    except OSError:
        return False
    if any(item.startswith("127.") or item == "::1" for item in wanted):
        return True
    try:
        mine = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:
        mine = set()
    return bool(wanted & mine)


def launch_problems(spec: dict, machine_rank: int | None = None) -> list[FieldError]:
    """What the network says about a multi-node spec, by field: a main address that does not
    resolve, and on the main node a port already in use. Checked just before a launch, not in
    `validate_spec` (a DNS lookup may take seconds, and a running run holds its own port)."""
    if machines(spec) < 2:
        return []
    training = spec["training"]
    address = str(training.get("main_process_ip", ""))
    rank = training.get("machine_rank", 0) if machine_rank is None else machine_rank
    try:
        socket.getaddrinfo(address, None)
    except OSError as error:
        reason = error.strerror or str(error)
        return [
            FieldError(
                "training.main_process_ip",
                f"{address!r} does not resolve ({reason}); give the main machine's IP or a host name every node knows",
            )
        ]
    if rank == 0 and is_this_host(address) and port_in_use(port(spec)):
        return [
            FieldError(
                "training.main_process_port",
                f"port {port(spec)} is in use on this machine; pick another (1-65535), e.g. {free_port()}",
            )
        ]
    return []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def shell_line(command: list[str]) -> str:
    return shlex.join(command)


# Per-node samples ------------------------------------------------------------------------------


def node_rank() -> int:
    """This process's machine rank: torchrun's GROUP_RANK, else 0."""
    value = os.environ.get("GROUP_RANK", "0")
    return int(value) if value.isdigit() else 0


def session_start(slack_s: float = 2.0) -> float:
    """When this session of the run began: this process's start, less a little for clocks that differ
    between machines. Every node's process of a session starts after the last session ended."""
    import psutil

    return psutil.Process().create_time() - slack_s


class NodeSamples:
    """The sampler's `emit` on one node of a multi-node run: tags each sample with the host and node rank;
    on the main node writes it and relays the other nodes' files, elsewhere appends to its own file.

    A node that ends cleanly writes an end record (a log line tagged `node_end`) when its sampler stops.
    The main node reports as `node_lost`, naming the host: a node silent for `silent_after` seconds while
    the run goes on (a dead peer can hang the others' all-reduce), and, when the run ends, every node that
    sent samples but no end record within `end_wait_s`."""

    def __init__(
        self,
        run_dir: Path,
        rank: int,
        emit,
        interval: float,
        end_wait_s: float = 5.0,
        machines: int = 0,
        since: float | None = None,
    ) -> None:
        from workbench.core.runs.protocol import EventReader, EventWriter

        self.run_dir, self.rank, self.main_emit = Path(run_dir), rank, emit
        self.silent_after = max(SILENT_INTERVALS * interval, 10.0)
        self.end_wait_s = end_wait_s
        # The main node waits for an end record from every other machine, also one it has not heard from yet.
        self.expected = set(range(1, machines))
        # A resumed run's node files still hold the last session's lines: relay only those written since this
        # process started. By time, not by the files' sizes now: another node may already have written this
        # session's first samples before this one got here.
        self.since = session_start() if since is None else since
        self.host = socket.gethostname()
        self.writer = None if rank == 0 else EventWriter(self.run_dir / NODE_EVENTS.format(rank=rank))
        self.readers: dict[Path, EventReader] = {}
        self.last_seen: dict[int, tuple[str, float]] = {}
        self.ended: set[int] = set()
        self.reported: set[int] = set()

    def _node_files(self) -> list[Path]:
        return sorted(self.run_dir.glob(NODE_EVENTS.format(rank="*")))

    def __call__(self, sample) -> None:
        sample.extra = {**sample.extra, "host": self.host, "node_rank": self.rank}
        if self.rank != 0 and self.kill_requested():
            self.kill_this_node()
        if self.writer is not None:
            self.writer.emit(sample)
            return
        self.main_emit(sample)
        self.relay()

    def kill_requested(self) -> bool:
        from workbench.core.runs.folder import KILL_FILE

        return (self.run_dir / KILL_FILE).exists()

    def kill_this_node(self) -> None:
        """`workbench stop --kill` on another host: SIGKILL this node's launcher and ranks. torchrun starts
        each rank in a session of its own, so the process group is not enough: the launcher (this rank's
        parent, `accelerate launch`) and everything under it are killed, this process last."""
        import psutil

        print(f"workbench: node {self.rank} ({self.host}) killed on request", flush=True)
        me = psutil.Process()
        launcher = me.parent()
        command = " ".join(launcher.cmdline()) if launcher is not None else ""
        members = [me]
        if launcher is not None and any(word in command for word in ("accelerate", "torchrun", "torch.distributed")):
            members = [launcher, *launcher.children(recursive=True)]
        for member in sorted(members, key=lambda process: process.pid == me.pid):
            try:
                member.kill()
            except psutil.NoSuchProcess:
                pass

    def relay(self) -> None:
        from workbench.core.runs.protocol import EventReader, LogLine, SystemSample

        for path in self._node_files():
            reader = self.readers.setdefault(path, EventReader(path))
            for event in reader.poll():
                rank = event.extra.get("node_rank")
                if not isinstance(rank, int) or event.time < self.since:
                    continue
                if isinstance(event, LogLine) and event.extra.get("node_end"):
                    self.ended.add(rank)
                elif isinstance(event, SystemSample):
                    self.last_seen[rank] = (str(event.extra.get("host", "?")), time.time())
                    self.reported.discard(rank)
                    self.main_emit(event)
        for rank, (_, seen) in list(self.last_seen.items()):
            silent = time.time() - seen
            if rank not in self.reported and rank not in self.ended and silent > self.silent_after:
                self.lost(rank, f"has sent no system sample for {silent:.0f} s")

    def lost(self, rank: int, what: str) -> None:
        from workbench.core.runs.protocol import Alert

        self.reported.add(rank)
        host = self.last_seen.get(rank, ("host unknown: it sent no sample", 0.0))[0]
        message = f"Node {rank} ({host}) {what}; it may have died (its processes, its network or the shared folder)"
        print(f"workbench: {message}", flush=True)
        self.main_emit(Alert(kind="node_lost", message=message))

    def stop(self) -> None:
        from workbench.core.runs.protocol import LogLine

        if self.writer is not None:
            end = LogLine(message=f"node {self.rank} ({self.host}) ended")
            end.extra = {"host": self.host, "node_rank": self.rank, "node_end": True}
            self.writer.emit(end)
            self.writer.close()
            return
        deadline = time.monotonic() + self.end_wait_s
        while True:
            self.relay()
            missing = [
                rank
                for rank in sorted(self.expected | set(self.last_seen))
                if rank not in self.ended and rank not in self.reported
            ]
            if not missing or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        for rank in missing:
            self.lost(rank, "stopped without ending its part of the run")


def node_commands(spec: dict, run_dir: Path, *, resume: bool = False) -> list[list[str]]:
    """One command per machine rank, to run on that machine; rank 0's runs under the supervisor
    (`python -m workbench.training.launch`), which takes the run's lock and records a crash. A resume
    needs every node's line with `resume=True`: each rank loads the checkpoint."""
    from workbench.core.runs.folder import absolute
    from workbench.training.launch import launch_command

    run_dir = absolute(run_dir)
    supervisor = [sys.executable, "-m", "workbench.training.launch", "--run-dir", str(run_dir), "--"]
    return [
        (supervisor if rank == 0 else []) + launch_command(spec, run_dir, resume=resume, machine_rank=rank)
        for rank in range(machines(spec))
    ]


def resume_commands(run_dir: Path) -> list[list[str]]:
    """A multi-machine run's resume: one command per machine rank (each rank loads the checkpoint); for a
    folder `--print-launch` prepared and nothing started, its start lines again."""
    from workbench.core.runs.folder import RunBusy, absolute, clear_requests
    from workbench.core.runs.listing import PREPARED, load_spec_quietly, read_run
    from workbench.training.launch import _check_resumable

    run_dir = absolute(run_dir)
    seen = read_run(run_dir)
    if seen.is_active:
        raise RunBusy(f"Run {seen.run_id} is already running (it is {seen.status}); stop it before resuming.")
    if seen.status == PREPARED:  # never started: its lines start it (the ones `train --print-launch` printed)
        return node_commands(load_spec_quietly(run_dir), run_dir)
    spec = _check_resumable(run_dir, seen)
    clear_requests(run_dir)
    return node_commands(spec, run_dir, resume=True)


def take_run(run_dir: Path) -> int:
    """The supervisor's start on a multi-node run's main machine, by hand: the run's lock (exits with a
    one-line message when another process owns the run), the launch time and the pid file."""
    from workbench.core.errors import WorkbenchError
    from workbench.core.runs.folder import CONTROL_DIR, LAUNCHED_FILE, PID_FILE, acquire_lock

    try:
        lock_fd = acquire_lock(run_dir)
    except WorkbenchError as error:
        print(f"workbench: {error}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    (run_dir / CONTROL_DIR).mkdir(exist_ok=True)
    (run_dir / LAUNCHED_FILE).write_text(repr(time.time()), encoding="utf-8")
    (run_dir / PID_FILE).write_text(str(os.getpid()), encoding="utf-8")
    return lock_fd
