"""Following a run from a terminal: a progress line with ETA, loss and metrics (no torch, no textual)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from workbench.core.runs import protocol
from workbench.core.runs.folder import EVENTS_FILE
from workbench.core.runs.listing import launched_at, read_run
from workbench.training.launch import record_crash_if_orphaned


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "--:--"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


class Progress:
    """Turns events into terminal lines: a redrawn bar on a TTY, plain lines otherwise."""

    def __init__(self, out: TextIO, tty: bool | None = None, width: int = 24) -> None:
        self.out = out
        self.tty = out.isatty() if tty is None else tty
        self.width = width
        self.total: int | None = None
        self.first_step: tuple[int, float] | None = None
        self._bar_shown = False

    def line(self, text: str) -> None:
        if self._bar_shown:
            self.out.write("\r\033[K")
            self._bar_shown = False
        self.out.write(text + "\n")
        self.out.flush()

    def bar(self, text: str) -> None:
        if self.tty:
            self.out.write("\r\033[K" + text)
            self.out.flush()
            self._bar_shown = True
        else:
            self.line(text)

    def eta(self, step: int, now: float) -> float | None:
        if self.total is None or self.first_step is None:
            return None
        first, started = self.first_step
        if step <= first:
            return None
        return (now - started) / (step - first) * (self.total - step)

    def show(self, event: protocol.Event) -> None:
        if isinstance(event, protocol.RunStarted):
            self.total = event.total_steps
            resumed = f", resumed at step {event.resumed_from_step}" if event.resumed_from_step else ""
            devices = ", ".join(str(d.get("name") or d.get("type")) for d in event.devices) or "?"
            self.line(f"run {event.run_id}: {event.total_steps} steps on {devices}{resumed}")
        elif isinstance(event, protocol.Step):
            if self.first_step is None:
                self.first_step = (event.step, event.time)
            total = self.total or event.step
            done = min(event.step / total, 1.0) if total else 0.0
            filled = int(done * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            speed = f" {event.samples_per_s:.1f} samples/s" if event.samples_per_s else ""
            self.bar(
                f"step {event.step}/{total} [{bar}] {done:4.0%} loss {event.loss:.4f}"
                f" lr {event.learning_rate:.2e}{speed} ETA {format_duration(self.eta(event.step, event.time))}"
            )
        elif isinstance(event, protocol.Evaluation):
            metrics = " ".join(f"{k} {v:.4f}" for k, v in event.metrics.items())
            self.line(f"eval at step {event.step} (epoch {event.epoch:.2f}): {metrics}")
        elif isinstance(event, protocol.CheckpointSaved):
            self.line(f"checkpoint saved: {event.path}")
        elif isinstance(event, protocol.Alert):
            self.line(f"ALERT {event.kind}: {event.message}")
        elif isinstance(event, protocol.LogLine) and event.level in ("warning", "error"):
            self.line(f"{event.level}: {event.message}")
        elif isinstance(event, protocol.Finished):
            best = event.summary.get("best_metric")
            best_text = f", best {best['name']} {best['value']:.4f} at step {best['step']}" if best else ""
            self.line(
                f"run {event.status} after {event.summary.get('steps')} steps"
                f" in {format_duration(event.summary.get('train_runtime_s'))}{best_text}"
            )
        elif isinstance(event, protocol.Failed):
            self.line(f"run {event.status}: {event.error}")
            if event.status == "crashed" and event.traceback:
                self.line("last lines of stdout.log:\n" + event.traceback)
            if event.suggestion:
                self.line(f"hint: {event.suggestion}")


def follow_run(
    run_dir: Path,
    on_event: Callable[[protocol.Event], None],
    *,
    interval: float = 0.25,
    liveness_every_s: float = 1.0,
    reader: protocol.EventReader | None = None,
) -> protocol.Event | None:
    """Call `on_event` for each event until the run's final event.

    A child gone without a final event (its lock free, its pids dead) has its crash recorded here, as the
    launcher that follows it; should that record not be writable, the crash is still reported.
    Pass the same `reader` again to pick up where an interrupted follow left off.
    """
    reader = reader or protocol.EventReader(Path(run_dir) / EVENTS_FILE)
    last_check = time.monotonic()
    launched = launched_at(Path(run_dir))
    while True:
        for event in reader.poll():
            on_event(event)
            if protocol.is_final(event) and event.time >= launched:
                return event
        if time.monotonic() - last_check >= liveness_every_s:
            last_check = time.monotonic()
            info = read_run(Path(run_dir))
            if info.status == "crashed":
                record_crash_if_orphaned(Path(run_dir))
                for event in reader.poll():
                    on_event(event)
                    if protocol.is_final(event) and event.time >= launched:
                        return event
                final = protocol.Failed(error=info.error or "The training process died.", status="crashed")
                on_event(final)
                return final
        time.sleep(interval)
