"""The new-run form: a spec prefilled from the selected model and dataset, checked field by field.

Every key of the run spec is a field (choices are selects, flags are switches, the rest text parsed
to the key's type). Each change re-validates with `workbench.training.spec.validate_spec`; problems
show under their field, and Start stays refused until there are none. A side panel estimates the
memory the run needs against what is free where it will train.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.markup import escape
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, Switch

from workbench.training import spec as run_spec
from workbench.training.estimate import GIB, LORA_COUNTING, MemoryEstimate
from workbench.training.preflight import COLUMN_KEYS, column_problems

CHOICES = {
    "model.head": run_spec.HEADS,
    "model.attn_implementation": ("sdpa", "eager", "flash_attention_2"),
    "model.compile_mode": run_spec.COMPILE_MODES,
    "training.lr_scheduler_type": run_spec.SCHEDULERS,
    "training.mixed_precision": run_spec.MIXED_PRECISION,
    "training.eval_strategy": run_spec.EVAL_STRATEGIES,
    "monitor.nan_policy": run_spec.NAN_POLICIES,
}
ESTIMATE_KEYS = (
    "model.name_or_path",
    # the LoRA counts: the task's head, its labels and the table (from_config: the run refuses LoRA)
    "model.head",
    "model.num_labels",
    "model.id2label",
    "model.from_config",
    "model.lora",
    "data.max_length",
    "training.per_device_train_batch_size",
    "training.mixed_precision",
    "training.use_cpu",
)
VALIDATION_FILE_NAMES = ("validation", "valid", "dev", "eval", "test")
DATA_SUFFIXES = tuple(run_spec.DATA_EXTENSIONS)


def _data_files(path: Path) -> tuple[str, str]:
    """(train file, validation file) for a dataset path: a file and a sibling dev/validation file,
    or a folder holding train.* and dev.*/validation.*."""
    if path.is_file():
        siblings = [path.with_name(f"{name}{path.suffix}") for name in VALIDATION_FILE_NAMES]
        validation = next((str(p) for p in siblings if p.is_file() and p != path), "")
        return str(path), validation
    if path.is_dir():
        for suffix in DATA_SUFFIXES:
            train = path / f"train{suffix}"
            if train.is_file():
                return _data_files(train)
    return str(path), ""


# Task-shaped files say which task they are for, and which columns it reads.
FORMAT_TASKS = {
    "conll": ("token-classification", {"text_column": "tokens", "label_column": "ner_tags"}),
    "squad": ("question-answering", {}),
    "parallel": ("seq2seq", {}),  # the languages come from the file names
}


def spec_from_selection(model_path: str, dataset: dict | None) -> dict:
    """A default spec with the Models pane's model and the Datasets pane's columns and labels."""
    spec = run_spec.default_spec(model=model_path or None)
    shaped = FORMAT_TASKS.get(str((dataset or {}).get("format") or ""))
    if shaped and dataset.get("path"):
        head, columns = shaped
        spec = run_spec.default_spec(model=model_path or None, head=head)
        train, validation = _data_files(Path(dataset["path"]))
        spec["data"].update(train_file=train, validation_file=validation, **columns)
        return spec
    if dataset and dataset.get("path"):
        train, validation = _data_files(Path(dataset["path"]))
        spec["data"]["train_file"] = train
        spec["data"]["validation_file"] = validation
        for key in ("text_column", "text_pair_column", "label_column"):
            if dataset.get(key):
                spec["data"][key] = str(dataset[key])
        names = dataset.get("label_names") or []
        if names:
            spec["model"]["num_labels"] = len(names)
            spec["model"]["id2label"] = {str(index): str(name) for index, name in enumerate(names)}
    return spec


def _toml_value(value: Any) -> str:
    """A value inside an inline table, as `parse_value` reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + "}"
    return json.dumps(str(value), ensure_ascii=False)


def format_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, dict):
        # labels as strings ({0 = "negative"}); other tables (model.lora) keep their types ({r = 8})
        inner = ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items())
        return "{" + inner + "}" if inner else ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def parse_value(text: str, default: Any) -> Any:
    """Text from a field to the type of the key's default; ValueError with a message for the user."""
    text = text.strip()
    if isinstance(default, bool):
        return text.lower() in ("true", "1", "yes")
    if isinstance(default, int):
        try:
            return int(text.replace("_", ""))
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number (e.g. 5e-5)") from None
    if isinstance(default, list):
        return [item.strip() for item in text.split(",") if item.strip()]
    if isinstance(default, dict):
        if not text:
            return {}
        try:
            return {str(k): v for k, v in tomllib.loads(f"value = {text}")["value"].items()}
        except (tomllib.TOMLDecodeError, AttributeError):
            raise ValueError('write it as {0 = "negative", 1 = "positive"}') from None
    return text


def field_id(dotted: str) -> str:
    return "field-" + dotted.replace(".", "--")


class StartRunScreen(ModalScreen[dict | None]):
    DEFAULT_CSS = """
    StartRunScreen { align: center middle; }
    StartRunScreen #start-dialog {
        width: 96%; max-width: 150; height: 92%; border: thick $primary; background: $surface; padding: 0 1;
    }
    StartRunScreen #start-title { height: auto; padding: 0 0 1 0; }
    StartRunScreen #start-body { height: 1fr; }
    StartRunScreen #start-fields { width: 2fr; }
    StartRunScreen #start-side { width: 1fr; min-width: 34; padding: 0 0 0 2; }
    StartRunScreen .section { text-style: bold; color: $primary; margin-top: 1; }
    StartRunScreen .field { height: auto; }
    StartRunScreen .field > Label { width: 30; padding: 0 1 0 0; color: $text-muted; }
    StartRunScreen .field Input, StartRunScreen .field Select { width: 1fr; }
    StartRunScreen .field-error { color: $error; padding-left: 30; display: none; height: auto; }
    StartRunScreen .field-error.-shown { display: block; }
    StartRunScreen #start-estimate { height: auto; border: round $panel-lighten-2; padding: 0 1; }
    StartRunScreen #start-problems { height: auto; margin-top: 1; }
    StartRunScreen #start-buttons { height: auto; align-horizontal: right; padding-top: 1; }
    StartRunScreen #start-buttons Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="start.cancel", tooltip="Close without starting"),
        Binding("ctrl+s", "start", "Start", id="start.start", tooltip="Start the run (once every field is valid)"),
    ]

    @dataclass
    class Estimated(Message):
        estimate: MemoryEstimate
        generation: int

    @dataclass
    class ColumnsChecked(Message):
        """The spec's columns against the data files' headers (`column_problems`)."""

        problems: dict[str, str]
        key: tuple

    def __init__(self, spec: dict, problem: str | None = None) -> None:
        """`spec`: the values to start from (a draft the last start failed with keeps every edit);
        `problem`: why that start failed, shown above the fields' problems."""
        super().__init__()
        self.initial = copy.deepcopy(spec)
        self.problem = problem
        self.errors: dict[str, str] = {}
        self._estimate_generation = 0
        self._estimate_key: tuple | None = None
        self._columns_key: tuple | None = None  # the data files and columns last sent to be checked
        self._columns_checked: tuple | None = None  # ... and the ones `_column_problems` answers for
        self._column_problems: dict[str, str] = {}
        self._head = self.initial["model"].get("head", "")  # the task whose default metrics the form shows

    # -- building ---------------------------------------------------------------
    def compose(self) -> ComposeResult:
        model = self.initial["model"]["name_or_path"]
        data = Path(self.initial["data"]["train_file"]).name or "no dataset selected"
        with Vertical(id="start-dialog"):
            yield Static(
                f"[b]New run[/b]  [$text-muted]{escape(model)} on {escape(data)} · ctrl+s start · esc cancel[/]",
                id="start-title",
            )
            with Horizontal(id="start-body"):
                with VerticalScroll(id="start-fields"):
                    for section, values in self.initial.items():
                        yield Static(f"[{section}]", classes="section", markup=False)
                        for key, value in values.items():
                            yield from self._field(section, key, value)
                with Vertical(id="start-side"):
                    yield Static("estimating memory…", id="start-estimate")
                    yield Static("", id="start-problems")
            with Horizontal(id="start-buttons"):
                yield Button("Cancel", id="start-cancel")
                yield Button("Start run (ctrl+s)", id="start-run", variant="primary")

    def _field(self, section: str, key: str, value: Any) -> ComposeResult:
        dotted = f"{section}.{key}"
        help_text = run_spec.SCHEMA.get(section, {}).get(key, (None, ""))[1]
        if isinstance(value, bool):
            control = Switch(value=value, id=field_id(dotted))
        elif dotted in CHOICES:
            options = [(choice, choice) for choice in CHOICES[dotted]]
            control = Select(
                options,
                value=value if value in CHOICES[dotted] else Select.NULL,
                allow_blank=False,
                id=field_id(dotted),
                compact=True,
            )
        else:
            control = Input(format_value(value), id=field_id(dotted), compact=True, placeholder=help_text)
        label = Label(key)
        if help_text:
            control.tooltip = label.tooltip = help_text
        # Keys other tasks read are hidden (not removed): switching the task back shows them again.
        shown = run_spec.key_applies(dotted, self.initial["model"].get("head", ""))
        row = Horizontal(classes="field", id=field_id(dotted) + "-row")
        row.display = shown
        with row:
            yield label
            yield control
        error = Static("", classes="field-error", id=field_id(dotted) + "-error", markup=False)
        error.display = shown
        yield error

    def on_mount(self) -> None:
        self.revalidate()
        first = self.query(Input).first()
        if first is not None:
            first.focus()

    # -- reading the form -------------------------------------------------------
    def read_form(self) -> tuple[dict, dict[str, str]]:
        """The spec as typed, and the fields that do not even parse."""
        spec: dict = {}
        parse_errors: dict[str, str] = {}
        for section, values in self.initial.items():
            spec[section] = {}
            for key, default in values.items():
                dotted = f"{section}.{key}"
                widget = self.query_one(f"#{field_id(dotted)}")
                if isinstance(widget, Switch):
                    spec[section][key] = widget.value
                elif isinstance(widget, Select):
                    spec[section][key] = widget.value if widget.value is not Select.NULL else default
                else:
                    try:
                        spec[section][key] = parse_value(widget.value, default)
                    except ValueError as error:
                        parse_errors[dotted] = str(error)
                        spec[section][key] = default
        return spec, parse_errors

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Switch.Changed)
    def _changed(self) -> None:
        self.revalidate()

    @on(Select.Changed, "#" + field_id("model.head"))
    def _task_changed(self, event: Select.Changed) -> None:
        """Show the keys the chosen task reads; hide the others."""
        head = str(event.value)
        metrics = self.query_one("#" + field_id("training.metrics"), Input)
        before = parse_value(metrics.value, [])
        if before == run_spec.task_default_metrics(self._head) or not before:
            metrics.value = format_value(run_spec.task_default_metrics(head))
        self._head = head
        for section, values in self.initial.items():
            for key in values:
                dotted = f"{section}.{key}"
                shown = run_spec.key_applies(dotted, head)
                self.query_one("#" + field_id(dotted) + "-row").display = shown
                self.query_one("#" + field_id(dotted) + "-error").display = shown

    def revalidate(self) -> None:
        spec, errors = self.read_form()
        for problem in run_spec.validate_spec(spec):
            dotted = problem.field.split("[", 1)[0]
            errors.setdefault(dotted, problem.message)
        checking = self._maybe_check_columns(spec["data"])
        if not checking:
            for dotted, message in self._column_problems.items():
                errors.setdefault(dotted, message)
        self.errors = errors
        for error_widget in self.query(".field-error"):
            dotted = error_widget.id.removeprefix("field-").removesuffix("-error").replace("--", ".")
            message = errors.get(dotted, "")
            error_widget.update(f"↑ {message}" if message else "")
            error_widget.set_class(bool(message), "-shown")
        problems = self.query_one("#start-problems", Static)
        failed = f"[$error][b]The last start failed:[/b] {escape(self.problem)}[/]\n" if self.problem else ""
        if errors:
            listed = "\n".join(f"• {escape(field)}: {escape(message)}" for field, message in list(errors.items())[:8])
            problems.update(f"{failed}[$error][b]{len(errors)} problem(s)[/b][/]\n{listed}")
        elif checking:
            problems.update(f"{failed}[$text-muted]checking the columns against the data files…[/]")
        else:
            problems.update(f"{failed}[$success]✔ ready to start[/]")
        self.query_one("#start-run", Button).disabled = bool(errors) or checking
        self._maybe_estimate(spec)

    # -- columns against the data files ------------------------------------------
    def _maybe_check_columns(self, data: dict) -> bool:
        """Start a check when the files or columns changed; True while its answer is not in."""
        names = ("train_file", "validation_file", *COLUMN_KEYS, "header")
        key = (self._head, *(str(data.get(name, "")) for name in names))
        if key != self._columns_key:
            self._columns_key = key
            self.check_columns(dict(data), key)
        return self._columns_checked != key

    @work(thread=True, exclusive=True, exit_on_error=False, group="start-columns", name="column check")
    def check_columns(self, data: dict, key: tuple) -> None:
        self.post_message(self.ColumnsChecked(column_problems(data, key[0]), key))  # key[0]: the task

    @on(ColumnsChecked)
    def _columns_answered(self, message: ColumnsChecked) -> None:
        if message.key != self._columns_key:
            return  # an answer about files or columns the form no longer has
        self._columns_checked = message.key
        self._column_problems = message.problems
        self.revalidate()

    # -- memory estimate -------------------------------------------------------
    def _maybe_estimate(self, spec: dict) -> None:
        key = tuple(str(spec[s][k]) for s, k in (dotted.split(".") for dotted in ESTIMATE_KEYS))
        if key == self._estimate_key:
            return
        self._estimate_key = key
        self._estimate_generation += 1
        self.estimate(copy.deepcopy(spec), self._estimate_generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group="start-estimate", name="memory estimate")
    def estimate(self, spec: dict, generation: int) -> None:
        from workbench.training.estimate import estimate_memory, lora_counted

        if not lora_counted(spec):  # the LoRA counts build the model (seconds the first time): say so first
            self.post_message(self.Estimated(estimate_memory(spec, count_lora=False), generation))
        self.post_message(self.Estimated(estimate_memory(spec), generation))

    @on(Estimated)
    def _estimated(self, message: Estimated) -> None:
        if message.generation != self._estimate_generation:
            return
        estimate = message.estimate
        free = f"{estimate.free_bytes / GIB:.1f} GiB free" if estimate.free_bytes else "free memory unknown"
        if estimate.need_bytes is None:
            body = f"[b]Memory[/b] on {escape(estimate.where)}: {free}\n[$text-muted]{escape(estimate.detail)}[/]"
        else:
            fraction = estimate.fraction or 0.0
            colour = "$error" if fraction > 0.9 else "$warning" if fraction > 0.6 else "$success"
            verdict = (
                "will not fit: lower the batch size or max_length, or use bf16"
                if fraction > 1
                else "tight"
                if fraction > 0.9
                else "fits"
            )
            body = (
                f"[b]Memory[/b] needs ≈[{colour}]{estimate.need_bytes / GIB:.2f} GiB[/] of {free} on"
                f" {escape(estimate.where)}: [{colour}]{verdict}[/]\n[$text-muted]{escape(estimate.detail)}[/]"
            )
        if estimate.lora:
            # the counts; a note while they are counted; else what the run would refuse
            pending = estimate.lora.endswith(LORA_COUNTING)
            colour = "$text" if estimate.lora_counts else "$text-muted" if pending else "$error"
            body += f"\n[b]LoRA[/b] [{colour}]{escape(estimate.lora.removeprefix('LoRA '))}[/]"
        self.query_one("#start-estimate", Static).update(body)

    # -- actions ---------------------------------------------------------------
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_start(self) -> None:
        self.revalidate()
        if not self.errors and self._columns_checked != self._columns_key:
            self.notify("Checking the columns against the data files; start again in a moment", timeout=3)
            return
        if self.errors:
            field, message = next(iter(self.errors.items()))
            self.notify(f"{field}: {message}", title=f"{len(self.errors)} problem(s) to fix first", severity="error")
            widget = self.query_one(f"#{field_id(field)}")
            widget.focus()
            widget.scroll_visible()
            return
        spec, _ = self.read_form()
        self.dismiss(spec)

    @on(Button.Pressed, "#start-run")
    def _start_pressed(self) -> None:
        self.action_start()

    @on(Button.Pressed, "#start-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()
