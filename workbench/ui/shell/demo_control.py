"""The app's Gradio demo: one at a time, started and stopped from the palette, the Models pane
(ctrl+d) and the Training pane (d), its state and URL shown as notifications.

The demo runs as a child process (`core.demo.process`): gradio and torch never load into the TUI.
"""

from __future__ import annotations

import importlib.util

from workbench.core.demo import INSTALL_HINT
from workbench.core.demo.process import FAILED, RUNNING, STOPPED, DemoProcess, DemoState


class DemoControl:
    """Owns the demo child of an app; state changes arrive from a reader thread."""

    def __init__(self, app, command_for=None) -> None:
        self.app = app
        self.process: DemoProcess | None = None
        self.state: DemoState | None = None
        self.command_for = command_for  # tests: target -> the command to run instead of `workbench demo`

    @property
    def active(self) -> bool:
        return self.state is not None and self.state.active

    def start(self, target: str) -> None:
        if self.command_for is None and importlib.util.find_spec("gradio") is None:
            self.app.notify(f"The demo needs gradio, an optional extra: {INSTALL_HINT}", severity="error", timeout=8)
            return
        if self.active and self.process is not None:
            if self.process.target == target:
                self._tell(self.state)
                return
            self.process.stop()
        command = self.command_for(target) if self.command_for else None
        self.process = DemoProcess(target, self._changed_in_thread, command=command)
        self.process.start()

    def stop(self) -> None:
        if self.process is None or not self.active:
            self.app.notify("No demo is running.", severity="information")
            return
        self.process.stop()

    def shutdown(self) -> None:
        """At app exit: the demo does not outlive the app (unlike training runs, it holds no work)."""
        if self.process is not None:
            self.process.stop(timeout=2.0)

    def _changed_in_thread(self, state: DemoState) -> None:
        try:
            self.app.call_from_thread(self._changed, state)
        except RuntimeError:  # the app has exited
            self.state = state

    def _changed(self, state: DemoState) -> None:
        self.state = state
        self._tell(state)

    def _tell(self, state: DemoState | None) -> None:
        if state is None:
            return
        if state.state == RUNNING:
            from workbench.core.demo.app import ssh_hint

            port = state.url.rstrip("/").rsplit(":", 1)[-1]
            tunnel = f"\nFrom another machine: {ssh_hint(int(port))}" if port.isdigit() else ""
            self.app.notify(f"Demo of {state.target} at {state.url}{tunnel}", title="demo", timeout=12)
        elif state.state == FAILED:
            self.app.notify(f"The demo stopped: {state.message}", title="demo", severity="error", timeout=10)
        elif state.state == STOPPED:
            self.app.notify("Demo stopped.", title="demo")
        else:
            self.app.notify(f"Starting a demo of {state.target}…", title="demo")
