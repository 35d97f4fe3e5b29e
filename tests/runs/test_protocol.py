from __future__ import annotations

import json
import math

import pytest

from workbench.core.runs.protocol import (
    PROTOCOL_VERSION,
    Evaluation,
    EventReader,
    EventWriter,
    Failed,
    GpuSample,
    NewerProtocolError,
    ProtocolError,
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
        assert f'"v":{PROTOCOL_VERSION},' in line
        assert decode(line) == event


def test_nan_loss_survives_encoding():
    event = decode(encode(Step(step=3, epoch=0.0, loss=float("nan"), learning_rate=1e-5)))
    assert math.isnan(event.loss)


def strict_loads(line: str):
    """A strict JSON parser, as jq or another language's: bare NaN/Infinity tokens are refused."""

    def refuse(token):
        raise ValueError(f"not strict JSON: {token}")

    return json.loads(line, parse_constant=refuse)


def test_non_finite_floats_are_strict_json_strings():
    step = Step(step=3, epoch=0.0, loss=float("nan"), learning_rate=1e-5, grad_norm=float("inf"))
    line = encode(step)
    record = strict_loads(line)  # fails on today's bare NaN token
    assert record["v"] == PROTOCOL_VERSION == 2
    assert (record["loss"], record["grad_norm"]) == ("NaN", "Infinity")
    metrics = strict_loads(encode(Evaluation(step=1, epoch=1.0, metrics={"eval_loss": float("-inf")})))["metrics"]
    assert metrics == {"eval_loss": "-Infinity"}
    back = decode(encode(Evaluation(step=1, epoch=1.0, metrics={"eval_loss": float("-inf")})))
    assert back.metrics["eval_loss"] == float("-inf")


def test_old_bare_nan_tokens_still_read():
    event = decode('{"v":1,"type":"step","time":1,"step":2,"epoch":0,"loss":NaN,"learning_rate":Infinity}')
    assert math.isnan(event.loss) and event.learning_rate == math.inf


def test_a_newer_protocol_version_is_refused_with_a_clear_message(tmp_path):
    with pytest.raises(NewerProtocolError, match="newer than this workbench reads.*upgrade workbench"):
        decode('{"v":3,"type":"step","time":1,"step":2,"epoch":0,"loss":1,"learning_rate":1}')
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"v":3,"type":"log","time":1,"message":"from the future"}\n{"v":1,"type":"log","time":1,"message":"hi"}\n'
    )
    reader = EventReader(path)
    assert [event.message for event in reader.poll()] == ["hi"]
    assert (reader.bad_lines, reader.newer_lines) == (1, 1)


@pytest.mark.parametrize(
    "line",
    [
        '{"v":1,"type":"run_started","time":1,"run_id":"r","spec":{},"total_steps":"many"}',
        '{"v":1,"type":"step","time":1,"step":"3","epoch":0,"loss":1,"learning_rate":1}',
        '{"v":1,"type":"step","time":1,"step":3,"epoch":0,"loss":"low","learning_rate":1}',
        '{"v":1,"type":"step","time":1,"step":true,"epoch":0,"loss":1,"learning_rate":1}',
        '{"v":1,"type":"step","time":1,"step":3,"epoch":0,"learning_rate":1}',
        '{"v":1,"type":"evaluation","time":1,"step":3,"epoch":0,"metrics":[1,2]}',
        '{"v":1,"type":"system","time":1,"cpu_percent":1,"rss_mb":2,"gpus":[{"index":"zero","name":"x"}]}',
        '{"v":1,"type":"run_started","time":1,"run_id":"r","spec":{},"devices":["cpu"]}',
        '{"v":1,"type":"finished","time":"late","status":"finished"}',
        '{"v":"1","type":"log","time":1,"message":"hi"}',
        "[1,2,3]",
        '{"v":1,"type":7}',
    ],
)
def test_ill_typed_records_are_refused_one_by_one(line):
    with pytest.raises(ProtocolError):
        decode(line)


def test_unknown_keys_are_kept_and_written_back():
    line = (
        '{"v":1,"type":"system","time":1,"cpu_percent":1,"rss_mb":2,"fan_rpm":900,'
        '"gpus":[{"index":0,"name":"H200","nvlink":"up"}]}'
    )
    event = decode(line)
    assert event.extra == {"fan_rpm": 900} and event.gpus[0].extra == {"nvlink": "up"}
    again = json.loads(encode(event))
    assert again["fan_rpm"] == 900 and again["gpus"][0]["nvlink"] == "up"


def test_integral_floats_are_read_as_whole_numbers():
    event = decode('{"v":1,"type":"step","time":1,"step":3.0,"epoch":0,"loss":1,"learning_rate":1}')
    assert event.step == 3 and isinstance(event.step, int)


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
