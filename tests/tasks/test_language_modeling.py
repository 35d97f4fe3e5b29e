"""masked-lm and causal-lm: raw text, blocks (the course's group_texts), masking, perplexity, bad input."""

from __future__ import annotations

import json
import math

import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.tasks import get_task
from workbench.core.tasks import language_modeling as lm

WORDS = (
    "the lobster is a species of crustacean found in the eastern atlantic ocean and the mediterranean sea"
    " unbelievably antidisestablishmentarianism photosynthesis characteristically"
).split()


def documents(count: int, seed: int = 0) -> list[str]:
    import random

    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40))) for _ in range(count)]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from workbench.core.embedded import embedded_model_path

    return AutoTokenizer.from_pretrained(str(embedded_model_path()))


def lm_spec(head: str, train, validation=None, **data) -> dict:
    from workbench.training.spec import default_spec

    spec = default_spec(data=str(train), head=head)  # the embedded encoder: 512 positions
    spec["data"]["validation_file"] = str(validation or "")
    spec["data"].update(data)
    return spec


def write_lines(path, lines) -> str:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def prepared_for(head, tmp_path, tokenizer, train_count=300, validation_count=120, **data):
    train = write_lines(tmp_path / "train.txt", documents(train_count, 0))
    validation = write_lines(tmp_path / "valid.txt", documents(validation_count, 1))
    task = get_task(head)
    spec = lm_spec(head, train, validation, **data)
    return task, spec, task.prepare(task.load_raw(spec["data"]), spec, tokenizer)


# -- the course's chapter 7 code, as printed there -----------------------------------------


def course_group_texts(examples, chunk_size):
    concatenated_examples = {k: sum(examples[k], []) for k in examples.keys()}
    total_length = len(concatenated_examples[list(examples.keys())[0]])
    total_length = (total_length // chunk_size) * chunk_size
    result = {
        k: [t[i : i + chunk_size] for i in range(0, total_length, chunk_size)] for k, t in concatenated_examples.items()
    }
    result["labels"] = result["input_ids"].copy()
    return result


def test_task_for_gives_each_task_its_head_and_metric():
    masked, causal = get_task("masked-lm"), get_task("causal-lm")
    assert (masked.name, masked.auto_class, masked.pipeline_tag) == ("masked-lm", "AutoModelForMaskedLM", "fill-mask")
    assert (causal.name, causal.auto_class, causal.pipeline_tag) == (
        "causal-lm",
        "AutoModelForCausalLM",
        "text-generation",
    )
    for task in (masked, causal):
        assert task.metric_names == ("perplexity",) and task.default_metrics == ("perplexity",)
        assert task.best_metric(None) == "perplexity"


def test_group_texts_matches_the_course():
    examples = {
        "input_ids": [[1, 2, 3], [4, 5, 6, 7, 8], [9], [10, 11, 12, 13]],
        "attention_mask": [[1] * 3, [1] * 5, [1], [1] * 4],
    }
    ours = lm.group_texts(examples, 4)
    course = course_group_texts(examples, 4)
    assert ours["input_ids"] == course["input_ids"] == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
    assert ours["attention_mask"] == course["attention_mask"]
    assert "labels" not in ours  # masked-lm's collator makes them; causal-lm adds them (add_labels)


@pytest.mark.parametrize("head", ["masked-lm", "causal-lm"])
def test_prepared_blocks_are_the_course_pipeline(head, tmp_path, tokenizer):
    task, spec, prepared = prepared_for(head, tmp_path, tokenizer, block_size=64)
    import datasets

    raw = datasets.Dataset.from_dict({"text": documents(300, 0)})
    tokenized = raw.map(lambda batch: tokenizer(batch["text"]), batched=True, remove_columns=["text"])
    if head == "causal-lm":
        tokenized = tokenized.remove_columns("token_type_ids")
    course = tokenized.map(lambda batch: course_group_texts(batch, 64), batched=True)
    assert prepared.train["input_ids"] == course["input_ids"]
    assert all(len(ids) == 64 for ids in prepared.train["input_ids"])
    if head == "causal-lm":
        assert prepared.train["labels"] == course["labels"]  # the model shifts them
    assert any("blocks of 64 tokens" in note for note in prepared.notes)


def test_block_size_zero_means_max_length(tmp_path, tokenizer):
    _, _, prepared = prepared_for("causal-lm", tmp_path, tokenizer, max_length=32)
    assert {len(ids) for ids in prepared.train["input_ids"]} == {32}


def test_block_size_above_the_positions_names_both_numbers(tmp_path, tokenizer):
    with pytest.raises(WorkbenchError) as error:
        prepared_for("masked-lm", tmp_path, tokenizer, block_size=1024)
    assert "1024" in error.value.message and "512" in error.value.message
    assert "data.block_size" in error.value.message


def test_too_little_text_for_one_block_is_explained(tmp_path, tokenizer):
    with pytest.raises(WorkbenchError, match="not one block of 256"):
        prepared_for("causal-lm", tmp_path, tokenizer, train_count=3, block_size=256)


def test_masking_rate_is_near_mlm_probability(tmp_path, tokenizer):
    task, spec, prepared = prepared_for("masked-lm", tmp_path, tokenizer, train_count=600, mlm_probability=0.2)
    collator = task.collator(tokenizer, None)
    rows = [prepared.train[index] for index in range(len(prepared.train))]
    batch = collator(rows)
    special = batch["input_ids"].new_tensor([row["special_tokens_mask"] for row in rows]).bool()
    masked = batch["labels"] != -100
    assert not (masked & special).any()  # [CLS] and [SEP] are never masked
    rate = masked.sum().item() / (~special).sum().item()
    assert abs(rate - 0.2) < 0.015, rate
    replaced = (batch["input_ids"] == tokenizer.mask_token_id) & masked
    assert abs(replaced.sum().item() / masked.sum().item() - 0.8) < 0.05  # 80 % [MASK], the rest random or kept


def test_the_evaluation_set_is_masked_once_and_the_same_in_two_preparations(tmp_path, tokenizer):
    for name in "abc":
        (tmp_path / name).mkdir()
    _, _, first = prepared_for("masked-lm", tmp_path / "a", tokenizer)
    _, _, second = prepared_for("masked-lm", tmp_path / "b", tokenizer)
    assert first.validation.column_names == ["input_ids", "token_type_ids", "attention_mask", "labels"]
    assert first.validation["input_ids"] == second.validation["input_ids"]
    assert first.validation["labels"] == second.validation["labels"]
    labels = [label for row in first.validation["labels"] for label in row]
    assert 0.08 < sum(label != -100 for label in labels) / len(labels) < 0.2
    task, spec, _ = prepared_for("masked-lm", tmp_path / "c", tokenizer)
    spec["training"]["seed"] = 7
    other = task.prepare(task.load_raw(spec["data"]), spec, tokenizer)
    assert other.validation["labels"] != first.validation["labels"]  # the seed chooses the masks
    # The collator passes the fixed rows through: evaluating twice scores the same tokens.
    collator = get_task("masked-lm").collator(tokenizer, 32)
    rows = [first.validation[index] for index in range(4)]
    batch = collator(rows)
    assert batch["labels"][:, :128].tolist() == [row["labels"] for row in rows]
    assert batch["input_ids"].shape[1] % 32 == 0


def test_whole_word_masking_masks_every_piece_of_a_word(tmp_path, tokenizer):
    task, spec, prepared = prepared_for("masked-lm", tmp_path, tokenizer, whole_word_mask=True, mlm_probability=0.3)
    assert "offset_mapping" in prepared.train.column_names
    collator = task.collator(tokenizer, None)
    rows = [prepared.train[index] for index in range(len(prepared.train))]
    original = [row["input_ids"] for row in rows]
    batch = collator(rows)
    labels = batch["labels"].tolist()
    pieces = 0
    for ids, row_labels in zip(original, labels):
        tokens = tokenizer.convert_ids_to_tokens(ids)
        for index in range(1, len(tokens)):
            if tokens[index].startswith("##"):  # a word piece: masked exactly when the piece before it is
                pieces += 1
                assert (row_labels[index] != -100) == (row_labels[index - 1] != -100), tokens[index - 1 : index + 1]
    assert pieces > 100
    masked = batch["labels"] != -100
    assert (batch["input_ids"][masked] == tokenizer.mask_token_id).all()  # whole words: always [MASK]
    # The fixed evaluation set is masked by whole words too.
    validation = prepared.validation
    assert "offset_mapping" not in validation.column_names
    for ids, row_labels in zip(validation["input_ids"], validation["labels"]):
        gold = [label if label != -100 else token for token, label in zip(ids, row_labels)]
        tokens = tokenizer.convert_ids_to_tokens(gold)
        for index in range(1, len(tokens)):
            if tokens[index].startswith("##"):
                assert (row_labels[index] != -100) == (row_labels[index - 1] != -100)


def test_perplexity_is_exp_of_the_evaluation_loss():
    assert lm.perplexity(2.0) == pytest.approx(math.exp(2.0))
    assert lm.perplexity(0.0) == 1.0
    assert lm.perplexity(1e4) == float("inf")  # overflow
    assert math.isnan(lm.perplexity(float("nan")))
    json.dumps({"perplexity": str(lm.perplexity(1e4))})


class Outputs:
    def __init__(self, logits, loss=None):
        self.logits, self.loss = logits, loss


@pytest.mark.parametrize("head", ["masked-lm", "causal-lm"])
def test_block_losses_match_the_models_own_loss(head, tokenizer):
    """Each block's loss, computed from the logits and labels, is the model's loss for that block
    alone (the causal shift included); perplexity = exp(eval_loss)."""
    import torch
    from transformers import BertConfig, BertForMaskedLM, GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    vocab = len(tokenizer)
    if head == "masked-lm":
        model = BertForMaskedLM(
            BertConfig(
                vocab_size=vocab, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64
            )
        )
    else:
        model = GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_embd=32, n_layer=1, n_head=2, n_positions=64))
    model.eval()
    ids = torch.randint(1000, 2000, (3, 16))
    labels = ids.clone()
    if head == "masked-lm":
        labels[torch.rand(ids.shape) > 0.3] = -100
        labels[:, 0] = ids[:, 0]  # at least one masked token a row
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
    evaluator = get_task(head).evaluator(None, {"training": {}}, tokenizer, None)
    with torch.no_grad():
        evaluator.add(batch, model(**batch), model)
        alone = [model(**{key: value[i : i + 1] for key, value in batch.items()}).loss.item() for i in range(3)]
    result = evaluator.finish(1.5)
    assert result.records["loss"] == pytest.approx(alone, rel=1e-4)
    assert result.metrics == {"perplexity": pytest.approx(math.exp(1.5))}
    assert result.records["perplexity"] == pytest.approx([math.exp(loss) for loss in alone], rel=1e-4)
    assert len(result.records["input"]) == 3 and all(len(text) <= lm.RECORD_CHARS for text in result.records["input"])
    if head == "masked-lm":
        assert [len(gold.split()) for gold in result.records["gold"]] == (labels != -100).sum(dim=1).tolist()
    else:  # greedy continuations of the first blocks' first halves
        assert [sample["input"] for sample in result.samples] == tokenizer.batch_decode(ids[:2, :8])


def test_causal_samples_are_greedy_continuations(tokenizer):
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=1, n_head=2, n_positions=64))
    model.eval()
    ids = torch.randint(1000, 2000, (3, 2 * lm.SAMPLE_TOKENS))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids}
    evaluator = get_task("causal-lm").evaluator(None, {"training": {}}, tokenizer, None)
    with torch.no_grad():
        evaluator.add(batch, model(**batch), model)
    samples = evaluator.finish(1.0).samples
    assert len(samples) == lm.SAMPLE_PROMPTS
    assert set(samples[0]) == {"input", "reference", "predicted"} and samples[0]["predicted"]
    assert samples[0]["input"] == tokenizer.decode(ids[0, : lm.SAMPLE_TOKENS], skip_special_tokens=True)


def test_line_and_paragraph_modes(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(
        " \n = Heading = \n \n First paragraph , line one .\n line two .\n\n\nSecond paragraph .\n", encoding="utf-8"
    )
    assert lm.read_documents(path, "line") == [
        " = Heading = ",
        " First paragraph , line one .",
        " line two .",
        "Second paragraph .",
    ]
    assert lm.read_documents(path, "paragraph") == [
        " = Heading = ",
        " First paragraph , line one .\n line two .",
        "Second paragraph .",
    ]
    raw = get_task("causal-lm").load_raw(
        {"train_file": str(path), "text_file_mode": "paragraph", "text_column": "text"}
    )
    assert raw["train"]["text"][1].endswith("line two .")
    raw_file = tmp_path / "wiki.train.raw"
    raw_file.write_text("one line\n\nanother line\n", encoding="utf-8")
    assert get_task("masked-lm").load_raw({"train_file": str(raw_file), "text_file_mode": "line"})["train"]["text"] == [
        "one line",
        "another line",
    ]


def test_bad_text_files_are_named(tmp_path):
    task = get_task("causal-lm")
    blank = tmp_path / "blank.txt"
    blank.write_text("   \n\n  \n", encoding="utf-8")
    with pytest.raises(WorkbenchError, match="data.train_file"):
        task.load_raw({"train_file": str(blank)})
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"fine\n" * 20000 + b"caf\xe9\n")
    with pytest.raises(WorkbenchError, match=r"latin.txt line 20001: not valid UTF-8"):
        task.load_raw({"train_file": str(latin)})
    good = tmp_path / "good.txt"
    good.write_text("text\n", encoding="utf-8")
    with pytest.raises(WorkbenchError, match="text_file_mode"):
        task.load_raw({"train_file": str(good), "text_file_mode": "sentence"})


def test_jsonl_text_column_and_its_guess(tmp_path, tokenizer):
    rows = [{"id": i, "title": "short", "body": text} for i, text in enumerate(documents(80))]
    rows[3]["body"] = ""  # empty documents are dropped
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    task = get_task("masked-lm")
    raw = task.load_raw({"train_file": str(path)})
    assert task.guess_data(raw) == {"text_column": "body"}
    spec = lm_spec("masked-lm", path, text_column="body", block_size=32)
    prepared = task.prepare(raw, spec, tokenizer)
    assert prepared.validation is None and len(prepared.train) > 10
    spec["data"]["text_column"] = "text"
    with pytest.raises(WorkbenchError, match="no column 'text'"):
        task.prepare(raw, spec, tokenizer)


def test_heads_that_do_not_fit_are_refused_with_the_ones_that_do():
    from transformers import BertConfig, DistilBertConfig, GPT2Config

    with pytest.raises(WorkbenchError) as error:
        lm.check_head("causal-lm", "AutoModelForCausalLM", DistilBertConfig(), "distil")
    assert "encoder-only" in error.value.message and "masked-lm" in error.value.hint
    assert "causal-lm" not in error.value.hint
    with pytest.raises(WorkbenchError) as error:
        lm.check_head("masked-lm", "AutoModelForMaskedLM", GPT2Config(), "gpt")
    assert "causal-lm" in error.value.hint
    # An encoder that transformers runs as a decoder sees only earlier tokens.
    assert lm.check_head("causal-lm", "AutoModelForCausalLM", BertConfig(), "bert") == {"is_decoder": True}
    assert lm.check_head("causal-lm", "AutoModelForCausalLM", GPT2Config(), "gpt") == {}


def test_masked_lm_needs_a_mask_token(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.WordLevel({"a": 0, "b": 1, "<unk>": 2}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    no_mask = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<unk>")
    with pytest.raises(WorkbenchError, match="no mask token"):
        prepared_for("masked-lm", tmp_path, no_mask)
