"""The receipt page's words (kiosk/central/receipt_page.py): every state in both languages, escaped."""

from __future__ import annotations

import datetime as dt

import pytest

from kiosk.api import Reason
from kiosk.central.receipt_page import NOT_HERE_YET, ReceiptView, reason_sentences, render_receipt

DAY = dt.date(2025, 6, 1)
BINDING_RULES = [
    Reason.RELATION_MISMATCH,
    Reason.RELATION_NOT_ALLOWED,
    Reason.RELATION_SEX_MISMATCH,
    Reason.RELATION_AGE_IMPLAUSIBLE,
    Reason.DUPLICATE_BINDING,
    Reason.HOLDER_RELATIVES_CAP,
    Reason.RELATIVE_HOLDERS_CAP,
    Reason.RELATIVE_NOT_INSURED,
    Reason.RELATIVE_STATUS_NOT_NORMAL,
    Reason.RELATIVE_OUT_OF_SCOPE,
    Reason.HOLDER_NOT_EMPLOYEE_INSURED,
    Reason.HOLDER_STATUS_NOT_NORMAL,
    Reason.LETTER_OUTDATED,
    Reason.OTP_NOT_VERIFIED,
    Reason.BINDING_NOT_ACTIVE,
    Reason.UNBIND_NOT_ALLOWED_FOR_SIDE,
]


@pytest.mark.parametrize("reason", BINDING_RULES, ids=[r.value for r in BINDING_RULES])
def test_a_binding_rules_rejection_has_its_own_plain_sentence(reason: Reason) -> None:
    zh, en = reason_sentences(reason)
    assert (zh, en) != reason_sentences(Reason.UNKNOWN) and zh.endswith("。") and en.endswith(".")
    assert reason.value not in zh + en


@pytest.mark.parametrize(
    ("view", "zh", "en"),
    [
        (
            ReceiptView("R250601ABCDEF012345", "bind", "in_force", DAY, valid_until=dt.date(2026, 5, 31)),
            "有效期至2026年5月31日",
            "Valid until 2026-05-31",
        ),
        (
            ReceiptView("R250601ABCDEF012345", "bind", "ended", DAY, ended_on=DAY),
            "已于2025年6月1日结束",
            "ended on 2025-06-01",
        ),
        (
            ReceiptView("R250601ABCDEF012345", "unbind", "unbound", DAY, ended_on=DAY),
            "已通过：绑定已解除",
            "Accepted: the binding has ended",
        ),
        (
            ReceiptView("R250601ABCDEF012345", "bind", "rejected", DAY, reason=Reason.UNKNOWN),
            "未获通过",
            "It was not accepted",
        ),
    ],
    ids=["in-force", "ended", "unbound", "rejected"],
)
def test_every_state_reads_in_chinese_then_english(view: ReceiptView, zh: str, en: str) -> None:
    html = render_receipt(view)
    assert html.index(zh) < html.index(en)
    assert '<html lang="zh-CN">' in html and '<section lang="en">' in html and "<script" not in html


def test_what_the_page_shows_is_escaped() -> None:
    view = ReceiptView("R250601ABCDEF012345", "bind", "in_force", DAY, area_zh="<b>", relative_masked="<*>")
    html = render_receipt(view)
    assert "<b>" not in html and "&lt;b&gt;" in html and "&lt;*&gt;" in html


def test_the_not_here_yet_page_names_no_receipt() -> None:
    assert "R2" not in NOT_HERE_YET and "暂时查不到这张回执" in NOT_HERE_YET
