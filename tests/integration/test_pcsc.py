"""The PC/SC reader on the real stack: pcscd + Debian's vpcd driver + the virtual social security card.

Needs pcscd and vsmartcard-vpcd (`.ci/run` provides them; elsewhere these tests skip naming what is missing).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import queue
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devices.reader import CardError, CardEvent, CardEventKind, Slot
from devices.virtual_card import CardApplet, Fault, expired
from kiosk.demo import card_person
from tests.support.pcsc_stack import HOLDER_READER, READERS, card_in, wait_for

pytestmark = [pytest.mark.xdist_group("pcscd"), pytest.mark.timeout(120)]


def applet(key: str = "1", **kw: Any) -> CardApplet:
    person, generation, locked = card_person(key, people=60)
    kw.setdefault("generation", generation)
    kw.setdefault("tries_left", 0 if locked else 3)
    return CardApplet(person, **kw)


class Events:
    def __init__(self) -> None:
        self.q: queue.Queue[CardEvent] = queue.Queue()

    def __call__(self, event: CardEvent) -> None:
        self.q.put(event)

    def expect(self, kind: CardEventKind, slot: Slot | None = None, timeout: float = 5.0) -> CardEvent:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                event = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(event)
            if event.kind is kind and (slot is None or event.slot is slot):
                return event
        raise AssertionError(f"no {kind.value} event within {timeout} s; saw {seen}")


@pytest.fixture
def reader(pcscd: Any) -> Iterator[Any]:
    from devices.pcsc import PcscReader

    r = PcscReader(holder_reader=HOLDER_READER, relative_reader=READERS[Slot.RELATIVE], retry_s=0.1)
    events = Events()
    r.subscribe(events)
    r.events = events  # type: ignore[attr-defined]
    wait_for(lambda: r.healthy, 5, "the reader supervisor's first look")
    try:
        yield r
    finally:
        r.close()


def insert(vcards: Callable[..., Any], reader: Any, card_applet: CardApplet, slot: Slot = Slot.HOLDER) -> Any:
    card = vcards(card_applet, slot)
    card.insert()
    reader.events.expect(CardEventKind.INSERTED, slot)
    return card


# --- reads ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("t0", [False, True], ids=["T=1", "T=0"])
def test_second_generation_read(vcards: Any, reader: Any, t0: bool) -> None:
    a = applet("1", t0=t0)
    insert(vcards, reader, a)
    data = reader.read()
    assert (data.card_no, data.issuing_admdvs, data.generation) == (a.person.card_no, "331100", 2)
    assert data.certno == a.person.certno and data.name == a.person.name
    # SELECT + EF05 01/03/07/06 + EF06 08/09 (09 is padded: no 4E); a T=0 SELECT's 61xx is not fetched
    assert reader.apdus_sent() == a.apdus == 7


def test_t0_card_answers_61xx_and_6cxx_over_pcscd(vcards: Any, reader: Any) -> None:
    person, _g, _l = card_person("1", people=60)
    long_name = dataclasses.replace(person, name="阿卜杜热合曼·买买提艾力江·艾合买提江")
    a = CardApplet(long_name, generation=2, t0=True)
    insert(vcards, reader, a)
    assert reader.read().name == long_name.name  # 09 + 4E; the 4E read with Le=00 gets 6Cxx and is resent
    assert a.apdus == 9


def test_third_generation_card_is_identified_by_number(vcards: Any, reader: Any) -> None:
    a = applet("2")
    assert a.generation == 3
    insert(vcards, reader, a)
    data = reader.read()
    assert (data.card_no, data.issuing_admdvs, data.generation) == (a.person.card_no, "330100", 3)
    assert data.certno is None and data.name is None
    assert a.apdus == 4
    assert reader.verify_pin("123456").ok


# --- PIN ------------------------------------------------------------------------------------------------


def test_pin_right_wrong_and_blocked_survives_reinsertion(vcards: Any, reader: Any) -> None:
    a = applet("1")
    card = insert(vcards, reader, a)
    assert reader.verify_pin("123456").ok
    first, second = reader.verify_pin("000000"), reader.verify_pin("111111")
    assert (first.ok, first.tries_left, second.tries_left) == (False, 2, 1)
    third = reader.verify_pin("222222")
    assert third.blocked and third.tries_left == 0
    card.remove()
    reader.events.expect(CardEventKind.REMOVED)
    card.insert()
    reader.events.expect(CardEventKind.INSERTED)
    again = reader.verify_pin("123456")  # the right PIN no longer helps: the chip keeps the count
    assert again.blocked and not again.ok


def test_locked_card_reports_blocked(vcards: Any, reader: Any) -> None:
    insert(vcards, reader, applet("7"))
    result = reader.verify_pin("123456")
    assert result.blocked and not result.ok


@pytest.mark.parametrize("t0", [False, True], ids=["T=1", "T=0"])
def test_pin_tries_are_asked_without_using_one(vcards: Any, reader: Any, t0: bool) -> None:
    a = applet("1", t0=t0)
    card = insert(vcards, reader, a)
    assert reader.pin_tries() == 3
    assert not reader.verify_pin("000000").ok
    assert (reader.pin_tries(), reader.pin_tries()) == (2, 2)  # asking twice uses no try
    assert a.tries_left == 2
    assert reader.verify_pin("123456").ok
    assert a.pin_verified and reader.pin_tries() == 3  # verified on this connection: 9000
    card.remove()
    reader.events.expect(CardEventKind.REMOVED)
    card.insert()
    reader.events.expect(CardEventKind.INSERTED)
    assert reader.pin_tries() == 3  # a new connection: SELECT, then the probe
    assert not a.pin_verified  # the reinserted card forgot the PIN: the next citizen proves it again
    with pytest.raises(CardError) as err:
        reader.pin_tries(Slot.RELATIVE)
    assert err.value.key == "card_removed"  # an empty slot, as `read` says it


def test_a_blocked_card_says_0_tries_in_either_slot(vcards: Any, reader: Any) -> None:
    locked = applet("7")
    assert locked.tries_left == 0
    insert(vcards, reader, locked, Slot.RELATIVE)
    assert reader.pin_tries(Slot.RELATIVE) == 0
    holder = applet("1", tries_left=1)
    insert(vcards, reader, holder)
    assert reader.pin_tries() == 1
    assert reader.verify_pin("000000").blocked
    assert (reader.pin_tries(), reader.pin_tries(Slot.RELATIVE)) == (0, 0)
    assert reader.verify_pin("123456").blocked  # blocked stays blocked


# --- bad cards and bad answers ----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [f for f in Fault if f is not Fault.NONE], ids=lambda f: f.value)
def test_broken_answers_are_a_clear_error_and_the_reader_keeps_working(
    vcards: Any, reader: Any, fault: Fault
) -> None:
    bad = insert(vcards, reader, applet("1", fault=fault))
    with pytest.raises(CardError) as err:
        reader.read()
    assert err.value.key == "malformed_answer"
    bad.remove()
    reader.events.expect(CardEventKind.REMOVED)
    wait_for(lambda: card_in(HOLDER_READER) is False, 5, "the reader to be empty")
    insert(vcards, reader, applet("1"))
    assert reader.read().generation == 2  # the next card is read normally


def test_a_card_that_is_not_a_social_security_card(vcards: Any, reader: Any) -> None:
    insert(vcards, reader, applet("1", social_security=False))
    with pytest.raises(CardError) as err:
        reader.read()
    assert err.value.key == "not_social_security_card"


def test_an_expired_card(vcards: Any, reader: Any) -> None:
    a = applet("1")
    a = CardApplet(expired(a.person, dt.date.today()), generation=2)
    insert(vcards, reader, a)
    with pytest.raises(CardError) as err:
        reader.read()
    assert err.value.key == "card_expired"


def test_card_removed_during_a_read(vcards: Any, reader: Any) -> None:
    card = insert(vcards, reader, applet("1"))
    card.pull_after = 3  # answers SELECT and two records, then leaves the reader
    with pytest.raises(CardError) as err:
        reader.read()
    assert err.value.key == "card_removed", err.value
    reader.events.expect(CardEventKind.REMOVED)
    with pytest.raises(CardError) as again:
        reader.read()
    assert again.value.key == "card_removed"


def test_relative_slot_events_and_reads(vcards: Any, reader: Any) -> None:
    holder = insert(vcards, reader, applet("1"))
    insert(vcards, reader, applet("6"), Slot.RELATIVE)
    assert reader.present(Slot.HOLDER) and reader.present(Slot.RELATIVE)
    assert reader.read(Slot.RELATIVE).certno != reader.read(Slot.HOLDER).certno
    holder.remove()
    assert reader.events.expect(CardEventKind.REMOVED).slot is Slot.HOLDER
    assert reader.present(Slot.RELATIVE) and not reader.present(Slot.HOLDER)


# --- pcscd going away ---------------------------------------------------------------------------------


def test_pcscd_restarted_during_a_session(vcards: Any, reader: Any, pcscd: Any) -> None:
    if not pcscd.restartable:
        pytest.skip("pcscd was already running, not started by this run: it is not ours to restart")
    card = insert(vcards, reader, applet("1"))
    assert reader.read().generation == 2
    pcscd.restart()
    reader.events.expect(CardEventKind.READER_LOST, timeout=10)
    reader.events.expect(CardEventKind.READER_BACK, timeout=10)
    reader.events.expect(CardEventKind.INSERTED, timeout=10)  # the card still in the reader, reported again
    assert card.sessions >= 2  # the virtual card reconnected to the new pcscd's vpcd
    assert reader.read().certno == card.applet.person.certno
    assert reader.verify_pin("123456").ok


def test_pcscd_down_means_reader_unavailable_until_it_is_back(vcards: Any, reader: Any, pcscd: Any) -> None:
    if not pcscd.restartable:
        pytest.skip("pcscd was already running, not started by this run: it is not ours to stop")
    insert(vcards, reader, applet("1"))
    pcscd.stop()
    try:
        reader.events.expect(CardEventKind.READER_LOST, timeout=10)
        assert not reader.healthy
        with pytest.raises(CardError) as err:
            reader.read()
        assert err.value.key == "reader_unavailable"
    finally:
        pcscd.start()
    reader.events.expect(CardEventKind.READER_BACK, timeout=10)
    reader.events.expect(CardEventKind.INSERTED, timeout=10)
    assert reader.read().generation == 2


def test_starting_without_pcscd_reports_lost_then_back(vcards: Any, pcscd: Any) -> None:
    if not pcscd.restartable:
        pytest.skip("pcscd was already running, not started by this run: it is not ours to stop")
    from devices.pcsc import PcscReader

    pcscd.stop()
    r = PcscReader(retry_s=0.1)
    events = Events()
    try:
        r.subscribe(events)
        events.expect(CardEventKind.READER_LOST)
        pcscd.start()
        events.expect(CardEventKind.READER_BACK, timeout=10)
    finally:
        if pcscd.pid is None or not Path(f"/proc/{pcscd.pid}").exists():
            pcscd.start()
        r.close()


# --- an independent PC/SC client -------------------------------------------------------------------------


def test_scriptor_reads_the_virtual_card(vcards: Any, reader: Any, tmp_path: Path) -> None:
    """pcsc-tools' scriptor (not our code) selects SSSE and reads the card number with the same APDUs."""
    scriptor = shutil.which("scriptor")
    if scriptor is None:
        pytest.fail("scriptor (pcsc-tools) is not installed; `.ci/run` installs it", pytrace=False)
    from devices.sscard import EF05, REC_CARD_NO, apdu_read_record, apdu_select_ssse

    a = applet("1")
    insert(vcards, reader, a)
    script = tmp_path / "read-card-number.apdu"
    script.write_text(
        f"{apdu_select_ssse().hex(' ')}\n{apdu_read_record(EF05, REC_CARD_NO).hex(' ')}\n", encoding="ascii"
    )
    out = subprocess.run(
        [scriptor, "-r", HOLDER_READER, str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    answers = " ".join(out.stdout.split()).upper()
    expected = (bytes([0x07, 9]) + a.person.card_no.encode()).hex(" ").upper()
    assert expected in answers, out.stdout
    assert answers.count("90 00") == 2, out.stdout


def test_scriptor_asks_the_virtual_card_for_its_pin_tries(vcards: Any, reader: Any, tmp_path: Path) -> None:
    """The probe as another PC/SC client sends it: 63C3, 63C2 after a wrong PIN (twice: no try used), then
    9000 once the PIN is verified in that connection."""
    scriptor = shutil.which("scriptor")
    if scriptor is None:
        pytest.fail("scriptor (pcsc-tools) is not installed; `.ci/run` installs it", pytrace=False)
    from devices.sscard import apdu_pin_tries, apdu_select_ssse, apdu_verify

    a = applet("1")
    insert(vcards, reader, a)
    probe = apdu_pin_tries().hex(" ")
    lines = [apdu_select_ssse().hex(" "), probe, apdu_verify("000000").hex(" "), probe, probe]
    lines += [apdu_verify("123456").hex(" "), probe]
    script = tmp_path / "pin-tries.apdu"
    script.write_text("\n".join(lines) + "\n", encoding="ascii")
    out = subprocess.run(
        [scriptor, "-r", HOLDER_READER, str(script)], capture_output=True, text=True, timeout=30, check=False
    )
    assert out.returncode == 0, out.stdout + out.stderr
    # each answer: "< " + hex bytes (wrapped at 16) + " : " + scriptor's reading of the status word
    answers = re.findall(r"^< ([0-9A-Fa-f\s]+?) :", out.stdout, re.MULTILINE)
    status = [" ".join(answer.split()[-2:]).upper() for answer in answers]
    assert status == ["90 00", "63 C3", "63 C2", "63 C2", "63 C2", "90 00", "90 00"], out.stdout
    assert a.tries_left == 3


# --- the operator's commands -----------------------------------------------------------------------------


def test_doctor_reports_pcscd_readers_and_the_cards_atr(vcards: Any, reader: Any) -> None:
    from kiosk.config import Config, KioskConfig
    from kiosk.doctor import reader_checks

    config = Config(kiosk=KioskConfig(reader="pcsc", holder_reader="Virtual PCD"))
    empty = {c.name: c for c in reader_checks(config)}
    assert empty["pcscd"].ok and empty["readers"].ok
    assert f"holder: {HOLDER_READER!r}" in empty["readers"].detail
    assert [c.detail for c in reader_checks(config) if c.name == "card"] == [
        "holder reader: empty",
        "relative reader: empty",
    ]
    a = applet("1", t0=True)
    insert(vcards, reader, a)
    cards = [c.detail for c in reader_checks(config) if c.name == "card"]
    assert f"holder reader: ATR {a.atr.hex(' ').upper()}" in cards
    assert a.atr[:4] == bytes.fromhex("3B6D0000")
    wrong = {c.name: c for c in reader_checks(Config(kiosk=KioskConfig(holder_reader="No Such Reader")))}
    assert not wrong["readers"].ok and "No Such Reader" in wrong["readers"].detail


def test_the_virtual_card_command(reader: Any, vcards: Any) -> None:
    """`kiosk virtual-card` as staff would run it: the card appears in pcscd, is read, and goes on SIGTERM."""
    import signal
    import sys

    _ = vcards  # waits for empty readers before, and after
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "virtual-card", "--person", "2", "--t0", "--pin", "654321"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        reader.events.expect(CardEventKind.INSERTED, timeout=20)
        data = reader.read()
        person, _gen, _locked = card_person("2")
        assert (data.card_no, data.generation) == (person.card_no, 3)
        assert not reader.verify_pin("123456").ok
        assert reader.verify_pin("654321").ok
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert person.card_no in err and person.name not in err  # the name is shown masked
    reader.events.expect(CardEventKind.REMOVED)


def test_the_virtual_card_command_refuses_bad_arguments() -> None:
    import sys

    bad_pin = subprocess.run(
        [sys.executable, "-m", "kiosk", "virtual-card", "--pin", "12ab56"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad_pin.returncode == 2 and "--pin must be 6 digits" in bad_pin.stderr
    nobody = subprocess.run(
        [sys.executable, "-m", "kiosk", "virtual-card", "--person", "110101199003074514"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert nobody.returncode == 2 and "no person with a card" in nobody.stderr
