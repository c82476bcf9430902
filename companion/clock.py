"""Time is injected: everything asks a Clock, nothing reads the wall clock deep inside logic."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in local time."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never jumps."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now().astimezone()

    def monotonic(self) -> float:
        return time.monotonic()


class FixedClock:
    """A clock that only moves when told to (used by tests and dry runs)."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = start
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move on by real elapsed seconds (across DST changes, as a real clock does)."""
        tz = self._now.tzinfo
        self._now = (self._now.astimezone(UTC) + timedelta(seconds=seconds)).astimezone(tz)
        self._mono += seconds

    def set(self, when: datetime) -> None:
        self._now = when
