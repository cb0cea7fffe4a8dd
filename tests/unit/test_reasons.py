"""Every reason the core can give reaches the citizen in words: a sentence in both catalogs, or (for an
internal one) "please ask the staff" with its code."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kiosk.api import INTERNAL_REASONS, Reason
from screens.i18n import set_language
from screens.messages import REASONS, STAFF, reason_text

ROOT = Path(__file__).resolve().parents[2]
CITIZEN_REASONS = [r for r in Reason if r not in INTERNAL_REASONS]


def _catalog(lang: str) -> dict[str, str]:
    with (ROOT / "screens" / "locale" / lang / "LC_MESSAGES" / "kiosk.po").open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id and isinstance(m.id, str)}


@pytest.fixture
def english() -> Iterator[None]:
    set_language("en")
    yield
    set_language("zh-CN")


@pytest.mark.parametrize("reason", CITIZEN_REASONS, ids=[r.value for r in CITIZEN_REASONS])
def test_every_citizen_reason_has_a_sentence_in_both_catalogs(reason: Reason) -> None:
    assert reason in REASONS, f"{reason.value}: no citizen text in screens/messages.py and not internal"
    msgid = REASONS[reason]
    assert msgid in _catalog("en"), f"{reason.value}: {msgid!r} missing from the English catalog"
    assert _catalog("zh_CN").get(msgid, "").strip(), f"{reason.value}: {msgid!r} has no Chinese translation"


def test_the_staff_sentence_is_translated() -> None:
    assert _catalog("zh_CN").get(STAFF, "").strip()


@pytest.mark.parametrize("reason", sorted(INTERNAL_REASONS), ids=[r.value for r in sorted(INTERNAL_REASONS)])
def test_an_internal_reason_sends_the_citizen_to_the_staff_with_its_code(
    reason: Reason, english: None
) -> None:
    assert (
        reason_text(reason) == f"Something went wrong. Please ask the staff for help. (code: {reason.value})"
    )


def test_the_staff_sentence_in_chinese_carries_the_code() -> None:
    assert (
        reason_text(Reason.BINDING_NOT_FOUND) == "出了点问题，请找工作人员帮助。（代码：binding_not_found）"
    )


def test_a_key_as_a_string_reads_as_its_reason(english: None) -> None:
    assert reason_text("otp_wrong", {"attempts_left": 2}) == reason_text(
        Reason.OTP_WRONG, {"attempts_left": 2}
    )
    assert reason_text("otp_wrong", {"attempts_left": 2}) == "The code is not right. 2 tries left."


def test_a_key_this_build_does_not_know_is_shown_as_it_came(english: None) -> None:
    assert reason_text("http_418").endswith("(code: http_418)")
    assert reason_text("").endswith("(code: unknown)")


def test_no_text_is_kept_for_a_key_that_is_not_a_reason() -> None:
    assert all(isinstance(key, Reason) for key in REASONS)
    assert not INTERNAL_REASONS & set(REASONS), "an internal reason would never show its text"
