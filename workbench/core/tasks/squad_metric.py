"""SQuAD exact match and F1, as the official evaluation scripts compute them.

v1.1 (`evaluate-v1.1.py`): answers are normalized (lower case, punctuation removed, the articles
"a", "an", "the" removed, white space collapsed); exact match and token F1 take the best over the
gold answers; both are percentages (0-100), as the script, `evaluate`'s "squad" metric and
transformers' `run_qa.py` report them.

v2.0 (`evaluate-v2.0.py`): the same normalization; a question with no gold answer (or only answers
that normalize to nothing) counts as right only when the prediction is empty too, and the scores are
split into questions with an answer (`has_answer_*`) and without (`no_answer_*`).
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower text and remove punctuation, articles and extra white space (the official order)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match_score(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


def f1_score(prediction: str, truth: str) -> float:
    """Token overlap F1 of v1.1: 0 when nothing is shared (two empty strings included)."""
    predicted = normalize_answer(prediction).split()
    gold = normalize_answer(truth).split()
    same = sum((Counter(predicted) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def f1_score_v2(prediction: str, truth: str) -> float:
    """Token overlap F1 of v2.0: an empty prediction against an empty answer is 1, else as v1.1."""
    predicted = normalize_answer(prediction).split()
    gold = normalize_answer(truth).split()
    if not predicted or not gold:
        return float(predicted == gold)
    return f1_score(prediction, truth)


def best_over_answers(score, prediction: str, answers: Sequence[str]) -> float:
    return max(score(prediction, answer) for answer in answers)


def squad_v1(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> dict[str, float]:
    """`exact_match` and `f1` (percentages) of v1.1; every question has at least one gold answer."""
    if not predictions:
        return {"exact_match": 0.0, "f1": 0.0}
    exact = sum(best_over_answers(exact_match_score, p, a) for p, a in zip(predictions, answers, strict=True))
    f1 = sum(best_over_answers(f1_score, p, a) for p, a in zip(predictions, answers, strict=True))
    total = len(predictions)
    return {"exact_match": 100.0 * exact / total, "f1": 100.0 * f1 / total}


def per_question_v2(prediction: str, answers: Sequence[str]) -> tuple[float, float, bool]:
    """(exact, f1, has_answer) of one question under v2.0's rules."""
    gold = [answer for answer in answers if normalize_answer(answer)]
    has_answer = bool(gold)
    gold = gold or [""]
    return (
        best_over_answers(exact_match_score, prediction, gold),
        best_over_answers(f1_score_v2, prediction, gold),
        has_answer,
    )


def squad_v2(predictions: Sequence[str], answers: Sequence[Sequence[str]]) -> dict[str, float]:
    """`exact_match`, `f1` and their has-answer / no-answer splits (percentages) of v2.0.

    A split with no question is left out (the official script prints no HasAns/NoAns lines then)."""
    scores = [per_question_v2(p, a) for p, a in zip(predictions, answers, strict=True)]
    if not scores:
        return {"exact_match": 0.0, "f1": 0.0}
    result = {
        "exact_match": 100.0 * sum(s[0] for s in scores) / len(scores),
        "f1": 100.0 * sum(s[1] for s in scores) / len(scores),
    }
    for prefix, wanted in (("has_answer", True), ("no_answer", False)):
        part = [s for s in scores if s[2] is wanted]
        if part:
            result[f"{prefix}_exact"] = 100.0 * sum(s[0] for s in part) / len(part)
            result[f"{prefix}_f1"] = 100.0 * sum(s[1] for s in part) / len(part)
    return result


def compute(predictions: Sequence[str], answers: Sequence[Sequence[str]], *, version_2: bool) -> dict[str, float]:
    return squad_v2(predictions, answers) if version_2 else squad_v1(predictions, answers)
