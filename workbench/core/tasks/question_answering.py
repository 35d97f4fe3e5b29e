"""Extractive question answering: the answer is a span of the context, as in the course's chapter 7.

Preparation (the course's `preprocess_training_examples` / `preprocess_validation_examples`, and
transformers' `run_qa.py`): a question and its context are tokenized together; a context longer
than `data.max_length` becomes several windows that share `data.doc_stride` tokens
(`return_overflowing_tokens`), and each window's answer is its start and end token (the CLS
position when the answer is not inside the window, or the question has none). Windows are not
padded here: the collator pads each batch.

Evaluation (the course's `compute_metrics`, `run_qa`'s `postprocess_qa_predictions`): the
`n_best_size` best start and end logits of every window of an example are paired, spans longer than
`max_answer_length` tokens or outside the context are dropped, and the best span over all windows is
the answer; with `version_2_with_negative` the empty answer wins when the null (CLS) score beats
the best span by more than `null_score_diff_threshold`. Exact match and F1 are the official SQuAD
scripts' (`squad_metric`).

`answer_question` is transformers' `QuestionAnsweringPipeline` (removed in transformers 5) for
one question: the playground and `workbench model predict --head question-answering` use it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.core.tasks.base import CardInfo, EvalResult, Evaluator, HeadLabels, Prepared, Task, limit_rows

QA_METRICS = ("exact_match", "f1", "has_answer_f1", "no_answer_f1")
DEFAULT_ID_COLUMN = "id"
SHOWN_IDS = 5  # example ids named in a note
SAMPLES = 3  # predictions shown next to their references in the evaluation event

# Column names people give these fields, most likely first.
QUESTION_NAMES = ("question", "questions", "query", "question_text")
CONTEXT_NAMES = ("context", "passage", "paragraph", "document", "context_text", "story")
ANSWER_NAMES = ("answers", "answer", "gold_answers")
ID_NAMES = ("id", "qid", "question_id", "example_id", "qas_id", "uid", "guid")


# -- answers in the shapes files hold them -----------------------------------------------------


def answers_of(value: Any) -> tuple[list[str], list[int]] | None:
    """(texts, starts) of one row's answers, or None when the value is no answer set.

    Accepts the Hub's `{text: [...], answer_start: [...]}`, one answer `{text: "...", answer_start: 3}`,
    and a list of `{text, answer_start}` (SQuAD's own nesting); None or empty lists mean no answer."""
    if value is None:
        return [], []
    if isinstance(value, dict) and "text" in value and "answer_start" in value:
        texts, starts = value["text"], value["answer_start"]
        if texts is None and starts is None:
            return [], []
        if isinstance(texts, str):
            texts, starts = [texts], [starts]
        if not isinstance(texts, list | tuple) or not isinstance(starts, list | tuple) or len(texts) != len(starts):
            return None
        pairs = list(zip(texts, starts, strict=True))
    elif isinstance(value, list | tuple):
        if not all(isinstance(item, dict) and "text" in item and "answer_start" in item for item in value):
            return None
        pairs = [(item["text"], item["answer_start"]) for item in value]
    else:
        return None
    if not all(
        isinstance(text, str) and isinstance(start, int) and not isinstance(start, bool) for text, start in pairs
    ):
        return None
    return [text for text, _ in pairs], [start for _, start in pairs]


def looks_like_answers(feature) -> bool:
    """A `datasets` feature shaped like an answers column."""
    import datasets

    if isinstance(feature, dict):
        return "text" in feature and "answer_start" in feature
    inner = getattr(feature, "feature", None)
    if isinstance(feature, datasets.List | datasets.LargeList) and isinstance(inner, dict):
        return "text" in inner and "answer_start" in inner
    return False


def column(dataset, name: str) -> list:
    """A whole column as a list (`dataset[name]` is a lazy column in datasets 5, read row by row)."""
    return dataset.with_format("arrow")[name].to_pylist()


def answer_matches(context: str, text: str, start: int) -> bool:
    return 0 <= start and context[start : start + len(text)] == text


def _pick(names: list[str], preferred: tuple[str, ...], taken: set[str]) -> str:
    lowered = {name.lower(): name for name in names if name not in taken}
    for wanted in preferred:
        if wanted in lowered:
            return lowered[wanted]
    for wanted in preferred:
        for low, name in lowered.items():
            if wanted in low:
                return name
    return ""


# -- windows -----------------------------------------------------------------------------------


def question_first(tokenizer) -> bool:
    """Question then context, truncating the context (`run_qa`'s `pad_on_right`), unless the
    tokenizer pads on the left (XLNet), where the context comes first."""
    return getattr(tokenizer, "padding_side", "right") == "right"


def tokenize_windows(tokenizer, questions: list[str], contexts: list[str], max_length: int, stride: int):
    """Every window of every (question, context): `overflow_to_sample_mapping` says whose it is."""
    first = question_first(tokenizer)
    return tokenizer(
        questions if first else contexts,
        contexts if first else questions,
        truncation="only_second" if first else "only_first",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )


def context_span(sequence_ids: list, context_id: int) -> tuple[int, int]:
    """First and last token of the context in one window."""
    start = 0
    while sequence_ids[start] != context_id:
        start += 1
    end = len(sequence_ids) - 1
    while sequence_ids[end] != context_id:
        end -= 1
    return start, end


def answer_positions(
    offsets: list, sequence_ids: list, context_id: int, start_char: int, end_char: int, cls_index: int
) -> tuple[int, int]:
    """The start and end tokens of the answer `[start_char, end_char)` in one window (the course's
    loop); `cls_index` twice when the answer is not entirely inside the window."""
    context_start, context_end = context_span(sequence_ids, context_id)
    if offsets[context_start][0] > start_char or offsets[context_end][1] < end_char:
        return cls_index, cls_index
    index = context_start
    while index <= context_end and offsets[index][0] <= start_char:
        index += 1
    start = index - 1
    index = context_end
    while index >= context_start and offsets[index][1] >= end_char:
        index -= 1
    return start, index + 1


def cls_position(input_ids: list[int], cls_token_id) -> int:
    if cls_token_id is not None and cls_token_id in input_ids:
        return input_ids.index(cls_token_id)
    return 0


def window_stats(
    tokenizer, questions: list[str], contexts: list[str], answers: list, max_length: int, stride: int
) -> dict:
    """What the Datasets pane shows for QA at a `max_length`/`stride`: windows per question and the
    answers no window holds whole (lost to truncation). `answers` are raw answer values (any shape
    `answers_of` reads)."""
    encoded = tokenize_windows(tokenizer, [q.lstrip() for q in questions], contexts, max_length, stride)
    context_id = 1 if question_first(tokenizer) else 0
    per_example = [0] * len(questions)
    held = [False] * len(questions)
    for window, sample in enumerate(encoded["overflow_to_sample_mapping"]):
        per_example[sample] += 1
        parsed = answers_of(answers[sample]) or ([], [])
        if not parsed[0]:
            continue
        cls = cls_position(encoded["input_ids"][window], tokenizer.cls_token_id)
        start = parsed[1][0]
        positions = answer_positions(
            encoded["offset_mapping"][window],
            encoded.sequence_ids(window),
            context_id,
            start,
            start + len(parsed[0][0]),
            cls,
        )
        held[sample] |= positions[0] != cls
    answered = [bool((answers_of(value) or ([], []))[0]) for value in answers]
    return {
        "questions": len(questions),
        "windows": sum(per_example),
        "max_windows": max(per_example, default=0),
        "longer_than_one_window": sum(1 for count in per_example if count > 1),
        "answers_lost": sum(1 for index, has in enumerate(answered) if has and not held[index]),
    }


@dataclass
class Examples:
    """The raw questions of one split, as plain lists."""

    ids: list[str]
    questions: list[str]
    contexts: list[str]
    answers: list[list[str]]
    starts: list[list[int]]

    def __len__(self) -> int:
        return len(self.ids)

    def select(self, keep: list[int]) -> Examples:
        return Examples(
            *(
                [values[i] for i in keep]
                for values in (self.ids, self.questions, self.contexts, self.answers, self.starts)
            )
        )


@dataclass
class QAContext:
    """What the evaluator needs besides the batches: the validation examples and, per window, its
    example and its token offsets (-1 for tokens outside the context, which cannot be in an answer)."""

    examples: Examples
    feature_example: list[int]  # window -> example index
    offset_starts: list  # window -> numpy int array of character starts (-1: not context)
    offset_ends: list
    cls_indexes: list[int]
    version_2: bool
    settings: dict = field(default_factory=dict)

    def offsets(self, feature: int) -> list:
        """The course's form: `(start, end)` per token, None outside the context."""
        return [
            None if start < 0 else (int(start), int(end))
            for start, end in zip(self.offset_starts[feature], self.offset_ends[feature], strict=True)
        ]

    def windows_per_example(self) -> list[int]:
        counts = [0] * len(self.examples)
        for example in self.feature_example:
            counts[example] += 1
        return counts


# -- post-processing ---------------------------------------------------------------------------


@dataclass
class Answer:
    text: str
    score: float  # probability among the n-best candidates (softmax of their logit sums)
    start: int  # character offset in the context; -1 for the empty answer
    logit: float
    windows: int


def _softmax(values):
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    exp = np.exp(values - values.max())
    return exp / exp.sum()


def best_answers(
    context: QAContext,
    start_logits: list,
    end_logits: list,
    *,
    n_best_size: int = 20,
    max_answer_length: int = 30,
    null_score_diff_threshold: float = 0.0,
) -> list[Answer]:
    """One answer per example from the logits of all its windows (`postprocess_qa_predictions`)."""
    import numpy as np

    windows: list[list[int]] = [[] for _ in range(len(context.examples))]
    for feature, example in enumerate(context.feature_example):
        windows[example].append(feature)
    results = []
    for example, features in enumerate(windows):
        text_of = context.examples.contexts[example]
        candidates: list[tuple[float, int, int]] = []  # (score, start char, end char)
        null_score = None
        for feature in features:
            starts_at, ends_at = context.offset_starts[feature], context.offset_ends[feature]
            length = len(starts_at)
            start = np.asarray(start_logits[feature][:length], dtype=np.float32)
            end = np.asarray(end_logits[feature][:length], dtype=np.float32)
            cls = context.cls_indexes[feature]
            feature_null = float(start[cls] + end[cls])
            if null_score is None or feature_null < null_score:
                null_score = feature_null
            start_indexes = np.argsort(start)[-1 : -n_best_size - 1 : -1]
            end_indexes = np.argsort(end)[-1 : -n_best_size - 1 : -1]
            for s in start_indexes.tolist():
                if starts_at[s] < 0:
                    continue
                for e in end_indexes.tolist():
                    if ends_at[e] < 0 or e < s or e - s + 1 > max_answer_length:
                        continue
                    candidates.append((float(start[s] + end[e]), int(starts_at[s]), int(ends_at[e])))
        candidates.sort(key=lambda candidate: candidate[0], reverse=True)
        candidates = candidates[:n_best_size]
        pool = [score for score, _, _ in candidates]
        if context.version_2 and null_score is not None:
            pool.append(null_score)
        probabilities = _softmax(pool) if pool else []
        if not candidates:
            results.append(Answer("", float(probabilities[-1]) if pool else 0.0, -1, null_score or 0.0, len(features)))
            continue
        score, first, last = candidates[0]
        answer = Answer(text_of[first:last], float(probabilities[0]), first, score, len(features))
        if context.version_2 and null_score is not None and null_score - score > null_score_diff_threshold:
            answer = Answer("", float(probabilities[-1]), -1, null_score, len(features))
        results.append(answer)
    return results


# -- the task ----------------------------------------------------------------------------------


def _read_split(dataset, data: dict, split: str, *, need_answers: bool) -> Examples:
    question, context_name, answers_name = data["question_column"], data["context_column"], data["answers_column"]
    id_name = data.get("id_column") or ""
    if id_name and id_name not in dataset.column_names:
        if id_name != DEFAULT_ID_COLUMN:
            raise WorkbenchError(
                f"data.id_column: no column {id_name!r} in the {split} data",
                hint=f"Columns: {', '.join(dataset.column_names)}; empty = row numbers",
            )
        id_name = ""
    for key, name in (("question_column", question), ("context_column", context_name)):
        if name not in dataset.column_names:
            raise WorkbenchError(
                f"data.{key}: no column {name!r} in the {split} data",
                hint=f"Columns: {', '.join(dataset.column_names)}",
            )
    if need_answers and answers_name not in dataset.column_names:
        raise WorkbenchError(
            f"data.answers_column: no column {answers_name!r} in the {split} data",
            hint=f"Columns: {', '.join(dataset.column_names)}; answers are {{text: [...], answer_start: [...]}}",
        )
    ids = (
        [str(value) for value in column(dataset, id_name)] if id_name else [str(index) for index in range(len(dataset))]
    )
    questions, contexts = column(dataset, question), column(dataset, context_name)
    raw_answers = column(dataset, answers_name) if answers_name in dataset.column_names else [None] * len(dataset)
    texts, starts = [], []
    for row, (ident, q, c, value) in enumerate(zip(ids, questions, contexts, raw_answers, strict=True)):
        where = f"{split} row {row + 1} (id {ident})"
        if not isinstance(q, str) or not isinstance(c, str):
            bad = "question" if not isinstance(q, str) else "context"
            raise WorkbenchError(
                f"{where}: the {bad} is {'empty' if (q if bad == 'question' else c) is None else 'not text'}"
            )
        parsed = answers_of(value)
        if parsed is None:
            raise WorkbenchError(
                f"{where}: data.answers_column {answers_name!r} holds {str(value)[:80]!r}",
                hint="Answers are {text: [...], answer_start: [...]} (character offsets in the context).",
            )
        texts.append(parsed[0])
        starts.append(parsed[1])
    return Examples(ids, [q.lstrip() for q in questions], list(contexts), texts, starts)


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:SHOWN_IDS])
    return shown + (f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else "")


class QuestionAnswering(Task):
    name = "question-answering"
    pipeline_tag = "question-answering"
    auto_class = "AutoModelForQuestionAnswering"
    metric_names = QA_METRICS
    default_metrics = ("exact_match", "f1")
    card_task_name = "Question Answering"

    def guess_data(self, splits: dict) -> dict:
        """The question, context, answers and id columns, and whether some questions have no answer."""
        train = splits["train"]
        names = list(train.column_names)
        taken: set[str] = set()
        answers = next((name for name in names if looks_like_answers(train.features[name])), "")
        answers = answers or _pick(names, ANSWER_NAMES, taken)
        taken.add(answers)
        question = _pick(names, QUESTION_NAMES, taken)
        taken.add(question)
        context = _pick(names, CONTEXT_NAMES, taken)
        taken.add(context)
        ident = _pick([n for n in names if n.lower() in ID_NAMES], ID_NAMES, taken)
        guess = {
            "question_column": question or "question",
            "context_column": context or "context",
            "answers_column": answers or "answers",
            "id_column": ident,
        }
        unanswerable = False
        if answers:
            for dataset in splits.values():
                if answers in dataset.column_names:
                    unanswerable |= any(parsed == ([], []) for parsed in map(answers_of, column(dataset, answers)))
        if unanswerable:
            guess["version_2_with_negative"] = True
        return guess

    def prepare(self, raw, spec: dict, tokenizer) -> Prepared:
        import datasets

        from workbench.core.tasks.tokenizing import tokenizer_parallelism

        data = spec["data"]
        raw = limit_rows(raw, data)
        notes: list[str] = []
        train = _read_split(raw["train"], data, "train", need_answers=True)
        validation = (
            _read_split(raw["validation"], data, "validation", need_answers=True) if "validation" in raw else None
        )
        version_2 = bool(data.get("version_2_with_negative"))
        unanswered = sum(1 for texts in train.answers if not texts)
        unanswered_validation = sum(1 for texts in validation.answers if not texts) if validation else 0
        for key, examples, count in (
            ("train_file", train, unanswered),
            ("validation_file", validation, unanswered_validation),
        ):
            if examples is not None and len(examples) and count == len(examples) and not version_2:
                source = Path(data.get(key) or "").name or data.get("dataset") or key
                raise WorkbenchError(
                    f"data.{key}: none of the {len(examples)} questions of {source} has an answer",
                    hint=f"data.answers_column is {data['answers_column']!r}; extractive QA learns from and is scored"
                    " on answer spans (set data.version_2_with_negative = true if the questions are meant to be"
                    " unanswerable).",
                )
        if not version_2:
            unanswered_all = unanswered + unanswered_validation
            if unanswered_all:
                version_2 = True
                notes.append(
                    f"{unanswered_all} question(s) have no answer: evaluating as SQuAD 2.0 (no-answer predictions,"
                    " has_answer/no_answer scores); set data.version_2_with_negative = true to say so."
                )
        keep = []
        for split_name, examples in (("train", train), ("validation", validation)):
            if examples is None:
                continue
            bad = [
                index
                for index in range(len(examples))
                if not all(
                    answer_matches(examples.contexts[index], text, start)
                    for text, start in zip(examples.answers[index], examples.starts[index], strict=True)
                )
            ]
            if bad:
                ids = [examples.ids[index] for index in bad]
                what = "left out of training" if split_name == "train" else "kept (only their texts are scored)"
                notes.append(
                    f"{split_name}: {len(bad)} answer(s) whose answer_start does not point at their text in the"
                    f" context ({what}): id {_names(ids)}"
                )
            if split_name == "train":
                bad_set = set(bad)
                keep = [index for index in range(len(examples)) if index not in bad_set]
        train = train.select(keep)
        if not len(train):
            raise WorkbenchError("data.train_file: no question is left to train on (every answer_start is wrong)")

        max_length = data["max_length"]
        specials = tokenizer.num_special_tokens_to_add(pair=True)
        limit = max_length // 2
        long_questions = {}
        with tokenizer_parallelism():
            for split_name, examples in (("train", train), ("validation", validation)):
                if examples is None:
                    continue
                lengths = [len(ids) for ids in tokenizer(examples.questions, add_special_tokens=False)["input_ids"]]
                long_questions[split_name] = [index for index, length in enumerate(lengths) if length > limit]
        for split_name, examples in (("train", train), ("validation", validation)):
            dropped = long_questions.get(split_name)
            if dropped:
                notes.append(
                    f"{split_name}: {len(dropped)} question(s) longer than {limit} tokens (half of data.max_length"
                    f" {max_length}) were left out: id {_names([examples.ids[i] for i in dropped])}"
                )
        if long_questions.get("train"):
            dropped = set(long_questions["train"])
            train = train.select([i for i in range(len(train)) if i not in dropped])
        if validation is not None and long_questions.get("validation"):
            dropped = set(long_questions["validation"])
            validation = validation.select([i for i in range(len(validation)) if i not in dropped])
        if not len(train):
            raise WorkbenchError(f"data.max_length: every question is longer than {limit} tokens")

        room = max_length - limit - specials  # context tokens a window holds at least
        stride = data["doc_stride"]
        if stride >= room:
            stride = max(0, room // 2)
            notes.append(
                f"data.doc_stride {data['doc_stride']} leaves no new context in a window of {max_length} tokens;"
                f" windows share {stride} tokens instead (raise data.max_length, or lower data.doc_stride)."
            )
        settings = {
            "max_length": max_length,
            "stride": stride,
            "n_best_size": data["n_best_size"],
            "max_answer_length": data["max_answer_length"],
            "null_score_diff_threshold": data["null_score_diff_threshold"],
        }
        context_id = 1 if question_first(tokenizer) else 0
        cls_id = tokenizer.cls_token_id

        def windows(batch, with_offsets: bool):
            encoded = tokenize_windows(tokenizer, batch["question"], batch["context"], max_length, stride)
            offsets = encoded.pop("offset_mapping")
            sample_map = encoded.pop("overflow_to_sample_mapping")
            starts, ends, lost, example_index, cls_indexes, offset_starts, offset_ends = [], [], [], [], [], [], []
            for i, window_offsets in enumerate(offsets):
                sample = sample_map[i]
                sequence_ids = encoded.sequence_ids(i)
                cls = cls_position(encoded["input_ids"][i], cls_id)
                texts, answer_starts = batch["answers"][sample], batch["answer_starts"][sample]
                if texts:
                    start_char = answer_starts[0]
                    start, end = answer_positions(
                        window_offsets, sequence_ids, context_id, start_char, start_char + len(texts[0]), cls
                    )
                else:
                    start = end = cls
                starts.append(start)
                ends.append(end)
                lost.append(bool(texts) and start == cls)
                if with_offsets:
                    example_index.append(batch["index"][sample])
                    cls_indexes.append(cls)
                    offset_starts.append(
                        [o[0] if s == context_id else -1 for o, s in zip(window_offsets, sequence_ids, strict=True)]
                    )
                    offset_ends.append(
                        [o[1] if s == context_id else -1 for o, s in zip(window_offsets, sequence_ids, strict=True)]
                    )
            encoded["start_positions"] = starts
            encoded["end_positions"] = ends
            encoded["window_lost"] = lost
            encoded["window_example"] = [batch["index"][s] for s in sample_map]
            if with_offsets:
                encoded["offset_starts"] = offset_starts
                encoded["offset_ends"] = offset_ends
                encoded["cls_index"] = cls_indexes
            return dict(encoded)

        def as_dataset(examples: Examples):
            return datasets.Dataset.from_dict(
                {
                    "index": list(range(len(examples))),
                    "question": examples.questions,
                    "context": examples.contexts,
                    "answers": examples.answers,
                    "answer_starts": examples.starts,
                }
            )

        with tokenizer_parallelism():
            train_source = as_dataset(train)
            train_features = train_source.map(
                windows,
                batched=True,
                remove_columns=train_source.column_names,
                fn_kwargs={"with_offsets": False},
                new_fingerprint=f"qa-train-{uuid.uuid4().hex}",
            )
            validation_features = None
            if validation is not None:
                validation_source = as_dataset(validation)
                validation_features = validation_source.map(
                    windows,
                    batched=True,
                    remove_columns=validation_source.column_names,
                    fn_kwargs={"with_offsets": True},
                )
        notes.extend(self._window_notes("train", train, train_features))
        context = None
        if validation_features is not None:
            notes.extend(self._window_notes("validation", validation, validation_features))
            import numpy as np

            context = QAContext(
                examples=validation,
                feature_example=column(validation_features, "window_example"),
                offset_starts=[np.asarray(row, dtype=np.int64) for row in column(validation_features, "offset_starts")],
                offset_ends=[np.asarray(row, dtype=np.int64) for row in column(validation_features, "offset_ends")],
                cls_indexes=column(validation_features, "cls_index"),
                version_2=version_2,
                settings=settings,
            )
            validation_features = validation_features.remove_columns(
                ["offset_starts", "offset_ends", "cls_index", "window_lost", "window_example"]
            )
        train_features = train_features.remove_columns(["window_lost", "window_example"])
        return Prepared(train_features, validation_features, HeadLabels(), eval_context=context, notes=notes)

    @staticmethod
    def _window_notes(split: str, examples: Examples, features) -> list[str]:
        """Windows per example, and answers no window holds whole (lost to truncation)."""
        per_example = [0] * len(examples)
        holds = [False] * len(examples)
        for example, lost in zip(column(features, "window_example"), column(features, "window_lost"), strict=True):
            per_example[example] += 1
            holds[example] |= not lost
        multi = sum(1 for count in per_example if count > 1)
        notes = []
        if multi:
            notes.append(
                f"{split}: {len(features)} windows for {len(examples)} questions ({multi} context(s) longer than one"
                f" window, up to {max(per_example)} windows)"
            )
        lost_ids = [examples.ids[i] for i in range(len(examples)) if examples.answers[i] and not holds[i]]
        if lost_ids:
            effect = "trained as no-answer" if split == "train" else "their loss uses the no-answer position"
            notes.append(
                f"{split}: {len(lost_ids)} answer(s) lost to truncation (no window holds the whole answer;"
                f" {effect}): id {_names(lost_ids)}"
            )
        return notes

    def model_kwargs(self, labels: HeadLabels) -> dict:
        return {}

    def evaluator(self, prepared: Prepared, spec: dict, tokenizer, accelerator) -> Evaluator:
        names = self.chosen_metrics(spec["training"].get("metrics"))
        return QAEvaluator(accelerator, prepared.eval_context, names)

    def card_info(self) -> CardInfo:
        return CardInfo(self.pipeline_tag, self.pipeline_tag, self.card_task_name)


class QAEvaluator(Evaluator):
    """Start and end logits of every window, in order; answers and SQuAD scores at the end."""

    def __init__(self, accelerator, context: QAContext | None, metric_names: list[str]) -> None:
        super().__init__(accelerator)
        self.context = context
        self.metric_names = metric_names
        self.start_logits: list = []
        self.end_logits: list = []

    def add(self, batch: dict, outputs, model) -> None:
        start, end = outputs.start_logits.detach().float(), outputs.end_logits.detach().float()
        if self.accelerator is not None and self.accelerator.num_processes > 1:
            # Each process pads its batch to its own longest window.
            start = self.accelerator.pad_across_processes(start, dim=1, pad_index=-10000.0)
            end = self.accelerator.pad_across_processes(end, dim=1, pad_index=-10000.0)
        start, end = self.gather((start, end))
        self.start_logits.extend(start.cpu().numpy())
        self.end_logits.extend(end.cpu().numpy())

    def finish(self, eval_loss: float) -> EvalResult:
        from workbench.core.tasks import squad_metric

        context = self.context
        if context is None:
            return EvalResult({})
        count = min(len(self.start_logits), len(context.feature_example))
        if count < len(context.feature_example):  # an evaluation cut short: score the examples seen whole
            last = context.feature_example[count] if count else 0
            context = _truncated(context, last)
        settings = context.settings
        answers = best_answers(
            context,
            self.start_logits,
            self.end_logits,
            n_best_size=settings.get("n_best_size", 20),
            max_answer_length=settings.get("max_answer_length", 30),
            null_score_diff_threshold=settings.get("null_score_diff_threshold", 0.0),
        )
        examples = context.examples
        predicted = [answer.text for answer in answers]
        scores = squad_metric.compute(predicted, examples.answers, version_2=context.version_2)
        wanted = set(self.metric_names) | {"exact_match", "f1"}
        if context.version_2:
            wanted |= {"has_answer_f1", "no_answer_f1", "has_answer_exact", "no_answer_exact"}
        metrics = {name: value for name, value in scores.items() if name in wanted}
        gold = [" | ".join(texts) for texts in examples.answers]
        records = {
            "id": list(examples.ids),
            "input": list(examples.questions),
            "context": list(examples.contexts),
            "gold": gold,
            "predicted": predicted,
            "score": [answer.score for answer in answers],
            "windows": [answer.windows for answer in answers],
            "start": [answer.start for answer in answers],
        }
        samples = [
            {"input": examples.questions[i], "reference": gold[i], "prediction": predicted[i]}
            for i in range(min(SAMPLES, len(examples)))
        ]
        return EvalResult(metrics, records, samples)


def _truncated(context: QAContext, examples_seen: int) -> QAContext:
    """The context limited to the first `examples_seen` examples (all of whose windows were seen)."""
    features = [i for i, example in enumerate(context.feature_example) if example < examples_seen]
    examples = context.examples.select(list(range(examples_seen)))
    return QAContext(
        examples,
        [context.feature_example[i] for i in features],
        [context.offset_starts[i] for i in features],
        [context.offset_ends[i] for i in features],
        [context.cls_indexes[i] for i in features],
        context.version_2,
        context.settings,
    )


# -- one question, as transformers' QuestionAnsweringPipeline answers it -----------------------


@dataclass
class PipelineAnswer:
    answers: list[dict]  # {score, start, end, answer}, best first, as the pipeline returns them
    windows: int
    first_window_logits: tuple[Any, Any]  # (start, end) logits of the first window, for display
    best_tokens: tuple[int, int]  # start and end token of the best answer in its window
    best_window: int


def _decode_spans(start, end, topk: int, max_answer_len: int, undesired_tokens):
    """transformers' `decode_spans` (question_answering.py, 4.x)."""
    import numpy as np

    if start.ndim == 1:
        start = start[None]
    if end.ndim == 1:
        end = end[None]
    outer = np.matmul(np.expand_dims(start, -1), np.expand_dims(end, 1))
    candidates = np.tril(np.triu(outer), max_answer_len - 1)
    scores_flat = candidates.flatten()
    if topk == 1:
        idx_sort = [np.argmax(scores_flat)]
    elif len(scores_flat) < topk:
        idx_sort = np.argsort(-scores_flat)
    else:
        idx = np.argpartition(-scores_flat, topk)[0:topk]
        idx_sort = idx[np.argsort(-scores_flat[idx])]
    starts, ends = np.unravel_index(idx_sort, candidates.shape)[1:]
    desired = np.isin(starts, undesired_tokens.nonzero()) & np.isin(ends, undesired_tokens.nonzero())
    starts, ends = starts[desired], ends[desired]
    return starts, ends, candidates[0, starts, ends]


def _select_starts_ends(start, end, p_mask, attention_mask, min_null_score, top_k, handle_impossible, max_answer_len):
    """transformers' `select_starts_ends` (question_answering.py, 4.x)."""
    import numpy as np

    undesired_tokens = np.abs(np.array(p_mask) - 1)
    if attention_mask is not None:
        undesired_tokens = undesired_tokens & attention_mask
    undesired_mask = undesired_tokens == 0.0
    start = np.where(undesired_mask, -10000.0, start)
    end = np.where(undesired_mask, -10000.0, end)
    start = np.exp(start - start.max(axis=-1, keepdims=True))
    start = start / start.sum()
    end = np.exp(end - end.max(axis=-1, keepdims=True))
    end = end / end.sum()
    if handle_impossible:
        min_null_score = min(min_null_score, (start[0, 0] * end[0, 0]).item())
    start[0, 0] = end[0, 0] = 0.0
    starts, ends, scores = _decode_spans(start, end, top_k, max_answer_len, undesired_tokens)
    return starts, ends, scores, min_null_score


def _char_span(encoding, s: int, e: int, sequence_index: int, align_to_words: bool) -> tuple[int, int]:
    """The pipeline's `get_indices`: whole words when the tokenizer knows them, else token offsets."""
    if align_to_words:
        try:
            start_word = encoding.token_to_word(s)
            end_word = encoding.token_to_word(e)
            return (
                encoding.word_to_chars(start_word, sequence_index=sequence_index)[0],
                encoding.word_to_chars(end_word, sequence_index=sequence_index)[1],
            )
        except Exception:  # noqa: BLE001 - the pipeline's own fallback: some tokenizers have no words
            pass
    return encoding.offsets[s][0], encoding.offsets[e][1]


def answer_question(
    tokenizer,
    model,
    question: str,
    context: str,
    *,
    top_k: int = 1,
    max_answer_len: int = 15,
    max_seq_len: int | None = None,
    doc_stride: int | None = None,
    handle_impossible_answer: bool = False,
    align_to_words: bool = True,
) -> PipelineAnswer:
    """`QuestionAnsweringPipeline(question=..., context=...)` of transformers 4.x with its defaults:
    windows of `min(model_max_length, 384)` tokens sharing `min(max_seq_len // 2, 128)`, each window
    run alone, start and end probabilities (softmax over the context tokens and CLS) multiplied, spans
    of at most `max_answer_len` tokens, answers aligned to whole words and the same answer text found
    in several windows summed."""
    import numpy as np
    import torch

    if not getattr(tokenizer, "is_fast", False):
        raise WorkbenchError("Question answering needs a fast (Rust) tokenizer for the character offsets.")
    if max_seq_len is None:
        max_seq_len = min(int(tokenizer.model_max_length), 384)
    limit = getattr(model.config, "max_position_embeddings", None)
    if isinstance(limit, int) and limit > 0:
        max_seq_len = min(max_seq_len, limit)
    if doc_stride is None:
        doc_stride = min(max_seq_len // 2, 128)
    first = question_first(tokenizer)
    question_tokens = len(tokenizer(question, add_special_tokens=False)["input_ids"])
    room = max_seq_len - question_tokens - tokenizer.num_special_tokens_to_add(pair=True)
    if room <= doc_stride:
        if room <= 0:
            raise WorkbenchError("The question fills the whole input; no room was left for the context.")
        doc_stride = room // 2  # the tokenizer panics when windows share all their room
    encoded = tokenizer(
        text=question if first else context,
        text_pair=context if first else question,
        padding="do_not_pad",
        truncation="only_second" if first else "only_first",
        max_length=max_seq_len,
        stride=doc_stride,
        return_token_type_ids=True,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        return_special_tokens_mask=True,
    )
    num_spans = len(encoded["input_ids"])
    device = getattr(model, "device", None) or torch.device("cpu")
    input_names = list(tokenizer.model_input_names)
    min_null_score = 1000000.0
    found: list[dict] = []
    first_logits = None
    for span in range(num_spans):
        input_ids = encoded["input_ids"][span]
        p_mask = [token != 1 if first else 0 for token in encoded.sequence_ids(span)]
        if tokenizer.cls_token_id is not None:
            for cls_index in np.nonzero(np.array(input_ids) == tokenizer.cls_token_id)[0]:
                p_mask[cls_index] = 0
        inputs = {name: torch.tensor([encoded[name][span]], device=device) for name in input_names if name in encoded}
        with torch.no_grad():
            outputs = model(**inputs)
        start_logits, end_logits = outputs.start_logits, outputs.end_logits
        if first_logits is None:
            first_logits = (start_logits, end_logits)
        start = start_logits.float().cpu().numpy()
        end = end_logits.float().cpu().numpy()
        attention = np.array([encoded["attention_mask"][span]]) if "attention_mask" in encoded else None
        pre_topk = top_k * 2 + 10 if align_to_words else top_k
        starts, ends, scores, min_null_score = _select_starts_ends(
            start, end, [p_mask], attention, min_null_score, pre_topk, handle_impossible_answer, max_answer_len
        )
        encoding = encoded.encodings[span]
        for s, e, score in zip(starts, ends, scores, strict=True):
            char_start, char_end = _char_span(encoding, int(s), int(e), 1 if first else 0, align_to_words)
            text = context[char_start:char_end]
            same = next((answer for answer in found if answer["answer"].lower() == text.lower()), None)
            if same is not None:
                same["score"] += score.item()
            else:
                found.append(
                    {
                        "score": score.item(),
                        "start": char_start,
                        "end": char_end,
                        "answer": text,
                        "_tokens": (int(s), int(e)),
                        "_window": span,
                    }
                )
    if handle_impossible_answer:
        found.append({"score": min_null_score, "start": 0, "end": 0, "answer": "", "_tokens": (0, 0), "_window": 0})
    found = sorted(found, key=lambda answer: answer["score"], reverse=True)[:top_k]
    best = found[0] if found else {"_tokens": (0, 0), "_window": 0}
    best_tokens, best_window = best["_tokens"], best["_window"]
    for answer in found:
        answer.pop("_tokens")
        answer.pop("_window")
    return PipelineAnswer(found, num_spans, first_logits, best_tokens, best_window)


TASK = QuestionAnswering()
