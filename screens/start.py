"""Attract, PIN and message screens: the start of every visit and the ends that are not a success."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Static

from kiosk.api import Reason, reason_of
from screens.base import BigButton, KioskScreen
from screens.i18n import LANGS, N_, _, translate
from screens.messages import reason_text
from screens.widgets.digits import PIN, DigitEntry
from screens.widgets.prose import Prose


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

    def on_mount(self) -> None:
        self.watch(self.app, "reader_lost", self._reader_changed, init=False)

    def _reader_changed(self) -> None:
        if self.is_current:
            self.refresh(recompose=True)

    @on(Button.Pressed, "#guides")
    def _guides(self) -> None:
        self.show_step(self.session.show_guides)


class PinScreen(KioskScreen):
    """The card PIN on an on-screen keypad, shown as dots; tries left after a wrong PIN."""

    CSS_PATH = "styles/pin.tcss"
    heading = N_("Enter your card PIN")

    @dataclass
    class Entered(Message):
        """The holder's 6-digit PIN, for the card in the reader."""

        pin: str

    def body(self) -> ComposeResult:
        yield Prose(_("Cover the keypad with your hand. The PIN has 6 digits."), id="hint")
        yield DigitEntry(PIN, display_id="pin", clear_on_submit="if_complete", id="entry")
        with Horizontal(id="actions"):
            yield BigButton(_("Cancel"), id="cancel")
            yield BigButton(_("OK"), id="ok", variant="primary")

    def on_mount(self) -> None:
        if self.session.pin_tries_left is not None:
            self.show_error(Reason.PIN_WRONG, {"tries_left": self.session.pin_tries_left})

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.query_one(DigitEntry).submit()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.finish()

    @on(DigitEntry.Submitted)
    def _submitted(self, event: DigitEntry.Submitted) -> None:
        if not event.complete:
            self.show_error_text(_("The PIN has 6 digits."))
            return
        self.post_message(self.Entered(event.value))


class MessageScreen(KioskScreen):
    """A plain sentence and one way on: ineligible, blocked card, or any stop in the flow."""

    CSS_PATH = "styles/message.tcss"
    heading = N_("Notice")

    STAFF_CAN_HELP: ClassVar[frozenset[Reason]] = frozenset(
        {Reason.HOLDER_STATUS_NOT_NORMAL, Reason.HOLDER_NOT_EMPLOYEE_INSURED, Reason.HOLDER_TOO_YOUNG}
    )

    def __init__(self, key: str, params: dict[str, Any] | None = None, *, offer_menu: bool = False) -> None:
        super().__init__()
        self.key, self.params, self.offer_menu = key, params or {}, offer_menu

    def body(self) -> ComposeResult:
        yield Static(reason_text(self.key, self.params), id="message")
        if reason_of(self.key) in self.STAFF_CAN_HELP:
            yield Static(_("The staff counter can help you."), id="help")
        yield Static(_("Please take your card with you."), id="take-card")
        with Horizontal(id="actions"):
            if self.offer_menu:
                yield BigButton(_("Back to menu"), id="menu")
            yield BigButton(_("Finish"), id="finish", variant="primary")

    @on(Button.Pressed, "#finish")
    def _finish(self) -> None:
        self.finish()

    @on(Button.Pressed, "#menu")
    def _menu(self) -> None:
        self.back_to_menu()


OUT_OF_SERVICE = N_("This terminal is out of service. Please ask the staff for help.")


class OutOfServiceScreen(Screen[None]):
    """After a fault: the notice in both languages and nothing to tap. It reads no session and no app
    state, so that it can be drawn whatever broke."""

    DEFAULT_CSS = """
    OutOfServiceScreen { align: center middle; }
    OutOfServiceScreen Static { width: auto; text-style: bold; margin: 1 2; }
    """

    def compose(self) -> ComposeResult:
        for lang in LANGS:
            yield Static(translate(OUT_OF_SERVICE, lang), classes="out-of-service")
