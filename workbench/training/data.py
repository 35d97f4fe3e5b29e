"""Data for a run, through the run's task (`core.tasks`): raw splits, labels, model-ready splits.

Local files go through the Datasets pane's reader (`core.data.loading`): TSV the way GLUE writes
it, tab-separated with no quoting (MRPC has unbalanced `"` inside fields), a UTF-8 byte-order mark
never part of a column name, and every file checked before `datasets` reads it.
"""

from __future__ import annotations

from workbench.core.tasks import get_task
from workbench.core.tasks.base import HeadLabels as LabelInfo  # noqa: F401 (the name the engine used)
from workbench.core.tasks.base import Prepared, load_spec_files
from workbench.core.tasks.sequence_classification import label_info  # noqa: F401 (re-exported)
from workbench.core.tasks.tokenizing import tokenizer_parallelism  # noqa: F401 (re-exported)


def load_raw(data: dict):
    """The spec's files (or Hub dataset) as a DatasetDict with `train` and maybe `validation`."""
    return load_spec_files(data)


def prepare(spec: dict, tokenizer) -> Prepared:
    """Load, label and tokenize through the spec's task (`model.head`)."""
    task = get_task(spec["model"].get("head") or "sequence-classification")
    raw = task.load_raw(spec["data"])
    return task.prepare(raw, spec, tokenizer)
