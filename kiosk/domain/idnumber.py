"""Resident ID numbers (居民身份证号码, GB 11643-1999), checked with python-stdnum's `cn.ric`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from stdnum import exceptions as stdnum_errors
from stdnum import numdb
from stdnum.cn import ric

from kiosk.domain.errors import InvalidIdNumber
from kiosk.domain.relations import Sex


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A valid 18-character resident ID number and what it encodes."""

    value: str
    birth_date: dt.date
    sex: Sex
    area_code: str

    def __str__(self) -> str:  # never the full number by accident in an f-string or a log line
        from kiosk.domain.masking import mask_id

        return mask_id(self.value)

    __repr__ = __str__


_REASONS: dict[type[Exception], str] = {
    stdnum_errors.InvalidLength: "length",
    stdnum_errors.InvalidFormat: "format",
    stdnum_errors.InvalidChecksum: "checksum",
    stdnum_errors.InvalidComponent: "component",
}


def parse_id_number(text: str) -> IdNumber:
    """Validate `text` (spaces allowed, lower-case x accepted) and return what it encodes.

    Raises InvalidIdNumber whose `params["reason"]` is one of length, format, checksum, component
    (unknown area code or impossible birth date), so the UI can say which part is wrong.
    """
    compact = ric.compact((text or "").replace(" ", ""))  # stdnum 2.x keeps inner spaces
    if len(compact) != 18:
        raise InvalidIdNumber(detail="length", reason="length")
    try:
        value = _validate(compact)
    except stdnum_errors.ValidationError as exc:
        reason = next((r for cls, r in _REASONS.items() if isinstance(exc, cls)), "format")
        raise InvalidIdNumber(detail=reason, reason=reason) from None
    sex = Sex.MALE if int(value[16]) % 2 == 1 else Sex.FEMALE
    return IdNumber(value=value, birth_date=ric.get_birth_date(value), sex=sex, area_code=value[:6])


def _validate(number: str) -> str:
    """`ric.validate`, except that the area code need only have existed in or after the birth year.

    stdnum wants the code to have existed in the birth year itself, but a number is given at first
    registration (ID cards since 1984), so most older people carry a newer code: 330102 for anyone born
    before 1983, even the standard's own example 440524188001010014. And stdnum 2.2 raises KeyError for an
    unknown county of a known province; that is an unknown area code too.
    """
    try:
        return str(ric.validate(number))
    except (stdnum_errors.InvalidComponent, KeyError):
        pass
    year = ric.get_birth_date(number).year  # an impossible date stays an InvalidComponent
    for _, props in numdb.get("cn/loc").info(number[:6]):
        for county in props.get("county", "").split(","):
            end = county[1:].split("]")[0].partition("-")[2] if county.startswith("[") else ""
            if county and (not end or year <= int(end)):
                return number
    raise stdnum_errors.InvalidComponent()


def check_partial_id(text: str) -> str | None:
    """Check an ID number as it is typed. Returns a reason key for the first wrong thing seen, else None.

    Only what is already decidable is judged: a non-digit before position 18, an impossible birth date
    once its digits are complete, and the check character once all 18 are typed.
    """
    text = text.upper()
    if len(text) > 18:
        return "length"
    if any(not c.isdigit() for c in text[:17]) or (
        len(text) == 18 and not (text[17].isdigit() or text[17] == "X")
    ):
        return "format"
    if len(text) >= 14:
        try:
            dt.datetime.strptime(text[6:14], "%Y%m%d")
        except ValueError:
            return "component"
    if len(text) == 18:
        try:
            parse_id_number(text)
        except InvalidIdNumber as exc:
            return str(exc.params["reason"])
    return None


def make_id_number(area_code: str, birth_date: dt.date, sequence: int) -> str:
    """Build a valid ID number (for synthetic people): odd sequence = male, even = female."""
    if not (0 <= sequence <= 999):
        raise ValueError("sequence must be 0..999")
    body = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum wants a placeholder check character at the end


def age_on(birth_date: dt.date, today: dt.date) -> int:
    """Full years of age on `today` (a 29 February birthday counts from 1 March in common years)."""
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
