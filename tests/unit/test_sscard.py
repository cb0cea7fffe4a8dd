"""The social security card profile (DOMAIN.md §7) against the in-process virtual card: SELECT SSSE, EF05/EF06
records, GBK names with the 4E extension, T=0 61xx/6Cxx handling, PIN tries (and asking for them without using
one), broken answers, log redaction."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.reader import CardData, CardError, PinResult
from devices.sscard import (
    EF05,
    EF06,
    MAX_PIN_TRIES,
    REC_CARD_NO,
    REC_NAME,
    REC_NAME_EXT,
    SSSE_AID,
    SW_OK,
    Channel,
    SocialSecurityCard,
    apdu_pin_tries,
    apdu_read_record,
    apdu_select_ssse,
    apdu_verify,
    decode_name,
    redact,
)
from devices.virtual_card import CardApplet, CardPerson, Fault, expired, make_atr
from kiosk.demo import card_person

TODAY = dt.date(2025, 6, 1)  # fixed: the virtual cards expire on a fixed date (2031-03-01)
LONG_NAME = "阿卜杜热合曼·买买提艾力·吐尔逊江·艾合买提"  # 22 characters = 44 GBK bytes: 30 in 09, 14 in 4E

SELECT_HEX = "00 A4 04 00 0F 73 78 31 2E 73 68 2E C9 E7 BB E1 B1 A3 D5 CF"


def _today() -> dt.date:
    return TODAY


def _person(name: str = "袁龙", **changes: object) -> CardPerson:
    person = CardPerson(card_no="G00000001", issuing_admdvs="331100", certno="332531198110055835", name=name)
    return dataclasses.replace(person, **changes)


class Recorder:
    """Wraps a transmit function and keeps every command APDU sent through it."""

    def __init__(self, transmit: Callable[[bytes], tuple[bytes, int]]) -> None:
        self._transmit = transmit
        self.sent: list[str] = []

    def __call__(self, apdu: bytes) -> tuple[bytes, int]:
        self.sent.append(apdu.hex(" ").upper())
        return self._transmit(apdu)


def scripted(answers: dict[str, tuple[bytes, int]]) -> Recorder:
    """A hand-written card: answers looked up by the APDU's hex; anything else is 6D00."""

    def transmit(apdu: bytes) -> tuple[bytes, int]:
        return answers.get(apdu.hex(" ").upper(), (b"", 0x6D00))

    return Recorder(transmit)


def _card(applet: CardApplet, today: Callable[[], dt.date] = _today) -> SocialSecurityCard:
    return SocialSecurityCard(applet.transmit, today=today)


# --- APDU bytes --------------------------------------------------------------------------------------------


def test_select_and_read_record_apdus_match_the_profile() -> None:
    assert apdu_select_ssse().hex(" ").upper() == SELECT_HEX
    assert bytes.fromhex("7378312E73682EC9E7BBE1B1A3D5CF") == SSSE_AID
    assert apdu_read_record(EF05, REC_CARD_NO) == bytes.fromhex("00B2072C0B")
    assert apdu_read_record(EF06, REC_NAME) == bytes.fromhex("00B2093420")
    assert apdu_read_record(EF06, REC_NAME_EXT, le=0) == bytes.fromhex("00B24E3400")


def test_verify_apdu_is_bcd_pin() -> None:
    assert apdu_verify("123456") == bytes.fromhex("00200000 03 123456")
    assert apdu_verify("090807") == bytes.fromhex("00200000 03 090807")


@pytest.mark.parametrize(
    "pin", ["12345", "1234567", "", "12345a", "12 456", "１２３４５６", "١٢٣٤٥٦", "²²²²²²"]
)
def test_verify_rejects_a_pin_that_is_not_six_digits(pin: str) -> None:
    with pytest.raises(ValueError):
        apdu_verify(pin)


def test_pin_tries_apdu_is_verify_without_data_for_the_same_pin() -> None:
    assert apdu_pin_tries() == bytes.fromhex("00200000")  # case 1: no Lc, no data, no Le
    assert apdu_pin_tries() == apdu_verify("123456")[:4]  # same P2: the same PIN's counter


def test_redact_hides_pin_bytes_only_in_verify() -> None:
    assert redact(apdu_verify("123456")) == "00 20 00 00 03 ** ** **"
    assert redact(apdu_pin_tries()) == "00 20 00 00"
    assert redact(bytes.fromhex("00B2072C0B")) == "00 B2 07 2C 0B"


def test_atr_shapes() -> None:
    t0 = make_atr("G00000001", t0=True)
    assert t0[:4] == bytes.fromhex("3B6D0000") and len(t0) == 4 + 13
    t1 = make_atr("G00000001", t0=False)
    assert t1[0] == 0x3B and t1[1] & 0x0F == 13
    check = 0
    for b in t1[1:]:
        check ^= b
    assert check == 0  # T=1 ATRs carry TCK: XOR of T0..TCK is zero
    assert make_atr("G00000001", t0=True) != make_atr("G00000002", t0=True)  # serial from the card number


# --- reading ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t0", [False, True], ids=["T1", "T0"])
def test_second_generation_read(t0: bool) -> None:
    person, generation, _locked = card_person("1")
    assert generation == 2
    applet = CardApplet(person, generation=2, t0=t0)
    card = _card(applet)
    data = card.read()
    assert isinstance(data, CardData)
    assert data.card_no == person.card_no == "G00000001"
    assert data.issuing_admdvs == person.issuing_admdvs == "331100"
    assert data.certno == person.certno
    assert data.name == person.name
    assert data.generation == 2
    assert len(person.name.encode("gbk")) < 30  # record 09 is padded: no 4E read
    assert card.channel.apdus == 7
    assert applet.apdus == 7


@pytest.mark.parametrize("t0", [False, True], ids=["T1", "T0"])
def test_second_generation_read_sends_the_expected_apdus(t0: bool) -> None:
    applet = CardApplet(_person(), t0=t0)
    recorder = Recorder(applet.transmit)
    SocialSecurityCard(recorder, today=_today).read()
    assert recorder.sent == [
        SELECT_HEX,
        "00 B2 01 2C 12",
        "00 B2 03 2C 06",
        "00 B2 07 2C 0B",
        "00 B2 06 2C 06",
        "00 B2 08 34 14",
        "00 B2 09 34 20",
    ]


@pytest.mark.parametrize("t0", [False, True], ids=["T1", "T0"])
def test_third_generation_read(t0: bool) -> None:
    person, generation, _locked = card_person("2")
    assert generation == 3
    card = _card(CardApplet(person, generation=3, t0=t0))
    data = card.read()
    assert data.card_no == person.card_no
    assert data.issuing_admdvs == person.issuing_admdvs == "330100"
    assert data.generation == 3
    assert data.certno is None
    assert data.name is None
    assert card.channel.apdus == 4


def test_third_generation_with_authenticator_that_fails_reads_only_ef05() -> None:
    calls: list[Channel] = []

    class NoPsam:
        def authenticate(self, channel: Channel) -> bool:
            calls.append(channel)
            return False

    applet = CardApplet(_person(), generation=3)
    card = SocialSecurityCard(applet.transmit, today=_today, authenticator=NoPsam())
    data = card.read()
    assert (data.generation, data.certno, data.name) == (3, None, None)
    assert calls == [card.channel]
    assert card.channel.apdus == 4


@pytest.mark.parametrize(("t0", "apdus"), [(False, 8), (True, 9)], ids=["T1", "T0"])
def test_long_name_is_joined_from_record_09_and_4e(t0: bool, apdus: int) -> None:
    assert len(LONG_NAME) > 15
    applet = CardApplet(_person(LONG_NAME), t0=t0)
    assert (EF06, REC_NAME_EXT) in applet.records
    card = _card(applet)
    data = card.read()
    assert data.name == LONG_NAME
    assert data.certno == "332531198110055835"
    # T=1 answers Le=00 with the whole 4E; T=0 answers 6Cxx first and 4E is read again with the right Le
    assert card.channel.apdus == apdus


def test_long_name_split_inside_a_character_decodes_whole() -> None:
    name = "A" + "热合曼买买提艾力吐尔逊江艾合买提阿卜杜"  # byte 30 is the lead byte of a GBK character
    raw = name.encode("gbk")
    assert len(raw) > 30 and raw[29] >= 0x81
    data = _card(CardApplet(_person(name))).read()
    assert data.name == name


def test_long_name_without_4e_is_cut_to_record_09() -> None:
    data = _card(CardApplet(_person(LONG_NAME), with_name_extension=False)).read()
    assert data.name == LONG_NAME[:15]


def test_long_name_cut_inside_a_character_without_4e_is_malformed() -> None:
    name = "A" + "热合曼买买提艾力吐尔逊江艾合买提阿卜杜"
    with pytest.raises(CardError) as err:
        _card(CardApplet(_person(name), with_name_extension=False)).read()
    assert err.value.key == "malformed_answer"


@pytest.mark.parametrize("pad", [b"\x00", b" "], ids=["zeros", "spaces"])
@pytest.mark.parametrize("name", ["张三", "欧阳娜娜", "谭敏莉"])
def test_name_padding_with_zeros_or_spaces(pad: bytes, name: str) -> None:
    applet = CardApplet(_person(name))
    applet.records[(EF06, REC_NAME)] = bytes([REC_NAME, 30]) + name.encode("gbk").ljust(30, pad)
    assert _card(applet).read().name == name


def test_decode_name_cases() -> None:
    base = LONG_NAME.encode("gbk")[:30]
    ext = LONG_NAME.encode("gbk")[30:]
    assert decode_name(base, ext) == LONG_NAME
    assert decode_name(base, ext + b"\x00" * 6) == LONG_NAME
    assert decode_name(base, ext + b"  ") == LONG_NAME
    assert decode_name("张三".encode("gbk") + b"  " + b"\x00" * 24) == "张三"
    assert decode_name("张三".encode("gbk").ljust(30, b" "), b"\x00" * 8) == "张三"
    for bad in (b"\x00" * 30, b" " * 30, b"\xff\xff" + b"\x00" * 28, b"\x01\x02" + b"\x00" * 28):
        with pytest.raises(CardError) as err:
            decode_name(bad)
        assert err.value.key == "malformed_answer"


# --- T=0 handling -------------------------------------------------------------------------------------------


def test_61xx_fetches_the_answer_with_get_response() -> None:
    recorder = scripted(
        {
            "00 B2 07 2C 0B": (b"", 0x6105),
            "00 C0 00 00 05": (b"\x01\x02\x03\x04\x05", SW_OK),
        }
    )
    channel = Channel(recorder)
    assert channel.command(bytes.fromhex("00B2072C0B")) == (b"\x01\x02\x03\x04\x05", SW_OK)
    assert recorder.sent == ["00 B2 07 2C 0B", "00 C0 00 00 05"]
    assert channel.apdus == 2


def test_61xx_chain_collects_every_part() -> None:
    recorder = scripted(
        {
            "00 B2 07 2C 0B": (b"ab", 0x6103),
            "00 C0 00 00 03": (b"cde", 0x6101),
            "00 C0 00 00 01": (b"f", SW_OK),
        }
    )
    assert Channel(recorder).command(bytes.fromhex("00B2072C0B")) == (b"abcdef", SW_OK)
    assert recorder.sent == ["00 B2 07 2C 0B", "00 C0 00 00 03", "00 C0 00 00 01"]


def test_6cxx_resends_with_the_right_le() -> None:
    record = bytes([0x07, 0x09]) + b"G00000001"
    recorder = scripted(
        {
            "00 B2 07 2C 00": (b"", 0x6C0B),
            "00 B2 07 2C 0B": (record, SW_OK),
        }
    )
    channel = Channel(recorder)
    assert channel.command(bytes.fromhex("00B2072C00")) == (record, SW_OK)
    assert recorder.sent == ["00 B2 07 2C 00", "00 B2 07 2C 0B"]
    assert channel.apdus == 2


def test_get_response_answered_6cxx_is_resent_with_that_le() -> None:
    recorder = scripted(
        {
            "00 A4 04 00 02 3F 00": (b"", 0x6105),
            "00 C0 00 00 05": (b"", 0x6C03),
            "00 C0 00 00 03": (b"xyz", SW_OK),
        }
    )
    assert Channel(recorder).command(bytes.fromhex("00A40400023F00")) == (b"xyz", SW_OK)
    assert recorder.sent == ["00 A4 04 00 02 3F 00", "00 C0 00 00 05", "00 C0 00 00 03"]


def test_61xx_without_wanting_data_is_one_apdu() -> None:
    recorder = scripted({SELECT_HEX: (b"", 0x6112)})
    channel = Channel(recorder)
    assert channel.command(apdu_select_ssse(), want_data=False) == (b"", SW_OK)
    assert recorder.sent == [SELECT_HEX]


def test_endless_61xx_chain_is_malformed() -> None:
    channel = Channel(lambda apdu: (b"\x00", 0x6101))
    with pytest.raises(CardError) as err:
        channel.command(bytes.fromhex("00B2072C0B"))
    assert err.value.key == "malformed_answer"
    assert channel.apdus == 17  # the command + 16 GET RESPONSEs


def test_t0_get_response_on_the_virtual_card_returns_the_fci() -> None:
    applet = CardApplet(_person(), t0=True)
    data, sw = Channel(applet.transmit).command(apdu_select_ssse())
    assert sw == SW_OK
    assert data == bytes([0x6F, 2 + 15, 0x84, 15]) + SSSE_AID


# --- PIN ----------------------------------------------------------------------------------------------------


def test_right_pin_resets_the_tries() -> None:
    applet = CardApplet(_person(), pin="654321")
    card = _card(applet)
    assert card.verify_pin("123456") == PinResult(False, 2)
    assert applet.tries_left == 2
    assert card.verify_pin("654321") == PinResult(True, 3)
    assert applet.tries_left == 3
    assert card.channel.apdus == 3  # SELECT once, then two VERIFYs


@pytest.mark.parametrize("t0", [False, True], ids=["T1", "T0"])
def test_wrong_pin_counts_down_then_blocks(t0: bool) -> None:
    applet = CardApplet(_person(), t0=t0)
    card = _card(applet)
    assert card.verify_pin("000000") == PinResult(False, 2, blocked=False)
    assert card.verify_pin("111111") == PinResult(False, 1, blocked=False)
    assert card.verify_pin("222222") == PinResult(False, 0, blocked=True)
    assert card.verify_pin("123456") == PinResult(False, 0, blocked=True)  # the right PIN no longer helps
    applet.reset()
    again = _card(applet)
    assert again.verify_pin("123456") == PinResult(False, 0, blocked=True)
    assert applet.tries_left == 0


def test_locked_demo_card_is_blocked() -> None:
    person, generation, locked = card_person("7")
    assert locked
    card = _card(CardApplet(person, generation=generation, tries_left=0))
    assert card.verify_pin("123456").blocked


def test_63c0_means_blocked_and_unknown_sw_is_malformed() -> None:
    card = SocialSecurityCard(scripted({SELECT_HEX: (b"", SW_OK), "00 20 00 00 03 12 34 56": (b"", 0x63C0)}))
    assert card.verify_pin("123456") == PinResult(False, 0, blocked=True)
    card = SocialSecurityCard(scripted({SELECT_HEX: (b"", SW_OK), "00 20 00 00 03 12 34 56": (b"", 0x6700)}))
    with pytest.raises(CardError) as err:
        card.verify_pin("123456")
    assert err.value.key == "malformed_answer"


def test_verify_pin_with_a_bad_pin_raises_and_sends_no_verify() -> None:
    applet = CardApplet(_person())
    recorder = Recorder(applet.transmit)
    with pytest.raises(ValueError):
        SocialSecurityCard(recorder).verify_pin("12345")
    assert not any(apdu.startswith("00 20") for apdu in recorder.sent)
    assert applet.tries_left == 3


# --- PIN tries, asked without using one (VERIFY with no data) -------------------------------------------


def _raw_sw(applet: CardApplet, apdu: bytes) -> str:
    return applet.process(apdu)[-2:].hex().upper()


@pytest.mark.parametrize("t0", [False, True], ids=["T1", "T0"])
def test_asking_for_the_tries_uses_none(t0: bool) -> None:
    applet = CardApplet(_person(), t0=t0)
    card = _card(applet)
    assert card.pin_tries() == 3
    assert card.pin_tries() == 3
    assert card.verify_pin("000000") == PinResult(False, 2)
    assert (card.pin_tries(), card.pin_tries()) == (2, 2)
    assert applet.tries_left == 2
    assert card.verify_pin("111111") == PinResult(False, 1)
    assert card.pin_tries() == 1  # the last try: the kiosk warns before it
    assert applet.tries_left == 1
    assert card.channel.apdus == 1 + 5 + 2  # SELECT once, five probes, two VERIFYs


def test_a_blocked_card_says_0_and_the_right_pin_still_fails() -> None:
    applet = CardApplet(_person(), tries_left=1)
    card = _card(applet)
    assert card.verify_pin("000000").blocked
    assert card.pin_tries() == 0
    assert card.verify_pin("123456") == PinResult(False, 0, blocked=True)
    assert card.pin_tries() == 0
    person, generation, locked = card_person("7")  # the locked demo card
    assert locked and _card(CardApplet(person, generation=generation, tries_left=0)).pin_tries() == 0


def test_a_verified_pin_answers_9000_until_a_wrong_pin_or_a_reset() -> None:
    applet = CardApplet(_person())
    card = _card(applet)
    assert card.verify_pin("000000") == PinResult(False, 2)
    assert card.verify_pin("123456").ok
    assert _raw_sw(applet, apdu_pin_tries()) == "9000"
    assert card.pin_tries() == MAX_PIN_TRIES  # the success reset the counter
    assert card.verify_pin("000000") == PinResult(False, 2)  # a wrong PIN ends the verified status
    assert _raw_sw(applet, apdu_pin_tries()) == "63C2"
    assert card.verify_pin("123456").ok
    applet.reset()  # the kiosk resets the card when it lets go of it: the next citizen is not verified
    assert _raw_sw(applet, apdu_pin_tries()) == "63C3"


def test_the_virtual_card_takes_t0s_p3_00_as_no_data() -> None:
    applet = CardApplet(_person(), t0=True, tries_left=2)
    assert _raw_sw(applet, apdu_pin_tries() + b"\x00") == "63C2"  # case 1 over T=0 carries P3 = 00
    assert applet.tries_left == 2


def test_a_verify_with_data_still_answers_as_before() -> None:
    applet = CardApplet(_person())
    assert _raw_sw(applet, bytes.fromhex("00200000 02 1234")) == "6700"  # wrong length: no try used
    assert _raw_sw(applet, bytes.fromhex("00200000 03 123456 00")) == "6700"
    assert applet.tries_left == 3
    assert _raw_sw(applet, apdu_verify("000000")) == "63C2"
    assert _raw_sw(applet, apdu_verify("123456")) == "9000"


@pytest.mark.parametrize(
    ("sw", "tries"),
    [
        (0x63C3, 3),
        (0x63C1, 1),
        (0x63C0, 0),  # some cards say "no tries left" rather than 6983
        (0x63CF, 15),  # the card's own maximum, not ours
        (0x6983, 0),
        (0x9000, MAX_PIN_TRIES),
        (0x6A86, None),  # cards that do not know VERIFY without data
        (0x6D00, None),
        (0x6700, None),
        (0x6300, None),  # "verification failed", no count
        (0x6982, None),
        (0x6A88, None),  # no such PIN reference
        (0x6F00, None),
    ],
    ids=lambda v: f"{v:04X}" if isinstance(v, int) and v > 0xFF else str(v),
)
def test_each_status_word_to_tries_left(sw: int, tries: int | None) -> None:
    recorder = scripted({SELECT_HEX: (b"", SW_OK), "00 20 00 00": (b"", sw)})
    assert SocialSecurityCard(recorder).pin_tries() == tries
    assert recorder.sent == [SELECT_HEX, "00 20 00 00"]


def test_an_answer_with_data_does_not_tell() -> None:
    recorder = scripted({SELECT_HEX: (b"", SW_OK), "00 20 00 00": (b"\x01\x02", 0x63C2)})
    assert SocialSecurityCard(recorder).pin_tries() is None


def test_a_61xx_answer_is_fetched_and_its_data_means_unknown() -> None:
    recorder = scripted(
        {SELECT_HEX: (b"", SW_OK), "00 20 00 00": (b"", 0x6102), "00 C0 00 00 02": (b"\x63\xc2", SW_OK)}
    )
    assert SocialSecurityCard(recorder).pin_tries() is None  # not "verified": 9000 came with data


@pytest.mark.parametrize(
    "answer", [(b"", -1), (b"", 0x10000), (bytes(257), 0x63C2)], ids=["no-sw", "sw-too-big", "oversized"]
)
def test_a_broken_answer_is_malformed(answer: tuple[bytes, int]) -> None:
    card = SocialSecurityCard(scripted({SELECT_HEX: (b"", SW_OK), "00 20 00 00": answer}))
    with pytest.raises(CardError) as err:
        card.pin_tries()
    assert err.value.key == "malformed_answer"


def test_asking_for_the_tries_selects_once_and_not_after_a_read() -> None:
    applet = CardApplet(_person())
    recorder = Recorder(applet.transmit)
    card = SocialSecurityCard(recorder, today=_today)
    card.read()
    read_apdus = len(recorder.sent)
    assert card.pin_tries() == 3
    assert recorder.sent[read_apdus:] == ["00 20 00 00"]
    fresh = Recorder(applet.transmit)
    assert SocialSecurityCard(fresh).pin_tries() == 3
    assert fresh.sent == [SELECT_HEX, "00 20 00 00"]


def test_asking_a_card_without_ssse_is_refused_like_a_read() -> None:
    card = _card(CardApplet(_person(), social_security=False))
    with pytest.raises(CardError) as err:
        card.pin_tries()
    assert err.value.key == "not_social_security_card"


def test_the_tries_probe_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="kiosk.card")
    assert _card(CardApplet(_person())).pin_tries() == 3
    messages = [record.getMessage() for record in caplog.records]
    assert messages[-2:] == ["card > 00 20 00 00", "card < 0 bytes, SW 63C3"]


# --- refusals -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t0", [False, True], ids=["T1", "T0"])
@pytest.mark.parametrize("fault", [f for f in Fault if f is not Fault.NONE], ids=lambda f: f.value)
def test_every_fault_is_a_malformed_answer(fault: Fault, t0: bool) -> None:
    with pytest.raises(CardError) as err:
        _card(CardApplet(_person(), t0=t0, fault=fault)).read()
    assert err.value.key == "malformed_answer"


def test_fault_none_reads_normally() -> None:
    assert _card(CardApplet(_person(), fault=Fault.NONE)).read().card_no == "G00000001"


@pytest.mark.parametrize("t0", [False, True], ids=["T1", "T0"])
def test_card_without_ssse_is_not_a_social_security_card(t0: bool) -> None:
    card = _card(CardApplet(_person(), t0=t0, social_security=False))
    with pytest.raises(CardError) as err:
        card.read()
    assert err.value.key == "not_social_security_card"
    assert card.channel.apdus == 1


def test_unknown_spec_version_is_not_a_social_security_card() -> None:
    applet = CardApplet(_person())
    applet.records[(EF05, 0x03)] = bytes([0x03, 4]) + b"9.00"
    with pytest.raises(CardError) as err:
        _card(applet).read()
    assert err.value.key == "not_social_security_card"


@pytest.mark.parametrize("t0", [False, True], ids=["T1", "T0"])
def test_expired_card(t0: bool) -> None:
    today = dt.date(2026, 1, 15)
    person = expired(_person(), today)
    assert person.expires == dt.date(2026, 1, 14)
    with pytest.raises(CardError) as err:
        SocialSecurityCard(CardApplet(person, t0=t0).transmit, today=lambda: today).read()
    assert err.value.key == "card_expired"


@pytest.mark.parametrize(
    "expiry",
    ["20251340", "20250230", "00000101", "ABCD0101", "202501", "2025010101"],
    ids=["month-13", "feb-30", "year-0", "not-bcd", "short", "long"],
)
def test_bad_expiry_date_is_malformed(expiry: str) -> None:
    applet = CardApplet(_person())
    value = bytes.fromhex(expiry)
    applet.records[(EF05, 0x06)] = bytes([0x06, len(value)]) + value
    with pytest.raises(CardError) as err:
        _card(applet).read()
    assert err.value.key == "malformed_answer"


def test_card_expiring_today_is_still_valid() -> None:
    today = dt.date(2026, 1, 15)
    person = _person(expires=today)
    data = SocialSecurityCard(CardApplet(person).transmit, today=lambda: today).read()
    assert data.certno == person.certno


def test_expired_third_generation_card_is_read_since_its_expiry_is_locked() -> None:
    today = dt.date(2026, 1, 15)
    person = expired(_person(), today)
    data = SocialSecurityCard(CardApplet(person, generation=3).transmit, today=lambda: today).read()
    assert data.generation == 3


def test_expired_helper_on_leap_day() -> None:  # was a crash on 29 February
    person = expired(_person(), dt.date(2024, 2, 29))
    assert person.expires == dt.date(2024, 2, 28)


def test_answer_longer_than_256_data_bytes_is_malformed() -> None:
    channel = Channel(lambda apdu: (bytes(257), SW_OK))
    with pytest.raises(CardError) as err:
        channel.command(bytes.fromhex("00B2072C00"))
    assert err.value.key == "malformed_answer"


def test_answer_of_256_data_bytes_is_accepted() -> None:
    assert Channel(lambda apdu: (bytes(256), SW_OK)).command(b"\x00\xb2\x07\x2c\x00") == (bytes(256), SW_OK)


# --- logging ------------------------------------------------------------------------------------------------


def test_pin_is_redacted_in_the_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="kiosk.card")
    card = _card(CardApplet(_person()))
    assert card.verify_pin("123456").ok
    assert "00 20 00 00 03 ** ** **" in caplog.text
    assert "12 34 56" not in caplog.text
    assert "123456" not in caplog.text


def test_holder_data_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="kiosk.card")
    person = _person(LONG_NAME)
    data = _card(CardApplet(person, t0=True)).read()
    assert data.certno == person.certno
    text = caplog.text
    assert "card > " + SELECT_HEX in text  # the traffic was logged
    assert person.certno not in text
    assert person.certno.encode().hex(" ").upper() not in text
    assert person.name not in text
    assert LONG_NAME[:3] not in text


# --- robustness ---------------------------------------------------------------------------------------------


# Raw bytes rarely look like a record, so half the answers are TLVs carrying the tag the kiosk asked for, with
# BCD-looking, ASCII or random values and a right or wrong length byte; status words favour 9000 and the ones
# the profile treats specially, but any 0..FFFF can come.
BCD_BYTES = st.lists(st.integers(0, 99), min_size=0, max_size=8).map(
    lambda xs: bytes(int(str(x), 16) for x in xs)
)
VALUES = st.one_of(
    st.binary(max_size=40),
    BCD_BYTES,
    st.lists(st.integers(0, 99), min_size=4, max_size=4).map(lambda xs: bytes(int(str(x), 16) for x in xs)),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=30).map(str.encode),
    st.text(alphabet="张三丽水·阿卜杜 ", max_size=25).map(lambda t: t.encode("gbk")),
)
STATUS_WORDS = st.one_of(
    st.just(SW_OK),
    st.sampled_from([0x6982, 0x6983, 0x6A82, 0x6A83, 0x6A86, 0x6100, 0x6105, 0x6C00, 0x6C0B, 0x63C0, 0x6F00]),
    st.integers(min_value=0, max_value=0xFFFF),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(min_value=0, max_value=9),
    raw=st.binary(max_size=300),
    tlv=st.none() | st.tuples(VALUES, st.none() | st.integers(0, 255)),
    sw=STATUS_WORDS,
    generation=st.sampled_from([2, 3]),
    t0=st.booleans(),
    long_name=st.booleans(),
)
def test_any_answer_is_card_data_or_card_error(
    k: int,
    raw: bytes,
    tlv: tuple[bytes, int | None] | None,
    sw: int,
    generation: int,
    t0: bool,
    long_name: bool,
) -> None:
    applet = CardApplet(_person(LONG_NAME if long_name else "袁龙"), generation=generation, t0=t0)
    sent = 0

    def transmit(apdu: bytes) -> tuple[bytes, int]:
        nonlocal sent
        answer = applet.transmit(apdu)  # the card still sees the command (its state moves on)
        sent += 1
        if sent - 1 != k:
            return answer
        if tlv is None:
            return raw, sw
        value, length = tlv
        tag = apdu[2] if len(apdu) > 2 and apdu[1] == 0xB2 else (raw[0] if raw else 0)
        return bytes([tag, len(value) & 0xFF if length is None else length]) + value, sw

    try:
        result = SocialSecurityCard(transmit, today=_today).read()
    except CardError as err:
        assert err.key in {"malformed_answer", "not_social_security_card", "card_expired"}
    else:
        assert isinstance(result, CardData)
        assert result.generation in (2, 3)
        assert len(result.card_no) == 9 and result.card_no.isalnum()
        assert len(result.issuing_admdvs) == 6 and result.issuing_admdvs.isdigit()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    record=st.sampled_from(
        [(EF05, 0x01), (EF05, 0x03), (EF05, 0x06), (EF05, 0x07), (EF06, 0x08), (EF06, 0x09), (EF06, 0x4E)]
    ),
    value=VALUES,
    length=st.none() | st.integers(0, 255),
    t0=st.booleans(),
)
def test_any_record_content_is_card_data_or_card_error(
    record: tuple[int, int], value: bytes, length: int | None, t0: bool
) -> None:
    """A card whose records hold anything at all (the right tag, any value, a true or false length byte)."""
    applet = CardApplet(_person(LONG_NAME), t0=t0)
    applet.records[record] = bytes([record[1], len(value) if length is None else length]) + value
    try:
        result = _card(applet).read()
    except CardError as err:
        assert err.key in {"malformed_answer", "not_social_security_card", "card_expired"}
    else:
        assert isinstance(result, CardData)
        assert len(result.card_no) == 9 and result.card_no.isalnum()


def test_a_name_filling_record_09_exactly_asks_for_4e_once() -> None:
    """15 CJK characters fill the 30 bytes of 09 with no padding: the reader cannot tell the name is
    complete, asks for 4E, and takes the card's 6A83 (no such record) as 'nothing more'."""
    name = "欧阳" + "明" * 13
    assert len(name.encode("gbk")) == 30
    applet = CardApplet(dataclasses.replace(_person(), name=name), with_name_extension=False)
    card = SocialSecurityCard(applet.transmit, today=_today)
    assert card.read().name == name
    assert applet.apdus == 8


class _StandInPsam:
    """An Authenticator as a PSAM would run it: challenge from the card, answer from the secure module."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def authenticate(self, channel: Channel) -> bool:
        from devices.virtual_card import psam_response

        challenge, sw = channel.command(bytes.fromhex("0084000008"))
        if sw != SW_OK:
            return False
        _data, sw = channel.command(bytes.fromhex("0082000008") + psam_response(self.key, challenge))
        return sw == SW_OK


def test_a_psam_authenticator_opens_ef06_of_a_third_generation_card() -> None:
    person, _generation, _locked = card_person("2")
    applet = CardApplet(person, generation=3)
    data = SocialSecurityCard(
        applet.transmit, today=_today, authenticator=_StandInPsam(applet.psam_key)
    ).read()
    assert (data.generation, data.certno, data.name) == (3, person.certno, person.name)
    wrong = CardApplet(person, generation=3)
    refused = SocialSecurityCard(
        wrong.transmit, today=_today, authenticator=_StandInPsam(b"another key")
    ).read()
    assert refused.certno is None and refused.name is None  # identified through central instead
    applet.reset()
    assert not applet.authenticated  # a reset closes EF06 again
