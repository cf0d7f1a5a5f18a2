"""The messages between server processes: each kind survives its encoding, malformed ones are
refused."""

from __future__ import annotations

import msgspec
import pytest

from proctor_server.cluster import signals as s
from shared.vocabulary import FinishReason

SIGNALS: list[s.Signal] = [
    s.Event(origin="a", n=1, exam="e1", frame='{"type":"joined"}'),
    s.Watching(origin="a", n=2, exams=["e1", "e2"]),
    s.Watching(origin="a", n=3, exams=[]),
    s.Entered(origin="b", n=4, exam="e1", attempt="x"),
    s.Finished(origin="b", n=5, exam="e1", attempt="x", reason=FinishReason.TIME_UP),
    s.Finished(origin="b", exam="e1", attempt="x", reason=FinishReason.TERMINATED, note="phone"),
    s.IdentityAccepted(origin="c", exam="e1", attempt="x"),
    s.DeadlineMoved(origin="c", exam="e1", attempt="x"),
    s.Deliver(origin="c", exam="e1", attempt="x", ref="r1", message='{"type":"notice"}'),
    s.Delivered(origin="d", ref="r1"),
]


@pytest.mark.parametrize("signal", SIGNALS, ids=lambda x: type(x).__name__)
def test_each_signal_survives_its_encoding(signal: s.Signal) -> None:
    assert s.decode(s.encode(signal)) == signal


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        '{"t":"nonsense","origin":"a"}',
        '{"t":"finished","origin":"a","exam":"e","attempt":"x","reason":"bored"}',
        '{"t":"entered","origin":"a","exam":"e"}',
        '{"t":"event","exam":"e","frame":"{}"}',
    ],
)
def test_malformed_payloads_are_refused(payload: str) -> None:
    with pytest.raises((msgspec.ValidationError, msgspec.DecodeError)):
        s.decode(payload)
