"""The one tokenizer loader (core/tokenizer/loader.py): names, cache, threads, errors."""

from __future__ import annotations

import shutil
import threading

import pytest

from workbench.core.embedded import EMBEDDED_MODEL_NAME, embedded_model_path
from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.loader import display_name, load_hf_tokenizer, load_tokenizer, tokenizer_path


def test_empty_none_and_embedded_name_the_embedded_encoder():
    assert tokenizer_path("") == tokenizer_path(None) == tokenizer_path("embedded") == str(embedded_model_path())
    assert display_name("embedded") == display_name("") == EMBEDDED_MODEL_NAME
    by_keyword, by_empty = load_tokenizer("embedded"), load_tokenizer("")
    assert by_keyword.tokenizer is by_empty.tokenizer  # one cache entry per folder
    assert by_keyword.source == "embedded" and by_empty.source == ""
    assert by_keyword.lock is by_empty.lock


def test_threads_asking_for_one_folder_get_one_tokenizer(tokenizer_dirs):
    folder = str(tokenizer_dirs["unigram"])
    results, errors = [], []

    def load():
        try:
            results.append(load_tokenizer(folder).tokenizer)
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({id(tokenizer) for tokenizer in results}) == 1


def test_a_folder_saved_again_is_read_again(tokenizer_dirs, tmp_path):
    folder = tmp_path / "tok"
    shutil.copytree(tokenizer_dirs["wordpiece"], folder)
    first = load_tokenizer(folder)
    assert load_tokenizer(folder).tokenizer is first.tokenizer
    shutil.rmtree(folder)
    shutil.copytree(tokenizer_dirs["bytelevel-bpe"], folder)
    again = load_tokenizer(folder)
    assert again.tokenizer is not first.tokenizer and again.model_type == "byte-level BPE"


def test_the_transformers_tokenizer_is_a_private_copy():
    shared = load_tokenizer("embedded").tokenizer
    private = load_hf_tokenizer("embedded")
    assert private is not shared
    assert private("a short text")["input_ids"] == shared("a short text")["input_ids"]


def test_a_missing_folder_is_one_clear_line(tmp_path):
    with pytest.raises(WorkbenchError) as caught:
        load_tokenizer(tmp_path / "nowhere")
    assert "No tokenizer at" in str(caught.value) and "does not exist" in str(caught.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(WorkbenchError, match="No tokenizer files"):
        load_hf_tokenizer(tmp_path / "empty")
