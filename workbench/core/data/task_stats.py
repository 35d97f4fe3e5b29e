"""Statistics of task-shaped data, computed with the model's tokenizer as the task prepares it.

- token classification: entities per type (seqeval's reading of the IOB1/IOB2/BIOES/BILOU tags),
  the tag scheme, the sentences longer than `max_length` sub-word tokens;
- question answering: windows per example at `max_length`/`doc_stride` (the task's own windowing),
  answers no window holds whole (lost to truncation), answer_start mismatches, unanswerable questions;
- language modelling: tokens per document and the blocks of `block_size` the task builds;
- seq2seq: source and target lengths in tokens, the share over their maxima.

Each `*_stats` function takes plain lists (and a tokenizer) and returns a small dataclass with
`lines()`, its text rendering; `compute` reads the columns of a split (a `RowSource` or a
`datasets.Dataset`), guessing them as the task module does. The window, alignment and block logic
is the task modules' (`core/tasks/`), called here, not copied. Called from a worker: no UI here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workbench.core.errors import WorkbenchError

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    Progress = Callable[[int, int], None]

TASKS = ("token-classification", "question-answering", "language-modeling", "seq2seq")
TASK_TITLES = {
    "token-classification": "Token classification",
    "question-answering": "Question answering",
    "language-modeling": "Language modelling",
    "seq2seq": "Seq2seq",
}
FORMAT_TASKS = {"conll": "token-classification", "squad": "question-answering"}
# max_length and the second setting (stride, block size, max target length) each task starts from.
DEFAULTS = {
    "token-classification": (128, 0),
    "question-answering": (384, 128),
    "language-modeling": (128, 128),
    "seq2seq": (128, 128),
}
SECOND_SETTING = {
    "token-classification": "",
    "question-answering": "doc_stride",
    "language-modeling": "block_size",
    "seq2seq": "max_target_length",
}
SHOWN_IDS = 5  # example ids named in a line
BATCH = 1_000  # texts tokenized at a time


def _share(count: int, total: int) -> str:
    return f"{count / total:.1%}" if total else "0.0%"


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:SHOWN_IDS])
    return shown + (f" and {len(ids) - SHOWN_IDS:,} more" if len(ids) > SHOWN_IDS else "")


def _summary(lengths: np.ndarray) -> str:
    from workbench.core.data.stats import summarize

    summary = summarize(lengths)
    return (
        f"min {summary.minimum:,} · mean {summary.mean:.1f} · median {summary.median:.0f}"
        f" · p95 {summary.p95:.0f} · max {summary.maximum:,}"
    )


def _batched(values: list, size: int = BATCH, progress: Progress | None = None):
    """`values` `size` at a time; `progress(done, total)` after each chunk."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
        if progress is not None:
            progress(min(start + size, len(values)), len(values))


# -- token classification -----------------------------------------------------------------------


@dataclass
class TokenStats:
    sentences: int
    words: int
    scheme: str  # "IOB1", "IOB2", "IOBES" or "BILOU"
    entities: dict[str, int]  # entity type -> count, most frequent first
    max_length: int
    too_long: int  # sentences with more sub-word tokens (with the special tokens) than max_length
    longest: int  # sub-word tokens of the longest sentence
    too_long_ids: list[str] = field(default_factory=list)
    tokens: np.ndarray | None = None  # sub-word tokens per sentence

    @property
    def too_long_share(self) -> float:
        return self.too_long / self.sentences if self.sentences else 0.0

    def lines(self) -> list[str]:
        total = sum(self.entities.values())
        lines = [
            f"Token classification · {self.sentences:,} sentences · {self.words:,} words · tag scheme {self.scheme}",
            "",
            f"Entities per type ({total:,} in all)",
        ]
        width = max((len(kind) for kind in self.entities), default=4)
        for kind, count in self.entities.items():
            lines.append(f"  {kind:>{width}} {count:>9,}  {_share(count, total):>6}")
        if not self.entities:
            lines.append("  (no entities: every tag is O)")
        lines += ["", "Sub-word tokens per sentence (with special tokens)"]
        if self.tokens is not None and len(self.tokens):
            lines.append("  " + _summary(self.tokens))
        lines.append(
            f"  longer than max_length {self.max_length}: {self.too_long:,} of {self.sentences:,}"
            f" ({_share(self.too_long, self.sentences)}); their ends are cut"
        )
        if self.too_long_ids:
            lines.append(f"  sentences {_ids(self.too_long_ids)}")
        return lines


def iob_variant(tag_rows: list[list[str]]) -> str:
    """IOB2 when every entity starts with B-, IOB1 when some start with I- (B- only between two
    entities of one type)."""
    for tags in tag_rows:
        previous = "O"
        for tag in tags:
            if tag.startswith("I-") and (previous == "O" or previous[2:] != tag[2:]):
                return "IOB1"
            previous = tag
    return "IOB2"


def entity_counts(tag_rows: list[list[str]], scheme: str) -> dict[str, int]:
    """Entities per type, read as seqeval reads them (conlleval for IOB, strict for IOBES/BILOU)."""
    import warnings

    counts: Counter = Counter()
    if scheme in ("IOBES", "BILOU"):
        from seqeval import scheme as schemes

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = schemes.Entities(tag_rows, getattr(schemes, scheme)).entities
        for sentence in found:
            counts.update(entity.tag for entity in sentence)
    else:
        from seqeval.metrics.sequence_labeling import get_entities

        for tags in tag_rows:
            counts.update(kind for kind, _, _ in get_entities(list(tags)))
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def token_stats(
    tokens: list[list[str]],
    tags: list[list[str]],
    tokenizer,
    max_length: int = 128,
    *,
    ids: list[str] | None = None,
    source: str = "the data",
    progress: Progress | None = None,
) -> TokenStats:
    import numpy as np

    from workbench.core.tasks.token_classification import add_prefix_space_for_words, detect_scheme

    def where(row):
        return source if row is None else f"{source}: sentence {row + 1}"

    for row, (words, row_tags) in enumerate(zip(tokens, tags, strict=True)):
        if len(words) != len(row_tags):
            raise WorkbenchError(
                f"{where(row)}: {len(words)} tokens but {len(row_tags)} tags.",
                hint="Each token needs exactly one tag.",
            )
    scheme = detect_scheme(tags, where)
    if scheme == "IOB":
        scheme = iob_variant(tags)
    add_prefix_space_for_words(tokenizer)  # as training tokenizes them, so lengths agree
    lengths = []
    for chunk in _batched(tokens, progress=progress):
        encoded = tokenizer([list(words) for words in chunk], is_split_into_words=True, truncation=False)
        lengths.extend(len(row) for row in encoded["input_ids"])
    lengths = np.asarray(lengths, dtype=np.int64)
    long_rows = np.flatnonzero(lengths > max_length).tolist()
    names = ids or [str(row + 1) for row in range(len(tokens))]
    return TokenStats(
        sentences=len(tokens),
        words=sum(len(words) for words in tokens),
        scheme=scheme,
        entities=entity_counts(tags, scheme),
        max_length=max_length,
        too_long=len(long_rows),
        longest=int(lengths.max()) if len(lengths) else 0,
        too_long_ids=[names[row] for row in long_rows],
        tokens=lengths,
    )


# -- question answering --------------------------------------------------------------------------


@dataclass
class QAStats:
    questions: int
    contexts: int  # distinct contexts
    max_length: int
    stride: int  # the stride the windows use (lowered when the one asked leaves no new context)
    windows: list[int]  # windows per question (0: the question was left out)
    unanswerable: int
    lost_ids: list[str]  # answers no window holds whole
    mismatch_ids: list[str]  # answers whose answer_start does not point at their text
    long_question_ids: list[str]  # questions longer than half of max_length (left out)
    asked_stride: int = 0

    @property
    def lost(self) -> int:
        return len(self.lost_ids)

    @property
    def mismatches(self) -> int:
        return len(self.mismatch_ids)

    def distribution(self) -> dict[str, int]:
        """Questions by their number of windows: 1, 2 and 3 or more."""
        counted = [count for count in self.windows if count]
        return {
            "1": sum(1 for count in counted if count == 1),
            "2": sum(1 for count in counted if count == 2),
            "3+": sum(1 for count in counted if count >= 3),
        }

    def lines(self) -> list[str]:
        total = sum(self.windows)
        kept = sum(1 for count in self.windows if count)
        stride = f"doc_stride {self.stride}" + (
            f" (asked {self.asked_stride}: no new context left)" if self.asked_stride != self.stride else ""
        )
        lines = [
            f"Question answering · {self.questions:,} questions · {self.contexts:,} contexts",
            "",
            f"Windows at max_length {self.max_length}, {stride}: {total:,} for {kept:,} questions",
        ]
        for label, count in self.distribution().items():
            lines.append(f"  {label:>2} window{'s' if label != '1' else ' '} {count:>9,}  {_share(count, kept):>6}")
        answered = self.questions - self.unanswerable
        lines += [
            "",
            f"Answers lost to truncation (in no window whole): {self.lost:,} of {answered:,}"
            f" ({_share(self.lost, answered)})",
        ]
        if self.lost_ids:
            lines.append(f"  id {_ids(self.lost_ids)}")
        lines.append(f"answer_start not pointing at the answer text: {self.mismatches:,}")
        if self.mismatch_ids:
            lines.append(f"  id {_ids(self.mismatch_ids)}")
        lines.append(f"Unanswerable (no answer): {self.unanswerable:,} of {self.questions:,}")
        if self.long_question_ids:
            lines.append(
                f"Questions longer than {self.max_length // 2} tokens (half of max_length, left out):"
                f" {len(self.long_question_ids):,} · id {_ids(self.long_question_ids)}"
            )
        return lines


def qa_stats(
    ids: list[str],
    questions: list[str],
    contexts: list[str],
    answers: list[Any],
    tokenizer,
    max_length: int = 384,
    stride: int = 128,
    *,
    progress: Progress | None = None,
) -> QAStats:
    """Windows and lost answers exactly as `question_answering.prepare` builds them."""
    from workbench.core.tasks import question_answering as qa

    texts, starts, mismatch = [], [], []
    for row, value in enumerate(answers):
        parsed = qa.answers_of(value)
        if parsed is None:
            raise WorkbenchError(
                f"row {row + 1} (id {ids[row]}): the answers hold {str(value)[:80]!r}",
                hint="Answers are {text: [...], answer_start: [...]} (character offsets in the context).",
            )
        texts.append(parsed[0])
        starts.append(parsed[1])
        if not all(qa.answer_matches(contexts[row], t, s) for t, s in zip(parsed[0], parsed[1], strict=True)):
            mismatch.append(row)
    questions = [question.lstrip() for question in questions]
    limit = max_length // 2
    long_questions = []
    for offset, chunk in enumerate(_batched(questions)):
        encoded = tokenizer(chunk, add_special_tokens=False)["input_ids"]
        long_questions += [offset * BATCH + i for i, row in enumerate(encoded) if len(row) > limit]
    room = max_length - limit - tokenizer.num_special_tokens_to_add(pair=True)
    used_stride = max(0, room // 2) if stride >= room else stride  # as prepare lowers it
    skipped = set(long_questions)
    kept = [row for row in range(len(ids)) if row not in skipped]
    windows = [0] * len(ids)
    holds = [False] * len(ids)
    bad = set(mismatch)
    context_id = 1 if qa.question_first(tokenizer) else 0
    for chunk in _batched(kept, progress=progress):
        encoded = qa.tokenize_windows(
            tokenizer, [questions[r] for r in chunk], [contexts[r] for r in chunk], max_length, used_stride
        )
        for window, sample in enumerate(encoded["overflow_to_sample_mapping"]):
            row = chunk[sample]
            windows[row] += 1
            if not texts[row] or row in bad or holds[row]:
                continue
            cls = qa.cls_position(encoded["input_ids"][window], tokenizer.cls_token_id)
            start_char = starts[row][0]
            start, _ = qa.answer_positions(
                encoded["offset_mapping"][window],
                encoded.sequence_ids(window),
                context_id,
                start_char,
                start_char + len(texts[row][0]),
                cls,
            )
            holds[row] = start != cls
    lost = [ids[row] for row in kept if texts[row] and row not in bad and not holds[row]]
    return QAStats(
        questions=len(ids),
        contexts=len(set(contexts)),
        max_length=max_length,
        stride=used_stride,
        windows=windows,
        unanswerable=sum(1 for found in texts if not found),
        lost_ids=lost,
        mismatch_ids=[ids[row] for row in mismatch],
        long_question_ids=[ids[row] for row in long_questions],
        asked_stride=stride,
    )


# -- language modelling ------------------------------------------------------------------------


@dataclass
class LMStats:
    documents: int
    empty: int  # documents with no text (left out)
    block_size: int
    blocks: int
    dropped: int  # tokens left over at the end of each group of texts
    tokens: np.ndarray  # tokens per (non-empty) document, with special tokens

    def lines(self) -> list[str]:
        from workbench.core.tasks.language_modeling import GROUP_BATCH

        total = int(self.tokens.sum()) if len(self.tokens) else 0
        lines = [
            f"Language modelling · {self.documents:,} documents · {total:,} tokens"
            + (f" · {self.empty:,} empty (left out)" if self.empty else ""),
            "",
            "Tokens per document (with special tokens)",
        ]
        if len(self.tokens):
            lines.append("  " + _summary(self.tokens))
            over = int((self.tokens > self.block_size).sum())
            lines.append(
                f"  longer than block_size {self.block_size}: {over:,} ({_share(over, len(self.tokens))}),"
                " continued in the next blocks"
            )
        lines += [
            "",
            f"Blocks of {self.block_size} tokens: {self.blocks:,}"
            f" ({self.dropped:,} tokens left over at the ends of each {GROUP_BATCH:,} texts dropped,"
            f" {_share(self.dropped, total)})",
        ]
        return lines


def lm_stats(texts: list[Any], tokenizer, block_size: int = 128, *, progress: Progress | None = None) -> LMStats:
    """Tokens per document and the blocks `group_texts` makes of them (the texts concatenated
    `GROUP_BATCH` at a time, each group's remainder dropped)."""
    import numpy as np

    from workbench.core.tasks.language_modeling import GROUP_BATCH, quiet_length_warning

    if block_size <= 0:
        raise WorkbenchError(f"block_size is {block_size}; give a positive number of tokens")
    kept = [text for text in texts if isinstance(text, str) and text.strip()]
    lengths = []
    with quiet_length_warning():
        for chunk in _batched(kept, progress=progress):
            lengths.extend(len(row) for row in tokenizer(chunk)["input_ids"])
    lengths = np.asarray(lengths, dtype=np.int64)
    blocks = dropped = 0
    for start in range(0, len(lengths), GROUP_BATCH):
        group = int(lengths[start : start + GROUP_BATCH].sum())
        blocks += group // block_size
        dropped += group % block_size
    return LMStats(len(texts), len(texts) - len(kept), block_size, blocks, dropped, lengths)


# -- seq2seq -------------------------------------------------------------------------------------


@dataclass
class Seq2SeqStats:
    source_column: str
    target_column: str
    pairs: int
    empty: int  # rows with an empty source or target (left out)
    max_source_length: int
    max_target_length: int
    source_tokens: np.ndarray
    target_tokens: np.ndarray

    @property
    def sources_over(self) -> int:
        return int((self.source_tokens > self.max_source_length).sum())

    @property
    def targets_over(self) -> int:
        return int((self.target_tokens > self.max_target_length).sum())

    def lines(self) -> list[str]:
        kept = len(self.source_tokens)
        lines = [
            f"Seq2seq · {self.pairs:,} pairs · {self.source_column} → {self.target_column}"
            + (f" · {self.empty:,} with an empty side (left out)" if self.empty else ""),
        ]
        for what, column, tokens, limit, key, over in (
            ("Source", self.source_column, self.source_tokens, self.max_source_length, "max_length", self.sources_over),
            (
                "Target",
                self.target_column,
                self.target_tokens,
                self.max_target_length,
                "max_target_length",
                self.targets_over,
            ),
        ):
            lines += ["", f"{what} · {column} · tokens (with special tokens)"]
            if kept:
                lines.append("  " + _summary(tokens))
            lines.append(f"  over {key} {limit}: {over:,} of {kept:,} ({_share(over, kept)}); cut")
        return lines


def seq2seq_stats(
    sources: list[Any],
    targets: list[Any],
    tokenizer,
    max_source_length: int = 128,
    max_target_length: int = 128,
    *,
    source_column: str = "source",
    target_column: str = "target",
    prefix: str = "",
    progress: Progress | None = None,
) -> Seq2SeqStats:
    """Lengths as seq2seq's prepare tokenizes (sources with the prefix, targets as `text_target`)."""
    import numpy as np

    rows = [
        (str(source), str(target))
        for source, target in zip(sources, targets, strict=True)
        if source is not None and target is not None and str(source).strip() and str(target).strip()
    ]
    source_lengths, target_lengths = [], []
    for chunk in _batched(rows, progress=progress):
        encoded = tokenizer([prefix + source for source, _ in chunk], return_token_type_ids=False)
        source_lengths.extend(len(ids) for ids in encoded["input_ids"])
        encoded = tokenizer(text_target=[target for _, target in chunk], return_token_type_ids=False)
        target_lengths.extend(len(ids) for ids in encoded["input_ids"])
    return Seq2SeqStats(
        source_column,
        target_column,
        len(sources),
        len(sources) - len(rows),
        max_source_length,
        max_target_length,
        np.asarray(source_lengths, dtype=np.int64),
        np.asarray(target_lengths, dtype=np.int64),
    )


# -- a split of a dataset --------------------------------------------------------------------------


def task_for_format(fmt: str | None) -> str | None:
    """The task a task-shaped file format is made for (CoNLL: token classification, …)."""
    return FORMAT_TASKS.get(fmt or "")


def _sample(rows, count: int = 200):
    """The first rows as a `datasets.Dataset`: what the task modules' column guessing reads."""
    import datasets

    return datasets.Dataset(rows.slice(0, min(count, rows.num_rows)))


def _column(rows, name: str) -> list:
    return rows.column(name).to_pylist()


def compute(task: str, data, tokenizer, max_length: int, second: int, *, source: str = "the data", progress=None):
    """The statistics of `task` on one split (`RowSource` or `datasets.Dataset`); `second` is the
    QA doc_stride, the LM block_size or the seq2seq max_target_length (unused for tokens)."""
    from workbench.core.data.rows import rows_of

    rows = rows_of(data)
    if rows.num_rows == 0:
        raise WorkbenchError(f"{source}: no rows to compute statistics on")
    if max_length <= 0:
        raise WorkbenchError(f"max_length is {max_length}; give a positive number of tokens")
    sample = _sample(rows)
    if task == "token-classification":
        from workbench.core.tasks.token_classification import TASK

        guess = TASK.guess_data({"train": sample})
        words_name, tags_name = guess["text_column"], guess["label_column"]
        if not words_name or not tags_name:
            raise WorkbenchError(
                f"{source}: no column with a list of tokens and a list of tags per row",
                hint=f"Columns: {', '.join(rows.column_names)}.",
            )
        tags = _column(rows, tags_name)
        names = _tag_names(sample, tags_name)
        if tags and any(isinstance(tag, int) for row in tags[:50] for tag in row):
            if not names:
                raise WorkbenchError(f"{source}: the tags in {tags_name!r} are ids with no names")
            tags = [[names[tag] for tag in row] for row in tags]
        ids = [str(value) for value in _column(rows, "id")] if "id" in rows.column_names else None
        return token_stats(
            _column(rows, words_name), tags, tokenizer, max_length, ids=ids, source=source, progress=progress
        )
    if task == "question-answering":
        from workbench.core.tasks.question_answering import TASK

        guess = TASK.guess_data({"train": sample})
        names = [guess["question_column"], guess["context_column"], guess["answers_column"]]
        missing = [name for name in names if name not in rows.column_names]
        if missing:
            raise WorkbenchError(
                f"{source}: no {' / '.join(missing)} column for question answering",
                hint=f"Columns: {', '.join(rows.column_names)}; QA needs a question, a context and answers.",
            )
        id_name = guess.get("id_column") or ""
        ids = [str(v) for v in _column(rows, id_name)] if id_name else [str(i + 1) for i in range(rows.num_rows)]
        questions, contexts, answers = (_column(rows, name) for name in names)
        return qa_stats(ids, questions, contexts, answers, tokenizer, max_length, second, progress=progress)
    if task == "language-modeling":
        from workbench.core.tasks.language_modeling import LanguageModeling

        column = LanguageModeling().guess_data({"train": sample})["text_column"]
        if not column:
            raise WorkbenchError(f"{source}: no text column", hint=f"Columns: {', '.join(rows.column_names)}.")
        return lm_stats(_column(rows, column), tokenizer, second or max_length, progress=progress)
    if task == "seq2seq":
        from workbench.core.tasks import seq2seq

        if "translation" in rows.column_names:
            table = rows.slice(0, rows.num_rows, ["translation"]).column(0).to_pylist()
            languages = list(table[0]) if table and isinstance(table[0], dict) else []
            if len(languages) != 2:
                raise WorkbenchError(f"{source}: the translation column does not hold two languages")
            first, second_lang = languages
            return seq2seq_stats(
                [row.get(first) for row in table],
                [row.get(second_lang) for row in table],
                tokenizer,
                max_length,
                second,
                source_column=first,
                target_column=second_lang,
                progress=progress,
            )
        source_column, target_column = seq2seq.text_columns({}, sample)
        return seq2seq_stats(
            _column(rows, source_column),
            _column(rows, target_column),
            tokenizer,
            max_length,
            second,
            source_column=source_column,
            target_column=target_column,
            progress=progress,
        )
    raise WorkbenchError(f"No statistics for the task {task!r}", hint=f"Tasks: {', '.join(TASKS)}.")


def _tag_names(sample, column: str) -> list[str] | None:
    inner = getattr(sample.features[column], "feature", None)
    names = getattr(inner, "names", None)
    return list(names) if names else None


# -- rows as the task reads them -------------------------------------------------------------------


def aligned_sentence(words: list[str], tags: list[str], width: int = 100) -> list[str]:
    """A sentence over its tags, each word above its tag in a column as wide as the longer; lines
    wrapped at `width` (pairs of lines: words, tags)."""
    lines: list[str] = []
    top, bottom = "", ""
    for word, tag in zip(words, tags, strict=False):
        size = max(len(word), len(str(tag)))
        if top and len(top) + 1 + size > width:
            lines += [top.rstrip(), bottom.rstrip()]
            top, bottom = "", ""
        top += f"{word:<{size}} "
        bottom += f"{str(tag):<{size}} "
    if top:
        lines += [top.rstrip(), bottom.rstrip()]
    return lines


def marked_context(context: str, texts: list[str], starts: list[int], width: int = 300) -> str:
    """The context around its first answer, the answer in [[ ]] (an answer_start that does not
    point at its text is shown unmarked)."""
    from workbench.core.tasks.question_answering import answer_matches

    if texts and answer_matches(context, texts[0], starts[0]):
        start, end = starts[0], starts[0] + len(texts[0])
        before = max(0, start - width // 2)
        after = min(len(context), end + width // 2)
        text = context[before:start] + "[[" + context[start:end] + "]]" + context[end:after]
        return ("…" if before else "") + text + ("…" if after < len(context) else "")
    return context[:width] + ("…" if len(context) > width else "")
