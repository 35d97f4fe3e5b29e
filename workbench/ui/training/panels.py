"""The monitor's text panels: progress line, alerts, system (GPU/CPU).

Each panel's `show(history, ...)` rebuilds its markup from the run history; nothing here reads the
clock: durations come from event times. They repaint without a layout pass where they can (a
Static.update(), or a panel whose height changes, re-lays out the whole screen).
"""

from __future__ import annotations

from textual.markup import escape
from textual.widget import Widget

from workbench.core.formatting import duration, mebibytes, sparkline
from workbench.core.runs.history import RunHistory

STATUS_MARKUP = {
    "starting": "[$warning]◌ starting[/]",
    "running": "[$success]● running[/]",
    "finished": "[$primary]✔ finished[/]",
    "stopped": "[$warning]■ stopped[/]",
    "failed": "[$error]✖ failed[/]",
    "crashed": "[$error]✖ crashed[/]",
    "prepared": "[$secondary]○ prepared[/]",
}
BAR_WIDTH = 28
GPU_HOT = "$gpu-hot"  # a GPU at >= 95% utilisation or memory
GPU_COOL = "$gpu-cool"


def status_markup(status: str) -> str:
    return STATUS_MARKUP.get(status, escape(status))


class MarkupPanel(Widget):
    """Shows Textual markup; a change repaints, and re-lays out only when an auto-height panel's
    line count changes (the alert bar, at most a few times a run)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.markup = ""

    def set_markup(self, markup: str) -> None:
        if markup == self.markup:
            return
        height = self.styles.height
        relayout = height is not None and height.is_auto and markup.count("\n") != self.markup.count("\n")
        self.markup = markup
        self.refresh(layout=relayout)

    def render(self) -> str:
        return self.markup


def progress_bar(fraction: float | None, width: int = BAR_WIDTH) -> str:
    if fraction is None:
        return "[$text-muted]" + "╌" * width + "[/]"
    filled = int(round(fraction * width))
    return f"[$primary]{'━' * filled}[/][$panel-lighten-2]{'━' * (width - filled)}[/]"


class ProgressLine(MarkupPanel):
    DEFAULT_CSS = """
    ProgressLine { height: 2; padding: 0 1; }
    """

    def show(self, history: RunHistory, status: str, run_id: str, note: str = "") -> None:
        spec = history.spec or {}
        model = spec.get("model", {}).get("name_or_path", "")
        data = spec.get("data", {})
        dataset = data.get("dataset") or data.get("train_file") or ""
        devices = history.started.devices if history.started else []
        gpus = [d for d in devices if d.get("type") == "cuda"]
        where = f"{len(gpus)}× {gpus[0].get('name', 'GPU')}" if gpus else "CPU"
        processes = history.started.num_processes if history.started else 1
        head = (
            f"{status_markup(status)}  [b]{escape(run_id)}[/b]  [$text-muted]{escape(str(model))} · "
            f"{escape(str(dataset))} · {where}{f' · {processes} processes' if processes > 1 else ''}[/]"
        )
        if history.sessions > 1:
            head += f"  [$text-muted](resumed ×{history.sessions - 1})[/]"
        if history.skipped_lines:
            count = history.skipped_lines
            head += f"  [$warning]⚠ {count:,} unreadable line{'s' if count != 1 else ''} of events.jsonl skipped[/]"
        if status == "prepared":  # no run_started yet: no model, data or devices to show
            self.set_markup(f"{status_markup(status)}  [b]{escape(run_id)}[/b]\n[$text-muted]{escape(note)}[/]")
            return
        fraction = history.fraction
        total = history.total_steps
        parts = [f"step [b]{history.step:,}[/b]" + (f"/{total:,}" if total else "")]
        if history.epoch is not None:
            epochs = history.num_epochs
            parts.append(f"epoch {history.epoch:.2f}" + (f"/{epochs:g}" if epochs else ""))
        if fraction is not None:
            parts.append(f"[b]{fraction:.0%}[/b]")
        parts.append(f"elapsed {duration(history.elapsed)}")
        if status == "running":
            parts.append(f"ETA {duration(history.eta)}")
        rate = history.steps_per_s
        if rate and status == "running":
            parts.append(f"{rate:.2f} steps/s")
        self.set_markup(head + "\n" + progress_bar(fraction) + "  " + " · ".join(parts))


class AlertBar(MarkupPanel):
    """Alerts and failures, loud; hidden while there are none, at most ROWS lines (the newest alerts;
    all of them also pop up as notifications). Its height changes at most ROWS times a run."""

    ROWS = 3
    DEFAULT_CSS = """
    AlertBar { height: auto; max-height: 3; padding: 0 1; background: $error 20%; border-left: thick $error;
               display: none; }
    AlertBar.-visible { display: block; }
    """

    def show(self, history: RunHistory, status: str, crash_note: str | None = None) -> None:
        lines = []
        final = history.final
        if status in ("failed", "crashed"):
            if final is not None and getattr(final, "error", None):
                lines.append(f"[b $error]{status.upper()}[/] {escape(final.error)}")
                if getattr(final, "suggestion", None):
                    lines.append(f"  [b]Try:[/b] {escape(final.suggestion)}")
            else:
                lines.append(
                    f"[b $error]CRASHED[/] {escape(crash_note or 'the training process ended without a final event')}"
                    " — its last output is in the log below"
                )
        alerts = history.alerts
        room = max(1, self.ROWS - len(lines))
        shown = alerts[-room:] if alerts else []
        for number_shown, alert in enumerate(shown):
            where = f" (step {alert.step:,})" if alert.step is not None else ""
            earlier = len(alerts) - len(shown)
            more = f" [$text-muted](and {earlier} earlier)[/]" if number_shown == 0 and earlier else ""
            lines.append(
                f"[b $warning]⚠ {escape(alert.kind.replace('_', ' '))}[/]{where}: {escape(alert.message)}{more}"
            )
        self.set_class(bool(lines), "-visible")
        self.set_markup("\n".join(lines[: self.ROWS]))


class SystemPanel(MarkupPanel):
    DEFAULT_CSS = """
    SystemPanel { height: 1fr; padding: 0 1; border: round $panel-lighten-2; }
    """
    SPARK = 16

    def on_mount(self) -> None:
        self.border_title = "system"

    def show(self, history: RunHistory) -> None:
        sample = history.system
        if sample is None:
            self.set_markup("[$text-muted]no system samples yet[/]")
            return
        lines = []
        several_nodes = len({gpu.node_rank for gpu in history.gpus.values()}) > 1
        for gpu in sorted(history.gpus.values(), key=lambda g: (g.node_rank, g.index)):
            last = gpu.last
            util = last.utilization
            # The theme's GPU colours ($gpu-hot / $gpu-cool, see ui/themes.py): a user theme recolours them.
            hot = GPU_HOT if (util or 0) >= 95 else GPU_COOL
            used, total = last.memory_used_mb, last.memory_total_mb
            memory_fraction = used / total if used is not None and total else None
            memory_colour = GPU_HOT if memory_fraction is not None and memory_fraction >= 0.95 else GPU_COOL
            where = f"node{gpu.node_rank}:" if several_nodes else ""
            host = f" {escape(gpu.host)}" if several_nodes and gpu.host else ""
            lines.append(f"[b]{where}GPU{gpu.index}[/b]{host} [$text-muted]{escape(gpu.name)}[/]")
            lines.append(
                f" util [{hot}]{f'{util:.0f}' if util is not None else '—':>3}%[/] "
                f"[{hot}]{sparkline(gpu.utilization, self.SPARK, 0, 100)}[/]"
            )
            lines.append(
                f" mem  [{memory_colour}]{mebibytes(used)}/{mebibytes(total)}[/] "
                f"[{memory_colour}]{sparkline(gpu.memory, self.SPARK, 0, 1)}[/]"
            )
            extras = [f"run {mebibytes(last.process_memory_mb)}"] if last.process_memory_mb is not None else []
            if last.power_w is not None:
                extras.append(f"{last.power_w:.0f} W")
            if last.temperature_c is not None:
                extras.append(f"{last.temperature_c:.0f}°C")
            if extras:
                lines.append(" " + " · ".join(extras))
        if not history.gpus:
            reason = f" [$text-muted]({escape(sample.gpu_error)})[/]" if sample.gpu_error else ""
            lines.append(f"[b]No GPU[/b]: training on the CPU{reason}")
        lines.append(
            f"[b]CPU[/b] {sample.cpu_percent:.0f}% [$secondary]{sparkline(history.cpu_percent, self.SPARK, 0)}[/]"
        )
        ram = ""
        if sample.ram_used_mb is not None and sample.ram_total_mb:
            ram = f" · RAM {mebibytes(sample.ram_used_mb)}/{mebibytes(sample.ram_total_mb)}"
        lines.append(f"[b]RSS[/b] {mebibytes(sample.rss_mb)}{ram}")
        self.set_markup("\n".join(lines))
