"""One microphone, several readers: each subscription hears every sample once, in order, a
failing device ends them all, closing one wakes its blocked read, and nothing is read while
nobody listens."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from proctor_client.devices.base import DeviceError
from proctor_client.devices.microphones import (
    SharedMicrophone,
    ToneMicrophone,
    open_shared_microphone,
)
from shared.errors import ConfigError


class CountingMicrophone:
    """Samples 0, 1, 2 ... (mod 2^15) in real time; fails after `fail_after` reads."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.position = 0
        self.reads = 0
        self.fail_after = fail_after
        self.closed = False
        self._tone = ToneMicrophone()  # only for its pacing

    @property
    def name(self) -> str:
        return "Counting"

    @property
    def sample_rate(self) -> int:
        return 16_000

    def read(self, count: int) -> np.ndarray:
        self._tone._pacer.wait(count)
        self.reads += 1
        if self.fail_after is not None and self.reads > self.fail_after:
            raise DeviceError("unplugged")
        n = np.arange(self.position, self.position + count) % 32768
        self.position += count
        return n.astype(np.int16)

    def close(self) -> None:
        self.closed = True


def _steps(samples: np.ndarray) -> np.ndarray:
    """Differences between neighbours, modulo the counter's wrap."""
    diffs: np.ndarray = np.diff(samples.astype(np.int64))
    steps: np.ndarray = np.mod(diffs, 32768)
    return steps


def test_two_readers_each_hear_every_sample_in_order() -> None:
    shared = SharedMicrophone(CountingMicrophone())
    a, b = shared.subscribe(), shared.subscribe()
    try:
        first = [a.read(1600) for _ in range(3)]
        second = [b.read(800) for _ in range(6)]
    finally:
        shared.close()
    heard_a, heard_b = np.concatenate(first), np.concatenate(second)
    assert np.array_equal(_steps(heard_a), np.ones(4799))
    # b subscribed with a (same first buffer) and keeps up to 2 s: it heard the same samples
    assert np.array_equal(heard_a, heard_b)
    assert a.sample_rate == 16_000 and a.name == "Counting"


def test_a_failing_device_ends_every_reader_and_a_new_one_tries_again() -> None:
    device = CountingMicrophone(fail_after=3)
    shared = SharedMicrophone(device)
    a, b = shared.subscribe(), shared.subscribe()
    for sub in (a, b):
        with pytest.raises(DeviceError, match="unplugged"):
            sub.read(16_000)
    assert a.ended and b.ended
    device.fail_after = None
    c = shared.subscribe()
    assert c.read(320).size == 320
    shared.close()
    assert device.closed


def test_closing_a_subscription_wakes_its_read_and_stops_the_device() -> None:
    shared = SharedMicrophone(CountingMicrophone())
    sub = shared.subscribe()
    outcome: list[BaseException] = []

    def reader() -> None:
        try:
            sub.read(16_000 * 60)  # a minute: never arrives
        except DeviceError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    sub.close()
    thread.join(timeout=5)
    assert not thread.is_alive() and len(outcome) == 1
    reading = shared._thread
    if reading is not None:
        reading.join(timeout=2)  # the reader ends within one buffer of the last close
    assert not shared.reading
    shared.close()


def test_a_slow_reader_keeps_only_the_newest_samples() -> None:
    shared = SharedMicrophone(CountingMicrophone(), backlog_s=0.1)
    sub = shared.subscribe()
    try:
        sub.read(320)
        threading.Event().wait(0.5)  # a reader busy elsewhere for half a second
        assert sub.dropped > 0
        kept = sub.read(1600)  # 0.1 s: the newest, still in order
        assert np.array_equal(_steps(kept), np.ones(1599))
    finally:
        shared.close()


@pytest.mark.parametrize(
    ("spec", "opened"), [("tone", True), ("silence", True), ("tone:440", True)]
)
def test_the_apps_microphone_opens_from_the_option(spec: str, opened: bool) -> None:
    shared, problem = open_shared_microphone(spec)
    assert (shared is not None) == opened and (problem == "") == opened
    if shared is not None:
        shared.close()


def test_a_missing_file_is_a_mistake_in_the_command_line() -> None:
    with pytest.raises(ConfigError):
        open_shared_microphone("/no/such/file.wav")
