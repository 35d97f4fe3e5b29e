"""The browser of an opened dataset: the side panel (name, splits, features, the columns in
use) and the Rows, Statistics and Prepare views.

State flows down: the pane binds its selection and model to the browser (`data_bind`),
and the browser binds them to the views that need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import ContentSwitcher, OptionList, Static, Tab, Tabs
from textual.widgets.option_list import Option

from workbench.ui.data.prepare import DatasetsPrepareView
from workbench.ui.data.rows_view import DatasetsRowsView
from workbench.ui.data.stats import DatasetsStatsView

if TYPE_CHECKING:
    from workbench.core.data.loading import OpenedDataset
    from workbench.core.data.selection import DatasetSelection

VIEWS = {"rows": "datasets-rows-view", "stats": "datasets-stats-view", "prepare": "datasets-prepare-view"}
KINDS = {"files": "", "saved": "save_to_disk", "cache": "datasets cache", "hub": "Hub"}


class DatasetsSide(Vertical):
    """Name and kind, the splits with row counts, the features and the columns in use."""

    selection: reactive[DatasetSelection | None] = reactive(None, init=False)

    @dataclass
    class SplitChosen(Message):
        split: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.features: dict[str, str] = {}
        self.label_problem: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="datasets-title", markup=False)
        yield OptionList(id="datasets-splits")
        with VerticalScroll(id="datasets-features-box"):
            yield Static(id="datasets-features", markup=False)

    def show_dataset(self, opened: OpenedDataset, info: dict) -> None:
        kind = KINDS[opened.kind] or opened.fmt.upper()
        self.query_one("#datasets-title", Static).update(f"{opened.name}\n{kind}")
        self.features = dict(info.get("features", {}))
        self.label_problem = info.get("label_problem")
        splits = self.query_one("#datasets-splits", OptionList)
        splits.clear_options()
        splits.add_options(
            Option(f"{name:<11} {rows.num_rows:>10,} rows", id=name) for name, rows in opened.rows.items()
        )
        splits.highlighted = 0
        self._show_features()

    def watch_selection(self) -> None:
        self._show_features()

    def _show_features(self) -> None:
        self.query_one("#datasets-features", Static).update(
            features_text(self.features, self.selection, self.label_problem)
        )

    @on(OptionList.OptionHighlighted, "#datasets-splits")
    def _split_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.SplitChosen(event.option.id))


def features_text(features: dict[str, str], selection: DatasetSelection | None, problem: str | None = None) -> str:
    lines = ["Features"]
    lines.extend(f"  {name}: {kind}" for name, kind in features.items())
    if selection is None:
        return "\n".join(lines)
    roles = [
        ("text", selection.text_column),
        ("pair", selection.text_pair_column),
        ("label", selection.label_column),
    ]
    lines.append("")
    for role, column in roles:
        guessed = " (guessed)" if role in selection.guessed else ""
        lines.append(f"{role:>6}: {column or '-'}{guessed}")
    if selection.task:
        names = selection.label_names
        lines.append(f"  task: {selection.task}" + (f" ({len(names)} labels)" if names else ""))
    if problem:
        lines.append(f"labels: {problem}")
    lines.append("Prepare (p) changes them.")
    return "\n".join(lines)


class DatasetBrowser(Horizontal):
    """Splits and features on the left; rows, statistics and prepare views on the right."""

    selection: reactive[DatasetSelection | None] = reactive(None, init=False)
    model_path: reactive[str] = reactive("", init=False)
    model_name: reactive[str] = reactive("", init=False)

    def compose(self) -> ComposeResult:
        yield DatasetsSide(id="datasets-side").data_bind(DatasetBrowser.selection)
        with Vertical(id="datasets-main"):
            yield Tabs(
                Tab("Rows", id="rows"), Tab("Statistics", id="stats"), Tab("Prepare", id="prepare"), id="datasets-tabs"
            )
            with ContentSwitcher(initial=VIEWS["rows"], id="datasets-views"):
                yield DatasetsRowsView(id=VIEWS["rows"]).data_bind(DatasetBrowser.selection)
                yield DatasetsStatsView(id=VIEWS["stats"]).data_bind(
                    DatasetBrowser.selection, DatasetBrowser.model_path, DatasetBrowser.model_name
                )
                yield DatasetsPrepareView(id=VIEWS["prepare"]).data_bind(
                    DatasetBrowser.selection, DatasetBrowser.model_path, DatasetBrowser.model_name
                )

    @property
    def current_view(self) -> str:
        current = self.query_one(ContentSwitcher).current
        return next((name for name, widget_id in VIEWS.items() if widget_id == current), "rows")

    def show_view(self, view: str) -> None:
        self.query_one(Tabs).active = view
        self.query_one(ContentSwitcher).current = VIEWS[view]

    @on(Tabs.TabActivated, "#datasets-tabs")
    def _tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        self.query_one(ContentSwitcher).current = VIEWS[event.tab.id]
