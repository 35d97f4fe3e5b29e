"""`workbench model info|predict|list|create`: the Models pane, headless."""

from __future__ import annotations

import argparse
import json

SHOWN_KEYS = 3  # shape mismatches listed per head: a config off by one size touches every layer (--json has all)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "model", help="inspect a checkpoint, list models, run a head on text, create a model"
    )
    commands = parser.add_subparsers(dest="model_command", metavar="ACTION", required=True)

    info = commands.add_parser("info", help="checkpoint summary and heads (no weights are loaded)")
    info.add_argument("model", metavar="PATH_OR_ID")
    info.add_argument("--labels", help='label names for classification heads ("neg, pos" or a count)')
    info.add_argument("--trust-remote-code", action="store_true", help="allow this checkpoint's own Python code")
    info.add_argument("--allow-pickle", action="store_true", help="compare pickle weights too (unpickles them)")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=run_info)

    predict = commands.add_parser("predict", help="load a head and print the postprocessed output")
    predict.add_argument("model", metavar="PATH")
    predict.add_argument("text", metavar="TEXT", help="the text (the question for QA, the prompt for multiple choice)")
    predict.add_argument(
        "--head",
        required=True,
        help="base, sequence-classification, token-classification, "
        "question-answering, multiple-choice, masked-lm, causal-lm, seq2seq-lm",
    )
    predict.add_argument("--pair", help="second sentence (sequence classification)")
    predict.add_argument("--context", default="", help="passage for question answering")
    predict.add_argument("--choice", action="append", default=[], help="a choice (multiple choice; repeat)")
    predict.add_argument(
        "--aggregation",
        choices=["simple", "first", "max"],
        help="token classification: how sub-tokens become entities, as the pipeline's aggregation_strategy"
        " (default simple)",
    )
    predict.add_argument("--labels", help='label names ("neg, pos", "0=neg, 1=pos" or a count)')
    predict.add_argument(
        "--fresh-head", action="store_true", help="new head when the label count differs (ignore_mismatched_sizes)"
    )
    predict.add_argument("--top-k", type=int, default=5)
    predict.add_argument("--max-new-tokens", type=int, default=20)
    predict.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    predict.add_argument("--top-p", type=float, default=1.0)
    predict.add_argument("--seed", type=int, default=0)
    predict.add_argument("--trust-remote-code", action="store_true")
    predict.add_argument("--allow-pickle", action="store_true", help="load pickle (.bin) weights")
    predict.add_argument("--json", action="store_true", help="print JSON")
    predict.set_defaults(handler=run_predict)

    listing = commands.add_parser("list", help="models in the catalog: embedded, runs, the HF cache")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=run_list)

    create = commands.add_parser("create", help="a model with random weights from a config preset, saved to a folder")
    create.add_argument("family", choices=["bert", "gpt2", "t5"])
    create.add_argument("output", metavar="FOLDER")
    create.add_argument("--preset", default="tiny")
    create.add_argument("--head", help="head to build (default: the family's LM head)")
    create.add_argument(
        "--set", dest="overrides", default="", help='config edits: "hidden_size=64, num_hidden_layers=2"'
    )
    create.add_argument("--seed", type=int, default=0)
    create.set_defaults(handler=run_create)


def _open(model: str):
    from workbench.core.models.catalog import resolve
    from workbench.core.models.inspect import inspect_checkpoint

    folder, name = resolve(model)
    return inspect_checkpoint(folder, name=name)


def _labels(text: str | None):
    from workbench.core.models.labels import parse_labels

    return parse_labels(text) if text else None


def _count(value: int | None) -> str:
    if value is None:
        return "—"
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return str(value)


def run_info(args: argparse.Namespace) -> int:
    from workbench.core.models.loading import analyse_heads

    info = _open(args.model)
    reports = (
        analyse_heads(
            info, labels=_labels(args.labels), trust_remote_code=args.trust_remote_code, allow_pickle=args.allow_pickle
        )
        if (not info.needs_remote_code or args.trust_remote_code)
        else []
    )
    if args.json:
        print(json.dumps({**info.summary(), "heads": [report.as_dict() for report in reports]}, indent=2))
        return 0
    summary = info.summary()
    print(f"{info.name}  ({summary['model_type']}, {', '.join(info.architectures) or 'no architectures listed'})")
    for label, value in info.shape.items():
        print(f"  {label:<16} {value if value is not None else '—'}")
    print(f"  {'dtype':<16} {info.dtype or '—'}")
    print(
        f"  {'weights':<16} {info.weights.format}, {info.weights.size_bytes / 2**20:.1f} MiB on disk"
        + (f", {_count(info.weights.parameter_count)} parameters" if info.weights.parameter_count else "")
    )
    tokenizer = (
        f"{info.tokenizer_class} ({'fast' if info.tokenizer_fast else 'slow'})" if info.tokenizer_class else "none"
    )
    print(f"  {'tokenizer':<16} {tokenizer}")
    if info.id2label:
        print(f"  {'labels':<16} {', '.join(f'{k}={v}' for k, v in sorted(info.id2label.items()))}")
    for warning in info.warnings:
        print(f"  ! {warning}")
    if reports:
        print("\nheads:")
        print(f"  {'head':<24} {'class':<34} {'params':>8} {'head':>8}  loading")
        for report in reports:
            print(
                f"  {report.head.key:<24} {report.class_name:<34} {_count(report.total_params):>8}"
                f" {_count(report.head_params):>8}  {report.status}"
            )
            if report.new:
                print(f"      new (random): {', '.join(report.new)}")
            if report.mismatched:
                shown = ", ".join(f"{k} {list(o)}->{list(n)}" for k, o, n in report.mismatched[:SHOWN_KEYS])
                more = len(report.mismatched) - SHOWN_KEYS
                print(f"      size mismatch -> fresh: {shown}" + (f", and {more} more" if more > 0 else ""))
            if report.unused:
                print(f"      unused from checkpoint: {', '.join(report.unused)}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    from workbench.core.models.heads import head_kind
    from workbench.core.models.inference import PlaygroundInput, predict, validate
    from workbench.core.models.loading import LoadOptions, load_model

    head = head_kind(args.head)
    _refuse_unused_inputs(head.key, args)
    inputs = PlaygroundInput(
        text=args.text,
        pair=args.pair,
        context=args.context,
        choices=tuple(args.choice),
        top_k=args.top_k,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_p=args.top_p,
        seed=args.seed,
        aggregation=args.aggregation or "simple",
    )
    validate(head.key, inputs)
    info = _open(args.model)
    options = LoadOptions(head, _labels(args.labels), args.trust_remote_code, args.allow_pickle, args.fresh_head)
    loaded = load_model(info, options)
    prediction = predict(loaded, inputs)
    if args.json:
        print(json.dumps({"model": info.name, "loading": loaded.report.status, **prediction.as_dict()}, indent=2))
        return 0
    from workbench.core.models.render import prediction_lines

    if loaded.report.head_all_new:
        print(f"! The {head.title.lower()} head is newly initialised (random): this output is noise until trained.")
    for line in prediction_lines(prediction):
        print(line)
    return 0


# Each input flag and the heads that read it: given to any other head it would be ignored silently.
_INPUT_FLAGS = {
    "context": ("--context", ("question-answering",)),
    "pair": ("--pair", ("sequence-classification",)),
    "choice": ("--choice", ("multiple-choice",)),
    "aggregation": ("--aggregation", ("token-classification",)),
}


def _refuse_unused_inputs(head: str, args: argparse.Namespace) -> None:
    from workbench.core.errors import WorkbenchError

    for attribute, (flag, heads) in _INPUT_FLAGS.items():
        if getattr(args, attribute) and head not in heads:
            raise WorkbenchError(f"{flag} is read only by the {' / '.join(heads)} head, not {head}; leave it out")


def run_list(args: argparse.Namespace) -> int:
    from workbench.core.models.catalog import list_catalog

    entries = list_catalog()
    if args.json:
        print(json.dumps([entry.__dict__ for entry in entries], indent=2))
        return 0
    for entry in entries:
        print(f"{entry.source:<9} {entry.name:<40} {entry.location}")
    return 0


def run_create(args: argparse.Namespace) -> int:
    from workbench.core.models.create import create_model, parse_overrides, save_model
    from workbench.core.tokenizer.loader import load_hf_tokenizer

    tokenizer = load_hf_tokenizer("embedded")
    model = create_model(args.family, args.preset, args.head, parse_overrides(args.overrides), tokenizer, args.seed)
    folder = save_model(model, tokenizer, args.output)
    parameters = sum(parameter.numel() for parameter in model.parameters())
    print(
        f"Saved a {args.family} {args.preset} {type(model).__name__}"
        f" ({_count(parameters)} parameters, random) to {folder}"
    )
    return 0
