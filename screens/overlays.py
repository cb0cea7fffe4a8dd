"""Modal overlays: the idle countdown, the staff PIN (F12) and the relative's card PIN."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from screens.base import BigButton
from screens.i18n import N_, _
from screens.messages import reason_text
from screens.widgets.digits import PIN, DigitEntry


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
        return _("Touch the screen to continue. Ending in {seconds} s.").format(seconds=self.seconds)

    def show(self, seconds: int) -> None:
        self.seconds = seconds
        for countdown in self.query("#countdown").results(Static):  # none yet if the tick beats compose
            countdown.update(self._text())

    @on(Button.Pressed, "#continue")
    def _continue(self) -> None:
        self.dismiss()


class _PinOverlay(ModalScreen[None]):
    """A 6-digit PIN over the current screen; `submit` says what the PIN is for."""

    CSS_PATH = "styles/overlays.tcss"
    prompt: ClassVar[str] = ""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(_(self.prompt), classes="dialog-title")
            # a PIN is typed afresh after every try
            yield DigitEntry(PIN, display_id="pin", clear_on_submit="always", error_line=True, id="entry")
            with Horizontal(id="actions"):
                yield BigButton(_("Cancel"), id="cancel")
                yield BigButton(_("OK"), id="ok", variant="primary")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.query_one(DigitEntry).submit()

    @on(DigitEntry.Submitted)
    def _submitted(self, event: DigitEntry.Submitted) -> None:
        self.submit(event.value, complete=event.complete)

    def submit(self, pin: str, *, complete: bool) -> None:
        raise NotImplementedError

    def show_error_text(self, text: str) -> None:
        for line in self.query("#error").results(Static):  # none yet if the app's tick beats compose
            line.update(text)


class StaffPin(_PinOverlay):
    """Opaque and full screen, unlike the other overlays: staff may press F12 during a citizen's visit, and
    nothing of that visit (a name, an ID number) may show while they type. The visit stays as it was under
    it: Cancel or a wrong PIN goes back to it. While the PIN is locked out (`kiosk.staff.PinThrottle`) it
    says for how long; the app counts that down every second."""

    prompt = N_("Staff PIN")

    @dataclass
    class Entered(Message):
        """A staff PIN to check; right, the app exits."""

        overlay: StaffPin
        pin: str

    def __init__(self, locked_for_s: int = 0) -> None:
        super().__init__()
        self.locked_for_s = locked_for_s

    def on_mount(self) -> None:
        if self.locked_for_s:
            self.show_error_text(self._locked_text())

    def submit(self, pin: str, *, complete: bool) -> None:
        self.post_message(self.Entered(self, pin))

    def wrong_pin(self) -> None:
        self.show_error_text(reason_text("staff_pin_wrong"))

    def locked_out(self, seconds: int) -> None:
        """The PIN cannot be tried for `seconds` more (0: it can again, and the notice goes)."""
        if seconds == self.locked_for_s == 0:
            return  # not locked, and was not: a "wrong PIN" line stays
        self.locked_for_s = seconds
        self.show_error_text(self._locked_text() if seconds else "")

    def _locked_text(self) -> str:
        return _("Too many wrong PINs. Try again in {seconds} seconds.").format(seconds=self.locked_for_s)


class RelativePin(_PinOverlay):
    """Stays open on a wrong PIN (with the tries left) so the relative can type it again; closes when the
    card is accepted or cannot be used."""

    prompt = N_("The relative enters the PIN of their own card")

    @dataclass
    class Entered(Message):
        """The relative's 6-digit PIN, for the card in the second slot."""

        overlay: RelativePin
        pin: str

    def submit(self, pin: str, *, complete: bool) -> None:
        if not complete:
            self.show_error_text(_("The PIN has 6 digits."))
            return
        self.show_error_text("")
        self.post_message(self.Entered(self, pin))

    def wrong_pin(self, tries_left: int) -> None:
        self.show_error_text(reason_text("pin_wrong", {"tries_left": tries_left}))
