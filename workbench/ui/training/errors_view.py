"""The Errors view: where one evaluation went wrong, and a key from any example to its row, its tokens
and the model.

Opened from the Training pane (`x`) on a run's latest evaluation that kept predictions, or on a
`workbench eval` result (`ErrorsView(ErrorsSource(predictions=..., model=..., data_file=...))`).
A thread worker reads the Parquet file and analyses it (`errors_parts.load_errors`); the handler
fills the widgets. Classification: the confusion matrix (counts or row-normalised, `n`), precision,
recall, F1 and support per class, and the examples sorted by loss or confidence (`s`), filtered by
gold and predicted class (the two selects, or enter on a cell of the matrix) and to the wrong ones
(`w`). Token classification: per-entity-type precision/recall/F1 (seqeval) and the sentences with
their entities marked (missed, spurious, wrong type), filtered by type and mistake. Question answering:
the wrong answers, gold and predicted spans marked in the context, with each question's windows
(`errors_spans`). Other tasks: the worst examples by loss or score, input, gold and predicted side by side.
From the highlighted example, `d` opens its row in the Datasets pane, `t` its text in the
Tokenizer (with the run's model's tokenizer, cut at its max_length), `m` the model in the Playground
with the example filled in; `c` shows the code behind the table. The pane keys (1-4) do nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.coordinate import Coordinate
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Select, Static

from workbench.core.errors import WorkbenchError
from workbench.ui.messages import DatasetRowRequested, OpenModelRequested, SendToTokenizer
from workbench.ui.shell.footer import WorkbenchFooter
from workbench.ui.training import errors_spans
from workbench.ui.training.errors_parts import (
    KNOWN,
    MAX_SHOWN,
    SORTS,
    ErrorsData,
    ErrorsSource,
    cell,
    examples_code,
    load_errors,
    needs_data,
)
from workbench.ui.widgets.code_dialog import CodeDialog

SPAN_KINDS = ("token", "qa")  # the views errors_spans draws


class ErrorsView(Screen[None]):
    DEFAULT_CSS = """
    ErrorsView { background: $surface; }
    ErrorsView #errors-title { height: 1; padding: 0 1; text-style: bold; }
    ErrorsView #errors-top { height: auto; max-height: 16; }
    ErrorsView #errors-matrix { width: auto; max-width: 70%; height: auto; max-height: 16;
        border: round $panel-lighten-2; }
    ErrorsView #errors-scores { width: 1fr; height: auto; max-height: 16; border: round $panel-lighten-2; }
    ErrorsView #errors-filters { height: auto; }
    ErrorsView #errors-filters Select { width: 36; }
    ErrorsView #errors-sort { width: 1fr; height: 3; content-align: left middle; padding: 0 1; color: $text-muted; }
    ErrorsView #errors-examples { height: 1fr; border: round $panel-lighten-2; }
    ErrorsView #errors-detail { height: 5; padding: 0 1; border-top: hkey $panel-lighten-2; }
    ErrorsView.-generic #errors-top, ErrorsView.-generic #errors-filters { display: none; }
    ErrorsView.-spans #errors-matrix, ErrorsView.-qa #errors-filters { display: none; }
    ErrorsView.-spans #errors-scores { max-height: 12; }
    ErrorsView.-spans #errors-detail { height: 9; }
    """
    HOLDS_PANE_KEYS = True  # the app disables its pane keys (1-4) under this view: see WorkbenchApp.check_action
    BINDINGS = [
        Binding("escape", "close", "Close", id="errors.close", tooltip="Back to the Training pane"),
        Binding("s", "sort", "Sort", id="errors.sort", tooltip="Sort the examples by loss or by confidence/score"),
        Binding("w", "wrong_only", "Wrong only", id="errors.wrong_only", tooltip="Only wrong predictions, or all"),
        Binding("n", "normalise", "Counts/%", id="errors.normalise", tooltip="Confusion matrix: counts or row %"),
        Binding("a", "all_classes", "All classes", id="errors.all", tooltip="Clear the gold and predicted filters"),
        Binding("d", "datasets", "Datasets", id="errors.datasets", tooltip="Open the example's row in Datasets"),
        Binding("t", "tokenizer", "Tokenizer", id="errors.tokenizer", tooltip="Tokenize the example's text"),
        Binding("m", "playground", "Playground", id="errors.playground", tooltip="Load the model in the Playground"),
        Binding("c", "show_code", "Show code", id="errors.code", tooltip="The pandas code that gives this table"),
    ]

    @dataclass
    class Loaded(Message):
        data: ErrorsData

    @dataclass
    class LoadFailed(Message):
        error: str

    def __init__(self, source: ErrorsSource | Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.source = source if isinstance(source, ErrorsSource) else ErrorsSource(run_dir=Path(source))
        self.data: ErrorsData | None = None
        self.sort_index = 0
        self.normalised = False
        self.wrong_only = False
        self.gold: str | None = None
        self.predicted: str | None = None
        self.shown: list[dict] = []  # the examples in the table, in its order
        self.matching = 0  # examples that pass the filters (the table shows the first MAX_SHOWN)
        self.styles_of_spans: dict[str, str] = {}  # token/QA marks, from the theme (errors_spans.span_styles)

    def compose(self) -> ComposeResult:
        yield Static("Reading the predictions …", id="errors-title", markup=False)
        with Horizontal(id="errors-top"):
            yield DataTable(id="errors-matrix", cursor_type="cell")
            yield DataTable(id="errors-scores", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="errors-filters"):
            yield Select([], prompt="gold: any", id="errors-gold")
            yield Select([], prompt="predicted: any", id="errors-predicted")
            yield Static("", id="errors-sort", markup=False)
        yield DataTable(id="errors-examples", cursor_type="row", zebra_stripes=True)
        yield Static("", id="errors-detail", markup=False)
        yield WorkbenchFooter()

    def on_mount(self) -> None:
        self.query_one("#errors-examples").loading = True
        self.load(self.source)

    @property
    def loading(self) -> bool:
        """The worker has not answered yet (tests wait on this)."""
        return self.query_one("#errors-examples").loading

    @work(thread=True, exclusive=True, exit_on_error=False, group="errors-load", name="errors loader")
    def load(self, source: ErrorsSource) -> None:
        try:
            data = load_errors(source)
        except (WorkbenchError, OSError) as error:
            self.post_message(self.LoadFailed(str(error)))
            return
        self.post_message(self.Loaded(data))

    @on(LoadFailed)
    def _load_failed(self, message: LoadFailed) -> None:
        self.query_one("#errors-examples").loading = False
        self.query_one("#errors-title", Static).update(f"Could not open the predictions: {message.error}")
        self.add_class("-generic")
        self.notify(message.error, title="Errors view", severity="error", timeout=10, markup=False)

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        data = self.data = message.data
        self.query_one("#errors-title", Static).update(f"Errors · {data.title}")
        self.set_class(data.kind == "generic", "-generic")
        self.set_class(data.kind in SPAN_KINDS, "-spans")
        self.set_class(data.kind == "qa", "-qa")
        if data.kind in SPAN_KINDS:
            self.wrong_only = True  # the mistakes first; `w` shows every example
            self.styles_of_spans = errors_spans.span_styles(self.app.get_css_variables())
            self._fill_span_scores()
        elif "loss" not in data.table.column_names and "score" in data.table.column_names:
            self.sort_index = 1
        if data.matrix is not None:
            self._fill_matrix()
            self._fill_scores()
            options = [(label, label) for label in data.matrix.labels]
            self.query_one("#errors-gold", Select).set_options(options)
            self.query_one("#errors-predicted", Select).set_options(options)
        self.query_one("#errors-examples").loading = False
        self.refresh_examples()
        self.query_one("#errors-examples").focus()
        if any(self.check_action(binding.action, ()) is not True for binding in self.BINDINGS):
            self.refresh_bindings()

    # -- token classification and question answering: scores ----------------------------------
    def _fill_span_scores(self) -> None:
        data = self.data
        table = self.query_one("#errors-scores", DataTable)
        if data.kind == "qa":
            table.add_columns("question answering", "")
            for name, value in data.qa.summary:
                table.add_row(name, Text(value, justify="right"))
            table.border_title = "scores"
            return
        self._fill_scores(data.tokens.scores, data.tokens.averages, "entity type")
        table.border_title = f"per entity type (seqeval, {data.tokens.scheme})"
        types = [(name, name) for name in data.tokens.types]
        gold, kind = self.query_one("#errors-gold", Select), self.query_one("#errors-predicted", Select)
        gold.prompt, kind.prompt = "type: any", "mistake: any"
        gold.set_options(types)
        kind.set_options([(title, name) for name, title in errors_spans.ERROR_KINDS])

    # -- classification: matrix and scores --------------------------------------------------
    def _fill_matrix(self) -> None:
        matrix = self.data.matrix
        table = self.query_one("#errors-matrix", DataTable)
        table.add_column("gold \\ predicted", key="gold")
        for index, label in enumerate(matrix.labels):
            table.add_column(cell(label, 14), key=str(index))
        for index, label in enumerate(matrix.labels):
            table.add_row(Text(cell(label, 20), style="bold"), *self._matrix_cells(index), key=str(index))
        self._title_matrix()

    def _matrix_cells(self, row: int) -> list[Text]:
        matrix = self.data.matrix
        cells = []
        for column, count in enumerate(matrix.counts[row]):
            value = f"{matrix.normalised[row, column]:.1%}" if self.normalised else f"{int(count):,}"
            style = "bold" if row == column else ("dim" if count == 0 else "")
            cells.append(Text(value, style=style, justify="right"))
        return cells

    def _title_matrix(self) -> None:
        table = self.query_one("#errors-matrix", DataTable)
        table.border_title = "confusion matrix · " + ("row %" if self.normalised else "counts")
        table.border_subtitle = "enter: filter · n: counts/%"

    def _fill_scores(self, scores=None, averages=None, title: str = "class") -> None:
        """Precision, recall, F1 and support per class (or entity type), then the averages (default: macro)."""
        table = self.query_one("#errors-scores", DataTable)
        table.add_columns(title, "precision", "recall", "F1", "support")
        scores = self.data.scores if scores is None else scores
        for score in scores:
            numbers = (score.precision, score.recall, score.f1)
            table.add_row(
                cell(score.label, 24),
                *(Text(f"{n:.4f}", justify="right") for n in numbers),
                Text(f"{score.support:,}", justify="right"),
            )
        for average in averages or ():
            numbers = (average.precision, average.recall, average.f1)
            table.add_row(
                Text(average.label, style="italic"),
                *(Text(f"{n:.4f}", justify="right") for n in numbers),
                Text(f"{average.support:,}", justify="right"),
            )
        if scores and averages is None:
            means = [sum(getattr(s, name) for s in scores) / len(scores) for name in ("precision", "recall", "f1")]
            total = sum(score.support for score in scores)
            table.add_row(
                Text("macro average", style="italic"),
                *(Text(f"{n:.4f}", justify="right") for n in means),
                Text(f"{total:,}", justify="right"),
            )
        table.border_title = "per class"

    @needs_data
    def action_normalise(self) -> None:
        self.normalised = not self.normalised
        table = self.query_one("#errors-matrix", DataTable)
        for row in range(len(self.data.matrix.labels)):
            for column, value in enumerate(self._matrix_cells(row), start=1):
                table.update_cell_at(Coordinate(row, column), value)
        self._title_matrix()

    @on(DataTable.CellSelected, "#errors-matrix")
    def _cell_selected(self, event: DataTable.CellSelected) -> None:
        """Enter on a cell: the examples of that gold class predicted as that class (first column: gold only)."""
        labels = self.data.matrix.labels
        row, column = event.coordinate
        self.set_filters(labels[row], labels[column - 1] if column > 0 else None)
        self.query_one("#errors-examples").focus()

    def set_filters(self, gold: str | None, predicted: str | None) -> None:
        """Show only examples of this gold and predicted class (None: any); the selects follow."""
        for selector, value in (("#errors-gold", gold), ("#errors-predicted", predicted)):
            select = self.query_one(selector, Select)
            if value is None:
                select.clear()
            else:
                select.value = value
        self.gold, self.predicted = gold, predicted
        self.refresh_examples()

    @on(Select.Changed, "#errors-filters Select")
    def _filter_changed(self) -> None:
        gold, predicted = (self.query_one(name, Select) for name in ("#errors-gold", "#errors-predicted"))
        values = tuple(None if select.is_blank() else str(select.value) for select in (gold, predicted))
        if values != (self.gold, self.predicted):
            self.gold, self.predicted = values
            self.refresh_examples()

    @needs_data
    def action_all_classes(self) -> None:
        self.set_filters(None, None)

    @needs_data
    def action_wrong_only(self) -> None:
        self.wrong_only = not self.wrong_only
        self.refresh_examples()

    @needs_data
    def action_sort(self) -> None:
        sorts = SORTS[self.data.kind]
        names = self.data.table.column_names
        for _ in sorts:  # the next order whose column the predictions have
            self.sort_index = (self.sort_index + 1) % len(sorts)
            if sorts[self.sort_index][0] in names:
                break
        self.refresh_examples()

    # -- the examples -------------------------------------------------------------------------
    @property
    def sort(self) -> tuple[str, bool | None, str]:
        return SORTS[self.data.kind][self.sort_index]

    def refresh_examples(self) -> None:
        """Filter and sort the examples (numpy over the table: milliseconds for 10,000) and show the first."""
        from workbench.core.evaluation.analysis import worst_examples

        data = self.data
        if data is None:
            return
        if data.kind in SPAN_KINDS:
            self._refresh_spans()
            return
        table = self.query_one("#errors-examples", DataTable)
        by, descending, label = self.sort
        if by not in data.table.column_names:
            picked = data.table.add_column(0, "row", [list(range(data.table.num_rows))])
        else:
            picked = worst_examples(
                data.table, by, self.gold, self.predicted, None, wrong_only=self.wrong_only, descending=descending
            )
        self.matching = picked.num_rows
        self.shown = picked.slice(0, MAX_SHOWN).to_pylist()
        columns = self._columns(picked.column_names)
        rows = [[cell(example.get(name)) for name, _ in columns] for example in self.shown]
        table.clear(columns=True)
        # Widths given, not measured: DataTable measures every cell of an auto-width column through
        # Rich (a second for 500 rows on a busy machine); text lengths are enough here.
        for position, (name, title) in enumerate(columns):
            width = max([cell_len(title), *(cell_len(row[position]) for row in rows)])
            table.add_column(title, key=name, width=width)
        right = [name in ("row", "score", "loss") for name, _ in columns]
        for index, row in enumerate(rows):  # Text, not str: a str cell would be read as markup
            table.add_row(
                *(Text(text, justify="right" if r else "left") for r, text in zip(right, row)), key=str(index)
            )
        self._describe(label)
        self._show_detail()

    def _span_rows(self):
        """The records the filters keep, in the sort's order (numpy over the analysis' columns)."""
        import numpy as np

        data = self.data
        by, descending, _ = self.sort
        numbers = data.numbers
        if by not in numbers:
            by, descending = ("errors", True) if data.kind == "token" else ("f1", False)
        wrong = None
        keep = None
        if data.kind == "token":
            wrong = numbers["errors"] > 0 if self.wrong_only else None
            if self.predicted is not None:  # the mistake filter
                keep = numbers[self.predicted] > 0
            if self.gold is not None:  # the entity type filter: a mistake (with `w` off: any entity) of that type
                involved = np.array(
                    [any(self._involves(span) for span in spans) for spans in data.tokens.spans], dtype=bool
                )
                keep = involved if keep is None else keep & involved
        elif self.wrong_only:
            wrong = numbers["exact"] == 0
        return errors_spans.pick_rows(numbers, by, bool(descending), wrong=wrong, keep=keep)

    def _involves(self, span: errors_spans.Span) -> bool:
        if self.predicted is not None and span.kind != self.predicted:
            return False
        if self.wrong_only and span.kind == "correct":
            return False
        return self.gold in (span.label, span.predicted)

    def _refresh_spans(self) -> None:
        data = self.data
        table = self.query_one("#errors-examples", DataTable)
        rows = self._span_rows()
        self.matching = len(rows)
        picked = data.table.take(rows[:MAX_SHOWN])
        self.shown = [{"row": int(row), **example} for row, example in zip(rows, picked.to_pylist())]
        styles = self.styles_of_spans
        table.clear(columns=True)
        if data.kind == "token":
            columns = [("row", 6), ("missed", 6), ("spurious", 8), ("wrong type", 10), ("loss", 7), ("sentence", 72)]
            cells = []
            for example in self.shown:
                spans = data.tokens.spans[example["row"]]
                words = str(example.get("input") or "").split()
                counts = [sum(span.kind == kind for span in spans) for kind, _ in errors_spans.ERROR_KINDS]
                cells.append(
                    [
                        Text(str(example["row"]), justify="right"),
                        *(Text(str(count) if count else "·", justify="right") for count in counts),
                        Text(cell(example.get("loss")), justify="right"),
                        errors_spans.marked_sentence(
                            words,
                            spans if data.tokens.tags[example["row"]] <= len(words) else [],  # tags per sub-token
                            styles,
                            width=errors_spans.CELL_WIDTH,
                        ),
                    ]
                )
        else:
            columns = [
                ("row", 6),
                ("F1", 6),
                ("conf.", 6),
                ("win", 3),
                ("question", 34),
                ("answers in the context", 72),
            ]
            cells = []
            for example in self.shown:
                row = example["row"]
                context = errors_spans.marked_context(
                    str(example.get("context") or ""),
                    data.qa.gold_spans[row],
                    data.qa.predicted_spans[row],
                    styles,
                    width=errors_spans.CELL_WIDTH,
                )
                windows = example.get("windows")
                cells.append(
                    [
                        Text(str(row), justify="right"),
                        Text(f"{data.numbers['f1'][row]:.2f}", justify="right"),
                        Text(cell(example.get("score"))[:6], justify="right"),
                        Text("—" if windows is None else str(windows), justify="right"),
                        Text(cell(example.get("input"), 34), no_wrap=True),
                        context,
                    ]
                )
        for title, width in columns:
            table.add_column(title, key=title, width=width)
        for index, row in enumerate(cells):
            table.add_row(*row, key=str(index))
        self._describe(self.sort[2])
        self._show_detail()

    def _columns(self, names: list[str]) -> list[tuple[str, str]]:
        """(column, title): classification shows the classes first; other tasks the numbers first."""
        if self.data.kind == "classification":
            order = ("row", "gold", "predicted", "score", "loss", "input", "input_pair")
        else:
            order = ("row", "loss", "score", "input", "input_pair", "gold", "predicted")
        titles = {"score": "confidence" if self.data.kind == "classification" else "score", "input_pair": "pair"}
        columns = [(name, titles.get(name, name)) for name in order if name in names]
        extra = [name for name in names if name not in KNOWN][:4]
        return columns + [(name, name) for name in extra]

    def _describe(self, label: str) -> None:
        if self.data.kind == "token":
            mistake = dict(errors_spans.ERROR_KINDS).get(self.predicted, self.predicted)
            filters = [f"type {self.gold}" if self.gold else "", f"{mistake}" if self.predicted else ""]
            filters.append("with mistakes" if self.wrong_only else "")
        else:
            filters = [
                f"gold {self.gold}" if self.gold else "",
                f"predicted {self.predicted}" if self.predicted else "",
            ]
            filters.append(("wrong answers" if self.data.kind == "qa" else "wrong only") if self.wrong_only else "")
        where = " · ".join(text for text in filters if text)
        count = f"{len(self.shown):,} of {self.matching:,}" if self.matching > len(self.shown) else f"{self.matching:,}"
        table = self.query_one("#errors-examples", DataTable)
        table.border_title = f"examples · {count}" + (f" · {where}" if where else "")
        table.border_subtitle = f"sorted by {label} · s: sort"
        hint = {
            "token": "w: every sentence or those with mistakes · a: any type and mistake",
            "qa": "w: every question or the wrong answers",
        }.get(self.data.kind, "enter on a matrix cell: its examples · w: wrong only · a: all")
        self.query_one("#errors-sort", Static).update(f"showing {where}" if where else hint)

    @on(DataTable.RowHighlighted, "#errors-examples")
    def _show_detail(self) -> None:
        example = self.current_example()
        detail = Text()
        if example is not None and self.data.kind == "token":
            row = example["row"]
            detail = errors_spans.token_detail(
                example, self.data.tokens.spans[row], self.data.tokens.tags[row], self.styles_of_spans
            )
        elif example is not None and self.data.kind == "qa":
            row = example["row"]
            qa = self.data.qa
            detail = errors_spans.qa_detail(example, qa.gold_spans[row], qa.predicted_spans[row], self.styles_of_spans)
        elif example is not None:
            for name, title in (
                ("input", "input"),
                ("input_pair", "pair"),
                ("gold", "gold"),
                ("predicted", "predicted"),
            ):
                if name in example:
                    detail.append(f"{title:>9} ", style="bold").append(cell(example[name], 400) + "\n")
        self.query_one("#errors-detail", Static).update(detail)

    def current_example(self) -> dict | None:
        """The highlighted example (a row of the predictions, with its `row` in the file)."""
        table = self.query_one("#errors-examples", DataTable)
        if not self.shown or not 0 <= table.cursor_row < len(self.shown):
            return None
        return self.shown[table.cursor_row]

    # -- jumps --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if self.data is None:  # the keys of a classification view, so a loaded one keeps the footer as it is
            return True  # (a footer rebuild costs more than reading 10,000 examples); `needs_data` guards them
        kind = self.data.kind
        if action == "normalise":
            return kind == "classification"
        if action == "all_classes":
            return kind in ("classification", "token")
        if action == "wrong_only":
            return kind in ("classification", *SPAN_KINDS)
        if action == "playground":
            return True if self.data.model else None
        if action == "datasets":
            return True if self.data.dataset else None
        return True

    def _example(self) -> dict | None:
        example = self.current_example()
        if example is None:
            self.notify("No example selected.", severity="warning")
        return example

    @needs_data
    def action_datasets(self) -> None:
        example, dataset = self._example(), self.data.dataset
        if example is None:
            return
        if dataset is None:
            self.notify("Which file these predictions came from is not known.", severity="warning")
            return
        self.dismiss()
        self.app.post_message(
            DatasetRowRequested(
                dataset["source"], int(example["row"]), dataset["split"], dataset["splits"], dataset["config"]
            )
        )

    @needs_data
    def action_tokenizer(self) -> None:
        example = self._example()
        if example is None:
            return
        if example.get("input") is None:
            self.notify("These predictions keep no input text.", severity="warning")
            return
        pair = example.get("input_pair", example.get("context"))  # question answering: the passage
        truncation = "only_second" if self.data.kind == "qa" else "longest_first"  # QA cuts the passage only
        self.dismiss()
        self.app.post_message(
            SendToTokenizer(
                str(example["input"]),
                None if pair is None else str(pair),
                source=self.data.model,  # the run's model's tokenizer (its final/ folder)
                max_length=self.data.max_length,
                truncation=truncation if self.data.max_length else None,
                windows=self.data.kind == "qa",  # QA splits a long passage into windows; the others drop the rest
                stride=self.data.stride,
            )
        )

    @needs_data
    def action_playground(self) -> None:
        if not self.data.model:
            self.notify("This run has no final model yet.", severity="warning")
            return
        example = self.current_example() or {}
        text, pair = example.get("input"), example.get("input_pair", example.get("context"))
        self.dismiss()
        self.app.post_message(
            OpenModelRequested(
                self.data.model, None if text is None else str(text), None if pair is None else str(pair)
            )
        )

    @needs_data
    def action_show_code(self) -> None:
        by, descending, _ = self.sort
        path = str(self.data.path)
        if self.data.kind == "token":
            code = errors_spans.token_code(
                path, by, bool(descending), self.gold, self.predicted, self.wrong_only, self.data.tokens.scheme
            )
            title = "Code that reproduces these scores and sentences (seqeval and pandas)"
        elif self.data.kind == "qa":
            code = errors_spans.qa_code(path, by, bool(descending), self.wrong_only)
            title = "Code that reproduces these scores and answers (pandas)"
        else:
            code = examples_code(self.data, by, descending, self.gold, self.predicted, self.wrong_only)
            title = "Code that reproduces this table (pandas and pyarrow)"
        self.app.push_screen(CodeDialog(code, title, ids=("errors-code", "errors-code-copy", "errors-code-close")))

    def action_close(self) -> None:
        self.dismiss()
