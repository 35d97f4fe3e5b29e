"""Sequence to sequence: translation and summarization with encoder-decoder models (T5, BART, Marian).

Data, in the forms people have it:

- parallel text files, a sentence per line: `train.en` + `train.de` (`data.source_lang = "en"`,
  `data.target_lang = "de"`; the other file is found beside the one named), checked to have the
  same number of lines;
- JSON Lines as Hub datasets store them, `{"translation": {"en": "...", "de": "..."}}`;
- two text columns in CSV, TSV, JSON, JSON Lines or Parquet: language codes (`en`, `de`), or a
  document and its summary (`dialogue`/`summary`, `article`/`highlights`, `document`/`summary`, …),
  or whatever `data.source_column` / `data.target_column` name.

Preprocessing is the course's: `tokenizer(inputs)` with `data.source_prefix` before each input
(T5's "translate English to German: "), the targets through `text_target`, each cut at its own
maximum (`data.max_length`, `data.max_target_length`), and `DataCollatorForSeq2Seq` padding the
labels with -100. Evaluation generates (`training.generation_num_beams`,
`training.generation_max_length`) and scores the texts with sacrebleu (translation: `bleu`, `chrf`)
or rouge-score (summarization: `rouge1`, `rouge2`, `rougeL`, `rougeLsum`), see
`generation_metrics`.
"""

from __future__ import annotations

import re
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.tasks.base import (
    CardInfo,
    EvalResult,
    Evaluator,
    HeadLabels,
    Prepared,
    Task,
    limit_rows,
    load_spec_files,
    require_columns,
)
from workbench.core.tasks.generation_metrics import GENERATION_METRICS, SUMMARIZATION_METRICS, TRANSLATION_METRICS

# ISO 639-1 codes: column names and file suffixes that name a language.
LANGUAGE_CODES = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
    ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io
    is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr
    ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si
    sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh
    yi yo za zh zu""".split()
)
# A language code with an optional region or script: en, pt_br, zh-CN, en_XX (mBART), eng_Latn (NLLB).
LANGUAGE_NAME = re.compile(r"^([a-z]{2,3})(?:[-_][A-Za-z]{2,4})?$")

# (document, summary) and (source, target) column names, the first of each pair being the input.
PAIR_NAMES = (
    ("dialogue", "summary"),
    ("dialog", "summary"),
    ("document", "summary"),
    ("article", "highlights"),
    ("article", "summary"),
    ("article", "abstract"),
    ("text", "summary"),
    ("content", "summary"),
    ("review_body", "review_title"),
    ("body", "title"),
    ("source", "target"),
    ("src", "tgt"),
    ("input", "output"),
    ("input", "target"),
    ("inputs", "targets"),
    ("question", "answer"),
)
TARGET_PREFIXES = ("summary", "highlights", "abstract", "headline", "title", "target", "tgt", "output")

SAMPLES_SHOWN = 3  # predictions next to their references in each evaluation event


def is_language(name: str) -> bool:
    match = LANGUAGE_NAME.match(name)
    if not match:
        return False
    code = match.group(1)
    return code in LANGUAGE_CODES or (len(code) == 3 and name != code)  # eng_Latn: 3 letters with a script


# -- parallel files --------------------------------------------------------------------------


def _suffix(path: Path) -> str:
    return path.suffix[1:] if path.suffix else ""


def parallel_pair(path: Path, source_lang: str = "", target_lang: str = "") -> tuple[Path, Path] | None:
    """The (source, target) files of a parallel pair that `path` is one side of, or None when `path`
    is an ordinary data file (CSV, JSON Lines, …).

    With the languages given, the two files are `path` with each language as its suffix; without
    them, the suffix of `path` is the source language and the one other file beside it with the
    same stem and a language suffix is the target."""
    from workbench.core.data.files import EXTENSIONS

    path = Path(path)
    suffix = _suffix(path)
    if not suffix or path.suffix.lower() in EXTENSIONS:
        return None
    if source_lang and target_lang:
        if suffix not in (source_lang, target_lang):
            return None
        return path.with_suffix(f".{source_lang}"), path.with_suffix(f".{target_lang}")
    if not is_language(suffix) and suffix not in (source_lang, target_lang):
        return None
    others = (
        sorted(
            candidate
            for candidate in path.parent.iterdir()
            if candidate.stem == path.stem
            and candidate != path
            and candidate.is_file()
            and is_language(_suffix(candidate))
        )
        if path.parent.is_dir()
        else []
    )
    only_other = others[0] if len(others) == 1 else None
    if source_lang and suffix != source_lang:
        source, target = path.with_suffix(f".{source_lang}"), path
    elif target_lang and suffix == target_lang:
        source, target = only_other, path
    elif target_lang:
        source, target = path, path.with_suffix(f".{target_lang}")
    else:
        source, target = path, only_other
    if source is None or target is None:
        return None
    return source, target


def _read_lines(path: Path, key: str) -> list[str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise WorkbenchError(
            f"data.{key}: {path} does not exist",
            hint="Parallel files sit side by side: train.en and train.de (data.source_lang, data.target_lang).",
        ) from None
    except OSError as error:
        raise WorkbenchError(f"data.{key}: {path} cannot be read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise WorkbenchError(f"data.{key}: {path.name} line {line:,} is not UTF-8 text") from None
    if "\x00" in text:
        raise WorkbenchError(f"data.{key}: {path.name} is a binary file, not a sentence per line")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def read_parallel(source: Path, target: Path, key: str = "train_file") -> tuple[list[str], list[str]]:
    """The aligned lines of two parallel files; a different number of lines is an error that says
    where the files part."""
    sources, targets = _read_lines(source, key), _read_lines(target, key)
    if len(sources) != len(targets):
        longer, shorter = (source, target) if len(sources) > len(targets) else (target, source)
        first_extra = min(len(sources), len(targets)) + 1
        blank = next(
            (
                index
                for index, (one, other) in enumerate(zip(sources, targets, strict=False), start=1)
                if bool(one.strip()) != bool(other.strip())
            ),
            None,
        )
        hint = f"Line i of {source.name} must be the translation of line i of {target.name}."
        if blank is not None:
            empty = source if not sources[blank - 1].strip() else target
            hint = f"The first line that is blank in one file only is line {blank:,} ({empty.name}). " + hint
        raise WorkbenchError(
            f"data.{key}: {source.name} has {len(sources):,} lines but {target.name} has {len(targets):,};"
            f" line {first_extra:,} of {longer.name} has no partner in {shorter.name}",
            hint=hint,
        )
    return sources, targets


def languages(data: dict) -> tuple[str, str]:
    """(source, target) language codes: from the spec, else from parallel file names."""
    source, target = data.get("source_lang") or "", data.get("target_lang") or ""
    if source and target:
        return source, target
    if data.get("train_file"):
        pair = parallel_pair(Path(data["train_file"]), source, target)
        if pair is not None:
            return _suffix(pair[0]), _suffix(pair[1])
    return source, target


def _flatten_translation(dataset):
    """`{"translation": {"en": ..., "de": ...}}` rows as columns `en` and `de`."""
    feature = dataset.features.get("translation")
    if feature is None or not (isinstance(feature, dict) or type(feature).__name__ == "Translation"):
        return dataset
    flat = dataset.flatten()
    renames = {
        name: name.removeprefix("translation.")
        for name in flat.column_names
        if name.startswith("translation.") and name.removeprefix("translation.") not in dataset.column_names
    }
    return flat.rename_columns(renames)


# -- column guessing -------------------------------------------------------------------------


def guess_pair(dataset) -> dict:
    """`data.*` values naming the source and target of these rows: languages for translation data
    (a `translation` column, or two columns named by language code), columns for the rest."""
    from workbench.core.data.labels import string_columns
    from workbench.core.data.rows import rows_of

    rows = rows_of(dataset)
    names = rows.column_names
    if "translation" in names and rows.num_rows:
        first = rows.slice(0, 1, ["translation"]).column(0)[0].as_py()
        if isinstance(first, dict) and len(first) == 2:
            source, target = list(first)
            return {"source_column": "", "target_column": "", "source_lang": source, "target_lang": target}
    texts = string_columns(rows)
    codes = [name for name in texts if is_language(name)]
    if len(codes) > 2 and "id" in codes:
        codes.remove("id")
    if len(codes) == 2:
        return {"source_column": "", "target_column": "", "source_lang": codes[0], "target_lang": codes[1]}
    by_lower = {name.lower().strip(): name for name in texts}
    for first, second in PAIR_NAMES:
        if first in by_lower and second in by_lower:
            return {"source_column": by_lower[first], "target_column": by_lower[second]}
    if len(texts) < 2:
        return {"source_column": texts[0] if texts else "", "target_column": ""}
    import pyarrow.compute as pc

    sample = rows.slice(0, min(200, rows.num_rows), texts)
    lengths = {name: pc.mean(pc.utf8_length(sample.column(name))).as_py() or 0.0 for name in texts}
    targets = [name for name in texts if name.lower().startswith(TARGET_PREFIXES)]
    target = targets[0] if targets else min(texts, key=lambda name: lengths[name])
    source = max((name for name in texts if name != target), key=lambda name: lengths[name])
    return {"source_column": source, "target_column": target}


def text_columns(data: dict, dataset) -> tuple[str, str]:
    """The source and target columns a spec names (a language code names its column), guessed
    from the data when it names none."""
    source_lang, target_lang = languages(data)
    source = data.get("source_column") or source_lang
    target = data.get("target_column") or target_lang
    if not (source and target):
        guess = guess_pair(dataset)
        source = source or guess.get("source_column") or guess.get("source_lang", "")
        target = target or guess.get("target_column") or guess.get("target_lang", "")
    if not (source and target) or source == target:
        raise WorkbenchError(
            "data.source_column / data.target_column: say which column is the input and which the output",
            hint=f"Columns: {', '.join(dataset.column_names)}. Translation data can name languages instead"
            " (data.source_lang, data.target_lang).",
        )
    return source, target


# -- the task --------------------------------------------------------------------------------


class Seq2Seq(Task):
    name = "seq2seq"
    pipeline_tag = "translation"  # "summarization" for specs without languages (`kind`)
    auto_class = "AutoModelForSeq2SeqLM"
    metric_names = GENERATION_METRICS
    default_metrics = TRANSLATION_METRICS  # `default_metrics_for(data)` tells the two kinds apart
    card_task_name = "Translation"

    # -- which kind of seq2seq ---------------------------------------------------------------

    def kind(self, spec: dict) -> str:
        """ "translation" when the spec names languages (or its files do, or it asks for BLEU/chrF
        only), else "summarization"."""
        source, target = languages(spec.get("data") or {})
        if source and target:
            return "translation"
        asked = [name for name in (spec.get("training") or {}).get("metrics") or [] if name in GENERATION_METRICS]
        if asked and all(name in TRANSLATION_METRICS for name in asked):
            return "translation"
        return "summarization"

    def default_metrics_for(self, data: dict) -> tuple[str, ...]:
        """BLEU and chrF for translation data, ROUGE for the rest (what a spec without metrics gets)."""
        source, target = languages(data or {})
        return TRANSLATION_METRICS if source and target else SUMMARIZATION_METRICS

    def metrics_for(self, spec: dict) -> list[str]:
        """The metrics this run computes: those asked for that fit, else the defaults of its kind."""
        asked = (spec.get("training") or {}).get("metrics")
        defaults = list(TRANSLATION_METRICS if self.kind(spec) == "translation" else SUMMARIZATION_METRICS)
        if asked is None:
            return defaults
        fitting = [name for name in asked if name in self.metric_names]
        return fitting if fitting or not asked else defaults

    def card_info(self, spec: dict | None = None) -> CardInfo:
        if spec is not None and self.kind(spec) == "summarization":
            return CardInfo("summarization", "summarization", "Summarization")
        return CardInfo("translation", "translation", "Translation")

    # -- data --------------------------------------------------------------------------------

    def guess_data(self, splits: dict) -> dict:
        return guess_pair(splits["train"])

    def load_raw(self, data: dict):
        """Parallel files read line by line; every other form through the shared file reader, with
        Hub-style `translation` rows turned into a column per language."""
        import datasets

        source_lang, target_lang = data.get("source_lang") or "", data.get("target_lang") or ""
        train_pair = (
            parallel_pair(Path(data["train_file"]), source_lang, target_lang) if data.get("train_file") else None
        )
        if train_pair is None:
            raw = load_spec_files(data)
            return datasets.DatasetDict({split: _flatten_translation(dataset) for split, dataset in raw.items()})
        source_lang, target_lang = _suffix(train_pair[0]), _suffix(train_pair[1])
        splits = {}
        for split, key in (("train", "train_file"), ("validation", "validation_file")):
            if not data.get(key):
                continue
            pair = train_pair if split == "train" else parallel_pair(Path(data[key]), source_lang, target_lang)
            if pair is None:
                raise WorkbenchError(
                    f"data.{key}: {Path(data[key]).name} is not one side of a parallel pair"
                    f" like {Path(data['train_file']).name}",
                    hint=f"Name one side of the validation pair, e.g. val.{source_lang} (val.{target_lang} beside it).",
                )
            sources, targets = read_parallel(*pair, key=key)
            splits[split] = datasets.Dataset.from_dict({source_lang: sources, target_lang: targets})
        return datasets.DatasetDict(splits)

    def prepare(self, raw, spec: dict, tokenizer) -> Prepared:
        from workbench.core.tasks.tokenizing import tokenizer_parallelism

        data = spec["data"]
        source, target = text_columns(data, raw["train"])
        require_columns(raw, {"source_column": source, "target_column": target})
        raw = limit_rows(raw, data)
        raw, notes = drop_empty(raw, source, target)
        prefix = data.get("source_prefix") or ""
        max_length, max_target_length = data["max_length"], data["max_target_length"]

        def tokenize(batch):
            inputs = [prefix + str(text) for text in batch[source]]
            model_inputs = tokenizer(inputs, max_length=max_length, truncation=True, return_token_type_ids=False)
            labels = tokenizer(
                text_target=[str(text) for text in batch[target]],
                max_length=max_target_length,
                truncation=True,
                return_token_type_ids=False,
            )
            model_inputs["labels"] = labels["input_ids"]
            return model_inputs

        with tokenizer_parallelism():
            tokenized = raw.map(tokenize, batched=True, remove_columns=raw["train"].column_names)
            for split in raw:
                notes.extend(cut_notes(split, raw[split], tokenized[split], source, target, prefix, tokenizer, data))
        context = None
        if "validation" in raw:
            context = {"sources": list(raw["validation"][source]), "targets": list(raw["validation"][target])}
        return Prepared(
            tokenized["train"], tokenized.get("validation"), HeadLabels(), eval_context=context, notes=notes
        )

    # -- model -------------------------------------------------------------------------------

    def load_model(self, spec: dict, model_path: str, labels: HeadLabels):
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(model_path)
        if not getattr(config, "is_encoder_decoder", False):
            fitting = fitting_tasks(config.model_type)
            raise WorkbenchError(
                f"model.head: seq2seq needs an encoder-decoder model (T5, BART, Marian, mBART, Pegasus …);"
                f" {spec['model']['name_or_path']} is a {config.model_type} model, which has no decoder to generate"
                " text from its encoder's reading",
                hint=(f"Tasks that fit a {config.model_type} model: {', '.join(fitting)}. " if fitting else "")
                + "For seq2seq, start from an encoder-decoder checkpoint, or a new one:"
                " workbench model create t5 FOLDER --preset tiny",
            )
        return super().load_model(spec, model_path, labels)

    def collator(self, tokenizer, pad_to_multiple_of: int | None, model=None):
        from transformers import DataCollatorForSeq2Seq

        return DataCollatorForSeq2Seq(
            tokenizer, model=model, label_pad_token_id=-100, pad_to_multiple_of=pad_to_multiple_of
        )

    # -- evaluation --------------------------------------------------------------------------

    def evaluator(self, prepared: Prepared, spec: dict, tokenizer, accelerator) -> Evaluator:
        import sacrebleu  # noqa: F401  (fails here, before training, when missing)

        names = self.metrics_for(spec)
        if any(name in SUMMARIZATION_METRICS for name in names):
            import rouge_score  # noqa: F401
        return GenerationEvaluator(accelerator, tokenizer, spec["training"], names, prepared.eval_context or {})


def fitting_tasks(model_type: str) -> list[str]:
    """The other tasks whose head transformers implements for this model type."""
    from workbench.core.models.heads import HEADS_BY_KEY, class_name_for
    from workbench.core.tasks import TASK_NAMES

    return [
        task
        for task in TASK_NAMES
        if task in HEADS_BY_KEY and task != "seq2seq" and class_name_for(HEADS_BY_KEY[task], model_type)
    ]


def drop_empty(raw, source: str, target: str):
    """Rows with an empty source or target dropped, each split's count and first row noted."""
    notes = []
    for split in list(raw):
        dataset = raw[split]
        blank_sources = [one is None or not str(one).strip() for one in dataset[source]]
        blank_targets = [other is None or not str(other).strip() for other in dataset[target]]
        empty = [index for index, blanks in enumerate(zip(blank_sources, blank_targets, strict=True)) if any(blanks)]
        if not empty:
            continue
        if len(empty) == len(dataset):
            raise WorkbenchError(
                f"The {split} data has no row with both a {source!r} and a {target!r} text",
                hint="Check data.source_column and data.target_column (or the languages).",
            )
        documents = sum(blank_sources)
        notes.append(
            f"{split}: {len(empty):,} row(s) with an empty {source!r} ({documents:,}) or {target!r}"
            f" ({len(empty) - documents:,}) dropped; the first is row {empty[0] + 1:,}"
        )
        dropped = set(empty)
        raw[split] = dataset.select([index for index in range(len(dataset)) if index not in dropped])
    return raw, notes


def cut_notes(split, raw, tokenized, source, target, prefix, tokenizer, data) -> list[str]:
    """The share of sources and targets longer than their maximum (cut by the tokenizer)."""
    import pyarrow.compute as pc

    notes = []
    table = tokenized.with_format("arrow")
    for column, text_column, limit, key, add in (
        ("input_ids", source, data["max_length"], "max_length", prefix),
        ("labels", target, data["max_target_length"], "max_target_length", ""),
    ):
        lengths = pc.list_value_length(table[column]).to_pylist()
        at_limit = [index for index, length in enumerate(lengths) if length >= limit]
        if not at_limit:
            continue
        texts = [add + str(text) for text in raw.select(at_limit)[text_column]]
        encoded = (
            tokenizer(texts, return_token_type_ids=False)
            if column == "input_ids"
            else tokenizer(text_target=texts, return_token_type_ids=False)
        )
        cut = sum(1 for ids in encoded["input_ids"] if len(ids) > limit)
        if cut:
            what = "sources" if column == "input_ids" else "targets"
            notes.append(
                f"{split}: {cut:,} of {len(lengths):,} {what} ({cut / len(lengths):.1%}) are longer than"
                f" data.{key} = {limit} tokens and were cut"
            )
    return notes


class GenerationEvaluator(Evaluator):
    """Generates for each evaluation batch; the texts are scored once all batches are in."""

    def __init__(self, accelerator, tokenizer, training: dict, names: list[str], context: dict) -> None:
        super().__init__(accelerator)
        self.tokenizer = tokenizer
        self.names = names
        self.sources = context.get("sources") or []
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.generate_options = {
            "num_beams": training.get("generation_num_beams") or 1,
            "max_length": training.get("generation_max_length") or 128,
        }
        self.predicted: list[str] = []
        self.references: list[str] = []
        self.losses: list[float] = []

    def _generator(self, model):
        if self.accelerator is None:
            return model
        return self.accelerator.unwrap_model(model, keep_torch_compile=False)

    def add(self, batch: dict, outputs, model) -> None:
        import torch

        options = dict(self.generate_options)
        accelerator = self.accelerator
        if accelerator is not None and accelerator.num_processes > 1:
            # FSDP shards the weights: every process must run each forward of generate together
            options["synced_gpus"] = "FSDP" in str(accelerator.distributed_type)
        generated = self._generator(model).generate(
            input_ids=batch["input_ids"], attention_mask=batch.get("attention_mask"), **options
        )
        labels = batch["labels"]
        losses = self._example_losses(outputs, labels)
        if accelerator is not None:
            generated = accelerator.pad_across_processes(generated, dim=1, pad_index=self.pad_id)
            labels = accelerator.pad_across_processes(labels, dim=1, pad_index=-100)
        generated, labels, losses = self.gather((generated, labels, losses))
        labels = torch.where(labels != -100, labels, torch.full_like(labels, self.pad_id))
        decode = self.tokenizer.batch_decode
        self.predicted.extend(text.strip() for text in decode(generated.cpu().tolist(), skip_special_tokens=True))
        self.references.extend(text.strip() for text in decode(labels.cpu().tolist(), skip_special_tokens=True))
        self.losses.extend(losses.cpu().tolist() if losses is not None else [float("nan")] * len(labels))

    @staticmethod
    def _example_losses(outputs, labels):
        """Each example's mean token cross-entropy (NaN with no logits)."""
        import torch

        logits = getattr(outputs, "logits", None)
        if logits is None or logits.shape[:2] != labels.shape:
            return torch.full((labels.shape[0],), float("nan"), device=labels.device)
        tokens = torch.nn.functional.cross_entropy(
            logits.float().transpose(1, 2), labels, ignore_index=-100, reduction="none"
        )
        counts = (labels != -100).sum(dim=1).clamp(min=1)
        return tokens.sum(dim=1) / counts

    def finish(self, eval_loss: float) -> EvalResult:
        from workbench.core.tasks import generation_metrics

        metrics = generation_metrics.compute(self.names, self.predicted, self.references)
        count = len(self.predicted)
        inputs = list(self.sources[:count]) + [""] * max(0, count - len(self.sources))
        scores = generation_metrics.example_scores(self.names, self.predicted, self.references) if count else []
        records = {
            "id": list(range(count)),
            "input": inputs,
            "gold": list(self.references),
            "predicted": list(self.predicted),
            "score": scores,
            "loss": list(self.losses),
        }
        samples = [
            {"input": inputs[index], "reference": self.references[index], "prediction": self.predicted[index]}
            for index in range(min(SAMPLES_SHOWN, count))
        ]
        return EvalResult(metrics, records, samples)


TASK = Seq2Seq()
