"""What a demo serves: a model folder, its task, its label names and example inputs.

`resolve_target("embedded" | RUN | FOLDER | HUB_ID)` reads only small files (config.json, spec.toml, the first
rows of the validation file); the weights are loaded later, by `load_target`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from workbench.core.errors import WorkbenchError

# The tasks a demo knows, in the head keys of `workbench.core.models.heads`.
DEMO_TASKS = (
    "sequence-classification",
    "token-classification",
    "question-answering",
    "masked-lm",
    "causal-lm",
    "seq2seq-lm",
)
# config.architectures suffix -> head key (the first match wins; seq2seq is decided by is_encoder_decoder).
ARCHITECTURE_SUFFIXES = (
    ("ForSequenceClassification", "sequence-classification"),
    ("ForTokenClassification", "token-classification"),
    ("ForQuestionAnswering", "question-answering"),
    ("ForMaskedLM", "masked-lm"),
    ("ForCausalLM", "causal-lm"),
    ("LMHeadModel", "causal-lm"),
    ("ForConditionalGeneration", "seq2seq-lm"),
)
EXAMPLE_COUNT = 5
EXAMPLE_CHARS = 600  # an example longer than this is cut (a context keeps its answer only by luck)


@dataclass
class DemoTarget:
    model_path: Path
    name: str  # what the page shows: never an absolute path
    head: str  # one of DEMO_TASKS
    examples: list[list[str]] = field(default_factory=list)  # one row per example, in the task's input order
    pair: bool = False  # sequence classification of a text pair
    run_dir: Path | None = None
    notes: list[str] = field(default_factory=list)  # what the CLI prints before serving (e.g. a random head)

    @property
    def input_names(self) -> list[str]:
        if self.head == "question-answering":
            return ["question", "context"]
        if self.head == "sequence-classification" and self.pair:
            return ["text", "text_pair"]
        return ["text"]


def head_from_config(config: dict) -> str | None:
    """The demo task a checkpoint's config names (architectures), or None for a base model."""
    for architecture in config.get("architectures") or []:
        for suffix, head in ARCHITECTURE_SUFFIXES:
            if str(architecture).endswith(suffix):
                if head == "seq2seq-lm" and not config.get("is_encoder_decoder", False):
                    return "causal-lm"
                return head
    return None


def _read_config(folder: Path) -> dict:
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkbenchError(
            f"{folder} has no config.json, so it is not a model folder.", hint="Give a model folder or a run."
        ) from None
    except (OSError, ValueError) as error:
        raise WorkbenchError(f"{folder / 'config.json'} cannot be read: {error}") from None


def _choose_head(config: dict, asked: str | None, from_spec: str | None, notes: list[str]) -> str:
    if asked:
        head = asked
    else:
        head = from_spec or head_from_config(config)
    if head is None:
        notes.append(
            "This checkpoint has no task head (a base model): serving sequence classification with a new, random"
            " head, so its scores are noise until trained. Pick a task with --head."
        )
        head = "sequence-classification"
    if head not in DEMO_TASKS:
        raise WorkbenchError(
            f"The demo cannot serve a {head!r} head.", hint=f"Demo tasks: {', '.join(DEMO_TASKS)} (--head)."
        )
    return head


def resolve_target(text: str, *, head: str | None = None, runs_directory: Path | None = None) -> DemoTarget:
    """A DemoTarget for `embedded`, a run (folder, id, part of one, `latest`), a model folder or a Hub id."""
    from workbench.core.embedded import EMBEDDED_MODEL_NAME, embedded_model_path, is_embedded
    from workbench.core.runs.folder import FINAL_DIR, is_run_folder

    text = str(text).strip()
    notes: list[str] = []
    if is_embedded(text):
        folder = embedded_model_path()
        return DemoTarget(
            folder, EMBEDDED_MODEL_NAME, _choose_head(_read_config(folder), head, None, notes), notes=notes
        )
    candidate = Path(text).expanduser()
    run_dir = None
    if candidate.exists():
        if is_run_folder(candidate):
            run_dir = candidate.resolve()
    else:
        run_dir = _run_named(text, runs_directory)
    if run_dir is not None:
        return _run_target(run_dir, head, notes, FINAL_DIR)
    from workbench.core.models.catalog import resolve

    folder, name = resolve(text)
    return DemoTarget(folder, name, _choose_head(_read_config(folder), head, None, notes), notes=notes)


def _run_named(text: str, runs_directory: Path | None) -> Path | None:
    """The run `text` names (an id, `latest`, a unique part of an id), or None for a Hub id.

    A part of a run id that is also exactly the name of a model in the Hugging Face cache is the model
    (run ids contain model names: `bert-base-uncased` is a model before it is a part of a run id)."""
    from workbench.core.runs.folder import LATEST, resolve_run

    try:
        run_dir = resolve_run(text, runs_directory)
    except WorkbenchError:
        return None
    if text in (run_dir.name, LATEST):
        return run_dir
    from workbench.core.models.catalog import cached_models

    try:
        cached = {entry.name for entry in cached_models()}
    except WorkbenchError:
        cached = set()
    return None if text in cached else run_dir


def _run_target(run_dir: Path, head: str | None, notes: list[str], final_dir: str) -> DemoTarget:
    from workbench.core.runs.folder import SPEC_FILE

    final = run_dir / final_dir
    if not (final / "config.json").is_file():
        raise WorkbenchError(
            f"Run {run_dir.name} has no final model yet ({final_dir}/ is missing).",
            hint="Wait for it to finish, or give a checkpoint folder: RUN/checkpoints/checkpoint-N.",
        )
    spec = _read_spec(run_dir / SPEC_FILE)
    model = spec.get("model", {})
    data = spec.get("data", {})
    chosen = _choose_head(_read_config(final), head, model.get("head") or None, notes)
    pair = bool(data.get("text_pair_column"))
    target = DemoTarget(final, f"run {run_dir.name}", chosen, pair=pair, run_dir=run_dir, notes=notes)
    validation = data.get("validation_file") or ""
    if validation:
        path = Path(validation)
        if not path.is_absolute():
            path = (run_dir / path) if (run_dir / path).exists() else path
        try:
            target.examples = examples_from_rows(read_rows(path, EXAMPLE_COUNT * 4), target, data)
        except (OSError, ValueError, UnicodeDecodeError, csv.Error) as error:
            notes.append(f"No example inputs: {path.name} cannot be read ({error}).")
    return target


def _read_spec(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise WorkbenchError(f"{path} cannot be read: {error}", hint="Fix or restore the run's spec.toml.") from None


def read_rows(path: Path, limit: int) -> list[dict]:
    """The first `limit` rows of a CSV, TSV, JSON-lines, JSON or Parquet file, as dicts."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".txt"):
        with open(path, encoding="utf-8-sig", newline="") as file:
            if suffix == ".csv":
                reader = csv.DictReader(file)
            else:  # TSV files of GLUE carry bare quotes inside the text
                reader = csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
            rows = []
            for row in reader:
                rows.append(row)
                if len(rows) >= limit:
                    break
            return rows
    if suffix in (".jsonl", ".json"):
        with open(path, encoding="utf-8-sig") as file:
            head = file.read(1)
            file.seek(0)
            if head == "[":
                return [row for row in json.load(file)[:limit] if isinstance(row, dict)]
            rows = []
            for line in file:
                if line.strip():
                    rows.append(json.loads(line))
                if len(rows) >= limit:
                    break
            return [row for row in rows if isinstance(row, dict)]
    if suffix == ".parquet":
        import pyarrow.parquet as parquet

        table = parquet.ParquetFile(path).read_row_group(0)
        return table.slice(0, limit).to_pylist()
    raise ValueError(f"unknown file type {suffix or '(none)'}")


def _as_text(value) -> str:
    if isinstance(value, list):  # pre-tokenized words (CoNLL)
        value = " ".join(str(item) for item in value)
    return str(value if value is not None else "")[:EXAMPLE_CHARS]


def examples_from_rows(rows: list[dict], target: DemoTarget, data: dict) -> list[list[str]]:
    """Example inputs in the task's order, from validation rows (spec column names first, then common ones)."""
    text_column = data.get("text_column") or "text"
    pair_column = data.get("text_pair_column") or ""
    examples: list[list[str]] = []
    for row in rows:
        if target.head == "question-answering":
            question = row.get("question", row.get(text_column))
            context = row.get("context", row.get(pair_column) if pair_column else None)
            values = [question, context]
        elif target.pair:
            values = [row.get(text_column), row.get(pair_column)]
        else:
            values = [row.get(text_column, row.get("tokens", row.get("text")))]
        if any(value is None or _as_text(value).strip() == "" for value in values):
            continue
        example = [_as_text(value) for value in values]
        if example not in examples:
            examples.append(example)
        if len(examples) >= EXAMPLE_COUNT:
            break
    return examples


def load_target(target: DemoTarget, labels_text: str | None = None):
    """Load the target's model with its head (a LoadedModel); `labels_text` names the classes ("neg, pos")."""
    from workbench.core.models.heads import head_kind
    from workbench.core.models.inspect import inspect_checkpoint
    from workbench.core.models.labels import parse_labels
    from workbench.core.models.loading import LoadOptions, load_model, quiet_transformers

    quiet_transformers()
    info = inspect_checkpoint(target.model_path, name=target.name)
    labels = parse_labels(labels_text) if labels_text else None
    kind = head_kind(target.head)
    options = LoadOptions(kind, labels if kind.takes_labels else None, ignore_mismatched_sizes=labels is not None)
    return load_model(info, options)
