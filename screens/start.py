"""Attract, PIN and message screens: the start of every visit and the ends that are not a success."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from kiosk.api import Reason, reason_of
from screens.base import BigButton, KioskScreen
from screens.i18n import N_, _
from screens.messages import reason_text
from screens.widgets.keypad import Keypad


class AttractScreen(KioskScreen):
    CSS_PATH = "styles/attract.tcss"
    heading = N_("Family mutual aid of the medical insurance account")

    def body(self) -> ComposeResult:
        if self.kiosk.reader_lost:  # no invitation to insert a card that cannot be read
            yield Static(reason_text(Reason.READER_UNAVAILABLE), id="reader-lost")
            return
        yield Static(_("Please insert your social security card"), id="prompt")
        yield Static(
            _("Share your personal account with your spouse, parents, children and other close relatives."),
            id="lead",
        )

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Guides"), id="guides", classes="small")

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        if event.button.id == "guides":
            self.session.show_guides()
            self.kiosk.go()


class PinScreen(KioskScreen):
    """The card PIN on an on-screen keypad, shown as dots; tries left after a wrong PIN."""

    CSS_PATH = "styles/pin.tcss"
    heading = N_("Enter your card PIN")
    LENGTH: ClassVar[int] = 6

    def __init__(self) -> None:
        super().__init__()
        self.digits = ""

    def body(self) -> ComposeResult:
        yield Static(_("Cover the keypad with your hand. The PIN has 6 digits."), id="hint")
        yield Static(self._dots(), id="pin")
        yield Keypad(id="keypad")
        with Horizontal(id="actions"):
            yield BigButton(_("Cancel"), id="cancel")
            yield BigButton(_("OK"), id="ok", variant="primary")

    def _dots(self) -> str:
        return " ".join("●" if i < len(self.digits) else "○" for i in range(self.LENGTH))

    def on_mount(self) -> None:
        super().on_mount()
        if self.session.pin_tries_left is not None:
            self.show_error(Reason.PIN_WRONG, {"tries_left": self.session.pin_tries_left})

    def on_keypad_pressed(self, event: Keypad.Pressed) -> None:
        self.type_key(event.key)

    def on_key(self, event: Any) -> None:
        if event.key.isdigit() and len(event.key) == 1:
            self.type_key(event.key)
        elif event.key == "backspace":
            self.type_key("back")
        elif event.key == "enter":
            self.submit()

    def type_key(self, key: str) -> None:
        if key == "back":
            self.digits = self.digits[:-1]
        elif key == "clear":
            self.digits = ""
        elif key.isdigit() and len(self.digits) < self.LENGTH:
            self.digits += key
        self.query_one("#pin", Static).update(self._dots())

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        if event.button.id == "ok":
            self.submit()
        elif event.button.id == "cancel":
            self.kiosk.finish()

    def submit(self) -> None:
        if len(self.digits) != self.LENGTH:
            self.query_one("#error", Static).update(_("The PIN has 6 digits."))
            return
        pin, self.digits = self.digits, ""
        self.query_one("#pin", Static).update(self._dots())
        self.kiosk.check_pin(pin)


class MessageScreen(KioskScreen):
    """A plain sentence and one way on: ineligible, blocked card, or any stop in the flow."""

    CSS_PATH = "styles/message.tcss"
    heading = N_("Notice")

    STAFF_CAN_HELP: ClassVar[frozenset[Reason]] = frozenset(
        {Reason.HOLDER_STATUS_NOT_NORMAL, Reason.HOLDER_NOT_EMPLOYEE_INSURED, Reason.HOLDER_TOO_YOUNG}
    )

    def __init__(self, key: str, params: dict[str, Any] | None = None, *, back_to_menu: bool = False) -> None:
        super().__init__()
        # `with_menu`, not `back_to_menu`: that name is the inherited method the "menu" button calls
        self.key, self.params, self.with_menu = key, params or {}, back_to_menu

    def body(self) -> ComposeResult:
        yield Static(reason_text(self.key, self.params), id="message")
        if reason_of(self.key) in self.STAFF_CAN_HELP:
            yield Static(_("The staff counter can help you."), id="help")
        yield Static(_("Please take your card with you."), id="take-card")
        with Horizontal(id="actions"):
            if self.with_menu:
                yield BigButton(_("Back to menu"), id="menu")
            yield BigButton(_("Finish"), id="finish", variant="primary")

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        if event.button.id == "finish":
            self.kiosk.finish()
        elif event.button.id == "menu":
            self.back_to_menu()
