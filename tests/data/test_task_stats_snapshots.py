"""The Datasets pane's task statistics on a small CoNLL file and a small SQuAD file (snapshots),
and a task picked for a file of another format."""

from __future__ import annotations

import json

from tests.data.test_datasets_pane import open_in_pane, settle
from workbench.ui.app import make_app
from workbench.ui.data.pane import DatasetsPane
from workbench.ui.data.task_stats_view import TaskStatsView

SIZE = (110, 46)

CONLL = """-DOCSTART- -X- -X- O

EU NNP B-NP B-ORG
rejects VBZ B-VP O
German JJ B-NP B-MISC
call NN I-NP O
to TO B-VP O
boycott VB I-VP O
British JJ B-NP B-MISC
lamb NN I-NP O
. . O O

Peter NNP B-NP B-PER
Blackburn NNP I-NP I-PER

BRUSSELS NNP B-NP B-LOC
1996-08-22 CD I-NP O

The DT B-NP O
European NNP I-NP B-ORG
Commission NNP I-NP I-ORG
said VBD B-VP O
on IN B-PP O
Thursday NNP B-NP O
it PRP B-NP O
disagreed VBD B-VP O
with IN B-PP O
German JJ B-NP B-MISC
advice NN I-NP O
to TO B-PP O
consumers NNS B-NP O
to TO B-VP O
shun VB I-VP O
British JJ B-NP B-MISC
lamb NN I-NP O
until IN B-SBAR O
scientists NNS B-NP O
determine VBP B-VP O
whether IN B-SBAR O
mad JJ B-NP O
cow NN I-NP O
disease NN I-NP O
can MD B-VP O
be VB I-VP O
transmitted VBN I-VP O
to TO B-PP O
sheep NN B-NP O
. . O O
"""

CONTEXT = (
    "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in"
    " France. They were descended from Norse raiders and pirates from Denmark, Iceland and Norway who, under"
    " their leader Rollo, agreed to swear fealty to King Charles III of West Francia."
)
SECOND = "Warsaw is the capital and largest city of Poland. It stands on the Vistula River in east-central Poland."


def _qa(ident: str, question: str, answer: str, context: str, shift: int = 0) -> dict:
    return {
        "id": ident,
        "question": question,
        "answers": [{"text": answer, "answer_start": context.index(answer) + shift}] if answer else [],
    }


SQUAD = {
    "version": "1.1",
    "data": [
        {
            "title": "Normans",
            "paragraphs": [
                {
                    "context": CONTEXT,
                    "qas": [
                        _qa("n1", "In what country is Normandy located?", "France", CONTEXT),
                        _qa("n2", "Who was the Norse leader?", "Rollo", CONTEXT),
                        _qa("n3", "Who did they swear fealty to?", "King Charles III", CONTEXT, shift=2),
                    ],
                }
            ],
        },
        {
            "title": "Warsaw",
            "paragraphs": [
                {
                    "context": SECOND,
                    "qas": [
                        _qa("w1", "What river does Warsaw stand on?", "Vistula River", SECOND),
                        _qa("w2", "How many people live in Warsaw?", "", SECOND),
                    ],
                }
            ],
        },
    ],
}


def _write(tmp_path, monkeypatch) -> None:
    (tmp_path / "ner.txt").write_text(CONLL)
    (tmp_path / "qa.json").write_text(json.dumps(SQUAD))
    monkeypatch.chdir(tmp_path)  # relative paths: no tmp path on screen


async def _statistics_of(pilot, name: str) -> None:
    await pilot.press("3")
    pilot.app.screen.query_one(DatasetsPane).open_path(name)
    await settle(pilot)
    await pilot.press("s")
    await settle(pilot)


def test_conll_statistics(snap_compare, tmp_path, monkeypatch):
    """A CoNLL file: token classification picked from the format, entities per type (MISC 4, ORG 2,
    LOC 1, PER 1), IOB2, the sentences over max_length 128 (none), sentences over their tags."""
    _write(tmp_path, monkeypatch)

    async def run_before(pilot) -> None:
        await _statistics_of(pilot, "ner.txt")

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=run_before)


def test_squad_statistics(snap_compare, tmp_path, monkeypatch):
    """A SQuAD file: question answering at 384/128, one window each, one answer_start off (n3), one
    unanswerable (w2), the questions with their context (answer in [[ ]]) and answers."""
    _write(tmp_path, monkeypatch)

    async def run_before(pilot) -> None:
        await _statistics_of(pilot, "qa.json")

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=run_before)


async def test_windows_follow_the_settings(tmp_path, monkeypatch):
    """max_length 48 / stride 8 in the view's inputs: the long context needs several windows."""
    _write(tmp_path, monkeypatch)
    async with make_app(probe_hub_on_start=False).run_test(size=SIZE) as pilot:
        pane = await open_in_pane(pilot, "qa.json")
        view = pane.query_one(TaskStatsView)
        assert view.task == "question-answering"
        assert (view.max_length, view.second) == (384, 128)
        await pilot.press("s")
        await settle(pilot)
        assert sum(view.result.windows) == 5
        view.query_one("#task-stats-max-length").value = "48"
        view.query_one("#task-stats-second").value = "8"
        view.compute(force=True)
        await settle(pilot)
        assert view.result.windows[0] > 1 and sum(view.result.windows) > 5
        assert view.result.mismatch_ids == ["n3"] and view.result.unanswerable == 1


async def test_task_picked_for_a_jsonl_file(tmp_path, monkeypatch):
    """A JSON Lines file of dialogues and summaries: no task by default (the text statistics), then
    seq2seq picked in the view's Select: source and target lengths replace them."""
    rows = [
        {"dialogue": "#Person1#: Hello, how are you today? #Person2#: Fine, thanks.", "summary": "They greet."},
        {"dialogue": "#Person1#: Where is the station? #Person2#: Two blocks north.", "summary": "Directions."},
    ]
    (tmp_path / "dialogs.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    monkeypatch.chdir(tmp_path)
    async with make_app(probe_hub_on_start=False).run_test(size=SIZE) as pilot:
        pane = await open_in_pane(pilot, "dialogs.jsonl")
        view = pane.query_one(TaskStatsView)
        assert view.task is None
        await pilot.press("s")
        await settle(pilot)
        assert pane.query_one("#datasets-stats-body").display
        view.query_one("#task-stats-task").value = "seq2seq"
        await pilot.pause()
        await settle(pilot)
        assert not pane.query_one("#datasets-stats-body").display
        assert (view.result.source_column, view.result.target_column) == ("dialogue", "summary")
        assert view.result.pairs == 2
        body = str(view.query_one("#task-stats-body").render())
        assert "Seq2seq · 2 pairs · dialogue → summary" in body
