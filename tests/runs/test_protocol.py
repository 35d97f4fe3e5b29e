from __future__ import annotations

import math

from workbench.core.runs.protocol import (
    PROTOCOL_VERSION,
    Evaluation,
    EventReader,
    EventWriter,
    Failed,
    GpuSample,
    RunStarted,
    Step,
    SystemSample,
    UnknownEvent,
    decode,
    encode,
    read_events,
)


def test_round_trip_of_every_record():
    events = [
        RunStarted(run_id="r1", spec={"model": {"name_or_path": "m"}}, devices=[{"type": "cpu"}]),
        Step(step=1, epoch=0.1, loss=0.69, learning_rate=5e-5, grad_norm=1.2, samples_per_s=10.0, tokens_per_s=900.0),
        Evaluation(step=10, epoch=1.0, metrics={"accuracy": 0.8, "f1": 0.85}),
        SystemSample(cpu_percent=50.0, rss_mb=800.0, gpus=[GpuSample(index=0, name="H200", utilization=97.0)]),
        Failed(error="boom", traceback="Traceback ...", status="crashed"),
    ]
    for event in events:
        line = encode(event)
        assert f'"v":{PROTOCOL_VERSION}' in line
        assert decode(line) == event


def test_nan_loss_survives_encoding():
    event = decode(encode(Step(step=3, epoch=0.0, loss=float("nan"), learning_rate=1e-5)))
    assert math.isnan(event.loss)


def test_unknown_type_is_kept_not_raised():
    event = decode('{"v":1,"type":"future_thing","time":1.0,"x":2}')
    assert isinstance(event, UnknownEvent)
    assert event.raw["x"] == 2


def test_reader_ignores_truncated_last_line_until_complete(tmp_path):
    path = tmp_path / "events.jsonl"
    with EventWriter(path) as writer:
        writer.emit(Step(step=1, epoch=0.0, loss=1.0, learning_rate=1.0))
    line = encode(Step(step=2, epoch=0.0, loss=0.5, learning_rate=1.0))
    with open(path, "a") as file:
        file.write(line[:10])
    reader = EventReader(path)
    assert [event.step for event in reader.poll()] == [1]
    assert read_events(path)[-1].step == 1
    with open(path, "a") as file:
        file.write(line[10:] + "\n")
    assert [event.step for event in reader.poll()] == [2]
    assert reader.poll() == []


def test_reader_counts_garbage_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('garbage\n{"v":1,"type":"log","time":1,"message":"hi"}\n')
    reader = EventReader(path)
    events = reader.poll()
    assert len(events) == 1 and events[0].message == "hi"
    assert reader.bad_lines == 1
