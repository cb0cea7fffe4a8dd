"""A clock the test moves by hand, for code that takes its time from a `Callable[[], datetime]`."""

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
