"""Token classification and question answering started from the Training pane's form, as a user
would: a CoNLL or SQuAD file chosen in the Datasets pane gives the task, the form shows its keys, and
the run follows to the end with the task's metrics (the tiny BERT of the engine's test fixtures)."""

from __future__ import annotations

import json

import pytest

from tests.training.conftest import one_thread_per_run, tiny_model_dir  # noqa: F401
from tests.training.pane.conftest import wait_for
from workbench.ui.app import make_app
from workbench.ui.training.monitor import RunMonitor
from workbench.ui.training.start_form import StartRunScreen

pytestmark = pytest.mark.slow
SIZE = (140, 46)

PEOPLE = ["Alice", "Bob", "Carol"]
PLACES = ["Paris", "Lisbon", "Oslo"]


def write_conll(folder, name: str, count: int) -> None:
    lines = ["-DOCSTART- O", ""]
    for index in range(count):
        person, place = PEOPLE[index % 3], PLACES[(index + 1) % 3]
        lines += [f"{person} B-PER", "went O", "to O", f"{place} B-LOC", ". O", ""]
    (folder / name).write_text("\n".join(lines), encoding="utf-8")


def write_squad(folder, name: str, count: int) -> None:
    paragraphs = []
    for index in range(count):
        person, place = PEOPLE[index % 3], PLACES[(index + 1) % 3]
        context = f"{person} went to {place} in the spring and stayed there."
        qas = [
            {
                "id": f"{name}-{index}",
                "question": f"Where did {person} go?",
                "answers": [{"text": place, "answer_start": context.index(place)}],
            }
        ]
        paragraphs.append({"context": context, "qas": qas})
    (folder / name).write_text(json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}))


CASES = {
    "token-classification": (write_conll, ("train.txt", "valid.txt"), "conll", {}, {"f1", "precision"}),
    "question-answering": (
        write_squad,
        ("train.json", "dev.json"),
        "squad",
        {"data.max_length": "64", "data.doc_stride": "16"},
        {"exact_match", "f1"},
    ),
}


@pytest.mark.parametrize("task", list(CASES))
async def test_a_task_run_from_the_form(task, tiny_model_dir, tmp_path):  # noqa: F811
    write, (train, dev), fmt, edits, metrics = CASES[task]
    write(tmp_path, train, 24)
    write(tmp_path, dev, 6)
    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=SIZE) as pilot:
        app.active_model_path = str(tiny_model_dir)
        app.active_dataset = {"path": str(tmp_path / train), "format": fmt}
        await pilot.press("4", "n")
        form = app.screen
        assert isinstance(form, StartRunScreen)
        field = lambda name: form.query_one(f"#field-{name.replace('.', '--')}")  # noqa: E731
        assert field("model.head").value == task
        assert field("data.validation_file").value == str(tmp_path / dev)
        for name, value in {
            **edits,
            "training.max_steps": "6",
            "training.logging_steps": "2",
            "training.learning_rate": "1e-3",
            "monitor.system_sample_interval_s": "0",
        }.items():
            field(name).value = value
        try:
            await wait_for(pilot, lambda: form.errors == {}, timeout=30)
        except AssertionError:
            raise AssertionError(form.errors) from None
        await pilot.press("ctrl+s")
        monitor = app.screen.query_one(RunMonitor)
        await wait_for(pilot, lambda: monitor.run_dir is not None, timeout=30)
        await wait_for(pilot, lambda: monitor.status in ("finished", "failed", "crashed"), timeout=200)
        assert monitor.status == "finished", (monitor.run_dir / "stdout.log").read_text()[-2000:]
        assert metrics <= set(monitor.history.metric_names())
        config = json.loads((monitor.run_dir / "final" / "config.json").read_text())
        assert config["architectures"][0].endswith(
            "ForTokenClassification" if task == "token-classification" else "ForQuestionAnswering"
        )
