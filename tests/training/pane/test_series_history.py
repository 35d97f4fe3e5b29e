"""The chart data model: bucketed downsampling, EMA, run history folding, log tail, run lookup."""

from __future__ import annotations

import math
import random

import pytest

from tests.training.pane.fixtures.make_fixtures import CRASHED, FINISHED, GPU, RUNNING
from workbench.core.errors import WorkbenchError
from workbench.core.formatting import duration, number, sparkline
from workbench.core.runs.follow import LogTail, RunFollower, resolve_run
from workbench.core.runs.history import RunHistory
from workbench.core.runs.protocol import Evaluation, EventWriter, Finished, RunStarted, Step
from workbench.core.runs.series import Series, SmoothedSeries, ema_values


def brute_columns(xs, ys, x0, x1, width):
    out = [None] * width
    scale = (width - 1) / (x1 - x0)
    for x, y in zip(xs, ys):
        if x0 <= x <= x1 and math.isfinite(y):
            index = int((x - x0) * scale + 0.5)
            low, high = out[index] or (y, y)
            out[index] = (min(low, y), max(high, y))
    return out


def test_buckets_keep_every_spike_of_100k_points():
    rng = random.Random(0)
    series = Series()
    ys = [rng.random() for _ in range(100_000)]
    ys[77_777] = 50.0  # one spike
    ys[12_345] = math.nan  # never drawn
    for step, y in enumerate(ys):
        series.append(step, y)
    assert len(list(series.items(0, 100_000, 120))) <= 4 * 120 + 64  # read per column, not per point
    columns = series.columns(0, 99_999, 120)
    assert max(c.high for c in columns if c) == 50.0
    # The envelope matches a brute-force fold, give or take the one bucket that straddles a column edge.
    brute = brute_columns(series.xs, series.ys, 0, 99_999, 120)
    for index, got in enumerate(columns):
        near = [w for w in brute[max(0, index - 1) : index + 2] if w]
        assert got.high <= max(w[1] for w in near) and got.low >= min(w[0] for w in near)
    assert sum(c.high for c in columns) == pytest.approx(sum(w[1] for w in brute), rel=0.02)


@pytest.mark.parametrize(
    "first, last, width",
    [
        (0, 99_999, 240),
        (90_000, 99_999, 240),
        (12_345, 13_000, 50),
        (3, 99_990, 7),
        (50_001, 50_002, 100),
        (77_000, 99_999, 1),
    ],
)
def test_every_point_in_range_is_read_once_at_any_zoom(first, last, width):
    rng = random.Random(first)
    series = Series()
    ys = [rng.gauss(0, 1) for _ in range(100_000)]
    ys[60_000] = math.inf  # counted, never drawn
    for step, y in enumerate(ys):
        series.append(step, y)
    items = list(series.items(first, last + 1, width))
    assert len(items) <= 4 * width + 64 or last - first < 8 * width
    # Each item covers the points from its x up to the next item's x: its min/max are theirs.
    bounds = [int(item[0]) for item in items] + [last + 1]
    assert bounds[0] == first and bounds == sorted(set(bounds))
    for (x, low, high, head, tail), end in zip(items, bounds[1:]):
        finite = [y for y in ys[int(x) : end] if math.isfinite(y)]
        assert (low, high, head, tail) == (min(finite), max(finite), finite[0], finite[-1])


def test_zoomed_range_reads_raw_points():
    series = Series()
    for step in range(10_000):
        series.append(step, float(step))
    columns = series.columns(9_900, 9_999, 100)
    assert [c.low for c in columns] == [float(step) for step in range(9_900, 10_000)]


def test_log_transform_skips_non_positive_values():
    series = Series()
    for step, y in enumerate([10.0, 0.0, 100.0]):
        series.append(step, y)
    columns = series.columns(0, 2, 3, transform=lambda v: math.log10(v) if v > 0 else math.nan)
    assert columns[0].high == 1.0 and columns[1] is None and columns[2].high == 2.0


def test_ema_is_debiased_and_recomputed_on_weight_change():
    values, _ = ema_values([1.0, 1.0, 1.0], 0.9)
    assert values == pytest.approx([1.0, 1.0, 1.0])  # debiasing: no ramp up from zero
    smoothed = SmoothedSeries(0.9)
    for step, y in enumerate([0.0, 10.0, 0.0, 10.0]):
        smoothed.append(step, y)
    smoothed.set_weight(0.0)
    assert list(smoothed.smooth.ys) == [0.0, 10.0, 0.0, 10.0]


def test_a_smoothing_change_rebuilds_what_appending_builds():
    """set_weight rebuilds the EMA series in bulk; it must draw exactly like one built point by point."""
    rng = random.Random(7)
    ys = [rng.random() for _ in range(20_011)]
    ys[99] = math.nan
    ys[4_000:4_008] = [math.inf] * 8  # a whole bucket with nothing to draw
    changed, fresh = SmoothedSeries(0.9), SmoothedSeries(0.6)
    for step, y in enumerate(ys):
        changed.append(step, y)
        fresh.append(step, y)
    changed.set_weight(0.6)
    for first, last, width in ((0, 20_010, 300), (3_990, 4_100, 40), (15_000, 20_010, 9)):
        got = list(changed.smooth.items(first, last + 1, width))
        want = list(fresh.smooth.items(first, last + 1, width))
        assert len(got) == len(want)
        for a, b in zip(got, want):
            assert a == pytest.approx(b, nan_ok=True)
    changed.append(20_011, 0.5)  # and it carries on from the rebuilt state
    fresh.append(20_011, 0.5)
    assert changed.smooth.last == pytest.approx(fresh.smooth.last)


def test_truncate_after_drops_repeated_steps():
    series = Series()
    for step in range(100):
        series.append(step, 1.0)
    series.truncate_after(49)
    assert len(series) == 50 and series.last == (49, 1.0)


def test_history_of_a_resumed_run_counts_both_sessions(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventWriter(path) as writer:
        writer.emit(RunStarted(run_id="r", spec={}, total_steps=100, time=1000.0))
        for step in range(1, 61):
            writer.emit(Step(step=step, epoch=step / 50, loss=1.0, learning_rate=1e-5, time=1000.0 + step))
        # The child died at step 60; resumed from checkpoint 50 an hour later.
        writer.emit(RunStarted(run_id="r", spec={}, total_steps=100, resumed_from_step=50, time=5000.0))
        for step in range(51, 101):
            writer.emit(Step(step=step, epoch=step / 50, loss=0.5, learning_rate=1e-5, time=5000.0 + 2 * (step - 50)))
        writer.emit(Evaluation(step=100, epoch=2.0, metrics={"accuracy": 0.9, "eval_loss": 0.3}, time=5101.0))
        writer.emit(Finished(status="finished", time=5102.0))
    history, _ = RunFollower(tmp_path).load()
    assert history.sessions == 2
    assert history.elapsed == pytest.approx(60 + 102)
    assert len(history.loss) == 100 and history.loss.raw.ys[50] == 0.5
    assert history.status == "finished" and history.eta is None
    assert history.best_metric("accuracy") == (0.9, 100)
    assert history.best_metric("eval_loss") == (0.3, 100)


def test_eta_from_the_step_rate_of_event_times(tmp_path):
    history = RunHistory()
    history.ingest([RunStarted(run_id="r", spec={}, total_steps=1000, time=0.0)])
    history.ingest([Step(step=s, epoch=0.0, loss=1.0, learning_rate=0.0, time=s * 0.5) for s in range(1, 101)])
    assert history.steps_per_s == pytest.approx(2.0)
    assert history.eta == pytest.approx(450.0)
    assert history.fraction == pytest.approx(0.1)


def test_log_tail_reads_complete_lines_and_keeps_the_last_redraw(tmp_path):
    path = tmp_path / "stdout.log"
    path.write_text("x" * 100 + "\nfirst\n")
    tail = LogTail(path, initial_bytes=10)
    assert tail.poll() == ["first"]  # the cut line before it is skipped
    with open(path, "a") as file:
        file.write("10%\r50%\r100%\ndone")
    assert tail.poll() == ["100%"]
    with open(path, "a") as file:
        file.write("\n")
    assert tail.poll() == ["done"]


def test_fixture_runs_fold_as_recorded(runs_dir):
    statuses = {}
    for run_id in (RUNNING, FINISHED, CRASHED, GPU):
        follower = RunFollower(runs_dir / run_id)
        history, lines = follower.load()
        statuses[run_id] = "crashed" if follower.child_gone() else history.status
        assert lines
    assert statuses == {RUNNING: "running", FINISHED: "finished", CRASHED: "crashed", GPU: "running"}


def test_a_dead_child_without_a_final_event_is_noticed_once(runs_dir):
    events = runs_dir / CRASHED / "events.jsonl"
    events.write_text("".join(events.read_text().splitlines(keepends=True)[:-1]))  # drop the crash record
    follower = RunFollower(runs_dir / CRASHED)
    history, _ = follower.load()
    assert history.final is None
    assert follower.child_gone() is True
    assert follower.child_gone() is False  # reported once
    assert RunFollower(runs_dir / RUNNING).child_gone() is False  # its stand-in child lives


def test_resolve_run_by_id_part_or_path(runs_dir):
    assert resolve_run("9c4e", runs_dir).name == GPU
    assert resolve_run(str(runs_dir / FINISHED), runs_dir).name == FINISHED
    with pytest.raises(WorkbenchError, match="matches 3 runs"):
        resolve_run("minilm", runs_dir)
    with pytest.raises(WorkbenchError, match="No run"):
        resolve_run("nope", runs_dir)


def test_formatting():
    assert [duration(s) for s in (None, 5, 252, 3 * 3600 + 300, 3 * 86400)] == ["—", "5s", "4m12s", "3h05m", "3d00h"]
    assert [number(v) for v in (0.69314, 2.1e-5, 123456.0, math.nan)] == ["0.6931", "2.10e-5", "123k", "nan"]
    assert sparkline([0, 50, 100], 3, 0, 100) == "▁▅█"
