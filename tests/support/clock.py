"""Clocks the test moves by hand: wall-clock datetimes (`Clock`) and monotonic seconds (`ManualClock`)."""

from __future__ import annotations

import datetime as dt


class Clock:
    """Stands still until `advance` moves it, so a deadline passes when the test says, not when a busy
    machine gets round to it."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


class ManualClock:
    """A monotonic clock (seconds, as `time.monotonic`) that stands still until the test moves it: the app's
    idle timer, the staff PIN's lock-out."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
