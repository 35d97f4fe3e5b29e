"""The child's event sink: the final event is the last line of a run, whatever the sampler does."""

from __future__ import annotations

import threading
import time

from workbench.core.runs import protocol
from workbench.training.event_sink import RunEvents
from workbench.training.system import SystemMonitor


class LateSampler:
    """A sampler whose last sample lands while it is being stopped (the 9 ms race of issue 22)."""

    def __init__(self, events: RunEvents) -> None:
        self.events = events
        self.stopped = False

    def stop(self) -> None:
        self.events.emit(protocol.SystemSample(cpu_percent=1.0, rss_mb=1.0))
        self.stopped = True


def lines(run_dir) -> list[protocol.Event]:
    return protocol.read_events(run_dir / "events.jsonl")


def test_background_writers_stop_before_the_final_event_and_nothing_follows_it(tmp_path):
    events = RunEvents(tmp_path, enabled=True)
    sampler = LateSampler(events)
    events.add_background(sampler)
    events.final(protocol.Finished(status="finished"))
    assert sampler.stopped
    events.emit(protocol.SystemSample(cpu_percent=2.0, rss_mb=2.0))  # a thread that outlived its join
    events.log("too late")
    events.close()
    written = lines(tmp_path)
    assert [type(e) for e in written] == [protocol.SystemSample, protocol.Finished]
    assert written[-1].status == "finished"


def test_a_real_sampler_at_full_speed_never_writes_after_the_end(tmp_path):
    events = RunEvents(tmp_path, enabled=True)
    started = threading.Event()

    def emit(sample):
        events.emit(sample)
        started.set()

    monitor = SystemMonitor(emit, interval=0.001)
    events.add_background(monitor)
    monitor.start()
    assert started.wait(10)
    events.final(protocol.Failed(error="boom"))
    time.sleep(0.05)
    events.close()
    written = lines(tmp_path)
    assert isinstance(written[-1], protocol.Failed) and len(written) >= 2
    assert not monitor._thread.is_alive()


def test_other_processes_write_nothing(tmp_path):
    events = RunEvents(tmp_path, enabled=False)
    events.final(protocol.Finished(status="finished"))
    events.close()
    assert not (tmp_path / "events.jsonl").exists()
