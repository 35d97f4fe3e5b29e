"""The app's demo: a child process started and stopped from the app, its URL and failures told.

The child here is a stand-in that prints what `workbench demo` prints (the real command is tested in
tests/demo/test_demo_app.py and the browser test): these tests are about the control, not gradio."""

from __future__ import annotations

import sys
import time

from workbench.core.demo.process import FAILED, RUNNING, STOPPED, DemoProcess, demo_command
from workbench.ui.app import make_app
from workbench.ui.messages import DemoRequested

SERVES = (
    "import time; print('Loading x…', flush=True);"
    " print('Demo of x at http://127.0.0.1:7861/', flush=True); time.sleep(60)"
)
FAILS = "import sys; print('workbench: The demo needs gradio, an optional extra', flush=True); sys.exit(2)"


def wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_the_demo_command_binds_to_loopback_by_default():
    command = demo_command("runs/r1")
    assert command[1:] == ["-m", "workbench", "demo", "runs/r1", "--host", "127.0.0.1"]
    assert demo_command("m", port=9000)[-2:] == ["--port", "9000"]


def test_a_serving_demo_reports_its_url_and_stops():
    states = []
    demo = DemoProcess("x", states.append, command=[sys.executable, "-c", SERVES])
    demo.start()
    wait(lambda: demo.state.state == RUNNING)
    assert demo.state.url == "http://127.0.0.1:7861/"
    demo.stop()
    wait(lambda: demo.state.state == STOPPED)
    assert [state.state for state in states] == ["starting", "running", "stopped"]
    assert demo.process.poll() is not None


def test_a_demo_that_exits_early_fails_with_its_last_words():
    demo = DemoProcess("x", lambda state: None, command=[sys.executable, "-c", FAILS])
    demo.start()
    wait(lambda: demo.state.state == FAILED)
    assert demo.state.message == "The demo needs gradio, an optional extra"


async def test_the_app_starts_tells_and_stops_a_demo():
    app = make_app(probe_hub_on_start=False)
    app.demo.command_for = lambda target: [sys.executable, "-c", SERVES.replace("x at", f"{target} at")]
    told = []
    notify = app.notify
    app.notify = lambda message, **options: told.append(message) or notify(message, **options)
    async with app.run_test(size=(120, 40)) as pilot:
        app.post_message(DemoRequested("runs/r1"))
        for _ in range(400):
            await pilot.pause(0.05)
            if app.demo.state is not None and app.demo.state.state == RUNNING:
                break
        assert app.demo.state.url == "http://127.0.0.1:7861/"
        assert any("ssh -L 7861:127.0.0.1:7861" in message for message in told)
        assert "demo: stop" in [command.label for command in app.palette_commands()]
        app.post_message(DemoRequested(None))
        for _ in range(200):
            await pilot.pause(0.05)
            if app.demo.state.state == STOPPED:
                break
        assert app.demo.state.state == STOPPED
        assert "demo: stop" not in [command.label for command in app.palette_commands()]
