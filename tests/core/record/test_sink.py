"""The recorders are Sinks: what the runner hands every record, event and end to."""

from vgrad.core.config import Config
from vgrad.core.record.format import run_header
from vgrad.core.record.sink import Sink
from vgrad.core.record.writer import CsvRecorder, JsonlRecorder
from vgrad.core.spec import parse_net

SPECS = (parse_net("4-3-3-2"),)


def test_the_jsonl_and_csv_recorders_satisfy_the_sink_protocol(tmp_path):
    jsonl = JsonlRecorder(tmp_path / "run.jsonl", run_header(SPECS, Config(), "digits", {}))
    csv = CsvRecorder(tmp_path / "run.csv", SPECS)
    for sink in (jsonl, csv):
        assert isinstance(sink, Sink) and sink.failure is None
        sink.end("complete", 0.0)


def test_something_without_end_is_not_a_sink():
    class StepsOnly:
        failure = None

        def step(self, record) -> None: ...

        def event(self, net, kind, **info) -> None: ...

    assert not isinstance(StepsOnly(), Sink)
