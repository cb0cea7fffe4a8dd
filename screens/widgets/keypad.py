"""An on-screen keypad with large buttons; taps arrive as a Pressed message (never focusable)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Grid
from textual.message import Message
from textual.widgets import Button

from screens.i18n import _


class KeypadButton(Button, can_focus=False):
    """A key: no focus (the keypad is driven by touch and the physical keys), no press animation delay."""


class Keypad(Grid):
    """Digits 0-9 plus optional X (ID numbers), backspace and clear (DigitEntry holds one and does the
    typing)."""

    @dataclass
    class Pressed(Message):
        """A key was tapped."""

        keypad: Keypad
        key: str  # "0".."9", "X", "back", "clear"

    def __init__(self, *, with_x: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="keypad")
        self.with_x = with_x

    def compose(self) -> ComposeResult:
        for key in "123456789":
            yield self._button(key, key)
        yield self._button("X" if self.with_x else "clear", "X" if self.with_x else _("Clear"))
        yield self._button("0", "0")
        yield self._button("back", _("Delete"))

    def _button(self, key: str, label: str) -> KeypadButton:
        button = KeypadButton(label, id=f"key-{key}", classes="key")
        button.active_effect_duration = 0
        return button

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id and event.button.id.startswith("key-"):
            self.post_message(self.Pressed(self, event.button.id.removeprefix("key-")))
