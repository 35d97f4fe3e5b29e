"""The Tokens view and the status line as styled rows (no widgets: one TokenLines draws them all).

Drawing, not tokenizing, is the expensive part of a keystroke, so each view is built as a
single Content with styled runs, and only a bounded slice of a large text is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual.content import Content

from workbench.core.tokenizer.analysis import Token, Tokenization, Window, overlap_with_previous
from workbench.core.tokenizer.loader import LoadedTokenizer
from workbench.ui.tokenizer.palette import DARK, LIGHT, Palette, palette_for  # noqa: F401 - also reached from here

# Drawn at most per view; the rest is summarised in one line.
MAX_DRAWN_CHARS = 3_000
MAX_TABLE_TOKENS = 400
MAX_WINDOWS_DRAWN = 12
MAX_BATCH_COLUMNS = 64


def visible(text: str) -> str:
    """Whitespace a reader can see inside a token chip."""
    return text.replace("\n", "⏎").replace("\t", "⇥")


def stats_line(result: Tokenization, loaded: LoadedTokenizer, palette: Palette) -> Content:
    """Counts first (they change as you type), then the tokenizer: a narrow status row cuts the end."""
    parts: list[tuple[str, str] | str] = [
        (f"{result.characters:,}", "bold"),
        " chars · ",
        (f"{result.words:,}", "bold"),
        " words · ",
        (f"{result.total_tokens:,}", "bold"),
        " tokens · ",
        (f"{result.tokens_per_word:.2f}", "bold"),
        "/word",
    ]
    if len(result.windows) > 1:
        parts += [" · ", (f"{len(result.windows)} windows", "bold")]
    if any(result.truncated):
        dropped = sum(end - start for ranges in result.truncated for start, end in ranges)
        parts += [" · ", (f"✂ {dropped:,} chars cut", palette.error)]
    parts += [" │ ", (loaded.name, "bold"), f" · {loaded.model_type} {loaded.vocab_size:,}"]
    return Content.assemble(*parts)


Piece = tuple[str, str]  # (text, style); "" is plain


@dataclass
class TokenView:
    rows: list[list[Piece]]
    caret_row: int | None  # the row drawing the token at the editor's caret (None: not drawn)


def render_token_lines(
    result: Tokenization, palette: Palette, width: int, anchor: int = 0, cache: TableCache | None = None
) -> list[list[Piece]]:
    """The text with each token's characters coloured, window after window, each followed by its
    token table; already wrapped to `width`, one list of pieces per screen row."""
    return render_token_view(result, palette, width, anchor, cache).rows


def render_token_view(
    result: Tokenization,
    palette: Palette,
    width: int,
    anchor: int = 0,
    cache: TableCache | None = None,
    caret: int | None = None,
) -> TokenView:
    """render_token_lines, also saying where the token at character `caret` of the text is drawn.

    With a `cache` (one per view), table rows of tokens that did not change since the last call
    are reused: typing at the end of a long text rebuilds only the table's last group.
    """
    rows: list[list[Piece]] = []
    caret_row: int | None = None
    windows = result.windows
    drawn = windows[:MAX_WINDOWS_DRAWN]
    budget = MAX_DRAWN_CHARS
    for index, window in enumerate(drawn):
        if len(windows) > 1:
            span = window.span(0)
            where = f"chars {span[0]:,}–{span[1]:,}" if span else "no text"
            overlap = len(overlap_with_previous(windows, index))
            stride = f" · {overlap} tokens shared with window {index}" if overlap else ""
            rows += wrap_rows(
                [
                    (
                        f"window {index + 1} of {len(windows)} · {len(window.tokens)} tokens · {where}{stride}\n",
                        palette.header,
                    )
                ],
                width,
            )
        overlap_spans = overlap_with_previous(windows, index)
        pieces: list[Piece] = []
        look_for = caret if caret_row is None else None
        used, caret_piece = _window_text(
            pieces,
            result,
            window,
            palette,
            overlap_spans,
            budget,
            anchor,
            index == 0,
            index == len(windows) - 1,
            look_for,
        )
        budget -= used
        pieces.append(("\n", ""))
        text_rows, mark_row = _wrap(pieces, width, caret_piece)
        if mark_row is not None:
            caret_row = len(rows) + mark_row
        rows += text_rows
        rows += _token_table(window, result, palette, width, cache, index)
        rows.append([])
    if cache is not None:
        cache.keep(len(drawn))
    if len(windows) > len(drawn):
        rows += wrap_rows(
            [
                (
                    f"… {len(windows) - len(drawn)} more windows not drawn ({result.shown_tokens:,} tokens in all)\n",
                    palette.muted,
                )
            ],
            width,
        )
    return TokenView(rows, caret_row)


def render_tokens(result: Tokenization, palette: Palette, width: int, anchor: int = 0) -> Content:
    """The same as one Content (for Static widgets and tests)."""
    return Content("\n").join(row_content(row) for row in render_token_lines(result, palette, width, anchor))


def row_content(row: list[Piece]) -> Content:
    return Content.assemble(*((text, style) if style else text for text, style in row))


def wrap_pieces(pieces: list[Piece], width: int) -> list[Content]:
    return [row_content(row) for row in wrap_rows(pieces, width)]


def _cells(text: str) -> int:
    return len(text) if text.isascii() else cell_len(text)


def wrap_rows(pieces: list[Piece], width: int) -> list[list[Piece]]:
    """Styled pieces into rows of at most `width` cells; a token that fits on a row is not split.

    Rows stay lists of pieces: the view turns only the rows on screen into strips.
    """
    return _wrap(pieces, width)[0]


def _wrap(pieces: list[Piece], width: int, mark: int | None = None) -> tuple[list[list[Piece]], int | None]:
    """wrap_rows, also saying on which row piece number `mark` ends."""
    width = max(width, 8)
    mark_row: int | None = None
    lines: list[list[Piece]] = []
    current: list[Piece] = []
    used = 0

    def flush() -> None:
        nonlocal used, current
        lines.append(current)
        current = []
        used = 0

    for index, (text, style) in enumerate(pieces):
        if index == mark:
            mark_row = len(lines)
        elif used + len(text) <= width and text.isascii() and "\n" not in text:
            # Most pieces: a short ASCII token that fits on the row (one cell per character).
            if text:
                current.append((text, style))
                used += len(text)
            continue
        parts = text.split("\n")
        for number, part in enumerate(parts):
            if number:
                flush()
            while part:
                cells = _cells(part)
                room = width - used
                if cells <= room:
                    current.append((part, style))
                    used += cells
                    break
                if used and style and cells <= width:
                    flush()  # move a whole token to the next row
                    continue
                cut = _fit(part, room)
                if cut == 0:
                    flush()
                    continue
                current.append((part[:cut], style))
                part = part[cut:]
                flush()
        if index == mark:
            mark_row = len(lines) if current or not lines else len(lines) - 1
    if current:
        flush()
    return lines, mark_row


def _fit(text: str, cells: int) -> int:
    """How many characters of `text` fit in `cells` terminal cells."""
    if text.isascii():
        return min(len(text), cells)
    total = 0
    for index, char in enumerate(text):
        total += cell_len(char)
        if total > cells:
            return index
    return len(text)


def _window_text(
    out: list[Piece], result, window: Window, palette, overlap_spans, budget, anchor, first, last, caret=None
) -> tuple[int, int | None]:
    """Append the window's text with token colours; returns characters drawn, and the number of
    the piece drawing the text's token at or just before character `caret` (None: not drawn)."""
    caret_piece: int | None = None
    drawn = 0
    cursor = {0: 0, 1: 0}
    colour = 0
    shown_sequence: int | None = None
    skipped = 0
    # Locals: this loop runs once per token on every keystroke.
    append = out.append
    token_styles = palette.token_styles
    colours = len(token_styles)
    tokens = window.tokens
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.sequence is None:
            out.append((visible(token.text), palette.padding if token.padding else palette.special))
            out.append((" ", ""))
            continue
        sequence = token.sequence
        text = result.sequence_text(sequence)
        if sequence != shown_sequence:
            if shown_sequence is not None:
                out.append(("\n", ""))
            shown_sequence = sequence
            span = window.span(sequence)
            cursor[sequence] = span[0] if span else 0
            if first and result.truncated[sequence] and result.truncated[sequence][0][0] == 0:
                # Left truncation: the dropped start is shown struck through.
                dropped_end = result.truncated[sequence][0][1]
                out.append((_elide(text[:dropped_end]), palette.dropped))
                out.append((" ✂ ", palette.error))
        if anchor and sequence == 0 and token.end <= anchor:
            skipped += 1
            cursor[sequence] = max(cursor[sequence], token.end)
            continue
        if skipped:
            out.append((f"… {skipped:,} tokens above …", palette.muted))
            skipped = 0
        if drawn >= budget:
            index = _end_of_run(window.sequences, index, sequence)  # nothing more of this sequence is drawn
            continue
        start, end = token.start, token.end
        at = cursor[sequence]
        if start > at:
            gap = text[at:start]
            append((gap, ""))
            drawn += len(gap)
        piece = text[max(start, at) : end]
        style = palette.unknown if token.unknown else token_styles[colour % colours]
        if overlap_spans and (start, end) in overlap_spans:
            style += " underline"
        if piece:
            append((piece, style))
            drawn += len(piece)
        if caret is not None and sequence == 0 and start <= caret:
            caret_piece = len(out) - 1
        colour += 1
        if end > at:
            cursor[sequence] = end
    if drawn >= budget:
        out.append((f" … (drawing stops after {budget:,} characters; counts include everything)", palette.muted))
    if last and result.truncated and result.truncated[0]:
        start, end = result.truncated[0][-1]
        if end == len(result.text) and start > 0:
            out.append(("\n✂ cut here: ", palette.error))
            out.append((_elide(result.text[start:end].strip()), palette.dropped))
    return drawn, caret_piece


def _end_of_run(sequences: list[int | None], index: int, sequence: int) -> int:
    """Where the run of `sequence` tokens from `index` ends (C-speed scans: a megabyte is 200k tokens)."""
    end = len(sequences)
    for other in {None, 0, 1} - {sequence}:
        try:
            end = min(end, sequences.index(other, index))
        except ValueError:
            pass
    return end


def _elide(text: str, limit: int = 120) -> str:
    text = visible(text)
    return text if len(text) <= limit else f"{text[: limit // 2]} … {text[-limit // 2 :]}"


@dataclass
class _Group:
    """Consecutive tokens that share one block of table rows."""

    start: int
    end: int
    rows: list[list[Piece]]


@dataclass
class _Table:
    layout: tuple  # what every group's rows depend on besides its tokens
    tokens: list[Token]
    groups: list[_Group]


class TableCache:
    """The token tables of the last render, per window, so the next render redraws only what changed."""

    def __init__(self) -> None:
        self.tables: dict[int, _Table] = {}

    def keep(self, windows: int) -> None:
        for index in [index for index in self.tables if index >= windows]:
            del self.tables[index]


def _token_table(
    window: Window, result: Tokenization, palette: Palette, width: int, cache: TableCache | None = None, index: int = 0
) -> list[list[Piece]]:
    """Rows of token / id / word / type / mask, wrapped to the width; the token row coloured like the text."""
    options = result.options
    rows = [("token", lambda t: visible(t.text)), ("id", lambda t: str(t.id))]
    if options.show_word_ids:
        rows.append(("word", lambda t: "" if t.word is None else str(t.word)))
    if result.pair is not None and any(t.type_id for t in window.tokens):
        rows.append(("type", lambda t: "" if t.type_id is None else str(t.type_id)))
    if options.return_attention_mask and window.tokens and window.tokens[0].attention is not None:
        rows.append(("mask", lambda t: str(t.attention)))
    label_width = max(len(name) for name, _ in rows) + 1
    tokens = window.tokens[:MAX_TABLE_TOKENS]
    width = max(width, label_width + 20)
    layout = (tuple(name for name, _ in rows), width, palette)
    groups: list[_Group] = []
    start = 0
    previous = cache.tables.get(index) if cache is not None else None
    if previous is not None and previous.layout == layout:
        # A group is unchanged when its tokens are and so is the token after it (which decided
        # where the group ends); colours depend only on the tokens before, unchanged as well.
        same = _common_prefix(tokens, previous.tokens)
        for group in previous.groups:
            if group.end >= same:
                break
            groups.append(group)
            start = group.end
    first = start  # cells and widths are listed from here
    cells = [[getter(token) for token in tokens[first:]] for _, getter in rows]
    widths = [min(max(_cells(cells[r][i]) for r in range(len(rows))), 18) for i in range(len(tokens) - first)]
    colour_of = _colour_indexes(tokens, start)
    while start < len(tokens):
        used = label_width
        end = start
        while end < len(tokens) and (used + widths[end - first] + 1 <= width or end == start):
            used += widths[end - first] + 1
            end += 1
        block: list[list[Piece]] = []
        for r, (name, _) in enumerate(rows):
            line: list[Piece] = [(name.ljust(label_width), palette.muted)]
            if r == 0:
                for i in range(start, end):
                    line.append(
                        (
                            _pad(cells[0][i - first], widths[i - first]),
                            _cell_style(tokens[i], palette, colour_of[i], True),
                        )
                    )
                    line.append((" ", ""))
            else:
                # One piece per row: numbers need no colour, and fewer spans draw faster.
                line.append(
                    (
                        "".join(_pad(cells[r][i - first], widths[i - first]) + " " for i in range(start, end)),
                        palette.muted,
                    )
                )
            block.append(line)
        groups.append(_Group(start, end, block))
        start = end
    if cache is not None:
        cache.tables[index] = _Table(layout, tokens, groups)
    out = [line for group in groups for line in group.rows]
    if len(window.tokens) > len(tokens):
        out += wrap_rows(
            [(f"… {len(window.tokens) - len(tokens):,} more tokens in this window not listed\n", palette.muted)], width
        )
    return out


def _common_prefix(new: list, old: list) -> int:
    """How many leading items the two lists share."""
    if new == old:
        return len(new)
    limit = min(len(new), len(old))
    for index in range(limit):
        if new[index] != old[index]:
            return index
    return limit


def _pad(text: str, width: int) -> str:
    """Cut or pad to `width` terminal cells (wide characters count two)."""
    cells = _cells(text)
    if cells > width:
        text = text[: _fit(text, width)]
        cells = _cells(text)
    return text + " " * (width - cells)


def _colour_indexes(tokens: list[Token], start: int = 0) -> dict[int, int]:
    """Text tokens take turns through the palette, in step with the coloured text above."""
    colour = sum(1 for token in tokens[:start] if token.sequence is not None)
    indexes = {}
    for index in range(start, len(tokens)):
        indexes[index] = colour
        if tokens[index].sequence is not None:
            colour += 1
    return indexes


def _cell_style(token: Token, palette: Palette, colour: int, first_row: bool) -> str:
    if token.padding:
        return palette.padding
    if token.special:
        return palette.special if first_row else palette.muted
    if token.unknown and first_row:
        return palette.unknown
    return palette.token(colour) if first_row else palette.muted
