"""The PC/SC reader's pure parts: which reader serves which slot, and how the observer maps card changes."""

from __future__ import annotations

from dataclasses import dataclass

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
