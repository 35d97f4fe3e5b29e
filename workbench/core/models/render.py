"""Plain-text rendering of a prediction (the CLI prints it; the pane draws its own widgets)."""

from __future__ import annotations

from workbench.core.models.inference import Prediction

BAR_WIDTH = 30


def bar(score: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, score)) * width)
    return "█" * filled + "·" * (width - filled)


def prediction_lines(prediction: Prediction) -> list[str]:
    result = prediction.result
    lines = ["raw output:"]
    lines += [f"  {name} {shape} {preview}" for name, shape, preview in prediction.raw]
    lines.append("answer:")
    head = prediction.head
    if head == "sequence-classification":
        width = max(len(item["label"]) for item in result["labels"])
        lines += [f"  {item['label']:<{width}} {bar(item['score'])} {item['score']:.4f}" for item in result["labels"]]
    elif head == "multiple-choice":
        lines += [f"  {bar(item['score'])} {item['score']:.4f}  {item['choice']}" for item in result["choices"]]
    elif head == "token-classification":
        if not result["spans"]:
            lines.append("  (no entities: every token is O)")
        lines += [
            f"  {span['label']:<10} {span['text']!r} [{span['start']}:{span['end']}] {span['score']:.4f}"
            for span in result["spans"]
        ]
    elif head == "question-answering":
        lines.append(
            f"  {result['answer']!r}  score {result['score']:.4f}  (characters {result['start']}-{result['end']})"
        )
    elif head == "masked-lm":
        for mask in result["masks"]:
            for candidate in mask["candidates"]:
                lines.append(f"  {bar(candidate['score'])} {candidate['score']:.4f}  {candidate['token']}")
    elif head in ("causal-lm", "seq2seq-lm"):
        lines.append(f"  {result['generated']}")
        lines.append(f"  ({result['new_tokens']} new tokens, {result['sampling']})")
    else:
        lines.append(
            f"  {result['tokens']} tokens x {result['hidden_size']} hidden;"
            f" mean-pooled {result['mean_pooled']} (norm {result['norm']})"
        )
    return lines
