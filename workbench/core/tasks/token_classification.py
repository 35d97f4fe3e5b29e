"""Token classification (named entities, part-of-speech, chunks): one tag per word.

Data: CoNLL column files (`core.data.formats.conll`, the tag column `data.conll_tag_index`), or
JSON/JSONL/Parquet with a list of tokens and a list of tags per row (strings, or ids named by a
`ClassLabel` feature or `model.id2label`). `data.text_column` names the tokens, `data.label_column`
the tags. Tags follow IOB1/IOB2 (O, B-X, I-X), BIOES (+ E-X, S-X) or BILOU (+ L-X, U-X).

Preprocessing is the course's (chapter 7): words tokenized with `is_split_into_words=True`, each
word's tag on its first sub-token and -100 on the rest (`data.label_all_tokens`: every sub-token,
B-X continued as I-X), `DataCollatorForTokenClassification`. Metrics are seqeval's entity-level
precision, recall and F1 plus token accuracy, over the positions with a label, as the course's
`compute_metrics` does. `group_entities` turns a model's logits on a text into the entities that
transformers' `TokenClassificationPipeline` returns (aggregation simple, first, max or average).
"""

from __future__ import annotations

import re
from pathlib import Path

from workbench.core.errors import WorkbenchError
from workbench.core.tasks.base import EvalResult, Evaluator, HeadLabels, Prepared, Task, limit_rows, load_spec_files

TOKEN_METRICS = ("precision", "recall", "f1", "accuracy")
TAG = re.compile(r"^(O|([BIESUL])-(\S.*))$")
PREFIX_ORDER = {"B": 0, "I": 1, "E": 2, "L": 2, "S": 3, "U": 3}
# Files read as CoNLL whether or not they look like it (a bad line is then named, not guessed around).
CONLL_SUFFIXES = {".txt", ".conll", ".iob", ".bio", ".iob2", ".bioes"}
SCHEME_HINT = (
    "Tags must be O or a prefix, a dash and the entity type: B-/I- (IOB1, IOB2), B-/I-/E-/S- (BIOES)"
    " or B-/I-/L-/U- (BILOU), e.g. B-PER. For a CoNLL file, data.conll_tag_index picks the tag column."
)
AGGREGATIONS = ("simple", "first", "max", "average")
DEFAULT_COLUMNS = {"text_column": "text", "label_column": "label"}  # the spec's defaults, made for other tasks


# -- words ---------------------------------------------------------------------------------


def add_prefix_space_for_words(tokenizer) -> bool:
    """Give a byte-level BPE tokenizer (RoBERTa, GPT-2, DeBERTa) a space before every word.

    Such a tokenizer marks a word's start with the space before it; tokenizing pre-split words
    without one gives every word the sub-tokens of a word's middle, which the model never saw in
    pre-training (the course loads these with `add_prefix_space=True`). Changed in place, so the
    tokenizer saved with the model tokenizes raw text the same way at inference. True when changed."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    pre = getattr(backend, "pre_tokenizer", None)
    if pre is None:
        return False
    from tokenizers import pre_tokenizers

    parts = [pre]
    if isinstance(pre, pre_tokenizers.Sequence):
        parts = []
        while True:  # a Sequence indexes but has no len()
            try:
                parts.append(pre[len(parts)])
            except IndexError:
                break
    changed = False
    for part in parts:
        if isinstance(part, pre_tokenizers.ByteLevel) and not part.add_prefix_space:
            part.add_prefix_space = True
            changed = True
    if changed:
        backend.pre_tokenizer = pre
        tokenizer.add_prefix_space = True
    return changed


# -- tags --------------------------------------------------------------------------------


def split_tag(tag: str) -> tuple[str, str]:
    """("B", "PER") from "B-PER"; ("O", "") for O."""
    match = TAG.match(tag)
    if match is None:
        raise ValueError(tag)
    return (match.group(2), match.group(3)) if match.group(2) else ("O", "")


def tag_sort_key(tag: str) -> tuple:
    """O first, then by entity type, B before I (before E/L, before S/U)."""
    prefix, kind = split_tag(tag)
    return (0, "", 0) if prefix == "O" else (1, kind, PREFIX_ORDER[prefix])


def detect_scheme(tag_rows, where) -> str:
    """ "IOB" (IOB1 or IOB2), "IOBES" or "BILOU" for these rows of tags; a bad tag raises a
    WorkbenchError naming `where(row)` (the file and the sentence)."""
    prefixes: set[str] = set()
    for row, tags in enumerate(tag_rows):
        for position, tag in enumerate(tags):
            match = TAG.match(tag) if isinstance(tag, str) else None
            if match is None:
                raise WorkbenchError(
                    f"{where(row)}, word {position + 1}: the tag {tag!r} is not IOB (IOB1, IOB2, BIOES or BILOU).",
                    hint=SCHEME_HINT,
                )
            if match.group(2):
                prefixes.add(match.group(2))
    if prefixes & {"E", "S"} and prefixes & {"L", "U"}:
        raise WorkbenchError(
            f"{where(None)}: the tags mix BIOES (E-, S-) and BILOU (L-, U-) prefixes.", hint=SCHEME_HINT
        )
    if prefixes & {"E", "S"}:
        return "IOBES"
    if prefixes & {"L", "U"}:
        return "BILOU"
    return "IOB"


def label_names(train_tags, given: list[str] | None = None) -> list[str]:
    """The label list: `given` (a ClassLabel's names, model.id2label) as it is, else the training
    tags sorted with O first, then by type (B-LOC, I-LOC, B-MISC, …)."""
    if given:
        return list(given)
    found = {tag for tags in train_tags for tag in tags}
    return sorted(found, key=tag_sort_key)


def continuation_of(names: list[str]) -> dict[int, int]:
    """label id -> the id a later sub-token of the word gets with label_all_tokens (B-X -> I-X)."""
    index = {name: position for position, name in enumerate(names)}
    mapping = {}
    for position, name in enumerate(names):
        if name.startswith("B-") and f"I-{name[2:]}" in index:
            mapping[position] = index[f"I-{name[2:]}"]
    return mapping


def align_labels(word_ids, word_labels: list[int], label_all_tokens: bool = False, continuation=None) -> list[int]:
    """Labels per sub-token from labels per word: the first sub-token of a word gets the word's
    label, special tokens -100, later sub-tokens -100 (or, with `label_all_tokens`, the word's
    label with B-X turned into I-X through `continuation`, as the course's align_labels_with_tokens)."""
    continuation = continuation or {}
    labels = []
    previous = None
    for word in word_ids:
        if word is None:
            labels.append(-100)
        elif word != previous:
            labels.append(word_labels[word])
        else:
            labels.append(continuation.get(word_labels[word], word_labels[word]) if label_all_tokens else -100)
        previous = word
    return labels


# -- metrics -----------------------------------------------------------------------------


def seqeval_metrics(gold: list[list[str]], predicted: list[list[str]], scheme: str = "IOB", names=None) -> dict:
    """Entity-level precision, recall and F1 (micro) and token accuracy, as seqeval computes them:
    the default (conlleval) mode for IOB1/IOB2, strict mode with the IOBES or BILOU scheme."""
    import warnings

    from seqeval.metrics import accuracy_score, f1_score, precision_score, recall_score

    options: dict = {}
    if scheme in ("IOBES", "BILOU"):
        from seqeval import scheme as schemes

        options = {"mode": "strict", "scheme": getattr(schemes, scheme)}
    functions = {
        "precision": precision_score,
        "recall": recall_score,
        "f1": f1_score,
    }
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns about zero division and unknown tags
        for name in names or TOKEN_METRICS:
            if name == "accuracy":
                results[name] = float(accuracy_score(gold, predicted)) if any(gold) else 0.0
            elif name in functions:
                results[name] = float(functions[name](gold, predicted, zero_division=0, **options))
    return results


# -- entity grouping (prediction) ----------------------------------------------------------


def _softmax(logits):
    import numpy as np

    maxes = np.max(logits, axis=-1, keepdims=True)
    shifted = np.exp(logits - maxes)
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _pipeline_tag(name: str) -> tuple[str, str]:
    """The pipeline's B/I reading of a label: B-X and I-X, anything else an I- of itself."""
    if name.startswith("B-"):
        return "B", name[2:]
    if name.startswith("I-"):
        return "I", name[2:]
    return "I", name


def group_entities(
    text: str,
    tokenizer,
    input_ids,
    offsets,
    special_tokens_mask,
    logits,
    id2label: dict[int, str],
    aggregation: str = "simple",
    ignore_labels=("O",),
) -> list[dict]:
    """Entities `{entity_group, score, word, start, end}` of one encoded text, as transformers'
    TokenClassificationPipeline groups them with `aggregation_strategy=aggregation`.

    `input_ids`, `offsets` (character spans) and `special_tokens_mask` are the tokenizer's
    (`return_offsets_mapping=True, return_special_tokens_mask=True`) for one text, `logits` the
    model's for it (tokens x labels). Sub-words are found as the pipeline finds them: through the
    tokenizer's continuing-subword prefix when it has one, else by the characters around a token."""
    import numpy as np

    if aggregation not in AGGREGATIONS:
        raise WorkbenchError(f"aggregation {aggregation!r}: use one of {', '.join(AGGREGATIONS)}.")
    if hasattr(logits, "detach"):
        logits = logits.detach().float().cpu().numpy()
    scores = _softmax(np.asarray(logits, dtype=np.float32))
    input_ids = [int(value) for value in input_ids]
    offsets = [tuple(int(v) for v in pair) for pair in offsets]
    backend = getattr(tokenizer, "_tokenizer", None)  # the pipeline's own test for a word-aware tokenizer
    word_aware = bool(backend and getattr(backend.model, "continuing_subword_prefix", None))
    tokens = []
    for index, token_scores in enumerate(scores):
        if special_tokens_mask[index]:
            continue
        word = tokenizer.convert_ids_to_tokens(input_ids[index])
        start, end = offsets[index]
        reference = text[start:end]
        if word_aware:
            is_subword = len(word) != len(reference)
        else:
            is_subword = start > 0 and " " not in text[start - 1 : start + 1]
        if input_ids[index] == tokenizer.unk_token_id:
            word, is_subword = reference, False
        tokens.append({"word": word, "scores": token_scores, "start": start, "end": end, "is_subword": is_subword})
    if aggregation == "simple":
        entities = []
        for token in tokens:
            best = int(token["scores"].argmax())
            entities.append(
                {
                    "entity": id2label[best],
                    "score": token["scores"][best],
                    "word": token["word"],
                    "start": token["start"],
                    "end": token["end"],
                }
            )
    else:
        entities = [_aggregate_word(group, aggregation, tokenizer, id2label) for group in _words(tokens)]
    groups = [_group(group, tokenizer) for group in _adjacent(entities)]
    return [group for group in groups if group["entity_group"] not in ignore_labels]


def _words(tokens: list[dict]) -> list[list[dict]]:
    words: list[list[dict]] = []
    for token in tokens:
        if words and token["is_subword"]:
            words[-1].append(token)
        else:
            words.append([token])
    return words


def _aggregate_word(tokens: list[dict], aggregation: str, tokenizer, id2label) -> dict:
    import numpy as np

    if aggregation == "first":
        scores = tokens[0]["scores"]
    elif aggregation == "max":
        scores = max(tokens, key=lambda token: token["scores"].max())["scores"]
    else:  # average
        scores = np.nanmean(np.stack([token["scores"] for token in tokens]), axis=0)
    best = int(scores.argmax())
    return {
        "entity": id2label[best],
        "score": scores[best],
        "word": tokenizer.convert_tokens_to_string([token["word"] for token in tokens]),
        "start": tokens[0]["start"],
        "end": tokens[-1]["end"],
    }


def _adjacent(entities: list[dict]) -> list[list[dict]]:
    """Runs of adjacent entities of one type; a B- starts a new run (the pipeline's group_entities)."""
    runs: list[list[dict]] = []
    for entity in entities:
        if runs:
            prefix, kind = _pipeline_tag(entity["entity"])
            _, last_kind = _pipeline_tag(runs[-1][-1]["entity"])
            if kind == last_kind and prefix != "B":
                runs[-1].append(entity)
                continue
        runs.append([entity])
    return runs


def _group(entities: list[dict], tokenizer) -> dict:
    import numpy as np

    return {
        "entity_group": entities[0]["entity"].split("-", 1)[-1],
        "score": float(np.mean(np.nanmean([entity["score"] for entity in entities]))),
        "word": tokenizer.convert_tokens_to_string([entity["word"] for entity in entities]),
        "start": entities[0]["start"],
        "end": entities[-1]["end"],
    }


# -- the task ------------------------------------------------------------------------------


def _is_list(feature) -> bool:
    return type(feature).__name__ in ("List", "Sequence", "LargeList")


def _inner(feature):
    return getattr(feature, "feature", None)


def _list_columns(dataset) -> list[str]:
    return [name for name, feature in dataset.features.items() if _is_list(feature)]


def _string_list(feature) -> bool:
    return _is_list(feature) and getattr(_inner(feature), "dtype", "") in ("string", "large_string")


class TokenClassification(Task):
    name = "token-classification"
    pipeline_tag = "token-classification"
    auto_class = "AutoModelForTokenClassification"
    metric_names = TOKEN_METRICS
    default_metrics = ("f1", "precision", "recall", "accuracy")
    card_task_name = "Token Classification"

    # -- data ------------------------------------------------------------------------------

    def guess_data(self, splits: dict) -> dict:
        """The tokens column (a list of strings: `tokens`, `words`, …) and the tags column (a list
        of strings or ids: `ner_tags`, `tags`, `labels`, …)."""
        train = splits["train"]
        lists = _list_columns(train)
        strings = [name for name in lists if _string_list(train.features[name])]
        tokens = _pick(strings, ("tokens", "words", "token", "word", "text", "sentence")) or (
            strings[0] if strings else ""
        )
        rest = [name for name in lists if name != tokens]
        tags = _pick(rest, ("ner_tags", "tags", "labels", "ner", "label", "tag", "ner_tag"))
        if not tags:
            named = [name for name in rest if any(word in name.lower() for word in ("ner", "tag", "label"))]
            tags = named[0] if named else (rest[-1] if rest else "")
        return {"text_column": tokens, "label_column": tags}

    def load_raw(self, data: dict):
        """CoNLL files through the CoNLL reader (with `data.conll_tag_index`); anything else as the
        other tasks load it."""
        import datasets

        from workbench.core.data.files import check_readable
        from workbench.core.data.formats import conll

        files = {split: data.get(key) for split, key in (("train", "train_file"), ("validation", "validation_file"))}
        paths = {split: Path(value).expanduser() for split, value in files.items() if value}
        if data.get("dataset") or not paths:
            return load_spec_files(data)

        def is_conll(path: Path) -> bool:
            return path.is_file() and (path.suffix.lower() in CONLL_SUFFIXES or conll.sniff(path))

        if not any(is_conll(path) for path in paths.values()):
            return load_spec_files(data)
        splits = {}
        for split, path in paths.items():
            key = "train_file" if split == "train" else "validation_file"
            try:
                if not path.exists():
                    raise WorkbenchError(f"{path}: no such file.", hint="Check the path; ~ is expanded.")
                check_readable(path, "text")
                if not is_conll(path):
                    raise WorkbenchError(
                        f"{path.name} is not a CoNLL column file, but the other split is.", hint=conll.HINT
                    )
                splits[split] = conll.read_files([path], tag_index=int(data.get("conll_tag_index", -1)))
            except WorkbenchError as error:
                raise WorkbenchError(f"data.{key}: {error.message}", hint=error.hint) from None
        return datasets.DatasetDict(splits)

    def columns(self, raw, data: dict) -> tuple[str, str]:
        """The tokens and tags columns: the spec's, or guessed when the spec keeps the defaults
        made for text classification (`text`, `label`) and the data has no such columns."""
        train = raw["train"]
        guessed = self.guess_data(raw)
        chosen = {}
        for key in ("text_column", "label_column"):
            name = data.get(key) or ""
            if name not in train.column_names and (not name or name == DEFAULT_COLUMNS[key]):
                name = guessed[key]
            chosen[key] = name
        for key, name in chosen.items():
            what = "tokens" if key == "text_column" else "tags"
            for split, dataset in raw.items():
                if not name or name not in dataset.column_names:
                    raise WorkbenchError(
                        f"data.{key}: no {what} column {name!r} in the {split} data"
                        if name
                        else f"data.{key}: no column of {what} (a list per row) in the {split} data",
                        hint=f"Columns: {', '.join(dataset.column_names)}. Token classification needs a list of"
                        " tokens and a list of tags per row (or a CoNLL file).",
                    )
                if not _is_list(dataset.features[name]):
                    raise WorkbenchError(
                        f"data.{key}: the column {name!r} of the {split} data holds {dataset.features[name]},"
                        f" not a list of {what} per row.",
                        hint="Token classification needs a list of tokens and a list of tags per row"
                        " (or a CoNLL file).",
                    )
        if not _string_list(train.features[chosen["text_column"]]):
            raise WorkbenchError(f"data.text_column: {chosen['text_column']!r} must hold lists of strings (the words).")
        return chosen["text_column"], chosen["label_column"]

    def checked_tags(self, raw, data: dict, model_section: dict):
        """The tags as strings, checked (one per token, one scheme, every tag known), and the label
        list; returns (raw, tokens_column, tags_column, names, scheme)."""
        tokens_column, tags_column = self.columns(raw, data)
        sources = _sources(data)
        raw, given = _tags_as_strings(raw, tags_column, model_section, sources)
        schemes = set()
        for split, dataset in raw.items():
            tags = dataset[tags_column]
            where = _where(sources[split], dataset)
            schemes.add(detect_scheme(tags, where))
            for row, (words, row_tags) in enumerate(zip(dataset[tokens_column], tags)):
                if len(words) != len(row_tags):
                    raise WorkbenchError(
                        f"{where(row)}: {len(words)} tokens but {len(row_tags)} tags.",
                        hint="Each token needs exactly one tag.",
                    )
        schemes.discard("IOB")
        if len(schemes) > 1:
            raise WorkbenchError("The training and validation tags use different schemes (BIOES and BILOU).")
        scheme = schemes.pop() if schemes else "IOB"
        names = label_names(raw["train"][tags_column], given)
        if data.get("label_all_tokens") and not given:
            extra = [f"I-{name[2:]}" for name in names if name.startswith("B-") and f"I-{name[2:]}" not in names]
            names = sorted(set(names) | set(extra), key=tag_sort_key)
        label2id = {name: index for index, name in enumerate(names)}
        for split in raw:
            unknown = sorted({tag for tags in raw[split][tags_column] for tag in tags} - set(label2id))
            if unknown and given:
                raise WorkbenchError(
                    f"{sources[split]}: the tag(s) {', '.join(unknown)} are not in the label list"
                    f" ({', '.join(names)}).",
                    hint="model.id2label (or the data's ClassLabel names) must name every tag of the data.",
                )
            if unknown:
                raise WorkbenchError(
                    f"{sources[split]}: the tag(s) {', '.join(unknown)} are not in the training data"
                    f" ({sources['train']}).",
                    hint=f"The model learns the training tags only: {', '.join(names)}.",
                )
        return raw, tokens_column, tags_column, names, scheme

    def head_labels(self, raw, spec: dict) -> HeadLabels:
        names = self.checked_tags(raw, spec["data"], spec["model"])[3]
        return HeadLabels(len(names), dict(enumerate(names)))

    def prepare(self, raw, spec: dict, tokenizer) -> Prepared:
        import datasets

        from workbench.core.tasks.tokenizing import tokenizer_parallelism

        data = spec["data"]
        raw = limit_rows(raw, data)
        raw, tokens_column, tags_column, names, scheme = self.checked_tags(raw, data, spec["model"])
        label2id = {name: index for index, name in enumerate(names)}
        label_all = bool(data.get("label_all_tokens"))
        if not getattr(tokenizer, "is_fast", False):
            raise WorkbenchError(
                "Token classification needs a fast (Rust) tokenizer: its word_ids() map sub-tokens to words.",
                hint="Pick a model that ships a tokenizer.json.",
            )
        continuation = continuation_of(names)
        max_length = data["max_length"]
        cut: dict[str, int] = {}
        prefixed = add_prefix_space_for_words(tokenizer)

        def tokenize(batch, split):
            encoded = tokenizer(batch[tokens_column], is_split_into_words=True, truncation=True, max_length=max_length)
            labels = []
            for row, tags in enumerate(batch[tags_column]):
                word_ids = encoded.word_ids(row)
                ids = [label2id[tag] for tag in tags]
                labels.append(align_labels(word_ids, ids, label_all, continuation))
                words = [word for word in word_ids if word is not None]
                if len(encoded["input_ids"][row]) >= max_length and (not words or words[-1] < len(tags) - 1):
                    cut[split] = cut.get(split, 0) + 1
            encoded["labels"] = labels
            return encoded

        tokenized = {}
        with tokenizer_parallelism():
            for split, dataset in raw.items():
                tokenized[split] = dataset.map(
                    tokenize,
                    batched=True,
                    remove_columns=dataset.column_names,
                    fn_kwargs={"split": split},
                    load_from_cache_file=False,  # `cut` is counted while mapping
                )
        notes = []
        if prefixed:
            notes.append("byte-level tokenizer: a space goes before every word (add_prefix_space=True)")
        for split, count in cut.items():
            if count:
                notes.append(
                    f"{count} of {len(raw[split])} {split} sentences are longer than max_length={max_length};"
                    " their ends are cut"
                    + (" (their words past the cut are not evaluated)" if split == "validation" else "")
                )
        context = None
        if "validation" in raw:
            validation = raw["validation"]
            ids = validation["id"] if "id" in validation.column_names else range(len(validation))
            context = {
                "ids": [str(value) for value in ids],
                "tokens": validation[tokens_column],
                "scheme": scheme,
            }
        labels = HeadLabels(len(names), dict(enumerate(names)))
        splits = datasets.DatasetDict(tokenized)
        return Prepared(splits["train"], splits.get("validation"), labels, eval_context=context, notes=notes)

    # -- model -----------------------------------------------------------------------------

    def collator(self, tokenizer, pad_to_multiple_of: int | None, model=None):
        from transformers import DataCollatorForTokenClassification

        return DataCollatorForTokenClassification(tokenizer, pad_to_multiple_of=pad_to_multiple_of)

    def evaluator(self, prepared: Prepared, spec: dict, tokenizer, accelerator) -> Evaluator:
        import seqeval.metrics  # noqa: F401  (fails here, early, when seqeval is missing)

        names = self.chosen_metrics(spec["training"].get("metrics"))
        return TokenEvaluator(accelerator, prepared, names)


def _pick(names: list[str], preferred: tuple[str, ...]) -> str:
    lowered = {name.lower(): name for name in names}
    for wanted in preferred:
        if wanted in lowered:
            return lowered[wanted]
    return ""


def _sources(data: dict) -> dict[str, str]:
    if data.get("dataset"):
        return {"train": f"{data['dataset']} (train)", "validation": f"{data['dataset']} (validation)"}
    return {
        "train": Path(data.get("train_file") or "train").name,
        "validation": Path(data.get("validation_file") or "validation").name,
    }


def _where(source: str, dataset):
    """A function naming a row: file, sentence number and id."""
    ids = dataset["id"] if "id" in dataset.column_names else None

    def where(row):
        if row is None:
            return source
        named = f" (id {ids[row]!r})" if ids is not None else ""
        return f"{source}: sentence {row + 1}{named}"

    return where


def _tags_as_strings(raw, column: str, model_section: dict, sources: dict):
    """Tags as strings: ids turned into names through a ClassLabel feature or `model.id2label`.
    Returns (raw, the ClassLabel's or id2label's names in order, or None)."""
    import datasets

    feature = raw["train"].features[column]
    inner = _inner(feature)
    configured = {int(k): v for k, v in (model_section.get("id2label") or {}).items()}
    if isinstance(inner, datasets.ClassLabel):
        names = list(inner.names)
    elif getattr(inner, "dtype", "") in ("string", "large_string"):
        return raw, ([configured[i] for i in sorted(configured)] if configured else None)
    elif str(getattr(inner, "dtype", "")).startswith(("int", "uint")):
        if not configured:
            raise WorkbenchError(
                f"data.label_column: the tags of {sources['train']} are ids ({inner.dtype}) with no names.",
                hint='Name them in the spec: [model.id2label] "0" = "O", "1" = "B-PER", … (the order the ids mean).',
            )
        names = [configured[i] for i in sorted(configured)]
    else:
        raise WorkbenchError(f"data.label_column: tags of type {feature} are not supported (strings or ids).")

    def to_names(batch):
        converted = []
        for tags in batch[column]:
            try:
                converted.append([names[int(tag)] for tag in tags])
            except (IndexError, ValueError) as error:
                raise WorkbenchError(
                    f"data.label_column: a tag id in {tags} has no name (the names: {names}).",
                ) from error
        return {column: converted}

    features = {}
    for split, dataset in raw.items():
        target = dataset.features.copy()
        target[column] = datasets.List(datasets.Value("string"))
        features[split] = dataset.map(to_names, batched=True, features=target)
    return datasets.DatasetDict(features), names


class TokenEvaluator(Evaluator):
    """Argmax per token; the positions labelled -100 dropped; seqeval over the sentences."""

    def __init__(self, accelerator, prepared: Prepared, names: list[str]) -> None:
        super().__init__(accelerator)
        self.names = names
        self.id2label = prepared.labels.id2label
        self.context = prepared.eval_context or {}
        self.gold: list[list[str]] = []
        self.predicted: list[list[str]] = []
        self.scores: list[float] = []
        self.losses: list[float] = []

    def add(self, batch: dict, outputs, model) -> None:
        import torch

        logits = outputs.logits.float()
        labels = batch["labels"]
        scores, predicted = logits.softmax(dim=-1).max(dim=-1)
        losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels, ignore_index=-100, reduction="none")
        if self.accelerator is not None and self.accelerator.num_processes > 1:
            pad = self.accelerator.pad_across_processes
            predicted, scores, losses = (pad(t, dim=1) for t in (predicted, scores, losses))
            labels = pad(labels, dim=1, pad_index=-100)
        predicted, labels, scores, losses = self.gather((predicted, labels, scores, losses))
        mask = labels != -100
        for row in range(labels.shape[0]):
            keep = mask[row]
            gold = labels[row][keep].tolist()
            guess = predicted[row][keep].tolist()
            self.gold.append([self.id2label[index] for index in gold])
            self.predicted.append([self.id2label[index] for index in guess])
            count = int(keep.sum())
            self.scores.append(float(scores[row][keep].mean()) if count else 0.0)
            self.losses.append(float(losses[row][keep].sum()) / count if count else 0.0)

    def finish(self, eval_loss: float) -> EvalResult:
        scheme = self.context.get("scheme", "IOB")
        metrics = seqeval_metrics(self.gold, self.predicted, scheme, self.names) if self.names else {}
        count = len(self.gold)
        ids = list(self.context.get("ids") or [str(index) for index in range(count)])[:count]
        tokens = list(self.context.get("tokens") or [[] for _ in range(count)])[:count]
        records = {
            "id": ids,
            "input": [" ".join(words) for words in tokens],
            "gold": [" ".join(tags) for tags in self.gold],
            "predicted": [" ".join(tags) for tags in self.predicted],
            "score": self.scores,
            "loss": self.losses,
        }
        return EvalResult(metrics, records)


TASK = TokenClassification()
