"""The latest evaluation's sample predictions (seq2seq runs), next to their inputs and references.

One line per sample, the three texts side by side in equal columns, each cut to its column with
an ellipsis (line breaks in a dialogue read as ⏎). Hidden until an evaluation brings samples, so
the monitor of a classification run looks as before; then of fixed height, so new evaluations
repaint it without laying the screen out again.
"""

from __future__ import annotations

import re

from rich.cells import cell_len, set_cell_size
from textual.markup import escape
from textual.reactive import reactive
from textual.widget import Widget

from workbench.core.runs.protocol import Evaluation

MAX_SAMPLES = 3
COLUMNS = ("input", "reference", "prediction")
GAP = 2  # cells between columns
NUMBER_WIDTH = 3  # "1  "
SPACES = re.compile(r"[ \t\r\f\v]+")


def one_line(text: object) -> str:
    """The text on one line: runs of spaces collapsed, line breaks shown as ⏎."""
    lines = [SPACES.sub(" ", line).strip() for line in str(text if text is not None else "").split("\n")]
    return " ⏎ ".join(line for line in lines if line)


def clip(text: str, width: int) -> str:
    """`text` cut or padded to exactly `width` cells, an ellipsis where it was cut."""
    if width <= 0:
        return ""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return set_cell_size(text, width)


class SamplesView(Widget):
    DEFAULT_CSS = """
    SamplesView { display: none; height: 6; border: round $panel-lighten-2; padding: 0 1; }
    SamplesView.-visible { display: block; }
    """

    samples: reactive[tuple[tuple[str, str, str], ...]] = reactive(tuple, layout=False)

    def show(self, evaluation: Evaluation | None) -> None:
        """Show this evaluation's samples (None, or an evaluation without samples: hide)."""
        rows = tuple(
            (one_line(sample.get("input")), one_line(sample.get("reference")), one_line(sample.get("prediction")))
            for sample in (evaluation.samples if evaluation is not None else [])[:MAX_SAMPLES]
            if isinstance(sample, dict)
        )
        self.set_class(bool(rows), "-visible")
        if rows:
            self.border_title = f"samples · step {evaluation.step:,}"
        self.samples = rows

    def render(self) -> str:
        width = self.content_size.width
        column = max(1, (width - NUMBER_WIDTH - GAP * (len(COLUMNS) - 1)) // len(COLUMNS))
        gap = " " * GAP
        header = " " * NUMBER_WIDTH + gap.join(clip(name, column) for name in COLUMNS)
        lines = [f"[b $text-muted]{escape(header)}[/]"]
        for number, (source, reference, prediction) in enumerate(self.samples, start=1):
            style = "$success" if prediction and prediction == reference else "$accent"
            lines.append(
                f"[$text-muted]{number:<{NUMBER_WIDTH}}[/]"
                + escape(clip(source, column))
                + gap
                + escape(clip(reference, column))
                + gap
                + f"[{style}]{escape(clip(prediction, column))}[/]"
            )
        return "\n".join(lines)
