"""The Errors view (issue 20) on recorded predictions: a 3-class NLI run and a seq2seq run, written here.

Pilot tests of the jumps (Datasets row, Tokenizer, Playground), sorting, filtering, the matrix toggle and
Show code; snapshots of the classification and the generic view.
"""

from __future__ import annotations

import contextlib
import io
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tomli_w

from tests.training.pane.conftest import wait_for
from workbench.core.runs.protocol import Evaluation, EventWriter, Finished, RunStarted
from workbench.ui.app import make_app
from workbench.ui.messages import DatasetRowRequested, OpenModelRequested, SendToTokenizer
from workbench.ui.training.errors_parts import ErrorsCodeDialog, ErrorsSource
from workbench.ui.training.errors_view import ErrorsView

SIZE = (140, 46)
T0 = 1767268800.0
NLI_RUN = "20260101-120000-tiny-nli-e770"
SEQ2SEQ_RUN = "20260101-130000-tiny-t5-5e25"
LABELS = ("entailment", "neutral", "contradiction")
# Per row: the predicted class's offset from the gold one (0 = right); 8 of 30 wrong
WRONG = {2: 1, 5: 2, 9: 1, 13: 1, 17: 2, 22: 1, 26: 2, 29: 1}


def nli_records() -> dict[str, list]:
    records = {name: [] for name in ("id", "input", "gold", "predicted", "score", "loss", "input_pair")}
    for row in range(30):
        gold = row % 3
        predicted = (gold + WRONG.get(row, 0)) % 3
        score = 0.4 + 0.59 * ((row * 7) % 30) / 29  # confidence of the predicted class
        gold_probability = score if predicted == gold else (1 - score) / 2
        records["id"].append(row)
        records["input"].append(f"Premise {row}: a person rides a bike down hill number {row}.")
        records["input_pair"].append(f"Hypothesis {row}: someone is {'moving' if gold == 0 else 'resting'}.")
        records["gold"].append(LABELS[gold])
        records["predicted"].append(LABELS[predicted])
        records["score"].append(round(score, 4))
        records["loss"].append(round(-math.log(gold_probability), 4))
    return records


def seq2seq_records() -> dict[str, list]:
    records = {name: [] for name in ("id", "input", "gold", "predicted", "score", "loss")}
    for row in range(12):
        records["id"].append(row)
        records["input"].append(f"translate English to German: the house number {row} is small.")
        records["gold"].append(f"das Haus Nummer {row} ist klein.")
        records["predicted"].append(f"das Haus {row} ist {'klein' if row % 4 else 'groß'}.")
        records["score"].append(round(10 + (row * 37) % 80 + 0.5, 2))  # sentence BLEU
        records["loss"].append(round(0.3 + ((row * 5) % 12) / 10, 3))
    return records


def write_run(runs_dir, run_id: str, head: str, records: dict, *, validation_file: str = "") -> object:
    folder = runs_dir / run_id
    (folder / "predictions").mkdir(parents=True)
    (folder / "final").mkdir()
    model = {"name_or_path": "tiny", "head": head}
    if head == "sequence-classification":
        model["id2label"] = {str(index): label for index, label in enumerate(LABELS)}
    spec = {"model": model, "data": {"validation_file": validation_file}, "training": {}}
    (folder / "spec.toml").write_text(tomli_w.dumps(spec))
    pq.write_table(pa.table(records), folder / "predictions" / "step-30.parquet")
    with EventWriter(folder / "events.jsonl") as writer:
        writer.emit(RunStarted(run_id, spec, time=T0))
        # The first evaluation's file was rotated away: the view opens the newest one that is there.
        writer.emit(Evaluation(20, 0.6, {"eval_loss": 0.9}, predictions="predictions/step-20.parquet", time=T0 + 40))
        metrics = {"eval_loss": 0.5123, "eval_accuracy": 22 / 30} if head != "seq2seq" else {"eval_bleu": 31.2}
        writer.emit(Evaluation(30, 1.0, metrics, predictions="predictions/step-30.parquet", time=T0 + 60))
        writer.emit(Finished("finished", time=T0 + 61))
    return folder


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """A runs dir with the NLI run (its validation file beside it) and the seq2seq run."""
    runs_dir = tmp_path / "runs"
    records = nli_records()
    validation = tmp_path / "nli-validation.csv"
    lines = ["premise,hypothesis,label"]
    lines += [f'"{a}","{b}",{g}' for a, b, g in zip(records["input"], records["input_pair"], records["gold"])]
    validation.write_text("\n".join(lines) + "\n")
    write_run(runs_dir, NLI_RUN, "sequence-classification", records, validation_file=str(validation))
    write_run(runs_dir, SEQ2SEQ_RUN, "seq2seq", seq2seq_records())
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(runs_dir))
    return runs_dir


async def open_view(pilot, folder) -> ErrorsView:
    view = ErrorsView(ErrorsSource(run_dir=folder))
    await pilot.app.push_screen(view)
    await wait_for(pilot, lambda: not view.loading)
    return view


async def test_x_opens_the_latest_evaluation_with_predictions(runs):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        table = app.screen.query_one("#runs-table")
        await wait_for(pilot, lambda: table.row_count == 2)
        await pilot.press("down", "x")  # the NLI run is the older one: second row
        await pilot.pause()
        view = app.screen
        assert isinstance(view, ErrorsView)
        await wait_for(pilot, lambda: not view.loading)
        assert view.data.kind == "classification" and "step 30" in view.data.title
        assert view.data.matrix.labels == list(LABELS)  # the model's id2label order
        assert view.data.matrix.counts.trace() == 22
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorsView)


async def test_x_in_the_monitor_opens_the_highlighted_evaluation(runs):
    from tests.training.pane.conftest import monitor_loaded

    records = nli_records()
    records["predicted"] = list(records["gold"])  # step 20 kept too, and right everywhere
    pq.write_table(pa.table(records), runs / NLI_RUN / "predictions" / "step-20.parquet")
    app = make_app(probe_hub_on_start=False, attach_run=NLI_RUN)
    async with app.run_test(size=SIZE) as pilot:
        await monitor_loaded(pilot)
        evaluations = app.screen.query_one("#eval-table")
        evaluations.focus()
        await pilot.press("home", "x")  # the first evaluation: step 20
        await pilot.pause()
        view = app.screen
        assert isinstance(view, ErrorsView)
        await wait_for(pilot, lambda: not view.loading)
        assert "step 20" in view.data.title and view.data.matrix.counts.trace() == 30


async def test_sorting_by_loss_and_confidence(runs):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, runs / NLI_RUN)
        losses = [example["loss"] for example in view.shown]
        assert len(losses) == 30 and losses == sorted(losses, reverse=True)
        assert view.shown[0]["gold"] != view.shown[0]["predicted"]  # the worst is a wrong one
        await pilot.press("s")
        scores = [example["score"] for example in view.shown]
        assert scores == sorted(scores, reverse=True)
        await pilot.press("s")
        scores = [example["score"] for example in view.shown]
        assert scores == sorted(scores)
        table = view.query_one("#errors-examples")
        assert "confidence, lowest first" in str(table.border_subtitle)
        await pilot.press("s")
        assert view.sort[0] == "loss"


async def test_filtering_by_class_from_the_matrix_the_selects_and_wrong_only(runs):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, runs / NLI_RUN)
        matrix = view.query_one("#errors-matrix")
        matrix.focus()
        matrix.cursor_coordinate = (0, 2)  # gold entailment, predicted neutral
        await pilot.press("enter")
        await pilot.pause()
        assert (view.gold, view.predicted) == ("entailment", "neutral")
        expected = int(view.data.matrix.counts[0, 1])
        assert expected > 0 and len(view.shown) == expected
        assert all((e["gold"], e["predicted"]) == ("entailment", "neutral") for e in view.shown)
        assert view.query_one("#errors-predicted").value == "neutral"
        await pilot.press("a")
        assert view.gold is None and len(view.shown) == 30
        view.query_one("#errors-gold").value = "contradiction"
        await pilot.pause()
        assert len(view.shown) == 10 and {e["gold"] for e in view.shown} == {"contradiction"}
        await pilot.press("w")
        wrong = [row for row in WRONG if row % 3 == 2]
        assert sorted(e["row"] for e in view.shown) == wrong
        await pilot.press("n")
        assert "row %" in str(matrix.border_title)
        assert str(matrix.get_cell_at((0, 1))).endswith("%")


async def test_jump_to_the_datasets_pane_at_the_row(runs, tmp_path):
    posted = []
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        view = await open_view(pilot, runs / NLI_RUN)
        await pilot.press("down", "down")
        example = view.current_example()
        await pilot.press("d")
        requests = [m for m in posted if isinstance(m, DatasetRowRequested)]
        assert requests and requests[0].row == example["row"] and requests[0].split == "validation"
        assert requests[0].source == str(tmp_path / "nli-validation.csv")
        pane = app.screen.query_one("#datasets-pane")
        await wait_for(pilot, lambda: pane.opened is not None and not pane.busy)
        table = pane.rows_view.table
        await wait_for(pilot, lambda: table.cursor_row == example["row"])
        assert pane.split == "validation"
        assert pane.dataset.num_rows == 30
        assert table.pager.row(table.cursor_row)["premise"] == example["input"]
        opened = pane.opened
        view = await open_view(pilot, runs / NLI_RUN)  # a second jump: the file is open, only the cursor moves
        view.query_one("#errors-examples").move_cursor(row=len(view.shown) - 1)
        last = view.current_example()
        await pilot.press("d")
        await wait_for(pilot, lambda: table.cursor_row == last["row"])
        assert pane.opened is opened and table.pager.row(table.cursor_row)["premise"] == last["input"]


async def test_jump_to_the_tokenizer_and_the_playground(runs):
    posted = []
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        view = await open_view(pilot, runs / NLI_RUN)
        example = view.current_example()
        await pilot.press("t")
        await pilot.pause()
        sent = [m for m in posted if isinstance(m, SendToTokenizer)]
        assert sent and (sent[0].text, sent[0].pair) == (example["input"], example["input_pair"])
        assert not isinstance(app.screen, ErrorsView)
        view = await open_view(pilot, runs / NLI_RUN)
        await pilot.press("m")
        opened = [m for m in posted if isinstance(m, OpenModelRequested)]
        assert opened and opened[0].path == str(runs / NLI_RUN / "final")


async def test_show_code_reproduces_the_table(runs):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, runs / NLI_RUN)
        view.query_one("#errors-gold").value = "neutral"
        await pilot.press("w", "s")
        await pilot.press("c")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ErrorsCodeDialog)
        namespace: dict = {}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(dialog.code, namespace)  # noqa: S102 - the code the view shows, run as a user would
        assert list(namespace["examples"]["row"]) == [example["row"] for example in view.shown]
        assert list(namespace["matrix"].to_numpy().ravel()) == list(view.data.matrix.counts.ravel())


async def test_generic_view_of_a_seq2seq_run(runs):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, runs / SEQ2SEQ_RUN)
        assert view.data.kind == "generic" and view.data.matrix is None
        assert not view.query_one("#errors-top").display or view.has_class("-generic")
        assert view.check_action("normalise", ()) is False
        assert [e["loss"] for e in view.shown] == sorted((e["loss"] for e in view.shown), reverse=True)
        await pilot.press("s")
        assert [e["score"] for e in view.shown] == sorted(e["score"] for e in view.shown)
        columns = [str(column.label) for column in view.query_one("#errors-examples").columns.values()]
        assert columns[:6] == ["row", "loss", "score", "input", "gold", "predicted"]


async def test_a_workbench_eval_result_with_its_metadata(tmp_path):
    """A predictions file as `workbench eval` writes it: labels, model and data file come from its metadata."""
    import json

    records = nli_records()
    records["input"][17] = "[b]not markup[/b] premise"  # row 17 has the highest loss: first in the table
    table = pa.table(records)
    about = {"task": "sequence-classification", "model": str(tmp_path / "model"), "data_file": str(tmp_path / "x.csv")}
    about |= {"labels": ["contradiction", "neutral", "entailment"], "metrics": {"accuracy": 0.7333}}
    pq.write_table(table.replace_schema_metadata({b"workbench.eval": json.dumps(about)}), tmp_path / "eval.parquet")
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = ErrorsView(ErrorsSource(predictions=tmp_path / "eval.parquet"))
        await app.push_screen(view)
        await wait_for(pilot, lambda: not view.loading)
        assert view.data.matrix.labels == ["contradiction", "neutral", "entailment"]
        assert view.data.model == about["model"] and view.data.dataset["source"] == about["data_file"]
        assert "accuracy 0.7333" in view.data.title
        first = view.query_one("#errors-examples").get_row_at(0)
        assert "[b]not markup[/b] premise" in [str(text) for text in first]


async def test_an_unreadable_predictions_file_is_named_not_a_traceback(runs):
    (runs / NLI_RUN / "predictions" / "step-30.parquet").write_text("not parquet")
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, runs / NLI_RUN)
        title = str(view.query_one("#errors-title").render())
        assert "Could not open the predictions" in title and "step-30.parquet: not a predictions file" in title
        assert view.data is None and app.last_error is not None
        await pilot.press("s", "d", "c")  # keys wait for data: nothing happens, nothing fails
        assert app.screen is view


def test_classification_snapshot(snap_compare, runs):
    """The NLI run's step-30 evaluation: title with accuracy, the 3x3 matrix (counts, diagonal bold),
    per-class precision/recall/F1/support with the macro average, the 30 examples by loss (wrong ones
    first), the first example's premise/hypothesis/gold/predicted below, and the view's keys."""

    async def opened(pilot):
        await open_view(pilot, runs / NLI_RUN)

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=opened)


def test_generic_snapshot(snap_compare, runs):
    """The seq2seq run: no matrix; the 12 examples by score (lowest BLEU first, after one `s`) with loss,
    score, input, reference (gold) and prediction side by side."""

    async def opened(pilot):
        await open_view(pilot, runs / SEQ2SEQ_RUN)
        await pilot.press("s")

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=opened)
