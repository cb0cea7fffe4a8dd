"""Modal overlays: the idle countdown, the staff PIN (F12) and the relative's card PIN."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from screens.base import BigButton
from screens.i18n import N_, _
from screens.messages import reason_text
from screens.widgets.keypad import Keypad

if TYPE_CHECKING:
    from screens.app import KioskApp


class IdleWarning(ModalScreen[None]):
    CSS_PATH = "styles/overlays.tcss"

    def __init__(self, seconds: int) -> None:
        super().__init__()
        self.seconds = seconds

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(_("Are you still there?"), classes="dialog-title")
            yield Static(self._text(), id="countdown")
            yield BigButton(_("Continue"), id="continue", variant="primary")

    def _text(self) -> str:
        return _("Touch the screen to continue. Ending in {seconds} seconds.").format(seconds=self.seconds)

    def show(self, seconds: int) -> None:
        self.seconds = seconds
        for countdown in self.query("#countdown").results(Static):  # none yet if the tick beats compose
            countdown.update(self._text())

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        if event.button.id == "continue":
            self.dismiss()


class _PinOverlay(ModalScreen[None]):
    CSS_PATH = "styles/overlays.tcss"
    prompt = ""

    def __init__(self) -> None:
        super().__init__()
        self.digits = ""

    @property
    def kiosk(self) -> KioskApp:
        from screens.app import KioskApp

        assert isinstance(self.app, KioskApp)  # noqa: S101
        return self.app

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(_(self.prompt), classes="dialog-title")
            yield Static(self._dots(), id="pin")
            yield Static("", id="error")
            yield Keypad(id="keypad")
            with Horizontal(id="actions"):
                yield BigButton(_("Cancel"), id="cancel")
                yield BigButton(_("OK"), id="ok", variant="primary")

    def on_keypad_pressed(self, event: Keypad.Pressed) -> None:
        if event.key == "back":
            self.digits = self.digits[:-1]
        elif event.key == "clear":
            self.digits = ""
        elif event.key.isdigit() and len(self.digits) < 6:
            self.digits += event.key
        self.query_one("#pin", Static).update(self._dots())

    def _dots(self) -> str:
        return " ".join("●" if i < len(self.digits) else "○" for i in range(6))

    def on_key(self, event: Any) -> None:
        if len(event.key) == 1 and event.key.isdigit():
            self.on_keypad_pressed(Keypad.Pressed(self.query_one(Keypad), event.key))
        elif event.key == "enter":
            self.submit()

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss()
        elif event.button.id == "ok":
            self.submit()

    def submit(self) -> None:
        raise NotImplementedError


class StaffPin(_PinOverlay):
    prompt = N_("Staff PIN")

    def submit(self) -> None:
        pin, self.digits = self.digits, ""
        if not self.kiosk.staff_pin_entered(pin):
            self.query_one("#error", Static).update(reason_text("staff_pin_wrong"))
            self.query_one("#pin", Static).update(self._dots())


class RelativePin(_PinOverlay):
    """Stays open on a wrong PIN (with the tries left) so the relative can type it again; closes when the
    card is accepted or cannot be used."""

    prompt = N_("The relative enters the PIN of their own card")

    def submit(self) -> None:
        pin, self.digits = self.digits, ""
        self.query_one("#pin", Static).update(self._dots())
        if len(pin) != 6:
            self.query_one("#error", Static).update(_("The PIN has 6 digits."))
            return
        self.query_one("#error", Static).update("")
        self.kiosk.check_relative_pin(pin, self)

    def wrong_pin(self, tries_left: int) -> None:
        self.query_one("#error", Static).update(reason_text("pin_wrong", {"tries_left": tries_left}))
