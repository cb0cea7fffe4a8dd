"""Masking of personal data: ID 6+4, names 张*明, phones 3+4, card numbers 2+2, IDs in free text."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.idnumber import make_id_number
from kiosk.domain.masking import mask_card_no, mask_id, mask_name, mask_phone, redact_text
from tests.support.factories import REAL_AREA_CODES

EIGHT_DIGITS = re.compile(r"\d{8,}")


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("331102199001011234", "331102********1234"),
        ("11010519491231002X", "110105********002X"),
        ("11010519491231002x", "110105********002x"),
        ("33110219900101123", "331102*******1123"),
        ("12345678901", "123456*8901"),
        ("1234567890", "**********"),  # too short to keep 6+4: everything starred
        ("123", "***"),
        ("", ""),
    ],
)
def test_mask_id(value: str, masked: str) -> None:
    assert mask_id(value) == masked
    assert len(mask_id(value)) == len(value)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("欧阳娜娜", "欧**娜"),
        ("司马相如", "司**如"),
        ("李", "*"),  # a one-character name keeps nothing
        ("  张三明 ", "张*明"),
        ("", ""),
        ("   ", ""),
        ("John Smith", "J**n S***h"),
        ("Li", "L*"),
        ("Ana María López", "A*a M***a L***z"),
        ("买买提·艾力", "买****力"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


@pytest.mark.parametrize("name", ["张三明", "欧阳娜娜", "王小二", "爱新觉罗溥仪"])
def test_masked_name_hides_the_given_name(name: str) -> None:
    masked = mask_name(name)
    assert masked != name
    assert masked[0] == name[0]
    assert set(masked[1:-1]) == {"*"}
    assert len(masked) == len(name)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("057112345678", "057*****5678"),
        ("12345678", "123*5678"),
        ("1234567", "*******"),
        ("110", "***"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("card_no", "masked"),
    [("A12345678", "A1*****78"), ("K00000001", "K0*****01"), ("ABCDE", "AB*DE"), ("ABCD", "****"), ("", "")],
)
def test_mask_card_no(card_no: str, masked: str) -> None:
    assert mask_card_no(card_no) == masked


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("certno=331102199001011234 ok", "certno=331102********1234 ok"),
        ("id 11010519491231002X, id 11010519491231002x.", "id 110105********002X, id 110105********002x."),
        ("a=331102199001011234;b=11010519491231002X", "a=331102********1234;b=110105********002X"),
        ("持卡人331102199001011234办理", "持卡人331102********1234办理"),
        ("card 6222021234567890123", "card 622202*********0123"),  # a bank card number is masked too
        ("phone 13812345678 amount 150000", "phone 13812345678 amount 150000"),
        ("no numbers here", "no numbers here"),
        ("", ""),
    ],
)
def test_redact_text(text: str, redacted: str) -> None:
    assert redact_text(text) == redacted


@pytest.mark.parametrize(
    "text",
    [
        "33110219900101123413812345678",  # an ID run together with a phone number
        "12345678331102199001011234",
        "1234567" + "11010519491231002X" + "7654321",
        "9" + "11010519491231002X" + "x123",
    ],
)
def test_redact_text_masks_an_id_amid_other_digits(text: str) -> None:
    out = redact_text(text)
    assert EIGHT_DIGITS.search(out) is None
    assert "19900101" not in out
    assert "19491231" not in out
    assert len(out) == len(text)


# ---- properties --------------------------------------------------------------------------------

id_numbers = st.builds(
    make_id_number,
    st.sampled_from(REAL_AREA_CODES),
    st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)),
    st.integers(0, 999),
)

# Text around the ID: anything, and often digits, X and separators right beside it.
surroundings = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="0123456789Xx -=:,;张三\n", max_size=30),
).filter(lambda s: EIGHT_DIGITS.search(s) is None)


@settings(max_examples=300)
@given(number=id_numbers)
def test_mask_id_leaves_no_eight_digit_run(number: str) -> None:
    masked = mask_id(number)
    assert EIGHT_DIGITS.search(masked) is None
    assert masked[:6] == number[:6]
    assert masked[-4:] == number[-4:]
    assert len(masked) == len(number)


@settings(max_examples=300)
@given(before=surroundings, number=id_numbers, after=surroundings)
def test_redact_text_leaves_no_eight_digit_run_of_an_id(before: str, number: str, after: str) -> None:
    text = before + number + after
    out = redact_text(text)
    assert EIGHT_DIGITS.search(out) is None
    assert number not in out
    assert number[6:14] not in out  # the birth date
    assert len(out) == len(text)


@settings(max_examples=200)
@given(text=st.text(max_size=60).filter(lambda s: EIGHT_DIGITS.search(s) is None))
def test_redact_text_leaves_text_without_long_digit_runs_alone(text: str) -> None:
    assert redact_text(text) == text
