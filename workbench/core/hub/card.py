"""The model card: metadata through huggingface_hub's ModelCard/ModelCardData, a body from the run.

`card_facts` gathers what the run knows (spec.toml, summary.json, events.jsonl, config.json); the
pipeline tag and the model-index task come from the run's task (`core.tasks`, `card_info`), and a
LoRA run's card (adapter_config.json in the folder) says so: `library_name: peft`, the base model;
`build_card` writes the README; `check_card` validates an edited card before anything is sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path

from workbench.core.hub.source import PushSource

EMBEDDED_BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
HUB_ID = re.compile(r"[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?")
# Hub license ids (the common ones; the Hub's validate-yaml has the full list).
LICENSES = {
    "apache-2.0",
    "mit",
    "openrail",
    "openrail++",
    "bigscience-openrail-m",
    "creativeml-openrail-m",
    "bigcode-openrail-m",
    "cc-by-4.0",
    "cc-by-sa-4.0",
    "cc-by-nc-4.0",
    "cc-by-nc-sa-4.0",
    "cc-by-nd-4.0",
    "cc0-1.0",
    "cc-by-3.0",
    "bsd-2-clause",
    "bsd-3-clause",
    "gpl-2.0",
    "gpl-3.0",
    "lgpl-3.0",
    "agpl-3.0",
    "mpl-2.0",
    "afl-3.0",
    "artistic-2.0",
    "bsl-1.0",
    "ecl-2.0",
    "epl-2.0",
    "eupl-1.1",
    "isc",
    "odc-by",
    "odbl",
    "pddl",
    "unlicense",
    "wtfpl",
    "zlib",
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "gemma",
    "deepfloyd-if-license",
    "other",
    "unknown",
}
PIPELINE_TAGS = {
    "text-classification",
    "token-classification",
    "question-answering",
    "fill-mask",
    "text-generation",
    "text2text-generation",
    "feature-extraction",
    "sentence-similarity",
    "summarization",
    "translation",
    "zero-shot-classification",
    "multiple-choice",
    "image-classification",
    "automatic-speech-recognition",
}
# head (spec) or architecture suffix -> pipeline tag
HEAD_TAGS = {
    "sequence-classification": "text-classification",
    "ForSequenceClassification": "text-classification",
    "token-classification": "token-classification",
    "ForTokenClassification": "token-classification",
    "question-answering": "question-answering",
    "ForQuestionAnswering": "question-answering",
    "masked-lm": "fill-mask",
    "ForMaskedLM": "fill-mask",
    "causal-lm": "text-generation",
    "ForCausalLM": "text-generation",
    "seq2seq-lm": "text2text-generation",
    "ForConditionalGeneration": "text2text-generation",
    "ForMultipleChoice": "multiple-choice",
    "Model": "feature-extraction",
}
TASK_NAMES = {
    "text-classification": "Text Classification",
    "token-classification": "Token Classification",
    "question-answering": "Question Answering",
    "fill-mask": "Fill-Mask",
    "text-generation": "Text Generation",
    "text2text-generation": "Text2Text Generation",
    "feature-extraction": "Feature Extraction",
    "multiple-choice": "Multiple Choice",
    "translation": "Translation",
    "summarization": "Summarization",
}
# How a metric is shown (the rest: "exact_match" -> "Exact Match").
METRIC_TITLES = {
    "f1": "F1",
    "mcc": "MCC",
    "bleu": "BLEU",
    "chrf": "chrF",
    "rouge1": "ROUGE-1",
    "rouge2": "ROUGE-2",
    "rougeL": "ROUGE-L",
    "rougeLsum": "ROUGE-Lsum",
    "has_answer_f1": "HasAns F1",
    "no_answer_f1": "NoAns F1",
    "pearsonr": "Pearson r",
    "spearmanr": "Spearman r",
}
# The Hub metric ids (the card's `metrics:`) of what each task computes, when not the name itself.
TASK_METRIC_IDS = {"token-classification": "seqeval"}  # entity-level precision, recall, F1, accuracy
METRIC_IDS = {
    "rouge1": "rouge",
    "rouge2": "rouge",
    "rougeL": "rouge",
    "rougeLsum": "rouge",
    "has_answer_f1": "squad_v2",
    "no_answer_f1": "squad_v2",
}
# peft task types -> pipeline tag and the transformers Auto class of the head.
ADAPTER_TASKS = {
    "SEQ_CLS": ("text-classification", "AutoModelForSequenceClassification"),
    "TOKEN_CLS": ("token-classification", "AutoModelForTokenClassification"),
    "QUESTION_ANS": ("question-answering", "AutoModelForQuestionAnswering"),
    "CAUSAL_LM": ("text-generation", "AutoModelForCausalLM"),
    "SEQ_2_SEQ_LM": ("text2text-generation", "AutoModelForSeq2SeqLM"),
    "FEATURE_EXTRACTION": ("feature-extraction", "AutoModel"),
}
NOT_METRICS = {"loss", "runtime", "samples_per_second", "steps_per_second", "epoch", "step"}
FRAMEWORKS = (
    ("transformers", "Transformers"),
    ("torch", "PyTorch"),
    ("datasets", "Datasets"),
    ("tokenizers", "Tokenizers"),
    ("accelerate", "Accelerate"),
    ("huggingface_hub", "huggingface_hub"),
)
VERSION_NAMES = {**dict(FRAMEWORKS), "python": "Python", "cuda": "CUDA", "workbench": "workbench"}


@dataclass
class CardFacts:
    model_name: str
    base_model: str | None = None
    datasets: list[str] = field(default_factory=list)
    dataset_config: str | None = None
    dataset_label: str = ""  # "GLUE MRPC", "train.tsv"
    pipeline_tag: str | None = None
    task_type: str | None = None  # the model-index task (None: the pipeline tag)
    task_name: str | None = None
    metric_ids: list[str] = field(default_factory=list)  # the card's `metrics:` (None: the metric names)
    adapter: dict = field(default_factory=dict)  # adapter_config.json of a LoRA (peft) folder
    head_class: str = ""  # the trained head's transformers class (BertForSequenceClassification)
    library_name: str = "transformers"
    license: str | None = None
    language: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=lambda: ["workbench"])
    labels: list[str] = field(default_factory=list)
    final_metrics: dict[str, float] = field(default_factory=dict)  # eval metrics without the "eval_" prefix
    evaluations: list[dict] = field(default_factory=list)  # {"step", "epoch", "training_loss", "metrics"}
    hyperparameters: dict = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    train_examples: int | None = None
    run_id: str | None = None
    confusion: str = ""  # classification: the last kept evaluation's confusion matrix, as text
    per_class: str = ""  # ... and its per-class precision/recall/F1 (a Markdown table)
    confusion_step: int | None = None


def _metric_name(key: str) -> str:
    return key[5:] if key.startswith("eval_") else key


def _clean_metrics(metrics: dict) -> dict[str, float]:
    clean = {}
    for key, value in (metrics or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            clean[_metric_name(key)] = float(value)
    return clean


def _base_model(name: str) -> str | None:
    from workbench.core.embedded import embedded_model_path

    if not name or "embedded" in name.lower() or name == str(embedded_model_path()):
        return EMBEDDED_BASE_MODEL
    if Path(name).expanduser().exists() or name.startswith((".", "/", "~")):
        return None  # a local folder: not a Hub id
    return name if HUB_ID.fullmatch(name) else None


def _dataset(spec_data: dict, summary_dataset: str) -> tuple[list[str], str | None, str]:
    dataset_id = spec_data.get("dataset") or spec_data.get("dataset_id")
    if isinstance(dataset_id, str) and HUB_ID.fullmatch(dataset_id):
        return [dataset_id], spec_data.get("dataset_config") or spec_data.get("config"), dataset_id
    train_file = str(spec_data.get("train_file") or summary_dataset or "")
    glue = re.search(r"glue[/\\]([a-z0-9-]+)", train_file.lower())
    if glue:
        task = glue.group(1)
        return ["nyu-mll/glue"], task, f"GLUE {task.upper()}"
    return [], None, Path(train_file).name if train_file else ""


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def task_card(head: str, spec: dict):
    """The task's `CardInfo` for a spec's `model.head` (None: not a task, or one not built)."""
    import inspect

    from workbench.core.errors import WorkbenchError
    from workbench.core.tasks import TASK_MODULES, get_task

    if head not in TASK_MODULES:
        return None
    try:
        task = get_task(head)
    except WorkbenchError:
        return None
    takes_spec = len(inspect.signature(task.card_info).parameters) > 0
    return task.card_info(spec) if takes_spec else task.card_info()


def metric_ids(head: str, metrics) -> list[str]:
    """The Hub metric ids for these metric names of this task, in order, each once."""
    ids: list[str] = []
    for metric in metrics:
        metric_id = TASK_METRIC_IDS.get(head) or METRIC_IDS.get(metric, metric)
        if metric_id not in ids:
            ids.append(metric_id)
    return ids


def _versions(source: PushSource, events: list) -> dict[str, str]:
    from workbench.core.runs.protocol import RunStarted

    versions = dict(source.summary.get("versions") or {})
    for event in events:
        if isinstance(event, RunStarted):
            versions = {**event.versions, **versions}
    if not versions:
        for package, _ in FRAMEWORKS:
            try:
                versions[package] = importlib_metadata.version(package)
            except importlib_metadata.PackageNotFoundError:
                continue
    return versions


def card_facts(source: PushSource, repo_id: str = "") -> CardFacts:
    from workbench.core.runs.folder import EVENTS_FILE
    from workbench.core.runs.protocol import Evaluation, Step, read_events
    from workbench.core.tasks.lora import ADAPTER_CONFIG, HEAD_CONFIG

    spec = source.spec or {}
    summary = source.summary or {}
    config = _read_json(source.folder / "config.json")
    adapter = _read_json(source.folder / ADAPTER_CONFIG)
    if adapter and not config:
        config = _read_json(source.folder / HEAD_CONFIG)  # the trained head's config, kept next to the adapter
    name = repo_id.split("/")[-1] if repo_id else (source.run_id or source.folder.name)
    facts = CardFacts(model_name=name, run_id=source.run_id)

    model_spec = spec.get("model", {}) if isinstance(spec.get("model"), dict) else {}
    base_name = model_spec.get("name_or_path") or summary.get("model") or ""
    if adapter:
        facts.adapter = adapter
        facts.library_name = "peft"
        facts.tags.append("lora")
        base_name = adapter.get("base_model_name_or_path") or base_name
    if source.run_dir is not None or base_name:
        facts.base_model = _base_model(str(base_name))
    if facts.base_model == EMBEDDED_BASE_MODEL:
        facts.license, facts.language = "apache-2.0", ["en"]

    head = model_spec.get("head") or summary.get("head") or ""
    architectures = config.get("architectures") or []
    facts.head_class = architectures[0] if architectures else ""
    info = task_card(head, spec) if head else None
    if info is not None:
        facts.pipeline_tag, facts.task_type, facts.task_name = info.pipeline_tag, info.task_type, info.task_name
    else:
        facts.pipeline_tag = HEAD_TAGS.get(head) or ADAPTER_TASKS.get(str(adapter.get("task_type")), (None,))[0]
    for architecture in architectures:
        for suffix, tag in HEAD_TAGS.items():
            if facts.pipeline_tag is None and suffix[0].isupper() and architecture.endswith(suffix):
                facts.pipeline_tag = tag
    id2label = config.get("id2label") or model_spec.get("id2label") or {}
    if isinstance(id2label, dict):
        facts.labels = [str(id2label[key]) for key in sorted(id2label, key=lambda k: int(k) if str(k).isdigit() else 0)]

    data_spec = spec.get("data", {}) if isinstance(spec.get("data"), dict) else {}
    facts.datasets, facts.dataset_config, facts.dataset_label = _dataset(data_spec, str(summary.get("dataset") or ""))
    if facts.datasets == ["nyu-mll/glue"]:
        facts.language = facts.language or ["en"]
        facts.tags.append("glue")
    if facts.pipeline_tag:
        facts.tags.append(facts.pipeline_tag)

    facts.hyperparameters = dict(summary.get("hyperparameters") or spec.get("training") or {})
    events = read_events(source.run_dir / EVENTS_FILE) if source.run_dir is not None else []
    last_loss: float | None = None
    for event in events:
        if isinstance(event, Step):
            last_loss = event.loss
        elif isinstance(event, Evaluation):
            facts.evaluations.append(
                {
                    "step": event.step,
                    "epoch": event.epoch,
                    "training_loss": last_loss,
                    "metrics": _clean_metrics(event.metrics),
                }
            )
    facts.final_metrics = _clean_metrics(summary.get("final_metrics") or {})
    if not facts.final_metrics and facts.evaluations:
        facts.final_metrics = dict(facts.evaluations[-1]["metrics"])
    facts.metric_ids = metric_ids(head, [k for k in facts.final_metrics if k not in NOT_METRICS])
    facts.versions = _versions(source, events) if source.run_dir is not None else {}
    if head == "sequence-classification" and source.run_dir is not None:
        _add_confusion(facts, source.run_dir, events)
    return facts


def _add_confusion(facts: CardFacts, run_dir: Path, events: list) -> None:
    """The confusion matrix and per-class scores of the newest evaluation whose predictions were kept."""
    from workbench.core.errors import WorkbenchError
    from workbench.core.evaluation import analysis
    from workbench.core.runs.protocol import Evaluation

    for event in reversed([e for e in events if isinstance(e, Evaluation) and e.predictions]):
        path = run_dir / event.predictions
        if not path.is_file():
            continue
        try:
            table = analysis.read_predictions(path)
            if analysis.is_regression(table):
                return
            matrix = analysis.confusion_matrix(table)
        except (WorkbenchError, OSError, ValueError):
            return  # a card without the matrix rather than no card
        facts.confusion = analysis.confusion_matrix_text(matrix)
        facts.per_class = analysis.per_class_table_markdown(analysis.per_class_scores(matrix))
        facts.confusion_step = event.step
        return


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def _title(metric: str) -> str:
    return METRIC_TITLES.get(metric) or metric.replace("_", " ").title()


def build_card(facts: CardFacts, repo_id: str = "") -> str:
    """README.md text: YAML metadata (ModelCardData, with model-index) and a Markdown body."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    scores = {k: v for k, v in facts.final_metrics.items() if k not in NOT_METRICS}
    eval_results = None
    if scores and facts.pipeline_tag:
        eval_results = [
            EvalResult(
                task_type=facts.task_type or facts.pipeline_tag,
                task_name=facts.task_name or TASK_NAMES.get(facts.pipeline_tag, facts.pipeline_tag),
                dataset_type=facts.datasets[0] if facts.datasets else "custom",
                dataset_name=facts.dataset_label or "custom",
                dataset_config=facts.dataset_config,
                dataset_split="validation",
                metric_type=metric,
                metric_value=round(value, 4),
                metric_name=_title(metric),
            )
            for metric, value in scores.items()
        ]
    data = ModelCardData(
        base_model=facts.base_model,
        datasets=facts.datasets or None,
        metrics=(facts.metric_ids or list(scores)) or None,
        pipeline_tag=facts.pipeline_tag,
        library_name=facts.library_name,
        license=facts.license,
        language=facts.language or None,
        tags=facts.tags,
        model_name=facts.model_name,
        eval_results=eval_results,
    )
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n{_body(facts, repo_id)}")
    return str(card)


def _body(facts: CardFacts, repo_id: str = "") -> str:
    lines = [f"# {facts.model_name}", ""]
    base = f"[{facts.base_model}](https://huggingface.co/{facts.base_model})" if facts.base_model else "a local model"
    data = f" on {facts.dataset_label}" if facts.dataset_label else ""
    if facts.adapter:
        trained = f", trained with workbench (run `{facts.run_id}`)" if facts.run_id else ""
        lines.append(
            f"This is a LoRA adapter (peft) for {base}{data}{trained}: only the adapter's weights are here"
            f" (rank r={facts.adapter.get('r')}, on {_targets(facts.adapter)}); load the base model and this"
            " adapter on top."
        )
    elif facts.run_id:
        lines.append(
            f"This model is a fine-tuned version of {base}{data}, trained with workbench (run `{facts.run_id}`)."
        )
    else:
        lines.append(f"This model was uploaded with workbench from a local folder (base: {base}).")
    loss = facts.final_metrics.get("loss")
    if facts.final_metrics:
        lines += ["It achieves the following results on the evaluation set:"]
        if loss is not None:
            lines.append(f"- Loss: {_fmt(loss)}")
        lines += [f"- {_title(k)}: {_fmt(v)}" for k, v in facts.final_metrics.items() if k not in NOT_METRICS]
    if facts.confusion:
        lines += ["", f"Per class, on the evaluation set at step {facts.confusion_step}:", "", facts.per_class]
        lines += ["", "Confusion matrix (gold in rows, predicted in columns):", "", "```", facts.confusion, "```"]
    lines += ["", "## Intended uses & limitations", ""]
    task = TASK_NAMES.get(facts.pipeline_tag or "", "")
    if facts.labels:
        lines.append(f"{task or 'Classification'} into {len(facts.labels)} labels: {', '.join(facts.labels)}.")
    elif task:
        lines.append(f"{task}.")
    lines.append(
        "Intended for research and as a starting point for similar tasks. It was evaluated only on the validation"
        " split listed below; check its behaviour (and biases inherited from the base model and the data) on"
        " your own data before relying on it."
    )
    if facts.adapter:
        lines += ["", "## How to use", "", "```python", *_adapter_usage(facts, repo_id), "```"]
    elif facts.pipeline_tag and facts.library_name == "transformers":
        lines += [
            "",
            "## How to use",
            "",
            "```python",
            "from transformers import pipeline",
            "",
            f'pipe = pipeline("{facts.pipeline_tag}", model="{repo_id or facts.model_name}")',
            "```",
        ]
    lines += ["", "## Training and evaluation data", ""]
    lines.append(f"{facts.dataset_label}." if facts.dataset_label else "More information needed.")
    if facts.hyperparameters:
        lines += [
            "",
            "## Training procedure",
            "",
            "### Training hyperparameters",
            "",
            "The following hyperparameters were used during training:",
        ]
        lines += [f"- {key}: {_fmt(value)}" for key, value in facts.hyperparameters.items()]
    if facts.evaluations:
        metric_names = [m for m in facts.evaluations[-1]["metrics"] if m not in NOT_METRICS]
        header = ["Training Loss", "Epoch", "Step", "Validation Loss"] + [_title(m) for m in metric_names]
        lines += [
            "",
            "### Training results",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join(":---:" for _ in header) + "|",
        ]
        for row in facts.evaluations:
            cells = [
                _fmt(row["training_loss"]) if row["training_loss"] is not None else "—",
                f"{row['epoch']:.2f}",
                str(row["step"]),
                _fmt(row["metrics"]["loss"]) if "loss" in row["metrics"] else "—",
            ] + [_fmt(row["metrics"][m]) if m in row["metrics"] else "—" for m in metric_names]
            lines.append("| " + " | ".join(cells) + " |")
    if facts.versions:
        lines += ["", "### Framework versions", ""]
        lines += [f"- {VERSION_NAMES.get(key, key)} {value}" for key, value in facts.versions.items() if key != "error"]
    return "\n".join(lines) + "\n"


def _targets(adapter: dict) -> str:
    targets = adapter.get("target_modules")
    if isinstance(targets, list):
        return ", ".join(f"`{name}`" for name in sorted(targets))
    return f"`{targets}`" if targets else "the default modules"


def _adapter_usage(facts: CardFacts, repo_id: str) -> list[str]:
    """Python that loads the base with the trained head and this adapter on top (peft)."""
    auto = ADAPTER_TASKS.get(str(facts.adapter.get("task_type")), (None, "AutoModel"))[1]
    if facts.head_class.endswith("ForMaskedLM"):
        auto = "AutoModelForMaskedLM"
    base = facts.base_model or str(facts.adapter.get("base_model_name_or_path") or "BASE_MODEL")
    options = ""
    if facts.labels:
        id2label = dict(enumerate(facts.labels))
        options = f", num_labels={len(facts.labels)}, id2label={id2label!r}"
    return [
        "from peft import PeftModel",
        f"from transformers import {auto}, AutoTokenizer",
        "",
        f'base = {auto}.from_pretrained("{base}"{options})',
        f'model = PeftModel.from_pretrained(base, "{repo_id or facts.model_name}")',
        "model = model.merge_and_unload()  # optional: a plain transformers model",
        f'tokenizer = AutoTokenizer.from_pretrained("{repo_id or facts.model_name}")',
    ]


@dataclass
class CardCheck:
    errors: list[str] = field(default_factory=list)  # block the push
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def check_card(text: str) -> CardCheck:
    """Validate an (edited) card the way the Hub will, before anything is uploaded."""
    import yaml
    from huggingface_hub import ModelCard

    check = CardCheck()
    if not text.strip():
        check.errors.append("The model card is empty.")
        return check
    if not text.lstrip().startswith("---"):
        check.warnings.append("No YAML metadata block: the Hub will not know the license, task or base model.")
    try:
        card = ModelCard(text, ignore_metadata_errors=False)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 2}, column {mark.column + 1})" if mark is not None else ""
        check.errors.append(f"The metadata block is not valid YAML{where}: {getattr(error, 'problem', error)}")
        return check
    except (ValueError, TypeError) as error:
        check.errors.append(f"The metadata is not valid: {error}")
        return check
    data = card.data
    license_id = data.get("license")
    if license_id is None:
        check.warnings.append("No license set (the base model's license usually applies).")
    elif not isinstance(license_id, str) or license_id not in LICENSES:
        check.errors.append(f"license: {license_id!r} is not a Hub license id (e.g. apache-2.0, mit, other).")
    base = data.get("base_model")
    for item in base if isinstance(base, list) else [base] if base else []:
        if not isinstance(item, str) or not HUB_ID.fullmatch(item):
            check.errors.append(f"base_model: {item!r} is not a Hub model id (namespace/name).")
    tag = data.get("pipeline_tag")
    if tag is not None and tag not in PIPELINE_TAGS:
        check.warnings.append(f"pipeline_tag: {tag!r} is not a common Hub task.")
    if not card.text.strip():
        check.warnings.append("The card has metadata but no description.")
    return check


def default_card(source: PushSource, repo_id: str = "") -> str:
    """A run gets a generated card; a plain folder keeps its own README.md when it has one."""
    readme = source.folder / "README.md"
    if source.run_dir is None and readme.is_file():
        try:
            return readme.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            pass
    return build_card(card_facts(source, repo_id), repo_id)
