"""The public receipt page (`GET /r/{receipt_no}?m=...`): what a phone shows after scanning a receipt.

The page is reached without a signature, so it shows only what a lost receipt may show to anyone: the
kind (binding or unbinding), the status (with a plain reason when rejected), the day central received
it, the planning area and the relative's masked name. A receipt is found by its number and the MAC made
with the secret of the kiosk that answered it (`kiosk.receipts`); a wrong MAC, a number central does not
know and a receipt still queued on its terminal all get the same "not here yet" page, so the page tells
nobody whether a number exists.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.api import Reason, reason_of
from kiosk.central.bindings import effective_status
from kiosk.central.clock import local_date
from kiosk.central.models import Area, Binding, ClientRequest, Kiosk, Person
from kiosk.domain.masking import mask_name
from kiosk.receipts import is_receipt_no, mac_matches

State = Literal["in_force", "ended", "unbound", "rejected"]
"""A binding in force, a binding that has since ended, an unbinding done, a request not accepted."""


@dataclass(frozen=True, slots=True)
class ReceiptView:
    """Everything the page shows, and nothing more."""

    receipt_no: str
    kind: Literal["bind", "unbind"]
    state: State
    received_on: dt.date
    reason: Reason | None = None
    valid_until: dt.date | None = None
    ended_on: dt.date | None = None
    area_zh: str | None = None
    area_en: str | None = None
    relative_masked: str | None = None


def find_receipt(db: Session, receipt_no: str, mac: str, today: dt.date) -> ReceiptView | None:
    """The receipt whose number and MAC match, as the page shows it; None for anything else."""
    if not is_receipt_no(receipt_no) or not mac:
        return None
    answers = db.scalars(
        select(ClientRequest)
        .where(ClientRequest.receipt_no == receipt_no, ClientRequest.kind.in_(("bind", "revoke")))
        .order_by(ClientRequest.created_at)
    ).all()
    for answer in answers:
        kiosk = db.get(Kiosk, answer.kiosk_id)
        if kiosk is not None and mac_matches(receipt_no, mac, kiosk.secret):
            return _view(db, answer, receipt_no, today)
    return None


def _view(db: Session, answer: ClientRequest, receipt_no: str, today: dt.date) -> ReceiptView:
    kind: Literal["bind", "unbind"] = "bind" if answer.kind == "bind" else "unbind"
    received_on = local_date(answer.created_at)
    if answer.status_code >= 400:
        reason = reason_of(str(answer.response.get("error", "")))
        return ReceiptView(receipt_no, kind, "rejected", received_on, reason=reason)
    binding = db.get(Binding, str(answer.response.get("binding_id", "")))
    if binding is None:  # an answer always names its binding; without it the page says what it knows
        return ReceiptView(receipt_no, kind, "unbound" if kind == "unbind" else "ended", received_on)
    area = db.get(Area, binding.admdvs)
    relative = db.get(Person, binding.relative_psn_no)
    status = effective_status(binding, today)
    ended_on = None
    if status == "expired":
        ended_on = binding.valid_until
    elif binding.ended_at is not None:
        ended_on = local_date(binding.ended_at)
    state: State = "unbound" if kind == "unbind" else ("in_force" if status == "active" else "ended")
    return ReceiptView(
        receipt_no,
        kind,
        state,
        received_on,
        valid_until=binding.valid_until,
        ended_on=ended_on,
        area_zh=None if area is None else area.name_zh,
        area_en=None if area is None else area.name_en,
        relative_masked=None if relative is None else mask_name(relative.name),
    )


# The plain reason of a rejection, in both languages; any other reason gets the general sentence.
_SAME_AS = {
    Reason.HOLDER_STATUS_NOT_NORMAL: Reason.HOLDER_NOT_EMPLOYEE_INSURED,
    Reason.HOLDER_NOT_INSURED_IN_AREA: Reason.HOLDER_NOT_EMPLOYEE_INSURED,
    Reason.HOLDER_TOO_YOUNG: Reason.HOLDER_NOT_EMPLOYEE_INSURED,
    Reason.RELATIVE_STATUS_NOT_NORMAL: Reason.RELATIVE_NOT_INSURED,
    Reason.OTP_WRONG: Reason.OTP_NOT_VERIFIED,
    Reason.OTP_EXPIRED: Reason.OTP_NOT_VERIFIED,
    Reason.OTP_LOCKED: Reason.OTP_NOT_VERIFIED,
    Reason.OTP_NOT_FOUND: Reason.OTP_NOT_VERIFIED,
    Reason.OTP_ALREADY_USED: Reason.OTP_NOT_VERIFIED,
    Reason.RELATIVE_CARD_REQUIRED: Reason.OTP_NOT_VERIFIED,
    Reason.LETTER_UNKNOWN: Reason.LETTER_OUTDATED,
}
_REASONS: dict[Reason, tuple[str, str]] = {
    Reason.RELATION_MISMATCH: (
        "亲属关系与户籍登记不符。",
        "The relationship given does not match the household register.",
    ),
    Reason.RELATION_NOT_ALLOWED: (
        "本统筹区不允许与这位亲属共济。",
        "This area does not allow sharing with this relative.",
    ),
    Reason.RELATION_SEX_MISMATCH: (
        "所填的亲属关系与亲属的性别不符。",
        "The relationship given does not match the relative's sex.",
    ),
    Reason.RELATION_AGE_IMPLAUSIBLE: (
        "所填的亲属关系与年龄不符。",
        "The relationship given does not match the ages.",
    ),
    Reason.DUPLICATE_BINDING: ("这位亲属已经绑定过了。", "This relative was already bound."),
    Reason.HOLDER_RELATIVES_CAP: (
        "绑定的亲属人数已达上限。",
        "The most relatives allowed were already bound.",
    ),
    Reason.RELATIVE_HOLDERS_CAP: (
        "这位亲属的共济人数已达上限。",
        "This relative already has the most holders allowed.",
    ),
    Reason.RELATIVE_NOT_INSURED: (
        "亲属的参保状态不符合共济条件。",
        "The relative's insurance does not allow sharing.",
    ),
    Reason.RELATIVE_OUT_OF_SCOPE: (
        "亲属的参保地不在本统筹区的共济范围内。",
        "The relative is insured outside the area this one shares with.",
    ),
    Reason.HOLDER_NOT_EMPLOYEE_INSURED: (
        "本人的参保情况不符合共济条件。",
        "The holder's own insurance does not allow sharing.",
    ),
    Reason.OTP_NOT_VERIFIED: (
        "亲属的确认没有完成，请重新办理。",
        "The relative's confirmation was not completed; please apply again.",
    ),
    Reason.LETTER_OUTDATED: (
        "承诺书已经更新，请重新办理。",
        "The commitment letter has changed; please apply again.",
    ),
    Reason.AGENT_NOT_ALLOWED: ("本统筹区不接受代办。", "This area does not accept an agent."),
    Reason.BINDING_NOT_ACTIVE: ("这项绑定此前已经结束。", "This binding had already ended."),
    Reason.UNBIND_NOT_ALLOWED_FOR_SIDE: (
        "本统筹区规定这一方不能解除绑定。",
        "In this area this side may not end the binding.",
    ),
}
_ANY_REASON = (
    "未获通过。请拨打 12393 或到服务窗口咨询。",
    "It was not accepted. Please call 12393 or ask at a service counter.",
)


def reason_sentences(reason: Reason | None) -> tuple[str, str]:
    """(Chinese, English) plain reason of a rejection."""
    if reason is None:
        return _ANY_REASON
    return _REASONS.get(_SAME_AS.get(reason, reason), _ANY_REASON)


_STYLE = """
body{margin:0;background:#0b2545;color:#fff;-webkit-text-size-adjust:100%;
font:20px/1.5 system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif}
main{max-width:34em;margin:0 auto;padding:1em 1.2em 2em}
h1{font-size:1.45em;line-height:1.3;margin:.3em 0 .5em}
.status{font-size:1.35em;font-weight:700;color:#ffd166;margin:.2em 0}
.reason,.note{font-size:1.1em;margin:.3em 0 .8em}
p,h1{text-wrap:pretty}
dl{margin:.8em 0 0}
dt{color:#c9d6e8;font-size:.9em;margin-top:.7em}
dd{margin:0;font-size:1.2em;word-break:break-all}
section+section{border-top:2px solid #4a6a94;margin-top:1.4em;padding-top:.6em}
footer{color:#c9d6e8;font-size:.9em;margin-top:2em}
""".strip()


def _zh_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _status(view: ReceiptView) -> tuple[tuple[str, str], tuple[str, str]]:
    """((Chinese status, Chinese detail), (English status, English detail))."""
    if view.state == "rejected":
        zh, en = reason_sentences(view.reason)
        return ("未通过", zh), ("Not accepted", en)
    if view.state == "unbound":
        when_zh = f"已于{_zh_date(view.ended_on)}解除。" if view.ended_on else ""
        when_en = f"It ended on {view.ended_on.isoformat()}." if view.ended_on else ""
        return ("已通过：绑定已解除", when_zh), ("Accepted: the binding has ended", when_en)
    if view.state == "ended":
        when_zh = f"已于{_zh_date(view.ended_on)}结束。" if view.ended_on else ""
        when_en = f"It ended on {view.ended_on.isoformat()}." if view.ended_on else ""
        return ("绑定已结束", when_zh), ("The binding has ended", when_en)
    if view.valid_until is None:
        zh, en = "已通过：绑定已生效", "Accepted: the binding is in force"
        return (zh, "长期有效。"), (en, "It has no end date.")
    return (
        ("已通过：绑定已生效", f"有效期至{_zh_date(view.valid_until)}。"),
        ("Accepted: the binding is in force", f"Valid until {view.valid_until.isoformat()}."),
    )


def _fields(rows: list[tuple[str, str | None]]) -> str:
    return "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows if v)


def _page(body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        "<title>家庭共济回执 · Family mutual-aid receipt</title>"
        f"<style>{_STYLE}</style></head><body><main>{body}"
        "<footer>医保服务热线 12393 · Medical insurance hotline 12393</footer></main></body></html>\n"
    )


def render_receipt(view: ReceiptView) -> str:
    """The page of a receipt central knows, in Chinese with English below."""
    (zh_status, zh_detail), (en_status, en_detail) = _status(view)
    bind = view.kind == "bind"
    zh_title = "家庭共济绑定回执" if bind else "家庭共济解除绑定回执"
    en_title = "Family mutual aid: binding receipt" if bind else "Family mutual aid: unbinding receipt"
    zh_fields = _fields(
        [
            ("回执号", view.receipt_no),
            ("受理日期", _zh_date(view.received_on)),
            ("统筹区", view.area_zh),
            ("亲属", view.relative_masked),
        ]
    )
    en_fields = _fields(
        [
            ("Receipt number", view.receipt_no),
            ("Received on", view.received_on.isoformat()),
            ("Planning area", view.area_en),
            ("Relative", view.relative_masked),
        ]
    )
    detail_class = "reason" if view.state == "rejected" else "note"
    return _page(
        f'<section><h1>{escape(zh_title)}</h1><p class="status">{escape(zh_status)}</p>'
        f'<p class="{detail_class}">{escape(zh_detail)}</p><dl>{zh_fields}</dl></section>'
        f'<section lang="en"><h1>{escape(en_title)}</h1><p class="status">{escape(en_status)}</p>'
        f'<p class="{detail_class}">{escape(en_detail)}</p><dl>{en_fields}</dl></section>'
    )


NOT_HERE_YET = _page(
    "<section><h1>暂时查不到这张回执</h1>"
    '<p class="note">如果刚在自助终端办理，回执会在那台终端联网后送达，请稍后再扫一次。'
    "如果一直查不到，请核对二维码，或拨打 12393 咨询。</p></section>"
    '<section lang="en"><h1>This receipt cannot be shown yet</h1>'
    '<p class="note">If you have just used a self-service terminal, the receipt arrives once that terminal '
    "is online: scan the code again later. If it never shows, check the code or call 12393.</p></section>"
)
"""The one page for a wrong MAC, an unknown number and a receipt still queued on its terminal."""
