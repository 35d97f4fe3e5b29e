"""A spare run process, started ahead, so that the next run on this machine skips Python's start and the
imports of torch, transformers, accelerate and datasets (most of the 12 s before a run's first step on a
GPU machine, `benchmarks/RESULTS.md`).

Opt-in: with `WORKBENCH_SPARE_RUN=1` in the launcher's environment, every one-process run it starts also
starts a spare for the next one. A spare is a supervisor (`python -m workbench.training.spare`) with a child
(`python -m workbench.training.child --spare`) that imports what a run needs, creates no CUDA context (the
run picks its device) and waits on its stdin. The supervisor listens on `<runs>/.spare/run-<pid>.sock`.

A launcher hands it a run: the run folder, the child's arguments and the run's lock (passed as a file
descriptor). If the launcher's environment is the one the spare started with, the supervisor answers its
pid, points both processes' output at the run's stdout.log, tells the child its run, and from then on is
that run's supervisor (`launch.watch_child`). Otherwise it declines and the launcher starts the run the usual
way. A spare waits at most `--idle` seconds (10 minutes by default), then ends with its child.
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


def spare_sockets(runs_dir: Path) -> list[Path]:
    return spares.waiting(Path(runs_dir) / SPARE_DIR, KIND)


def child_arguments(command: list[str]) -> list[str] | None:
    """The child's own arguments when `command` starts the child directly (a one-process run), else None:
    runs under `accelerate launch` (several processes or machines, a user's config) take no spare."""
    head = [sys.executable, "-m", "workbench.training.child"]
    return command[len(head) :] if command[: len(head)] == head else None


def start_spare(runs_dir: Path, env: dict[str, str], idle_s: float = IDLE_S) -> int | None:
    """Start a spare for the next run in `runs_dir` unless one is waiting; its pid, or None."""
    if spare_sockets(runs_dir):
        return None
    folder = Path(runs_dir) / SPARE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "workbench.training.spare", "--runs-dir", str(runs_dir), "--idle", str(idle_s)]
    return spares.start(command, folder, KIND, env=env, cwd=folder)  # it outlives the launcher, as runs do


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


def _wait_for_run(server: socket.socket, child: subprocess.Popen, key: str, path: Path) -> tuple[dict, int] | None:
    """Answer launchers until one hands over a run this spare can take: (its request, the run's lock)."""
    while True:
        try:
            connection, _ = server.accept()
        except TimeoutError:
            return None
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
            with contextlib.suppress(OSError):
                path.unlink()  # taken: before the answer, so the launcher's next spare is not refused as a twin
            connection.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
            return request, fds[0]


def serve(runs_dir: Path, idle_s: float) -> int:
    from workbench.core.runs.folder import STDOUT_FILE
    from workbench.training.launch import watch_child

    folder = Path(runs_dir) / SPARE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    child = subprocess.Popen(
        [sys.executable, "-m", "workbench.training.child", "--spare"], stdin=subprocess.PIPE, cwd=folder
    )
    path = folder / f"run-{os.getpid()}.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        server.listen(4)
        server.settimeout(idle_s)
        taken = _wait_for_run(server, child, environment_key(dict(os.environ)), path)
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
    args = parser.parse_args(argv)
    return serve(args.runs_dir.resolve(), args.idle)


if __name__ == "__main__":
    raise SystemExit(main())
