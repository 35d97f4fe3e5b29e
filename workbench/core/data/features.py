"""The vocabulary of columns: readable feature types, and the names that say what a column is.

A leaf module (it imports nothing from `workbench.core.data`), so that rows, labels and
describe can all use it without importing each other: this ends the old
rows -> describe -> labels -> rows cycle that function-level imports hid.
"""

from __future__ import annotations

# Column names that say "this is the label" (compared lower-cased and stripped), in order of preference.
LABEL_NAMES = ("label", "labels", "quality", "target", "class", "category", "score", "y", "sentiment")

# Pairs of column names that say "first text, second text" (compared lower-cased and stripped).
# The first of a pair is the text, the second the pair, whatever their lengths (STS-B's sentence1
# is the text even where it is shorter; RTE's hypotheses are much shorter than their premises).
PAIR_NAMES = (
    ("sentence1", "sentence2"),
    ("#1 string", "#2 string"),
    ("premise", "hypothesis"),
    ("question", "passage"),
    ("question", "context"),
    ("question", "sentence"),
    ("question1", "question2"),
    ("text_a", "text_b"),
    ("text1", "text2"),
    ("sentence_a", "sentence_b"),
    ("query", "document"),
    ("query", "passage"),
    ("anchor", "positive"),
)

# Column names that say "this is the text" of a single-text dataset, in order of preference.
TEXT_NAMES = ("text", "sentence", "content", "review", "document", "tweet", "comment", "body", "question")

# More distinct class labels than this and a column is not a label column.
MAX_CLASSES = 1000
# Integer labels with more different values than this are a score (regression), not classes.
MAX_INT_CLASSES = 100


def describe_feature(feature) -> str:
    """Value('large_string') -> "string"; List(Value('int32')) -> "list<int32>"; ClassLabel -> names."""
    kind = type(feature).__name__
    if isinstance(feature, dict):
        inner = ", ".join(f"{name}: {describe_feature(value)}" for name, value in feature.items())
        return "{" + inner + "}"
    if isinstance(feature, list):
        return f"list<{describe_feature(feature[0])}>"
    if kind == "Value":
        dtype = feature.dtype
        return "string" if dtype in {"string", "large_string"} else dtype
    if kind == "ClassLabel":
        return describe_class_label(feature.names)
    if kind in {"List", "LargeList", "Sequence"}:
        length = getattr(feature, "length", -1)
        size = f", {length}" if length not in (-1, None) else ""
        return f"list<{describe_feature(feature.feature)}{size}>"
    if kind.startswith("Array"):
        return f"array{feature.shape}<{feature.dtype}>"
    return kind.lower()


def describe_class_label(names: list[str]) -> str:
    shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
    return f"class label ({len(names)}: {shown})"


def describe_arrow_type(kind) -> str:
    """The same words as `describe_feature`, from an Arrow type (Parquet read in place)."""
    import pyarrow as pa

    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return "string"
    if pa.types.is_fixed_size_list(kind):
        return f"list<{describe_arrow_type(kind.value_type)}, {kind.list_size}>"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_list_view(kind):
        return f"list<{describe_arrow_type(kind.value_type)}>"
    if pa.types.is_struct(kind):
        return "{" + ", ".join(f"{field.name}: {describe_arrow_type(field.type)}" for field in kind) + "}"
    if pa.types.is_dictionary(kind):
        return describe_arrow_type(kind.value_type)
    names = {pa.float16(): "float16", pa.float32(): "float32", pa.float64(): "float64"}
    return names.get(kind, str(kind))
