"""The real app on a pseudo-terminal, read back through a VT100 emulator (pyte).

Pilot drives the app in-process; this drives `python -m workbench` as a user's terminal does:
bytes in, escape sequences out. Used by the newcomer walk-through test.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pyte

KEYS = {
    "enter": b"\r",
    "escape": b"\x1b",
    "tab": b"\t",
    "ctrl+q": b"\x11",
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "end": b"\x1b[F",
}


class PtyApp:
    """`python -m workbench` on a pty of `columns` x `rows`; `wait_for` reads the emulated screen."""

    def __init__(self, env: dict[str, str], cwd: Path, columns: int = 120, rows: int = 36) -> None:
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.output = bytearray()  # everything the app wrote, for tracebacks
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.master = master
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workbench"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )
        os.close(slave)

    def read(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the app exited and the pty closed
                return
            if not chunk:
                return
            self.output.extend(chunk)
            self.stream.feed(chunk)

    @property
    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, needle: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text:
                return self.text
            if self.process.poll() is not None:
                break
            self.read(0.1)
        raise AssertionError(f"{needle!r} never appeared on the screen; it shows:\n{self.text}")

    def press(self, *keys: str, pause: float = 0.3) -> None:
        for key in keys:
            os.write(self.master, KEYS.get(key, key.encode()))
            self.read(pause)

    def type(self, text: str) -> None:
        for character in text:
            os.write(self.master, character.encode())
            self.read(0.02)

    def quit(self, timeout: float = 30.0) -> int:
        self.press("ctrl+q")
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read(0.1)
        if self.process.poll() is None:
            self.process.kill()
            raise AssertionError(f"the app did not quit; the screen:\n{self.text}")
        self.read(0.2)
        os.close(self.master)
        return self.process.returncode
