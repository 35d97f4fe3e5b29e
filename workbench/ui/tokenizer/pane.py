"""Tokenizer pane: a live view of exactly what the model sees.

The tokenizer loads once in a worker (importing transformers takes seconds; the pane paints
first with a loading state). Then every edit re-tokenizes: small texts on the UI thread,
coalesced so a burst of keys costs one tokenization; large texts in a worker. The other views
(views.py, train_view.py) compute their content in their own workers from what the pane pushes
down to them; the options column (options.py) posts the options it reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.theme import Theme
from textual.widgets import Checkbox, Input, Select, TabbedContent, TextArea

from workbench.core.errors import WorkbenchError
from workbench.core.tokenizer.loader import LoadedTokenizer, display_name
from workbench.core.tokenizer.options import TokenizeOptions
from workbench.ui.palette import PaletteCommand
from workbench.ui.shell.gc_pauses import freeze_long_lived_objects
from workbench.ui.tokenizer import render
from workbench.ui.tokenizer.body import TokenizerBody
from workbench.ui.tokenizer.editor import TokenizerEditor
from workbench.ui.tokenizer.lines import TokenLines
from workbench.ui.tokenizer.options import OptionsPanel
from workbench.ui.tokenizer.palette import palette_for
from workbench.ui.tokenizer.status import StatusLine
from workbench.ui.tokenizer.train_view import TrainView
from workbench.ui.tokenizer.views import BatchView, CodeView, CompareSides, RoundTripView, ViewInputs

# Up to this many characters a keystroke re-tokenizes on the UI thread (about 10 ms); above, a worker does.
SYNC_LIMIT = 20_000
VIEWS = ("view-tokens", "view-batch", "view-roundtrip", "view-compare", "view-train", "view-code")


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
    @dataclass
    class TokenizerLoaded(Message):
        role: str  # "main" or "compare"; "" from the worker (the handler hands it to each role)
        loaded: LoadedTokenizer

    @dataclass
    class TokenizerLoadFailed(Message):
        role: str
        source: str
        error: str

    @dataclass
    class Tokenized(Message):
        """A background tokenization finished (large texts); only the newest matters."""

        generation: int
        result: object
        error: str | None

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TokenizerPane.Tokenized)

    # -- state (pushed down to the views) -------------------------------------------
    loaded: var[LoadedTokenizer | None] = var(None)  # the pane's tokenizer; the Train view's base
    compare_loaded: var[LoadedTokenizer | None] = var(None)
    active_model_path: var[str] = var("")  # the app's active model ("" = embedded), kept in sync
    active_dataset: var[dict | None] = var(None)  # the open dataset; the Train view trains on it

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
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
        self._built: bool | None = None  # None: not built; False: building; True: built
        self._pending_text: tuple | None = None
        self._pending_view: str | None = None
        self._keep_pane_focus = False  # the next Show leaves the focus on the pane (a text sent from elsewhere)
        self._cache: dict[str, LoadedTokenizer] = {}  # source -> tokenizer, so one folder loads once
        self._loading: dict[str, set[str]] = {}  # source -> roles waiting for it

    def on_mount(self) -> None:
        # The app's choices come down through these subscriptions; nothing below reads the app.
        self.watch(self.app, "active_model_path", self._active_model_changed)
        self.watch(self.app, "active_dataset", self._active_dataset_changed)
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    async def on_show(self) -> None:
        # Build and load only when first shown: the widgets and importing transformers cost
        # time the other panes do not need.
        if self._built is None:
            self._built = False
            await self.mount(TokenizerBody(id="tok-body", on_edit=self._text_edited))
            self.query_one(TrainView).data_bind(base=TokenizerPane.loaded, dataset=TokenizerPane.active_dataset)
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
            if not self._keep_pane_focus:
                self._focus_editor()
            self._keep_pane_focus = False

    def _focus_editor(self) -> None:
        """Keys go to the text box (esc leaves it); focus the user put elsewhere in the pane stays."""
        focused = self.screen.focused
        if focused is None or focused is self or self not in focused.ancestors:
            self.query_one("#tok-text", TokenizerEditor).focus(scroll_visible=False)

    def ensure_loaded(self) -> None:
        if not self._load_started:
            self._load_started = True
            source = self._main_source()
            self.query_one("#tok-compare-path", Input).value = self.active_model_path
            self._load("main", source)
            self._load("compare", self.active_model_path)

    # -- public --------------------------------------------------------------------
    def show_text(
        self,
        text: str,
        pair: str | None = None,
        source: str | None = None,
        max_length: int | None = None,
        truncation: str | None = None,
        windows: bool = False,
        stride: int = 0,
    ) -> None:
        """Show this text (and pair) in the pane: the Datasets pane's "send to tokenizer"; the Errors
        view also names the run's model (`source`, loaded and pinned), its inputs' `max_length` and, for
        question answering, the windows' `stride`."""
        if not self.region:  # sent from another pane: focus stays on this pane, so 1-4 go back (not typed)
            self._keep_pane_focus = True
        if not self._built:
            self._pending_text = (text, pair, source, max_length, truncation, windows, stride)  # shown once built
            return
        self._pending_text = None
        self._set_text(text)
        self.query_one("#tok-pair", Input).value = pair or ""
        if source:
            self._pinned_source = source
            self.query_one("#opt-source", Input).value = source
            if self._load_started:
                self._load("main", source)
        if max_length:
            self.query_one("#opt-max-length", Input).value = str(max_length)
            self.query_one("#opt-truncation", Select).value = truncation or "longest_first"
            self.query_one("#opt-overflow", Checkbox).value = windows
            self.query_one("#opt-stride", Input).value = str(stride if windows else 0)
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
    def _main_source(self) -> str:
        return self._pinned_source if self._pinned_source is not None else self.active_model_path

    def _active_dataset_changed(self, dataset: dict | None) -> None:
        self.active_dataset = dataset

    def _active_model_changed(self, path: str | None) -> None:
        self.active_model_path = str(path or "")
        if not self._load_started:
            return
        self.query_one("#tok-compare-path", Input).value = self.active_model_path
        self._load("compare", self.active_model_path)
        if self._pinned_source is None:
            self._load("main", self.active_model_path)

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

    def _use_loaded(self, role: str, loaded: LoadedTokenizer) -> None:
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
            self.query_one(CompareSides).invalidate(Content.assemble(("⚠ ", "bold"), message.error))
        if "main" in roles:
            self._set_status(
                Content.assemble(("Could not load the tokenizer: ", "bold"), message.error.splitlines()[0])
            )
            self._show_message(message.error)

    def _set_text(self, text: str) -> None:
        self.query_one("#tok-text", TokenizerEditor).set_text(text)
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
        if self.query_one("#tok-text", TokenizerEditor).large_text is None:  # else it holds a fixed preview
            self._follow_caret = True
            self._refresh()

    @on(Input.Changed, "#tok-pair")
    def _pair_changed(self) -> None:
        self.schedule_refresh()

    @on(OptionsPanel.Changed)
    def _options_changed(self, message: OptionsPanel.Changed) -> None:
        if message.options is None:
            self._show_error(message.error or "The options are not valid")
            return
        self.options = message.options
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

    # -- tokenizing ----------------------------------------------------------------------
    def schedule_refresh(self) -> None:
        """Coalesce: many edits queued before the refresh runs cost one tokenization."""
        if not self._refresh_pending:
            self._refresh_pending = True
            self.call_later(self._refresh)

    def _inputs(self) -> tuple[str, str | None]:
        text = self.query_one("#tok-text", TokenizerEditor).full_text
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
        editor = self.query_one("#tok-text", TokenizerEditor)
        caret = editor.caret_index() if self._follow_caret else None
        self._follow_caret = False
        width = self._lines_width()
        view = render.render_token_view(result, palette, width, editor.first_visible_index(), self._table_cache, caret)
        # Options the tokenizer ignores (a stride without truncation) are a note above the tokens.
        ignored = self.options.ignored()
        notes = render.wrap_rows([(f"note: {note}\n", palette.muted) for note in ignored], width) if ignored else []
        output.set_lines(notes + view.rows)
        if view.caret_row is not None:
            output.show_row(len(notes) + view.caret_row)  # typing: keep the tokens being typed in sight
        self.rendered_generation = generation
        self._refresh_secondary()

    def _show_error(self, message: str) -> None:
        self._set_status(Content.assemble(("⚠ ", "bold"), message.splitlines()[0]))
        self._show_message(f"⚠ {message}")

    def _show_message(self, message: str) -> None:
        self._shown_inputs = None
        self.query_one("#tok-tokens-out", TokenLines).set_lines(render.wrap_rows([(message, "")], self._lines_width()))

    def _lines_width(self) -> int:
        return self.query_one("#tok-tokens-out", TokenLines).wrap_width

    @on(TokenLines.Resized)
    def _token_view_resized(self) -> None:
        if self.result is not None and self.loaded is not None:
            self._show_result(self.result, self.rendered_generation)

    def _theme_changed(self, theme: Theme) -> None:
        """A theme brings its own token colours: draw again with them."""
        if self._built and self.result is not None and self.loaded is not None:
            self._table_cache = render.TableCache()
            self._show_result(self.result, self.rendered_generation)

    def _set_status(self, content: Content) -> None:
        self.query_one("#tok-status", StatusLine).update(content)

    def _palette(self) -> render.Palette:
        theme = self.app.current_theme
        return palette_for(theme.dark, theme.variables)

    # -- the other views ------------------------------------------------------------------
    def _refresh_secondary(self) -> None:
        """Results of earlier requests are stale from here on; the shown view computes anew."""
        batch, trip, sides = self.query_one(BatchView), self.query_one(RoundTripView), self.query_one(CompareSides)
        for view in (batch, trip, sides):
            view.invalidate()
        if self.loaded is None:
            return
        active = self.query_one("#tok-views", TabbedContent).active
        text, pair = self._inputs()
        inputs = ViewInputs(self.loaded, text, pair, self.options, self._palette())
        if active == "view-code":
            self.query_one(CodeView).show(self.loaded.source, inputs, self.app.current_theme.dark)
        elif active == "view-batch":
            batch.show(inputs)
        elif active == "view-roundtrip":
            trip.show(inputs)
        elif active == "view-compare":
            sides.show(inputs, self.compare_loaded)

    @on(TrainView.Trained)
    def _trained(self, message: TrainView.Trained) -> None:
        self.compare_loaded = message.loaded
        self.query_one("#tok-compare-path", Input).value = message.folder
        self._show_view("view-compare")

    # -- actions -------------------------------------------------------------------------------
    def _show_view(self, view: str) -> None:
        self.call_later(self.app.run_action, "show_pane('tokenizer')")
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
