"""Metrics of generated text, from the field's own libraries (both work offline):

- translation: corpus BLEU and chrF from `sacrebleu` (its default 13a tokenization, as the course's
  `evaluate.load("sacrebleu")` computes them), on a 0-100 scale;
- summarization: ROUGE-1/2/L/Lsum F-measures from `rouge-score`, with the Porter stemmer, averaged
  over the examples and scaled to 0-100 (the course's `rouge.compute(..., use_stemmer=True)` reports
  the bootstrap median of the same per-example scores, which moves with the random resampling).
  `rougeLsum` reads one sentence per line, so texts are split into sentences first: with nltk's
  punkt when its data is installed, else at sentence-ending punctuation.

`sacrebleu`, `rouge_score` and `nltk` are imported inside the functions.
"""

from __future__ import annotations

import re
from functools import lru_cache

TRANSLATION_METRICS = ("bleu", "chrf")
SUMMARIZATION_METRICS = ("rouge1", "rouge2", "rougeL", "rougeLsum")
GENERATION_METRICS = TRANSLATION_METRICS + SUMMARIZATION_METRICS

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@lru_cache(maxsize=1)
def _punkt():
    """nltk's sentence splitter when nltk and its punkt data are installed, else None."""
    try:
        import nltk

        nltk.data.find("tokenizers/punkt_tab")
    except (ImportError, LookupError):
        return None
    return nltk.sent_tokenize


def sentence_lines(text: str) -> str:
    """The text with one sentence per line, as ROUGE-Lsum expects."""
    text = text.strip()
    split = _punkt()
    parts = split(text) if split is not None else SENTENCE_END.split(text)
    return "\n".join(part for part in parts if part)


def bleu(predictions: list[str], references: list[str]) -> float:
    from sacrebleu.metrics import BLEU

    return float(BLEU().corpus_score(predictions, [references]).score)


def chrf(predictions: list[str], references: list[str]) -> float:
    from sacrebleu.metrics import CHRF

    return float(CHRF().corpus_score(predictions, [references]).score)


def sentence_bleu(predictions: list[str], references: list[str]) -> list[float]:
    """BLEU of each prediction alone (effective order, so short sentences do not all score 0)."""
    from sacrebleu.metrics import BLEU

    scorer = BLEU(effective_order=True)
    return [float(scorer.sentence_score(p, [r]).score) for p, r in zip(predictions, references, strict=True)]


def rouge_scores(predictions: list[str], references: list[str], names=SUMMARIZATION_METRICS) -> dict[str, list[float]]:
    """Per-example ROUGE F-measures x 100, by name."""
    from rouge_score import rouge_scorer

    names = list(names)
    scorer = rouge_scorer.RougeScorer(names, use_stemmer=True)
    per_name: dict[str, list[float]] = {name: [] for name in names}
    for prediction, reference in zip(predictions, references, strict=True):
        if "rougeLsum" in names:
            prediction, reference = sentence_lines(prediction), sentence_lines(reference)
        scores = scorer.score(reference, prediction)  # rouge_score takes the target first
        for name in names:
            per_name[name].append(scores[name].fmeasure * 100)
    return per_name


def compute(names, predictions: list[str], references: list[str]) -> dict[str, float]:
    """The named metrics (any of `GENERATION_METRICS`) of these predictions against their references."""
    names = [name for name in names if name in GENERATION_METRICS]
    if not predictions:
        return {name: 0.0 for name in names}
    results: dict[str, float] = {}
    if "bleu" in names:
        results["bleu"] = bleu(predictions, references)
    if "chrf" in names:
        results["chrf"] = chrf(predictions, references)
    rouge_names = [name for name in names if name in SUMMARIZATION_METRICS]
    if rouge_names:
        for name, values in rouge_scores(predictions, references, rouge_names).items():
            results[name] = sum(values) / len(values)
    return {name: results[name] for name in names}


def example_scores(names, predictions: list[str], references: list[str]) -> list[float]:
    """One score per example for the predictions table: sentence BLEU for translation metrics,
    ROUGE-L for summarization ones."""
    if any(name in SUMMARIZATION_METRICS for name in names):
        return rouge_scores(predictions, references, ["rougeL"])["rougeL"]
    return sentence_bleu(predictions, references)
