"""The runs list: one row per run folder, newest first, updated in place as statuses change."""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual.widgets import DataTable

from workbench.core.formatting import clock_time, duration, number

# Swapped by snapshot tests so a running run's duration does not depend on today's date.
wall_clock = time.time

# Status label and the theme colour it takes.
STATUS_STYLE = {
    "starting": ("◌ starting", "warning"),
    "running": ("● running", "success"),
    "finished": ("✔ finished", "primary"),
    "stopped": ("■ stopped", "warning"),
    "failed": ("✖ failed", "error"),
    "crashed": ("✖ crashed", "error"),
    "prepared": ("○ prepared", "secondary"),
}
COLUMNS = (
    ("", "mark"),
    ("status", "status"),
    ("run", "run"),
    ("model", "model"),
    ("dataset", "dataset"),
    ("started", "started"),
    ("duration", "duration"),
    ("steps", "steps"),
    ("best", "best"),
)


def run_duration(run) -> float | None:
    if run.started_at is None:
        return None
    end = run.ended_at
    if end is None:
        end = wall_clock() if run.status in ("running", "starting") else None
    return None if end is None else max(0.0, end - run.started_at)


def row_cells(run, marked: bool, colours: dict | None = None) -> list:
    """The cells of a run's row; a run whose record has values of the wrong type gets an "unreadable"
    row with what can be shown (one bad folder must never take the list, or the app, down)."""
    try:
        return _row_cells(run, marked, colours)
    except (TypeError, ValueError, AttributeError, OverflowError):
        return unreadable_cells(run, marked, colours)


def unreadable_cells(run, marked: bool, colours: dict | None = None) -> list:
    return [
        Text("◆" if marked else " ", style="bold"),
        Text("✖ unreadable", style=(colours or {}).get("error", "")),
        str(getattr(run, "run_id", "?")),
        "?",
        "?",
        "",
        "",
        "",
        "—",
    ]


def _row_cells(run, marked: bool, colours: dict | None) -> list:
    label, role = STATUS_STYLE.get(run.status, (str(run.status), ""))
    colour = (colours or {}).get(role, "")
    steps = f"{run.step:,}" + (f"/{run.total_steps:,}" if run.total_steps else "")
    best = f"{run.best_metric[0]} {number(run.best_metric[1])}" if run.best_metric else "—"
    return [
        Text("◆" if marked else " ", style="bold"),
        Text(label, style=colour),
        run.run_id,
        Text(str(run.model), overflow="ellipsis"),
        Text(str(run.dataset), overflow="ellipsis"),
        clock_time(run.started_at),
        duration(run_duration(run)),
        steps,
        best,
    ]


class RunsTable(DataTable):
    """Rows keyed by run folder; `marked` holds the folders chosen for comparison."""

    DEFAULT_CSS = """
    RunsTable { height: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.runs: dict[str, object] = {}
        self.marked: set[str] = set()
        self._shown: dict[str, list] = {}  # the cells on screen, by row key

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            self.add_column(label, key=key)

    def show_runs(self, runs: list) -> None:
        """Show these runs, keeping the cursor on the same run. The same runs as before update their
        changed cells in place (no new rows, so no re-layout of the screen)."""
        keys = [str(run.path) for run in runs]
        colours = self._colours()
        if keys == list(self.runs):
            for key, run in zip(keys, runs):
                # Compare with the cells on screen (not with the old run's cells recomputed now: a
                # running run's duration is computed from the clock, so those would always match).
                cells = row_cells(run, key in self.marked, colours)
                for (_, column), old, new in zip(COLUMNS, self._shown[key], cells):
                    if new != old:
                        self.update_cell(key, column, new, update_width=True)
                self._shown[key] = cells
            self.runs = dict(zip(keys, runs))
            return
        current = self.current_run_dir()
        self.runs = dict(zip(keys, runs))
        self.marked &= set(keys)
        self.clear()
        self._shown = {}
        for key, run in self.runs.items():
            cells = self._shown[key] = row_cells(run, key in self.marked, colours)
            self.add_row(*cells, key=key)
        if current is not None and str(current) in self.runs:
            self.move_cursor(row=keys.index(str(current)))

    def _colours(self) -> dict:
        theme = self.app.current_theme
        return {role: getattr(theme, role) or "" for role in ("warning", "success", "primary", "error", "secondary")}

    def current_run_dir(self) -> Path | None:
        if not self.runs or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
        return Path(key) if key else None

    def current_run(self):
        folder = self.current_run_dir()
        return self.runs.get(str(folder)) if folder else None

    def toggle_mark(self) -> None:
        folder = self.current_run_dir()
        if folder is None:
            return
        key = str(folder)
        self.marked ^= {key}
        mark = Text("◆" if key in self.marked else " ", style="bold")
        self._shown[key][0] = mark
        self.update_cell(key, "mark", mark)

    def marked_runs(self) -> list[Path]:
        return [Path(key) for key in self.runs if key in self.marked]
