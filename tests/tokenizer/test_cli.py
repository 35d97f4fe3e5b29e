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


def test_padding_to_a_huge_max_length_is_refused_not_allocated(capsys):
    # The Rust backend aborted the process on allocating 1e11 ids; truncating to it stays harmless.
    assert main(["tokenize", "--padding", "max_length", "--max-length", "99999999999", "hi"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: max_length: 99,999,999,999 is too long to pad to; at most 1,000,000 tokens")
    assert main(["tokenize", "--truncation", "--max-length", "99999999999", "--json", "hi"]) == 0
    assert len(json.loads(capsys.readouterr().out)["input_ids"]) == 3


def test_code_flag_prints_the_call(capsys):
    assert main(["tokenize", "--code", "--truncation", "only_first", "--max-length", "16", "hi"]) == 0
    out = capsys.readouterr().out
    assert "AutoTokenizer.from_pretrained(embedded_model_path())" in out and "truncation='only_first'" in out


# -- issue 22 item 13, issue 19 item 11 ----------------------------------------------------------
def test_embedded_names_the_embedded_model(capsys):
    assert main(["tokenize", "--model", "embedded", "--json", "hello world"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["input_ids"] == [101, 7592, 2088, 102] and "embedded" in printed["tokenizer"]


def test_stdin_that_is_not_utf8_is_named_as_such(monkeypatch, capsys):
    import io
    import sys

    class Stdin(io.TextIOWrapper):
        pass

    monkeypatch.setattr(
        sys, "stdin", Stdin(io.BytesIO(b"\xff\xfe caf\xe9"), encoding="utf-8", errors="surrogateescape")
    )
    assert main(["tokenize", "-"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "workbench: stdin is not UTF-8 text (byte 0xff at offset 0); convert it first, e.g. iconv -f latin1 -t utf-8"
    ]


def test_utf8_stdin_with_a_bom_is_read(monkeypatch, capsys):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("\ufeffcafé".encode()), encoding="utf-8"))
    assert main(["tokenize", "--json", "-"]) == 0
    assert json.loads(capsys.readouterr().out)["characters"] == 4
