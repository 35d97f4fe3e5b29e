"""Snapshots of the Models pane: a checkpoint selected, its heads, and each playground output kind.

Tiny seeded checkpoints are opened from the working directory, so the pane shows relative
names (bert-sentiment), never a temporary path.
"""

from __future__ import annotations

import pytest
from textual.widgets import TabbedContent

from workbench.ui.app import make_app

SIZE = (110, 34)


async def _settle(pilot, rounds: int = 6) -> None:
    from textual.worker import WorkerCancelled

    for _ in range(rounds):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass  # an exclusive worker replaced by a newer one
        await pilot.pause()


def _pane(pilot):
    return pilot.app.screen.query_one("#models-pane")


def test_checkpoint_selected(snap_compare):
    """The embedded encoder selected: architecture, shape, dtype, safetensors, size, tokenizer."""
    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=_settle)


def test_heads_of_the_embedded_encoder(snap_compare):
    """Heads tab with masked LM selected: parameter counts, a new (random) head, unused pooler weights."""

    async def run_before(pilot):
        pane = _pane(pilot)
        pane.query_one("#model-tabs", TabbedContent).active = "model-heads-tab"
        await _settle(pilot)
        pane.select_head("masked-lm")
        await _settle(pilot)

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=run_before)


PLAYGROUND_CASES = {
    # id: (model folder or "embedded", head, text, second field)
    "class-bars": ("bert-sentiment", "sequence-classification", "what a lovely day", ""),
    "token-spans": ("bert-ner", "token-classification", "Sarah moved from Lisbon to Paris", ""),
    "qa-answer": (
        "bert-qa",
        "question-answering",
        "Where was it written?",
        "The workbench was written in Lisbon in 2026.",
    ),
    "fill-mask": ("bert-mlm", "masked-lm", "Paris is the [MASK] of France.", ""),
    "causal-generation": ("gpt2", "causal-lm", "once upon a time", ""),
    "seq2seq-generation": ("t5", "seq2seq-lm", "translate to German: hello", ""),
}


@pytest.mark.parametrize("case", list(PLAYGROUND_CASES))
def test_playground_output(snap_compare, tiny_models, monkeypatch, case):
    """The playground after Run: the postprocessed answer (bars, spans, answer, top-k, text) and raw shapes."""
    folder_name, head, text, second = PLAYGROUND_CASES[case]
    monkeypatch.chdir(tiny_models["gpt2"].parent)

    async def run_before(pilot):
        pane = _pane(pilot)
        if folder_name != "embedded":
            pane.open_model(folder_name)
        pane.select_head(head)
        pane.query_one("#model-tabs", TabbedContent).active = "model-playground-tab"
        await _settle(pilot)
        pane.query_one("#playground").set_text(text, second)
        pane.action_run()
        await _settle(pilot)

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=run_before)


def test_playground_mid_stream(snap_compare, tiny_models, monkeypatch):
    """Generation as it streams: the prompt dimmed, the text so far in bold with a cursor, "Generating…"."""
    from workbench.core.models.inference import PlaygroundInput
    from workbench.ui.models.playground import Playground

    monkeypatch.chdir(tiny_models["gpt2"].parent)

    async def run_before(pilot):
        pane = _pane(pilot)
        pane.open_model("gpt2")
        pane.select_head("causal-lm")
        pane.query_one("#model-tabs", TabbedContent).active = "model-playground-tab"
        await _settle(pilot)
        playground = pane.query_one("#playground")
        playground.set_text("once upon a time", "")
        playground.post_message(Playground.Streamed(" there was a small", PlaygroundInput(text="once upon a time")))
        await _settle(pilot)

    assert snap_compare(make_app(probe_hub_on_start=False), terminal_size=SIZE, run_before=run_before)
