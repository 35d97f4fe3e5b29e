"""The monitor's fixed-size widgets: evaluations table and output tail follow new rows, scroll back,
and never ask for a layout pass (each one re-lays out the whole screen) while a run streams."""

from __future__ import annotations

from textual import messages
from textual.app import App, ComposeResult

from tests.training.pane.conftest import monitor_loaded, wait_for
from tests.training.pane.fixtures.make_fixtures import RUNNING
from workbench.core.runs.protocol import Evaluation, EventWriter, LogLine, Step, SystemSample
from workbench.ui.app import make_app
from workbench.ui.training.eval_table import EvalTable
from workbench.ui.training.monitor import RunMonitor
from workbench.ui.training.output_tail import OutputTail, clean_line


class TablesApp(App):
    CSS = "EvalTable { height: 6; } OutputTail { height: 4; }"

    def compose(self) -> ComposeResult:
        yield EvalTable()
        yield OutputTail(max_lines=50)


def layouts_of(posted: list, widgets: tuple) -> list:
    return [m for m in posted if isinstance(m, messages.Layout) and isinstance(m.widget, widgets)]


async def test_eval_table_follows_new_rows_until_the_user_moves_up():
    posted: list = []
    app = TablesApp()
    async with app.run_test(message_hook=posted.append) as pilot:
        table = app.query_one(EvalTable)
        table.set_columns(["step", "accuracy"])
        await pilot.pause()
        posted.clear()
        for step in range(1, 21):
            table.add_rows([(str(step), f"0.{step:02d}")])
            await pilot.pause()
        assert layouts_of(posted, (EvalTable,)) == []
        assert table.cursor_row == 19 and table.following
        assert table.border_subtitle == "20/20"
        # The header and the last five rows: the newest is on screen.
        assert "20" in table.render_line(5).text and "step" in table.render_line(0).text
        table.focus()
        await pilot.press("up", "up")
        assert table.cursor_row == 17 and not table.following
        table.add_rows([("21", "0.21")])
        assert table.cursor_row == 17  # stays where the user put it
        await pilot.press("home")
        assert table.cursor_row == 0 and "1 " in table.render_line(1).text
        await pilot.press("end")
        assert table.following and table.cursor_row == 20
        table.set_columns(["step", "f1"])  # a new metric: the rows start over
        assert table.row_count == 0 and table.cursor_row == -1


async def test_output_tail_keeps_the_newest_lines_and_scrolls_back():
    posted: list = []
    app = TablesApp()
    async with app.run_test(size=(40, 12), message_hook=posted.append) as pilot:
        tail = app.query_one(OutputTail)
        await pilot.pause()
        posted.clear()
        tail.write_lines([f"line {i}" for i in range(60)])
        await pilot.pause()
        assert layouts_of(posted, (OutputTail,)) == []
        assert len(tail.lines) == 50 and tail.lines[0] == "line 10"  # the oldest fell off
        assert [tail.render_line(y).text.strip() for y in range(4)] == ["line 56", "line 57", "line 58", "line 59"]
        tail.focus()
        await pilot.press("pageup")
        assert not tail.following and tail.render_line(0).text.strip() == "line 52"
        tail.write_lines(["line 60"])  # the view stays put while new output arrives
        assert tail.render_line(0).text.strip() == "line 52" and "newer lines" in tail.border_subtitle
        await pilot.press("end")
        assert tail.following and tail.render_line(3).text.strip() == "line 60"
        tail.write_lines(["x" * 100])
        assert tail.render_line(3).text.rstrip().endswith("…")


def test_output_lines_lose_escape_sequences_and_control_characters():
    assert clean_line("\x1b[31mred\x1b[0m\tok\x07") == "red     ok\ufffd"


async def test_a_streaming_run_repaints_without_layout_passes(runs_dir):
    """Steps, evaluations, system samples and output arrive: the monitor repaints, never re-lays out."""
    posted: list = []
    app = make_app(probe_hub_on_start=False, attach_run=RUNNING)
    async with app.run_test(size=(140, 46), message_hook=posted.append) as pilot:
        await monitor_loaded(pilot)
        monitor = app.screen.query_one(RunMonitor)
        start = monitor.history.last_time
        evaluations = len(monitor.history.evaluations)
        posted.clear()
        for batch in range(3):
            with (
                EventWriter(runs_dir / RUNNING / "events.jsonl") as writer,
                open(runs_dir / RUNNING / "stdout.log", "a") as log,
            ):
                for step in range(413 + batch * 50, 463 + batch * 50):
                    writer.emit(Step(step=step, epoch=step / 230, loss=0.3, learning_rate=1e-5, time=start + step))
                    log.write(f"step {step}\n")
                writer.emit(
                    Evaluation(
                        step=step,
                        epoch=step / 230,
                        metrics={"accuracy": 0.8, "eval_loss": 0.4, "f1": 0.85},
                        time=start + step,
                    )
                )
                writer.emit(SystemSample(cpu_percent=100.0, rss_mb=2000.0, time=start + step))
                writer.emit(LogLine(message="evaluated", time=start + step))
            await wait_for(pilot, lambda: len(monitor.history.evaluations) == evaluations + batch + 1)
        await pilot.pause(0.5)  # the charts' trailing draw
        assert monitor.query_one(EvalTable).row_count == evaluations + 3
        assert "step 562" in monitor.query_one(OutputTail).lines
        in_monitor = [m for m in layouts_of(posted, (object,)) if monitor in m.widget.ancestors_with_self]
        assert in_monitor == []


async def test_output_tail_answers_textuals_own_scroll_calls():
    """Issue 14: OutputTail overrode Widget._scroll_to with another signature, so scroll_end() crashed."""
    app = TablesApp()
    async with app.run_test() as pilot:
        tail = app.query_one(OutputTail)
        tail.write_lines([f"line {n}" for n in range(30)])
        await pilot.pause()
        tail.scroll_home(animate=False)
        await pilot.pause()
        assert not tail.following and tail.render_line(0).text.startswith("line 0")
        tail.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert tail.following and tail.render_line(tail.visible_lines - 1).text.startswith("line 29")
        tail.scroll_to(y=3, animate=False)  # Textual's generic scrolling leaves the box as it is
        tail.scroll_visible()
        await pilot.pause()
        assert app.is_running
