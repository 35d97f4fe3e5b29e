"""The new-run form with LoRA on (issue 16): the estimate counts the adapter's trainable parameters in
its worker (the run's own counts, from the model built on the meta device), trains only those in the
memory estimate, and shows what the run would refuse as a message."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.widgets import Input

from tests.training.pane.conftest import wait_for
from workbench.core.tasks import lora
from workbench.training import estimate
from workbench.training.spec import default_spec
from workbench.ui.training.start_form import ESTIMATE_KEYS, StartRunScreen, format_value, parse_value

SIZE = (140, 46)


def mrpc_spec(mrpc_dir, **lora_table) -> dict:
    spec = default_spec(data=str(mrpc_dir / "train.tsv"))
    spec["data"].update(text_column="#1 String", text_pair_column="#2 String", label_column="Quality")
    spec["model"].update(num_labels=2, lora=lora_table)
    return spec


class FormApp(App):
    """The form alone, over an empty screen (the panes behind it are not what is tested)."""

    def __init__(self, spec: dict) -> None:
        super().__init__()
        self.spec = spec

    def on_mount(self) -> None:
        self.push_screen(StartRunScreen(self.spec))


@pytest.fixture
def fixed_free_memory(monkeypatch):
    monkeypatch.setattr(estimate, "free_memory", lambda use_cpu: (16 * estimate.GIB, "CPU RAM"))


def estimate_text(form: StartRunScreen) -> str:
    return str(form.query_one("#start-estimate").render())


def test_the_estimate_reruns_when_the_lora_table_or_the_head_changes():
    for key in ("model.lora", "model.head", "model.num_labels", "model.id2label", "model.from_config"):
        assert key in ESTIMATE_KEYS


def test_a_lora_table_goes_into_its_field_and_back_with_its_types():
    table = {"r": 8, "lora_alpha": 16.0, "target_modules": ["query", "value"], "use_rslora": True, "bias": "none"}
    assert format_value(table) == (
        '{r = 8, lora_alpha = 16.0, target_modules = ["query", "value"], use_rslora = true, bias = "none"}'
    )
    assert parse_value(format_value(table), {}) == table
    assert format_value({"0": "negative", "1": "positive"}) == '{0 = "negative", 1 = "positive"}'


async def test_setting_r_shows_the_runs_trainable_counts(mrpc_dir, fixed_free_memory):
    spec = mrpc_spec(mrpc_dir)
    expected = {r: lora.planned_counts(mrpc_spec(mrpc_dir, r=r), estimate.lora_model_path("embedded")) for r in (8, 4)}
    app = FormApp(spec)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, StartRunScreen))
        form = app.screen
        await wait_for(pilot, lambda: "Memory" in estimate_text(form))
        full = estimate_text(form)
        params = estimate.count_parameters(estimate.resolve_model_dir("embedded"))
        assert "LoRA" not in full and f"{params / 1e6:.1f}M parameters: weights+grads+AdamW" in full
        field = form.query_one("#field-model--lora")
        field.value = "{r = 8}"
        await wait_for(pilot, lambda: "LoRA r=8: " in estimate_text(form) and "counting" not in estimate_text(form), 60)
        text = estimate_text(form)
        assert f"LoRA r=8: {expected[8].describe()}" in text
        assert f"{expected[8].trainable:,} trained" in text  # the memory detail trains the adapter only
        field.value = '{r = 4, target_modules = ["query", "value"]}'
        await wait_for(pilot, lambda: f"LoRA r=4: {expected[4].describe()}" in estimate_text(form), 30)
        assert expected[4].trainable < expected[8].trainable
        field.value = '{r = 4, target_modules = ["query", "nope"]}'
        await wait_for(pilot, lambda: "matches no module" in estimate_text(form), 30)
        text = estimate_text(form)
        assert "'nope' matches no module of this bert model" in text and "Linear modules in this model" in text
        assert "Traceback" not in text
        field.value = "{}"
        await wait_for(pilot, lambda: "LoRA" not in estimate_text(form), 30)
        assert estimate_text(form) == full


def test_the_form_with_lora_on(snap_compare, mrpc_dir, fixed_free_memory, monkeypatch):
    """The estimate panel: the memory needed with the adapter trained alone (its grads and AdamW state a
    few MiB), the frozen weights still counted, and the line `LoRA r=8: 74,498 of 22,788,484 parameters
    trainable (0.33%)`; the lora field shows the table as typed."""
    spec = mrpc_spec(mrpc_dir, r=8, lora_alpha=16)
    monkeypatch.chdir(mrpc_dir)  # the data file shown relative: the same picture in every checkout
    spec["data"]["train_file"] = "train.tsv"

    async def counted(pilot):
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, StartRunScreen))
        form = pilot.app.screen
        await wait_for(pilot, lambda: "parameters trainable" in estimate_text(form), 60)
        await wait_for(pilot, lambda: form._columns_checked == form._columns_key)
        for field in form.query(Input):  # no cursor: the picture must not depend on the blink phase
            field.cursor_blink = False
        form.set_focus(None)
        await pilot.pause()

    assert snap_compare(FormApp(spec), terminal_size=SIZE, run_before=counted)
