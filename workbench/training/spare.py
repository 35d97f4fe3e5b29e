"""A spare run process, started ahead, so that the next run on this machine skips Python's start and the
imports of torch, transformers, accelerate and datasets (most of the 12 s before a run's first step on a
GPU machine, `benchmarks/RESULTS.md`).

On unless `WORKBENCH_SPARE_RUN=0` is in the launcher's environment: every one-process run it starts also
starts a spare for the next one, which begins its imports once that run has made its first step (so the two
never compete for the CPU at a run's start). A spare is a supervisor (`python -m workbench.training.spare`) with a child
(`python -m workbench.training.child --spare`) that imports what a run needs, creates no CUDA context (the
run picks its device) and waits on its stdin. The supervisor listens on `<runs>/.spare/run-<pid>.sock`.

A launcher hands it a run: the run folder, the child's arguments and the run's lock (passed as a file
descriptor). If the launcher's environment is the one the spare started with, the supervisor answers its
pid, points both processes' output at the run's stdout.log, tells the child its run, and from then on is
that run's supervisor (`launch.watch_child`). Otherwise it declines and the launcher starts the run the usual
way. A spare waits at most `--idle` seconds (10 minutes by default) counted from the end of the run it was
started beside (from its own start when there is none), then ends with its child.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from workbench.core import spares
from workbench.core.spares import IDLE_S, SPARE_DIR, SPARE_ENV, enabled, environment_key  # noqa: F401

KIND = "run"
AFTER_TIMEOUT_S = 300.0  # a run slower than this to its first step (a long tokenization) no longer holds a spare back
ACCEPT_POLL_S = 5.0  # how often a waiting spare looks at its idle clock
MAX_WAIT_S = 24 * 3600.0


def spare_sockets(runs_dir: Path) -> list[Path]:
    return spares.waiting(Path(runs_dir) / SPARE_DIR, KIND)


def child_arguments(command: list[str]) -> list[str] | None:
    """The child's own arguments when `command` starts the child directly (a one-process run), else None:
    runs under `accelerate launch` (several processes or machines, a user's config) take no spare."""
    head = [sys.executable, "-m", "workbench.training.child"]
    return command[len(head) :] if command[: len(head)] == head else None


def start_spare(runs_dir: Path, env: dict[str, str], idle_s: float = IDLE_S, after: Path | None = None) -> int | None:
    """Start a spare for the next run in `runs_dir` unless one is waiting; its pid, or None. With `after` (the
    run just launched), the spare starts its imports once that run has made its first step or ended."""
    folder = Path(runs_dir) / SPARE_DIR
    if spares.alive(folder, KIND):  # one waiting, or still starting: one spare is enough
        return None
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "workbench.training.spare", "--runs-dir", str(runs_dir), "--idle", str(idle_s)]
    if after is not None:
        command += ["--after", str(after)]
    return spares.start(command, folder, KIND, env=env, cwd=folder)  # it outlives the launcher, as runs do


class RunProgress:
    """How far the run a spare was started beside has come, read from its events as they are appended."""

    def __init__(self, run_dir: Path) -> None:
        from workbench.core.runs.folder import EVENTS_FILE
        from workbench.core.runs.protocol import EventReader

        self.reader = EventReader(Path(run_dir) / EVENTS_FILE)
        self.stepped = False
        self.ended = False

    def poll(self) -> RunProgress:
        from workbench.core.runs.protocol import Failed, Finished, ProtocolError, Step

        try:
            events = self.reader.poll()
        except (OSError, ProtocolError):
            events = []
        for event in events:
            self.stepped = self.stepped or isinstance(event, Step)
            self.ended = self.ended or isinstance(event, Finished | Failed)
        return self


def wait_for_first_step(progress: RunProgress, timeout_s: float = AFTER_TIMEOUT_S, interval_s: float = 0.5) -> str:
    """Wait until the run `progress` reads has made its first step ("step") or ended ("ended"), at most
    `timeout_s` ("timeout"). A spare's imports would otherwise compete with that run's own start for the
    CPU (on a 2-core machine both took twice as long)."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        progress.poll()
        if progress.ended:
            return "ended"
        if progress.stepped:
            return "step"
        if time.monotonic() >= deadline:
            return "timeout"
        time.sleep(interval_s)


def hand_off(runs_dir: Path, run_dir: Path, child_args: list[str], lock_fd: int, env: dict[str, str]) -> int | None:
    """Give the run to a waiting spare: the spare supervisor's pid, or None (none waiting, or none took it)."""
    request = json.dumps({"run_dir": str(run_dir), "args": child_args, "env": environment_key(env)}).encode()
    for path in spare_sockets(runs_dir):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(10)
                connection.connect(str(path))
                socket.send_fds(connection, [request + b"\n"], [lock_fd])
                reply = json.loads(connection.makefile("rb").readline() or b"{}")
        except (ConnectionRefusedError, FileNotFoundError):
            with contextlib.suppress(OSError):
                path.unlink()  # its spare is gone (killed, or the machine restarted)
            continue
        except (OSError, ValueError):
            continue
        if isinstance(reply.get("pid"), int):
            return reply["pid"]
    return None


def stop_spares(runs_dir: Path) -> int:
    """End the spares of `runs_dir`, waiting or still importing (each with its child: they share a process
    group); how many."""
    return spares.stop(Path(runs_dir) / SPARE_DIR, KIND)


# -- the spare supervisor --------------------------------------------------------------------------------


class IdleClock:
    """A spare's idle time: counted from the end of the run it was started beside (the next run usually
    comes after it, however long it trains), or from its start when there is none."""

    def __init__(self, idle_s: float, progress: RunProgress | None) -> None:
        import time

        self.idle_s = idle_s
        self.progress = progress
        self.since = time.monotonic() if progress is None else None
        self.started = time.monotonic()

    def expired(self) -> bool:
        import time

        now = time.monotonic()
        if self.since is None and self.progress.poll().ended:
            self.since = now
        if self.since is None:
            return now - self.started >= MAX_WAIT_S  # a run that never records its end holds it back no longer
        return now - self.since >= self.idle_s


def _wait_for_run(
    server: socket.socket, child: subprocess.Popen, key: str, path: Path, idle: IdleClock
) -> tuple[dict, int] | None:
    """Answer launchers until one hands over a run this spare can take: (its request, the run's lock);
    None once the spare has been idle too long."""
    server.settimeout(min(ACCEPT_POLL_S, idle.idle_s))
    while True:
        try:
            connection, _ = server.accept()
        except TimeoutError:
            if idle.expired():
                return None
            continue
        with connection:
            try:
                message, fds, _, _ = socket.recv_fds(connection, 1 << 16, 1)
                request = json.loads(message)
            except (OSError, ValueError):
                continue
            reason = None
            if child.poll() is not None:
                reason = "its child has ended"
            elif request.get("env") != key:
                reason = "another environment"
            elif not fds:
                reason = "no lock"
            if reason is not None:
                for fd in fds:
                    os.close(fd)
                with contextlib.suppress(OSError):
                    connection.sendall(json.dumps({"declined": reason}).encode() + b"\n")
                if child.poll() is not None:
                    return None
                continue
            for own_file in (path, path.with_suffix(".pid")):
                with contextlib.suppress(OSError):
                    own_file.unlink()  # taken: before the answer, so the launcher's next spare is not refused as a twin
            connection.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
            return request, fds[0]


def serve(runs_dir: Path, idle_s: float, after: Path | None = None) -> int:
    from workbench.core.runs.folder import STDOUT_FILE
    from workbench.training.launch import watch_child

    folder = Path(runs_dir) / SPARE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    progress = None
    if after is not None:
        progress = RunProgress(after)  # read on by the idle clock: the run's end starts the idle time
        wait_for_first_step(progress)
    child = subprocess.Popen(
        [sys.executable, "-m", "workbench.training.child", "--spare"], stdin=subprocess.PIPE, cwd=folder
    )
    path = folder / f"run-{os.getpid()}.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        server.listen(4)
        idle = IdleClock(idle_s, progress)
        taken = _wait_for_run(server, child, environment_key(dict(os.environ)), path, idle)
    finally:
        server.close()
        with contextlib.suppress(OSError):
            path.unlink()
        with contextlib.suppress(OSError):
            (folder / f"run-{os.getpid()}.pid").unlink()  # taken or ending: no longer a spare
    if taken is None:
        child.kill()
        child.wait()
        return 0
    request, lock_fd = taken
    run_dir = Path(request["run_dir"])
    log = os.open(run_dir / STDOUT_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.chdir(run_dir)
    child.stdin.write(json.dumps({"run_dir": str(run_dir), "args": request["args"]}).encode() + b"\n")
    child.stdin.close()
    return watch_child(run_dir, child, lock_fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workbench.training.spare")
    parser.add_argument("--runs-dir", required=True, type=Path)
    parser.add_argument("--idle", type=float, default=IDLE_S)
    parser.add_argument(
        "--after",
        type=Path,
        help="start the imports once this run has made its first step, and count the idle time from its end",
    )
    args = parser.parse_args(argv)
    return serve(args.runs_dir.resolve(), args.idle, args.after)


if __name__ == "__main__":
    raise SystemExit(main())
