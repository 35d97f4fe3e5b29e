"""The Batch, Round trip and Compare views as one styled `Content` each (no widgets)."""

from __future__ import annotations

from textual.content import Content

from workbench.core.tokenizer.batch import Batch
from workbench.core.tokenizer.compare import Comparison
from workbench.core.tokenizer.roundtrip import RoundTrip
from workbench.ui.tokenizer.palette import Palette
from workbench.ui.tokenizer.render import MAX_BATCH_COLUMNS, MAX_DRAWN_CHARS, MAX_TABLE_TOKENS, visible


def render_batch(batch: Batch, palette: Palette, cell_width: int = 9) -> Content:
    rows, columns = batch.shape
    out: list = [
        (f"input_ids: {rows} × {columns}", "bold"),
        " · text + pair on each row" if batch.pairs else "",
        f" · padding={batch.padding!r} · {batch.padding_tokens:,} padding tokens"
        f" ({batch.padding_tokens / max(rows * columns, 1):.0%} of the batch)\n",
    ]
    if batch.padding_asked and batch.padding_asked != batch.padding:
        out.append(
            (
                f"padding is {batch.padding_asked!r} in the options; a batch of different lengths is padded to its"
                f" longest row ({batch.padding!r}) to be one tensor\n",
                palette.muted,
            )
        )
    out.append("\n")
    shown = min(columns, MAX_BATCH_COLUMNS)
    out.append(("row ", palette.muted))
    out.append(("".join(str(i).ljust(cell_width) for i in range(shown)) + "\n", palette.muted))
    for row in range(rows):
        out.append((f"{row:<4}", palette.muted))
        mask = batch.attention_mask[row] if batch.attention_mask else [1] * columns
        for col in range(shown):
            token = visible(batch.tokens[row][col])
            cell = (token[: cell_width - 1]).ljust(cell_width - 1)
            if mask[col] == 0:
                style = palette.padding
            elif batch.input_ids[row][col] in batch.special_ids:
                style = palette.special
            else:
                style = palette.token(col)
            out.append((cell, style))
            out.append(" ")
        out.append("\n")
    if batch.attention_mask is not None:
        out.append(("\nattention_mask\n", "bold"))
        for row in range(rows):
            out.append((f"{row:<4}", palette.muted))
            for col in range(shown):
                value = batch.attention_mask[row][col]
                out.append((str(value).ljust(cell_width), palette.text if value else palette.padding))
            out.append("\n")
    if columns > shown:
        out.append((f"… {columns - shown} more columns not drawn\n", palette.muted))
    return Content.assemble(*out)


def render_round_trip(trip: RoundTrip, palette: Palette, total_chars: int) -> Content:
    counts = trip.counts()
    out: list = [("decode(encode(text))", "bold")]
    if trip.lossless:
        out.append((" · lossless: every character comes back\n\n", palette.header))
    else:
        out.append(" · lost: ")
        for kind, count in counts.items():
            out.append((f" {kind} ", palette.loss[kind]))
            out.append(f" {count:,} chars  ")
        out.append("\n\n")
    budget = MAX_DRAWN_CHARS
    out.append(("original\n", palette.muted))
    drawn = 0
    for piece in trip.pieces:
        if drawn > budget:
            break
        out.append((piece.original, palette.loss[piece.kind]) if piece.kind else piece.original)
        drawn += len(piece.original)
    out.append(("\n\ndecoded\n", palette.muted))
    drawn = 0
    for piece in trip.pieces:
        if drawn > budget:
            break
        out.append((piece.decoded, palette.loss[piece.kind]) if piece.kind else piece.decoded)
        drawn += len(piece.decoded)
    if trip.compared_chars < total_chars:
        out.append((f"\n\n(compared the first {trip.compared_chars:,} of {total_chars:,} characters)", palette.muted))
    return Content.assemble(*out)


def render_compare_side(comparison: Comparison, side: str, palette: Palette) -> Content:
    result = comparison.left if side == "left" else comparison.right
    name = comparison.left_name if side == "left" else comparison.right_name
    differing = comparison.left_only if side == "left" else comparison.right_only
    other = comparison.right_tokens if side == "left" else comparison.left_tokens
    mine = result.total_tokens
    out: list = [
        (f"{name}\n", "bold"),
        f"{mine:,} tokens ({mine - other:+,} vs the other) · {len(differing):,} splits differ\n\n",
    ]
    text = result.text
    cursor, colour, drawn = 0, 0, 0
    for token in result.windows[0].tokens:
        if token.sequence is None:
            continue
        if drawn > MAX_DRAWN_CHARS:
            out.append(("…", palette.muted))
            break
        if token.start > cursor:
            out.append(text[cursor : token.start])
        piece = text[max(cursor, token.start) : token.end]
        style = palette.unknown if token.unknown else palette.token(colour)
        if (token.start, token.end) in differing:
            style += " bold underline"
        out.append((piece, style))
        drawn += len(piece) + 1
        colour += 1
        cursor = max(cursor, token.end)
    out.append(("\n\nunderlined: tokens the other tokenizer splits differently\n\n", palette.muted))
    out.append(" ".join(visible(token.text) for token in result.windows[0].tokens[:MAX_TABLE_TOKENS]))
    return Content.assemble(*out)
