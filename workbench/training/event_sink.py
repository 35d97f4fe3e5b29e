"""The child's event writer: only the main process writes; the final event is the run's last line.

The system sampler writes from its own thread. Before the final event (`finished` or `failed`)
every background writer registered with `add_background` is stopped and joined, and once the
final event is written the sink is sealed: a late sample (a sampler thread that outlived its
join timeout) is dropped instead of landing after the end of the run.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Protocol

from workbench.core.runs.folder import EVENTS_FILE
from workbench.core.runs.protocol import Event, EventWriter, LogLine


class Background(Protocol):
    def stop(self) -> None: ...


class Mirror(Protocol):
    """training/trackers.TrackerMirror: emit and close never raise; they return alerts to write."""

    def emit(self, event: Event) -> list[Event]: ...

    def close(self) -> list[Event]: ...


class RunEvents:
    """The main process's event writer (thread-safe); other processes write nothing."""

    def __init__(self, run_dir: Path, enabled: bool, mirror: Mirror | None = None) -> None:
        self.enabled = enabled
        self._lock = threading.Lock()
        self._writer = EventWriter(Path(run_dir) / EVENTS_FILE) if enabled else None
        # training.report_to's trackers: they see what the run folder gets; their failures come back as alerts.
        self._mirror = mirror if enabled else None
        self._background: list[Background] = []
        self.sealed = False

    def emit(self, event: Event) -> None:
        if self._writer is None:
            return
        with self._lock:
            if not self.sealed:
                self._writer.emit(event)
                if self._mirror is not None:
                    for alert in self._mirror.emit(event):
                        self._writer.emit(alert)

    def log(self, message: str, level: str = "info") -> None:
        if self.enabled and not self.sealed:
            print(message, flush=True)
        self.emit(LogLine(message=message, level=level))

    def add_background(self, writer: Background) -> None:
        """A thread that emits events (the system sampler): stopped before the final event."""
        self._background.append(writer)

    def stop_background(self) -> None:
        while self._background:
            self._background.pop().stop()

    def final(self, event: Event) -> None:
        """Write the run's last event: background writers stopped first, the sink sealed after."""
        self.stop_background()
        if self._writer is None:
            return
        with self._lock:
            try:
                if not self.sealed and self._mirror is not None:
                    for alert in self._mirror.close():  # flushed and closed before the run's last line
                        self._writer.emit(alert)
                if not self.sealed:
                    self._writer.emit(event)
                    self._writer.sync()
            except OSError as error:  # a full disk: the launcher's watcher records the crash instead
                print(f"workbench: could not write the final {event.type} event: {error}", file=sys.stderr, flush=True)
            self.sealed = True

    def close(self) -> None:
        self.stop_background()
        if self._mirror is not None:
            self._mirror.close()
        if self._writer is not None:
            with self._lock:
                try:
                    self._writer.sync()
                    self._writer.close()
                except OSError as error:
                    print(f"workbench: could not close events.jsonl: {error}", file=sys.stderr, flush=True)
