"""`workbench data info PATH` and `workbench data head PATH`: the Datasets pane, headless."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="inspect a dataset file, folder or cache entry")
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    info = actions.add_parser("info", help="splits, rows, features, label names and the inferred task")
    _source_arguments(info)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=run_info)

    head = actions.add_parser("head", help="the first rows of a split")
    _source_arguments(head)
    head.add_argument("--split", "-s", help="split to show (default: train, else the first)")
    head.add_argument("-n", type=int, default=10, help="number of rows (default 10)")
    head.add_argument("--json", action="store_true", help="print JSON Lines, full cells")
    head.set_defaults(handler=run_head)


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a file, a folder (split files or save_to_disk), or a Hub id when online")
    parser.add_argument("--config", help="Hub dataset config (e.g. mrpc)")
    parser.add_argument(
        "--no-header",
        action="store_true",
        help="CSV/TSV files whose first line is data, not column names (columns: column_1 … column_N)",
    )
    parser.add_argument(
        "--names",
        metavar="A,B,...",
        help="with --no-header: the column names, comma-separated (e.g. source,label,mark,sentence for CoLA)",
    )


def _open(args: argparse.Namespace):
    from workbench.core.data.loading import open_dataset
    from workbench.core.errors import WorkbenchError

    if args.names and not args.no_header:
        raise WorkbenchError("--names names the columns of a file without a header row: add --no-header.")
    names = [name.strip() for name in args.names.split(",")] if args.names else None
    return open_dataset(args.path, config=args.config, header=not args.no_header, names=names)


def run_info(args: argparse.Namespace) -> int:
    from workbench.core.data.describe import dataset_info, format_info

    info = dataset_info(_open(args))
    print(json.dumps(info, indent=2) if args.json else format_info(info))
    return 0


def run_head(args: argparse.Namespace) -> int:
    from workbench.core.data.paging import RowPager
    from workbench.core.errors import WorkbenchError

    if args.n < 0:
        raise WorkbenchError("-n must be 0 or more.")
    opened = _open(args)
    split = args.split or ("train" if "train" in opened.rows else next(iter(opened.rows)))
    if split not in opened.rows:
        raise WorkbenchError(f"No split {split!r}; the splits are {', '.join(opened.rows)}.")
    source = opened.rows[split]
    count = min(args.n, source.num_rows)
    if args.json:
        for row in source.slice(0, count).to_pylist():
            print(json.dumps(row, ensure_ascii=False, default=str))
        return 0
    rows = RowPager(source).rows(0, count)
    print(_text_table(source.column_names, rows))
    print(f"({count:,} of {source.num_rows:,} rows of {split})")
    return 0


def _text_table(columns: list[str], rows: list[dict], width: int = 40) -> str:
    def cut(text: str) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    widths = [min(width, max([len(name)] + [len(row[name]) for row in rows])) for name in columns]
    lines = ["  ".join(cut(name).ljust(w) for name, w in zip(columns, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cut(row[name]).ljust(w) for name, w in zip(columns, widths)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)
