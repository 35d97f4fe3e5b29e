"""The dataset table on its own (a small app): row numbers of search results are not cut."""

from __future__ import annotations

from textual.app import App, ComposeResult

from workbench.core.data.paging import RowPager
from workbench.ui.data.table import DatasetTable


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield DatasetTable(id="datasets-table")


async def test_search_results_show_whole_row_numbers():
    import datasets

    data = datasets.Dataset.from_dict({"text": [f"row {i}" for i in range(1100)]})
    app = TableApp()
    async with app.run_test(size=(60, 10)) as pilot:
        table = app.query_one(DatasetTable)
        table.show(RowPager(data, [3, 1002, 1099]))  # three results, far down the split
        await pilot.pause()
        lines = [table.render_line(y).text for y in range(1, 4)]
        assert [line.split()[0] for line in lines] == ["3", "1,002", "1,099"]
        assert lines[1].startswith("1,002  row 1002")
