"""A spare demo, started ahead: the next `workbench demo` on this machine skips Python's start and the
imports of gradio, torch and transformers (most of a demo's start, `benchmarks/RESULTS.md`).

On unless `WORKBENCH_SPARE_RUN=0` (the training spare's switch): each demo, once it serves, starts a
spare (`python -m workbench.core.demo.spare`). It spawns its model process at once (which imports torch and
transformers, `worker.RemoteAnswerer.ahead`), imports gradio as a demo does (`startup.import_gradio`) and
the app, then listens on `<runs>/.spare/demo-<pid>.sock` (a folder only its owner can enter, and a random
key checked on connecting). The next demo connects and sends what it resolved (target, labels, host,
port, share, its folder); the spare's model process loads the model, the spare builds the page and
launches it, and sends back the URL (or why it cannot serve: one line). The command prints what it
prints without a spare and waits: its Ctrl-C, its end or its closed connection stops the demo and ends
the spare and its model process, so a demo never outlives its command.

A spare from another environment declines (the demo then starts the usual way); one unused for `--idle`
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
    if spares.alive(folder, KIND):  # one waiting, or still starting: one spare is enough
        return None
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    command = [sys.executable, "-m", "workbench.core.demo.spare", "--folder", str(folder), "--idle", str(idle_s)]
    return spares.start(command, folder, KIND, env=env)


def stop_spares(folder: Path | None = None) -> int:
    """End the demo spares of `folder`, waiting or still importing; how many."""
    return spares.stop(folder or spare_folder(), KIND)


def start_next(environment: dict) -> int | None:
    """Unless WORKBENCH_SPARE_RUN=0 in `environment` (the demo's, before gradio's import added variables), a
    spare for the next demo; its pid, or None. Called once a demo serves: not competing with its start."""
    if not enabled(environment):
        return None
    try:
        return start_spare(env=environment)
    except OSError:
        return None  # a spare only saves time


class TakenDemo:
    """A demo a spare serves for this command: `wait_served`, then `wait` until `stop` (or this process's
    end, which closes the connection) ends it."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def wait_served(self) -> dict | None:
        """The URL, port, share link and timings once it serves; WorkbenchError with why it cannot
        (the message the command prints without a spare); None when the spare vanished before serving."""
        from workbench.core.errors import WorkbenchError

        try:
            answer = self.connection.recv()
        except (EOFError, OSError):
            return None
        if answer[0] == "error":
            raise WorkbenchError(answer[1], hint=answer[2])
        return answer[1]

    def wait(self) -> None:
        """Until the spare ends by itself (it should not) or sends anything."""
        with contextlib.suppress(EOFError, OSError):
            self.connection.recv()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the demo and end the spare, waiting (up to `timeout_s`) until its port is free."""
        with contextlib.suppress(EOFError, OSError, ValueError):
            self.connection.send("stop")
            if self.connection.poll(timeout_s):
                self.connection.recv()  # "stopped"
        self.connection.close()


def take(request: dict, environment: dict, folder: Path | None = None) -> TakenDemo | None:
    """The demo `request` (target, labels, host, port, share, cwd) given to a waiting spare from the same
    `environment`, which starts it now; None when none takes it."""
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
            connection.send(("demo", environment_key(environment), request))
            answer = connection.recv()
        except (OSError, EOFError):
            connection.close()
            continue
        if answer == "taken":
            return TakenDemo(connection)
        connection.close()
    return None


# -- the spare ---------------------------------------------------------------------------------------------


def preload() -> None:
    """What loading any model for a demo imports (no device is touched): the model process's part."""
    import torch  # noqa: F401
    import transformers.modeling_utils  # noqa: F401  (the heavy part of every model class's import)
    from transformers import AutoConfig, AutoTokenizer  # noqa: F401

    from workbench.core.demo import answers, target  # noqa: F401


def prepare_front() -> None:
    """What serving a demo imports, as `workbench demo` imports it: the spare's own part."""
    from workbench.core.demo import require_gradio

    require_gradio(terminal=True)  # the demo's startup tweaks: no stub writing, no IPython
    from workbench.core.demo import app  # noqa: F401


def serve(folder: Path, idle_s: float) -> int:
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Listener

    from workbench.core.demo.worker import RemoteAnswerer
    from workbench.core.errors import WorkbenchError

    key = environment_key(os.environ)  # before the imports: gradio, torch and transformers set variables
    pid_file = folder / f"demo-{os.getpid()}.pid"
    model = RemoteAnswerer.ahead()  # imports torch and transformers on the other core while gradio imports here
    try:
        prepare_front()
        model.wait_preloaded()  # listening means taking a demo costs only its own model's load
    except WorkbenchError:  # gradio missing, or the model process gone: no spare, the demos start as usual
        model.close(wait_s=0.2)
        _remove(pid_file)
        return 1
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"demo-{os.getpid()}.sock"
    key_file = path.with_suffix(".key")
    authkey = secrets.token_bytes(32)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(authkey)
    # Listener.accept has no timeout: an unused spare is ended by this timer, cancelled once taken
    # (its model process ends with it: its pipe closes).
    idle = threading.Timer(idle_s, lambda: (_remove(path, key_file, pid_file), os._exit(0)))
    idle.daemon = True
    listener = Listener(str(path), family="AF_UNIX", authkey=authkey)
    try:
        idle.start()
        while True:
            try:
                connection = listener.accept()
                request = connection.recv()
            except (OSError, EOFError, ValueError, AuthenticationError):  # a wrong key, or a taker gone
                continue
            if not (isinstance(request, tuple) and len(request) == 3 and request[0] == "demo"):
                connection.close()
                continue
            if request[1] != key:
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
    _Front(connection, model).run(request[2])
    return 0


def expected_labels(target, labels_text: str | None) -> dict[int, str]:
    """The label names the model will have once loaded, from small files (the page is built while it
    loads; a wrong guess only costs building it again)."""
    from workbench.core.demo.target import _read_config
    from workbench.core.errors import WorkbenchError
    from workbench.core.models.heads import head_kind
    from workbench.core.models.labels import parse_labels

    try:
        if labels_text and head_kind(target.head).takes_labels:
            return parse_labels(labels_text).id2label
        config = _read_config(Path(target.model_path))
        names = config.get("id2label") or {0: "LABEL_0", 1: "LABEL_1"}  # transformers' default
        return {int(key): str(value) for key, value in names.items()}
    except (WorkbenchError, OSError, ValueError, AttributeError, KeyError):
        return {}


class _Front:
    """The taken spare serving its command's demo, until the command says stop or is gone (its
    connection closes): then the demo is closed, the model process ended and this process exits."""

    def __init__(self, connection, model) -> None:
        self.connection = connection
        self.model = model
        self.lock = threading.Lock()  # an end waits for a launch under way, then closes what it launched
        self.served = None

    def run(self, request: dict) -> None:
        from workbench.core.demo.app import build_app
        from workbench.core.demo.startup import Timeline
        from workbench.core.errors import WorkbenchError

        threading.Thread(target=self._watch, name="demo-command", daemon=True).start()
        timeline = Timeline()
        try:
            os.chdir(request["cwd"])  # a target's relative paths are the command's
            target = request["target"]
            self.model.load(target, request["labels"])
            expected = self.model.id2label = expected_labels(target, request["labels"])
            demo = build_app(target, None, self.model)  # while the model loads, on the other core
            timeline.mark("build")
            self.model.wait_loaded()
            timeline.mark("wait for model")
            if self.model.id2label != expected:  # the page names the labels: built again with the model's
                demo = build_app(target, None, self.model)
                timeline.mark("build again")
            self._launch(demo, request)  # while the model warms up; questions wait for it (`ready`)
            timeline.mark("launch")
            self.model.wait_ready()
            timeline.mark("wait for warm-up")
        except WorkbenchError as error:
            self.end(("error", error.message, error.hint))
        except Exception as error:  # noqa: BLE001 - the command prints one line
            self.end(("error", f"The demo cannot start: {type(error).__name__}: {error}", None))
        steps = [(f"{name} [spare]", wall, cpu) for name, wall, cpu in timeline.steps]
        steps += [(f"{name} [child]", wall, cpu) for name, (wall, cpu) in self.model.timings.items()]
        served = self.served
        answer = {"url": served.url, "port": served.port, "share_url": getattr(demo, "share_url", None)}
        try:
            self.connection.send(("served", {**answer, "steps": steps}))
        except (OSError, ValueError):
            self.end()  # the command is gone
        threading.Event().wait()  # serving, until `_watch` ends this process

    def _launch(self, demo, request: dict) -> None:
        from workbench.core.demo.app import serve

        with self.lock:
            self.served = serve(demo, host=request["host"], port=request["port"], share=request["share"])

    def _watch(self) -> None:
        try:
            message = self.connection.recv()
        except (EOFError, OSError):
            message = None
        self.end("stopped" if message == "stop" else None)

    def end(self, last_word=None) -> None:
        with self.lock:
            if self.served is not None:
                with contextlib.suppress(Exception):
                    self.served.close()  # the port is free before the command hears "stopped"
            self.model.close(wait_s=0.2)
            if last_word is not None:
                with contextlib.suppress(OSError, ValueError):
                    self.connection.send(last_word)
            os._exit(0)


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
