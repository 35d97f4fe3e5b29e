"""Task statistics in the Statistics view: the numbers that matter for one task, and a few rows as
the task reads them (a sentence over its tags, a question with its context and answers).

The task is the file format's (CoNLL: token classification, SQuAD: question answering) unless the
user picks another in the view's Select; with a task chosen, the Statistics view hides its own
text/label statistics and shows these. They are computed in a worker with the active model's
tokenizer (`core.data.task_stats`); the result comes back as a message.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Label, Select, Static
from textual.worker import get_current_worker

from workbench.core.data.task_stats import DEFAULTS, SECOND_SETTING, TASK_TITLES, TASKS, task_for_format
from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:
    from workbench.core.data.rows import RowSource
    from workbench.core.data.selection import DatasetSelection

EXAMPLES = 3  # rows shown as the task reads them
TEXT_WIDTH = 72  # the Statistics view's width beside the side panel on a 110-column terminal


class TaskStatsView(Vertical):
    DEFAULT_CSS = """
    TaskStatsView { height: auto; }
    TaskStatsView #task-stats-controls { height: auto; }
    TaskStatsView #task-stats-controls Label { padding: 1 1 0 1; }
    TaskStatsView #task-stats-controls Input { width: 9; }
    TaskStatsView #task-stats-task { width: 25; }
    TaskStatsView #task-stats-body { height: auto; }
    """

    selection: reactive[DatasetSelection | None] = reactive(None, init=False)
    model_path: reactive[str] = reactive("", init=False)
    model_name: reactive[str] = reactive("", init=False)

    @dataclass
    class TaskChosen(Message):
        """The task changed (None: no task; the Statistics view shows its own statistics)."""

        task: str | None

    @dataclass
    class Progressed(Message):
        serial: int
        done: int
        total: int

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TaskStatsView.Progressed)

    @dataclass
    class Computed(Message):
        serial: int
        result: Any
        examples: list[str]

    @dataclass
    class Failed(Message):
        serial: int
        error: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source: RowSource | None = None
        self.split: str | None = None
        self.dataset_key: tuple | None = None
        self.computed_for: tuple | None = None
        self.result: Any = None
        self.serial = 0
        self.running = False

    def compose(self) -> ComposeResult:
        with Horizontal(id="task-stats-controls"):
            yield Label("task")
            yield Select(
                [(TASK_TITLES[name], name) for name in TASKS],
                prompt="pick a task",
                id="task-stats-task",
            )
            yield Label("max_length", id="task-stats-max-length-label")
            yield Input("128", type="integer", id="task-stats-max-length")
            yield Label("", id="task-stats-second-label")
            yield Input("128", type="integer", id="task-stats-second")
        yield Static("", id="task-stats-body", markup=False)

    def on_mount(self) -> None:
        self._show_settings(None)

    # -- settings ---------------------------------------------------------------------------------
    @property
    def task(self) -> str | None:
        value = self.query_one("#task-stats-task", Select).value
        return value if isinstance(value, str) else None

    @property
    def max_length(self) -> int:
        return _positive(self.query_one("#task-stats-max-length", Input).value, DEFAULTS.get(self.task, (128, 0))[0])

    @property
    def second(self) -> int:
        return _positive(self.query_one("#task-stats-second", Input).value, DEFAULTS.get(self.task, (0, 128))[1])

    def _show_settings(self, task: str | None) -> None:
        """The inputs this task reads, at its defaults (QA: 384/128, the others 128/128)."""
        first, second = DEFAULTS.get(task or "", (128, 128))
        self.query_one("#task-stats-max-length", Input).value = str(first)
        self.query_one("#task-stats-second", Input).value = str(second)
        name = SECOND_SETTING.get(task or "", "")
        self.query_one("#task-stats-second-label", Label).update(name)
        for widget in ("#task-stats-max-length-label", "#task-stats-max-length"):
            self.query_one(widget).display = task not in (None, "language-modeling")  # blocks: block_size only
        for widget in ("#task-stats-second-label", "#task-stats-second"):
            self.query_one(widget).display = bool(name)
        self.query_one("#task-stats-body").display = task is not None

    # -- inputs pushed down -----------------------------------------------------------------------
    def show_split(self, source: RowSource, split: str) -> None:
        self.workers.cancel_group(self, "task-stats")
        self.source, self.split = source, split
        self.computed_for = None
        self.running = False
        self.show_message(f"Press s (or Enter in a field) to compute the {self._title()} statistics of {split}.")

    def watch_selection(self, selection: DatasetSelection | None) -> None:
        """A newly opened dataset: its format's task (or none) and that task's settings."""
        if selection is None:
            return
        key = (selection.path, selection.format)
        if key == self.dataset_key:
            return
        self.dataset_key = key
        task = task_for_format(selection.format)
        select = self.query_one("#task-stats-task", Select)
        with self.prevent(Select.Changed):
            if task:
                select.value = task
            else:
                select.clear()
        self._chosen(task)

    def watch_model_path(self) -> None:
        if self.computed_for is not None:
            self.computed_for = None
            self.show_message("The model changed: press s to recompute with its tokenizer.")

    @on(Select.Changed, "#task-stats-task")
    def _task_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._chosen(self.task)
        if self.task is not None:
            self.compute(force=True)

    def _chosen(self, task: str | None) -> None:
        self._show_settings(task)
        self.computed_for = None
        self.show_message(f"Press s (or Enter in a field) to compute the {self._title()} statistics.")
        self.post_message(self.TaskChosen(task))

    def _title(self) -> str:
        return TASK_TITLES.get(self.task or "", "task").lower()

    # -- the worker -------------------------------------------------------------------------------
    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.compute(force=True)

    def compute(self, *, force: bool = False) -> None:
        """Compute for this split, task, settings and model (once, unless forced)."""
        task = self.task
        if self.source is None or task is None:
            return
        key = (self.split, task, self.max_length, self.second, self.model_path)
        if self.computed_for == key and not force:
            return
        self.computed_for = key
        self.serial += 1
        self.running = True
        model = self.model_name or "the model"
        self.show_message(f"Computing the {self._title()} statistics with {model}'s tokenizer …")
        name = self.selection.name if self.selection is not None else "the data"
        self._worker(self.serial, self.source, f"{name} ({self.split})", task, self.max_length, self.second)

    @work(thread=True, exclusive=True, exit_on_error=False, group="task-stats")
    def _worker(self, serial: int, source: RowSource, where: str, task: str, max_length: int, second: int) -> None:
        from workbench.core.data import task_stats
        from workbench.core.tokenizer.loader import load_hf_tokenizer

        try:
            tokenizer = load_hf_tokenizer(self.model_path)
            worker = get_current_worker()

            def progress(done: int, total: int) -> None:
                if worker.is_cancelled:
                    raise WorkbenchError("cancelled")  # a newer computation replaced this one
                self.post_message(self.Progressed(serial, done, total))

            result = task_stats.compute(task, source, tokenizer, max_length, second, source=where, progress=progress)
            examples = example_lines(task, source, result)
        except WorkbenchError as error:
            self.post_message(self.Failed(serial, str(error)))
            return
        except Exception as error:  # an unexpected library error: shown, never a traceback on screen
            self.post_message(self.Failed(serial, f"{type(error).__name__}: {error}"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Computed(serial, result, examples))

    @on(Progressed)
    def _progressed(self, message: Progressed) -> None:
        message.stop()
        if message.serial == self.serial and self.running:
            self.query_one("#task-stats-body", Static).update(
                f"Computing the {self._title()} statistics … {message.done:,} of {message.total:,}"
            )

    @on(Computed)
    def _computed(self, message: Computed) -> None:
        message.stop()
        if message.serial != self.serial:
            return
        self.running = False
        self.result = message.result
        model = self.model_name or "the model"
        lines = [f"Split {self.split} · tokens of {model}", ""] + message.result.lines()
        if message.examples:
            lines += ["", "Rows as the task reads them"] + message.examples
        self.query_one("#task-stats-body", Static).update("\n".join(lines))

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        message.stop()
        if message.serial != self.serial:
            return
        self.running = False
        self.computed_for = None
        self.show_message(message.error)
        self.notify(message.error, title="Task statistics", severity="error", timeout=10, markup=False)

    def show_message(self, text: str) -> None:
        self.result = None
        self.query_one("#task-stats-body", Static).update(text)


def example_lines(task: str, source: RowSource, result: Any, count: int = EXAMPLES) -> list[str]:
    """The first rows as the task reads them: a sentence over its tags, a question with its context
    and answers, a source and its target, a document's start."""
    from workbench.core.data import task_stats
    from workbench.core.data.rows import rows_of

    rows = rows_of(source)
    first = rows.slice(0, min(count, rows.num_rows)).to_pylist()
    lines: list[str] = []
    for number, row in enumerate(first):
        lines.append("")
        if task == "token-classification":
            words = next((v for v in row.values() if isinstance(v, list) and v and isinstance(v[0], str)), [])
            tags = row.get("ner_tags") or next(
                (v for k, v in row.items() if isinstance(v, list) and v is not words and "tag" in k.lower()), []
            )
            lines.append(f"  row {number} · {len(words)} words")
            lines += ["    " + line for line in task_stats.aligned_sentence(words, tags, TEXT_WIDTH - 4)]
        elif task == "question-answering":
            from workbench.core.tasks.question_answering import answer_matches, answers_of

            parsed = answers_of(row.get("answers")) or ([], [])
            ident = row.get("id", number)
            lines.append(f"  row {number} · id {ident} · {_short(row.get('question'), TEXT_WIDTH - 20)}")
            context = task_stats.marked_context(str(row.get("context", "")), *parsed, width=200)
            lines += textwrap.wrap(
                context, TEXT_WIDTH, initial_indent="    context: ", subsequent_indent=" " * 13, break_on_hyphens=False
            )
            context_text = str(row.get("context", ""))
            shown = (
                "; ".join(
                    f"{text!r} at {start}" + ("" if answer_matches(context_text, text, start) else " (not there)")
                    for text, start in zip(*parsed, strict=True)
                )
                or "(none)"
            )
            lines.append(f"    answers: {shown}")
        elif task == "seq2seq":
            source_name = getattr(result, "source_column", "")
            target_name = getattr(result, "target_column", "")
            if "translation" in row and isinstance(row["translation"], dict):
                row = row["translation"]
            lines.append(f"  row {number} · {source_name}: {_short(row.get(source_name))}")
            lines.append(f"  {' ' * len(f'row {number}')} → {target_name}: {_short(row.get(target_name))}")
        else:
            text = next((v for v in row.values() if isinstance(v, str)), "")
            lines.append(f"  row {number} · {_short(text)}")
    return lines


def _short(value: Any, width: int = TEXT_WIDTH) -> str:
    text = " ".join(str(value or "").split())
    return text[:width] + ("…" if len(text) > width else "")


def _positive(text: str, default: int) -> int:
    try:
        value = int(text)
    except ValueError:
        return default
    return value if value > 0 else default
