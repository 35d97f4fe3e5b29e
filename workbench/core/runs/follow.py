"""Following a run folder from outside the run: new events, new output lines, and whether the child lives.

Textual-free, so the benchmark and the tests drive it directly; the monitor runs it in a thread worker.
"""

from __future__ import annotations

import time
from pathlib import Path

from workbench.core.runs.folder import (  # noqa: F401  (is_run_folder, process_alive, resolve_run: re-exported)
    EVENTS_FILE,
    STDOUT_FILE,
    is_run_folder,
    never_launched,
    owner_alive,
    process_alive,
    resolve_run,
)
from workbench.core.runs.history import RunHistory
from workbench.core.runs.protocol import Event, EventReader, RunStarted, is_final

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


class RunFollower:
    """Reads a run folder incrementally. `load()` once, then `poll()` as often as wanted."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.events = EventReader(self.run_dir / EVENTS_FILE)
        self.log = LogTail(self.run_dir / STDOUT_FILE)
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
                    event = self.events.decode_line(raw_line)
                    if event is None:
                        continue
                    batch.append(event)
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
        history.skipped_lines = self.skipped_lines
        return history, self.log.poll()

    def poll(self) -> tuple[list[Event], list[str]]:
        """New events and output lines. `skipped_lines` then counts every line skipped so far: the monitor
        copies it to its history (`history.skipped_lines = follower.skipped_lines`)."""
        events = self.events.poll()
        self._track(events)
        return events, self.log.poll()

    @property
    def skipped_lines(self) -> int:
        """Lines of events.jsonl skipped so far because they are not valid records (each one alone)."""
        return self.events.bad_lines

    def child_gone(self) -> bool:
        """True once, when the child is dead and left no final event (checked after a last read)."""
        if self.final_seen or self.crash_reported:
            return False
        # The lock (held by the launched process for the run's life) and the pids must all say "gone".
        if owner_alive(self.run_dir, [self.pid] if self.pid else []) is not False:
            return False
        if never_launched(self.run_dir):
            return False  # prepared (--print-launch, workbench slurm): not gone, not started yet
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
