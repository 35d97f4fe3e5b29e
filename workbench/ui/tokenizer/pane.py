"""Tokenizer pane: a live view of exactly what the model sees.

The tokenizer loads once in a worker (importing transformers takes seconds; the pane paints
first with a loading state). Then every edit re-tokenizes: small texts on the UI thread,
coalesced so a burst of keys costs one tokenization; large texts in a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Offset
from textual.message import Message
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
    TextArea,
)

from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.loader import display_name
from workbench.core.tokenizer.options import TokenizeOptions
from workbench.ui.palette import PaletteCommand
from workbench.ui.shell.gc_pauses import freeze_long_lived_objects
from workbench.ui.tokenizer import render
from workbench.ui.tokenizer.editor import LARGE_TEXT, TokenizerEditor
from workbench.ui.tokenizer.lines import TokenLines
from workbench.ui.tokenizer.status import StatusLine

# Up to this many characters a keystroke re-tokenizes on the UI thread (about 10 ms); above, a worker does.
SYNC_LIMIT = 20_000
VIEWS = ("view-tokens", "view-batch", "view-roundtrip", "view-compare", "view-train", "view-code")
SAMPLE_TEXT = "Tokenizers split text into pieces: “naïve” café-owners don't see [UNK]s ☃ often."


_frozen = False


def _freeze_long_lived_objects() -> None:
    """Move what importing transformers left (~300k objects) out of the garbage collector's sight.

    Every keystroke allocates tokens and rows; every few hundred keystrokes that triggers a full
    collection, which walked all those objects and froze the UI for up to half a second. Done once,
    in the loading worker, while the pane still says "Loading…".
    """
    global _frozen
    if not _frozen:
        _frozen = True
        freeze_long_lived_objects(collect_first=True)


class TokenizerPane(Vertical):
    DEFAULT_CSS = """
    TokenizerPane { height: 1fr; }
    TokenizerPane #tok-status { padding: 0 1; color: $text-muted; }
    TokenizerPane #tok-body { height: 1fr; }
    TokenizerPane #tok-main { width: 1fr; }
    TokenizerPane #tok-text { height: 6; }
    TokenizerPane #tok-pair { margin: 0 0 0 0; }
    TokenizerPane #tok-options { width: 30; padding: 0 1; border-left: vkey $panel-lighten-2; }
    TokenizerPane #tok-options Label { color: $text-muted; margin-top: 1; }
    TokenizerPane #tok-options Checkbox { margin-top: 1; }
    TokenizerPane #tok-views { height: 1fr; }
    TokenizerPane TabPane { padding: 0; }
    TokenizerPane .tok-output { padding: 0 1; }
    TokenizerPane #tok-compare-sides > VerticalScroll { width: 1fr; }
    TokenizerPane #tok-compare-bar, TokenizerPane #tok-train-bar { height: auto; }
    TokenizerPane #tok-compare-bar Input { width: 1fr; }
    TokenizerPane #tok-train-form Input { width: 1fr; }
    TokenizerPane #tok-train-form Label { margin-top: 1; }
    TokenizerPane #tok-train-progress { margin-top: 1; }
    """

    BINDINGS = [
        Binding(
            "f5",
            "next_view",
            "Next view",
            id="tokenizer.next_view",
            tooltip="Tokens, batch, round trip, compare, train, code",
        ),
        Binding(
            "f9",
            "show_code",
            "Show code",
            id="tokenizer.show_code",
            tooltip="The tokenizer call that reproduces this view",
        ),
        Binding(
            "f4", "clear_text", "Clear", id="tokenizer.clear", tooltip="Empty the text box (and drop a large paste)"
        ),
        Binding("f8", "focus_options", "Options", id="tokenizer.options", tooltip="Jump to the tokenizer options"),
    ]

    # -- messages (workers post these; handlers own state) ---------------------
    class TokenizerLoaded(Message):
        def __init__(self, role: str, loaded) -> None:
            super().__init__()
            self.role = role  # "main" or "compare"
            self.loaded = loaded

    class TokenizerLoadFailed(Message):
        def __init__(self, role: str, source: str, error: str) -> None:
            super().__init__()
            self.role = role
            self.source = source
            self.error = error

    class Tokenized(Message):
        """A background tokenization finished (large texts); only the newest matters."""

        def __init__(self, generation: int, result, error: str | None) -> None:
            super().__init__()
            self.generation = generation
            self.result = result
            self.error = error

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TokenizerPane.Tokenized)

    class ViewComputed(Message):
        def __init__(self, view: str, generation: int, content: Content) -> None:
            super().__init__()
            self.view = view
            self.generation = generation
            self.content = content

    class TrainingProgressed(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TokenizerPane.TrainingProgressed)

    class TrainingFinished(Message):
        def __init__(self, loaded, folder: str, description: str) -> None:
            super().__init__()
            self.loaded = loaded
            self.folder = folder
            self.description = description

    class TrainingFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    # -- state -------------------------------------------------------------------
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.loaded = None
        self.compare_loaded = None
        self.result = None
        self.options = TokenizeOptions()
        self.generation = 0
        self.rendered_generation = -1  # for benchmarks: the generation now on screen
        self._refresh_pending = False
        self._shown_inputs: tuple | None = None  # what the token view shows: (text, pair, options, tokenizer)
        self._table_cache = render.TableCache()  # token tables of the last render: typing redraws only what changed
        self._follow_caret = False  # the next render scrolls the token view to the editor's caret
        self._load_started = False
        self._pinned_source: str | None = None  # a path the user opened; else the active model
        self._secondary_generation = 0
        self._built: bool | None = None  # None: not built; False: building; True: built
        self._pending_text: tuple[str, str | None] | None = None
        self._pending_view: str | None = None
        self._large_text: str | None = None  # a text too large for the editor (kept here, previewed there)
        self._cache: dict = {}  # source -> LoadedTokenizer, so one folder loads once
        self._loading: dict[str, set[str]] = {}  # source -> roles waiting for it

    def on_mount(self) -> None:
        self.watch(self.app, "active_model_path", self._active_model_changed, init=False)

    async def on_show(self) -> None:
        # Build and load only when first shown: the widgets and importing transformers cost
        # time the other panes do not need.
        if self._built is None:
            self._built = False
            await self.mount(TokenizerBody(id="tok-body", on_edit=self._text_edited))
            self.query_one("#tok-text", TextArea).cursor_blink = False
            for widget in self.query(Input):
                widget.cursor_blink = False
            self._built = True
            self._show_message("Loading the tokenizer…")
            if self._pending_text is not None:
                self.show_text(*self._pending_text)
            if self._pending_view is not None:
                self._show_view(self._pending_view)
        if self._built:
            self.ensure_loaded()

    def ensure_loaded(self) -> None:
        if not self._load_started:
            self._load_started = True
            source = self._main_source()
            self.query_one("#tok-compare-path", Input).value = self._active_source()
            self._load("main", source)
            self._load("compare", self._active_source())

    # -- public --------------------------------------------------------------------
    def show_text(self, text: str, pair: str | None = None) -> None:
        """Show this text (and pair) in the pane: the Datasets pane's "send to tokenizer"."""
        if not self._built:
            self._pending_text = (text, pair)  # shown once the pane is built (on its first Show)
            return
        self._pending_text = None
        self._set_text(text)
        self.query_one("#tok-pair", Input).value = pair or ""
        self.query_one("#tok-views", TabbedContent).active = "view-tokens"
        self.ensure_loaded()
        self.schedule_refresh()

    def palette_commands(self) -> list[PaletteCommand]:
        views = [
            ("tokenizer: tokens", "view-tokens", "Coloured tokens aligned to the text"),
            ("tokenizer: batch", "view-batch", "Lines as one padded batch with its attention mask"),
            ("tokenizer: round trip", "view-roundtrip", "decode(encode(text)) with what is lost"),
            ("tokenizer: compare", "view-compare", "A second tokenizer side by side"),
            ("tokenizer: train", "view-train", "Train a new tokenizer with train_new_from_iterator"),
            ("tokenizer: show code", "view-code", "The tokenizer call that reproduces the view"),
        ]
        return [PaletteCommand(label, lambda view=view: self._show_view(view), help) for label, view, help in views]

    # -- sources -------------------------------------------------------------------
    def _active_source(self) -> str:
        return str(getattr(self.app, "active_model_path", "") or "")

    def _main_source(self) -> str:
        return self._pinned_source if self._pinned_source is not None else self._active_source()

    def _active_model_changed(self, path: str) -> None:
        if not self._load_started:
            return
        self.query_one("#tok-compare-path", Input).value = str(path or "")
        self._load("compare", str(path or ""))
        if self._pinned_source is None:
            self._load("main", str(path or ""))

    def _load(self, role: str, source: str) -> None:
        if role == "main":
            self.loaded = None
            self._set_status(Content.from_markup("Loading the tokenizer of [b]$name[/b]…", name=display_name(source)))
        cached = self._cache.get(source)
        if cached is not None:
            self.post_message(self.TokenizerLoaded(role, cached))
        elif source in self._loading:
            self._loading[source].add(role)
        else:
            self._loading[source] = {role}
            self._load_worker(source)

    @work(thread=True, group="tokenizer-load", exit_on_error=False)
    def _load_worker(self, source: str) -> None:
        from workbench.core.tokenizer.loader import load_tokenizer

        try:
            loaded = load_tokenizer(source)
        except WorkbenchError as error:
            self.post_message(self.TokenizerLoadFailed("", source, str(error)))
            return
        except Exception as error:  # noqa: BLE001 - an unposted failure would leave the pane "Loading…" forever
            what = f"{display_name(source)}: {type(error).__name__}: {error}"
            self.post_message(self.TokenizerLoadFailed("", source, what))
            return
        _freeze_long_lived_objects()
        self.post_message(self.TokenizerLoaded("", loaded))

    @on(TokenizerLoaded)
    def _tokenizer_loaded(self, message: TokenizerLoaded) -> None:
        if not message.role:  # from the worker: cache it, then hand it to each role that asked
            self._cache[message.loaded.source] = message.loaded
            for role in sorted(self._loading.pop(message.loaded.source, set())):
                self._use_loaded(role, message.loaded)
            return
        self._use_loaded(message.role, message.loaded)

    def _use_loaded(self, role: str, loaded) -> None:
        wanted = self._main_source() if role == "main" else self.query_one("#tok-compare-path", Input).value.strip()
        if loaded.source != wanted:
            return  # a newer choice is loading
        if role == "main":
            self.loaded = loaded
            self.schedule_refresh()
        else:
            self.compare_loaded = loaded
            self._refresh_secondary()

    @on(TokenizerLoadFailed)
    def _tokenizer_load_failed(self, message: TokenizerLoadFailed) -> None:
        roles = self._loading.pop(message.source, set())
        self.notify(message.error, title="Tokenizer", severity="error", timeout=8)
        if "compare" in roles:
            self.query_one("#tok-compare-left", Static).update(Content.assemble(("⚠ ", "bold"), message.error))
        if "main" in roles:
            self._set_status(
                Content.assemble(("Could not load the tokenizer: ", "bold"), message.error.splitlines()[0])
            )
            self._show_message(message.error)

    def _set_text(self, text: str) -> None:
        editor = self.query_one("#tok-text", TokenizerEditor)
        if len(text) > LARGE_TEXT:
            self._large_text = text
            preview = text[: render.MAX_DRAWN_CHARS]
            editor.load_text(preview)
            editor.read_only = True
            editor.border_title = (
                f"{len(text):,} characters: the first {len(preview):,} shown, all of it tokenized (f4 clears)"
            )
        else:
            self._large_text = None
            editor.read_only = False
            editor.border_title = None
            editor.load_text(text)
        self.schedule_refresh()

    @on(TokenizerEditor.LargePasted)
    def _large_pasted(self, event: TokenizerEditor.LargePasted) -> None:
        self._set_text(event.text)

    def action_clear_text(self) -> None:
        self._set_text("")
        self.query_one("#tok-text", TokenizerEditor).focus()

    # -- edits and options ------------------------------------------------------------
    def _text_edited(self) -> None:
        """The editor's text changed (its own handler calls this, before the echo is painted)."""
        if self._large_text is None:  # else the editor holds a preview; the pane keeps the text
            self._follow_caret = True
            self._refresh()

    @on(Input.Changed, "#tok-pair")
    def _pair_changed(self) -> None:
        self.schedule_refresh()

    @on(Checkbox.Changed)
    @on(Select.Changed)
    @on(Input.Changed, "#opt-max-length, #opt-stride")
    def _options_changed(self) -> None:
        try:
            self.options = self._read_options()
        except WorkbenchError as error:
            self._show_error(str(error))
            return
        self.schedule_refresh()

    @on(Input.Submitted, "#opt-source")
    def _source_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        self._pinned_source = value or None
        self._load("main", self._main_source())

    @on(Input.Submitted, "#tok-compare-path")
    def _compare_submitted(self, event: Input.Submitted) -> None:
        self.compare_loaded = None
        self._refresh_secondary()
        self._load("compare", event.value.strip())

    @on(TabbedContent.TabActivated, "#tok-views")
    def _view_activated(self) -> None:
        self._refresh_secondary()

    def _read_options(self) -> TokenizeOptions:
        def number(widget_id: str, name: str) -> int | None:
            raw = self.query_one(widget_id, Input).value.strip()
            if not raw:
                return None
            try:
                return int(raw)
            except ValueError:
                raise WorkbenchError(f"{name}: {raw!r} is not a whole number") from None

        truncation = self.query_one("#opt-truncation", Select).value
        options = TokenizeOptions(
            add_special_tokens=self.query_one("#opt-special", Checkbox).value,
            truncation=None if truncation == "none" else str(truncation),
            truncation_side=str(self.query_one("#opt-side", Select).value),
            max_length=number("#opt-max-length", "max_length"),
            stride=number("#opt-stride", "stride") or 0,
            return_overflowing_tokens=self.query_one("#opt-overflow", Checkbox).value,
            padding=str(self.query_one("#opt-padding", Select).value),
            return_attention_mask=self.query_one("#opt-attention", Checkbox).value,
            show_word_ids=self.query_one("#opt-word-ids", Checkbox).value,
        )
        options.check()
        return options

    # -- tokenizing ----------------------------------------------------------------------
    def schedule_refresh(self) -> None:
        """Coalesce: many edits queued before the refresh runs cost one tokenization."""
        if not self._refresh_pending:
            self._refresh_pending = True
            self.call_later(self._refresh)

    def _inputs(self) -> tuple[str, str | None]:
        text = self._large_text if self._large_text is not None else self.query_one("#tok-text", TextArea).text
        pair = self.query_one("#tok-pair", Input).value or None
        return text, pair

    def _refresh(self) -> None:
        self._refresh_pending = False
        if self.loaded is None:
            return
        text, pair = self._inputs()
        if self._showing(text, pair):
            # On screen or on its way: a queued change for an edit shown as it happened (a burst
            # of keys costs one tokenization), or a refresh scheduled for a text already reported.
            return
        self._shown_inputs = (text, pair, self.options, self.loaded)
        self.generation += 1  # results for earlier inputs are stale from here on
        if len(text) + len(pair or "") > SYNC_LIMIT:
            self._set_status(Content(f"Tokenizing {len(text):,} characters…"))
            self._tokenize_worker(self.generation, self.loaded, text, pair, self.options)
            return
        from workbench.core.tokenizer.analysis import tokenize

        try:
            result = tokenize(self.loaded, text, pair, self.options)
        except WorkbenchError as error:
            self._show_error(str(error))
            return
        self._show_result(result, self.generation)

    def _showing(self, text: str, pair: str | None) -> bool:
        shown = self._shown_inputs
        return (
            shown is not None
            and shown[3] is self.loaded
            and shown[2] == self.options
            and shown[1] == pair
            and shown[0] == text
        )

    @work(thread=True, exclusive=True, group="tokenizer-tokenize", exit_on_error=False)
    def _tokenize_worker(self, generation: int, loaded, text: str, pair: str | None, options: TokenizeOptions) -> None:
        from workbench.core.tokenizer.analysis import tokenize

        try:
            result = tokenize(loaded, text, pair, options)
        except WorkbenchError as error:
            self.post_message(self.Tokenized(generation, None, str(error)))
            return
        self.post_message(self.Tokenized(generation, result, None))

    @on(Tokenized)
    def _tokenized(self, message: Tokenized) -> None:
        if message.generation != self.generation:
            return  # the text changed again; a newer tokenization is on its way
        if message.error:
            self._show_error(message.error)
        else:
            self._show_result(message.result, message.generation)

    def _show_result(self, result, generation: int) -> None:
        self.result = result
        palette = self._palette()
        self._set_status(render.stats_line(result, self.loaded, palette))
        output = self.query_one("#tok-tokens-out", TokenLines)
        caret = self._caret_index() if self._follow_caret else None
        self._follow_caret = False
        view = render.render_token_view(
            result, palette, self._lines_width(), self._visible_anchor(), self._table_cache, caret
        )
        output.set_lines(view.rows)
        if view.caret_row is not None:
            output.show_row(view.caret_row)  # typing: keep the tokens being typed in sight
        self.rendered_generation = generation
        self._refresh_secondary()

    def _caret_index(self) -> int:
        editor = self.query_one("#tok-text", TextArea)
        return editor.document.get_index_from_location(editor.cursor_location)

    def _visible_anchor(self) -> int:
        """The first character visible in the editor, for texts too long to draw whole."""
        editor = self.query_one("#tok-text", TextArea)
        if self._large_text is not None or editor.document.line_count < 50:
            return 0
        location = editor.wrapped_document.offset_to_location(Offset(0, editor.scroll_offset.y))
        return editor.document.get_index_from_location(location)

    def _show_error(self, message: str) -> None:
        self._set_status(Content.assemble(("⚠ ", "bold"), message.splitlines()[0]))
        self._show_message(f"⚠ {message}")

    def _show_message(self, message: str) -> None:
        self._shown_inputs = None
        self.query_one("#tok-tokens-out", TokenLines).set_lines(render.wrap_rows([(message, "")], self._lines_width()))

    def _lines_width(self) -> int:
        output = self.query_one("#tok-tokens-out", TokenLines)
        return max(output.scrollable_content_region.width - 1, 40)

    @on(TokenLines.Resized)
    def _token_view_resized(self) -> None:
        if self.result is not None and self.loaded is not None:
            self._show_result(self.result, self.rendered_generation)

    def _set_status(self, content: Content) -> None:
        self.query_one("#tok-status", StatusLine).update(content)

    def _palette(self) -> render.Palette:
        return render.palette_for(self.app.current_theme.dark)

    # -- secondary views ------------------------------------------------------------------
    def _refresh_secondary(self) -> None:
        self._secondary_generation += 1  # results of earlier requests are stale from here on
        if self.loaded is None:
            return
        view = self.query_one("#tok-views", TabbedContent).active
        text, pair = self._inputs()
        if view == "view-code":
            self._render_code(text, pair)
        elif view in ("view-batch", "view-roundtrip", "view-compare"):
            if view == "view-compare" and self.compare_loaded is None:
                self.query_one("#tok-compare-left", Static).update("Loading the second tokenizer…")
                return
            self._secondary_worker(
                view, self._secondary_generation, self.loaded, self.compare_loaded, text, self.options, self._palette()
            )

    @work(thread=True, exclusive=True, group="tokenizer-secondary", exit_on_error=False)
    def _secondary_worker(self, view: str, generation: int, loaded, other, text: str, options, palette) -> None:
        try:
            if view == "view-batch":
                from workbench.core.tokenizer.batch import split_lines, tokenize_batch

                lines = split_lines(text)
                content = (
                    render.render_batch(tokenize_batch(loaded, lines, options), palette)
                    if lines
                    else Content("Type one text per line.")
                )
                self.post_message(self.ViewComputed(view, generation, content))
            elif view == "view-roundtrip":
                from workbench.core.tokenizer.roundtrip import round_trip

                self.post_message(
                    self.ViewComputed(
                        view, generation, render.render_round_trip(round_trip(loaded, text), palette, len(text))
                    )
                )
            elif view == "view-compare":
                from workbench.core.tokenizer.compare import compare

                comparison = compare(loaded, other, text, options)
                left = render.render_compare_side(comparison, "left", palette)
                right = render.render_compare_side(comparison, "right", palette)
                self.post_message(self.ViewComputed("view-compare-left", generation, left))
                self.post_message(self.ViewComputed("view-compare-right", generation, right))
        except WorkbenchError as error:
            self.post_message(self.ViewComputed(view, generation, Content.assemble(("⚠ ", "bold"), str(error))))

    @on(ViewComputed)
    def _view_computed(self, message: ViewComputed) -> None:
        if message.generation != self._secondary_generation:
            return  # computed for an older text, options or second tokenizer
        target = {
            "view-batch": "#tok-batch-out",
            "view-roundtrip": "#tok-roundtrip-out",
            "view-compare": "#tok-compare-left",
            "view-compare-left": "#tok-compare-left",
            "view-compare-right": "#tok-compare-right",
        }[message.view]
        self.query_one(target, Static).update(message.content)

    def _render_code(self, text: str, pair: str | None) -> None:
        from rich.syntax import Syntax

        from workbench.core.tokenizer.codegen import tokenizer_call_code

        source = self.loaded.source if self.loaded else self._main_source()
        single = tokenizer_call_code(source, self.options, text=text, pair=pair)
        batch = tokenizer_call_code(source, self.options, text=text, batch=True)
        theme = "monokai" if self.app.current_theme.dark else "default"
        code = f"# The Tokens view\n{single}\n\n# The Batch view\n{batch.split(chr(10), 3)[-1]}"
        self.query_one("#tok-code-out", Static).update(
            Syntax(code, "python", theme=theme, word_wrap=True, background_color="default")
        )

    # -- training -----------------------------------------------------------------------------
    @on(Button.Pressed, "#tok-train-start")
    def _train_pressed(self) -> None:
        if self.loaded is None:
            self.notify("The tokenizer is still loading", severity="warning")
            return
        source = self.query_one("#tok-train-source", Input).value.strip()
        column = self.query_one("#tok-train-column", Input).value.strip() or None
        output = self.query_one("#tok-train-output", Input).value.strip()
        vocab_raw = self.query_one("#tok-train-vocab", Input).value.strip()
        dataset = getattr(self.app, "active_dataset", None)
        problems = []
        if not output:
            problems.append("Save to folder: give a folder for the new tokenizer")
        if not vocab_raw.isdigit():
            problems.append(f"Vocabulary size: {vocab_raw!r} is not a whole number")
        if not source and not dataset:
            problems.append("Train on: give a text file, or open a dataset in the Datasets pane")
        if problems:
            self.query_one("#tok-train-log", Static).update("\n".join(problems))
            return
        self.query_one("#tok-train-start", Button).disabled = True
        self.query_one("#tok-train-log", Static).update("Reading the texts…")
        self._train_worker(self.loaded, source, dataset, column, int(vocab_raw), output)

    @work(thread=True, exclusive=True, group="tokenizer-train", exit_on_error=False)
    def _train_worker(
        self, base, source: str, dataset: dict | None, column: str | None, vocab_size: int, output: str
    ) -> None:
        from workbench.core.tokenizer.train_new import corpus_from_dataset, corpus_from_text_file, train_new_tokenizer

        try:
            corpus = corpus_from_text_file(source) if source else corpus_from_dataset(dataset or {}, column)
            trained = train_new_tokenizer(
                base,
                corpus,
                vocab_size,
                output,
                lambda done, total: self.post_message(self.TrainingProgressed(done, total)),
            )
        except WorkbenchError as error:
            self.post_message(self.TrainingFailed(str(error)))
            return
        except Exception as error:  # noqa: BLE001 - the trainer can fail in many ways; show why, keep the TUI
            self.post_message(self.TrainingFailed(f"Training failed: {type(error).__name__}: {error}"))
            return
        self.post_message(self.TrainingFinished(trained, output, corpus.description))

    @on(TrainingProgressed)
    def _training_progressed(self, message: TrainingProgressed) -> None:
        bar = self.query_one("#tok-train-progress", ProgressBar)
        bar.update(total=message.total, progress=message.done)
        self.query_one("#tok-train-log", Static).update(
            f"Read {message.done:,} of {message.total:,} texts; learning the vocabulary…"
        )

    @on(TrainingFailed)
    def _training_failed(self, message: TrainingFailed) -> None:
        self.query_one("#tok-train-start", Button).disabled = False
        self.query_one("#tok-train-log", Static).update(Content.assemble(("⚠ ", "bold"), message.error))

    @on(TrainingFinished)
    def _training_finished(self, message: TrainingFinished) -> None:
        self.query_one("#tok-train-start", Button).disabled = False
        loaded = message.loaded
        self.query_one("#tok-train-log", Static).update(
            f"Trained on {message.description}: {loaded.model_type}, {loaded.vocab_size:,} tokens,"
            f" saved to {Path(message.folder).name}."
            " The Compare view now shows old against new."
        )
        self.compare_loaded = loaded
        self.query_one("#tok-compare-path", Input).value = message.folder
        self._show_view("view-compare")

    # -- actions -------------------------------------------------------------------------------
    def _show_view(self, view: str) -> None:
        self.app.action_show_pane("tokenizer")  # type: ignore[attr-defined]
        if not self._built:
            self._pending_view = view  # opened once the pane is built
            return
        self.query_one("#tok-views", TabbedContent).active = view

    def action_next_view(self) -> None:
        tabs = self.query_one("#tok-views", TabbedContent)
        tabs.active = VIEWS[(VIEWS.index(tabs.active) + 1) % len(VIEWS)] if tabs.active in VIEWS else VIEWS[0]

    def action_show_code(self) -> None:
        self._show_view("view-code")

    def action_focus_options(self) -> None:
        self.query_one("#opt-special", Checkbox).focus()


class TokenizerBody(Horizontal):
    """Everything below the status line; mounted when the pane is first shown (keeps app start light)."""

    def __init__(self, *, on_edit: Callable[[], None], id: str | None = None) -> None:
        super().__init__(id=id)
        self._on_edit = on_edit

    def compose(self) -> ComposeResult:
        with Vertical(id="tok-main"):
            # The status line sits above the text, not across the pane: a keystroke repaints it
            # with the editor, and Textual redraws every widget inside the rectangle they span.
            yield StatusLine("Loading the tokenizer…", id="tok-status")
            yield TokenizerEditor(
                SAMPLE_TEXT, id="tok-text", soft_wrap=True, show_line_numbers=False, on_edit=self._on_edit
            )
            yield Input(
                placeholder="pair: a second text for sentence-pair models (optional)", id="tok-pair", compact=True
            )
            with TabbedContent(id="tok-views"):
                with TabPane("Tokens", id="view-tokens"):
                    yield TokenLines(id="tok-tokens-out")
                with TabPane("Batch", id="view-batch"):
                    with VerticalScroll():
                        yield Static(
                            "Each line of the text becomes one row of a padded batch.",
                            id="tok-batch-out",
                            classes="tok-output",
                        )
                with TabPane("Round trip", id="view-roundtrip"):
                    with VerticalScroll():
                        yield Static("", id="tok-roundtrip-out", classes="tok-output")
                with TabPane("Compare", id="view-compare"):
                    with Horizontal(id="tok-compare-bar"):
                        yield Input(
                            placeholder="second tokenizer: a local folder (Enter loads)",
                            id="tok-compare-path",
                            compact=True,
                        )
                    with Horizontal(id="tok-compare-sides"):
                        with VerticalScroll():
                            yield Static("", id="tok-compare-left", classes="tok-output")
                        with VerticalScroll():
                            yield Static("", id="tok-compare-right", classes="tok-output")
                with TabPane("Train", id="view-train"):
                    with VerticalScroll(id="tok-train-form"):
                        yield Label("Train on: a text file (one text per line), or a column of the open dataset")
                        yield Input(
                            placeholder="text file path, or empty for the open dataset",
                            id="tok-train-source",
                            compact=True,
                        )
                        yield Input(
                            placeholder="dataset column (default: its text column)", id="tok-train-column", compact=True
                        )
                        yield Label("Vocabulary size")
                        yield Input("8000", id="tok-train-vocab", type="integer", compact=True)
                        yield Label("Save to folder")
                        yield Input(placeholder="folder for the new tokenizer", id="tok-train-output", compact=True)
                        yield Button("Train new tokenizer", id="tok-train-start", variant="primary", compact=True)
                        yield ProgressBar(total=100, show_eta=False, id="tok-train-progress")
                        yield Static("", id="tok-train-log")
                with TabPane("Code", id="view-code"):
                    with VerticalScroll():
                        yield Static("", id="tok-code-out", classes="tok-output")
        with VerticalScroll(id="tok-options"):
            yield Checkbox("add special tokens", True, id="opt-special", compact=True)
            yield Label("truncation")
            yield Select(
                [
                    ("none", "none"),
                    ("longest_first", "longest_first"),
                    ("only_first", "only_first"),
                    ("only_second", "only_second"),
                ],
                value="none",
                allow_blank=False,
                id="opt-truncation",
                compact=True,
            )
            yield Label("truncation side")
            yield Select(
                [("right", "right"), ("left", "left")], value="right", allow_blank=False, id="opt-side", compact=True
            )
            yield Label("max_length (empty: model max)")
            yield Input(placeholder="model max", id="opt-max-length", type="integer", compact=True)
            yield Label("stride")
            yield Input("0", id="opt-stride", type="integer", compact=True)
            yield Checkbox("overflow windows", True, id="opt-overflow", compact=True)
            yield Label("padding")
            yield Select(
                [("none", "do_not_pad"), ("longest", "longest"), ("max_length", "max_length")],
                value="do_not_pad",
                allow_blank=False,
                id="opt-padding",
                compact=True,
            )
            yield Checkbox("attention mask", True, id="opt-attention", compact=True)
            yield Checkbox("word ids", True, id="opt-word-ids", compact=True)
            yield Label("tokenizer (Enter loads)")
            yield Input(placeholder="active model", id="opt-source", compact=True)
