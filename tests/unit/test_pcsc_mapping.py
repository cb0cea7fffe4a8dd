"""The PC/SC reader's pure parts: which reader serves which slot, and how the observer maps card changes."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest

from devices.reader import CardEvent, CardEventKind, Slot

pcsc = pytest.importorskip("devices.pcsc", reason="pyscard (with libpcsclite) is not installed")

VPCD = ["Virtual PCD 00 00", "Virtual PCD 00 01"]


@pytest.mark.parametrize(
    ("names", "holder", "relative", "expected"),
    [
        (VPCD, "", "", {Slot.HOLDER: VPCD[0], Slot.RELATIVE: VPCD[1]}),
        (VPCD, "Virtual PCD 00 01", "", {Slot.HOLDER: VPCD[1], Slot.RELATIVE: VPCD[0]}),
        (VPCD, "Virtual PCD", "", {Slot.HOLDER: VPCD[0], Slot.RELATIVE: VPCD[1]}),  # a prefix
        (VPCD, "", "Virtual PCD 00 00", {Slot.HOLDER: VPCD[1], Slot.RELATIVE: VPCD[0]}),
        (VPCD[:1], "", "", {Slot.HOLDER: VPCD[0]}),  # one reader: no relative's slot
        ([], "", "", {}),
        (VPCD, "ACS ACR122U", "", {Slot.RELATIVE: VPCD[0]}),  # the configured holder reader is missing
        (
            ["ACS ACR39U 00 00", "ACS ACR39U 01 00"],
            "ACS ACR39U 01",
            "ACS ACR39U 00",
            {
                Slot.HOLDER: "ACS ACR39U 01 00",
                Slot.RELATIVE: "ACS ACR39U 00 00",
            },
        ),
    ],
)
def test_pick_readers(names: list[str], holder: str, relative: str, expected: dict[Slot, str]) -> None:
    assert pcsc.pick_readers(names, holder, relative) == expected


@dataclass
class FakeCard:
    reader: str


def test_the_observer_only_posts_events_for_known_readers() -> None:
    posted: list[CardEvent] = []
    observer = pcsc.SlotObserver(lambda: {Slot.HOLDER: VPCD[0], Slot.RELATIVE: VPCD[1]}, posted.append)
    observer.update(None, ([FakeCard(VPCD[1]), FakeCard("Some other reader")], [FakeCard(VPCD[0])]))
    assert posted == [
        CardEvent(CardEventKind.REMOVED, Slot.HOLDER),  # removals first: a swapped card ends the visit first
        CardEvent(CardEventKind.INSERTED, Slot.RELATIVE),
    ]


@pytest.mark.parametrize(
    ("code", "key"),
    [
        (0x80100069, "card_removed"),  # SCARD_W_REMOVED_CARD
        (0x8010000C, "card_removed"),  # SCARD_E_NO_SMARTCARD
        (0x8010001D, "reader_unavailable"),  # SCARD_E_NO_SERVICE
        (0x80100013, "reader_unavailable"),  # SCARD_F_COMM_ERROR (pcscd restarted)
        (0x80100017, "reader_unavailable"),  # SCARD_E_READER_UNAVAILABLE
        (0x80100008, "malformed_answer"),  # SCARD_E_INSUFFICIENT_BUFFER (an oversized answer)
        (0x80100066, "malformed_answer"),  # SCARD_W_UNRESPONSIVE_CARD
        (0x80100069 - 2**32, "card_removed"),  # the same code as a signed 32-bit value
    ],
)
def test_pcsc_errors_become_citizen_reasons(code: int, key: str) -> None:
    assert pcsc.error_key(code) == key
    assert f"{code & 0xFFFFFFFF:08X}" in pcsc.error_text(code)


# --- the supervisor against a scripted PC/SC layer -------------------------------------------------------
# A reader cannot be unplugged from vpcd, so the reader-lost path is driven here through a fake `scard`.


class FakeScard:
    """The handful of pyscard's `scard` calls the supervisor makes, over a scripted set of readers."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.readers: list[str] = []
        self.cards: dict[str, bytes] = {}  # reader -> ATR of the card inside
        self.service = True
        self.lock = threading.Lock()
        self.looks = 0  # context and reader-list calls: one or more per supervisor cycle, retries included

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)  # the constants

    def SCardEstablishContext(self, scope: int) -> tuple[int, int]:
        with self.lock:
            self.looks += 1
        return (0, 1) if self.service else (self._real.SCARD_E_NO_SERVICE, 0)

    def SCardReleaseContext(self, ctx: int) -> int:
        return 0

    def SCardCancel(self, ctx: int) -> int:
        return 0

    def SCardListReaders(self, ctx: int, groups: list[str]) -> tuple[int, list[str]]:
        with self.lock:
            self.looks += 1
            if not self.service:
                return self._real.SCARD_E_NO_SERVICE, []
            if not self.readers:
                return self._real.SCARD_E_NO_READERS_AVAILABLE, []
            return 0, list(self.readers)

    def SCardGetStatusChange(
        self, ctx: int, timeout_ms: int, states: list[tuple[str, int]]
    ) -> tuple[int, list[tuple[str, int, list[int]]]]:
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            with self.lock:
                if not self.service:
                    return self._real.SCARD_E_NO_SERVICE, []
                now = []
                for name, known in states:
                    if name not in self.readers:
                        return self._real.SCARD_E_UNKNOWN_READER, []
                    inside = name in self.cards
                    event = self._real.SCARD_STATE_PRESENT if inside else self._real.SCARD_STATE_EMPTY
                    now.append((name, event, list(self.cards.get(name, b"")), known))
            if any(
                bool(e & self._real.SCARD_STATE_PRESENT) != bool(k & self._real.SCARD_STATE_PRESENT)
                for _n, e, _a, k in now
            ):
                return 0, [(n, e | self._real.SCARD_STATE_CHANGED, a) for n, e, a, _k in now]
            if time.monotonic() >= deadline:
                return self._real.SCARD_E_TIMEOUT, []
            time.sleep(0.005)


def _after_looks(fake: FakeScard, n: int = 5, timeout: float = 10.0) -> None:
    """Wait until the supervisor has looked `n` more times: what it did not report by then, it does not
    report at every retry (counted, not slept: a busy machine makes fewer retries in the same time)."""
    with fake.lock:
        until = fake.looks + n
    deadline = time.monotonic() + timeout
    while fake.looks < until:
        assert time.monotonic() < deadline, f"the supervisor stopped looking ({fake.looks}/{until})"
        time.sleep(0.005)


def _wait(events: list[CardEvent], want: list[CardEvent], start: int = 0, timeout: float = 5.0) -> None:
    """Wait until the events from `start` on begin with `want` (the list grows from the supervisor)."""
    deadline = time.monotonic() + timeout
    while events[start : start + len(want)] != want and time.monotonic() < deadline:
        time.sleep(0.01)
    assert events[start : start + len(want)] == want


def test_supervisor_reports_a_reader_unplugged_and_plugged_back(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeScard(pcsc.scard)
    fake.readers = ["R0", "R1"]
    fake.cards = {"R0": b"\x3b\x6d"}
    monkeypatch.setattr(pcsc, "scard", fake)
    reader = pcsc.PcscReader(holder_reader="R0", relative_reader="R1", retry_s=0.02)
    events: list[CardEvent] = []
    reader.subscribe(events.append)
    try:
        _wait(events, [CardEvent(CardEventKind.INSERTED, Slot.HOLDER)])
        assert reader.present(Slot.HOLDER) and not reader.present(Slot.RELATIVE)
        with fake.lock:
            fake.readers = ["R1"]  # the holder's reader is unplugged, its card with it
        _wait(
            events, [CardEvent(CardEventKind.REMOVED, Slot.HOLDER), CardEvent(CardEventKind.READER_LOST)], 1
        )
        assert not reader.healthy
        with fake.lock:
            fake.readers = ["R0", "R1"]  # plugged back, the card still in it
        _wait(
            events, [CardEvent(CardEventKind.READER_BACK), CardEvent(CardEventKind.INSERTED, Slot.HOLDER)], 3
        )
        assert reader.healthy and reader.present(Slot.HOLDER)
        with fake.lock:
            fake.service = False  # pcscd stops
        _wait(
            events, [CardEvent(CardEventKind.REMOVED, Slot.HOLDER), CardEvent(CardEventKind.READER_LOST)], 5
        )
        _after_looks(fake)
        assert len(events) == 7  # reported once while it stays away, not at every retry
        with fake.lock:
            fake.service = True
        _wait(
            events, [CardEvent(CardEventKind.READER_BACK), CardEvent(CardEventKind.INSERTED, Slot.HOLDER)], 7
        )
    finally:
        reader.close()


def test_supervisor_starts_without_pcscd(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeScard(pcsc.scard)
    fake.service = False
    monkeypatch.setattr(pcsc, "scard", fake)
    reader = pcsc.PcscReader(retry_s=0.02)
    events: list[CardEvent] = []
    reader.subscribe(events.append)
    try:
        _wait(events, [CardEvent(CardEventKind.READER_LOST)])
        with pytest.raises(pcsc.CardError) as err:
            reader.read()
        assert err.value.key == "reader_unavailable"
        with fake.lock:
            fake.service, fake.readers = True, ["Only Reader"]
        _wait(events, [CardEvent(CardEventKind.READER_BACK)], 1)
        assert reader.healthy and not reader.present()
    finally:
        reader.close()


def test_an_unconfigured_holder_reader_is_not_replaced_by_the_relatives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeScard(pcsc.scard)
    fake.readers = ["R0", "R1"]
    monkeypatch.setattr(pcsc, "scard", fake)
    reader = pcsc.PcscReader(retry_s=0.02)  # no names configured: the first and second reader listed
    events: list[CardEvent] = []
    reader.subscribe(events.append)
    try:
        _wait_healthy(reader)
        with fake.lock:
            fake.readers = ["R1"]
        _wait(events, [CardEvent(CardEventKind.READER_LOST)])
        with fake.lock:
            fake.cards = {"R1": b"\x3b"}  # a card in the relative's reader does not start a visit
        _after_looks(fake)
        assert events == [CardEvent(CardEventKind.READER_LOST)] and not reader.healthy
        with fake.lock:
            fake.readers = ["R0", "R1"]
        _wait(
            events,
            [CardEvent(CardEventKind.READER_BACK), CardEvent(CardEventKind.INSERTED, Slot.RELATIVE)],
            1,
        )
    finally:
        reader.close()


def _wait_healthy(reader: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not reader.healthy and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reader.healthy
