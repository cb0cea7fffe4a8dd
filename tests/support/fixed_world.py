"""The names the screen snapshots' fixed world (``tests/snapshots/conftest.py``) shares with its tests."""

from __future__ import annotations

from collections.abc import Callable

from screens.app import KioskApp

AREA = "330100"  # Hangzhou (its policy is POLICY in the conftest)

MakeKiosk = Callable[..., KioskApp]  # the `make_kiosk` fixture: `make_kiosk(demo=False)` → a fresh app
