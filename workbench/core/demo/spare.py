"""A spare demo model process, started ahead: the next `workbench demo` on this machine skips Python's start
and the imports of torch and transformers (most of a demo's start, `benchmarks/RESULTS.md`).

Opt-in, with the training spare's switch (`WORKBENCH_SPARE_RUN=1`): each demo started also starts a spare
(`python -m workbench.core.demo.spare`) that imports what loading a model needs and listens on
`<runs>/.spare/demo-<pid>.sock` (a folder only its owner can enter, and a random key checked on connecting).
The next demo connects, sends its target and label names, and the spare becomes that demo's model process:
it loads the model, warms it up and answers over the connection (`worker._load_and_answer`), exactly as
the process a demo spawns itself. A spare from another environment declines; one unused for `--idle`
seconds (10 minutes by default) ends.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import sys
import threading
from pathlib import Path

from workbench.core import spares
from workbench.core.spares import IDLE_S, SPARE_DIR, SPARE_ENV, enabled, environment_key  # noqa: F401

KIND = "demo"


def spare_folder() -> Path:
    from workbench.core.runs.folder import runs_dir

    return runs_dir() / SPARE_DIR


def waiting(folder: Path) -> list[Path]:
    return spares.waiting(folder, KIND)


def start_spare(folder: Path | None = None, idle_s: float = IDLE_S, env: dict | None = None) -> int | None:
    """Start a spare for the next demo unless one is waiting; its pid, or None. `env`: the environment the
    demo had when it looked for a spare (before gradio's import added variables), which the next demo's must equal."""
    folder = folder or spare_folder()
    if waiting(folder):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    command = [sys.executable, "-m", "workbench.core.demo.spare", "--folder", str(folder), "--idle", str(idle_s)]
    return spares.start(command, folder, KIND, env=env)


def stop_spares(folder: Path | None = None) -> int:
    """End the demo spares of `folder`, waiting or still importing; how many."""
    return spares.stop(folder or spare_folder(), KIND)


def connect(target, labels_text: str | None, folder: Path | None = None):
    """A connection to a waiting spare that took this demo (it is loading the model now), or None."""
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Client

    folder = folder or spare_folder()
    for path in waiting(folder):
        key_file = path.with_suffix(".key")
        try:
            authkey = key_file.read_bytes()
            connection = Client(str(path), family="AF_UNIX", authkey=authkey)
        except (OSError, EOFError, ValueError, AuthenticationError):
            with contextlib.suppress(OSError):
                path.unlink()  # its spare is gone
                key_file.unlink()
            continue
        try:
            connection.send(("demo", target, labels_text, environment_key(os.environ)))
            answer = connection.recv()
        except (OSError, EOFError):
            connection.close()
            continue
        if answer == "taken":
            return connection
        connection.close()
    return None


# -- the spare ---------------------------------------------------------------------------------------------


def preload() -> None:
    """What loading any model for a demo imports (no device is touched)."""
    import torch  # noqa: F401
    import transformers.modeling_utils  # noqa: F401  (the heavy part of every model class's import)
    from transformers import AutoConfig, AutoTokenizer  # noqa: F401

    from workbench.core.demo import answers, target  # noqa: F401


def serve(folder: Path, idle_s: float) -> int:
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Listener

    from workbench.core.demo.worker import _serve

    key = environment_key(os.environ)  # before the imports: torch and transformers set variables of their own
    preload()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"demo-{os.getpid()}.sock"
    key_file = path.with_suffix(".key")
    pid_file = folder / f"demo-{os.getpid()}.pid"
    authkey = secrets.token_bytes(32)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(authkey)
    # Listener.accept has no timeout: an unused spare is ended by this timer, cancelled once taken.
    idle = threading.Timer(idle_s, lambda: (_remove(path, key_file, pid_file), os._exit(0)))
    idle.daemon = True
    listener = Listener(str(path), family="AF_UNIX", authkey=authkey)
    try:
        idle.start()
        while True:
            try:
                connection = listener.accept()
                request = connection.recv()
            except (OSError, EOFError, ValueError, AuthenticationError):  # a wrong key, or a launcher gone
                continue
            if not (isinstance(request, tuple) and len(request) == 4 and request[0] == "demo"):
                connection.close()
                continue
            if request[3] != key:
                connection.send("declined")
                connection.close()
                continue
            idle.cancel()
            break
    finally:
        with contextlib.suppress(OSError):
            listener.close()  # removes the socket: taken, so the next demo starts its own spare
        _remove(path, key_file, pid_file)
    connection.send("taken")
    _, target, labels_text, _ = request
    _serve(connection, target, labels_text)
    return 0


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workbench.core.demo.spare")
    parser.add_argument("--folder", required=True, type=Path)
    parser.add_argument("--idle", type=float, default=IDLE_S)
    args = parser.parse_args(argv)
    return serve(args.folder, args.idle)


if __name__ == "__main__":
    raise SystemExit(main())
