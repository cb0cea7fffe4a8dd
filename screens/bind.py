"""The bind flow: letter, (area), relationship, relative, the relative's confirmation (with the person
shown), confirmation of the binding, receipt."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from kiosk.api import BindingCheckOut, Reason
from kiosk.domain.idnumber import check_partial_id
from kiosk.domain.relations import relation
from kiosk.domain.settlement import format_fen
from kiosk.session import RelativeSummary
from screens.base import BigButton, KioskScreen
from screens.i18n import N_, _, language
from screens.messages import reason_text
from screens.widgets.digits import ID_NUMBER, SMS_CODE, DigitEntry
from screens.widgets.prose import Prose
from screens.widgets.qr import QRCode


class LetterScreen(KioskScreen):
    """'I have read and agree' is enabled only once the end of the letter was reached (or it all fits)."""

    CSS_PATH = "styles/letter.tcss"
    AUTO_FOCUS: ClassVar[str | None] = (
        "#letter"  # PageDown, End and the arrows scroll the letter from the start
    )
    heading = N_("Commitment letter")
    step = (1, N_("letter"))

    def __init__(self) -> None:
        super().__init__()
        self.reached_end = False
        """Kept by the screen, not by its widgets: a redraw (a language switch) starts from the top of the
        letter with fresh buttons, and must neither forget the end nor enable the button before it. The
        letter agreed to is the one on the screen when "I have read and agree" is tapped."""

    def body(self) -> ComposeResult:
        letter = self.session.letter
        yield Static(letter.title if letter else "", id="letter-title")
        with VerticalScroll(id="letter"):
            yield Prose(letter.body if letter else "", markup=False, id="letter-body")
        yield Prose(self._hint(), id="hint")
        with Horizontal(id="actions"):
            yield BigButton(_("Back"), id="back")
            # a swipe does nothing on a terminal: a button turns the page for anyone who cannot drag
            more = BigButton(_("Next page ▼"), id="more")
            more.display = not self.reached_end
            yield more
            agree = BigButton(_("I have read and agree"), id="agree", variant="primary")
            agree.disabled = not self.reached_end
            yield agree

    def _hint(self) -> str:
        if self.reached_end:
            return _("You have reached the end of the letter.")
        return _("Read the letter to its end (“Next page”) to agree.")

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
            for more in self.query("#more").results(Button):
                more.display = False
            for hint in self.query("#hint").results(Static):
                hint.update(self._hint())

    @on(Button.Pressed, "#more")
    def _more(self) -> None:
        for scroll in self.query("#letter").results(VerticalScroll):
            scroll.scroll_page_down(animate=False)

    @on(Button.Pressed, "#agree")
    def _agree(self) -> None:
        self.run_step(partial(self.session.accept_letter, read_to_end=self.reached_end))

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.back_to_menu()


class AreaScreen(KioskScreen):
    CSS_PATH = "styles/area.tcss"
    heading = N_("Planning area")
    # shown only where a holder has more than one area to choose from: not a step of its own

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
    step = (2, N_("relationship"))

    def body(self) -> ComposeResult:
        bound = self.session.bound
        with Grid(id="choices"):
            for code in self.session.relations:
                name = relation(code).name(language())
                if code in bound:  # tapping it still says why, rather than a button that does nothing
                    yield BigButton(
                        _("{relation} (bound)").format(relation=name), id=f"rel-{code}", classes="bound"
                    )
                else:
                    yield BigButton(name, id=f"rel-{code}")

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
    step = (3, N_("relative"))

    def body(self) -> ComposeResult:
        rel = relation(self.session.relation_code or "10").name(language())
        yield Prose(_("Type your {relation}'s ID number (18 characters):").format(relation=rel), id="hint")
        yield DigitEntry(ID_NUMBER, display_id="certno", id="entry")
        with Horizontal(id="actions"):
            yield BigButton(_("Back"), id="back")
            yield BigButton(_("Clear"), id="clear")
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

    @on(Button.Pressed, "#clear")
    def _clear(self) -> None:
        self.type_key("clear")

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.run_step(self.session.back_to_relation)


def binding_terms(check: BindingCheckOut, area: str) -> list[str]:
    """The area, the limits and the validity of a binding, one line each (confirm page and receipt)."""

    def cap(fen: int) -> str:
        return _("no limit") if fen == 0 else f"¥{format_fen(fen)}"

    return [
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


def person_line(summary: RelativeSummary) -> str:
    """Who the relative is, masked: name, age, relation and ID number on one line."""
    return _("{name}, {age} years old, your {relation} · ID {certno}").format(
        name=summary.name_masked, age=summary.age, relation=summary.relation, certno=summary.certno_masked
    )


class VerifyScreen(KioskScreen):
    """SMS code to the relative's registered phone and/or the relative's own card, per the area's rule."""

    CSS_PATH = "styles/verify.tcss"
    heading = N_("The relative confirms")
    step = (4, N_("confirmation"))

    def body(self) -> ComposeResult:
        needed = self.session.needed_verification()
        summary = self.session.relative_summary()
        yield Static(person_line(summary), id="person")
        if "card" in needed and not self.session.relative_card_verified:
            yield Static(
                _("Insert the relative's own social security card in the second slot."), id="card-hint"
            )
        if "sms" in needed and not self.session.otp_verified:
            phone = summary.phone_masked or "—"
            if self.session.otp is None:
                yield Prose(
                    _("If this is the person, we send a code to their phone {phone}.").format(phone=phone),
                    id="hint",
                )
                with Horizontal(id="actions"):
                    yield BigButton(_("No, re-enter"), id="reenter")
                    yield BigButton(self._resend_label(), id="send", variant="primary")
            else:
                hint = (
                    _("A new code was sent to {phone}; the earlier one no longer works. Type it:")
                    if self.session.otp_resent
                    else _("Type the 6-digit code sent to {phone}:")
                )
                yield Prose(hint.format(phone=phone), id="hint")
                yield DigitEntry(SMS_CODE, display_id="code", clear_on_submit="always", id="entry")
                with Horizontal(id="actions"):
                    yield BigButton(_("No, re-enter"), id="reenter")
                    resend = BigButton(self._resend_label(), id="send")
                    resend.disabled = self.session.resend_wait_s() > 0
                    yield resend
                    yield BigButton(_("OK"), id="ok", variant="primary")
        elif "card" in needed:
            with Horizontal(id="actions"):
                yield BigButton(_("No, re-enter"), id="reenter")

    def _resend_label(self) -> str:
        """The send button's words, with the wait while central would refuse another code (before the
        first code too: one sent to that phone in an earlier visit makes central wait)."""
        wait = self.session.resend_wait_s()
        if self.session.otp is None:
            label = _("Yes, send the code")
            return label if wait <= 0 else f"{label} ({wait // 60}:{wait % 60:02d})"
        if wait <= 0:
            return _("Send again")
        return _("Send again ({wait})").format(wait=f"{wait // 60}:{wait % 60:02d}")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._count_down)
        self._count_down()

    def _count_down(self) -> None:
        """The send button says how long until central sends another code, and is off until then."""
        wait = self.session.resend_wait_s()
        for button in self.query("#send").results(Button):
            button.label = self._resend_label()
            button.disabled = wait > 0

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Back to menu"), id="menu", classes="small")

    @on(Button.Pressed, "#reenter")
    def _reenter(self) -> None:
        self.run_step(self.session.reenter_relative)

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
    step = (5, N_("confirm"))

    def body(self) -> ComposeResult:
        s = self.session
        r = s.relative_summary()
        check = s.relative_check
        assert check is not None  # noqa: S101 - the confirm step follows the check
        area = s.area_name.name(language()) if s.area_name is not None else s.area or ""
        yield Static("\n".join([person_line(r), *binding_terms(check, area)]), id="summary")
        with Horizontal(id="actions"):
            yield BigButton(_("No, re-enter"), id="reenter")
            yield BigButton(_("Confirm binding"), id="confirm", variant="success")

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Back to menu"), id="menu", classes="small")

    @on(Button.Pressed, "#reenter")
    def _reenter(self) -> None:
        self.run_step(self.session.reenter_relative)

    @on(Button.Pressed, "#confirm")
    def _confirm(self, event: Button.Pressed) -> None:
        event.button.disabled = True  # one tap, one binding
        self.run_step(self.session.confirm)

    @on(Button.Pressed, "#menu")
    def _menu(self) -> None:
        self.back_to_menu()


class ReceiptScreen(KioskScreen):
    """What was done, for whom, on what terms, and where to follow it; then back to the menu or finish.
    One heading says where the request is (done, saved to send, refused): never two that disagree."""

    CSS_PATH = "styles/receipt.tcss"
    heading = N_("Receipt")

    HEADLINES: ClassVar[dict[tuple[str, str], str]] = {
        ("bind", "accepted"): N_("The binding is made."),
        ("bind", "pending"): N_("The binding is saved on this terminal."),
        ("bind", "rejected"): N_("The binding was refused."),
        ("unbind", "accepted"): N_("The binding is ended."),
        ("unbind", "pending"): N_("The unbinding is saved on this terminal."),
        ("unbind", "rejected"): N_("The unbinding was refused."),
    }

    def body(self) -> ComposeResult:
        s = self.session
        receipt = s.receipt
        assert receipt is not None  # noqa: S101
        lines: list[str] = []
        if receipt.kind == "bind" and s.relative_check is not None:
            rel = relation(receipt.relation_code or "10").name(language())
            lines.append(
                _("Relative: {name}, your {relation}").format(name=receipt.relative_name_masked, relation=rel)
            )
            if receipt.status != "rejected":
                area = s.area_name.name(language()) if s.area_name is not None else receipt.admdvs
                lines += binding_terms(s.relative_check, area)
        elif receipt.kind == "unbind":
            lines.append(
                _("No longer shared with: {name} ({certno})").format(
                    name=receipt.relative_name_masked, certno=receipt.relative_certno_masked
                )
            )
        headline = self.HEADLINES.get((receipt.kind, receipt.status), N_("Your request is recorded."))
        with Horizontal(id="receipt"):
            with Vertical(id="text"):
                yield Static(_(headline), id="done", classes=receipt.status)
                if receipt.status == "pending":
                    yield Static(_("It will be sent as soon as the network is back. You will get an SMS."))
                if receipt.status == "rejected":
                    yield Static(reason_text(receipt.reason_code or ""), id="reason")
                yield Prose("\n".join(lines), id="details")  # never "¥3,000.0" / "0" in a narrow column
                yield Static(_("Receipt number: {no}").format(no=receipt.receipt_no), id="number")
                yield Static(_("Scan the code to follow this request on your phone."), id="qr-hint")
            if s.receipt_url:
                yield QRCode(s.receipt_url, id="qr")
        with Horizontal(id="actions"):
            if receipt.kind == "bind":
                yield BigButton(_("Bind another relative"), id="another")
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
