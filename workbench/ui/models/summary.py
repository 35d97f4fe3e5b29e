"""Checkpoint summary and the heads table of the Models pane (plain data in, Rich out)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from workbench.core.errors import WorkbenchError
from workbench.core.models.catalog import CatalogEntry, display_path
from workbench.core.models.inspect import CheckpointInfo


def human_count(value: int | None) -> str:
    if not value:
        return "—" if value is None else "0"
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return str(value)


def human_bytes(size: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


class CheckpointSummary(Static):
    """Architecture, shape, dtype, weights and tokenizer of one checkpoint."""

    DEFAULT_CSS = "CheckpointSummary { height: auto; padding: 0 1; }"

    def show(self, info: CheckpointInfo, where: str) -> None:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        table.add_row("Model", Text(info.name, style="bold"))
        table.add_row("Where", where)
        table.add_row("Architecture", ", ".join(info.architectures) or "— (not listed in config.json)")
        table.add_row("Model type", info.model_type)
        for label, value in info.shape.items():
            table.add_row(label.capitalize(), "—" if value is None else f"{value:,}")
        table.add_row("Dtype", info.dtype or "—")
        weights = info.weights
        if weights.format == "none":
            table.add_row("Weights", Text("none found", style="bold red"))
        else:
            style = "bold yellow" if weights.format == "pickle" else ""
            files = ", ".join(file.name for file in weights.files[:3]) + (" …" if len(weights.files) > 3 else "")
            table.add_row("Weights", Text.assemble((weights.format, style), f"  {files}"))
            table.add_row("Size on disk", human_bytes(weights.size_bytes))
        if weights.parameter_count:
            table.add_row(
                "Parameters", f"{weights.parameter_count:,} ({human_count(weights.parameter_count)}) in the checkpoint"
            )
        tokenizer = (
            f"{info.tokenizer_class} ({'fast' if info.tokenizer_fast else 'slow'})" if info.tokenizer_class else "none"
        )
        table.add_row("Tokenizer", tokenizer)
        if info.id2label:
            labels = ", ".join(f"{key}={value}" for key, value in sorted(info.id2label.items()))
            table.add_row("Labels", labels if len(labels) < 200 else labels[:200] + " …")
        self.update(table)


class HeadsTable(DataTable):
    """One row per head transformers implements for the architecture."""

    DEFAULT_CSS = "HeadsTable { height: auto; margin-bottom: 1; }"

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("Head", "Params", "Head", "Loading")

    def show_reports(self, reports: list, selected: str | None) -> None:
        self.clear()
        for report in reports:
            status = Text(report.status, style="yellow" if "new" in report.status else "green")
            self.add_row(
                report.head.title,
                human_count(report.total_params),
                human_count(report.head_params),
                status,
                key=report.head.key,
            )
        keys = [report.head.key for report in reports]
        if selected in keys:
            self.move_cursor(row=keys.index(selected))


def where_text(location: str, detail: str, source: str) -> str:
    """Where a checkpoint lives, without temporary or machine-specific paths for bundled models."""
    if source in ("embedded", "cache", "run"):
        return detail
    return display_path(location)


class CheckpointView(VerticalScroll):
    """The Checkpoint tab: the summary, the checkpoint's warnings, or why it cannot be read."""

    def compose(self) -> ComposeResult:
        yield Static("", id="model-error", classes="model-error")
        yield CheckpointSummary(id="model-summary")
        yield Static("", id="model-warnings")

    def show(self, info: CheckpointInfo, entry: CatalogEntry) -> None:
        self.query_one(CheckpointSummary).show(info, where_text(entry.location, entry.detail, entry.source))
        self.show_warnings(info)

    def show_warnings(self, info: CheckpointInfo | None) -> None:
        warnings = info.warnings if info else []
        self.query_one("#model-warnings", Static).update("\n".join(f"⚠ {warning}" for warning in warnings))

    def show_error(self, error: WorkbenchError | None) -> None:
        self.query_one("#model-error", Static).update(Text(str(error), style="bold") if error else "")
