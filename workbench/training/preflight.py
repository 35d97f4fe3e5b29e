"""Checks of the model a spec names, made before launch from its small files (config.json,
tokenizer_config.json, the weight file names): nothing is loaded, so the start form can run them
on each change.

- sizes in config.json that no model can have (`num_hidden_layers = -2`);
- pickle-only weights: unpickling can run code, and training offers no opt-in (`model predict`
  asks for `--allow-pickle`); the child also loads with `use_safetensors=True`;
- `data.max_length` above the positions the model reads, which otherwise fails at step 1.

And of the data: the columns the task reads against the header of each data file (`column_problems`),
checked by the new-run form as the fields change and by every launch, so that `workbench train
--detach` refuses a misspelt column at once instead of starting a run that fails in its child.
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench.core.models.weights import safetensors_problem, weight_files

# Sizes that must be whole numbers of 1 or more where a config has them.
POSITIVE_SIZES = (
    "num_hidden_layers",
    "hidden_size",
    "num_attention_heads",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "n_layers",
    "n_heads",
    "dim",
)
# A tokenizer's model_max_length at or above this means "not set" (transformers writes 1e30).
UNSET_LENGTH = 10_000_000


def model_folder(name: str, base_dir: Path | None = None) -> Path | None:
    """The local folder of a spec's model, or None (a Hub id, or the embedded model not installed)."""
    from workbench.core.embedded import embedded_model_path, is_embedded

    if is_embedded(name):
        try:
            return embedded_model_path()
        except ImportError:
            return None
    path = Path(name).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path if path.is_dir() else None


def read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def position_limit(config: dict, tokenizer_config: dict | None) -> int | None:
    """The most tokens the model reads: its position embeddings, or the tokenizer's
    model_max_length when smaller (RoBERTa: 514 positions, 512 tokens)."""
    limits = []
    positions = config.get("max_position_embeddings", config.get("n_positions"))
    if isinstance(positions, int) and positions > 0:
        limits.append(positions)
    length = (tokenizer_config or {}).get("model_max_length")
    if isinstance(length, (int, float)) and 0 < length < UNSET_LENGTH:
        limits.append(int(length))
    return min(limits) if limits else None


# Any of these makes a folder's tokenizer loadable (fast tokenizer.json, WordPiece, BPE, SentencePiece).
TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
)


def model_problems(
    name: str, max_length: int | None, base_dir: Path | None = None, *, from_config: bool = False
) -> list[tuple[str, str]]:
    """(field, message) for each problem of a local model folder; [] for Hub ids. `from_config`: the weights
    are not read (training from scratch), so they are not checked."""
    folder = model_folder(name, base_dir)
    if folder is None:
        return []
    problems: list[tuple[str, str]] = []
    config = read_json(folder / "config.json")
    if config is None:
        what = "no" if not (folder / "config.json").exists() else "an unreadable"
        return [("model.name_or_path", f"{folder} has {what} config.json; it is not a transformers model folder")]
    for key in POSITIVE_SIZES:
        value = config.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            kind = (
                "1 or more" if isinstance(value, int) and not isinstance(value, bool) else "a whole number, 1 or more"
            )
            problems.append(
                ("model.name_or_path", f"{folder / 'config.json'} has {key} = {value!r}; it must be {kind}")
            )
    id2label = config.get("id2label")
    if isinstance(id2label, dict) and not all(str(key).lstrip("-").isdigit() for key in id2label):
        odd = next(key for key in id2label if not str(key).lstrip("-").isdigit())
        problems.append(
            (
                "model.name_or_path",
                f'{folder / "config.json"} has id2label key {odd!r}; its keys are class numbers ("0", "1", …)',
            )
        )
    hidden, heads = config.get("hidden_size"), config.get("num_attention_heads")
    if isinstance(hidden, int) and isinstance(heads, int) and hidden > 0 and heads > 0 and hidden % heads:
        problems.append(
            (
                "model.name_or_path",
                f"{folder / 'config.json'}: hidden_size {hidden} is not a multiple of num_attention_heads {heads}",
            )
        )
    names = {path.name for path in folder.iterdir()}
    if not names & set(TOKENIZER_FILES):
        problems.append(
            (
                "model.name_or_path",
                f"{folder} has no tokenizer (none of {', '.join(TOKENIZER_FILES)}); save the model's tokenizer"
                " beside it (tokenizer.save_pretrained(folder))",
            )
        )
    safetensors = "model.safetensors" in names or "model.safetensors.index.json" in names
    pickle = "pytorch_model.bin" in names or "pytorch_model.bin.index.json" in names
    if from_config:
        pass  # random weights: the checkpoint's are never read
    elif pickle and not safetensors:
        problems.append(
            (
                "model.name_or_path",
                f"{folder} has pickle weights only (pytorch_model.bin); unpickling can run code. Convert them to"
                " safetensors if you trust the source (`save_pretrained` writes safetensors), then train",
            )
        )
    elif not safetensors:
        problems.append(("model.name_or_path", f"{folder} has no weights (no model.safetensors)"))
    else:
        for path in weight_files(folder):
            problem = safetensors_problem(path)
            if problem is not None:
                problems.append(("model.name_or_path", problem))
                break
    limit = position_limit(config, read_json(folder / "tokenizer_config.json"))
    if limit is not None and isinstance(max_length, int) and max_length > limit:
        problems.append(
            ("data.max_length", f"is {max_length} but the model reads at most {limit} tokens; use {limit} or less")
        )
    return problems


def check_loaded(model, tokenizer, max_length: int) -> None:
    """The same position check on the loaded model (Hub models are checked only here, before step 1)."""
    from workbench.core.errors import WorkbenchError

    length = getattr(tokenizer, "model_max_length", None)
    limit = position_limit(model.config.to_dict(), {"model_max_length": length} if length else None)
    if limit is not None and max_length > limit:
        raise WorkbenchError(
            f"data.max_length: is {max_length} but {model.config.name_or_path or 'the model'} reads at most"
            f" {limit} tokens; use {limit} or less"
        )


COLUMN_KEYS = (
    "text_column",
    "text_pair_column",
    "label_column",
    "question_column",
    "context_column",
    "answers_column",
    "source_column",
    "target_column",
)


def column_problems(data: dict, head: str = "sequence-classification") -> dict[str, str]:
    """The columns the task reads checked against the header of each data file: {dotted field: message}.
    A task-shaped file (CoNLL, SQuAD) is checked against the columns its reader makes; a file whose columns
    cannot be known without loading it (a folder, a JSON document, parallel text) is skipped: its task names
    the problems when it reads it. So are the defaults token classification guesses around (`text`, `label`)."""
    from workbench.core.data.formats import conll, sniff_format
    from workbench.core.data.header import file_columns
    from workbench.core.errors import WorkbenchError
    from workbench.core.tasks.token_classification import CONLL_SUFFIXES
    from workbench.core.tasks.token_classification import DEFAULT_COLUMNS as TOKEN_GUESSED_DEFAULTS
    from workbench.training.spec import did_you_mean, key_applies

    tokens = head == "token-classification"

    problems: dict[str, str] = {}
    for file_key in ("train_file", "validation_file"):
        path = str(data.get(file_key) or "").strip()
        if not path:
            continue
        file = Path(path).expanduser()
        task_format = sniff_format(file) if file.is_file() else None
        if task_format is None and tokens and file.is_file() and file.suffix.lower() in CONLL_SUFFIXES:
            task_format = conll  # token classification reads these as CoNLL whether or not they look like it
        try:
            if task_format is None:
                names = file_columns(file, header=data.get("header", True) is not False)
            else:  # a task-shaped file: the columns its reader makes (None: a format that cannot say)
                names = task_format.column_names(file, data) if hasattr(task_format, "column_names") else None
        except WorkbenchError as error:
            problems.setdefault(f"data.{file_key}", error.message)
            continue
        except OSError:
            continue  # the reader says what is wrong with the file
        if names is None:
            continue
        for key in COLUMN_KEYS:
            if not key_applies(f"data.{key}", head):
                continue
            name = str(data.get(key) or "")
            if tokens and name == TOKEN_GUESSED_DEFAULTS.get(key):
                continue  # left at the default: the task finds the tokens and tags columns itself
            if name and name not in names:
                shown = ", ".join(names[:12]) + (" …" if len(names) > 12 else "")
                problems.setdefault(
                    f"data.{key}",
                    f"no column {name!r} in {Path(path).name}{did_you_mean(name, names)} (its columns: {shown})",
                )
    return problems
