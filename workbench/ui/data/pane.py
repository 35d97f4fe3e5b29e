"""Datasets pane: open a dataset, then browse, search, see statistics and prepare it for a head.

The pane opens datasets (a worker), owns the `DatasetSelection` (the dataset, its split and
the columns in use) and publishes it to the app. Each view owns its own worker, messages and
state (`rows_view`, `stats`, `prepare`); the pane pushes the split, the selection and the
model down to them and shows the status line.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import AwaitMount
from textual.widgets import Static
from textual.worker import get_current_worker

from workbench.core.data.files import human_size
from workbench.core.data.selection import DatasetSelection
from workbench.core.errors import WorkbenchError
from workbench.ui.data.browser import DatasetBrowser, DatasetsSide
from workbench.ui.data.dialogs import DatasetsOpenDialog, OpenRequest
from workbench.ui.data.prepare import DatasetsPrepareView
from workbench.ui.data.rows_view import DatasetsRowsView
from workbench.ui.data.stats import DatasetsStatsView
from workbench.ui.data.table import DatasetTable
from workbench.ui.data.task_stats_view import TaskStatsView
from workbench.ui.messages import ActiveDatasetChanged
from workbench.ui.palette import PaletteCommand
from workbench.ui.widgets.code_dialog import CodeDialog
from workbench.ui.widgets.empty_state import EmptyState

if TYPE_CHECKING:
    import numpy as np

    from workbench.core.data.loading import OpenedDataset
    from workbench.core.data.rows import RowSource

# (label, action, help) of the palette's "data: …" commands; the first needs no open dataset.
PALETTE = [
    ("open", "open", "Open a file, folder, cache entry or Hub id"),
    ("search", "search", "Search text columns (substring or regex)"),
    ("filter", "filter", "Filter rows by column, operator and value"),
    ("go to row", "jump", "Jump to row N"),
    ("send row to tokenizer", "send_to_tokenizer", "Open the row in the Tokenizer pane"),
    ("reload", "reload", "Open the same dataset again"),
    ("statistics", "statistics", "Label distribution, lengths, truncation, padding"),
    ("prepare", "prepare", "Tokenize for a head and preview a padded batch"),
    ("show code", "show_code", "The code that reproduces the preparation"),
]


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

    selection: reactive[DatasetSelection | None] = reactive(None, init=False)
    """The open dataset and the columns in use; published to the app on every change."""
    model_path: reactive[str] = reactive("", init=False)
    model_name: reactive[str] = reactive("", init=False)

    @dataclass
    class Opened(Message):
        opened: OpenedDataset
        info: dict

    @dataclass
    class OpenFailed(Message):
        request: OpenRequest
        error: str
        headerless: bool = False  # the first line looks like data: offer to open without a header

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.opened: OpenedDataset | None = None
        self.info: dict = {}
        self.split: str | None = None
        self.last_request: OpenRequest | None = None
        self.changed_noted: list[Path] = []
        self.opening = False
        self.warmed_up = False
        self.browser_mounted: AwaitMount | None = None

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
        # The one place the pane reads the app: the active model, mirrored into its own reactives
        # and bound down to the views from there.
        self.watch(self.app, "active_model_path", self._model_path_changed)
        self.watch(self.app, "active_model", self._model_name_changed)

    def _model_path_changed(self, path: str) -> None:
        self.model_path = path or ""

    def _model_name_changed(self, name: str) -> None:
        self.model_name = name or ""

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

    # -- the views, read down (tests and the status line) ------------------------------------------
    @property
    def rows_view(self) -> DatasetsRowsView:
        return self.query_one(DatasetsRowsView)

    @property
    def query_matches(self) -> np.ndarray | None:
        return self.rows_view.query_matches if self.opened is not None else None

    @property
    def prepared(self):
        return self.query_one(DatasetsPrepareView).prepared if self.query(DatasetsPrepareView) else None

    @property
    def busy(self) -> bool:
        """A worker's result is still to be shown (tests wait on this)."""
        if self.opening:
            return True
        if not self.query(DatasetBrowser):
            return False
        return (
            self.rows_view.query_running
            or self.query_one(DatasetsStatsView).running
            or self.query_one(TaskStatsView).running
            or self.query_one(DatasetsPrepareView).running
        )

    @property
    def dataset(self) -> RowSource | None:
        """The split's rows (a `RowSource`): what browsing, search and statistics read."""
        return self.opened.rows[self.split] if self.opened is not None and self.split else None

    # -- opening -------------------------------------------------------------------------------
    def open_path(
        self,
        source: str | Path,
        splits: dict[str, list[str]] | None = None,
        *,
        config: str | None = None,
        split: str | None = None,
        header: bool = True,
        names: list[str] | None = None,
    ) -> None:
        """Open a file, folder or Hub id in a worker (public: tests and other panes call it)."""
        self._start_open(OpenRequest(str(source), splits, config, split, header=header, names=names))

    def show_row(self, source: str, row: int, split: str | None = None, splits=None, config=None) -> None:
        """Put the cursor on `row` of `split`, opening `source` first unless it is the dataset open
        (public: the Errors view's jump to an example, routed by the app)."""
        last = self.last_request
        is_open = last is not None and (last.source, last.splits, last.config) == (str(source), splits, config)
        if self.opened is not None and is_open:
            self._go_to_row(split, row)
        else:
            self._start_open(OpenRequest(str(source), splits, config, None if splits else split, {"row": (split, row)}))

    def _go_to_row(self, split: str | None, row: int) -> None:
        if split is not None and split != self.split and split in self.opened.rows:
            self.show_split(split)
        self.rows_view.clear_query()
        self.rows_view.table.go_to(row)
        self.rows_view.table.focus()

    def _start_open(self, request: OpenRequest) -> None:
        self.last_request = request
        self.opening = True
        self._set_status(f"Opening {Path(request.source).name or request.source} …")
        self._open_worker(request)
        self.call_later(self._mount_browser)  # in the pane's own context: the browser binds to its reactives

    def _mount_browser(self) -> None:
        """Mount the (hidden) browser ahead of the first dataset: its widgets take a few hundred
        milliseconds to mount and style, better spent while the user picks a file."""
        if not self.query(DatasetBrowser):
            browser = DatasetBrowser(id="datasets-body").data_bind(
                DatasetsPane.selection, DatasetsPane.model_path, DatasetsPane.model_name
            )
            browser.display = False
            self.browser_mounted = self.mount(browser, before="#datasets-status")

    @work(thread=True, exclusive=True, exit_on_error=False, group="datasets-open")
    def _open_worker(self, request: OpenRequest) -> None:
        from workbench.core.data.describe import dataset_info
        from workbench.core.data.loading import open_dataset
        from workbench.core.data.scan import MissingHeaderError

        try:
            opened = open_dataset(
                request.source,
                request.splits,
                config=request.config,
                split=request.split,
                header=request.header,
                names=request.names,
            )
            info = dataset_info(opened)
        except WorkbenchError as error:
            self.post_message(self.OpenFailed(request, str(error), isinstance(error, MissingHeaderError)))
            return
        except Exception as error:  # an unexpected library error: shown, never a traceback on screen
            self.post_message(self.OpenFailed(request, f"{type(error).__name__}: {error}"))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Opened(opened, info))

    @on(OpenFailed)
    def _open_failed(self, message: OpenFailed) -> None:
        self.opening = False
        self._set_status(message.error.splitlines()[0], warning=True)
        if message.headerless:  # offer it: the Open dialog, "first line is a header" unticked; Enter opens
            self.notify(message.error, title="No header row?", severity="warning", timeout=12, markup=False)
            self._open_dialog(message.request.source, header=False)
            return
        self.notify(message.error, title="Could not open the dataset", severity="error", timeout=12, markup=False)

    @on(Opened)
    async def _opened(self, message: Opened) -> None:
        self._mount_browser()
        await self.browser_mounted  # a quick worker may answer before the browser's children exist
        self.rows_view.cancel_query()
        opened = message.opened
        self.opened = opened
        self.info = message.info
        self.changed_noted = []
        # Display toggles, not a class on the pane: a class would restyle every widget below it.
        self.query_one("#datasets-empty").display = False
        self.query_one(DatasetBrowser).display = True
        self.query_one(DatasetsSide).show_dataset(opened, message.info)
        for warning in opened.warnings:
            self.notify(warning, severity="warning", timeout=8, markup=False)
        self.selection = DatasetSelection.from_info(message.info, opened.split_files)
        self.query_one(DatasetsPrepareView).show_dataset(opened)
        self.show_split(next(iter(opened.rows)))
        self.query_one(DatasetTable).focus()
        self.opening = False
        pending = self.last_request.extra.pop("row", None) if self.last_request is not None else None
        if pending is not None:  # opened by show_row: go to its row (once; a reload keeps the cursor at 0)
            self._go_to_row(*pending)

    def watch_selection(self, selection: DatasetSelection | None) -> None:
        if selection is not None:
            self.post_message(ActiveDatasetChanged(selection))

    # -- the selection -----------------------------------------------------------------------------
    @on(DatasetsSide.SplitChosen)
    def _split_chosen(self, event: DatasetsSide.SplitChosen) -> None:
        if event.split != self.split:
            self.show_split(event.split)

    def show_split(self, split: str) -> None:
        assert self.opened is not None
        self.split = split
        dataset = self.opened.rows[split]
        self.rows_view.source = dataset
        stats = self.query_one(DatasetsStatsView)
        stats.show_split(dataset, split)
        if self.selection is not None and self.selection.split != split:
            self.selection = replace(self.selection, split=split)
        self._update_status()
        if self.query_one(DatasetBrowser).current_view == "stats":
            stats.compute()

    @on(DatasetsPrepareView.ColumnsChosen)
    def _columns_chosen(self, message: DatasetsPrepareView.ColumnsChosen) -> None:
        """The one place columns change: the Prepare view's selects (which infer a new label column's labels)."""
        if self.selection is None:
            return
        self.selection = self.selection.with_columns(message.text, message.pair, message.label)

    @on(DatasetsPrepareView.LabelsInferred)
    def _labels_inferred(self, message: DatasetsPrepareView.LabelsInferred) -> None:
        selection = self.selection
        if selection is None or selection.label_column != message.column:
            return
        labels = message.labels
        self.query_one(DatasetsSide).label_problem = message.problem
        self.selection = replace(
            selection,
            label_names=tuple(labels.names) if labels else (),
            task=labels.task if labels else None,
        )
        if message.problem:
            self.notify(message.problem, title="Labels", severity="warning", timeout=10, markup=False)

    @on(DatasetsPrepareView.DatasetPrepared)
    def _prepared(self, message: DatasetsPrepareView.DatasetPrepared) -> None:
        from workbench.core.data.prepare import prepared_selection

        selection, plan = self.selection, message.prepared.plan
        if selection is None:
            return
        if (plan.text_column, plan.pair_column, plan.label_column) != (
            selection.text_column,
            selection.text_pair_column,
            selection.label_column,
        ):
            return  # started before the user chose other columns: it must not bring the old ones back
        self.selection = prepared_selection(selection, message.prepared)

    # -- status ------------------------------------------------------------------------------------
    @on(DatasetTable.CursorMoved)
    @on(DatasetsRowsView.QueryChanged)
    def _view_changed(self) -> None:
        self._update_status()

    def _update_status(self) -> None:
        if self.opened is None or self.split is None:
            return
        where, query = self.rows_view.summary()
        size = human_size(self.opened.source_bytes(self.split) or self.opened.arrow_bytes(self.split))
        text = f"{self.split} · {where} of {self.opened.num_rows(self.split):,} · {size}" + (
            f" · {query}" * bool(query)
        )
        changed = [path.name for path in self.changed_noted]
        if changed:
            text = f"{', '.join(changed)} changed on disk: r reloads · " + text
        self._set_status(text, warning=bool(changed))

    def _set_status(self, text: str, *, warning: bool = False) -> None:
        status = self.query_one("#datasets-status", Static)
        status.update(text)
        status.set_class(warning, "-warning")

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

    @on(DatasetTable.ReadFailed)
    def _read_failed(self, event: DatasetTable.ReadFailed) -> None:
        self.notify(event.error, title="Could not read the rows", severity="error", timeout=12, markup=False)
        self._set_status(event.error.splitlines()[0], warning=True)

    # -- actions -------------------------------------------------------------------------------------
    def _need_dataset(self) -> bool:
        if self.opened is None:
            self.notify("Open a dataset first (o).", severity="warning")
            return False
        return True

    def action_open(self) -> None:
        from workbench.core.data.loading import list_cache

        try:
            entries = list_cache()
        except OSError as error:
            self.notify(f"Could not list the datasets cache: {error}", severity="warning")
            entries = []
        last = self.last_request
        self._open_dialog(last.source if last else "", entries, header=last.header if last else True)

    def _open_dialog(self, initial: str, entries: list | None = None, *, header: bool = True) -> None:
        def opened(request: OpenRequest | None) -> None:
            if request is not None:
                self._start_open(request)

        self.app.push_screen(DatasetsOpenDialog(initial, entries, header=header), opened)

    def action_reload(self) -> None:
        if self.last_request is not None:
            self._start_open(self.last_request)

    def action_search(self) -> None:
        if self._need_dataset():
            self.rows_view.open_search()

    def action_filter(self) -> None:
        if self._need_dataset():
            self.rows_view.open_filter()

    def action_stop_query(self) -> None:
        """Esc: stop a running search (keeping what it found), else clear results and close the bars."""
        if self.opened is not None:
            self.rows_view.stop_or_clear()

    def action_jump(self) -> None:
        if self._need_dataset():
            self.rows_view.jump()

    def action_send_to_tokenizer(self) -> None:
        if self._need_dataset():
            self.rows_view.send_current_row()

    def action_view(self, view: str) -> None:
        if self._need_dataset():
            self.query_one(DatasetBrowser).show_view(view)
            # The hidden view may have had the focus; give it to the shown one so the keys keep working.
            target = {"rows": DatasetTable, "stats": DatasetsStatsView, "prepare": DatasetsPrepareView}[view]
            self.query_one(target).focus()

    def action_statistics(self) -> None:
        """Show the Statistics view and compute it for this split, columns and model (once)."""
        if self._need_dataset():
            self.action_view("stats")
            self.query_one(DatasetsStatsView).compute()

    def action_prepare(self) -> None:
        """Show the Prepare view; pressed again there, run the preparation."""
        if not self._need_dataset():
            return
        if self.query_one(DatasetBrowser).current_view != "prepare":
            self.action_view("prepare")
            return
        self.query_one(DatasetsPrepareView).run()

    @on(DatasetsPrepareView.CodeRequested)
    def action_show_code(self) -> None:
        if self._need_dataset():
            code = self.query_one(DatasetsPrepareView).preparation_code()
            ids = ("datasets-code", "datasets-code-copy", "datasets-code-close")
            self.app.push_screen(CodeDialog(code, "Code that reproduces this preparation", ids=ids))

    def palette_commands(self) -> list:
        commands = PALETTE if self.opened is not None else PALETTE[:1]
        return [
            PaletteCommand(f"data: {label}", getattr(self, f"action_{action}"), help)
            for label, action, help in commands
        ]
