"""Quotas per attempt: how fast a candidate may write, and how much evidence one attempt may
store. Pure token buckets over `now`; the session asks before it stores anything.

An honest app sends a snapshot every `snapshot_interval_s` seconds, a few events a minute and
an answer every few seconds; a replay after a reconnect comes in a burst. The limits leave that
room many times over and stop a ticket holder who sends a hundred megabytes a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shared.errors import ErrorCode, RuleError


class WriteKind(StrEnum):
    ANSWER = "answer"
    EVENT = "event"
    IMAGE = "image"
    OTHER = "other"  # profile, submit, heartbeat


@dataclass(frozen=True, slots=True)
class Rate:
    per_minute: float
    burst: float  # how many may come at once (a replay after a reconnect)


@dataclass(frozen=True, slots=True)
class Limits:
    rates: dict[WriteKind, Rate]
    image_bytes_per_minute: float  # bytes of images a minute, after the burst
    image_bytes_burst: float
    stored_bytes: int  # evidence one attempt may keep in all

    @classmethod
    def for_exam(cls, snapshot_interval_s: int) -> Limits:
        snapshots_a_minute = 60.0 / max(snapshot_interval_s, 1)
        images = max(4.0 * snapshots_a_minute, 6.0)  # four times the app's own pace
        return cls(
            rates={
                WriteKind.ANSWER: Rate(per_minute=240, burst=400),
                WriteKind.EVENT: Rate(per_minute=120, burst=200),
                WriteKind.IMAGE: Rate(per_minute=images, burst=max(images, 30)),
                WriteKind.OTHER: Rate(per_minute=120, burst=120),
            },
            image_bytes_per_minute=images * 512 * 1024,  # half a megabyte a picture
            image_bytes_burst=32 * 1024 * 1024,
            stored_bytes=512 * 1024 * 1024,
        )


@dataclass(slots=True)
class Bucket:
    rate: Rate
    level: float = -1.0  # tokens left; -1: full, not yet used
    at: datetime | None = None

    def take(self, now: datetime, amount: float = 1.0) -> bool:
        if self.level < 0 or self.at is None:
            self.level, self.at = self.rate.burst, now
        else:
            elapsed = max((now - self.at).total_seconds(), 0.0)
            self.level = min(self.rate.burst, self.level + elapsed * self.rate.per_minute / 60)
            self.at = now
        if self.level < amount:
            return False
        self.level -= amount
        return True


@dataclass(slots=True)
class AttemptQuota:
    """One attempt's quota (kept by the exam runtime across reconnects)."""

    limits: Limits
    stored: int = 0  # evidence bytes stored so far (seeded from the store)
    buckets: dict[WriteKind, Bucket] = field(default_factory=dict)
    image_bytes: Bucket | None = None

    def admit(
        self, kind: WriteKind, now: datetime, *, size: int = 0, ref: str | None = None
    ) -> None:
        """Take this write from the quota, or raise `rate_limited` / `quota_exceeded`."""
        bucket = self.buckets.get(kind)
        if bucket is None:
            bucket = self.buckets[kind] = Bucket(self.limits.rates[kind])
        if kind is WriteKind.IMAGE and self.stored + size > self.limits.stored_bytes:
            raise RuleError(
                "this attempt has stored all the images it may; no more are kept",
                code=ErrorCode.QUOTA_EXCEEDED,
                ref=ref,
            )
        if not bucket.take(now):
            raise RuleError(
                f"too many {kind.value} messages in a short time; slow down",
                code=ErrorCode.RATE_LIMITED,
                ref=ref,
            )
        if kind is WriteKind.IMAGE:
            if self.image_bytes is None:
                self.image_bytes = Bucket(
                    Rate(self.limits.image_bytes_per_minute, self.limits.image_bytes_burst)
                )
            if not self.image_bytes.take(now, size):
                raise RuleError(
                    "images are arriving faster than the exam takes them; slow down",
                    code=ErrorCode.RATE_LIMITED,
                    ref=ref,
                )

    def stored_image(self, size: int) -> None:
        self.stored += size
