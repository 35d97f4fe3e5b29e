"""The Errors view (issue 20) on recorded predictions written here: a 3-class NLI run, a seq2seq run, a
token-classification (NER) run and a question-answering run.

Pilot tests of the jumps (Datasets row, Tokenizer with the run's tokenizer, Playground with the example),
sorting, filtering, the matrix toggle, Show code, the spans marked and the scores against seqeval and the
SQuAD metric, the pane keys held; snapshots of the classification, generic, token and QA views.
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
from workbench.ui.training.errors_parts import ErrorsSource
from workbench.ui.training.errors_view import ErrorsView
from workbench.ui.widgets.code_dialog import CodeDialog

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


async def open_view(pilot, folder, timeout: float = 60) -> ErrorsView:
    """The view on a run, loaded (the first token view imports seqeval, which imports scikit-learn: seconds
    on a busy machine)."""
    view = ErrorsView(ErrorsSource(run_dir=folder))
    await pilot.app.push_screen(view)
    await wait_for(pilot, lambda: not view.loading, timeout)
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
        assert isinstance(dialog, CodeDialog) and dialog.query_one("#errors-code").text == dialog.code
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


# -- token classification and question answering ------------------------------------------------

NER_RUN = "20260101-140000-tiny-ner-7a1c"
QA_RUN = "20260101-150000-tiny-qa-3b9d"
# (sentence, gold tags, predicted tags); sentence 7's tags stop at 6 of its 10 words (max_length cut it)
NER = [
    ("John Smith lives in Paris .", "B-PER I-PER O O B-LOC O", "B-PER I-PER O O B-LOC O"),
    ("Acme Corp hired Mary last week .", "B-ORG I-ORG O B-PER O O O", "B-ORG I-ORG O O O O O"),
    ("The Berlin office of Siemens opened .", "O B-LOC O O B-ORG O O", "O B-ORG O O B-ORG O O"),
    ("Yesterday it rained in the valley .", "O O O O O O O", "B-MISC O O O O O O"),
    ("Anna met Peter in Rome and London .", "B-PER O B-PER O B-LOC O B-LOC O", "B-PER O B-ORG O O O B-LOC O"),
    ("Google and Microsoft compete .", "B-ORG O B-ORG O O", "B-ORG O B-ORG O O"),
    (
        "The European Union met in Brussels on Monday to discuss trade rules with officials from Germany and France .",
        "O B-ORG I-ORG O O B-LOC O O O O O O O O O B-LOC O B-LOC O",
        "O B-ORG O O O B-LOC O O O O O O O O O B-LOC O O O",
    ),
    ("Maria said the Lisbon talks went well today .", "B-PER O O O O O", "B-PER O O B-LOC O O"),
    ("Tokyo is large .", "B-LOC O O O", "B-LOC O O O"),
    ("Lena works for Bosch .", "B-PER O O B-ORG O", "B-PER O O B-ORG O"),
]
# sentence -> (missed, spurious, wrong type)
NER_MISTAKES = {1: (1, 0, 0), 2: (0, 0, 1), 3: (0, 1, 0), 4: (1, 0, 1), 6: (2, 1, 0), 7: (0, 1, 0)}


def ner_records() -> dict[str, list]:
    records = {name: [] for name in ("id", "input", "gold", "predicted", "score", "loss")}
    for row, (sentence, gold, predicted) in enumerate(NER):
        wrong = sum(NER_MISTAKES.get(row, (0,)))
        records["id"].append(str(row))
        records["input"].append(sentence)
        records["gold"].append(gold)
        records["predicted"].append(predicted)
        records["score"].append(round(0.97 - 0.11 * wrong - 0.005 * row, 4))
        records["loss"].append(round(0.05 + 0.4 * wrong + 0.01 * row, 4))
    return records


TURING = (
    "Bletchley Park was the central site for British codebreakers during the Second World War. "
    "Many mathematicians worked there in huts spread across the grounds of the estate. "
    "The work of the codebreakers shortened the war by an estimated two years, historians say. "
    "Among them, the mathematician Alan Turing designed the bombe, an electromechanical machine "
    "that helped decipher messages encrypted by the Enigma machine."
)
# (question, context, gold answers, predicted, windows, confidence)
QA = [
    (
        "When was the Eiffel Tower completed?",
        "The Eiffel Tower was completed in 1889 in Paris, France.",
        ["1889"],
        "1889",
        1,
        0.93,
    ),
    (
        "Where was Marie Curie born?",
        "Marie Curie was born in Warsaw in 1867. She later moved to Paris to study physics.",
        ["Warsaw"],
        "Paris",
        1,
        0.71,
    ),
    (
        "Where does the Nile flow into?",
        "The Nile is the longest river in Africa and flows north into the Mediterranean Sea.",
        ["the Mediterranean Sea", "Mediterranean Sea"],
        "north into the Mediterranean Sea",
        1,
        0.55,
    ),
    ("Who designed the bombe?", TURING, ["Alan Turing"], "", 3, 0.42),
    (
        "Which band recorded Abbey Road?",
        "Abbey Road is an album recorded by the Beatles in 1969.",
        ["The Beatles"],
        "Beatles",
        1,
        0.88,
    ),
    (
        "How high is Mount Everest?",
        "Mount Everest is 8,849 metres high, the highest mountain above sea level.",
        ["8,849 metres"],
        "8,849",
        2,
        0.64,
    ),
]
QA_WRONG = [1, 2, 3, 5]


def qa_records() -> dict[str, list]:
    records = {name: [] for name in ("id", "input", "context", "gold", "predicted", "score", "windows", "start")}
    for row, (question, context, answers, predicted, windows, score) in enumerate(QA):
        records["id"].append(f"q{row}")
        records["input"].append(question)
        records["context"].append(context)
        records["gold"].append(" | ".join(answers))
        records["predicted"].append(predicted)
        records["score"].append(score)
        records["windows"].append(windows)
        records["start"].append(context.find(predicted) if predicted else -1)
    return records


def write_span_run(runs_dir, run_id: str, head: str, records: dict, max_length: int, **data) -> object:
    folder = runs_dir / run_id
    (folder / "predictions").mkdir(parents=True)
    (folder / "final").mkdir()
    data = {"max_length": max_length, **data}
    spec = {"model": {"name_or_path": "tiny", "head": head}, "data": data, "training": {}}
    (folder / "spec.toml").write_text(tomli_w.dumps(spec))
    pq.write_table(pa.table(records), folder / "predictions" / "step-10.parquet")
    metrics = {"eval_f1": 0.6} if head == "token-classification" else {"eval_exact_match": 33.3333}
    with EventWriter(folder / "events.jsonl") as writer:
        writer.emit(RunStarted(run_id, spec, time=T0))
        writer.emit(Evaluation(10, 0.4, metrics, predictions="predictions/step-10.parquet", time=T0 + 30))
        writer.emit(Finished("finished", time=T0 + 31))
    return folder


@pytest.fixture
def span_runs(tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    write_span_run(runs_dir, NER_RUN, "token-classification", ner_records(), 8)
    write_span_run(runs_dir, QA_RUN, "question-answering", qa_records(), 64, doc_stride=16)
    monkeypatch.setenv("WORKBENCH_RUNS_DIR", str(runs_dir))
    return runs_dir


def seqeval_report(records: dict) -> dict:
    from seqeval.metrics import classification_report

    gold = [tags.split() for tags in records["gold"]]
    predicted = [tags.split() for tags in records["predicted"]]
    return classification_report(gold, predicted, output_dict=True, zero_division=0)


async def test_token_classification_view_marks_the_mistakes_and_scores_each_type(span_runs):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, span_runs / NER_RUN)
        assert view.data.kind == "token" and view.has_class("-spans") and view.wrong_only
        # Per entity type: seqeval's classification_report, then its micro/macro/weighted averages
        report = seqeval_report(ner_records())
        for score in view.data.tokens.scores:
            expected = report[score.label]
            assert (score.precision, score.recall, score.f1) == pytest.approx(
                (expected["precision"], expected["recall"], expected["f1-score"])
            )
            assert score.support == expected["support"]
        assert [s.label for s in view.data.tokens.scores] == ["LOC", "MISC", "ORG", "PER"]
        micro = view.data.tokens.averages[0]
        assert micro.label == "micro average" and micro.f1 == pytest.approx(report["micro avg"]["f1-score"])
        assert view.query_one("#errors-scores").row_count == 4 + 3
        # The sentences with mistakes, most first; each one's counts as the records make them
        assert sorted(e["row"] for e in view.shown) == sorted(NER_MISTAKES)
        errors = [sum(NER_MISTAKES[e["row"]]) for e in view.shown]
        assert errors == sorted(errors, reverse=True) and view.shown[0]["row"] == 6
        for example in view.shown:
            spans = view.data.tokens.spans[example["row"]]
            counts = tuple(sum(s.kind == kind for s in spans) for kind in ("missed", "spurious", "wrong_type"))
            assert counts == NER_MISTAKES[example["row"]]
        wrong_type = [s for s in view.data.tokens.spans[2] if s.kind == "wrong_type"]
        assert [(s.start, s.end, s.label, s.predicted) for s in wrong_type] == [(1, 1, "LOC", "ORG")]
        # The marks: annotated in the text (not only by colour), styled from the theme
        cell = view.query_one("#errors-examples").get_row_at(0)[-1]
        assert cell.plain.startswith("The European‹+ORG› Union‹−ORG›") and cell.plain.endswith("…")
        assert str(cell.spans[0].style)  # the marks have styles
        variables = app.get_css_variables()
        assert variables["error-muted"].lower() in view.styles_of_spans["spurious"].lower()
        detail = str(view.query_one("#errors-detail").render())
        assert "missed ORG “European Union”" in detail and "spurious ORG “European”" in detail
        assert "missed LOC “France”" in detail and "France‹−LOC›" in detail
        # Filters: a mistake kind, an entity type; w shows every sentence
        view.query_one("#errors-predicted").value = "wrong_type"
        await pilot.pause()
        assert sorted(e["row"] for e in view.shown) == [2, 4]
        view.query_one("#errors-gold").value = "PER"
        await pilot.pause()
        assert [e["row"] for e in view.shown] == [4]
        await pilot.press("a")
        assert len(view.shown) == len(NER_MISTAKES)
        await pilot.press("w")
        assert len(view.shown) == len(NER)
        table = view.query_one("#errors-examples")
        table.move_cursor(row=[e["row"] for e in view.shown].index(7))
        await pilot.pause()
        assert "6 tags for 9 words" in str(view.query_one("#errors-detail").render())
        await pilot.press("s")
        losses = [e["loss"] for e in view.shown]
        assert losses == sorted(losses, reverse=True)


async def test_question_answering_view_marks_gold_and_predicted_spans(span_runs):
    from workbench.core.tasks import squad_metric

    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, span_runs / QA_RUN)
        assert view.data.kind == "qa" and view.has_class("-qa")
        assert sorted(e["row"] for e in view.shown) == QA_WRONG  # the wrong answers (Beatles: right, normalised)
        f1 = [view.data.numbers["f1"][e["row"]] for e in view.shown]
        assert f1 == sorted(f1) and view.shown[0]["row"] in (1, 3)
        records = qa_records()
        expected = squad_metric.compute(
            records["predicted"], [g.split(" | ") for g in records["gold"]], version_2=False
        )
        summary = dict(view.data.qa.summary)
        assert summary["exact match"] == f"{expected['exact_match']:.2f}" and summary["F1"] == f"{expected['f1']:.2f}"
        assert summary["questions over >1 window"] == "2 (up to 3)"
        qa = view.data.qa
        context = QA[1][1]
        assert qa.gold_spans[1] == (context.index("Warsaw"), context.index("Warsaw") + 6)
        assert qa.predicted_spans[1] == (context.index("Paris"), context.index("Paris") + 5)
        assert qa.predicted_spans[3] is None and qa.gold_spans[3] == (
            TURING.index("Alan Turing"),
            TURING.index("Alan Turing") + 11,
        )
        start = QA[2][1].index("the Mediterranean Sea")  # the gold answer with the best F1 against the prediction
        assert qa.gold_spans[2] == (start, start + len("the Mediterranean Sea"))
        table = view.query_one("#errors-examples")
        table.move_cursor(row=[e["row"] for e in view.shown].index(3))
        await pilot.pause()
        detail = str(view.query_one("#errors-detail").render())
        assert "(no answer)" in detail and "3 windows" in detail and "Alan Turing" in detail
        row = table.get_row_at(table.cursor_row)
        assert row[3].plain == "3" and "Alan Turing" in row[-1].plain
        await pilot.press("w")
        assert len(view.shown) == len(QA)
        assert view.check_action("normalise", ()) is False and view.check_action("all_classes", ()) is False


async def test_show_code_of_the_token_and_qa_views(span_runs):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        for run, kind in ((NER_RUN, "token"), (QA_RUN, "qa")):
            view = await open_view(pilot, span_runs / run)
            if kind == "token":
                view.query_one("#errors-gold").value = "LOC"
                await pilot.pause()
            await pilot.press("c")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, CodeDialog) and dialog.query_one("#errors-code").text == dialog.code
            namespace: dict = {}
            with contextlib.redirect_stdout(io.StringIO()):
                exec(dialog.code, namespace)  # noqa: S102 - the code the view shows, run as a user would
            assert list(namespace["examples"]["row"]) == [example["row"] for example in view.shown]
            if kind == "qa":
                assert list(namespace["records"]["f1"]) == pytest.approx(list(view.data.numbers["f1"]))
            await pilot.press("escape", "escape")
            await pilot.pause()


async def test_tokenizer_jump_loads_the_runs_tokenizer_and_cuts_at_its_max_length(span_runs):
    from transformers import BertTokenizerFast

    from workbench.ui.tokenizer.pane import TokenizerPane

    final = span_runs / NER_RUN / "final"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "european", "union", "met", "in", "."]
    BertTokenizerFast(vocab={word: index for index, word in enumerate(vocab)}).save_pretrained(final)
    posted = []
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        view = await open_view(pilot, span_runs / NER_RUN)
        example = view.current_example()
        await pilot.press("t")
        await pilot.pause()
        sent = [m for m in posted if isinstance(m, SendToTokenizer)][0]
        assert (sent.text, sent.source, sent.max_length) == (example["input"], str(final), 8)
        pane = app.screen.query_one(TokenizerPane)
        await wait_for(pilot, lambda: pane.loaded is not None and pane.result is not None, timeout=30)
        assert pane.loaded.source == str(final) and pane.query_one("#opt-source").value == str(final)
        await wait_for(pilot, lambda: pane.result.options.max_length == 8, timeout=10)
        result = pane.result
        assert result.text == example["input"] and result.options.truncation == "longest_first"
        assert result.truncated[0]  # the sentence is longer than 8 tokens: the rest is shown dropped
        tokens = result.windows[0].tokens
        assert len(tokens) == 8 and [token.unknown for token in tokens if not token.special] == [
            False,  # the
            False,  # european
            False,  # union
            False,  # met
            False,  # in
            True,  # brussels: not in the run's vocabulary
        ]


async def test_tokenizer_jump_of_a_qa_example_cuts_windows_with_the_runs_stride(span_runs):
    from textual.widgets import Checkbox, Input

    from workbench.ui.tokenizer.pane import TokenizerPane

    posted = []
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE, message_hook=posted.append) as pilot:
        view = await open_view(pilot, span_runs / QA_RUN)
        example = view.current_example()
        await pilot.press("t")
        await pilot.pause()
        sent = [m for m in posted if isinstance(m, SendToTokenizer)][0]
        assert (sent.text, sent.pair, sent.truncation) == (example["input"], example["context"], "only_second")
        assert (sent.max_length, sent.windows, sent.stride) == (64, True, 16)
        pane = app.screen.query_one(TokenizerPane)
        await wait_for(pilot, lambda: pane.query_one("#opt-stride", Input).value == "16", timeout=10)
        assert pane.query_one("#opt-max-length", Input).value == "64"
        assert pane.query_one("#opt-overflow", Checkbox).value is True


async def test_playground_jump_fills_the_example(span_runs):
    from textual.widgets import Input, TabbedContent

    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_view(pilot, span_runs / QA_RUN)
        example = view.current_example()
        await pilot.press("m")
        await pilot.pause()
        pane = app.screen.query_one("#models-pane")
        await wait_for(pilot, lambda: pane.query_one("#play-text", Input).value == example["input"])
        assert pane.query_one("#play-second", Input).value == example["context"]
        assert pane.query_one("#model-tabs", TabbedContent).active == "model-playground-tab"


async def test_the_pane_keys_do_nothing_under_the_view(span_runs):
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        before = app.main_screen.active_pane_id
        view = await open_view(pilot, span_runs / NER_RUN)
        shown = {b.binding.key for b in view.active_bindings.values() if b.binding.show}
        assert not shown & {"1", "2", "3", "4"} and {"t", "m", "c"} <= shown
        assert not any(b.binding.action.startswith("open_pane") for b in view.active_bindings.values())
        await pilot.press("2", "3", "alt+4")
        assert app.screen is view and app.main_screen.active_pane_id == before
        await pilot.press("escape")
        await pilot.press("2")
        await pilot.pause()
        assert app.main_screen.active_pane_id != before  # back on the panes, the keys work again


def test_token_classification_snapshot(snap_compare, span_runs):
    """The NER run: per-entity-type P/R/F1/support (seqeval) with micro/macro/weighted averages; the 6
    sentences with mistakes, most first, each cut around its first mistake (missed ‹−T›, spurious ‹+T›,
    wrong type ‹G→P›, theme colours); below, the first one whole with its mistakes and the legend."""

    async def opened(pilot):
        await open_view(pilot, span_runs / NER_RUN)

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=opened)


def test_question_answering_snapshot(snap_compare, span_runs):
    """The QA run: exact match, F1, wrong answers and windows in the scores box; the 4 wrong answers by F1
    (lowest first) with the windows column and the context cut around the gold (green) and predicted (red)
    answers; below, the first one's question, context, gold, prediction and windows."""

    async def opened(pilot):
        await open_view(pilot, span_runs / QA_RUN)

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=opened)


def test_iobes_tags_are_scored_in_strict_mode_and_found_without_a_head(tmp_path):
    """A `workbench eval` file without metadata: tag sequences make it token classification; E-/S- tags
    are scored as the evaluator scores them (seqeval's strict mode)."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOBES

    from workbench.ui.training.errors_parts import load_errors

    gold = ["S-PER O B-LOC E-LOC O", "B-ORG I-ORG E-ORG O", "O S-MISC O", "S-LOC O O"]
    predicted = ["S-PER O B-LOC I-LOC O", "B-ORG I-ORG E-ORG O", "O O O", "S-ORG O O"]
    words = ["Ann saw New York today", "Big Blue Corp wins", "a Dutch dish", "Oslo is cold"]
    path = tmp_path / "eval.parquet"
    pq.write_table(pa.table({"input": words, "gold": gold, "predicted": predicted, "loss": [0.1] * 4}), path)
    data = load_errors(ErrorsSource(predictions=path))
    assert data.kind == "token" and data.tokens.scheme == "IOBES"
    split = [[tags.split() for tags in column] for column in (gold, predicted)]
    report = classification_report(*split, mode="strict", scheme=IOBES, output_dict=True, zero_division=0)
    assert {s.label: (s.precision, s.recall, s.f1, s.support) for s in data.tokens.scores} == {
        label: pytest.approx((v["precision"], v["recall"], v["f1-score"], v["support"]))
        for label, v in report.items()
        if "avg" not in label
    }
    # strict marks too: B-LOC I-LOC (no E-LOC) is no entity, so New York was missed
    assert data.numbers["errors"].tolist() == [1.0, 0.0, 1.0, 1.0]
    assert [(s.label, s.kind) for s in data.tokens.spans[0] if s.kind != "correct"] == [("LOC", "missed")]
    assert [(s.label, s.predicted) for s in data.tokens.spans[3]] == [("LOC", "ORG")]


def test_tags_per_sub_token_are_not_drawn_over_the_words():
    from workbench.ui.training import errors_spans

    spans = errors_spans.compare_entities("B-PER I-PER O O B-LOC".split(), "B-PER I-PER O O O".split())
    detail = errors_spans.token_detail({"input": "Annabel went to Oslo"}, spans, 5, errors_spans.span_styles({}))
    assert "5 tags for 4 words" in detail.plain and "missed LOC (tags 4-4)" in detail.plain
    assert "‹" not in detail.plain.splitlines()[0]  # nothing marked on words the tags do not line up with
