"""One digit-entry field for every number a citizen types: card PIN, SMS code, ID number, relative's PIN."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import var
from textual.widgets import Static

from screens.widgets.keypad import Keypad


@dataclass(frozen=True)
class DigitFormat:
    """What may be typed into an entry and how it shows."""

    length: int
    """How many characters the number has; more are not taken."""
    x_last: bool = False
    """ID numbers: X may be the last character (a check digit of 10), and the keypad has an X key."""
    mask: str | None = None
    """Secrets (PINs): every typed character shows as this, never itself."""
    blank: str = "_"
    """What a place not typed yet shows, so one can see how much is left."""
    groups: tuple[int, ...] = ()
    """Places per group, a space between groups; () puts a space between every two places."""

    def accepts(self, typed: str, key: str) -> bool:
        """May `key` (one character) follow `typed`?"""
        if len(typed) >= self.length:
            return False
        return key.isdigit() or (self.x_last and key == "X" and len(typed) == self.length - 1)

    def show(self, typed: str) -> str:
        places = [self.mask or ch for ch in typed] + [self.blank] * (self.length - len(typed))
        if not self.groups:
            return " ".join(places)
        shown, start = [], 0
        for size in self.groups:
            shown.append("".join(places[start : start + size]))
            start += size
        return " ".join(shown)


PIN = DigitFormat(6, mask="●", blank="○")
SMS_CODE = DigitFormat(6)
# grouped 6-8-4 like the digits on the card: area, birth date, sequence and check digit
ID_NUMBER = DigitFormat(18, x_last=True, groups=(6, 8, 4))

ClearOnSubmit = Literal["never", "always", "if_complete"]
"""What a submit does to what is typed. It happens at once, in the entry: keys typed right after Enter
belong to the next try, never to the one being sent."""


class DigitEntry(Vertical, can_focus=True):
    """The typed characters (masked or grouped) over an on-screen keypad. It takes focus when mounted, so
    the keyboard's digits (and x for an ID number), Backspace and Enter reach it; keypad taps do too.
    Every change posts `Changed`; Enter posts `Submitted` (the screen's OK button does what Enter does)."""

    @dataclass
    class Changed(Message):
        """What is typed changed (a character added or deleted, or everything cleared)."""

        entry: DigitEntry
        value: str

        @property
        def control(self) -> DigitEntry:
            return self.entry

    @dataclass
    class Submitted(Message):
        """Enter (or the screen's OK) with what was typed, complete or not (the screen says what is
        missing)."""

        entry: DigitEntry
        value: str
        complete: bool

        @property
        def control(self) -> DigitEntry:
            return self.entry

    DEFAULT_CSS = """
    DigitEntry { height: auto; }
    """

    value: var[str] = var("", init=False)

    def __init__(
        self,
        fmt: DigitFormat,
        *,
        display_id: str,
        clear_on_submit: ClearOnSubmit = "never",
        error_line: bool = False,
        id: str | None = None,
    ) -> None:
        """`display_id` names the line of typed characters for the screen's stylesheet. `error_line` puts
        an `#error` line between it and the keypad (the overlays have no frame with an error line)."""
        super().__init__(id=id, classes="digit-entry")
        self.format = fmt
        self.display_id = display_id
        self.clear_on_submit = clear_on_submit
        self.error_line = error_line

    @property
    def complete(self) -> bool:
        return len(self.value) == self.format.length

    def compose(self) -> ComposeResult:
        yield Static(self.format.show(self.value), id=self.display_id)
        if self.error_line:
            yield Static("", id="error")
        yield Keypad(with_x=self.format.x_last, id="keypad")

    def on_mount(self) -> None:
        self.focus()

    def press(self, key: str) -> None:
        """A keypad key: a character, "back" or "clear". A character the format refuses is ignored."""
        if key == "back":
            self.value = self.value[:-1]
        elif key == "clear":
            self.value = ""
        elif self.format.accepts(self.value, key):
            self.value += key

    def submit(self) -> None:
        value, complete = self.value, self.complete
        if self.clear_on_submit == "always" or (self.clear_on_submit == "if_complete" and complete):
            self.value = ""
        self.post_message(self.Submitted(self, value, complete))

    def watch_value(self, value: str) -> None:
        self.query_one(f"#{self.display_id}", Static).update(self.format.show(value))
        self.post_message(self.Changed(self, value))

    @on(Keypad.Pressed)
    def _keypad(self, event: Keypad.Pressed) -> None:
        event.stop()
        self.press(event.key)

    def on_key(self, event: events.Key) -> None:
        if event.key == "backspace":
            self.press("back")
        elif event.key == "enter":
            self.submit()
        elif len(event.key) == 1 and (event.key.isdigit() or event.key in "xX"):
            self.press(event.key.upper())
        else:
            return
        event.stop()
        event.prevent_default()
