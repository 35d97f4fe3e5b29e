"""The covering compositor draws fewer widgets and paints exactly what Textual's own would."""

from __future__ import annotations

import random

from rich.cells import cell_len
from rich.segment import ControlType
from textual._compositor import ChopsUpdate, Compositor
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Input, Label, Static, TabbedContent, TabPane

from workbench.ui.shell.compositor import CoveringCompositor, covering_compositor


def paint(compositor: Compositor, regions: list[Region], console, *, stock: bool) -> dict:
    """The cells a partial update of these regions paints on the terminal, drawn one way or the other.

    (Cells, not bytes: Textual's own output can hold a cursor move that paints nothing.)"""
    if stock:
        crop = Region.from_union(regions).intersection(compositor.size.region)
        spans = list(compositor._regions_to_spans(regions))
        is_rendered_line = {y for y, _, _ in spans}.__contains__
        chops = Compositor._render_chops(compositor, crop, is_rendered_line)  # draws every widget in the crop
        update = ChopsUpdate(chops, spans, [cuts[1:] for cuts in compositor.cuts])
    else:
        compositor._dirty_regions.clear()
        compositor._dirty_regions.update(regions)
        update = compositor.render_partial_update()
    cells = apply_update({}, update, console)
    assert cells, "the update painted nothing"
    return cells


def apply_update(cells: dict, update, console) -> dict:
    """Paint an update's output onto `cells` ((x, y) -> (character, style)), as a terminal would."""
    x = y = 0
    for segment in update.__rich_console__(console, console.options):
        if segment.control:
            for control in segment.control:
                if control[0] == ControlType.CURSOR_MOVE_TO:
                    x, y = control[1], control[2]
            continue
        for character in segment.text:
            if character == "\n":
                continue  # every line of an update starts with a cursor move
            cells[x, y] = (character, segment.style)
            x += cell_len(character)
    return cells


def random_regions(rng: random.Random, width: int, height: int) -> list[Region]:
    regions = []
    for _ in range(rng.randint(1, 3)):
        x, y = rng.randrange(width), rng.randrange(height)
        regions.append(Region(x, y, rng.randint(1, width - x), rng.randint(1, min(6, height - y))))
    return regions


def assert_random_updates_paint_the_same(compositor: Compositor, console, *, seed: int, updates: int) -> None:
    rng = random.Random(seed)
    width, height = compositor.size
    for _ in range(updates):
        regions = random_regions(rng, width, height)
        assert paint(compositor, regions, console, stock=False) == paint(compositor, regions, console, stock=True), (
            regions
        )


class Busy(Screen):
    """Nested containers with padding and borders, tabs, a scrolled column and an overlay on top."""

    DEFAULT_CSS = """
    Busy { layers: base above; }
    #side { width: 30; border: round $primary; padding: 1; }
    #main { padding: 0 2; background: $panel; }
    #overlay { layer: above; offset: 20 6; width: 30; height: 5; background: red 60%; border: heavy white; }
    Static.row { height: 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._compositor = covering_compositor()

    def compose(self) -> ComposeResult:
        with Horizontal():
            with VerticalScroll(id="side"):
                for index in range(40):
                    yield Static(f"side row {index}", classes="row")
            with Vertical(id="main"):
                yield Input("typed text", id="text")
                with TabbedContent():
                    with TabPane("One"):
                        for index in range(12):
                            yield Static(f"[b]token[/b] row {index} " * 3, classes="row")
                    with TabPane("Two"):
                        yield Label("two")
        yield Static("over everything", id="overlay")


class BusyApp(App):
    def on_mount(self) -> None:
        self.push_screen(Busy())


async def test_partial_updates_paint_the_same_as_textuals_compositor() -> None:
    app = BusyApp()
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        app.screen.query_one("#side").scroll_to(y=7, animate=False)
        app.notify("a toast over the bottom right corner", timeout=30)
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, CoveringCompositor)
        # A whole screen, as drawn under a translucent dialog: widgets hidden behind others are skipped.
        stock_chops = Compositor._render_chops(compositor, compositor.size.region, lambda y: True)
        stock = [list(Strip.join(chop.values())) for chop in stock_chops]
        assert [list(strip) for strip in compositor.render_strips()] == stock
        assert_random_updates_paint_the_same(compositor, app.console, seed=7, updates=300)


async def test_a_small_update_draws_only_the_widgets_in_front() -> None:
    app = BusyApp()
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        text = app.screen.query_one("#text")
        region = text.region
        showing = compositor._widgets_showing_through(region, lambda y: region.y <= y < region.bottom)
        # The input covers its own region: nothing behind it (screen, containers) is drawn.
        assert [widget for widget, _, _ in showing] == [text]
        everything = compositor._widgets_showing_through(compositor.size.region, lambda y: True)
        assert len(everything) > 10 and text in [widget for widget, _, _ in everything]


async def test_the_workbench_screen_paints_the_same_either_way() -> None:
    from workbench.ui.app import make_app

    app = make_app(probe_hub_on_start=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")  # the Tokenizer pane: editor, status, tabs and token rows
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.notify("saved", timeout=30)
        await pilot.pause()
        compositor = app.screen._compositor
        assert isinstance(compositor, CoveringCompositor)
        assert_random_updates_paint_the_same(compositor, app.console, seed=11, updates=150)


async def test_a_session_of_partial_updates_leaves_the_screen_a_full_render_shows() -> None:
    """Every update the app sends, painted in turn on a virtual terminal, ends as a full render."""
    from textual._compositor import CompositorUpdate

    from workbench.ui.app import make_app

    app = make_app(probe_hub_on_start=False)
    terminal: dict = {}
    partial_updates = 0
    original_display = app._display

    def display(screen, update):
        nonlocal partial_updates
        if isinstance(update, CompositorUpdate) and screen is app.screen:
            apply_update(terminal, update, app.console)
            partial_updates += isinstance(update, ChopsUpdate)
        return original_display(screen, update)

    app._display = display

    async def settled_screen_matches() -> None:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        full = apply_update({}, Compositor.render_full_update(app.screen._compositor), app.console)
        differing = sorted(cell for cell in full if terminal.get(cell) != full[cell])
        assert not differing, f"{len(differing)} cells differ, first at {differing[:5]}"

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")  # the Tokenizer pane
        await settled_screen_matches()
        app.screen.query_one("#tok-text").focus()
        await pilot.press("end", *"and more words typed here", "enter", *"a second line")
        await settled_screen_matches()
        await pilot.press("f5", "f5")  # round trip view, over the token view
        app.notify("a toast over the corner", timeout=30)
        await settled_screen_matches()
        await pilot.press("f5", "f5", "f5", "f5")  # back to the tokens
        await pilot.press("backspace", "backspace", "x")
        await settled_screen_matches()
        await pilot.press("4")  # the Training pane
        await settled_screen_matches()
    assert partial_updates > 10


def test_a_textual_with_other_private_methods_gets_its_own_compositor(monkeypatch) -> None:
    from workbench.ui.shell import compositor as module

    assert type(covering_compositor()) is CoveringCompositor
    monkeypatch.setitem(module._BUILDS_ON, "_render_chops", ["self", "crop", "is_rendered_line", "spans"])
    assert type(covering_compositor()) is Compositor
    monkeypatch.undo()
    monkeypatch.setitem(module._BUILDS_ON, "_no_such_method", ["self"])
    assert type(covering_compositor()) is Compositor


async def test_if_working_out_what_shows_through_fails_the_frame_draws_every_widget(monkeypatch) -> None:
    app = BusyApp()
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor

        def broken(*args):
            raise RuntimeError("an unexpected widget map")

        monkeypatch.setattr(compositor, "_widgets_showing_through", broken)
        assert_random_updates_paint_the_same(compositor, app.console, seed=3, updates=20)
        app.screen.query_one("#text").focus()
        await pilot.press("a", "b")
        assert app.screen.query_one("#text").value.endswith("ab")
