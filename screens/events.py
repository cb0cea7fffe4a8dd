"""What a screen asks of the kiosk app: messages that bubble from the screen to KioskApp's `@on` handlers.

Screens never call the app: they read the session and post one of these. The app runs what blocks in its
worker, keeps the visit counter and decides which screen comes next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.screen import Screen


@dataclass
class RunStep(Message):
    """Run a session step that may block (central, the store, a card) off the UI thread, then show the
    screen of the step the session is at. A refusal is shown on `screen`'s error line instead; an answer
    that comes after the citizen left `screen` (card out, idle, Finish) is dropped."""

    screen: Screen[Any]
    """The screen that asked; the answer is for it only."""
    step: Callable[[], object]
    """The session method to run, with its arguments bound."""
    stay: bool = False
    """When the step leaves the session where it was (an SMS sent, a wrong code), redraw `screen` in place,
    keeping what was typed on it, instead of showing a fresh one."""


@dataclass
class ShowStep(Message):
    """A session change that needs no I/O (back to the menu, the guides): made now, then its screen shown."""

    change: Callable[[], object]


class FinishVisit(Message):
    """The citizen is done (Finish, Cancel): wipe the session, back to Chinese and the attract screen."""


class ToggleLanguage(Message):
    """Switch between Chinese and English; the visit keeps its place and what was typed."""
