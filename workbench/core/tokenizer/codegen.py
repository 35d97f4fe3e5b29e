""" "Show code": the Python that reproduces what the view shows."""

from __future__ import annotations

from workbench.core.tokenizer.options import TokenizeOptions


def source_expression(source: str) -> tuple[list[str], str]:
    """(imports, expression) naming the tokenizer folder; the embedded model by its function, not its path."""
    if not source:
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
        options = options.with_changes(padding="longest" if options.padding == "do_not_pad" else options.padding)
        kwargs = options.call_kwargs(offsets=False)
        lines.append(f"texts = {_short(text.splitlines())}")
        arguments = ["texts", *(f"{key}={value!r}" for key, value in kwargs.items()), 'return_tensors="pt"']
    else:
        kwargs = options.call_kwargs()
        lines.append(f"text = {_short(text)}")
        arguments = ["text"]
        if pair:
            lines.append(f"pair = {_short(pair)}")
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


def _short(value, limit: int = 60) -> str:
    """A literal for the snippet; long texts are cut so the snippet stays readable."""
    if isinstance(value, list):
        shown = [_cut(item, limit) for item in value[:4]]
        return repr(shown)[:-1] + (", ...]" if len(value) > 4 else "]")
    return repr(_cut(value, limit))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
