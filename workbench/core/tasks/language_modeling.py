"""Language modelling: masked-lm (fill the masked tokens) and causal-lm (predict the next token).

Both follow the course's chapter 7: the texts are tokenized, concatenated and cut into blocks of
`data.block_size` tokens (`group_texts`; what is left at the end of each batch of 1,000 texts is
dropped), and the metric is the perplexity, exp(evaluation loss).

- masked-lm: `DataCollatorForLanguageModeling` masks `data.mlm_probability` of the tokens of each
  training batch anew (whole words with `data.whole_word_mask`: transformers 5's `whole_word_mask`
  flag, which reads the tokenizer's offsets). The validation blocks are masked once, at preparation,
  with the run's seed (the course's `insert_random_mask`): every evaluation scores the same masked
  tokens, so evaluations compare.
- causal-lm: the labels are the inputs (the model shifts them); the collator does no masking
  (`mlm=False`). A model from a checkpoint or from its config (`model.from_config`, e.g. a folder
  written by `workbench model create gpt2 --preset tiny`). An encoder that transformers can run as a
  decoder (BERT, RoBERTa, …) is loaded with `is_decoder = True`, so that it sees only the tokens
  before each one; an architecture without a causal head is refused, naming the heads it has.

Raw text files (`.txt`, `.text`, `.raw`) are read here: one document per line
(`data.text_file_mode = "line"`, empty lines dropped) or per blank-line separated paragraph
(`"paragraph"`). Other files (JSON, JSON Lines, Parquet, CSV) go through the Datasets pane's reader
and name their text column (`data.text_column`).
"""

from __future__ import annotations

import math
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.tasks.base import EvalResult, Evaluator, HeadLabels, Prepared, Task, limit_rows, require_columns

RAW_TEXT_SUFFIXES = (".txt", ".text", ".raw")
TEXT_FILE_MODES = ("line", "paragraph")
GROUP_BATCH = 1000  # texts concatenated together; the course's map batch (the remainder of each is dropped)
RECORD_CHARS = 300  # characters of each block's text kept in the predictions
RECORD_TOKENS = 96  # tokens decoded for that text (about 300 characters of English)
SAMPLE_PROMPTS = 2  # causal-lm: generated continuations shown with each evaluation
SAMPLE_TOKENS = 24  # prompt and continuation length of those samples, in tokens
# A tokenizer's model_max_length at or above this means "not set" (transformers writes 1e30).
UNSET_LENGTH = 10_000_000


# -- raw text ------------------------------------------------------------------------------


def read_documents(path: Path, mode: str) -> list[str]:
    """The documents of a raw text file: one per non-empty line, or one per blank-line separated
    paragraph (its lines joined by newlines). A heading line (WikiText's ` = Title = `) is text."""
    from workbench.core.data.files import check_readable

    if mode not in TEXT_FILE_MODES:
        raise WorkbenchError(
            f"data.text_file_mode: {mode!r} is not a mode", hint=f"Modes: {', '.join(TEXT_FILE_MODES)}."
        )
    check_readable(path, "text")  # missing, empty, binary, not UTF-8 at the start
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise WorkbenchError(
            f"{path.name} line {line}: not valid UTF-8 (byte 0x{data[error.start]:02x}).",
            hint="Convert the file to UTF-8 first (iconv -f latin1 -t utf-8).",
        ) from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]  # only newlines end lines, as in `datasets`
    if mode == "line":
        return [line for line in lines if line.strip()]
    documents, current = [], []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            documents.append("\n".join(current))
            current = []
    if current:
        documents.append("\n".join(current))
    return documents


def is_raw_text(path: str | Path) -> bool:
    return Path(path).suffix.lower() in RAW_TEXT_SUFFIXES


def load_text_files(data: dict):
    """A DatasetDict with a `text` column (or the spec's text column name) from raw text files."""
    import datasets

    column = data.get("text_column") or "text"
    splits = {}
    for split, key in (("train", "train_file"), ("validation", "validation_file")):
        if not data.get(key):
            continue
        path = Path(data[key]).expanduser()
        try:
            documents = read_documents(path, data.get("text_file_mode") or "line")
        except WorkbenchError as error:
            raise WorkbenchError(f"data.{key}: {error.message}", hint=error.hint) from None
        if not documents:
            raise WorkbenchError(f"data.{key}: {path.name} holds no text (only blank lines)")
        splits[split] = datasets.Dataset.from_dict({column: documents})
    return datasets.DatasetDict(splits)


# -- blocks --------------------------------------------------------------------------------


def group_texts(examples: dict, block_size: int) -> dict:
    """The course's `group_texts`: every column concatenated, cut into blocks of `block_size`, the
    remainder dropped (the caller adds labels where the task needs them)."""
    concatenated = {key: [item for row in values for item in row] for key, values in examples.items()}
    total = len(next(iter(concatenated.values()))) if concatenated else 0
    total = (total // block_size) * block_size
    return {
        key: [values[start : start + block_size] for start in range(0, total, block_size)]
        for key, values in concatenated.items()
    }


def position_limit(config, tokenizer) -> int | None:
    """The most tokens the model reads: its position embeddings, or the tokenizer's model_max_length
    when smaller (RoBERTa: 514 positions, 512 tokens)."""
    limits = []
    for name in ("max_position_embeddings", "n_positions"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            limits.append(value)
            break
    length = getattr(tokenizer, "model_max_length", None)
    if isinstance(length, (int, float)) and 0 < length < UNSET_LENGTH:
        limits.append(int(length))
    return min(limits) if limits else None


def block_size_for(data: dict, limit: int | None, model_name: str) -> int:
    """`data.block_size` (0 = `data.max_length`, capped to the model's positions); a block size set
    above the positions is refused."""
    asked = int(data.get("block_size") or 0)
    if asked < 0:
        raise WorkbenchError(f"data.block_size: is {asked}; use 0 (= data.max_length) or a positive number of tokens")
    if asked and limit is not None and asked > limit:
        raise WorkbenchError(
            f"data.block_size: is {asked} but {model_name} reads at most {limit} tokens; use {limit} or less"
        )
    size = asked or int(data["max_length"])
    return min(size, limit) if limit is not None else size


# -- the model's head ----------------------------------------------------------------------


def model_path_of(spec: dict) -> str:
    from workbench.core.embedded import embedded_model_path, is_embedded

    name = spec["model"].get("name_or_path")
    return str(embedded_model_path()) if is_embedded(name) else str(name)


def read_config(model_path: str):
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(model_path)


def fitting_tasks(model_type: str) -> list[str]:
    """The workbench tasks transformers has a head for, for this model type."""
    from workbench.core.models.heads import heads_for
    from workbench.core.tasks import TASK_NAMES

    names = {"seq2seq-lm": "seq2seq"}
    found = [names.get(head.key, head.key) for head, _ in heads_for(model_type)]
    return [name for name in found if name in TASK_NAMES]


def check_head(task_name: str, auto_class: str, config, model_name: str) -> dict:
    """Refuse an architecture without this task's head (naming the heads it has); the config
    options that make it work (an encoder run as a decoder: `is_decoder = True`)."""
    from workbench.core.models.heads import HEADS_BY_KEY, class_name_for

    model_type = getattr(config, "model_type", "") or ""
    head = HEADS_BY_KEY[task_name]
    if class_name_for(head, model_type) is None:
        kind = "an encoder-only" if task_name == "causal-lm" else "a"
        fitting = fitting_tasks(model_type)
        raise WorkbenchError(
            f"{model_name} is {kind} {model_type!r} model: transformers has no {head.title.lower()} head"
            f" ({auto_class}) for it",
            hint=f"Tasks that fit it: {', '.join(fitting)}." if fitting else "Choose another model.",
        )
    if task_name == "causal-lm" and class_name_for(HEADS_BY_KEY["masked-lm"], model_type) is not None:
        return {"is_decoder": True}  # BertLMHeadModel & co. attend both ways unless told otherwise
    return {}


# -- the tasks -----------------------------------------------------------------------------


class LanguageModeling(Task):
    """What masked-lm and causal-lm share: the text, the blocks, the perplexity."""

    metric_names = ("perplexity",)
    default_metrics = ("perplexity",)
    masked = False

    def __init__(self) -> None:
        self.head_options: dict = {}

    def guess_data(self, splits: dict) -> dict:
        """The text column: the string column with the longest texts (on the first rows)."""
        train = splits["train"]
        rows = train.select(range(min(200, len(train))))
        best, best_length = "", -1.0
        for name, feature in train.features.items():
            if getattr(feature, "dtype", "") not in ("string", "large_string"):
                continue
            values = [value for value in rows[name] if isinstance(value, str)]
            length = sum(map(len, values)) / max(len(values), 1)
            if length > best_length:
                best, best_length = name, length
        return {"text_column": best}

    def load_raw(self, data: dict):
        files = [data.get(key) for key in ("train_file", "validation_file") if data.get(key)]
        if not data.get("dataset") and files and all(is_raw_text(path) for path in files):
            return load_text_files(data)
        if any(is_raw_text(path) for path in files) and not all(is_raw_text(path) for path in files):
            raise WorkbenchError(
                "data.train_file and data.validation_file: one is a raw text file and the other is not",
                hint="Give both splits in the same format.",
            )
        return super().load_raw(data)

    # -- preparation -----------------------------------------------------------------------

    def prepare(self, raw, spec: dict, tokenizer) -> Prepared:
        from workbench.core.tasks.tokenizing import tokenizer_parallelism

        data = spec["data"]
        column = data.get("text_column") or "text"
        require_columns(raw, {"text_column": column})
        raw = limit_rows(raw, data)
        model_name = spec["model"].get("name_or_path") or "the embedded model"
        config = read_config(model_path_of(spec))
        self.head_options = check_head(self.name, self.auto_class, config, model_name)
        block_size = block_size_for(data, position_limit(config, tokenizer), model_name)
        self.check_tokenizer(tokenizer, data)
        whole_words = self.masked and bool(data.get("whole_word_mask"))

        def has_text(batch):
            return [isinstance(value, str) and bool(value.strip()) for value in batch[column]]

        def tokenize(batch):
            return tokenizer(
                batch[column],
                return_special_tokens_mask=self.masked,
                return_offsets_mapping=whole_words,
            )

        def blocks(batch):
            return group_texts(batch, block_size)

        with tokenizer_parallelism(), quiet_length_warning():
            texts = raw.filter(has_text, batched=True)
            tokenized = texts.map(tokenize, batched=True, remove_columns=texts["train"].column_names)
            if not self.masked and "token_type_ids" in tokenized["train"].column_names:
                tokenized = tokenized.remove_columns("token_type_ids")
            grouped = tokenized.map(blocks, batched=True, batch_size=GROUP_BATCH)
        notes = []
        for split in grouped:
            tokens = token_count(tokenized[split])
            if len(grouped[split]) == 0:
                key = "train_file" if split == "train" else "validation_file"
                raise WorkbenchError(
                    f"data.{key}: the {split} text gives {tokens} tokens, not one block of {block_size}",
                    hint="Give more text, or a smaller data.block_size.",
                )
            dropped = tokens - len(grouped[split]) * block_size
            notes.append(
                f"{self.name}: {split}: {len(grouped[split]):,} blocks of {block_size} tokens from"
                f" {len(tokenized[split]):,} texts ({tokens:,} tokens; {dropped:,} left over at the ends of"
                f" each {GROUP_BATCH:,} texts dropped)"
            )
        train = grouped["train"]
        validation = grouped.get("validation")
        if self.masked:
            if validation is not None:
                validation = mask_once(validation, tokenizer, data, spec["training"]["seed"])
        else:
            train = train.map(add_labels, batched=True)
            if validation is not None:
                validation = validation.map(add_labels, batched=True)
        labels = HeadLabels(0)
        context = {"block_size": block_size}
        return Prepared(train, validation, labels, eval_context=context, notes=notes)

    def check_tokenizer(self, tokenizer, data: dict) -> None:
        if tokenizer.pad_token is None and tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token  # the course's recipe for GPT-2's tokenizer

    # -- model and batches -----------------------------------------------------------------

    def model_kwargs(self, labels: HeadLabels) -> dict:
        return {**labels.model_kwargs(), **self.head_options}

    def load_model(self, spec: dict, model_path: str, labels: HeadLabels):
        model_name = spec["model"].get("name_or_path") or model_path
        self.head_options = check_head(self.name, self.auto_class, read_config(model_path), model_name)
        return super().load_model(spec, model_path, labels)

    def evaluator(self, prepared: Prepared, spec: dict, tokenizer, accelerator) -> Evaluator:
        return PerplexityEvaluator(accelerator, tokenizer, masked=self.masked)


class MaskedLM(LanguageModeling):
    name = "masked-lm"
    pipeline_tag = "fill-mask"
    auto_class = "AutoModelForMaskedLM"
    card_task_name = "Masked Language Modeling"
    masked = True
    mlm_probability = 0.15  # set from the spec by `prepare`, read by `collator`
    whole_word_mask = False

    def check_tokenizer(self, tokenizer, data: dict) -> None:
        if tokenizer.mask_token is None:
            raise WorkbenchError(
                f"masked-lm: the tokenizer ({type(tokenizer).__name__}) has no mask token",
                hint="Use a model trained with masking (BERT, RoBERTa, …), or the causal-lm task.",
            )
        if data.get("whole_word_mask") and not tokenizer.is_fast:
            raise WorkbenchError(
                "data.whole_word_mask: needs a fast tokenizer (it reads the token offsets)",
                hint="Set data.whole_word_mask = false, or use a model with a tokenizer.json.",
            )
        super().check_tokenizer(tokenizer, data)

    def collator(self, tokenizer, pad_to_multiple_of: int | None, model=None):
        return MaskingCollator(tokenizer, self.mlm_probability, self.whole_word_mask, pad_to_multiple_of)

    def prepare(self, raw, spec: dict, tokenizer) -> Prepared:
        self.mlm_probability = float(spec["data"].get("mlm_probability", 0.15))
        self.whole_word_mask = bool(spec["data"].get("whole_word_mask"))
        if not 0 < self.mlm_probability < 1:
            raise WorkbenchError(f"data.mlm_probability: is {self.mlm_probability}; use a share between 0 and 1")
        return super().prepare(raw, spec, tokenizer)


class CausalLM(LanguageModeling):
    name = "causal-lm"
    pipeline_tag = "text-generation"
    auto_class = "AutoModelForCausalLM"
    card_task_name = "Causal Language Modeling"

    def collator(self, tokenizer, pad_to_multiple_of: int | None, model=None):
        from transformers import DataCollatorForLanguageModeling

        return DataCollatorForLanguageModeling(tokenizer, mlm=False, pad_to_multiple_of=pad_to_multiple_of)


def task_for(name: str) -> LanguageModeling:
    if name == "masked-lm":
        return MaskedLM()
    if name == "causal-lm":
        return CausalLM()
    raise WorkbenchError(f"Unknown language-modelling task {name!r}.", hint="Tasks: masked-lm, causal-lm.")


def token_count(dataset) -> int:
    """Tokens in a tokenized split, summed from the Arrow list offsets (no Python list per row)."""
    import pyarrow.compute as pc

    lengths = pc.list_value_length(dataset.with_format("arrow")["input_ids"])
    return int(pc.sum(lengths).as_py() or 0)


def add_labels(batch: dict) -> dict:
    """Causal LM: the labels are the inputs; the model shifts them by one."""
    return {"labels": [list(ids) for ids in batch["input_ids"]]}


class quiet_length_warning:
    """Silence "Token indices sequence length is longer than the specified maximum" while whole
    documents are tokenized: they are cut into blocks afterwards."""

    def __enter__(self):
        from transformers.utils import logging

        self.logger = logging.get_logger("transformers.tokenization_utils_base")
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc) -> None:
        self.logger.setLevel(self.level)


# -- masking -------------------------------------------------------------------------------


def masking_collator(tokenizer, probability: float, whole_words: bool, seed: int | None = None, pad_to=None):
    from transformers import DataCollatorForLanguageModeling

    options = {"mask_replace_prob": 1.0, "random_replace_prob": 0.0} if whole_words else {}  # what whole words allow
    return DataCollatorForLanguageModeling(
        tokenizer,
        mlm=True,
        mlm_probability=probability,
        whole_word_mask=whole_words,
        pad_to_multiple_of=pad_to,
        seed=seed,
        **options,
    )


def mask_once(blocks, tokenizer, data: dict, seed: int):
    """The course's `insert_random_mask`: the validation blocks masked once, with the run's seed,
    so that every evaluation (and every run with that seed) scores the same tokens."""
    from datasets.fingerprint import Hasher

    probability = float(data.get("mlm_probability", 0.15))
    whole_words = bool(data.get("whole_word_mask"))
    collator = masking_collator(tokenizer, probability, whole_words, seed=seed)
    keep = [name for name in ("input_ids", "attention_mask", "token_type_ids") if name in blocks.column_names]

    def insert_random_mask(batch):
        features = [dict(zip(batch, values)) for values in zip(*batch.values())]
        masked = collator(features)
        return {name: masked[name].tolist() for name in (*keep, "labels")}

    fingerprint = Hasher.hash((blocks._fingerprint, probability, whole_words, seed, "mask_once"))
    return blocks.map(
        insert_random_mask,
        batched=True,
        batch_size=GROUP_BATCH,
        remove_columns=blocks.column_names,
        new_fingerprint=fingerprint,
    )


class MaskingCollator:
    """Training rows are masked anew each batch (`DataCollatorForLanguageModeling`); the fixed
    validation rows, which carry their labels already, are only stacked (and padded when a multiple
    is asked for: inputs with the pad id, labels with -100)."""

    def __init__(self, tokenizer, probability: float, whole_words: bool, pad_to_multiple_of: int | None) -> None:
        self.tokenizer = tokenizer
        self.pad_to_multiple_of = pad_to_multiple_of
        self.masking = masking_collator(tokenizer, probability, whole_words, pad_to=pad_to_multiple_of)

    def __call__(self, examples: list[dict]) -> dict:
        if "labels" not in examples[0]:
            return self.masking(examples)
        import torch

        batch = {name: torch.tensor([row[name] for row in examples]) for name in examples[0]}
        length = batch["input_ids"].shape[1]
        multiple = self.pad_to_multiple_of or 1
        extra = -length % multiple
        if extra:
            fill = {"input_ids": self.tokenizer.pad_token_id or 0, "labels": -100}
            batch = {
                name: torch.nn.functional.pad(values, (0, extra), value=fill.get(name, 0))
                for name, values in batch.items()
            }
        return batch


# -- evaluation ----------------------------------------------------------------------------


def perplexity(loss: float) -> float:
    """exp(loss); infinity when that overflows, NaN for a NaN loss."""
    try:
        return math.exp(loss)
    except OverflowError:
        return float("inf")


class PerplexityEvaluator(Evaluator):
    """The perplexity of the evaluation loss, and one record per block: its text (masked inputs for
    masked-lm), its own loss and perplexity, and for masked-lm the masked tokens and the model's
    guesses. Causal-lm evaluations also carry a few greedy continuations of validation text."""

    def __init__(self, accelerator, tokenizer, *, masked: bool) -> None:
        super().__init__(accelerator)
        self.tokenizer = tokenizer
        self.masked = masked
        self.heads, self.losses, self.counts = [], [], []
        self.gold, self.predicted = [], []
        self.samples: list[dict] = []

    def add(self, batch: dict, outputs, model) -> None:
        import torch

        logits, labels = outputs.logits, batch["labels"]
        if not self.masked:  # the model predicts token t+1 at position t
            logits, labels = logits[:, :-1, :], labels[:, 1:]
        counted = labels != -100
        losses = torch.nn.functional.cross_entropy(
            logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="none", ignore_index=-100
        ).view(labels.shape)
        counts = counted.sum(dim=1)
        block_loss = (losses * counted).sum(dim=1) / counts.clamp(min=1)
        block_loss = torch.where(counts > 0, block_loss, torch.full_like(block_loss, float("nan")))
        gathered = [batch["input_ids"][:, :RECORD_TOKENS].contiguous(), block_loss, counts]
        if self.masked:
            guesses = torch.where(counted, logits.argmax(dim=-1), torch.full_like(labels, -100))
            gathered += [labels.contiguous(), guesses]
        gathered = self.gather(tuple(gathered))
        self.heads.extend(gathered[0].cpu().tolist())
        self.losses.extend(gathered[1].cpu().tolist())
        self.counts.extend(gathered[2].cpu().tolist())
        if self.masked:
            self.gold.extend(self.masked_tokens(gathered[3]))
            self.predicted.extend(self.masked_tokens(gathered[4]))
        elif not self.samples:
            self.samples = self.continuations(batch, model)

    def masked_tokens(self, ids) -> list[str]:
        rows = []
        for row in ids.cpu().tolist():
            ids = [token for token in row if token != -100]
            tokens = self.tokenizer.convert_ids_to_tokens(ids)  # None for an id past the vocabulary
            rows.append(" ".join(token or f"<{id_}>" for token, id_ in zip(tokens, ids))[:RECORD_CHARS])
        return rows

    def continuations(self, batch: dict, model) -> list[dict]:
        """Greedy continuations of the first validation blocks' openings (one process only: a
        sharded or replicated model generates through every process)."""
        import torch

        if self.accelerator is not None and self.accelerator.num_processes > 1:
            return []
        length = min(SAMPLE_TOKENS, batch["input_ids"].shape[1] // 2)  # the prompt, and as many new tokens
        if length < 4:
            return []
        if self.accelerator is not None:
            model = self.accelerator.unwrap_model(model)
        model = getattr(model, "_orig_mod", model)  # torch.compile's wrapper
        prompts = batch["input_ids"][:SAMPLE_PROMPTS, :length]
        with torch.no_grad():
            generated = model.generate(
                input_ids=prompts,
                attention_mask=torch.ones_like(prompts),
                max_new_tokens=length,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
            )
        samples = []
        for index in range(prompts.shape[0]):
            reference = batch["input_ids"][index, length : 2 * length]
            samples.append(
                {
                    "input": self.tokenizer.decode(prompts[index], skip_special_tokens=True),
                    "reference": self.tokenizer.decode(reference, skip_special_tokens=True),
                    "predicted": self.tokenizer.decode(generated[index, length:], skip_special_tokens=True),
                }
            )
        return samples

    def finish(self, eval_loss: float) -> EvalResult:
        texts = self.tokenizer.batch_decode(self.heads, skip_special_tokens=not self.masked)
        if self.masked:  # keep [MASK] visible, drop padding and the block's [CLS]/[SEP] noise
            specials = {self.tokenizer.pad_token, self.tokenizer.cls_token, self.tokenizer.sep_token} - {None}
            texts = [" ".join(word for word in text.split(" ") if word not in specials) for text in texts]
        records = {
            "id": list(range(len(self.losses))),
            "input": [text[:RECORD_CHARS] for text in texts],
            "loss": self.losses,
            "perplexity": [perplexity(loss) for loss in self.losses],
            "tokens": self.counts,
        }
        if self.masked:
            records["gold"] = self.gold
            records["predicted"] = self.predicted
        return EvalResult({"perplexity": perplexity(eval_loss)}, records, samples=self.samples)
