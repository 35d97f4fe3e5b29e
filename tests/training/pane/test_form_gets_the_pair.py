"""The columns chosen in the Datasets pane's Prepare view reach the new-run form (issue 22 item 8):
an RTE-like file trained on the premise alone, without a word, was the bug."""

from __future__ import annotations

from tests.data.test_columns import write_rte
from tests.training.pane.conftest import wait_for
from workbench.ui.app import make_app
from workbench.ui.data.pane import DatasetsPane
from workbench.ui.training.start_form import StartRunScreen

SIZE = (140, 46)


def _value(form: StartRunScreen, dotted: str) -> str:
    return form.query_one(f"#field-{dotted.replace('.', '--')}").value


async def _form_columns(pilot) -> tuple[str, str, str]:
    """Open the new-run form from the Training pane, read its three columns, close it."""
    app = pilot.app
    await pilot.press("4", "n")
    await wait_for(pilot, lambda: isinstance(app.screen, StartRunScreen))
    form = app.screen
    columns = tuple(_value(form, f"data.{key}") for key in ("text_column", "text_pair_column", "label_column"))
    await pilot.press("escape")
    await wait_for(pilot, lambda: not isinstance(app.screen, StartRunScreen))
    return columns


async def _choose(pilot, pane: DatasetsPane, text, pair) -> None:
    """Pick the text and pair columns in the Prepare view, as a user does with its selects."""
    await pilot.press("3")
    if pane.query_one("DatasetBrowser").current_view != "prepare":
        await pilot.press("p")  # shows the view (pressed there again, p would run a preparation)
    for role, column in (("text", text), ("pair", pair)):
        select = pane.query_one(f"#datasets-prepare-{role}")
        if column is None:
            select.clear()
        else:
            select.value = column
        await pilot.pause()
    await wait_for(pilot, lambda: (pane.selection.text_column, pane.selection.text_pair_column) == (text, pair))


async def test_the_pair_chosen_in_prepare_reaches_the_new_run_form(tmp_path, monkeypatch):
    import threading

    import workbench.core.data.prepare as prepare_module

    path = write_rte(tmp_path / "rte.tsv")
    go_on = threading.Event()  # holds the preparation until the user has chosen other columns
    real_prepare = prepare_module.prepare

    def held_prepare(*args, **kwargs):
        go_on.wait(30)
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(prepare_module, "prepare", held_prepare)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        pane = app.screen.query_one(DatasetsPane)
        pane.open_path(path)
        await wait_for(pilot, lambda: app.active_dataset is not None and not pane.busy, timeout=30)

        await _choose(pilot, pane, "sentence1", None)  # the user says: no pair
        assert await _form_columns(pilot) == ("sentence1", "", "label")

        # A preparation started with no pair, then the user picks the hypothesis while it runs: when it
        # finishes it must not bring its old columns back (it did: the form then trained without the pair).
        pane.focus()  # off the column select, which takes letters for its type-to-search
        await pilot.press("p")
        assert pane.query_one("DatasetsPrepareView").running
        await _choose(pilot, pane, "sentence1", "sentence2")
        go_on.set()
        await wait_for(pilot, lambda: not pane.query_one("DatasetsPrepareView").running, timeout=60)
        await pilot.pause()
        assert app.active_dataset.text_pair_column == "sentence2"
        assert "pair" not in app.active_dataset.guessed
        assert await _form_columns(pilot) == ("sentence1", "sentence2", "label")

        await _choose(pilot, pane, "sentence2", "sentence1")  # any choice, not only the guess
        assert await _form_columns(pilot) == ("sentence2", "sentence1", "label")
