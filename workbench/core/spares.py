"""What the two kinds of spare process share (a run's, `training/spare.py`; a demo's, `core/demo/spare.py`):
the switch (on unless `WORKBENCH_SPARE_RUN=0`), the environment a taker must match, and finding, starting
and stopping them by their files.

A spare lives in `<runs>/.spare/` as `<kind>-<pid>.pid` from its start (written by whoever started it) and
`<kind>-<pid>.sock` while it waits; it leads its own process group, so ending the group ends its children.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import threading
from pathlib import Path

SPARE_ENV = "WORKBENCH_SPARE_RUN"
SPARE_DIR = ".spare"
IDLE_S = 600.0
# Differ from one shell command to the next without changing what a run or a demo does.
IGNORED_ENV = frozenset({"PWD", "OLDPWD", "_", "SHLVL", "COLUMNS", "LINES"})


OFF_VALUES = frozenset({"0", "false", "no", "off"})


def enabled(environ=None) -> bool:
    """Spares are on unless turned off: a spare ends after IDLE_S unused, and saves the next run or demo
    Python's start and the imports of torch and transformers (seconds to tens of seconds)."""
    value = (os.environ if environ is None else environ).get(SPARE_ENV, "1")
    return value.strip().lower() not in OFF_VALUES


def environment_key(env) -> str:
    """What a taker's environment must equal for a spare started elsewhere to take it."""
    items = sorted((key, value) for key, value in env.items() if key not in IGNORED_ENV)
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()


def waiting(folder: Path, kind: str) -> list[Path]:
    """The sockets of the spares of this kind waiting in `folder`."""
    return sorted(folder.glob(f"{kind}-*.sock")) if folder.is_dir() else []


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process under a reused pid: not ours, but do not start a twin either
    return True


def alive(folder: Path, kind: str) -> list[int]:
    """The pids of this kind's spares in `folder` that are running: waiting (a socket) or still starting
    (a pid file). Stale files of ended spares are removed."""
    pids = set()
    for pid, path in _files(folder, kind):
        if pid is None:
            continue
        if _running(pid):
            pids.add(pid)
        else:
            _remove(path)
    return sorted(pids)


def start(command: list[str], folder: Path, kind: str, env: dict | None = None, cwd: Path | None = None) -> int:
    """Start a spare in a session of its own (it outlives its starter), recording its pid; its pid."""
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env=env,
        start_new_session=True,
    )
    (folder / f"{kind}-{process.pid}.pid").write_text(str(process.pid), encoding="utf-8")  # until it listens
    threading.Thread(target=process.wait, name=f"reap-{kind}-spare-{process.pid}", daemon=True).start()
    return process.pid


def stop(folder: Path, kind: str) -> int:
    """End the spares of this kind in `folder`, waiting or still importing; how many."""
    stopped = set()
    for pid, path in _files(folder, kind):
        if pid is not None and pid not in stopped:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)
                stopped.add(pid)
        _remove(path)
    return len(stopped)


def _files(folder: Path, kind: str) -> list[tuple[int | None, Path]]:
    """(pid, file) for this kind's sockets (waiting spares) and pid files (all started ones) in `folder`;
    pid None for a name that holds none."""
    if not folder.is_dir():
        return []
    found = []
    for path in [*waiting(folder, kind), *sorted(folder.glob(f"{kind}-*.pid"))]:
        suffix = path.stem.removeprefix(f"{kind}-")
        found.append((int(suffix) if suffix.isdigit() else None, path))
    return found


def _remove(path: Path) -> None:
    """A spare's file and its key file (a demo spare's), if still there."""
    for stale in (path, path.with_suffix(".key")):
        with contextlib.suppress(OSError):
            stale.unlink()
