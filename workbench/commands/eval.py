"""`workbench eval MODEL_OR_RUN --data FILE`: evaluate a run's final model, a saved model or an adapter on
a file, with the run's metrics and post-processing; `--compare OTHER` shows which examples flipped."""

from __future__ import annotations

import argparse
import json
import sys
import time

FLIPS_SHOWN = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate a run, a saved model or an adapter on a data file",
        description="Evaluate a run's final model, a saved model folder or an adapter folder on a data file,"
        " with the same preprocessing, metrics and post-processing as training. The per-example predictions"
        " are written as Parquet (a run's: RUN/predictions/eval-<file>.parquet).",
    )
    parser.add_argument(
        "model",
        metavar="MODEL_OR_RUN",
        help="a run (id, part of one, 'latest' or folder), a model folder or an adapter folder",
    )
    parser.add_argument("--data", required=True, metavar="FILE", help="the file (or folder) to evaluate on")
    parser.add_argument("--task", metavar="T", help="the task (default: the run's, or the model's head)")
    parser.add_argument("--split", metavar="S", help="the split of a folder (default: validation, else test)")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of tables")
    parser.add_argument("--compare", metavar="OTHER", help="also evaluate OTHER on the same examples; list the flips")
    parser.add_argument("--output", metavar="PATH", help="where the predictions go (Parquet)")
    parser.add_argument("--batch-size", type=int, metavar="N", help="examples per batch (default: the run's)")
    parser.add_argument("--max-length", type=int, metavar="N", help="tokens per input (default: the run's, or 128)")
    parser.add_argument("--device", default="auto", help="cpu, cuda, cuda:1 … (default: a GPU when there is one)")
    parser.set_defaults(handler=eval_command)


class BatchProgress:
    """`eval [####....] 12/40 batches`, redrawn on a terminal, a line every 10% otherwise (stderr)."""

    def __init__(self, label: str, quiet: bool = False) -> None:
        from workbench.commands.progress import Progress

        self.printer = Progress(sys.stderr)
        self.label = label
        self.quiet = quiet
        self.last_tenth = -1
        self.shown = False  # a bar is on the terminal line

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        fraction = done / total if total else 1.0
        tenth = int(fraction * 10)
        if not self.printer.tty and tenth == self.last_tenth and done != total:
            return
        self.last_tenth = tenth
        width = self.printer.width
        filled = int(fraction * width)
        self.printer.bar(f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} batches")
        self.shown = self.printer.tty

    def note(self, text: str) -> None:
        if not self.quiet:
            self.printer.line(text)
            self.shown = False

    def done(self) -> None:
        """Clear the bar, so the report starts on a clean line."""
        if self.shown:
            self.printer.out.write("\r\033[K")
            self.printer.out.flush()
            self.shown = False


def check_arguments(args: argparse.Namespace) -> None:
    from workbench.core.errors import WorkbenchError

    for flag, value in (("--batch-size", args.batch_size), ("--max-length", args.max_length)):
        if value is not None and value < 1:
            raise WorkbenchError(f"{flag} must be 1 or more, not {value}")


def evaluate_one(args: argparse.Namespace, model, output, label: str):
    from workbench.training.evaluate_model import evaluate

    quiet_libraries()
    progress = BatchProgress(label, quiet=False)
    try:
        return evaluate(
            model,
            args.data,
            task=args.task,
            split=args.split,
            batch_size=args.batch_size,
            max_length=args.max_length,
            output=output,
            device=args.device,
            progress=progress,
            log=progress.note,
        )
    finally:
        progress.done()


def quiet_libraries() -> None:
    """No weight-loading bars or load reports from transformers: the command has its own bar."""
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    import datasets

    datasets.disable_progress_bars()  # the Map bars of tokenizing


def compare_output(output: str | None, source) -> str | None:
    """Where the compared model's predictions go: next to --output with `-compare` added; else a
    run's own folder, or ./eval-predictions-compare.parquet (never over the first model's file)."""
    from pathlib import Path

    from workbench.training.evaluate_model import DEFAULT_OUTPUT

    if not output:
        return None if source.run_dir is not None else str(Path(DEFAULT_OUTPUT).with_suffix("")) + "-compare.parquet"
    path = Path(output)
    return str(path.with_name(f"{path.stem}-compare{path.suffix or '.parquet'}"))


def eval_command(args: argparse.Namespace) -> int:
    check_arguments(args)
    started = time.perf_counter()
    other = None
    if args.compare:  # found first: a wrong OTHER is named before the whole first evaluation runs and is written
        from workbench.training.evaluate_model import resolve_source

        other = resolve_source(args.compare, args.task)
    first = evaluate_one(args, args.model, args.output, "eval")
    second = None
    if other is not None:
        second = evaluate_one(args, other, compare_output(args.output, other), "eval (compare)")
    flipped = flips_of(first, second) if second is not None else None
    if args.json:
        print(json.dumps(json_report(first, second, flipped, time.perf_counter() - started), default=str))
        return 0
    print_report(first)
    if second is not None:
        print()
        print_report(second)
        print()
        print_comparison(first, second, flipped)
    return 0


# -- reports ----------------------------------------------------------------------------------------------


def describe(report) -> str:
    source = report.source
    what = f"run {source.run_dir.name}" if source.run_dir is not None else str(source.model_path)
    if source.kind == "adapter":
        what += f" (adapter on {source.base_model})"
    return what


def records_table(report):
    import pyarrow as pa

    return pa.table(report.records) if report.records else None


def flips_of(first, second):
    from workbench.core.errors import WorkbenchError
    from workbench.core.evaluation import analysis

    if first.task != second.task:
        raise WorkbenchError(f"cannot compare a {first.task} model with a {second.task} model")
    table_a, table_b = records_table(first), records_table(second)
    if table_a is None or table_b is None:
        raise WorkbenchError("the task wrote no per-example predictions to compare")
    if analysis.is_regression(table_a) or analysis.is_regression(table_b):
        return None  # no example is right or wrong: the metrics side by side only
    return analysis.flips(table_a, table_b)


def metrics_lines(metrics: dict, other: dict | None = None) -> list[str]:
    from workbench.core.evaluation.analysis import format_metric, metric_name

    names = list(metrics) + [name for name in (other or {}) if name not in metrics]
    width = max([6, *(len(metric_name(name)) for name in names)])
    if other is None:
        lines = [f"{'metric'.ljust(width)}  {'value':>10}"]
        lines += [f"{metric_name(name).ljust(width)}  {format_metric(metrics[name]):>10}" for name in names]
        return lines
    lines = [f"{'metric'.ljust(width)}  {'A':>10}  {'B':>10}  {'B - A':>10}"]
    for name in names:
        a, b = metrics.get(name), other.get(name)
        delta = b - a if isinstance(a, float) and isinstance(b, float) else None
        lines.append(
            f"{metric_name(name).ljust(width)}  {format_metric(a) if a is not None else '-':>10}"
            f"  {format_metric(b) if b is not None else '-':>10}  {f'{delta:+.4f}' if delta is not None else '-':>10}"
        )
    return lines


def print_report(report) -> None:
    from workbench.core.errors import WorkbenchError
    from workbench.core.evaluation import analysis

    print(f"{describe(report)}: {report.task} on {report.examples} example(s) of {report.data_file}")
    if report.dropped:
        from workbench.training.evaluate_model import dropped_text

        print("left out " + dropped_text(report.dropped_rows, report.dropped))
    print("\n".join(metrics_lines(report.metrics)))
    table = records_table(report)
    if report.task == "sequence-classification" and table is not None and table.num_rows:
        labels = None
        if report.predictions_path is not None:
            labels = predictions_labels(report.predictions_path)
        try:
            matrix = analysis.confusion_matrix(table, labels)
        except WorkbenchError:
            matrix = None  # regression: no classes
        if matrix is not None and len(matrix.labels) <= 20:
            print()
            print(per_class_text(analysis.per_class_scores(matrix)))
            print()
            print(analysis.confusion_matrix_text(matrix))
    if report.predictions_path is not None:
        print(f"predictions: {report.predictions_path}")


def predictions_labels(path) -> list[str] | None:
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    about = metadata.get(b"workbench.eval")
    return json.loads(about).get("labels") if about else None


def per_class_text(scores) -> str:
    width = max([5, *(len(score.label) for score in scores)])
    lines = [f"{'class'.ljust(width)}  {'precision':>9}  {'recall':>9}  {'f1':>9}  {'support':>7}"]
    for score in scores:
        lines.append(
            f"{score.label.ljust(width)}  {score.precision:>9.4f}  {score.recall:>9.4f}  {score.f1:>9.4f}"
            f"  {score.support:>7}"
        )
    return "\n".join(lines)


def flip_rows(flipped) -> list[dict]:
    """Every flip as a plain dict (`change`: fixed = A wrong, B right; broken = A right, B wrong), A's order."""
    rows = []
    for change, table in (("fixed", flipped.fixed), ("broken", flipped.broken)):
        for row in table.to_pylist():
            rows.append({"change": change, **row})
    return rows


def print_comparison(first, second, flipped) -> None:
    print(f"A: {describe(first)}")
    print(f"B: {describe(second)}")
    print("\n".join(metrics_lines(first.metrics, second.metrics)))
    if flipped is None:
        print("\nregression values: no example is right or wrong, so none flipped")
        return
    print(
        f"\n{flipped.compared} example(s) compared: A right on {flipped.correct_a}, B right on {flipped.correct_b};"
        f" {flipped.fixed.num_rows} fixed by B (A wrong, B right), {flipped.broken.num_rows} broken by B"
        " (A right, B wrong)"
    )
    if flipped.only_a or flipped.only_b:
        print(f"only in A: {len(flipped.only_a)} example(s); only in B: {len(flipped.only_b)}")
    rows = flip_rows(flipped)
    if not rows:
        return
    print(f"\nfirst {min(FLIPS_SHOWN, len(rows))} of {len(rows)} flip(s):")
    print(f"{'change':<7}  {'id':>6}  {'gold':<12}  {'A':<12}  {'B':<12}  input")
    for row in rows[:FLIPS_SHOWN]:
        text = str(row.get("input", ""))
        if row.get("input_pair"):
            text += " | " + str(row["input_pair"])
        text = text if len(text) <= 60 else text[:59] + "…"
        print(
            f"{row['change']:<7}  {row.get('id', ''):>6}  {clip(row.get('gold')):<12}"
            f"  {clip(row.get('predicted_a')):<12}  {clip(row.get('predicted_b')):<12}  {text}"
        )


def clip(value, width: int = 12) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def report_dict(report) -> dict:
    return {
        "model": describe(report),
        "kind": report.source.kind,
        "run": report.source.run_dir.name if report.source.run_dir is not None else None,
        "task": report.task,
        "data": report.data_file,
        "examples": report.examples,
        "dropped_labels": report.dropped,
        "dropped_rows": report.dropped_rows,
        "metrics": report.metrics,
        "predictions": str(report.predictions_path) if report.predictions_path else None,
        "seconds": round(report.seconds, 3),
        "timings": {name: round(value, 3) for name, value in report.timings.items()},
    }


def json_report(first, second, flipped, seconds: float) -> dict:
    result = report_dict(first)
    if second is not None:
        result["compare"] = report_dict(second)
    if flipped is not None:
        result["flips"] = {
            "compared": flipped.compared,
            "correct_a": flipped.correct_a,
            "correct_b": flipped.correct_b,
            "fixed": flipped.fixed.num_rows,
            "broken": flipped.broken.num_rows,
            "only_a": len(flipped.only_a),
            "only_b": len(flipped.only_b),
            "examples": flip_rows(flipped)[:FLIPS_SHOWN],
        }
    result["total_seconds"] = round(seconds, 3)
    return result
