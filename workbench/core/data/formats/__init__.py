"""Task-shaped file formats that `datasets`' builders do not read as people mean them.

Each format is a module here with `NAME` (the format name the Datasets pane shows), `sniff(path)
-> bool` (cheap: a look at the first lines or keys) and `read_files(paths) -> datasets.Dataset`
(one row per example: a sentence with its tokens and tags, a question with its context and answers).
`open_files` asks `sniff_format` before its CSV/JSON/text builders, so the Datasets pane, the
training child and `workbench eval` read a file the same way.
"""

from __future__ import annotations

import importlib
from pathlib import Path

# Tried in this order; a module not built yet is skipped.
FORMAT_MODULES = (
    "workbench.core.data.formats.squad",  # SQuAD JSON: {"data": [{"paragraphs": [{"qas": ...}]}]}
    "workbench.core.data.formats.conll",  # CoNLL column files: a token per line, blank lines between sentences
    "workbench.core.data.formats.parallel",  # train.en beside train.de: a row per line, a column per language
)


def _modules():
    for name in FORMAT_MODULES:
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise


def sniff_format(path: Path):
    """The format module that reads `path`, or None for the ordinary builders."""
    for module in _modules():
        try:
            if module.sniff(Path(path)):
                return module
        except OSError:
            return None
    return None
