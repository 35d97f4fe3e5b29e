"""Which heads an architecture has, read from transformers' own auto mappings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HeadKind:
    key: str  # what the CLI takes: --head sequence-classification
    title: str
    mapping: str  # the MODEL_*_MAPPING_NAMES table in transformers.models.auto.modeling_auto
    auto_class: str  # the transformers Auto class that loads it

    @property
    def generates(self) -> bool:
        return self.key in ("causal-lm", "seq2seq-lm")

    @property
    def takes_labels(self) -> bool:
        return self.key in ("sequence-classification", "token-classification")


HEAD_KINDS: tuple[HeadKind, ...] = (
    HeadKind("base", "Base model (hidden states)", "MODEL_MAPPING_NAMES", "AutoModel"),
    HeadKind(
        "sequence-classification",
        "Sequence classification",
        "MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES",
        "AutoModelForSequenceClassification",
    ),
    HeadKind(
        "token-classification",
        "Token classification",
        "MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES",
        "AutoModelForTokenClassification",
    ),
    HeadKind(
        "question-answering",
        "Question answering",
        "MODEL_FOR_QUESTION_ANSWERING_MAPPING_NAMES",
        "AutoModelForQuestionAnswering",
    ),
    HeadKind(
        "multiple-choice", "Multiple choice", "MODEL_FOR_MULTIPLE_CHOICE_MAPPING_NAMES", "AutoModelForMultipleChoice"
    ),
    HeadKind("masked-lm", "Masked LM (fill-mask)", "MODEL_FOR_MASKED_LM_MAPPING_NAMES", "AutoModelForMaskedLM"),
    HeadKind("causal-lm", "Causal LM (generation)", "MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "AutoModelForCausalLM"),
    HeadKind(
        "seq2seq-lm", "Seq2seq LM (generation)", "MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES", "AutoModelForSeq2SeqLM"
    ),
)
HEADS_BY_KEY = {head.key: head for head in HEAD_KINDS}
# The Hub's pipeline names (and the training task names) for the generating heads.
HEAD_ALIASES = {"text2text-generation": "seq2seq-lm", "seq2seq": "seq2seq-lm", "text-generation": "causal-lm"}


def head_kind(key: str) -> HeadKind:
    from workbench.core.errors import WorkbenchError

    try:
        return HEADS_BY_KEY[HEAD_ALIASES.get(key, key)]
    except KeyError:
        raise WorkbenchError(f"Unknown head {key!r}.", hint=f"Heads: {', '.join(HEADS_BY_KEY)}.") from None


def class_name_for(head: HeadKind, model_type: str) -> str | None:
    """The transformers class that implements this head for this model type, or None."""
    from workbench.core.lazy_imports import transformers_module

    modeling_auto = transformers_module().models.auto.modeling_auto
    names = getattr(modeling_auto, head.mapping).get(model_type)
    if isinstance(names, (tuple, list)):
        names = names[0]
    return names


def heads_for(model_type: str) -> list[tuple[HeadKind, str]]:
    """(head, class name) for every head transformers implements for this model type."""
    found = []
    for head in HEAD_KINDS:
        class_name = class_name_for(head, model_type)
        if class_name:
            found.append((head, class_name))
    return found


def model_class(head: HeadKind, model_type: str):
    from workbench.core.lazy_imports import transformers_module

    transformers = transformers_module()
    class_name = class_name_for(head, model_type)
    if class_name is None:
        from workbench.core.errors import WorkbenchError

        raise WorkbenchError(f"transformers has no {head.title.lower()} head for {model_type!r} models.")
    return getattr(transformers, class_name)
