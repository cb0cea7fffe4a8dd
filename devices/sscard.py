"""The social security card profile (社会保障卡, DOMAIN.md §7): APDUs, records, TLV, GBK names, PIN.

Everything here works on a `Transmit` function (one command APDU in, response data + status word out), so
the same code runs over pyscard, over a test's in-process virtual card, or over anything else that moves
bytes. The transport raises `CardError("card_removed")` / `CardError("reader_unavailable")`; this module
turns every unexpected answer into `CardError("malformed_answer")` and never lets a bad card crash the kiosk.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from devices.reader import CardData, CardError, PinResult

log = logging.getLogger("kiosk.card")

# "sx1.sh.社会保障" in GBK: the SSSE application, selected by name.
SSSE_AID = b"sx1.sh." + "社会保障".encode("gbk")
SW_OK = 0x9000
SW_SECURITY_NOT_SATISFIED = 0x6982  # 3rd-generation card without external authentication
SW_PIN_BLOCKED = 0x6983
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00
SW_RECORD_NOT_FOUND = 0x6A83
MAX_PIN_TRIES = 3
# VERIFY's P2, the PIN's reference: 00 as the card profile gives it (DOMAIN.md §7, `00 20 00 00 03` + PIN).
# The tries probe must name the same reference, or it would report another PIN's counter.
PIN_REFERENCE = 0x00
MAX_CHAINED_RESPONSES = 16  # 61xx chains longer than this are a broken card, not a long answer
MAX_RESPONSE = 256  # a short APDU answer carries at most 256 data bytes (+ SW)

EF05 = 5  # card data
EF06 = 6  # holder data

# Record id (= TLV tag) -> exact record length (tag + length + value) for READ RECORD's Le.
# 4E (name extension) has no fixed length: it is read with Le = 00 (a T=0 card answers 6Cxx with the length).
REC_CARD_ID = 0x01  # 16 bytes; the first 6 BCD digits are the issuing area
REC_SPEC_VERSION = 0x03  # "2.00" / "3.00"
REC_EXPIRY = 0x06  # BCD YYYYMMDD
REC_CARD_NO = 0x07  # 9 characters
REC_CERTNO = 0x08  # 18 characters
REC_NAME = 0x09  # 30 bytes GBK, padded with 00 or spaces
REC_NAME_EXT = 0x4E  # the rest of a long name, GBK
NAME_BYTES = 30
RECORD_LENGTH = {
    REC_CARD_ID: 2 + 16,
    0x02: 2 + 1,
    REC_SPEC_VERSION: 2 + 4,
    0x04: 2 + 11,
    0x05: 2 + 4,
    REC_EXPIRY: 2 + 4,
    REC_CARD_NO: 2 + 9,
    REC_CERTNO: 2 + 18,
    REC_NAME: 2 + 30,
    0x0A: 2 + 1,
    0x0B: 2 + 1,
    0x0C: 2 + 3,
    0x0D: 2 + 4,
}

Transmit = Callable[[bytes], tuple[bytes, int]]


def apdu_select_ssse() -> bytes:
    return bytes([0x00, 0xA4, 0x04, 0x00, len(SSSE_AID)]) + SSSE_AID


def apdu_read_record(sfi: int, record: int, le: int | None = None) -> bytes:
    """READ RECORD `record` of the file with short id `sfi` (P2 = SFI << 3 | 4: 'record number in P1')."""
    length = RECORD_LENGTH.get(record, 0) if le is None else le
    return bytes([0x00, 0xB2, record, (sfi << 3) | 0x04, length & 0xFF])


def apdu_verify(pin: str) -> bytes:
    if len(pin) != 6 or not pin.isdigit():
        raise ValueError("a card PIN is 6 digits")
    return bytes([0x00, 0x20, 0x00, PIN_REFERENCE, 0x03]) + bytes.fromhex(pin)


def apdu_pin_tries() -> bytes:
    """VERIFY with no data (ISO 7816-4 case 1: Lc absent): the card answers 63Cx (x tries left), 6983
    (blocked) or 9000 (already verified) and compares nothing, so no try is used."""
    return bytes([0x00, 0x20, 0x00, PIN_REFERENCE])


def redact(apdu: bytes) -> str:
    """The APDU as hex for the debug log, with a VERIFY's PIN bytes replaced."""
    if len(apdu) > 5 and apdu[1] == 0x20:
        return apdu[:5].hex(" ").upper() + " " + " ".join("**" for _ in apdu[5:])
    return apdu.hex(" ").upper()


class Channel:
    """A card conversation: T=0 answers handled (61xx → GET RESPONSE, 6Cxx → resend with Le), APDU traffic
    logged at debug level with PIN bytes redacted, and a count of the APDUs sent (for the benchmark)."""

    def __init__(self, transmit: Transmit) -> None:
        self._transmit = transmit
        self.apdus = 0

    def _send(self, apdu: bytes) -> tuple[bytes, int]:
        self.apdus += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug("card > %s", redact(apdu))
        data, sw = self._transmit(apdu)
        if log.isEnabledFor(logging.DEBUG):
            # answers to VERIFY carry no data; holder data is personal, so only its length is logged
            log.debug("card < %d bytes, SW %04X", len(data), sw)
        if not (0 <= sw <= 0xFFFF) or len(data) > MAX_RESPONSE:
            raise CardError("malformed_answer", f"answer of {len(data)} bytes, SW {sw:X}")
        return data, sw

    def command(self, apdu: bytes, *, want_data: bool = True) -> tuple[bytes, int]:
        """Send `apdu`; returns the whole answer and the final SW. `want_data=False` takes 61xx as success
        without fetching the data (a SELECT's FCI is not needed): one APDU less on T=0 cards."""
        data, sw = self._send(apdu)
        if not want_data and sw >> 8 == 0x61:
            return data, SW_OK
        if sw >> 8 == 0x6C and len(apdu) == 5:  # wrong Le (case 2 only): the card says how many bytes it has
            data, sw = self._send(apdu[:4] + bytes([sw & 0xFF]))
        collected = bytearray(data)
        chained = 0
        while sw >> 8 == 0x61:  # more data waiting: GET RESPONSE
            chained += 1
            if chained > MAX_CHAINED_RESPONSES or len(collected) > 4096:
                raise CardError("malformed_answer", "endless 61xx chain")
            data, sw = self._send(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
            if sw >> 8 == 0x6C:
                data, sw = self._send(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
            collected += data
        return bytes(collected), sw


class Authenticator(Protocol):
    """The seam for a PSAM (secure module in a second slot): runs the card's external authentication so
    that a 3rd-generation card opens EF06. The kiosk has none yet; such cards are identified by card number
    + issuing area through central."""

    def authenticate(self, channel: Channel) -> bool:
        """Return True when the card now lets EF06 be read."""


def parse_record(record: bytes, expected_tag: int) -> bytes:
    """One record is one TLV whose tag is the record id; returns the value, or raises malformed_answer."""
    if len(record) < 2:
        raise CardError("malformed_answer", f"record {expected_tag:02X}: {len(record)} bytes")
    tag, length = record[0], record[1]
    if tag != expected_tag:
        raise CardError("malformed_answer", f"record {expected_tag:02X}: tag {tag:02X}")
    if length > len(record) - 2:
        raise CardError(
            "malformed_answer", f"record {expected_tag:02X}: truncated ({len(record) - 2}/{length})"
        )
    return record[2 : 2 + length]


def parse_bcd_date(value: bytes, what: str) -> dt.date:
    digits = value.hex()
    if len(digits) != 8 or not digits.isdigit():
        raise CardError("malformed_answer", f"{what}: not a BCD date")
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise CardError("malformed_answer", f"{what}: not a date") from None


def decode_ascii(value: bytes, what: str, *, length: int | None = None) -> str:
    text = value.rstrip(b"\x00 ")
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError:
        raise CardError("malformed_answer", f"{what}: not ASCII") from None
    if not decoded.isprintable() or (length is not None and len(decoded) != length):
        raise CardError("malformed_answer", f"{what}: {len(decoded)} characters")
    return decoded


def decode_name(base: bytes, extension: bytes = b"") -> str:
    """A GBK name: 30 bytes padded with 00 or spaces, continued by the 4E extension for long names."""
    raw = (base.rstrip(b"\x00 ") if not extension else base.rstrip(b"\x00")) + extension.rstrip(b"\x00 ")
    raw = raw.rstrip(b"\x00 ")
    try:
        name = raw.decode("gbk")
    except UnicodeDecodeError:
        raise CardError("malformed_answer", "name: not GBK") from None
    if not name or not name.isprintable():
        raise CardError("malformed_answer", "name: empty or unprintable")
    return name


def issuing_area(card_id: bytes) -> str:
    digits = card_id[:3].hex()
    if len(card_id) != 16 or not digits.isdigit():
        raise CardError("malformed_answer", "card identification code")
    return digits


@dataclass
class SocialSecurityCard:
    """Reads and checks one inserted card over `transmit`. `today` decides expiry; `authenticator` is the
    PSAM seam for 3rd-generation cards."""

    transmit: Transmit
    today: Callable[[], dt.date] = dt.date.today
    authenticator: Authenticator | None = None

    def __post_init__(self) -> None:
        self.channel = Channel(self.transmit)
        self._selected = False

    def select(self) -> None:
        _data, sw = self.channel.command(apdu_select_ssse(), want_data=False)
        if sw in (
            SW_FILE_NOT_FOUND,
            SW_WRONG_P1P2,
            SW_INS_NOT_SUPPORTED,
            SW_CLA_NOT_SUPPORTED,
            0x6A81,
            0x6999,
        ):
            raise CardError("not_social_security_card", f"SELECT SSSE answered {sw:04X}")
        if sw != SW_OK:
            raise CardError("malformed_answer", f"SELECT SSSE answered {sw:04X}")
        self._selected = True

    def record(self, sfi: int, rec: int) -> bytes | None:
        """The value of record `rec` of EF `sfi`; None when the card refuses it (6982: needs the PSAM)."""
        data, sw = self.channel.command(apdu_read_record(sfi, rec))
        if sw == SW_SECURITY_NOT_SATISFIED:
            return None
        if sw == SW_FILE_NOT_FOUND and sfi == EF05:
            raise CardError("not_social_security_card", "no EF05")
        if sw != SW_OK:
            raise CardError("malformed_answer", f"READ RECORD {sfi:02X}/{rec:02X} answered {sw:04X}")
        return parse_record(data, rec)

    def required(self, sfi: int, rec: int) -> bytes:
        value = self.record(sfi, rec)
        if value is None:
            raise CardError("malformed_answer", f"record {sfi:02X}/{rec:02X} refused")
        return value

    def read(self) -> CardData:
        """SELECT SSSE, then EF05 01/03/07 (and 06 expiry when readable), then EF06 08/09 when the card lets
        us, and 4E only when 09 is full (a long name): 7 APDUs for a 2nd-generation card, 8 with a long name
        (9 on T=0, where the Le=00 read of 4E is answered 6Cxx and sent again); 4 for a 3rd-generation one."""
        self.select()
        area = issuing_area(self.required(EF05, REC_CARD_ID))
        version = decode_ascii(self.required(EF05, REC_SPEC_VERSION), "spec version")
        if version.startswith("2."):
            generation = 2
        elif version.startswith("3."):
            generation = 3
        else:
            raise CardError("not_social_security_card", f"spec version {version!r}")
        card_no = decode_ascii(self.required(EF05, REC_CARD_NO), "card number", length=9)
        if not card_no.isalnum():
            raise CardError("malformed_answer", "card number: not alphanumeric")
        if generation == 3 and not (self.authenticator and self.authenticator.authenticate(self.channel)):
            # Without a PSAM only 01, 03 and 07 answer: the holder is identified through central.
            return CardData(card_no=card_no, issuing_admdvs=area, generation=3)
        expiry = self.record(EF05, REC_EXPIRY)
        if expiry is not None and parse_bcd_date(expiry, "expiry") < self.today():
            raise CardError("card_expired")
        certno_raw = self.record(EF06, REC_CERTNO)
        if certno_raw is None:  # a card that locks EF06 even so: identify it like a 3rd-generation one
            return CardData(card_no=card_no, issuing_admdvs=area, generation=generation)
        certno = decode_ascii(certno_raw, "ID number", length=18)
        base = self.required(EF06, REC_NAME)
        # A padded record 09 holds the whole name; only a full one may continue in 4E.
        complete = len(base) < NAME_BYTES or base[-1:] in (b"\x00", b" ")
        name = decode_name(base, b"" if complete else self._name_extension())
        return CardData(card_no=card_no, issuing_admdvs=area, generation=generation, certno=certno, name=name)

    def _name_extension(self) -> bytes:
        data, sw = self.channel.command(apdu_read_record(EF06, REC_NAME_EXT, le=0))
        if sw in (SW_RECORD_NOT_FOUND, SW_FILE_NOT_FOUND, SW_SECURITY_NOT_SATISFIED):
            return b""  # older 2nd-generation cards have no 4E
        if sw != SW_OK:
            raise CardError("malformed_answer", f"READ RECORD 4E answered {sw:04X}")
        return parse_record(data, REC_NAME_EXT) if data else b""

    def verify_pin(self, pin: str) -> PinResult:
        if not self._selected:
            self.select()
        _data, sw = self.channel.command(apdu_verify(pin))
        if sw == SW_OK:
            return PinResult(True, MAX_PIN_TRIES)
        if sw == SW_PIN_BLOCKED:
            return PinResult(False, 0, blocked=True)
        if sw & 0xFFF0 == 0x63C0:
            left = sw & 0x0F
            return PinResult(False, left, blocked=left == 0)
        raise CardError("malformed_answer", f"VERIFY answered {sw:04X}")

    def pin_tries(self) -> int | None:
        """Tries left before the PIN blocks, asked with a VERIFY without data (no try used): 63Cx → x,
        6983 → 0, 9000 (verified earlier on this connection; that success reset the counter) →
        MAX_PIN_TRIES. Any other answer, or one carrying data, is a card that does not tell: None, and
        the PIN is asked for as before. Raises CardError only as every command does (transport errors,
        an answer no card gives: SW out of range, oversized, endless 61xx)."""
        if not self._selected:
            self.select()
        data, sw = self.channel.command(apdu_pin_tries())
        if data:
            log.info("VERIFY without data answered %d bytes and SW %04X: tries unknown", len(data), sw)
            return None
        if sw == SW_PIN_BLOCKED:
            return 0
        if sw & 0xFFF0 == 0x63C0:
            return sw & 0x0F
        if sw == SW_OK:
            return MAX_PIN_TRIES
        # 6A86 / 6D00 / 6700 (cards that do not know the probe) and the like
        log.info("VERIFY without data answered %04X: tries unknown", sw)
        return None
