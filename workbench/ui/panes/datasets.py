"""Datasets pane: open, browse, search and prepare data for a head.

Everything slow (opening, searching, statistics, tokenizing) runs in thread workers that
post messages; the handlers here own the state. Rows come page by page from the
memory-mapped Arrow table through `RowPager`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import ContentSwitcher, OptionList, Static, Tab, Tabs
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from workbench.core.data.files import human_size
from workbench.core.data.paging import RowPager
from workbench.core.errors import WorkbenchError
from workbench.ui.messages import ActiveDatasetChanged, SendToTokenizer
from workbench.ui.palette import PaletteCommand
from workbench.ui.widgets.datasets_dialogs import DatasetsOpenDialog, JumpDialog, OpenRequest, RowDetailDialog
from workbench.ui.widgets.datasets_query import FilterBar, FilterQuery, SearchBar, SearchQuery
from workbench.ui.widgets.datasets_table import DatasetTable
from workbench.ui.widgets.empty_state import EmptyState

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.data.loading import OpenedDataset

VIEWS = {"rows": "datasets-rows-view", "stats": "datasets-stats-view", "prepare": "datasets-prepare-view"}


class DatasetsPane(Vertical, can_focus=True):
    DEFAULT_CSS = """
    DatasetsPane #datasets-body { display: none; height: 1fr; }
    DatasetsPane.-open #datasets-body { display: block; }
    DatasetsPane.-open #datasets-empty { display: none; }
    DatasetsPane #datasets-side { width: 34; height: 1fr; border-right: vkey $panel-lighten-2; padding-right: 1; }
    DatasetsPane #datasets-title { text-style: bold; height: auto; }
    DatasetsPane #datasets-splits { height: auto; max-height: 8; margin: 1 0; }
    DatasetsPane #datasets-features-box { height: 1fr; }
    DatasetsPane #datasets-main { height: 1fr; padding-left: 1; }
    DatasetsPane #datasets-views { height: 1fr; }
    DatasetsPane #datasets-rows-view { height: 1fr; }
    DatasetsPane #datasets-status { height: 1; color: $text-muted; }
    DatasetsPane #datasets-status.-warning { color: $warning; }
    """
    BINDINGS = [
        Binding("o", "open", "Open", id="datasets.open", tooltip="Open a file, folder, cache entry or Hub id"),
        Binding("slash", "search", "Search", id="datasets.search", tooltip="Search text columns (substring or regex)"),
        Binding("f", "filter", "Filter", id="datasets.filter", tooltip="Filter rows: column, operator, value"),
        Binding("escape", "stop_query", "Stop/clear", id="datasets.stop", tooltip="Stop the search, or clear its results"),
        Binding("g", "jump", "Go to row", id="datasets.jump", tooltip="Jump to row N"),
        Binding("t", "send_to_tokenizer", "To tokenizer", id="datasets.send", tooltip="Open the current row in the Tokenizer pane"),
        Binding("r", "reload", "Reload", id="datasets.reload", tooltip="Open the same dataset again (after it changed)"),
    ]

    class Opened(Message):
        def __init__(self, opened: "OpenedDataset", info: dict) -> None:
            super().__init__()
            self.opened = opened
            self.info = info

    class OpenFailed(Message):
        def __init__(self, source: str, error: str) -> None:
            super().__init__()
            self.source = source
            self.error = error

    class QueryProgressed(Message):
        """Cumulative results of a search or filter (so only the newest needs delivering)."""

        def __init__(self, serial: int, done: int, total: int, matches: "np.ndarray", finished: bool) -> None:
            super().__init__()
            self.serial = serial
            self.done = done
            self.total = total
            self.matches = matches
            self.finished = finished

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DatasetsPane.QueryProgressed) and not message.finished and message.serial == self.serial

    class QueryFailed(Message):
        def __init__(self, serial: int, error: str) -> None:
            super().__init__()
            self.serial = serial
            self.error = error

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.opened: OpenedDataset | None = None
        self.info: dict = {}
        self.split: str | None = None
        self.last_request: OpenRequest | None = None
        self.query_label = ""
        self.query_serial = 0
        self.query_running = False
        self.query_matches: np.ndarray | None = None
        self.changed_noted: list[Path] = []
        self.loading = False

    def compose(self) -> ComposeResult:
        yield EmptyState(
            "[b]Datasets[/b]\n\n"
            "No dataset is open. Press [b]o[/b] to open CSV, TSV, JSON, JSON Lines, Parquet, Arrow or text files,"
            " a folder of split files, a save_to_disk folder or an entry of the local datasets cache,"
            " then browse rows, search, see statistics and prepare them for a head.",
            id="datasets-empty",
        )
        with Horizontal(id="datasets-body"):
            with Vertical(id="datasets-side"):
                yield Static(id="datasets-title", markup=False)
                yield OptionList(id="datasets-splits")
                with VerticalScroll(id="datasets-features-box"):
                    yield Static(id="datasets-features")
            with Vertical(id="datasets-main"):
                yield Tabs(Tab("Rows", id="rows"), id="datasets-tabs")
                with ContentSwitcher(initial=VIEWS["rows"], id="datasets-views"):
                    with Vertical(id=VIEWS["rows"]):
                        yield SearchBar(id="datasets-search")
                        yield FilterBar(id="datasets-filter")
                        yield DatasetTable(id="datasets-table")
                        yield Static(id="datasets-status", markup=False)

    def on_mount(self) -> None:
        self.set_interval(1.0, self._check_changed_files)

    def on_show(self) -> None:
        """Shown by its tab: take focus, so the pane's keys (o, /, f, g, t) work at once."""
        self.call_after_refresh(self._focus_inside)

    def _focus_inside(self) -> None:
        focused = self.app.focused
        if focused is not None and (focused is self or self in focused.ancestors):
            return
        if self.opened is not None:
            self.query_one(DatasetTable).focus()
        else:
            self.focus()

    # -- opening -------------------------------------------------------------------------------
    def open_path(self, source: str | Path, splits: dict[str, list[str]] | None = None, *, config: str | None = None, split: str | None = None) -> None:
        """Open a file, folder or Hub id in a worker (public: tests and other panes call it)."""
        self._start_open(OpenRequest(str(source), splits, config, split))

    def _start_open(self, request: OpenRequest) -> None:
        self.last_request = request
        self.loading = True
        self._set_status(f"Opening {Path(request.source).name or request.source} …")
        self._open_worker(request)

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets-open")
    def _open_worker(self, request: OpenRequest) -> None:
        from workbench.core.data.describe import dataset_info
        from workbench.core.data.loading import open_dataset

        try:
            opened = open_dataset(request.source, request.splits, config=request.config, split=request.split)
            info = dataset_info(opened)
        except WorkbenchError as error:
            self.post_message(self.OpenFailed(request.source, str(error)))
            return
        except Exception as error:  # an unexpected library error: shown, never a traceback on screen
            self.post_message(self.OpenFailed(request.source, f"{type(error).__name__}: {error}"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Opened(opened, info))

    @on(OpenFailed)
    def _open_failed(self, message: OpenFailed) -> None:
        self.loading = False
        self._set_status(message.error.splitlines()[0], warning=True)
        self.notify(message.error, title="Could not open the dataset", severity="error", timeout=12, markup=False)

    @on(Opened)
    def _opened(self, message: Opened) -> None:
        self.loading = False
        self._cancel_query()
        self.opened = message.opened
        self.info = message.info
        self.changed_noted = []
        self.add_class("-open")
        self.query_one("#datasets-title", Static).update(self._title())
        splits = self.query_one("#datasets-splits", OptionList)
        splits.clear_options()
        splits.add_options(
            Option(f"{name:<11} {dataset.num_rows:>10,} rows", id=name) for name, dataset in message.opened.splits.items()
        )
        self.query_one("#datasets-features", Static).update(self._features_text())
        for warning in message.opened.warnings:
            self.notify(warning, severity="warning", timeout=8, markup=False)
        self.show_split(next(iter(message.opened.splits)))
        splits.highlighted = 0
        self.query_one(DatasetTable).focus()
        self.post_message(ActiveDatasetChanged(self.active_info()))

    def active_info(self) -> dict:
        """The app-wide description of this dataset (see ActiveDatasetChanged)."""
        info = self.info
        split_files = {name: [str(p) for p in paths] for name, paths in self.opened.split_files.items()} if self.opened else {}
        return {
            "path": info.get("path", ""),
            "name": info.get("name", ""),
            "splits": list(info.get("splits", {})),
            "num_rows": {name: split["rows"] for name, split in info.get("splits", {}).items()},
            "split_files": split_files,
            "train_file": (split_files.get("train") or [None])[0],
            "validation_file": (split_files.get("validation") or [None])[0],
            "text_column": info.get("text_column"),
            "text_pair_column": info.get("text_pair_column"),
            "label_column": info.get("label_column"),
            "label_names": list(info.get("label_names") or []),
            "task": info.get("task"),
        }

    def _title(self) -> str:
        assert self.opened is not None
        kind = {"files": self.opened.fmt.upper(), "saved": "save_to_disk", "cache": "datasets cache", "hub": "Hub"}[self.opened.kind]
        return f"{self.opened.name}\n{kind}"

    def _features_text(self) -> str:
        lines = ["Features"]
        for name, kind in self.info.get("features", {}).items():
            lines.append(f"  {name}: {kind}")
        guess = [
            ("text", self.info.get("text_column")),
            ("pair", self.info.get("text_pair_column")),
            ("label", self.info.get("label_column")),
        ]
        lines.append("")
        lines.extend(f"{role:>6}: {column or '-'}" for role, column in guess)
        if self.info.get("task"):
            names = self.info.get("label_names") or []
            lines.append(f"  task: {self.info['task']}" + (f" ({len(names)} labels)" if names else ""))
        if self.info.get("label_problem"):
            lines.append(f"labels: {self.info['label_problem']}")
        return "\n".join(lines)

    @on(OptionList.OptionHighlighted, "#datasets-splits")
    def _split_chosen(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.split:
            self.show_split(event.option.id)

    def show_split(self, split: str) -> None:
        assert self.opened is not None
        self._cancel_query()
        self.split = split
        dataset = self.opened.splits[split]
        self.query_matches = None
        self.query_label = ""
        table = self.query_one(DatasetTable)
        table.show(RowPager(dataset))
        from workbench.core.data.labels import string_columns

        self.query_one(SearchBar).set_columns(string_columns(dataset))
        self.query_one(FilterBar).set_columns(list(dataset.column_names))
        self._update_status()

    @property
    def dataset(self):
        return self.opened.splits[self.split] if self.opened is not None and self.split else None

    # -- status ------------------------------------------------------------------------------------
    @on(DatasetTable.CursorMoved)
    def _cursor_moved(self, event: DatasetTable.CursorMoved) -> None:
        self._update_status()

    def _update_status(self) -> None:
        if self.opened is None or self.split is None:
            return
        table = self.query_one(DatasetTable)
        split_rows = self.opened.num_rows(self.split)
        size = human_size(self.opened.source_bytes(self.split) or self.opened.arrow_bytes(self.split))
        if table.total:
            where = f"row {table.pager.source_row(table.cursor_row):,}"
        else:
            where = "no rows"
        text = f"{self.split} · {where} of {split_rows:,} · {size}"
        if self.query_label:
            count = len(self.query_matches) if self.query_matches is not None else 0
            text += f" · {self.query_label}: {count:,} matches"
            if self.query_running:
                text += " · esc stops"
        changed = [path.name for path in self.changed_noted]
        if changed:
            text = f"{', '.join(changed)} changed on disk: r reloads · " + text
        self._set_status(text, warning=bool(changed))

    def _set_status(self, text: str, *, warning: bool = False) -> None:
        status = self.query_one("#datasets-status", Static)
        status.update(text)
        status.set_class(warning, "-warning")

    # -- search and filter -------------------------------------------------------------------------
    @on(SearchBar.Submitted)
    def _search_submitted(self, event: SearchBar.Submitted) -> None:
        query: SearchQuery = event.query
        where = query.column or "text columns"
        kind = "regex" if query.regex else "search"
        self.run_search(query, label=f"{kind} {query.text!r} in {where}")

    @on(FilterBar.Submitted)
    def _filter_submitted(self, event: FilterBar.Submitted) -> None:
        query: FilterQuery = event.query
        self.run_filter(query)

    def run_search(self, query: SearchQuery, *, label: str | None = None) -> None:
        if self.dataset is None:
            return
        self._begin_query(label or f"search {query.text!r}")
        self._query_worker(self.query_serial, "search", query)

    def run_filter(self, query: FilterQuery) -> None:
        if self.dataset is None:
            return
        value = f" {query.value!r}" if query.value else ""
        self._begin_query(f"filter {query.column} {query.operator}{value}")
        self._query_worker(self.query_serial, "filter", query)

    def _begin_query(self, label: str) -> None:
        import numpy as np

        self.query_serial += 1
        self.query_label = label + " (0%)"
        self.query_running = True
        self.query_matches = np.empty(0, dtype=np.int64)
        self.query_one(DatasetTable).show(RowPager(self.dataset, self.query_matches), keep_widths=True)
        self._base_label = label
        self._update_status()

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets-query")
    def _query_worker(self, serial: int, kind: str, query) -> None:
        import numpy as np

        from workbench.core.data.search import iter_filter, iter_search

        worker = get_current_worker()
        dataset = self.dataset
        try:
            if kind == "search":
                columns = [query.column] if query.column else None
                progress = iter_search(dataset, query.text, columns=columns, regex=query.regex)
            else:
                progress = iter_filter(dataset, query.column, query.operator, query.value)
            found: list[np.ndarray] = []
            done, total = 0, dataset.num_rows
            for step in progress:
                if worker.is_cancelled:
                    return
                found.append(step.matches)
                done, total = step.done, step.total
                self.post_message(self.QueryProgressed(serial, done, total, np.concatenate(found), False))
            matches = np.concatenate(found) if found else np.empty(0, dtype=np.int64)
            self.post_message(self.QueryProgressed(serial, done, total, matches, True))
        except WorkbenchError as error:
            self.post_message(self.QueryFailed(serial, str(error)))
        except Exception as error:
            self.post_message(self.QueryFailed(serial, f"{type(error).__name__}: {error}"))

    @on(QueryProgressed)
    def _query_progressed(self, message: QueryProgressed) -> None:
        if message.serial != self.query_serial or self.dataset is None:
            return
        grew = self.query_matches is None or len(message.matches) != len(self.query_matches)
        self.query_matches = message.matches
        self.query_running = not message.finished
        percent = 100 if not message.total else message.done * 100 // message.total
        self.query_label = self._base_label + ("" if message.finished else f" ({percent}%)")
        if grew:
            table = self.query_one(DatasetTable)
            table.show(RowPager(self.dataset, message.matches), keep_widths=True, cursor=table.cursor_row)
        self._update_status()

    @on(QueryFailed)
    def _query_failed(self, message: QueryFailed) -> None:
        if message.serial != self.query_serial:
            return
        self.query_running = False
        self.notify(message.error, title="Search", severity="error", timeout=10, markup=False)
        self._clear_query()

    def _cancel_query(self) -> None:
        self.workers.cancel_group(self, "datasets-query")
        self.query_serial += 1
        self.query_running = False

    def _clear_query(self) -> None:
        self.query_matches = None
        self.query_label = ""
        if self.dataset is not None:
            self.query_one(DatasetTable).show(RowPager(self.dataset), keep_widths=True)
        self._update_status()

    def action_stop_query(self) -> None:
        """Esc: stop a running search (keeping what it found), else clear results and close the bars."""
        if self.query_running:
            self._cancel_query()
            self.query_label = self._base_label + " (stopped)"
            self._update_status()
            return
        if self.query_label:
            self._clear_query()
        for bar in [*self.query(SearchBar), *self.query(FilterBar)]:
            bar.remove_class("-shown")
        self.query_one(DatasetTable).focus()

    # -- actions -------------------------------------------------------------------------------------
    def action_open(self) -> None:
        from workbench.core.data.loading import list_cache

        try:
            entries = list_cache()
        except OSError as error:
            self.notify(f"Could not list the datasets cache: {error}", severity="warning")
            entries = []
        initial = self.last_request.source if self.last_request else ""

        def opened(request: OpenRequest | None) -> None:
            if request is not None:
                self._start_open(request)

        self.app.push_screen(DatasetsOpenDialog(initial, entries), opened)

    def action_reload(self) -> None:
        if self.last_request is not None:
            self._start_open(self.last_request)

    def action_search(self) -> None:
        if self._need_dataset():
            self.query_one(FilterBar).remove_class("-shown")
            self.query_one(SearchBar).open()

    def action_filter(self) -> None:
        if self._need_dataset():
            self.query_one(SearchBar).remove_class("-shown")
            self.query_one(FilterBar).open()

    def action_jump(self) -> None:
        if not self._need_dataset():
            return
        table = self.query_one(DatasetTable)

        def jump(row: int | None) -> None:
            if row is not None:
                table.go_to(row)
                table.focus()

        self.app.push_screen(JumpDialog(table.total), jump)

    @on(DatasetTable.RowChosen)
    def _row_chosen(self, event: DatasetTable.RowChosen) -> None:
        table = self.query_one(DatasetTable)
        row = table.pager.row(event.position)
        title = f"{self.opened.name} · {self.split} · row {table.pager.source_row(event.position):,}"

        def closed(result: str | None) -> None:
            if result == "send":
                self._send_row(row)

        self.app.push_screen(RowDetailDialog(title, row), closed)

    def action_send_to_tokenizer(self) -> None:
        if not self._need_dataset():
            return
        table = self.query_one(DatasetTable)
        if not table.total:
            self.notify("No row to send.", severity="warning")
            return
        self._send_row(table.pager.row(table.cursor_row))

    def _send_row(self, row: dict) -> None:
        text_column = self.info.get("text_column")
        if not text_column or text_column not in row:
            self.notify("This dataset has no text column to send.", severity="warning")
            return
        pair_column = self.info.get("text_pair_column")
        pair = row.get(pair_column) if pair_column else None
        self.post_message(SendToTokenizer(str(row[text_column]), None if pair is None else str(pair)))

    def _need_dataset(self) -> bool:
        if self.opened is None:
            self.notify("Open a dataset first (o).", severity="warning")
            return False
        return True

    def _check_changed_files(self) -> None:
        if self.opened is None:
            return
        changed = self.opened.changed_files()
        if changed and changed != self.changed_noted:
            self.changed_noted = changed
            names = ", ".join(path.name for path in changed)
            if self.opened.kind in {"saved", "cache"}:
                # These are memory-mapped in place: stop reading a file that is being rewritten.
                self.query_one(DatasetTable).show(None)
                self.notify(f"{names} changed on disk; the view is closed. Press r to reload.", severity="warning", markup=False)
            else:
                self.notify(f"{names} changed on disk; you are browsing the version opened before. Press r to reload.", severity="warning", markup=False)
            self._update_status()

    def palette_commands(self) -> list:
        commands = [PaletteCommand("data: open", self.action_open, "Open a file, folder, cache entry or Hub id")]
        if self.opened is not None:
            commands += [
                PaletteCommand("data: search", self.action_search, "Search text columns (substring or regex)"),
                PaletteCommand("data: filter", self.action_filter, "Filter rows by column, operator and value"),
                PaletteCommand("data: go to row", self.action_jump, "Jump to row N"),
                PaletteCommand("data: send row to tokenizer", self.action_send_to_tokenizer, "Open the row in the Tokenizer pane"),
                PaletteCommand("data: reload", self.action_reload, "Open the same dataset again"),
            ]
        return commands
