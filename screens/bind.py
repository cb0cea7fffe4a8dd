"""The bind flow: letter, area, relationship, relative, confirmation of the person, verification,
confirmation of the binding, receipt."""

from __future__ import annotations

from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from kiosk.api import Reason
from kiosk.domain.idnumber import check_partial_id
from kiosk.domain.relations import relation
from kiosk.domain.settlement import format_fen
from screens.base import BigButton, KioskScreen
from screens.i18n import N_, _, language
from screens.messages import reason_text, status_text
from screens.widgets.digits import ID_NUMBER, SMS_CODE, DigitEntry
from screens.widgets.prose import Prose
from screens.widgets.qr import QRCode


class LetterScreen(KioskScreen):
    """'I have read and agree' is enabled only once the end of the letter was reached (or it all fits)."""

    CSS_PATH = "styles/letter.tcss"
    heading = N_("Commitment letter")
    step = (1, N_("letter"))

    def __init__(self) -> None:
        super().__init__()
        self.reached_end = False
        """Kept by the screen, not by its widgets: a redraw (a language switch) starts from the top of the
        letter with fresh buttons, and must neither forget the end nor enable the button before it."""

    def body(self) -> ComposeResult:
        letter = self.session.letter
        yield Static(letter.title if letter else "", id="letter-title")
        with VerticalScroll(id="letter"):
            yield Prose(letter.body if letter else "", markup=False, id="letter-body")
        yield Prose(self._hint(), id="hint")
        with Horizontal(id="actions"):
            yield BigButton(_("Back"), id="back")
            agree = BigButton(_("I have read and agree"), id="agree", variant="primary")
            agree.disabled = not self.reached_end
            yield agree

    def _hint(self) -> str:
        if self.reached_end:
            return _("You have reached the end of the letter.")
        return _("Scroll to the end of the letter to agree.")

    def on_mount(self) -> None:
        self.set_interval(0.2, self._check_end)
        self.call_after_refresh(self._check_end)

    def _check_end(self) -> None:
        # A timer's callback runs in its own task, so it can come while a redraw has removed the widgets
        # and not yet mounted the new ones (or mounted them but not laid them out): then it looks next time.
        scroll = next(self.query("#letter").results(VerticalScroll), None)
        if self.reached_end or scroll is None or not scroll.size.height or not scroll.virtual_size.height:
            return
        if scroll.max_scroll_y == 0 or scroll.scroll_y >= scroll.max_scroll_y - 0.5:
            self.reached_end = True
            for agree in self.query("#agree").results(Button):
                agree.disabled = False
            for hint in self.query("#hint").results(Static):
                hint.update(self._hint())

    @on(Button.Pressed, "#agree")
    def _agree(self) -> None:
        self.run_step(partial(self.session.accept_letter, read_to_end=self.reached_end))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.back_to_menu()


class AreaScreen(KioskScreen):
    CSS_PATH = "styles/area.tcss"
    heading = N_("Planning area")
    step = (2, N_("area"))

    def body(self) -> ComposeResult:
        yield Prose(_("Your account belongs to the area where you are insured:"), id="hint")
        with Vertical(id="choices"):
            for area in self.session.area_names:
                yield BigButton(area.name(language()), id=f"area-{area.admdvs}", variant="primary")

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Back to menu"), id="menu", classes="small")

    @on(Button.Pressed, "#choices Button")
    def _area(self, event: Button.Pressed) -> None:
        admdvs = (event.button.id or "").removeprefix("area-")
        self.run_step(partial(self.session.choose_area, admdvs))

    @on(Button.Pressed, "#menu")
    def _menu(self) -> None:
        self.back_to_menu()


class RelationScreen(KioskScreen):
    CSS_PATH = "styles/relation.tcss"
    heading = N_("Who is the relative to you?")
    step = (3, N_("relationship"))

    def body(self) -> ComposeResult:
        with Grid(id="choices"):
            for code in self.session.relations:
                yield BigButton(relation(code).name(language()), id=f"rel-{code}")

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Back to menu"), id="menu", classes="small")

    @on(Button.Pressed, "#choices Button")
    def _relation(self, event: Button.Pressed) -> None:
        code = (event.button.id or "").removeprefix("rel-")
        self.run_step(partial(self.session.choose_relation, code))

    @on(Button.Pressed, "#menu")
    def _menu(self) -> None:
        self.back_to_menu()


class RelativeScreen(KioskScreen):
    """The relative's 18-character ID number on the keypad, checked as it is typed."""

    CSS_PATH = "styles/relative.tcss"
    heading = N_("The relative's ID number")
    step = (4, N_("relative"))

    def body(self) -> ComposeResult:
        rel = relation(self.session.relation_code or "10").name(language())
        yield Prose(_("Type your {relation}'s ID number (18 characters):").format(relation=rel), id="hint")
        yield DigitEntry(ID_NUMBER, display_id="certno", id="entry")
        with Horizontal(id="actions"):
            yield BigButton(_("Back"), id="back")
            yield BigButton(_("Next"), id="next", variant="primary")

    @property
    def typed(self) -> str:
        return self.query_one(DigitEntry).value

    @on(DigitEntry.Changed)
    def _check_as_typed(self, event: DigitEntry.Changed) -> None:
        problem = check_partial_id(event.value)
        if problem:
            self.show_error_text(self._problem_text(problem))
        else:
            self.clear_error()

    @staticmethod
    def _problem_text(reason: str) -> str:
        return {
            "checksum": _("The last character does not match. Please check the number."),
            "component": _("The birth date or area in this number is not possible."),
            "format": _("Only digits, and X as the last character."),
            "length": _("An ID number has 18 characters."),
        }.get(reason, reason_text(Reason.INVALID_ID_NUMBER))

    @on(DigitEntry.Submitted)
    def _submitted(self, event: DigitEntry.Submitted) -> None:
        if not event.complete:
            self.show_error_text(self._problem_text("length"))
            return
        self.run_step(partial(self.session.enter_relative, event.value))

    @on(Button.Pressed, "#next")
    def _next(self) -> None:
        self.query_one(DigitEntry).submit()

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.run_step(self.session.back_to_relation)


class RelativeConfirmScreen(KioskScreen):
    CSS_PATH = "styles/confirm.tcss"
    heading = N_("Is this the right person?")
    step = (5, N_("check"))

    def body(self) -> ComposeResult:
        r = self.session.relative_summary()
        yield Static(
            _("{name}, {age} years old, your {relation}").format(
                name=r.name_masked, age=r.age, relation=r.relation
            ),
            id="summary",
        )
        yield Static(_("ID number: {certno}").format(certno=r.certno_masked), id="detail")
        with Horizontal(id="actions"):
            yield BigButton(_("No, re-enter"), id="no")
            yield BigButton(_("Yes, this is the person"), id="yes", variant="primary")

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.run_step(partial(self.session.confirm_relative, True))

    @on(Button.Pressed, "#no")
    def _no(self) -> None:
        self.run_step(partial(self.session.confirm_relative, False))


class VerifyScreen(KioskScreen):
    """SMS code to the relative's registered phone and/or the relative's own card, per the area's rule."""

    CSS_PATH = "styles/verify.tcss"
    heading = N_("The relative confirms")
    step = (6, N_("confirmation"))

    def body(self) -> ComposeResult:
        needed = self.session.needed_verification()
        summary = self.session.relative_summary()
        if "card" in needed and not self.session.relative_card_verified:
            yield Static(
                _("Insert the relative's own social security card in the second slot."), id="card-hint"
            )
        if "sms" in needed and not self.session.otp_verified:
            phone = summary.phone_masked or "—"
            if self.session.otp is None:
                yield Prose(
                    _("We will send a code to the relative's phone {phone}.").format(phone=phone), id="hint"
                )
                yield BigButton(_("Send the code"), id="send", variant="primary")
            else:
                yield Prose(_("Type the 6-digit code sent to {phone}:").format(phone=phone), id="hint")
                yield DigitEntry(SMS_CODE, display_id="code", clear_on_submit="always", id="entry")
                with Horizontal(id="actions"):
                    yield BigButton(_("Send again"), id="send")
                    yield BigButton(_("OK"), id="ok", variant="primary")

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Back to menu"), id="menu", classes="small")

    @property
    def code(self) -> str:
        """The SMS code typed so far ("" before it is sent)."""
        entries = self.query(DigitEntry)
        return entries.first().value if entries else ""

    @on(Button.Pressed, "#menu")
    def _menu(self) -> None:
        self.back_to_menu()

    @on(Button.Pressed, "#send")
    def _send(self) -> None:
        self.run_step(self.session.send_sms, stay=True)

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.query_one(DigitEntry).submit()

    @on(DigitEntry.Submitted)
    def _submitted(self, event: DigitEntry.Submitted) -> None:
        self.run_step(partial(self.session.verify_sms, event.value), stay=True)


class ConfirmScreen(KioskScreen):
    CSS_PATH = "styles/confirm.tcss"
    heading = N_("Confirm the binding")
    step = (7, N_("confirm"))

    def body(self) -> ComposeResult:
        s = self.session
        r = s.relative_summary()
        check = s.relative_check
        assert check is not None  # noqa: S101 - the confirm step follows the check
        area = s.area_name.name(language()) if s.area_name is not None else s.area or ""

        def cap(fen: int) -> str:
            return _("no limit") if fen == 0 else f"¥{format_fen(fen)}"

        lines = [
            _("Relative: {name}, your {relation}").format(name=r.name_masked, relation=r.relation),
            _("Area: {area}").format(area=area),
            _("Limits: {per_txn} per payment, {daily} per day, {annual} per year").format(
                per_txn=cap(check.per_txn_cap_fen),
                daily=cap(check.daily_cap_fen),
                annual=cap(check.annual_cap_fen),
            ),
            _("Valid until: {date}").format(date=check.valid_until.isoformat())
            if check.valid_until
            else _("Valid until either of you ends it"),
        ]
        yield Static("\n".join(lines), id="summary")
        with Horizontal(id="actions"):
            yield BigButton(_("Back to menu"), id="menu")
            yield BigButton(_("Confirm binding"), id="confirm", variant="success")

    @on(Button.Pressed, "#confirm")
    def _confirm(self, event: Button.Pressed) -> None:
        event.button.disabled = True  # one tap, one binding
        self.run_step(self.session.confirm)

    @on(Button.Pressed, "#menu")
    def _menu(self) -> None:
        self.back_to_menu()


class ReceiptScreen(KioskScreen):
    CSS_PATH = "styles/receipt.tcss"
    heading = N_("Receipt")

    def body(self) -> ComposeResult:
        receipt = self.session.receipt
        assert receipt is not None  # noqa: S101
        done = _("Binding submitted") if receipt.kind == "bind" else _("Unbinding submitted")
        with Horizontal(id="receipt"):
            with Vertical(id="text"):
                yield Static(done, id="done")
                yield Static(_("Receipt number: {no}").format(no=receipt.receipt_no), id="number")
                yield Static(_("Status: {status}").format(status=status_text(receipt.status)), id="state")
                if receipt.status == "pending":
                    yield Static(_("It will be sent as soon as the network is back. You will get an SMS."))
                if receipt.status == "rejected":
                    yield Static(reason_text(receipt.reason_code or ""), id="reason")
                yield Static(_("Scan the code to follow this request on your phone."), id="qr-hint")
                yield Static(_("Please take your card with you."), id="take-card")
            yield QRCode(f"FAMILY-AID:{receipt.receipt_no}", id="qr")
        with Horizontal(id="actions"):
            if receipt.kind == "bind":
                yield BigButton(_("Bind another relative"), id="another")
            else:
                yield BigButton(_("Back to menu"), id="menu")
            yield BigButton(_("Finish"), id="finish", variant="primary")

    @on(Button.Pressed, "#another")
    def _another(self) -> None:
        self.run_step(self.session.bind_another)

    @on(Button.Pressed, "#menu")
    def _menu(self) -> None:
        self.back_to_menu()

    @on(Button.Pressed, "#finish")
    def _finish(self) -> None:
        self.finish()
