"""Labels for classification heads: parse what the user typed, or take them from a dataset."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.errors import WorkbenchError


@dataclass(frozen=True)
class Labels:
    names: tuple[str, ...]

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.names))

    @property
    def label2id(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.names)}

    def __len__(self) -> int:
        return len(self.names)


def parse_labels(text: str) -> Labels:
    """ "neg, pos" or "0=neg, 1=pos" or a bare count "3" (LABEL_0..LABEL_2)."""
    text = text.strip()
    if not text:
        raise WorkbenchError(
            "Labels are empty.", hint='Type names ("neg, pos"), pairs ("0=neg, 1=pos") or a count ("3").'
        )
    if text.isdigit():
        count = int(text)
        if not 1 <= count <= 10_000:
            raise WorkbenchError(f"A label count must be between 1 and 10000, not {count}.")
        return Labels(tuple(f"LABEL_{index}" for index in range(count)))
    parts = [part.strip() for part in text.replace("\n", ",").split(",")]
    if any(not part for part in parts):
        position = parts.index("") + 1
        raise WorkbenchError(f"Label {position} is empty (two commas in a row, or a trailing comma).")
    if all("=" in part for part in parts):
        by_id: dict[int, str] = {}
        for position, part in enumerate(parts, start=1):
            key, _, name = part.partition("=")
            if not key.strip().isdigit():
                raise WorkbenchError(f"Label {position} ({part!r}): the id before '=' must be a whole number.")
            if int(key) in by_id:
                raise WorkbenchError(f"Label id {int(key)} is given twice.")
            if not name.strip():
                raise WorkbenchError(f"Label {position} ({part!r}) has no name after '='.")
            by_id[int(key)] = name.strip()
        expected = list(range(len(by_id)))
        if sorted(by_id) != expected:
            raise WorkbenchError(f"Label ids must be 0..{len(by_id) - 1} with none missing; got {sorted(by_id)}.")
        names = tuple(by_id[index] for index in expected)
    elif any("=" in part for part in parts):
        raise WorkbenchError("Mix of 'id=name' and bare names: use one form for every label.")
    else:
        names = tuple(parts)
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise WorkbenchError(f"Label names must be unique; repeated: {', '.join(duplicates)}.")
    return Labels(names)


def labels_from_dataset(dataset_info: dict | None) -> Labels:
    """The open dataset's label names (the Datasets pane publishes them as `label_names`)."""
    names = (dataset_info or {}).get("label_names")
    if not names:
        raise WorkbenchError(
            "The open dataset has no label names.",
            hint="Open a dataset with a label column in the Datasets pane, or type the labels.",
        )
    return Labels(tuple(str(name) for name in names))


def format_labels(id2label: dict[int, str]) -> str:
    return ", ".join(f"{index}={name}" for index, name in sorted(id2label.items()))
