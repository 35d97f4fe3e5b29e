"""Following a run folder from outside the run: new events, new output lines, and whether the child lives.

Textual-free, so the benchmark and the tests drive it directly; the monitor runs it in a thread worker.
"""

from __future__ import annotations

import time
from pathlib import Path

from workbench.core.runs.history import RunHistory
from workbench.core.runs.protocol import Event, EventReader, ProtocolError, RunStarted, decode, is_final, read_pid

LOG_TAIL_BYTES = 64 * 1024  # how much of an existing stdout.log is read on attach
# A pid that can never be live (above Linux's largest pid_max), for fixtures of dead runs.
NEVER_A_PID = 4_194_999
# While a long history loads, the loader offers the GIL to the UI thread every this many lines
# (about 1 ms of parsing). Otherwise each time the UI thread gives the GIL up (every event-loop
# turn) it waits Python's 5 ms switch interval to get it back: frames took 130-670 ms while a
# 100,000-step history loaded, 25-32 ms with this; the load takes as long (1.55 s to the screen).
GIL_OFFER_EVERY = 200


class LogTail:
    """Complete new lines of a growing text file; starts near the end of what is already there."""

    def __init__(self, path: Path, initial_bytes: int = LOG_TAIL_BYTES) -> None:
        self.path = Path(path)
        self.offset: int | None = None
        self.initial_bytes = initial_bytes

    def poll(self) -> list[str]:
        try:
            with open(self.path, "rb") as file:
                if self.offset is None:
                    size = file.seek(0, 2)
                    self.offset = max(0, size - self.initial_bytes)
                    skip_partial = self.offset > 0
                else:
                    skip_partial = False
                file.seek(self.offset)
                chunk = file.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []
        start = chunk.find(b"\n") + 1 if skip_partial else 0
        self.offset += end + 1
        text = chunk[start : end + 1].decode("utf-8", errors="replace")
        # Progress bars redraw with carriage returns: keep what the last redraw left.
        return [line.rstrip("\r").rsplit("\r", 1)[-1] for line in text[:-1].split("\n")]


def process_alive(pid: int | None, run_dir: Path | None = None) -> bool | None:
    """True/False for a known pid; None when there is no pid to ask about.

    A zombie counts as dead, and so does a process whose command line does not name the run folder
    (the pid was reused), as in the engine's own check.
    """
    if not pid:
        return None
    import psutil

    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return run_dir is None or any(Path(run_dir).name in part for part in process.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True


class RunFollower:
    """Reads a run folder incrementally. `load()` once, then `poll()` as often as wanted."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.events = EventReader(self.run_dir / "events.jsonl")
        self.log = LogTail(self.run_dir / "stdout.log")
        self.final_seen = False
        self.pid: int | None = None
        self.crash_reported = False

    def load(self, smoothing: float = 0.9) -> tuple[RunHistory, list[str]]:
        """The whole history so far, folded; and the tail of the output.

        Streams the file a line at a time rather than through `EventReader.poll()`, which would hold
        every event of a long run in memory at once (and make the garbage collector pause the UI);
        the reader then carries on from where this stopped.
        """
        history = RunHistory(smoothing)
        offset = self.events.offset
        batch: list[Event] = []
        try:
            with open(self.events.path, "rb") as file:
                file.seek(offset)
                for raw_line in file:
                    if not raw_line.endswith(b"\n"):
                        break  # the writer is mid-line: the next poll() reads it whole
                    offset += len(raw_line)
                    if not raw_line.strip():
                        continue
                    try:
                        batch.append(decode(raw_line.decode("utf-8")))
                    except (ProtocolError, UnicodeDecodeError):
                        self.events.bad_lines += 1
                        continue
                    if len(batch) % GIL_OFFER_EVERY == 0:
                        time.sleep(0)  # releases the GIL: the UI thread takes it if it is waiting
                    if len(batch) >= 1000:
                        self._track(batch)
                        history.ingest(batch)
                        batch = []
        except FileNotFoundError:
            pass
        self._track(batch)
        history.ingest(batch)
        self.events.offset = offset
        return history, self.log.poll()

    def poll(self) -> tuple[list[Event], list[str]]:
        events = self.events.poll()
        self._track(events)
        return events, self.log.poll()

    def child_gone(self) -> bool:
        """True once, when the child is dead and left no final event (checked after a last read)."""
        if self.final_seen or self.crash_reported:
            return False
        pid = read_pid(self.run_dir) or self.pid
        if process_alive(pid, self.run_dir) is not False:
            return False
        self.crash_reported = True
        return True

    def _track(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, RunStarted):
                self.final_seen = False
                self.crash_reported = False
                self.pid = event.pid or self.pid
            elif is_final(event):
                self.final_seen = True


def is_run_folder(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in ("events.jsonl", "spec.toml", "pid"))


def resolve_run(target: str, runs_dir: Path) -> Path:
    """A run folder from a path, a run id, or a unique part of one (`workbench attach 9c4e`)."""
    from workbench.core.errors import WorkbenchError

    candidate = Path(target).expanduser()
    if is_run_folder(candidate):
        return candidate.resolve()
    if is_run_folder(runs_dir / target):
        return (runs_dir / target).resolve()
    try:
        folders = sorted((p for p in runs_dir.iterdir() if is_run_folder(p)), reverse=True)
    except OSError:
        folders = []
    matches = [folder for folder in folders if target in folder.name]
    if len(matches) == 1:
        return matches[0].resolve()
    if not matches:
        raise WorkbenchError(
            f"No run {target!r} in {runs_dir}",
            hint="List runs with `workbench runs`, or give the run folder's path.",
        )
    names = ", ".join(folder.name for folder in matches[:5])
    raise WorkbenchError(f"{target!r} matches {len(matches)} runs: {names}", hint="Give more of the run id.")
