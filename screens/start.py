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
from screens.i18n import LANGS, N_, _, language, translate
from screens.messages import reason_text
from screens.widgets.digits import PIN, DigitEntry
from screens.widgets.prose import Prose

TAKE_CARD = N_("Please take your card.")


def both(message: str) -> list[str]:
    """`message` in the screen's language, then in the other one."""
    first = language()
    return [translate(message, lang) for lang in sorted(LANGS, key=lambda lang: lang != first)]


NOTICES = {
    "card_pulled_nothing_sent": N_("The card was taken out. Nothing was submitted."),
    "card_pulled_partly_saved": N_(
        "The card was taken out. What you confirmed is saved; the step you were on was not submitted."
    ),
    "card_pulled_while_saving": N_(
        "The card was taken out while saving your request. If you saw no receipt, please ask the staff."
    ),
}
"""How the last visit ended, said on the attract screen for a while (the app's `notice`)."""


class AttractScreen(KioskScreen):
    """Waiting for a card; "reading your card" the moment one goes in; "take your card" after a visit while
    it is still in the slot; and a word on how the last visit ended, when it ended badly."""

    CSS_PATH = "styles/attract.tcss"
    heading = N_("Family mutual aid of the medical insurance account")

    def body(self) -> ComposeResult:
        app = self.kiosk
        if app.reader_lost:  # no invitation to insert a card that cannot be read
            yield Static(reason_text(Reason.READER_UNAVAILABLE), id="reader-lost")
            return
        if app.reading:
            yield Static(_("Reading your card, please wait…"), id="prompt", classes="reading")
            return
        # Said to the citizen who is leaving, after the visit has gone back to Chinese: in both languages.
        if app.notice is not None:
            key = app.notice[0]
            yield Static("\n".join(both(NOTICES[key]) if key in NOTICES else [reason_text(key)]), id="notice")
        if app.card_in:
            yield Static("\n".join(both(TAKE_CARD)), id="prompt", classes="take-card")
            return
        yield Static(_("Please insert your social security card"), id="prompt")
        yield Static(
            _("Share your personal account with your spouse, parents, children and other close relatives."),
            id="lead",
        )

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Guides"), id="guides", classes="small")

    def on_mount(self) -> None:
        for name in ("reader_lost", "reading", "card_in", "notice"):
            self.watch(self.app, name, self._reader_changed, init=False)

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
        self.composed()

    def composed(self) -> None:
        tries = self.session.pin_tries_left
        if self.session.pin_wrong and tries is not None:
            self.show_error(Reason.PIN_LAST_TRY if tries == 1 else Reason.PIN_WRONG, {"tries_left": tries})
        elif tries == 1:  # the card says so before any try in this visit
            self.show_error_text(
                _("Careful: one try left. A wrong PIN locks the card. If unsure, ask the staff.")
            )

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

    def __init__(
        self,
        key: str,
        params: dict[str, Any] | None = None,
        *,
        offer_menu: bool = False,
        offer_shared: bool = False,
    ) -> None:
        """`offer_shared`: someone who cannot share their own account, but with whom another shares theirs,
        may see those bindings and end one."""
        super().__init__()
        self.key, self.params = key, params or {}
        self.offer_menu, self.offer_shared = offer_menu, offer_shared

    def body(self) -> ComposeResult:
        yield Static(reason_text(self.key, self.params), id="message")
        if reason_of(self.key) in self.STAFF_CAN_HELP:
            yield Static(_("The staff counter can help you."), id="help")
        if self.offer_shared:
            yield Static(
                _("Someone shares their account with you. You can see it or end it."), id="shared-hint"
            )
        with Horizontal(id="actions"):
            if self.offer_menu:
                yield BigButton(_("Back to menu"), id="menu")
            if self.offer_shared:
                yield BigButton(_("Accounts shared with me"), id="shared")
            yield BigButton(_("Finish"), id="finish", variant="primary")

    @on(Button.Pressed, "#shared")
    def _shared(self) -> None:
        self.run_step(self.session.show_bindings)

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
