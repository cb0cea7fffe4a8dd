"""The bind flow: letter, area, relationship, relative, confirmation of the person, verification,
confirmation of the binding, receipt."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from kiosk.api import Reason
from kiosk.domain.idnumber import check_partial_id
from kiosk.domain.relations import relation
from kiosk.domain.settlement import format_fen
from screens.base import BigButton, KioskScreen
from screens.i18n import N_, _, language
from screens.messages import reason_text, status_text
from screens.widgets.keypad import Keypad
from screens.widgets.qr import QRCode


class LetterScreen(KioskScreen):
    """'I have read and agree' is enabled only once the end of the letter was reached (or it all fits)."""

    CSS_PATH = "styles/letter.tcss"
    heading = N_("Commitment letter")
    step = (1, N_("letter"))

    def body(self) -> ComposeResult:
        letter = self.session.letter
        yield Static(letter.title if letter else "", id="letter-title")
        with VerticalScroll(id="letter"):
            yield Static(letter.body if letter else "", id="letter-body")
        yield Static(_("Scroll to the end of the letter to agree."), id="hint")
        with Horizontal(id="actions"):
            yield BigButton(_("Back"), id="back")
            yield BigButton(_("I have read and agree"), id="agree", variant="primary")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#agree").disabled = True
        self.set_interval(0.2, self._check_end)
        self.call_after_refresh(self._check_end)

    def _check_end(self) -> None:
        scroll = self.query_one("#letter", VerticalScroll)
        at_end = scroll.max_scroll_y == 0 or scroll.scroll_y >= scroll.max_scroll_y - 0.5
        agree = self.query_one("#agree")
        if at_end and agree.disabled:
            agree.disabled = False
            self.query_one("#hint", Static).update(_("You have reached the end of the letter."))

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        if event.button.id == "agree":
            self.kiosk.act(lambda: self.session.accept_letter(read_to_end=True))
        elif event.button.id == "back":
            self.back_to_menu()


class AreaScreen(KioskScreen):
    CSS_PATH = "styles/area.tcss"
    heading = N_("Planning area")
    step = (2, N_("area"))

    def body(self) -> ComposeResult:
        yield Static(_("Your account belongs to the area where you are insured:"), id="hint")
        with Vertical(id="choices"):
            for area in self.session.area_names:
                yield BigButton(area.name(language()), id=f"area-{area.admdvs}", variant="primary")

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Back to menu"), id="menu", classes="small")

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        button_id = event.button.id or ""
        if button_id.startswith("area-"):
            self.kiosk.act(lambda: self.session.choose_area(button_id.removeprefix("area-")))
        elif button_id == "menu":
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

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        button_id = event.button.id or ""
        if button_id.startswith("rel-"):
            self.kiosk.act(lambda: self.session.choose_relation(button_id.removeprefix("rel-")))
        elif button_id == "menu":
            self.back_to_menu()


class RelativeScreen(KioskScreen):
    """The relative's 18-character ID number on the keypad, checked as it is typed."""

    CSS_PATH = "styles/relative.tcss"
    heading = N_("The relative's ID number")
    step = (4, N_("relative"))

    def __init__(self) -> None:
        super().__init__()
        self.typed = ""

    def body(self) -> ComposeResult:
        rel = relation(self.session.relation_code or "10").name(language())
        yield Static(_("Type your {relation}'s ID number (18 characters):").format(relation=rel), id="hint")
        yield Static(self._shown(), id="certno")
        yield Keypad(with_x=True, id="keypad")
        with Horizontal(id="actions"):
            yield BigButton(_("Back"), id="back")
            yield BigButton(_("Next"), id="next", variant="primary")

    def _shown(self) -> str:
        # grouped 6-8-4 like the digits on the card, blanks included, so one can see what is left
        padded = self.typed.ljust(18, "_")
        return f"{padded[:6]} {padded[6:14]} {padded[14:]}"

    def on_keypad_pressed(self, event: Keypad.Pressed) -> None:
        self.type_key(event.key)

    def on_key(self, event: Any) -> None:
        if len(event.key) == 1 and (event.key.isdigit() or event.key in "xX"):
            self.type_key(event.key.upper())
        elif event.key == "backspace":
            self.type_key("back")
        elif event.key == "enter":
            self.submit()

    def type_key(self, key: str) -> None:
        if key == "back":
            self.typed = self.typed[:-1]
        elif len(self.typed) < 18 and (key.isdigit() or (key == "X" and len(self.typed) == 17)):
            self.typed += key
        self.query_one("#certno", Static).update(self._shown())
        problem = check_partial_id(self.typed)
        if problem:
            self.query_one("#error", Static).update(self._problem_text(problem))
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

    def submit(self) -> None:
        if len(self.typed) != 18:
            self.query_one("#error", Static).update(self._problem_text("length"))
            return
        self.kiosk.act(lambda: self.session.enter_relative(self.typed))

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        if event.button.id == "next":
            self.submit()
        elif event.button.id == "back":
            self.kiosk.act(self.session.back_to_relation)


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

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        if event.button.id in ("yes", "no"):
            self.kiosk.act(lambda: self.session.confirm_relative(event.button.id == "yes"))


class VerifyScreen(KioskScreen):
    """SMS code to the relative's registered phone and/or the relative's own card, per the area's rule."""

    CSS_PATH = "styles/verify.tcss"
    heading = N_("The relative confirms")
    step = (6, N_("confirmation"))

    def __init__(self) -> None:
        super().__init__()
        self.code = ""

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
                yield Static(
                    _("We will send a code to the relative's phone {phone}.").format(phone=phone), id="hint"
                )
                yield BigButton(_("Send the code"), id="send", variant="primary")
            else:
                yield Static(_("Type the 6-digit code sent to {phone}:").format(phone=phone), id="hint")
                yield Static(self._shown(), id="code")
                yield Keypad(id="keypad")
                with Horizontal(id="actions"):
                    yield BigButton(_("Send again"), id="send")
                    yield BigButton(_("OK"), id="ok", variant="primary")

    def _shown(self) -> str:
        return " ".join(self.code.ljust(6, "_"))

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Back to menu"), id="menu", classes="small")

    def on_keypad_pressed(self, event: Keypad.Pressed) -> None:
        self.type_key(event.key)

    def on_key(self, event: Any) -> None:
        if len(event.key) == 1 and event.key.isdigit():
            self.type_key(event.key)
        elif event.key == "backspace":
            self.type_key("back")

    def type_key(self, key: str) -> None:
        if key == "back":
            self.code = self.code[:-1]
        elif key == "clear":
            self.code = ""
        elif key.isdigit() and len(self.code) < 6:
            self.code += key
        if self.query("#code"):
            self.query_one("#code", Static).update(self._shown())

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        if event.button.id == "menu":
            self.back_to_menu()
        elif event.button.id == "send":
            self.kiosk.act(self.session.send_sms, stay=True, then=lambda: self.refresh(recompose=True))
        elif event.button.id == "ok":
            code, self.code = self.code, ""
            self.kiosk.act(
                lambda: self.session.verify_sms(code), stay=True, then=lambda: self.refresh(recompose=True)
            )


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

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        if event.button.id == "confirm":
            event.button.disabled = True  # one tap, one binding
            self.kiosk.act(self.session.confirm)
        elif event.button.id == "menu":
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

    def on_button_pressed(self, event: BigButton.Pressed) -> None:
        if event.button.id == "another":
            self.kiosk.act(self.session.bind_another)
        elif event.button.id == "menu":
            self.back_to_menu()
        elif event.button.id == "finish":
            self.kiosk.finish()
