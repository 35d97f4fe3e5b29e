"""The Errors view's span tasks: token classification (entities missed, spurious or of the wrong type,
per-entity-type scores as seqeval's classification_report gives them) and question answering (the gold
and predicted answers marked in the context, per-question exact match and F1, the windows count).

The analysis runs in the view's worker (`analyse_tokens`, `analyse_qa`: seqeval and numpy, imported
there); the rendering (`marked_sentence`, `marked_context`) in the UI thread with the theme's colours
(`span_styles` reads the app's CSS variables, nothing is hard-coded). The records are the ones the
task evaluators write: token classification `input` (words joined by spaces), `gold` and `predicted`
(tags joined by spaces); question answering `input` (the question), `context`, `gold` (answers joined
by " | "), `predicted`, `start` (its character offset, -1 for no answer) and `windows`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from workbench.core.evaluation.analysis import ClassScore

TOKEN_HEADS = ("token-classification",)
QA_HEADS = ("question-answering",)
TAG = re.compile(r"^(O|[BIESLU]-\S+)$")
GOLD_SEPARATOR = " | "  # how the QA evaluator joins an example's gold answers
ERROR_KINDS = (("missed", "missed"), ("spurious", "spurious"), ("wrong_type", "wrong type"))
CELL_WIDTH = 72  # characters of a marked sentence or context in the table
BEFORE = 24  # characters shown before the first mistake in a table cell
CONTEXT_AROUND = 160  # characters of context either side of the answers in the detail


# -- colours -------------------------------------------------------------------------------------


def span_styles(variables: Mapping[str, str]) -> dict[str, str]:
    """Rich styles of each mark from the theme's CSS variables (app.get_css_variables())."""

    def pick(name: str, fallback: str) -> str:
        return variables.get(name) or variables.get(fallback) or ""

    def mark(text: str, background: str) -> str:
        return " ".join(part for part in ("bold", text, f"on {background}" if background else "") if part)

    return {
        "missed": mark(pick("text-warning", "warning"), pick("warning-muted", "panel")),
        "spurious": mark(pick("text-error", "error"), pick("error-muted", "panel")),
        "wrong_type": mark(pick("text-primary", "primary"), pick("primary-muted", "panel")),
        "correct": f"underline {pick('text-success', 'success')}".strip(),
        "gold": mark(pick("text-success", "success"), pick("success-muted", "panel")),
        "predicted": mark(pick("text-error", "error"), pick("error-muted", "panel")),
        "both": mark(pick("text-success", "success"), pick("success-muted", "panel")) + " underline",
        "note": "dim",
    }


# -- token classification -------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """An entity over words [start, end] (inclusive, as seqeval gives them) and how the model did."""

    start: int
    end: int
    label: str  # the gold type (missed, wrong type, correct) or the predicted one (spurious)
    kind: str  # "correct", "missed", "spurious" or "wrong_type"
    predicted: str | None = None  # wrong type: the type the model gave


@dataclass
class TokenAnalysis:
    spans: list[list[Span]]  # per record
    tags: list[int]  # per record: how many tags it has (to compare with its words)
    types: list[str]  # entity types, sorted
    scores: list[ClassScore] = field(default_factory=list)
    averages: list[ClassScore] = field(default_factory=list)  # micro, macro, weighted
    scheme: str = "IOB"


def tags_of(value) -> list[str]:
    return str(value).split() if value is not None else []


def is_token_table(table: pa.Table, head: str | None) -> bool:
    """Token classification records: the head says so, or every gold/predicted value is a tag sequence."""
    names = table.column_names
    if not {"gold", "predicted", "input"} <= set(names):
        return False
    if head is not None:
        return head in TOKEN_HEADS
    sample = table.column("gold").slice(0, 50).to_pylist() + table.column("predicted").slice(0, 50).to_pylist()
    tags = [tag for value in sample for tag in tags_of(value)]
    return bool(tags) and any(tag != "O" for tag in tags) and all(TAG.match(tag) for tag in tags)


def is_qa_table(table: pa.Table, head: str | None) -> bool:
    names = set(table.column_names)
    if head is not None and head not in QA_HEADS:
        return False
    return {"context", "gold", "predicted"} <= names and (head is not None or "start" in names)


def scheme_of(sequences: list[list[str]]) -> str:
    """IOB (IOB1 or IOB2: seqeval's default mode) unless the tags use E-/S- (IOBES) or L-/U- (BILOU):
    those are scored in seqeval's strict mode, as the evaluator does."""
    prefixes = {tag[:2] for tags in sequences[:2000] for tag in tags}
    if prefixes & {"L-", "U-"}:
        return "BILOU"
    if prefixes & {"E-", "S-"}:
        return "IOBES"
    return "IOB"


def entities_of(scheme: str = "IOB"):
    """The (type, first, last) entities of one tag sequence: seqeval's get_entities (its default mode),
    or its strict reading for IOBES/BILOU (B-LOC I-LOC without E-LOC is no entity there)."""
    if scheme == "IOB":
        return iob_entities
    from seqeval import scheme as schemes

    kind = getattr(schemes, scheme)

    def strict(tags: list[str]) -> list[tuple[str, int, int]]:
        found = schemes.Entities([tags], kind, suffix=False).entities[0]
        return [(entity.tag, entity.start, entity.end - 1) for entity in found]

    return strict


_PARTS: dict[str, tuple[str, str]] = {}  # tag -> (its prefix letter, its type), as seqeval splits it


def _parts(chunk: str) -> tuple[str, str]:
    parts = _PARTS.get(chunk)
    if parts is None:
        parts = _PARTS[chunk] = (chunk[0], chunk[1:].split("-", maxsplit=1)[-1] or "_")
    return parts


def iob_entities(seq: list[str]) -> list[tuple[str, int, int]]:
    """seqeval's `get_entities` (default mode: IOB1/IOB2, lenient), the same entities for every input,
    about 5x faster: an Errors view runs it over every sentence of the evaluation twice. Its rules,
    written as sets: a chunk ends after E/S, after B/I followed by B/S/O, or on a change of type; one
    starts at B/S, at E/I after E/S/O, or on a change of type."""
    if seq.count("O") == len(seq):  # most sentences of a NER set: no entity
        return []
    chunks = []
    prev_tag, prev_type, begin = "O", "", 0
    for i, chunk in enumerate(seq):
        tag, type_ = _parts(chunk)
        changed = prev_type != type_
        if prev_tag in "ES" or (prev_tag in "BI" and tag in "BSO") or (changed and prev_tag != "O" and prev_tag != "."):
            chunks.append((prev_type, begin, i - 1))
        if tag in "BS" or (prev_tag in "ESO" and tag in "EI") or (changed and tag != "O" and tag != "."):
            begin = i
        prev_tag, prev_type = tag, type_
    # the closing "O" seqeval appends
    if prev_tag in "BIES" or (prev_type != "_" and prev_tag != "O" and prev_tag != "."):
        chunks.append((prev_type, begin, len(seq) - 1))
    return chunks


def compare_entities(gold: list[str], predicted: list[str], extract=None) -> list[Span]:
    """The sentence's entities: those both have (correct), gold ones the model missed, predicted ones
    not in gold (spurious), and gold spans the model found with another type (wrong type)."""
    extract = extract or entities_of("IOB")
    gold_entities = set(extract(gold))
    if predicted == gold:  # most sentences: one pass, every entity found
        return sorted((Span(start, end, label, "correct") for label, start, end in gold_entities), key=_order)
    predicted_entities = set(extract(predicted))
    extra = {(start, end): label for label, start, end in predicted_entities - gold_entities}
    spans = [Span(start, end, label, "correct") for label, start, end in gold_entities & predicted_entities]
    for label, start, end in gold_entities - predicted_entities:
        other = extra.pop((start, end), None)
        if other is not None:
            spans.append(Span(start, end, label, "wrong_type", other))
        else:
            spans.append(Span(start, end, label, "missed"))
    spans += [Span(start, end, label, "spurious") for (start, end), label in extra.items()]
    return sorted(spans, key=_order)


def _order(span: Span) -> tuple:
    return span.start, span.end, span.kind


def type_scores(spans: list[list[Span]]) -> tuple[list[ClassScore], list[ClassScore]]:
    """Precision, recall, F1 and support per entity type, then the micro, macro and weighted averages:
    seqeval's classification_report in its default (conlleval) mode, counted from the spans already found
    (classification_report would extract every entity four more times)."""
    from collections import Counter

    from workbench.core.evaluation.analysis import ClassScore

    found, predicted, gold = Counter(), Counter(), Counter()
    for row in spans:
        for span in row:
            if span.kind == "correct":
                found[span.label] += 1
                predicted[span.label] += 1
                gold[span.label] += 1
            elif span.kind == "missed":
                gold[span.label] += 1
            elif span.kind == "spurious":
                predicted[span.label] += 1
            else:
                gold[span.label] += 1
                predicted[span.predicted] += 1

    def score(label: str, tp: int, pred: int, true: int) -> ClassScore:
        precision = tp / pred if pred else 0.0
        recall = tp / true if true else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return ClassScore(label, precision, recall, f1, true)

    scores = [score(label, found[label], predicted[label], gold[label]) for label in sorted(set(gold) | set(predicted))]
    if not scores:
        return [], []
    total = sum(gold.values())
    averages = [score("micro average", sum(found.values()), sum(predicted.values()), total)]
    means = [sum(getattr(s, name) for s in scores) / len(scores) for name in ("precision", "recall", "f1")]
    averages.append(ClassScore("macro average", *means, total))
    weighted = [
        sum(getattr(s, name) * s.support for s in scores) / total if total else 0.0
        for name in ("precision", "recall", "f1")
    ]
    averages.append(ClassScore("weighted average", *weighted, total))
    return scores, averages


def analyse_tokens(table: pa.Table) -> tuple[TokenAnalysis, dict[str, list]]:
    """The spans of every record, the per-type scores, and the columns to add to the table (missed,
    spurious, wrong_type, errors per record)."""

    gold = [tags_of(value) for value in table.column("gold").to_pylist()]
    predicted = [tags_of(value) for value in table.column("predicted").to_pylist()]
    for index, (a, b) in enumerate(zip(gold, predicted)):
        if len(a) != len(b):  # cannot happen in the evaluator's records; keep seqeval from failing
            gold[index], predicted[index] = a[: min(len(a), len(b))], b[: min(len(a), len(b))]
    scheme = scheme_of(gold)
    extract = entities_of(scheme)
    spans = [compare_entities(a, b, extract) for a, b in zip(gold, predicted)]
    counts = {name: [sum(span.kind == name for span in row) for row in spans] for name, _ in ERROR_KINDS}
    counts["errors"] = [sum(values) for values in zip(*(counts[name] for name, _ in ERROR_KINDS))]
    if scheme == "IOB":
        scores, averages = type_scores(spans)
    else:  # the spans are strict too, but seqeval's own report is the reference there
        scores, averages = _strict_scores(gold, predicted, scheme)
    analysis = TokenAnalysis(
        spans=spans,
        tags=[len(tags) for tags in gold],
        types=sorted({name for row in spans for span in row for name in (span.label, span.predicted) if name}),
        scores=scores,
        averages=averages,
        scheme=scheme,
    )
    return analysis, counts


def _strict_scores(gold: list[list[str]], predicted: list[list[str]], scheme: str):
    """IOBES and BILOU tags: seqeval's classification_report in strict mode (as the evaluator scores them)."""
    import warnings

    from seqeval import scheme as schemes
    from seqeval.metrics import classification_report

    from workbench.core.evaluation.analysis import ClassScore

    options = {"mode": "strict", "scheme": getattr(schemes, scheme)}
    report: dict = {}
    if any(gold):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # seqeval warns about zero division and unknown tags
            report = classification_report(gold, predicted, output_dict=True, zero_division=0, **options)

    def score(label: str, values: dict) -> ClassScore:
        numbers = (float(values["precision"]), float(values["recall"]), float(values["f1-score"]))
        return ClassScore(label, *numbers, int(values["support"]))

    averages = ("micro avg", "macro avg", "weighted avg")
    scores = [score(label, values) for label, values in report.items() if label not in averages]
    return scores, [score(label.replace(" avg", " average"), report[label]) for label in averages if label in report]


def _annotation(span: Span) -> str:
    if span.kind == "missed":
        return f"‹−{span.label}›"
    if span.kind == "spurious":
        return f"‹+{span.label}›"
    if span.kind == "wrong_type":
        return f"‹{span.label}→{span.predicted}›"
    return ""


PRIORITY = {"wrong_type": 3, "missed": 2, "spurious": 1, "correct": 0}


def marked_sentence(
    words: list[str], spans: list[Span], styles: Mapping[str, str], *, width: int | None = None
) -> Text:
    """The sentence with each entity marked (the mistakes annotated ‹−MISSED›, ‹+SPURIOUS›, ‹GOLD→PREDICTED›).
    With `width`: one table cell, starting a little before the first mistake and cut at `width`."""
    text = Text(no_wrap=width is not None)
    covering: dict[int, Span] = {}
    for span in spans:
        for index in range(span.start, min(span.end, len(words) - 1) + 1):
            if index not in covering or PRIORITY[span.kind] > PRIORITY[covering[index].kind]:
                covering[index] = span
    ends: dict[int, list[Span]] = {}
    for span in spans:
        if span.kind != "correct":
            ends.setdefault(min(span.end, len(words) - 1), []).append(span)
    first_mistake = None
    for index, word in enumerate(words):
        if index:
            joined = index - 1 in covering and index in covering and covering[index - 1] is covering[index]
            text.append(" ", style=styles[covering[index].kind] if joined else "")
        span = covering.get(index)
        if span is not None and span.kind != "correct" and first_mistake is None:
            first_mistake = len(text)
        text.append(word, style=styles[span.kind] if span is not None else "")
        for ended in ends.get(index, ()):
            text.append(_annotation(ended), style=f"{styles[ended.kind]} {styles['note']}".strip())
    if width is None or len(text) <= width:
        return text
    start = max(0, (first_mistake or 0) - BEFORE)
    if start and len(text) - start < width:
        start = max(0, len(text) - width + 1)
    piece = text[start : start + width - (2 if start else 1)]
    if start:
        piece = Text("…") + piece
    if start + width - (2 if start else 1) < len(text):
        piece.append("…")
    return piece


def token_detail(example: dict, spans: list[Span], tags: int, styles: Mapping[str, str]) -> Text:
    """The detail under the table: the whole sentence marked, what went wrong, and the legend."""
    words = str(example.get("input") or "").split()
    aligned = tags <= len(words)  # more tags than words: one per sub-token, so tag i is not word i
    detail = Text()
    detail.append("sentence ", style="bold").append_text(marked_sentence(words, spans if aligned else [], styles))
    detail.append("\n")
    mistakes = [span for span in spans if span.kind != "correct"]
    if mistakes:
        parts = []
        for span in mistakes:
            what = " ".join(words[span.start : span.end + 1]) if aligned else f"tags {span.start}-{span.end}"
            name = dict(ERROR_KINDS)[span.kind]
            label = f"{span.label}→{span.predicted}" if span.kind == "wrong_type" else span.label
            parts.append(
                Text.assemble((f"{name} {label}", styles[span.kind]), f" “{what}”" if aligned else f" ({what})")
            )
        detail.append("  errors ", style="bold").append_text(Text("; ").join(parts)).append("\n")
    else:
        detail.append("  errors ", style="bold").append("none: every entity found with its type\n")
    if tags != len(words):
        cut = "the sentence was cut (max_length)" if tags < len(words) else "tags per sub-token (label_all_tokens)"
        detail.append(f"    note {tags} tags for {len(words)} words: {cut}\n", style="italic")
    detail.append("  legend ", style="bold")
    for kind, text in (("missed", "missed ‹−T›"), ("spurious", "spurious ‹+T›"), ("wrong_type", "wrong type ‹G→P›")):
        detail.append(text, style=styles[kind]).append("  ")
    detail.append("found", style=styles["correct"])
    return detail


# -- question answering --------------------------------------------------------------------------


@dataclass
class QAAnalysis:
    gold_spans: list[tuple[int, int] | None]  # per record: the gold answer marked ([start, end) characters)
    predicted_spans: list[tuple[int, int] | None]
    exact: list[float] = field(default_factory=list)
    f1: list[float] = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)  # (name, value) for the scores box


def gold_answers(value) -> list[str]:
    return [text for text in str(value or "").split(GOLD_SEPARATOR) if text.strip()]


def _occurrences(context: str, text: str) -> list[int]:
    found, position = [], context.find(text)
    while position != -1 and len(found) < 50:
        found.append(position)
        position = context.find(text, position + 1)
    return found


def locate(context: str, text: str, near: int) -> tuple[int, int] | None:
    """Where `text` is in the context: the occurrence nearest to `near` (a character offset; -1: the first)."""
    if not text:
        return None
    found = _occurrences(context, text)
    if not found:
        return None
    start = min(found, key=lambda position: abs(position - near)) if near >= 0 else found[0]
    return start, start + len(text)


def analyse_qa(table: pa.Table) -> tuple[QAAnalysis, dict[str, list]]:
    """Per question: exact match and F1 against its gold answers (the SQuAD normalisation), where the
    predicted answer is (its start offset) and where the gold answer closest to it is in the context."""
    from workbench.core.tasks import squad_metric

    contexts = [str(value or "") for value in table.column("context").to_pylist()]
    golds = [gold_answers(value) for value in table.column("gold").to_pylist()]
    predicted = [str(value or "") for value in table.column("predicted").to_pylist()]
    starts = table.column("start").to_pylist() if "start" in table.column_names else [None] * table.num_rows
    analysis = QAAnalysis([], [])
    for context, answers, guess, start in zip(contexts, golds, predicted, starts):
        guess_tokens = squad_metric.normalize_answer(guess).split()
        scored = [(_f1(guess_tokens, squad_metric.normalize_answer(a).split()), a) for a in answers]
        if answers:
            normal = " ".join(guess_tokens)
            exact = max(float(normal == squad_metric.normalize_answer(a)) for a in answers)
            f1 = max(value for value, _ in scored)
        else:  # SQuAD 2.0: no answer is right only when the model gives none
            exact = f1 = float(not guess.strip())
        analysis.exact.append(float(exact))
        analysis.f1.append(float(f1))
        span = None
        if guess and start is not None and start >= 0 and context[start : start + len(guess)] == guess:
            span = (start, start + len(guess))
        elif guess:
            span = locate(context, guess, start if start is not None else -1)
        analysis.predicted_spans.append(span)
        near = span[0] if span else -1
        ordered = [answer for _, answer in sorted(scored, key=lambda pair: -pair[0])]  # the best-matching first
        analysis.gold_spans.append(next((found for a in ordered if (found := locate(context, a, near))), None))
    count = max(1, table.num_rows)
    windows = table.column("windows").to_pylist() if "windows" in table.column_names else []
    analysis.summary = [
        ("exact match", f"{100 * sum(analysis.exact) / count:.2f}"),
        ("F1", f"{100 * sum(analysis.f1) / count:.2f}"),
        ("wrong answers", f"{sum(1 for value in analysis.exact if not value):,} of {table.num_rows:,}"),
        ("no answer predicted", f"{sum(1 for text in predicted if not text.strip()):,}"),
    ]
    if windows:
        several = sum(1 for value in windows if (value or 0) > 1)
        analysis.summary.append(("questions over >1 window", f"{several:,} (up to {max(v or 0 for v in windows)})"))
    return analysis, {"exact": analysis.exact, "f1": analysis.f1}


def _f1(predicted: list[str], gold: list[str]) -> float:
    """SQuAD 2.0's token F1 (squad_metric.f1_score_v2) over answers already normalised and split."""
    from collections import Counter

    if not predicted or not gold:
        return float(predicted == gold)
    same = sum((Counter(predicted) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def marked_context(
    context: str,
    gold: tuple[int, int] | None,
    predicted: tuple[int, int] | None,
    styles: Mapping[str, str],
    *,
    around: int = CONTEXT_AROUND,
    width: int | None = None,
) -> Text:
    """The context around the answers, the gold one and the predicted one marked (their overlap
    underlined); cut to `around` characters either side, or to one `width`-character table cell."""
    context = context.replace("\n", " ")
    spans = [span for span in (gold, predicted) if span is not None]
    low = min((start for start, _ in spans), default=0)
    high = max((end for _, end in spans), default=min(len(context), 2 * around))
    if width is not None:  # one cell: from a little before the first answer, room left for the "…" marks
        begin = max(0, low - BEFORE) if len(context) > width else 0
        if begin and len(context) - begin < width - 1:  # near the end: fill the cell from the end back
            begin = len(context) - (width - 1)
        room = width - (1 if begin else 0)
        end = min(len(context), begin + room)
        if end < len(context):
            end -= 1
    else:
        begin, end = max(0, low - around), min(len(context), high + around)
    text = Text(context[begin:end], no_wrap=width is not None)

    def mark(span: tuple[int, int] | None, style: str) -> None:
        if span is not None and span[1] > begin and span[0] < end:
            text.stylize(style, max(span[0], begin) - begin, min(span[1], end) - begin)

    mark(gold, styles["gold"])
    mark(predicted, styles["predicted"])
    if gold is not None and predicted is not None:
        overlap = (max(gold[0], predicted[0]), min(gold[1], predicted[1]))
        if overlap[0] < overlap[1]:
            mark(overlap, styles["both"])
    if begin:
        text = Text("…") + text
    if end < len(context):
        text.append("…")
    return text


def qa_detail(example: dict, gold: tuple[int, int] | None, predicted, styles: Mapping[str, str]) -> Text:
    detail = Text()
    detail.append(" question ", style="bold").append(str(example.get("input") or "").replace("\n", " ") + "\n")
    detail.append("  context ", style="bold").append_text(
        marked_context(str(example.get("context") or ""), gold, predicted, styles)
    )
    detail.append("\n")
    answers = gold_answers(example.get("gold"))
    detail.append("     gold ", style="bold").append(" | ".join(answers) or "(no answer)", style=styles["gold"])
    if answers and gold is None:
        detail.append("  (not found in the context)", style="italic")
    guess = str(example.get("predicted") or "") or "(no answer)"
    detail.append("\npredicted ", style="bold").append(guess, style=styles["predicted"])
    windows = example.get("windows")
    if windows is not None:
        detail.append(f"  · {windows} window{'s' if windows != 1 else ''}", style="bold" if windows > 1 else "")
    return detail


# -- picking the rows ------------------------------------------------------------------------------


def pick_rows(
    columns: Mapping[str, np.ndarray],
    by: str,
    descending: bool,
    *,
    wrong: np.ndarray | None = None,
    keep: np.ndarray | None = None,
) -> np.ndarray:
    """Record indexes: those kept (and wrong, if given), ordered by `by` (stable; NaN last)."""
    import numpy as np

    key = np.asarray(columns[by], dtype=np.float64)
    mask = np.ones(len(key), dtype=bool)
    if keep is not None:
        mask &= keep
    if wrong is not None:
        mask &= wrong
    rows = np.flatnonzero(mask)
    ordering = -key[rows] if descending else key[rows]
    ordering = np.where(np.isnan(ordering), np.inf, ordering)
    return rows[np.argsort(ordering, kind="stable")]


def token_code(
    path: str, by: str, descending: bool, entity_type: str | None, kind: str | None, wrong: bool, scheme: str = "IOB"
) -> str:
    """seqeval and pandas code that gives the per-type scores and the sentences the view shows."""
    strict = f', mode="strict", scheme={scheme}' if scheme != "IOB" else ""
    lines = [
        "import pyarrow.parquet as pq",
        "from seqeval.metrics import classification_report",
        "from seqeval.metrics.sequence_labeling import get_entities",
        "",
        f"records = pq.read_table({path!r}).to_pandas()",
        'records.insert(0, "row", range(len(records)))  # the sentence in the evaluated file',
        'gold = [tags.split() for tags in records["gold"]]',
        'predicted = [tags.split() for tags in records["predicted"]]',
        *([f"from seqeval.scheme import {scheme}"] if strict else []),
        f"print(classification_report(gold, predicted, digits=4, zero_division=0{strict}))  # per entity type",
        "",
        "",
        *(["# (the view reads the entities strictly too; get_entities is the lenient reading)"] if strict else []),
        "def mistakes(gold_tags, predicted_tags):",
        '    """(kind, type) of each entity missed, spurious or given the wrong type."""',
        "    gold_entities, predicted_entities = set(get_entities(gold_tags)), set(get_entities(predicted_tags))",
        "    extra = {(start, end): label for label, start, end in predicted_entities - gold_entities}",
        "    found = []",
        "    for label, start, end in gold_entities - predicted_entities:",
        '        found.append(("wrong_type", label) if extra.pop((start, end), None) else ("missed", label))',
        '    return found + [("spurious", label) for label in extra.values()]',
        "",
        "",
        'records["mistakes"] = [mistakes(g, p) for g, p in zip(gold, predicted)]',
        'for kind in ("missed", "spurious", "wrong_type"):',
        '    records[kind] = [sum(k == kind for k, _ in found) for found in records["mistakes"]]',
        'records["errors"] = records["missed"] + records["spurious"] + records["wrong_type"]',
    ]
    conditions = ['(records["errors"] > 0)'] if wrong else []
    if kind is not None:
        conditions.append(f'(records["{kind}"] > 0)')
    if entity_type is not None:
        test = "any(t == " + repr(entity_type) + " for _, t in found)"
        conditions.append(f'records["mistakes"].map(lambda found: {test})')
    selected = f"records[{' & '.join(conditions)}]" if conditions else "records"
    lines += [
        f'examples = {selected}.sort_values("{by}", ascending={not descending}, na_position="last", kind="stable")',
        'print(examples[["row", "errors", "input", "gold", "predicted"]].head(50).to_string())',
    ]
    return "\n".join(lines) + "\n"


def qa_code(path: str, by: str, descending: bool, wrong: bool) -> str:
    """The per-question exact match and F1 (SQuAD's normalisation) and the questions the view shows."""
    lines = [
        "import re",
        "import string",
        "from collections import Counter",
        "",
        "import pyarrow.parquet as pq",
        "",
        f"records = pq.read_table({path!r}).to_pandas()",
        'records.insert(0, "row", range(len(records)))  # the question in the evaluated file',
        "",
        "",
        "def normalize(text):",
        '    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))',
        '    return " ".join(re.sub(r"\\b(a|an|the)\\b", " ", text).split())',
        "",
        "",
        "def f1(prediction, truth):",
        "    predicted, gold = normalize(prediction).split(), normalize(truth).split()",
        "    common = sum((Counter(predicted) & Counter(gold)).values())",
        "    if not predicted or not gold:",
        "        return float(predicted == gold)",
        "    if common == 0:",
        "        return 0.0",
        "    precision, recall = common / len(predicted), common / len(gold)",
        "    return 2 * precision * recall / (precision + recall)",
        "",
        "",
        f'answers = [[a for a in gold.split({GOLD_SEPARATOR!r}) if a.strip()] for gold in records["gold"]]',
        'records["exact"] = [max((float(normalize(p) == normalize(a)) for a in golds), default=float(not p.strip()))',
        '                    for p, golds in zip(records["predicted"], answers)]',
        'records["f1"] = [max((f1(p, a) for a in golds), default=float(not p.strip()))',
        '                 for p, golds in zip(records["predicted"], answers)]',
        'print("exact match", 100 * records["exact"].mean(), "F1", 100 * records["f1"].mean())',
    ]
    selected = 'records[records["exact"] == 0]' if wrong else "records"
    lines += [
        f'examples = {selected}.sort_values("{by}", ascending={not descending}, na_position="last", kind="stable")',
        'print(examples[["row", "f1", "score", "windows", "input", "gold", "predicted"]].head(50).to_string())',
    ]
    return "\n".join(lines) + "\n"
