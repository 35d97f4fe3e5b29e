"""`workbench tokenize`: ids equal AutoTokenizer's; errors are messages, not tracebacks."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main


@pytest.mark.parametrize("kind", ["wordpiece", "bytelevel-bpe", "unigram"])
def test_json_ids_equal_autotokenizer(kind, tokenizer_dirs, hf_tokenizers, capsys):
    text, pair = "the tokenizer splits Hello café ☃ words into pieces", "a pair"
    code = main(["tokenize", "--model", str(tokenizer_dirs[kind]), "--pair", pair, "--json", text])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    expected = hf_tokenizers[kind](text, pair, return_offsets_mapping=True)
    assert printed["input_ids"] == expected["input_ids"]
    window = printed["windows"][0]
    assert window["attention_mask"] == expected["attention_mask"]
    assert [tuple(o) for o in window["offset_mapping"]] == [tuple(o) for o in expected["offset_mapping"]]
    assert window["word_ids"] == expected.word_ids()


def test_truncation_windows_and_padding(tokenizer_dirs, hf_tokenizers, capsys):
    text = "the tokenizer splits words into pieces and the model sees ids offsets attention"
    argv = [
        "tokenize",
        "--model",
        str(tokenizer_dirs["wordpiece"]),
        "--truncation",
        "--max-length",
        "8",
        "--stride",
        "2",
    ]
    assert main([*argv, "--padding", "max_length", "--json", text]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = hf_tokenizers["wordpiece"](
        text, truncation=True, max_length=8, stride=2, return_overflowing_tokens=True, padding="max_length"
    )
    assert [window["input_ids"] for window in printed["windows"]] == expected["input_ids"]
    assert [window["attention_mask"] for window in printed["windows"]] == expected["attention_mask"]
    assert main([*argv, text]) == 0
    table = capsys.readouterr().out
    assert "window 1 of" in table and "[CLS]" in table and "offsets" in table


def test_errors_are_one_line_messages(tmp_path, capsys):
    assert main(["tokenize", "--model", str(tmp_path / "missing"), "hi"]) == 2
    err = capsys.readouterr().err
    assert "No tokenizer at" in err and "Traceback" not in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["tokenize", "--model", str(empty), "hi"]) == 2
    assert "No tokenizer files" in capsys.readouterr().err
    assert main(["tokenize", "--stride", "2", "hi"]) == 2
    assert "stride" in capsys.readouterr().err


def test_code_flag_prints_the_call(capsys):
    assert main(["tokenize", "--code", "--truncation", "only_first", "--max-length", "16", "hi"]) == 0
    out = capsys.readouterr().out
    assert "AutoTokenizer.from_pretrained(embedded_model_path())" in out and "truncation='only_first'" in out
