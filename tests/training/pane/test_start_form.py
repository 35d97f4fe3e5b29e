"""The new-run form against real data files: columns checked before a start, edits kept after a failed one
(issue 22 item 10)."""

from __future__ import annotations

from tests.training.pane.conftest import wait_for
from workbench.core.errors import WorkbenchError
from workbench.training.preflight import column_problems
from workbench.ui.app import make_app
from workbench.ui.training.start_form import StartRunScreen

SIZE = (140, 46)


def _field(form, name: str):
    return form.query_one(f"#field-{name.replace('.', '--')}")


def _mrpc_selection(mrpc_dir, label: str) -> dict:
    return {
        "path": str(mrpc_dir / "train.tsv"),
        "text_column": "#1 String",
        "text_pair_column": "#2 String",
        "label_column": label,
    }


def test_column_problems_name_the_missing_column_and_the_file(mrpc_dir, tmp_path):
    data = {"train_file": str(mrpc_dir / "train.tsv"), "text_column": "#1 String", "label_column": "labelx"}
    problems = column_problems(data)
    assert list(problems) == ["data.label_column"]
    assert "'labelx'" in problems["data.label_column"] and "train.tsv" in problems["data.label_column"]
    assert "Quality" in problems["data.label_column"]  # the columns it does have
    assert column_problems({**data, "label_column": "Quality"}) == {}
    jsonl = tmp_path / "rows.jsonl"
    jsonl.write_text('{"sentence": "a", "label": 1}\n{"sentence": "b", "label": 0, "idx": 2}\n')
    assert column_problems({"train_file": str(jsonl), "text_column": "sentence", "label_column": "idx"}) == {}
    assert "data.text_column" in column_problems({"train_file": str(jsonl), "text_column": "text"})


async def test_the_form_is_not_ready_with_a_column_the_file_does_not_have(mrpc_dir):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        app.active_dataset = _mrpc_selection(mrpc_dir, "labelx")
        await pilot.press("4", "n")
        form = app.screen
        assert isinstance(form, StartRunScreen)
        await wait_for(pilot, lambda: "data.label_column" in form.errors)
        assert "labelx" in form.errors["data.label_column"] and form.query_one("#start-run").disabled
        assert "ready to start" not in str(form.query_one("#start-problems").render())
        await pilot.press("ctrl+s")
        assert app.screen is form  # refused
        _field(form, "data.label_column").value = "Quality"
        await wait_for(pilot, lambda: "data.label_column" not in form.errors and form._columns_checked is not None)
        assert "data.label_column" not in form.errors


async def test_a_failed_start_gives_the_form_back_with_every_edit(mrpc_dir, monkeypatch):
    from workbench.training import runs

    def refuse(spec, runs_dir=None):
        raise WorkbenchError("no space left on device")

    monkeypatch.setattr(runs, "launch_run", refuse)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        app.active_dataset = _mrpc_selection(mrpc_dir, "Quality")
        await pilot.press("4", "n")
        form = app.screen
        _field(form, "training.learning_rate").value = "0.00042"
        _field(form, "training.max_steps").value = "7"
        await wait_for(pilot, lambda: not form.errors and not form.query_one("#start-run").disabled)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, StartRunScreen) and app.screen is not form)
        again = app.screen
        assert _field(again, "training.learning_rate").value == "0.00042"
        assert _field(again, "training.max_steps").value == "7"
        assert "no space left on device" in str(again.query_one("#start-problems").render())
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")  # the same selection: the draft again
        await pilot.pause()
        assert _field(app.screen, "training.max_steps").value == "7"


async def test_choosing_another_task_shows_its_keys_and_its_metrics(mrpc_dir):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        app.active_dataset = _mrpc_selection(mrpc_dir, "Quality")
        await pilot.press("4", "n")
        form = app.screen
        assert isinstance(form, StartRunScreen)
        row = form.query_one("#field-data--doc_stride-row")
        assert not row.display and form.query_one("#field-data--text_pair_column-row").display
        _field(form, "model.head").value = "question-answering"
        await wait_for(pilot, lambda: row.display)
        assert not form.query_one("#field-data--text_pair_column-row").display
        assert _field(form, "training.metrics").value == "exact_match, f1"
        _field(form, "model.head").value = "sequence-classification"
        await wait_for(pilot, lambda: not row.display)
        assert _field(form, "training.metrics").value == "accuracy, f1"


def test_a_conll_file_from_the_datasets_pane_asks_for_token_classification(tmp_path):
    from workbench.ui.training.start_form import spec_from_selection

    spec = spec_from_selection("embedded", {"path": str(tmp_path / "train.txt"), "format": "conll"})
    assert spec["model"]["head"] == "token-classification"
    assert (spec["data"]["text_column"], spec["data"]["label_column"]) == ("tokens", "ner_tags")


async def test_opening_the_form_starts_a_spare_run_process_for_the_run_to_come(mrpc_dir, monkeypatch, tmp_path):
    from workbench.training import runs

    asked = []
    monkeypatch.setattr(runs, "start_spare_ahead", lambda runs_dir: asked.append(runs_dir))
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        app.active_dataset = _mrpc_selection(mrpc_dir, "Quality")
        await pilot.press("4", "n")
        assert isinstance(app.screen, StartRunScreen)
        await wait_for(pilot, lambda: asked)
        assert len(asked) == 1


def test_a_spare_ahead_starts_once_and_only_when_spares_are_on(tmp_path, monkeypatch):
    from workbench.core import spares
    from workbench.training import runs, spare

    assert runs.start_spare_ahead(tmp_path) is None  # the tests turn spares off (WORKBENCH_SPARE_RUN=0)
    monkeypatch.setenv(spares.SPARE_ENV, "1")
    try:
        pid = runs.start_spare_ahead(tmp_path)
        assert pid is not None and spares.alive(tmp_path / spares.SPARE_DIR, "run") == [pid]
        assert runs.start_spare_ahead(tmp_path) is None  # one is starting already
    finally:
        assert spare.stop_spares(tmp_path) == 1
