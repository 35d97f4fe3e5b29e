""" "Show code": the Python that reproduces what the view shows."""

from __future__ import annotations

from workbench.core.embedded import is_embedded
from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.options import TokenizeOptions

# Texts up to this long are written into the code whole, so it reproduces the view exactly.
INLINE_LIMIT = 20_000


def source_expression(source: str) -> tuple[list[str], str]:
    """(imports, expression) naming the tokenizer folder; the embedded model by its function, not its path."""
    if is_embedded(source):
        return ["from workbench.core.embedded import embedded_model_path"], "embedded_model_path()"
    return [], repr(source)


def tokenizer_call_code(
    source: str, options: TokenizeOptions, *, text: str = "", pair: str | None = None, batch: bool = False
) -> str:
    imports, path = source_expression(source)
    lines = ["from transformers import AutoTokenizer", *imports, ""]
    lines.append(f"tokenizer = AutoTokenizer.from_pretrained({path})")
    if options.truncates and options.truncation_side != "right":
        lines.append(f'tokenizer.truncation_side = "{options.truncation_side}"')
    if batch:
        from workbench.core.tokenizer.batch import MAX_BATCH_ROWS, batch_options, pair_lines, split_lines

        options = batch_options(options)
        kwargs = options.call_kwargs(offsets=False)
        texts = split_lines(text)
        try:
            pairs = pair_lines(texts, pair)
        except WorkbenchError:
            pairs = None  # the Batch view says why; the code shows the texts alone
        lines.append(f"texts = {_literal(texts[:MAX_BATCH_ROWS])}")
        arguments = ["texts"]
        if pairs:
            lines.append(f"pairs = {_literal(pairs[:MAX_BATCH_ROWS])}")
            arguments.append("pairs")
        arguments += [*(f"{key}={value!r}" for key, value in kwargs.items()), 'return_tensors="pt"']
    else:
        kwargs = options.call_kwargs()
        lines.append(f"text = {_literal(text)}")
        arguments = ["text"]
        if pair:
            lines.append(f"pair = {_literal(pair)}")
            arguments.append("pair")
        arguments += [f"{key}={value!r}" for key, value in kwargs.items()]
    lines.append("encoding = tokenizer(")
    lines += [f"    {argument}," for argument in arguments]
    lines.append(")")
    if not batch:
        lines.append(
            "tokens = encoding.tokens()"
            if not options.returns_windows
            else "tokens = [encoding.tokens(i) for i in range(len(encoding['input_ids']))]"
        )
        if options.show_word_ids:
            lines.append(
                "word_ids = encoding.word_ids()"
                if not options.returns_windows
                else "word_ids = [encoding.word_ids(i) for i in range(len(encoding['input_ids']))]"
            )
    return "\n".join(lines)


def _literal(value) -> str:
    """A Python literal of the text (or lines), whole: the code must reproduce the view.

    Only a text longer than INLINE_LIMIT is cut, and the code says so in a comment.
    """
    literal = repr(value)
    if len(literal) <= INLINE_LIMIT:
        return literal
    size = sum(len(item) for item in value) if isinstance(value, list) else len(value)
    cut = value[: INLINE_LIMIT // 2] if not isinstance(value, list) else value[: max(1, INLINE_LIMIT // 200)]
    return f"{cut!r}  # cut: the view's text is {size:,} characters, too long to write here"
