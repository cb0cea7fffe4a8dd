"""The holder's menu, their bindings in both directions, unbinding, usage records and the guides."""

from __future__ import annotations

from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Button, Static

from kiosk.api import BindingOut
from kiosk.domain.relations import inverse_name, relation
from kiosk.domain.settlement import format_fen
from kiosk.session import Side, other_party
from screens.base import BigButton, KioskScreen
from screens.i18n import N_, _, language
from screens.messages import status_text
from screens.widgets.prose import Prose


class MenuScreen(KioskScreen):
    CSS_PATH = "styles/menu.tcss"
    heading = N_("What would you like to do?")

    def body(self) -> ComposeResult:
        holder = self.session.holder
        yield Static(_("Hello, {name}").format(name=holder.name if holder else ""), id="greeting")
        with Grid(id="choices"):
            yield BigButton(_("Bind a relative"), id="bind", variant="primary")
            yield BigButton(_("My bindings / unbind"), id="bindings")
            yield BigButton(_("Usage records"), id="usage")
            yield BigButton(_("Guides"), id="guides")
        # Not in the footer, where every other screen has its way back to this menu: two quick taps on one
        # spot must never turn "back" into "end the visit".
        with Horizontal(id="actions"):
            yield BigButton(_("Finish"), id="finish", variant="warning")

    @on(Button.Pressed, "#bind")
    def _bind(self) -> None:
        self.run_step(self.session.start_bind)

    @on(Button.Pressed, "#bindings")
    def _show_bindings(self) -> None:
        self.run_step(self.session.show_bindings)

    @on(Button.Pressed, "#usage")
    def _usage(self) -> None:
        self.run_step(self.session.show_usage)

    @on(Button.Pressed, "#guides")
    def _guides(self) -> None:
        self.show_step(self.session.show_guides)

    @on(Button.Pressed, "#finish")
    def _finish(self) -> None:
        self.finish()


class BindingsScreen(KioskScreen):
    """Who shares with whom, both directions, in columns (masked name, relation, masked ID, from, until,
    status), each binding in force with its Unbind button; then what this terminal has not sent yet.
    Someone who cannot share their own account sees only the accounts shared with them."""

    CSS_PATH = "styles/bindings.tcss"
    heading = N_("My bindings")

    def body(self) -> ComposeResult:
        data = self.session.bindings
        sections = [(Side.AS_RELATIVE, _("Accounts shared with me"), data.as_relative if data else [])]
        if not self.session.can_unbind_only:
            sections.insert(
                0, (Side.AS_HOLDER, _("My account is shared with"), data.as_holder if data else [])
            )
        with VerticalScroll(id="list"):
            for side, heading, rows in sections:
                yield Static(heading, classes="heading")
                if not rows:
                    yield Static(_("Nobody"), classes="empty")
                    continue
                with Grid(classes="table"):
                    for title in (
                        _("Name"),
                        _("Relation"),
                        _("ID number"),
                        _("From"),
                        _("Until"),
                        _("Status"),
                        "",
                    ):
                        yield Static(title, classes="th")
                    for b in rows:
                        yield from self._row(b, side)
            pending = self.session.pending
            if pending:
                yield Static(_("Sent from this terminal, not yet answered"), classes="heading")
                with Grid(classes="table pending"):
                    for title in (_("Name"), _("Receipt number"), _("Date"), _("Status")):
                        yield Static(title, classes="th")
                    for p in pending:
                        for cell in (p.relative_name_masked, p.receipt_no, p.created_at.date().isoformat()):
                            yield Static(cell, classes="td")
                        yield Static(status_text(p.status), classes="td")

    def _row(self, b: BindingOut, side: Side) -> ComposeResult:
        other = other_party(b, side)
        # as_relative rows: the code is *my* relation to them; the column says theirs to me
        code = b.relation_code
        rel = relation(code).name(language()) if side is Side.AS_HOLDER else inverse_name(code, language())
        ended = b.ended_at.date() if b.ended_at is not None else None
        until = ended or b.valid_until
        for cell in (
            other.name_masked,
            rel,
            other.certno_masked,
            b.valid_from.isoformat(),
            until.isoformat() if until else _("no end date"),
            status_text(b.status),
        ):
            yield Static(cell, classes="td")
        if b.status == "active":
            yield BigButton(_("Unbind"), id=f"unbind-{b.binding_id}", classes="small")
        else:
            yield Static("", classes="td")

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Back"), id="menu", classes="small")

    @on(Button.Pressed, "#list Button")
    def _unbind(self, event: Button.Pressed) -> None:
        binding_id = (event.button.id or "").removeprefix("unbind-")
        self.run_step(partial(self.session.choose_unbind, binding_id))

    @on(Button.Pressed, "#menu")
    def _menu(self) -> None:
        self.back_to_menu()


class UnbindConfirmScreen(KioskScreen):
    CSS_PATH = "styles/confirm.tcss"
    heading = N_("End this binding?")

    def body(self) -> ComposeResult:
        target = self.session.unbind_target
        other = target.other if target else None
        yield Static(
            _("{name} ({certno}) will no longer share an account with you.").format(
                name=other.name_masked if other else "", certno=other.certno_masked if other else ""
            ),
            id="summary",
        )
        with Horizontal(id="actions"):
            yield BigButton(_("Back"), id="back")
            yield BigButton(_("Confirm unbinding"), id="confirm", variant="error")

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.run_step(self.session.confirm_unbind)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.run_step(self.session.show_bindings)


class UsageScreen(KioskScreen):
    CSS_PATH = "styles/usage.tcss"
    heading = N_("Usage records")

    def body(self) -> ComposeResult:
        usage = self.session.usage
        kinds = {
            "hospital": _("Hospital"),
            "pharmacy": _("Pharmacy"),
            "clinic": _("Clinic"),
            "vaccination": _("Vaccination"),
            "resident_premium": _("Resident insurance fee"),
        }
        with VerticalScroll(id="list"):
            records = usage.records if usage else []
            if not records:
                yield Static(_("No shared money has been used yet."), classes="empty")
            else:
                with Grid(classes="table"):  # columns as wide as their widest cell, in either language
                    for r in records:
                        who = (
                            _("for {name}").format(name=r.relative_name_masked)
                            if r.role == "holder"
                            else _("from {name}").format(name=r.holder_name_masked)
                        )
                        kind = kinds.get(r.institution_kind, r.institution_kind)
                        for cell in (r.occurred_on.isoformat(), kind, who):
                            yield Static(cell, classes="td")
                        yield Static(f"¥{format_fen(r.amount_fen)}", classes="td amount")
        total = usage.total_fen if usage else 0
        yield Static(_("Total: ¥{amount}").format(amount=format_fen(total)), id="total")

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Back to menu"), id="menu", classes="small")

    @on(Button.Pressed, "#menu")
    def _menu(self) -> None:
        self.back_to_menu()


GUIDES = {
    "card": (
        N_("Getting or replacing a social security card"),
        N_(
            "Bring your ID card (or household register) to the county medical insurance centre: it is done on the "
            "spot. A street or town service point also takes the application and has the card ready within 3 "
            "working days. Someone may apply for you if they bring their own ID and yours."
        ),
    ),
    "offsite": (
        N_("Treatment in another city"),
        N_(
            "Get a referral at your local hospital, then have it approved and filed at your social security office "
            "before you go. Pay in full at the other hospital and keep every receipt: you are reimbursed at home."
        ),
    ),
    "bind": (
        N_("About family mutual aid"),
        N_(
            "Your personal account can pay your close relatives' own costs at designated hospitals and pharmacies. "
            "They pay with their own card; their own account pays first. Either of you may end it at any time."
        ),
    ),
}


class GuidesScreen(KioskScreen):
    CSS_PATH = "styles/guides.tcss"
    heading = N_("Guides")

    def body(self) -> ComposeResult:
        with VerticalScroll(id="list"):
            for title, text in GUIDES.values():
                yield Static(_(title), classes="heading")
                yield Prose(_(text), classes="text")

    def footer_buttons(self) -> ComposeResult:
        yield BigButton(_("Back"), id="back", classes="small")

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.show_step(self.session.back_from_guides)
