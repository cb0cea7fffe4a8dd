"""Resident ID numbers (GB 11643-1999): parsing, check character, partial input, synthetic numbers, ages."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from kiosk.domain.errors import DomainError, InvalidIdNumber
from kiosk.domain.idnumber import IdNumber, age_on, check_partial_id, make_id_number, parse_id_number
from kiosk.domain.relations import Sex
from tests.support.factories import REAL_AREA_CODES

GB_EXAMPLE = "11010519491231002X"  # the standard's own example: 北京朝阳, 1949-12-31, female
GB_EXAMPLE_2 = "440524188001010014"  # the standard's second example: 汕头潮阳县, 1880-01-01, male
LISHUI_MAN = "331102199001011235"  # made with make_id_number("331102", 1990-01-01, 123)


def with_check(body17: str) -> str:
    """Append the right ISO 7064 MOD 11-2 check character to 17 characters (computed here, not by stdnum)."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body17))
    check = (12 - total % 11) % 11
    return body17 + ("X" if check == 10 else str(check))


def reason_of(text: str) -> str:
    with pytest.raises(InvalidIdNumber) as info:
        parse_id_number(text)
    assert info.value.key == "invalid_id_number"
    assert isinstance(info.value, DomainError)
    reason = info.value.params["reason"]
    assert isinstance(reason, str)
    assert reason in str(info.value)
    return reason


def test_own_check_character_helper_agrees_with_the_standard_examples() -> None:
    assert with_check(GB_EXAMPLE[:17]) == GB_EXAMPLE
    assert with_check(GB_EXAMPLE_2[:17]) == GB_EXAMPLE_2


# ---- parse_id_number ---------------------------------------------------------------------------


def test_standard_example_is_valid() -> None:
    parsed = parse_id_number(GB_EXAMPLE)
    assert parsed.value == GB_EXAMPLE
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex is Sex.FEMALE
    assert parsed.area_code == "110105"


def test_second_standard_example_is_valid_although_born_before_its_area_code_existed() -> None:
    # stdnum alone rejects it (440524 was listed 1983-1993, the person was born 1880); numbers are given
    # at registration, not at birth, so the kiosk must accept it.
    parsed = parse_id_number(GB_EXAMPLE_2)
    assert parsed.birth_date == dt.date(1880, 1, 1)
    assert parsed.sex is Sex.MALE
    assert parsed.area_code == "440524"


@pytest.mark.parametrize(
    "text",
    ["11010519491231002x", " 11010519491231002X ", "110105 19491231 002X", "110105 19491231 002x"],
)
def test_lower_case_x_and_spaces_are_accepted(text: str) -> None:
    parsed = parse_id_number(text)
    assert parsed.value == GB_EXAMPLE
    assert check_partial_id(text.replace(" ", "")) is None


@pytest.mark.parametrize("wrong", sorted(set("0123456789X") - {"X"}))
def test_wrong_check_character_is_a_checksum_error(wrong: str) -> None:
    assert reason_of(GB_EXAMPLE[:17] + wrong) == "checksum"


@pytest.mark.parametrize("wrong", sorted(set("0123456789X") - {"5"}))
def test_wrong_check_character_of_a_lishui_number(wrong: str) -> None:
    assert parse_id_number(LISHUI_MAN).value == LISHUI_MAN
    assert reason_of(LISHUI_MAN[:17] + wrong) == "checksum"


def test_swapped_digits_are_caught_by_the_check_character() -> None:
    swapped = LISHUI_MAN[:10] + LISHUI_MAN[11] + LISHUI_MAN[10] + LISHUI_MAN[12:]
    assert swapped != LISHUI_MAN
    assert reason_of(swapped) == "checksum"


@pytest.mark.parametrize(
    "text",
    ["", "1", "1101051949123100", GB_EXAMPLE[:17], GB_EXAMPLE + "0", "110105194912310", GB_EXAMPLE * 2],
)
def test_bad_length(text: str) -> None:
    assert reason_of(text) == "length"


@pytest.mark.parametrize(
    "text", ["1101051949123100AX", "A1010519491231002X", "1101051949l231002X", "11010519491231002X"[::-1]]
)
def test_non_digits_are_a_format_error(text: str) -> None:
    assert reason_of(text) == "format"


def test_full_width_digits_are_normalised() -> None:
    assert parse_id_number("１１０１０５１９４９１２３１００２X").value == GB_EXAMPLE


@pytest.mark.parametrize(
    "birth",
    ["19490230", "19491301", "19490001", "19490100", "19490229", "00000101"],
)
def test_impossible_birth_date_is_a_component_error(birth: str) -> None:
    assert reason_of(with_check(f"331102{birth}123")) == "component"


@pytest.mark.parametrize(
    "area",
    [
        "999999",  # no such province
        "000000",
        "331199",  # a province that exists, a county that does not (stdnum 2.2 raised KeyError here)
        "330199",
    ],
)
def test_unknown_area_code_is_a_component_error(area: str) -> None:
    assert reason_of(with_check(f"{area}19900101123")) == "component"


def test_area_code_abolished_before_the_birth_year_is_a_component_error() -> None:
    # 440524 (潮阳县) was listed 1983-1993: nobody born in 2000 can have received it.
    assert reason_of(with_check("44052420000101123")) == "component"
    assert parse_id_number(with_check("44052419930101123")).area_code == "440524"


@pytest.mark.parametrize(
    ("area", "year"), [("330102", 1930), ("331102", 1950), ("371502", 1990), ("130102", 1982)]
)
def test_older_people_carry_area_codes_newer_than_their_birth(area: str, year: int) -> None:
    # 上城区 330102 is listed from 1983, 莲都区 331102 from 2000: the elderly of those districts got their
    # numbers later and must still be accepted.
    number = with_check(f"{area}{year}0101123")
    assert parse_id_number(number).birth_date == dt.date(year, 1, 1)


@pytest.mark.parametrize(
    ("sequence", "sex"), [(0, Sex.FEMALE), (1, Sex.MALE), (2, Sex.FEMALE), (999, Sex.MALE), (998, Sex.FEMALE)]
)
def test_odd_sequence_is_male_even_is_female(sequence: int, sex: Sex) -> None:
    number = make_id_number("331123", dt.date(1985, 7, 1), sequence)
    assert parse_id_number(number).sex is sex


# ---- make_id_number ----------------------------------------------------------------------------


def test_make_id_number_reproduces_the_standard_example() -> None:
    assert make_id_number("110105", dt.date(1949, 12, 31), 2) == GB_EXAMPLE
    assert make_id_number("440524", dt.date(1880, 1, 1), 1) == GB_EXAMPLE_2
    assert make_id_number("331102", dt.date(1990, 1, 1), 123) == LISHUI_MAN


def test_make_id_number_agrees_with_stdnum_check_character() -> None:
    number = make_id_number("330102", dt.date(2001, 2, 3), 456)
    assert ric.calc_check_digit(number) == number[-1]
    assert ric.is_valid(number)


@pytest.mark.parametrize("sequence", [-1, 1000, 12345])
def test_make_id_number_refuses_sequence_out_of_range(sequence: int) -> None:
    with pytest.raises(ValueError, match="sequence"):
        make_id_number("331102", dt.date(1990, 1, 1), sequence)


@pytest.mark.parametrize("area", REAL_AREA_CODES)
@pytest.mark.parametrize(
    "birth", [dt.date(1900, 1, 1), dt.date(1949, 12, 31), dt.date(2000, 2, 29), dt.date(2025, 6, 15)]
)
def test_make_id_number_round_trips(area: str, birth: dt.date) -> None:
    number = make_id_number(area, birth, 7)
    parsed = parse_id_number(number)
    assert (parsed.value, parsed.area_code, parsed.birth_date, parsed.sex) == (number, area, birth, Sex.MALE)


@settings(max_examples=200, deadline=None)
@given(
    area=st.sampled_from(REAL_AREA_CODES),
    birth=st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)),
    sequence=st.integers(0, 999),
)
def test_make_id_number_round_trips_property(area: str, birth: dt.date, sequence: int) -> None:
    number = make_id_number(area, birth, sequence)
    assert len(number) == 18
    parsed = parse_id_number(number)
    assert parsed.value == number
    assert parsed.area_code == area
    assert parsed.birth_date == birth
    assert parsed.sex is (Sex.MALE if sequence % 2 else Sex.FEMALE)
    assert check_partial_id(number) is None
    assert check_partial_id(number.lower()) is None


# ---- IdNumber never shows itself ---------------------------------------------------------------


@pytest.mark.parametrize("number", [GB_EXAMPLE, LISHUI_MAN])
def test_id_number_str_and_repr_are_masked(number: str) -> None:
    parsed = parse_id_number(number)
    shown = [
        str(parsed),
        repr(parsed),
        f"{parsed}",
        f"{parsed!r}",
        repr([parsed]),
        str({"id": parsed}),
        " ".join(map(str, (parsed,))),
        logging.LogRecord("kiosk", logging.INFO, __file__, 1, "certno=%s", (parsed,), None).getMessage(),
    ]
    for text in shown:
        assert number not in text
        assert number[6:14] not in text  # the birth date
    assert str(parsed) == number[:6] + "*" * 8 + number[-4:]
    assert repr(parsed) == str(parsed)


def test_id_number_is_immutable_and_compares_by_value() -> None:
    parsed = parse_id_number(GB_EXAMPLE)
    assert parsed == parse_id_number(GB_EXAMPLE.lower())
    assert isinstance(parsed, IdNumber)
    with pytest.raises(AttributeError):
        parsed.value = LISHUI_MAN  # type: ignore[misc]


# ---- check_partial_id (as the citizen types) ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("3", None),
        ("331102", None),
        ("33110219", None),
        ("3311021990", None),
        ("3311021990013", None),  # the day is not complete yet
        ("33110219900101", None),
        ("33110219900101123", None),
        ("331102199001011235", None),
        ("11010519491231002x", None),
        ("11010519491231002X", None),
        ("33110a", "format"),
        ("X", "format"),
        ("3311021990010112X", "format"),  # X only in the last place
        ("33110219900101123Y", "format"),
        ("331102 1990", "format"),  # typed input has no spaces
        ("33110219901301", "component"),  # month 13, known once 14 digits are in
        ("33110219900230", "component"),
        ("331102199002301", "component"),
        ("33110219890229", "component"),  # 1989 is not a leap year
        ("331102199001011230", "checksum"),
        ("1101051949123100X2", "format"),
        ("3311021990010112361", "length"),
        (with_check("99999919900101123"), "component"),
        (with_check("33119919900101123"), "component"),
    ],
)
def test_check_partial_id(text: str, expected: str | None) -> None:
    assert check_partial_id(text) == expected


def test_partial_check_accepts_every_prefix_of_a_valid_number() -> None:
    for number in (GB_EXAMPLE, GB_EXAMPLE_2, LISHUI_MAN):
        assert [check_partial_id(number[:n]) for n in range(19)] == [None] * 19


# ---- age_on ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "today", "age"),
    [
        (dt.date(1990, 6, 15), dt.date(1990, 6, 15), 0),
        (dt.date(1990, 6, 15), dt.date(2025, 6, 14), 34),
        (dt.date(1990, 6, 15), dt.date(2025, 6, 15), 35),
        (dt.date(1990, 6, 15), dt.date(2025, 6, 16), 35),
        (dt.date(1990, 12, 31), dt.date(2025, 1, 1), 34),
        (dt.date(2000, 2, 29), dt.date(2001, 2, 28), 0),  # a 29 February birthday counts from 1 March
        (dt.date(2000, 2, 29), dt.date(2001, 3, 1), 1),
        (dt.date(2000, 2, 29), dt.date(2004, 2, 29), 4),
        (dt.date(2000, 2, 29), dt.date(2018, 2, 28), 17),
        (dt.date(2000, 2, 29), dt.date(2018, 3, 1), 18),
    ],
)
def test_age_on(birth: dt.date, today: dt.date, age: int) -> None:
    assert age_on(birth, today) == age
