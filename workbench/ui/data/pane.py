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
from textual.widget import AwaitMount
from textual.widgets import ContentSwitcher, OptionList, Static, Tab, Tabs
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from workbench.core.data.files import human_size
from workbench.core.data.paging import RowPager
from workbench.core.errors import WorkbenchError
from workbench.ui.data.dialogs import DatasetsOpenDialog, JumpDialog, OpenRequest, RowDetailDialog
from workbench.ui.data.prepare import CodeDialog, DatasetsPrepareView, preview_text
from workbench.ui.data.query import FilterBar, FilterQuery, SearchBar, SearchQuery
from workbench.ui.data.stats import DatasetsStatsView, StatsResult
from workbench.ui.data.table import DatasetTable
from workbench.ui.messages import ActiveDatasetChanged, SendToTokenizer
from workbench.ui.palette import PaletteCommand
from workbench.ui.widgets.empty_state import EmptyState

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.data.loading import OpenedDataset

VIEWS = {"rows": "datasets-rows-view", "stats": "datasets-stats-view", "prepare": "datasets-prepare-view"}


class DatasetBrowser(Horizontal):
    """Splits and features on the left; rows, statistics and prepare views on the right."""

    def compose(self) -> ComposeResult:
        with Vertical(id="datasets-side"):
            yield Static(id="datasets-title", markup=False)
            yield OptionList(id="datasets-splits")
            with VerticalScroll(id="datasets-features-box"):
                yield Static(id="datasets-features", markup=False)
        with Vertical(id="datasets-main"):
            yield Tabs(
                Tab("Rows", id="rows"), Tab("Statistics", id="stats"), Tab("Prepare", id="prepare"), id="datasets-tabs"
            )
            with ContentSwitcher(initial=VIEWS["rows"], id="datasets-views"):
                with Vertical(id=VIEWS["rows"]):
                    yield SearchBar(id="datasets-search")
                    yield FilterBar(id="datasets-filter")
                    yield DatasetTable(id="datasets-table")
                yield DatasetsStatsView(id=VIEWS["stats"])
                yield DatasetsPrepareView(id=VIEWS["prepare"])


class DatasetsPane(Vertical, can_focus=True):
    DEFAULT_CSS = """
    DatasetsPane #datasets-body { height: 1fr; }
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
        Binding(
            "escape", "stop_query", "Stop/clear", id="datasets.stop", tooltip="Stop the search, or clear its results"
        ),
        Binding("g", "jump", "Go to row", id="datasets.jump", tooltip="Jump to row N"),
        Binding(
            "t",
            "send_to_tokenizer",
            "To tokenizer",
            id="datasets.send",
            tooltip="Open the current row in the Tokenizer pane",
        ),
        Binding(
            "r", "reload", "Reload", id="datasets.reload", tooltip="Open the same dataset again (after it changed)"
        ),
        Binding("b", "view('rows')", "Rows", id="datasets.rows", tooltip="Browse the rows"),
        Binding(
            "s",
            "statistics",
            "Statistics",
            id="datasets.stats",
            tooltip="Label distribution, lengths, truncation, padding",
        ),
        Binding(
            "p", "prepare", "Prepare", id="datasets.prepare", tooltip="Tokenize for a head and preview a padded batch"
        ),
        Binding(
            "c",
            "show_code",
            "Show code",
            id="datasets.code",
            tooltip="The datasets/transformers code for this preparation",
        ),
    ]

    class Opened(Message):
        def __init__(self, opened: OpenedDataset, info: dict) -> None:
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

        def __init__(self, serial: int, done: int, total: int, matches: np.ndarray, finished: bool) -> None:
            super().__init__()
            self.serial = serial
            self.done = done
            self.total = total
            self.matches = matches
            self.finished = finished

        def can_replace(self, message: Message) -> bool:
            return (
                isinstance(message, DatasetsPane.QueryProgressed)
                and not message.finished
                and message.serial == self.serial
            )

    class StatsProgressed(Message):
        def __init__(self, serial: int, done: int, total: int) -> None:
            super().__init__()
            self.serial = serial
            self.done = done
            self.total = total

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DatasetsPane.StatsProgressed)

    class StatsComputed(Message):
        def __init__(self, serial: int, result: StatsResult) -> None:
            super().__init__()
            self.serial = serial
            self.result = result

    class PrepareProgressed(Message):
        def __init__(self, split: str, done: int, total: int) -> None:
            super().__init__()
            self.split = split
            self.done = done
            self.total = total

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, DatasetsPane.PrepareProgressed)

    class PrepareStaged(Message):
        """A step of the preparation that has no row count (say, converting Parquet once)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class PreparedDataset(Message):
        def __init__(self, prepared, preview, pad_token: str | None, model_name: str) -> None:
            super().__init__()
            self.prepared = prepared
            self.preview = preview
            self.pad_token = pad_token
            self.model_name = model_name

    class TaskFailed(Message):
        """Statistics or preparation failed; `view` says which view shows the message."""

        def __init__(self, view: str, error: str) -> None:
            super().__init__()
            self.view = view
            self.error = error

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
        self.opening = False
        self.warmed_up = False
        self.browser_mounted: AwaitMount | None = None
        self.stats_serial = 0
        self.stats_running = False
        self.prepare_running = False
        self.stats_for: tuple | None = None
        self.prepared = None
        self.prepare_request: DatasetsPrepareView.PrepareRequested | None = None

    def compose(self) -> ComposeResult:
        yield EmptyState(
            "[b]Datasets[/b]\n\n"
            "No dataset is open. Press [b]o[/b] to open CSV, TSV, JSON, JSON Lines, Parquet, Arrow or text files,"
            " a folder of split files, a save_to_disk folder or an entry of the local datasets cache,"
            " then browse rows, search, see statistics and prepare them for a head.",
            id="datasets-empty",
        )
        # The browser is mounted when the first dataset opens, so an app that never opens one
        # (and every test of other panes) does not pay for its widgets.
        yield Static(id="datasets-status", markup=False)

    def on_mount(self) -> None:
        self.set_interval(1.0, self._check_changed_files)
        self.watch(self.app, "active_model_path", self._model_changed, init=False)

    def _model_changed(self) -> None:
        """Token statistics and the preparation belong to one tokenizer: mark them stale."""
        if self.stats_for is not None:
            self.stats_for = None
            self.query_one(DatasetsStatsView).show_message(
                "The model changed: press s to recompute with its tokenizer."
            )
        if self.prepared is not None:
            self.prepared = None
            self.query_one(DatasetsPrepareView).show_text("The model changed: press p to prepare with its tokenizer.")

    def on_show(self) -> None:
        """Shown by its tab: take focus, so the pane's keys (o, /, f, g, t) work at once."""
        self.call_after_refresh(self._focus_inside)
        if not self.warmed_up:
            self.warmed_up = True
            self._warm_up()
            self.call_after_refresh(self._mount_browser)

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets-warm-up")
    def _warm_up(self) -> None:
        """Import what opening a file needs (pyarrow: ~0.3 s) while the user picks one."""
        import pyarrow.compute  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        import workbench.core.data.describe  # noqa: F401
        import workbench.core.data.loading  # noqa: F401

    def _focus_inside(self) -> None:
        focused = self.app.focused
        if focused is not None and (focused is self or self in focused.ancestors):
            return
        if self.opened is not None:
            self.query_one(DatasetTable).focus()
        else:
            self.focus()

    # -- opening -------------------------------------------------------------------------------
    def open_path(
        self,
        source: str | Path,
        splits: dict[str, list[str]] | None = None,
        *,
        config: str | None = None,
        split: str | None = None,
    ) -> None:
        """Open a file, folder or Hub id in a worker (public: tests and other panes call it)."""
        self._start_open(OpenRequest(str(source), splits, config, split))

    def _start_open(self, request: OpenRequest) -> None:
        self.last_request = request
        self.opening = True
        self._set_status(f"Opening {Path(request.source).name or request.source} …")
        self._open_worker(request)
        self._mount_browser()

    def _mount_browser(self) -> None:
        """Mount the (hidden) browser ahead of the first dataset: its widgets take a few hundred
        milliseconds to mount and style, better spent while the user picks a file."""
        if not self.query(DatasetBrowser):
            browser = DatasetBrowser(id="datasets-body")
            browser.display = False
            self.browser_mounted = self.mount(browser, before="#datasets-status")

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
        self.opening = False
        self._set_status(message.error.splitlines()[0], warning=True)
        self.notify(message.error, title="Could not open the dataset", severity="error", timeout=12, markup=False)

    @on(Opened)
    async def _opened(self, message: Opened) -> None:
        self._mount_browser()
        await self.browser_mounted  # a quick worker may answer before the browser's children exist
        self._cancel_query()
        self.opened = message.opened
        self.info = message.info
        self.changed_noted = []
        # Display toggles, not a class on the pane: a class would restyle every widget below it.
        self.query_one("#datasets-empty").display = False
        self.query_one(DatasetBrowser).display = True
        self.query_one("#datasets-title", Static).update(self._title())
        splits = self.query_one("#datasets-splits", OptionList)
        splits.clear_options()
        splits.add_options(
            Option(f"{name:<11} {rows.num_rows:>10,} rows", id=name) for name, rows in message.opened.rows.items()
        )
        self.query_one("#datasets-features", Static).update(self._features_text())
        for warning in message.opened.warnings:
            self.notify(warning, severity="warning", timeout=8, markup=False)
        self.show_split(next(iter(message.opened.rows)))
        splits.highlighted = 0
        columns = next(iter(message.opened.rows.values())).column_names
        self.query_one(DatasetsPrepareView).set_columns(
            columns, self.info.get("text_column"), self.info.get("text_pair_column"), self.info.get("label_column")
        )
        self.prepared = None
        self.query_one(DatasetsPrepareView).show_text("Map the columns, then press p to tokenize and preview a batch.")
        self.query_one(DatasetTable).focus()
        self.post_message(ActiveDatasetChanged(self.active_info()))
        self.opening = False

    def active_info(self) -> dict:
        """The app-wide description of this dataset (see ActiveDatasetChanged)."""
        info = self.info
        split_files = (
            {name: [str(p) for p in paths] for name, paths in self.opened.split_files.items()} if self.opened else {}
        )
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
        kind = {"files": self.opened.fmt.upper(), "saved": "save_to_disk", "cache": "datasets cache", "hub": "Hub"}[
            self.opened.kind
        ]
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
        dataset = self.opened.rows[split]
        self.query_matches = None
        self.query_label = ""
        table = self.query_one(DatasetTable)
        table.show(RowPager(dataset))
        from workbench.core.data.labels import string_columns

        self.query_one(SearchBar).set_columns(string_columns(dataset))
        self.query_one(FilterBar).set_columns(list(dataset.column_names))
        self.stats_for = None
        self.stats_running = False
        self.query_one(DatasetsStatsView).show_message(f"Press s to compute the statistics of {split}.")
        self._update_status()
        if self.query_one(ContentSwitcher).current == VIEWS["stats"]:
            self.action_statistics()

    @property
    def busy(self) -> bool:
        """A worker's result is still to be shown (tests wait on this)."""
        return self.opening or self.query_running or self.stats_running or self.prepare_running

    @property
    def dataset(self):
        """The split's rows (a `RowSource`): what browsing, search and statistics read."""
        return self.opened.rows[self.split] if self.opened is not None and self.split else None

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
        self.query_one(DatasetTable).focus()  # browse the results at once; / returns to the query

    @on(FilterBar.Submitted)
    def _filter_submitted(self, event: FilterBar.Submitted) -> None:
        query: FilterQuery = event.query
        self.run_filter(query)
        self.query_one(DatasetTable).focus()

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

    @on(DatasetTable.ReadFailed)
    def _read_failed(self, event: DatasetTable.ReadFailed) -> None:
        self.notify(event.error, title="Could not read the rows", severity="error", timeout=12, markup=False)
        self._set_status(event.error.splitlines()[0], warning=True)

    @on(DatasetTable.RowChosen)
    def _row_chosen(self, event: DatasetTable.RowChosen) -> None:
        table = self.query_one(DatasetTable)
        row = self._full_row(table, event.position)
        if row is None:
            return
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
        row = self._full_row(table, table.cursor_row)
        if row is not None:
            self._send_row(row)

    def _full_row(self, table: DatasetTable, position: int) -> dict | None:
        if table.pager is None:
            return None
        try:
            return table.pager.row(position)
        except WorkbenchError as error:
            self.notify(str(error), title="Could not read the row", severity="error", timeout=12, markup=False)
            return None

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
            if self.opened.kind in {"saved", "cache"} or self.opened.in_place:
                # These are read in place: stop reading a file that is being rewritten.
                self.query_one(DatasetTable).show(None)
                self.notify(
                    f"{names} changed on disk; the view is closed. Press r to reload.", severity="warning", markup=False
                )
            else:
                self.notify(
                    f"{names} changed on disk; you are browsing the version opened before. Press r to reload.",
                    severity="warning",
                    markup=False,
                )
            self._update_status()

    # -- views ---------------------------------------------------------------------------------------
    @on(Tabs.TabActivated, "#datasets-tabs")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        self.query_one(ContentSwitcher).current = VIEWS[event.tab.id]

    def action_view(self, view: str) -> None:
        if self._need_dataset():
            self.query_one(Tabs).active = view
            self.query_one(ContentSwitcher).current = VIEWS[view]
            # The hidden view may have had the focus; give it to the shown one so the keys keep working.
            target = {"rows": DatasetTable, "stats": DatasetsStatsView, "prepare": DatasetsPrepareView}[view]
            self.query_one(target).focus()

    # -- statistics ------------------------------------------------------------------------------------
    def action_statistics(self) -> None:
        """Show the Statistics view and compute it for this split and model (once)."""
        if not self._need_dataset():
            return
        self.action_view("stats")
        key = (
            self.split,
            self.info.get("text_column"),
            self.info.get("text_pair_column"),
            self.info.get("label_column"),
            self.app.active_model_path,
        )
        if self.stats_for == key:
            return
        self.stats_for = key
        self.stats_serial += 1
        view = self.query_one(DatasetsStatsView)
        self.stats_running = True
        view.show_message("Computing …")
        view.show_progress(0, self.dataset.num_rows)
        self._stats_worker(self.stats_serial, self.split, *key[1:4], self.app.active_model_path, self.app.active_model)

    @on(DatasetsStatsView.ComputeRequested)
    def _stats_requested(self) -> None:
        self.stats_for = None
        self.action_statistics()

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets-stats")
    def _stats_worker(
        self,
        serial: int,
        split: str,
        text: str | None,
        pair: str | None,
        label: str | None,
        model_path: str,
        model_name: str,
    ) -> None:
        import numpy as np

        from workbench.core.data import stats
        from workbench.core.data.model_tokenizer import load_tokenizer

        worker = get_current_worker()
        dataset = self.opened.rows[split]
        try:
            labels = stats.label_distribution(dataset, label) if label else []
            chars = tokens = None
            if text:
                chars = stats.char_lengths(dataset, text)
                if pair:
                    chars = chars + stats.char_lengths(dataset, pair)
                tokenizer = load_tokenizer(model_path)
                parts = []
                for done, lengths in stats.iter_token_lengths(dataset, tokenizer, text, pair):
                    if worker.is_cancelled:
                        return
                    parts.append(lengths)
                    self.post_message(self.StatsProgressed(serial, done, dataset.num_rows))
                tokens = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
            result = StatsResult(split, text, pair, label, labels, chars, tokens, model_name)
        except WorkbenchError as error:
            self.post_message(self.TaskFailed("stats", str(error)))
            return
        except Exception as error:
            self.post_message(self.TaskFailed("stats", f"{type(error).__name__}: {error}"))
            return
        self.post_message(self.StatsComputed(serial, result))

    @on(StatsProgressed)
    def _stats_progressed(self, message: StatsProgressed) -> None:
        if message.serial == self.stats_serial:
            self.query_one(DatasetsStatsView).show_progress(message.done, message.total)

    @on(StatsComputed)
    def _stats_computed(self, message: StatsComputed) -> None:
        if message.serial == self.stats_serial:
            self.stats_running = False
            view = self.query_one(DatasetsStatsView)
            view.show_progress(1, 1)
            view.show_result(message.result)

    @on(TaskFailed)
    def _task_failed(self, message: TaskFailed) -> None:
        if message.view == "stats":
            self.stats_running = False
            self.stats_for = None
            self.query_one(DatasetsStatsView).show_message(message.error)
        else:
            self.prepare_running = False
            self.query_one(DatasetsPrepareView).show_text(message.error)
        self.notify(message.error, severity="error", timeout=10, markup=False)

    # -- prepare ---------------------------------------------------------------------------------------
    def action_prepare(self) -> None:
        """Show the Prepare view; pressed again there, run the preparation."""
        if not self._need_dataset():
            return
        if self.query_one(ContentSwitcher).current != VIEWS["prepare"]:
            self.action_view("prepare")
            return
        request = self.query_one(DatasetsPrepareView).request()
        if request is not None:
            self.run_prepare(request)

    @on(DatasetsPrepareView.PrepareRequested)
    def _prepare_requested(self, message: DatasetsPrepareView.PrepareRequested) -> None:
        self.run_prepare(message)

    def run_prepare(self, request: DatasetsPrepareView.PrepareRequested) -> None:
        from workbench.core.data.prepare import PreparePlan

        self.prepare_request = request
        plan = PreparePlan(
            request.text, request.pair, request.label, request.max_length, request.fraction, request.seed
        )
        view = self.query_one(DatasetsPrepareView)
        self.prepare_running = True
        view.show_text("Preparing …")
        view.show_progress(0, 1)
        self._prepare_worker(plan, request.rows, self.app.active_model_path, self.app.active_model)

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets-prepare")
    def _prepare_worker(self, plan, rows: int, model_path: str, model_name: str) -> None:
        from workbench.core.data.model_tokenizer import load_tokenizer
        from workbench.core.data.prepare import collator_preview, prepare, training_split_name

        try:
            tokenizer = load_tokenizer(model_path)
            if not getattr(self.opened.splits, "built", True):
                self.post_message(
                    self.PrepareStaged(
                        f"Converting {self.opened.name} to Arrow for datasets (once; the cache is reused) …"
                    )
                )
            prepared = prepare(
                dict(self.opened.splits),
                plan,
                tokenizer,
                lambda split, done, total: self.post_message(self.PrepareProgressed(split, done, total)),
            )
            preview = collator_preview(prepared.splits[training_split_name(prepared.splits)], tokenizer, rows)
        except WorkbenchError as error:
            self.post_message(self.TaskFailed("prepare", str(error)))
            return
        except Exception as error:
            self.post_message(self.TaskFailed("prepare", f"{type(error).__name__}: {error}"))
            return
        self.post_message(self.PreparedDataset(prepared, preview, tokenizer.pad_token, model_name))

    @on(PrepareStaged)
    def _prepare_staged(self, message: PrepareStaged) -> None:
        if self.prepare_running:
            self.query_one(DatasetsPrepareView).show_text(message.text)

    @on(PrepareProgressed)
    def _prepare_progressed(self, message: PrepareProgressed) -> None:
        view = self.query_one(DatasetsPrepareView)
        view.show_progress(message.done, message.total)
        view.show_text(f"Tokenizing {message.split}: {message.done:,} of {message.total:,} rows …")

    @on(PreparedDataset)
    def _prepared(self, message: PreparedDataset) -> None:
        from workbench.core.data.prepare import prepared_info

        prepared = message.prepared
        self.prepared = prepared
        self.prepare_running = False
        view = self.query_one(DatasetsPrepareView)
        view.show_progress(1, 1)
        labels = prepared.labels
        summary = [f"Tokenizer: {message.model_name} · max_length {prepared.plan.max_length} · truncation on"]
        if labels is None:
            summary.append("No label column: a dataset for inference or language modelling.")
        elif labels.task == "regression":
            summary.append("Float labels: a regression head (num_labels=1).")
        else:
            summary.append(
                f"{labels.num_labels} classes (num_labels={labels.num_labels}): "
                + ", ".join(f"{i}={name}" for i, name in enumerate(labels.names[:12]))
                + (" …" if labels.num_labels > 12 else "")
            )
        summary += prepared.notes
        for name, dataset in prepared.splits.items():
            cache = "datasets cache reused" if prepared.reused_cache.get(name) else "tokenized"
            summary.append(f"{name}: {dataset.num_rows:,} rows, {cache}; columns {', '.join(dataset.column_names)}")
        preview = message.preview
        view.show_text(preview_text(summary, preview.tokens, preview.tensors, message.pad_token))
        self.post_message(ActiveDatasetChanged(prepared_info(self.active_info(), prepared)))

    def preparation_code(self) -> str:
        from workbench.core.data.codegen import preparation_code
        from workbench.core.data.model_tokenizer import resolve_model_path
        from workbench.core.data.prepare import PreparePlan

        request = self.prepare_request or self.query_one(DatasetsPrepareView).request()
        plan = None
        if request is not None:
            plan = PreparePlan(
                request.text, request.pair, request.label, request.max_length, request.fraction, request.seed
            )
        labels = self.prepared.labels if self.prepared is not None else None
        if labels is None and plan is not None and plan.label_column:
            from workbench.core.data.labels import infer_labels
            from workbench.core.data.prepare import training_split_name

            try:
                labels = infer_labels(self.opened.rows[training_split_name(self.opened.rows)], plan.label_column)
            except WorkbenchError:
                labels = None
        rows = request.rows if request is not None else 4
        return preparation_code(self.opened, plan, labels, resolve_model_path(self.app.active_model_path), rows)

    @on(DatasetsPrepareView.CodeRequested)
    def action_show_code(self) -> None:
        if self._need_dataset():
            self.app.push_screen(CodeDialog(self.preparation_code()))

    def palette_commands(self) -> list:
        commands = [PaletteCommand("data: open", self.action_open, "Open a file, folder, cache entry or Hub id")]
        if self.opened is not None:
            commands += [
                PaletteCommand("data: search", self.action_search, "Search text columns (substring or regex)"),
                PaletteCommand("data: filter", self.action_filter, "Filter rows by column, operator and value"),
                PaletteCommand("data: go to row", self.action_jump, "Jump to row N"),
                PaletteCommand(
                    "data: send row to tokenizer", self.action_send_to_tokenizer, "Open the row in the Tokenizer pane"
                ),
                PaletteCommand("data: reload", self.action_reload, "Open the same dataset again"),
                PaletteCommand(
                    "data: statistics", self.action_statistics, "Label distribution, lengths, truncation, padding"
                ),
                PaletteCommand("data: prepare", self.action_prepare, "Tokenize for a head and preview a padded batch"),
                PaletteCommand("data: show code", self.action_show_code, "The code that reproduces the preparation"),
            ]
        return commands
