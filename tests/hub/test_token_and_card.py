"""Token sources, whoami roles, login storage; model card facts and validation; what a source is."""

from __future__ import annotations

import os

import pytest

from tests.hub.conftest import RUN_ID, write_run_folder
from tests.hub.fake_hub import READ_TOKEN, WRITE_TOKEN
from workbench.core.errors import WorkbenchError
from workbench.core.hub.card import build_card, card_facts, check_card, default_card
from workbench.core.hub.client import HubClient
from workbench.core.hub.errors import HubError
from workbench.core.hub.source import resolve_source
from workbench.core.hub.token import Account, TokenChoice, find_token


def test_token_order_typed_env_stored(hub, monkeypatch):
    from huggingface_hub import constants

    assert find_token().source == "none"
    with open(constants.HF_TOKEN_PATH, "w") as handle:
        handle.write(READ_TOKEN)
    assert find_token() == TokenChoice("stored") and find_token().value == READ_TOKEN
    monkeypatch.setenv("HF_TOKEN", WRITE_TOKEN)
    assert find_token().source == "env" and find_token().label == "HF_TOKEN environment variable"
    typed = find_token("  hf_typed  ")
    assert typed.source == "typed" and typed.value == "hf_typed"


def test_token_never_in_repr_or_str():
    choice = TokenChoice("typed", WRITE_TOKEN)
    assert WRITE_TOKEN not in repr(choice) and WRITE_TOKEN not in str(choice)
    assert WRITE_TOKEN not in repr(HubClient("http://127.0.0.1:1", WRITE_TOKEN))


def test_whoami_roles(hub):
    write = HubClient(hub.url, WRITE_TOKEN).whoami()
    assert (write.name, write.role, write.token_name) == ("alice", "write", "workbench-write")
    assert write.namespaces == ["alice", "wb-org"]
    assert write.write_problem("alice", False) is None and write.write_problem("wb-org", False) is None
    assert write.write_problem("big-lab", False) == "forbidden" and write.write_problem("big-lab", True) is None
    read = HubClient(hub.url, READ_TOKEN).whoami()
    assert read.write_problem("alice", False) == "read_only"
    assert read.describe() == "alice · read-only token “workbench-read”"


def test_fine_grained_scopes():
    account = Account(
        name="bob",
        role="fineGrained",
        fine_grained={
            "scoped": [{"entity": {"type": "user", "name": "bob"}, "permissions": ["repo.content.read", "repo.write"]}]
        },
    )
    assert account.write_problem("bob", False) is None
    assert account.write_problem("other", False) == "forbidden"
    reader = Account(
        name="bob",
        role="fineGrained",
        fine_grained={"scoped": [{"entity": {"name": "bob"}, "permissions": ["repo.content.read"]}]},
    )
    assert reader.write_problem("bob", False) == "read_only"


def test_login_stores_token_with_huggingface_hub(hub):
    from huggingface_hub import constants, get_token

    account = HubClient(hub.url, WRITE_TOKEN).login()
    assert account.name == "alice"
    assert open(constants.HF_TOKEN_PATH).read().strip() == WRITE_TOKEN
    assert get_token() == WRITE_TOKEN
    assert find_token().source == "stored"


def test_login_with_bad_token_stores_nothing(hub):
    from huggingface_hub import constants

    with pytest.raises(HubError) as caught:
        HubClient(hub.url, "hf_wrong").login()
    assert caught.value.kind == "invalid_token"
    assert not os.path.exists(constants.HF_TOKEN_PATH)


def test_card_facts_from_run(run_dir):
    facts = card_facts(resolve_source(run_dir), "alice/bert-mrpc")
    assert facts.base_model == "google-bert/bert-base-uncased"
    assert facts.datasets == ["nyu-mll/glue"] and facts.dataset_config == "mrpc"
    assert facts.pipeline_tag == "text-classification"
    assert facts.final_metrics == {"loss": 0.4122, "accuracy": 0.8333, "f1": 0.8815}
    assert [row["step"] for row in facts.evaluations] == [230, 460]
    assert facts.evaluations[0]["training_loss"] == 0.5512
    assert facts.versions["transformers"] == "5.24.0"


def test_generated_card_metadata_round_trips(run_dir):
    from huggingface_hub import ModelCard

    text = build_card(card_facts(resolve_source(run_dir), "alice/bert-mrpc"), "alice/bert-mrpc")
    card = ModelCard(text)
    data = card.data
    assert data.base_model == "google-bert/bert-base-uncased" and data.library_name == "transformers"
    assert data.metrics == ["accuracy", "f1"] and "workbench" in data.tags
    results = {r.metric_type: r.metric_value for r in data.eval_results}
    assert results == {"accuracy": 0.8333, "f1": 0.8815}
    assert data.eval_results[0].dataset_config == "mrpc" and data.eval_results[0].dataset_split == "validation"
    for heading in (
        "### Training hyperparameters",
        "### Training results",
        "### Framework versions",
        "## Intended uses",
    ):
        assert heading in card.text
    assert "| 0.3304 | 2.00 | 460 | 0.4122 | 0.8333 | 0.8815 |" in card.text
    assert 'pipeline("text-classification", model="alice/bert-mrpc")' in card.text
    assert check_card(text).ok


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("---\nlicense: [\n---\n# x\n", "not valid YAML"),
        ("---\n- a\n- b\n---\n# x\n", "not valid"),
        ("---\nlicense: my-license\n---\n# x\n", "license"),
        ("---\nlicense: mit\nbase_model: /home/me/model\n---\n# x\n", "base_model"),
        ("---\nlicense: mit\nmodel-index:\n- results: 3\n---\n# x\n", "not valid"),
    ],
)
def test_card_validation_errors(text, problem):
    check = check_card(text)
    assert not check.ok and problem in " ".join(check.errors)


def test_card_validation_warnings():
    check = check_card("# Just a title\n")
    assert check.ok and any("No YAML metadata" in w for w in check.warnings)


def test_plain_folder_keeps_its_readme(model_folder):
    (model_folder / "README.md").write_text("---\nlicense: mit\n---\n# Mine\n")
    assert default_card(resolve_source(model_folder)) == "---\nlicense: mit\n---\n# Mine\n"


def test_embedded_model_card_gets_base_model_and_license(tmp_path, model_folder):
    run_dir = write_run_folder(tmp_path / "runs2")
    spec = (run_dir / "spec.toml").read_text().replace("google-bert/bert-base-uncased", "")
    (run_dir / "spec.toml").write_text(spec)
    (run_dir / "summary.json").write_text("{}")
    facts = card_facts(resolve_source(run_dir))
    assert facts.base_model == "sentence-transformers/all-MiniLM-L6-v2" and facts.license == "apache-2.0"


def test_source_resolution(tmp_path, run_dir, model_folder):
    assert resolve_source(run_dir).folder == run_dir / "final"
    final = resolve_source(run_dir / "final")
    assert final.run_dir == run_dir and final.run_id == RUN_ID
    by_id = resolve_source(RUN_ID[:15], runs_dir=run_dir.parent)
    assert by_id.run_dir == run_dir
    assert resolve_source(model_folder).run_dir is None
    with pytest.raises(WorkbenchError, match="neither a folder nor a run id"):
        resolve_source("nope", runs_dir=run_dir.parent)
    (tmp_path / "empty").mkdir()
    with pytest.raises(WorkbenchError, match="does not look like a model folder"):
        resolve_source(tmp_path / "empty")


def test_run_without_final_uses_latest_checkpoint(tmp_path):
    import shutil

    run_dir = write_run_folder(tmp_path / "runs3")
    for step in (10, 200, 40):
        shutil.copytree(run_dir / "final", run_dir / "checkpoints" / f"checkpoint-{step}")
    shutil.rmtree(run_dir / "final")
    source = resolve_source(run_dir)
    assert source.folder.name == "checkpoint-200" and "checkpoint-200" in source.note
    shutil.rmtree(run_dir / "checkpoints")
    with pytest.raises(WorkbenchError, match="no model to push yet"):
        resolve_source(run_dir)
