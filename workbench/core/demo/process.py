"""A Gradio demo run as a child process (`workbench demo TARGET`), for the TUI.

The demo imports gradio and torch and serves HTTP: in a child process neither slows the app nor
shares its event loop, and stopping it frees the port and the model's memory at once. Its state
comes from its output: "Demo of NAME at URL" means it serves; an exit before that is a failure
whose last lines say why (gradio missing, a bad model folder, a taken port).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

STARTING, RUNNING, STOPPED, FAILED = "starting", "running", "stopped", "failed"
READY_PREFIX = "Demo of "


@dataclass(frozen=True)
class DemoState:
    target: str
    state: str
    url: str = ""
    message: str = ""

    @property
    def active(self) -> bool:
        return self.state in (STARTING, RUNNING)


def demo_command(target: str, host: str = "127.0.0.1", port: int | None = None) -> list[str]:
    command = [sys.executable, "-m", "workbench", "demo", target, "--host", host]
    return command + (["--port", str(port)] if port else [])


class DemoProcess:
    """One demo child; `on_change(DemoState)` is called from a reader thread on every change."""

    def __init__(
        self,
        target: str,
        on_change: Callable[[DemoState], None],
        *,
        command: list[str] | None = None,
        env: dict | None = None,
    ) -> None:
        self.target = target
        self.command = command or demo_command(target)
        self.env = env
        self.on_change = on_change
        self.state = DemoState(target, STOPPED)
        self.process: subprocess.Popen | None = None
        self._tail: deque[str] = deque(maxlen=6)
        self._stopping = False

    def start(self) -> None:
        self._set(DemoState(self.target, STARTING, message="loading the model…"))
        environment = {**os.environ, **(self.env or {}), "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment,
            start_new_session=True,  # its own process group: stop() ends gradio's threads and workers too
        )
        threading.Thread(target=self._read, name="demo-output", daemon=True).start()

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip()
            if not line:
                continue
            self._tail.append(line)
            if line.startswith(READY_PREFIX) and " at " in line:
                self._set(DemoState(self.target, RUNNING, url=line.rsplit(" at ", 1)[1].strip()))
        code = self.process.wait()
        if self._stopping or code == 0:
            self._set(DemoState(self.target, STOPPED, message="stopped"))
        else:
            why = " / ".join(line.removeprefix("workbench: ") for line in list(self._tail)[-2:])
            self._set(DemoState(self.target, FAILED, message=why or f"exited with code {code}"))

    def _set(self, state: DemoState) -> None:
        self.state = state
        self.on_change(state)

    def stop(self, timeout: float = 5.0) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        self._stopping = True
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)
