"""Sequence classification (and regression): one label per text or text pair.

Labels follow the Datasets pane's rule (`core.data.labels.infer_labels`): strings become class
names, floats and integers with many or negative values mean regression (one output); a spec that
sets `model.num_labels` or `model.id2label` asks for classes, or with `num_labels = 1` for regression.
"""

from __future__ import annotations

from workbench.core.errors import WorkbenchError
from workbench.core.tasks.base import EvalResult, Evaluator, HeadLabels, Prepared, Task, limit_rows, require_columns
from workbench.core.tasks.metric_set import REGRESSION_METRICS

CLASSIFICATION_METRICS = ("accuracy", "f1", "precision", "recall", "matthews_correlation")


def label_info(raw, data: dict, model_section: dict):
    """Turn labels into ids and say how many there are; returns (raw, HeadLabels)."""
    import datasets

    from workbench.core.data.labels import infer_labels

    label = data["label_column"]
    train = raw["train"]
    feature = train.features[label]
    configured = {int(k): v for k, v in (model_section.get("id2label") or {}).items()}
    if isinstance(feature, datasets.ClassLabel):
        return raw, HeadLabels(feature.num_classes, dict(enumerate(feature.names)))
    dtype = getattr(feature, "dtype", "")
    if not dtype:
        raise WorkbenchError(f"data.label_column: labels of type {feature} are not supported")
    inferred = {split: infer_labels(dataset, label) for split, dataset in raw.items()}
    asked = model_section.get("num_labels") or 0
    regression = inferred["train"].task == "regression"
    if asked == 1 or (inferred["train"].kind == "float" and not configured and asked == 0):
        regression = True
    elif inferred["train"].kind == "int" and (configured or asked > 1):
        regression = False
    if regression:
        if dtype in ("string", "large_string"):
            raise WorkbenchError("data.label_column: text labels cannot be regression targets (model.num_labels = 1)")
        return raw.cast_column(label, datasets.Value("float32")), HeadLabels(1)
    if dtype.startswith("float"):
        raise WorkbenchError(
            "data.label_column: float labels mean regression; set model.num_labels = 0 (or 1) and no model.id2label"
        )
    if dtype in ("string", "large_string"):
        seen = {split: set(dataset[label]) for split, dataset in raw.items()}  # each column read once
        names = sorted(seen["train"])
        if configured:
            names = [configured[i] for i in sorted(configured)]
        label2id = {name: index for index, name in enumerate(names)}
        unknown = sorted(set().union(*seen.values()) - set(label2id))
        if unknown:
            raise WorkbenchError(
                f"data.label_column: label(s) {', '.join(map(repr, unknown[:5]))} are not in {names}",
                hint="The validation file has labels the training file (or model.id2label) lacks.",
            )

        def encode(batch):
            return {label: [label2id[value] for value in batch[label]]}

        raw = raw.map(encode, batched=True)
        raw = raw.cast_column(label, datasets.ClassLabel(names=names))
        return raw, HeadLabels(len(names), dict(enumerate(names)))
    if dtype.startswith(("int", "uint", "bool")):
        values = set(train[label])
        if "validation" in raw:
            values |= set(raw["validation"][label])
        if min(values) < 0:
            raise WorkbenchError(f"data.label_column: class ids must be 0 or more, found {min(values)}")
        count = max(asked, max(values) + 1, len(configured))
        id2label = configured or {index: str(index) for index in range(count)}
        return raw, HeadLabels(count, id2label)
    raise WorkbenchError(f"data.label_column: labels of type {dtype} are not supported")


class SequenceClassification(Task):
    name = "sequence-classification"
    pipeline_tag = "text-classification"
    auto_class = "AutoModelForSequenceClassification"
    metric_names = CLASSIFICATION_METRICS + REGRESSION_METRICS
    default_metrics = ("accuracy", "f1")
    card_task_name = "Text Classification"

    def guess_data(self, splits: dict) -> dict:
        """The text, pair and label columns, as the Datasets pane guesses them (MRPC's `#1 String`,
        `#2 String` and `Quality` included)."""
        from workbench.core.data.labels import guess_columns

        guess = guess_columns(splits["train"])
        return {
            "text_column": guess.text or "",
            "text_pair_column": guess.pair or "",
            "label_column": guess.label or "",
        }

    def head_labels(self, raw, spec: dict) -> HeadLabels:
        return label_info(raw, spec["data"], spec["model"])[1]

    def load_model(self, spec: dict, model_path: str, labels: HeadLabels):
        model = super().load_model(spec, model_path, labels)
        if getattr(model.config, "problem_type", None) is None:
            # What the head's first forward would set (transformers' own rule). Set there, under
            # torch.compile the change fails a guard and the whole model compiles a second time.
            model.config.problem_type = "regression" if model.config.num_labels == 1 else "single_label_classification"
        return model

    def prepare(self, raw, spec: dict, tokenizer) -> Prepared:
        from workbench.core.tasks.tokenizing import tokenizer_parallelism

        data = spec["data"]
        require_columns(raw, {key: data.get(key) for key in ("text_column", "text_pair_column", "label_column")})
        raw = limit_rows(raw, data)
        raw, labels = label_info(raw, data, spec["model"])
        text, pair, label = data["text_column"], data.get("text_pair_column") or None, data["label_column"]
        max_length = data["max_length"]

        def tokenize(batch):
            first = [value if value is not None else "" for value in batch[text]]
            second = [value if value is not None else "" for value in batch[pair]] if pair else None
            return tokenizer(first, second, truncation=True, max_length=max_length)

        columns = raw["train"].column_names
        with tokenizer_parallelism():
            tokenized = raw.map(tokenize, batched=True, remove_columns=[c for c in columns if c != label])
        tokenized = tokenized.rename_column(label, "labels")
        context = None
        if "validation" in raw:
            context = {"text": raw["validation"][text], "pair": raw["validation"][pair] if pair else None}
        return Prepared(tokenized["train"], tokenized.get("validation"), labels, eval_context=context)

    def evaluator(self, prepared: Prepared, spec: dict, tokenizer, accelerator) -> Evaluator:
        from workbench.core.tasks.metric_set import MetricSet

        names = self.chosen_metrics(spec["training"].get("metrics"))
        return ClassificationEvaluator(accelerator, MetricSet(names, prepared.labels.num_labels), prepared)


class ClassificationEvaluator(Evaluator):
    """Argmax (or the single output, for regression) per row; metrics from the local evaluate modules."""

    def __init__(self, accelerator, metrics, prepared: Prepared) -> None:
        super().__init__(accelerator)
        self.metrics = metrics
        self.labels = prepared.labels
        self.inputs = prepared.eval_context or {}
        self.predicted, self.references, self.scores, self.losses = [], [], [], []

    def add(self, batch: dict, outputs, model) -> None:
        import torch

        logits = outputs.logits.float()
        if self.labels.regression:
            predicted = logits.squeeze(-1)
            losses = (predicted - batch["labels"].float()) ** 2
            scores = predicted
        else:
            probabilities = logits.softmax(dim=-1)
            scores, predicted = probabilities.max(dim=-1)
            losses = torch.nn.functional.cross_entropy(logits, batch["labels"], reduction="none")
        predicted, references, scores, losses = self.gather((predicted, batch["labels"], scores, losses))
        self.predicted.extend(predicted.cpu().tolist())
        self.references.extend(references.cpu().tolist())
        self.scores.extend(scores.cpu().tolist())
        self.losses.extend(losses.cpu().tolist())

    def finish(self, eval_loss: float) -> EvalResult:
        metrics = self.metrics.compute(self.predicted, self.references)
        names = self.labels.id2label
        name = (lambda value: names.get(int(value), str(value))) if not self.labels.regression else float
        count = len(self.predicted)
        records = {
            "id": list(range(count)),
            "input": list(self.inputs.get("text") or [""] * count)[:count],
            "gold": [str(name(value)) for value in self.references],
            "predicted": [str(name(value)) for value in self.predicted],
            "score": self.scores,
            "loss": self.losses,
        }
        if self.inputs.get("pair") is not None:
            records["input_pair"] = list(self.inputs["pair"])[:count]
        return EvalResult(metrics, records)


TASK = SequenceClassification()
