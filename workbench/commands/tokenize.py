"""`workbench tokenize`: what the model sees, headless. Ids equal `AutoTokenizer.from_pretrained(PATH)(TEXT, ...)`."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "tokenize",
        help="tokenize a text: tokens, ids, offsets, word ids and masks",
        description="Tokenize TEXT (or stdin with '-') exactly as AutoTokenizer would, and print every token.",
    )
    parser.add_argument("text", help="the text; '-' reads it from stdin")
    parser.add_argument("--model", default="", help="a local model or tokenizer folder (default: the embedded model)")
    parser.add_argument("--pair", default=None, help="a second text (sentence pairs)")
    parser.add_argument(
        "--truncation",
        nargs="?",
        const="longest_first",
        default=None,
        choices=["longest_first", "only_first", "only_second"],
        help="truncate to --max-length (strategy, default longest_first)",
    )
    parser.add_argument("--truncation-side", default="right", choices=["right", "left"])
    parser.add_argument("--max-length", type=int, default=None, help="default: the model's maximum")
    parser.add_argument("--stride", type=int, default=0, help="tokens shared by consecutive overflow windows")
    parser.add_argument(
        "--no-overflow", action="store_true", help="drop the truncated tokens instead of showing windows"
    )
    parser.add_argument("--padding", default="do_not_pad", choices=["do_not_pad", "longest", "max_length"])
    parser.add_argument("--no-special-tokens", action="store_true", help="add_special_tokens=False")
    parser.add_argument("--json", action="store_true", help="print the encoding as JSON")
    parser.add_argument("--code", action="store_true", help="print the Python call that gives the same result")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from workbench.core.tokenizer.analysis import tokenize
    from workbench.core.tokenizer.codegen import tokenizer_call_code
    from workbench.core.tokenizer.loader import load_tokenizer
    from workbench.core.tokenizer.options import TokenizeOptions

    text = _read_stdin() if args.text == "-" else args.text
    options = TokenizeOptions(
        add_special_tokens=not args.no_special_tokens,
        truncation=args.truncation,
        truncation_side=args.truncation_side,
        max_length=args.max_length,
        stride=args.stride,
        return_overflowing_tokens=not args.no_overflow,
        padding=args.padding,
    )
    options.check()
    if options.ignored():  # a flag that would do nothing is a mistake on the command line
        from workbench.core.errors import WorkbenchError

        raise WorkbenchError(
            "--stride only means something with --truncation", hint="Add --truncation or leave --stride out"
        )
    if args.code:
        print(tokenizer_call_code(args.model, options, text=text, pair=args.pair))
        return 0
    loaded = load_tokenizer(args.model)
    result = tokenize(loaded, text, args.pair, options)
    if args.json:
        print(json.dumps(as_json(result, loaded.name), ensure_ascii=False))
    else:
        print_table(result, loaded)
    return 0


def _read_stdin() -> str:
    """stdin as UTF-8 text (a BOM is dropped); other bytes are a clear error, not a tokenizer one."""
    from workbench.core.errors import WorkbenchError

    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise WorkbenchError(
            f"stdin is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start:,});"
            " convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from None


def as_json(result, name: str) -> dict:
    windows = []
    for row, window in enumerate(result.windows):
        entry = {key: result.encoding[key][row] for key in result.encoding if key != "overflow_to_sample_mapping"}
        entry["offset_mapping"] = [list(pair) for pair in entry["offset_mapping"]]
        entry["tokens"] = [token.text for token in window.tokens]
        entry["word_ids"] = [token.word for token in window.tokens]
        entry["sequence_ids"] = [token.sequence for token in window.tokens]
        windows.append(entry)
    return {
        "tokenizer": name,
        "characters": result.characters,
        "words": result.words,
        "tokens": result.total_tokens,
        "windows": windows,
        # One window: the same keys as the tokenizer's own output, for scripts.
        **({"input_ids": windows[0]["input_ids"]} if len(windows) == 1 else {}),
    }


def print_table(result, loaded) -> None:
    print(
        f"{loaded.name} ({loaded.model_type}, {loaded.vocab_size:,} tokens): {result.characters:,} characters,"
        f" {result.words:,} words, {result.total_tokens:,} tokens ({result.tokens_per_word:.2f} per word)"
    )
    for row, window in enumerate(result.windows):
        if len(result.windows) > 1:
            print(f"\nwindow {row + 1} of {len(result.windows)}")
        print(f"{'#':>4}  {'token':<18} {'id':>7}  {'offsets':<11} {'word':>4} {'type':>4} {'mask':>4}  note")
        for token in window.tokens:
            note = "special" if token.special else ""
            note = "unknown" if token.unknown else note
            note = "padding" if token.padding else note
            offsets = f"{token.start}:{token.end}" if token.sequence is not None else ""
            seq = "" if token.sequence is None else ("" if token.sequence == 0 else " (pair)")
            print(
                f"{token.position:>4}  {token.text:<18.18} {token.id:>7}  {offsets:<11}"
                f" {_blank(token.word):>4} {_blank(token.type_id):>4} {_blank(token.attention):>4}  {note}{seq}"
            )
    dropped = [f"{start}:{end}" for start, end in result.truncated[0]] if result.truncated else []
    if dropped:
        print(f"\ntruncated away (characters of the text): {', '.join(dropped)}")


def _blank(value) -> str:
    return "" if value is None else str(value)
