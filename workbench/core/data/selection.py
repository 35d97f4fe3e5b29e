"""The dataset the user has chosen, and how: one typed record that the Datasets pane publishes
(`ActiveDatasetChanged`) and the new-run form, the tokenizer and the CLI read.

It replaces the plain `active_dataset` dict. Its field names are the old dict keys (and the
spec's `data.*` keys where they overlap), and `get()` / `[]` read it like that dict, so code
that still reads `active_dataset.get("text_column")` keeps working while it moves to attributes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class DatasetSelection:
    """A dataset, the columns that feed a model, and what its labels ask for."""

    path: str
    """What was opened: a file, a folder or a Hub id (as typed, `~` expanded by the loader)."""
    name: str = ""
    """A short name for screens (the file name, or the Hub id)."""
    split: str | None = None
    """The split being browsed (statistics and "send to tokenizer" read it)."""
    splits: tuple[str, ...] = ()
    """Every split, in order (train first)."""
    num_rows: dict[str, int] = field(default_factory=dict)
    split_files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The files behind each split (empty for the datasets cache or the Hub)."""
    header: bool = True
    """False for CSV/TSV files without a header row: the columns are then `column_1` … `column_N`."""
    text_column: str | None = None
    text_pair_column: str | None = None
    """The second text of a pair task (NLI, paraphrase, similarity); None for single texts."""
    label_column: str | None = None
    label_names: tuple[str, ...] = ()
    """Class names, by id; () for regression or without labels."""
    task: str | None = None
    """"classification" or "regression" (see `core.data.labels.infer_labels`); None without labels."""
    format: str = ""
    """The file format as read ("csv", "jsonl", …, "conll" or "squad" for task-shaped files)."""
    guessed: tuple[str, ...] = ()
    """Which of "text", "pair", "label" were guessed (not chosen by the user)."""
    # After a preparation in the Prepare view:
    prepared: bool = False
    num_labels: int | None = None
    max_length: int | None = None
    validation_split: dict | None = None
    """{"from": "train", "fraction": 0.1, "seed": 42} when the preparation made one."""

    @classmethod
    def from_info(cls, info: dict[str, Any], split_files: dict[str, list] | None = None) -> DatasetSelection:
        """From `describe.dataset_info` (the guessed columns) and the files behind each split."""
        splits = info.get("splits", {})
        guess = (("text", "text_column"), ("pair", "text_pair_column"), ("label", "label_column"))
        return cls(
            path=str(info.get("path", "")),
            name=str(info.get("name", "")),
            split=next(iter(splits), None),
            splits=tuple(splits),
            num_rows={name: split["rows"] for name, split in splits.items()},
            split_files={name: tuple(str(path) for path in paths) for name, paths in (split_files or {}).items()},
            header=bool(info.get("header", True)),
            text_column=info.get("text_column"),
            text_pair_column=info.get("text_pair_column"),
            label_column=info.get("label_column"),
            label_names=tuple(info.get("label_names") or ()),
            task=info.get("task"),
            format=str(info.get("format") or ""),
            guessed=tuple(role for role, key in guess if info.get(key)),
        )

    @property
    def train_file(self) -> str | None:
        return (self.split_files.get("train") or (None,))[0]

    @property
    def validation_file(self) -> str | None:
        return (self.split_files.get("validation") or (None,))[0]

    def with_columns(self, text: str | None, pair: str | None, label: str | None) -> DatasetSelection:
        """The same dataset with other columns (chosen by the user: no longer "guessed")."""
        changed = {"text": text != self.text_column, "pair": pair != self.text_pair_column}
        changed["label"] = label != self.label_column
        guessed = tuple(role for role in self.guessed if not changed[role])
        return replace(
            self,
            text_column=text,
            text_pair_column=pair,
            label_column=label,
            guessed=guessed,
            # What a preparation set no longer holds for other columns.
            prepared=False,
            num_labels=None,
            max_length=None,
            validation_split=None,
        )

    # -- the old dict interface ------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict with the old keys (plus `train_file` / `validation_file`)."""
        data = asdict(self)
        data["splits"] = list(self.splits)
        data["label_names"] = list(self.label_names)
        data["guessed"] = list(self.guessed)
        data["split_files"] = {name: list(paths) for name, paths in self.split_files.items()}
        data["train_file"] = self.train_file
        data["validation_file"] = self.validation_file
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetSelection:
        """From an old `active_dataset` dict (unknown keys are ignored)."""
        names = {item.name for item in fields(cls)}
        values = {key: value for key, value in data.items() if key in names}
        for key in ("splits", "label_names", "guessed"):
            if key in values:
                values[key] = tuple(values[key] or ())
        if "split_files" in values:
            values["split_files"] = {name: tuple(paths) for name, paths in (values["split_files"] or {}).items()}
        return cls(**{"path": "", **values})

    def get(self, key: str, default: Any = None) -> Any:
        """`selection.get("text_column")`, as on the old dict."""
        if key in ("train_file", "validation_file"):
            return getattr(self, key)
        if key in {item.name for item in fields(self)}:
            value = getattr(self, key)
            return default if value is None else _as_plain(value)
        return default

    def __getitem__(self, key: str) -> Any:
        if key not in {item.name for item in fields(self)} | {"train_file", "validation_file"}:
            raise KeyError(key)
        return self.get(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None


def _as_plain(value: Any) -> Any:
    """Tuples read back as the lists the dict held."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, dict):
        return {key: list(item) if isinstance(item, tuple) else item for key, item in value.items()}
    return value
