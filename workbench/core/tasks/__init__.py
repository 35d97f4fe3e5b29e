"""Tasks: one module per task the engine trains, used by the engine, the CLI, the panes and the card.

A task knows its columns, its preprocessing, its collator, its head, its metrics, its
post-processing and its card metadata (`base.Task`). Importing this package is cheap: a task's
module, and through it transformers or datasets, is imported only when `get_task` is called.
"""

from __future__ import annotations

import importlib

from workbench.core.errors import WorkbenchError

# spec `model.head` value -> the module that implements it
TASK_MODULES = {
    "sequence-classification": "workbench.core.tasks.sequence_classification",
    "token-classification": "workbench.core.tasks.token_classification",
    "question-answering": "workbench.core.tasks.question_answering",
    "masked-lm": "workbench.core.tasks.language_modeling",
    "causal-lm": "workbench.core.tasks.language_modeling",
    "seq2seq": "workbench.core.tasks.seq2seq",
}
TASK_NAMES = tuple(TASK_MODULES)


def get_task(name: str):
    """The `Task` object for a spec's `model.head`."""
    module_name = TASK_MODULES.get(name)
    if module_name is None:
        raise WorkbenchError(f"Unknown task {name!r}.", hint=f"Tasks: {', '.join(TASK_NAMES)}.")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            raise WorkbenchError(f"The task {name!r} is not built yet.") from None
        raise
    return module.task_for(name) if hasattr(module, "task_for") else module.TASK
