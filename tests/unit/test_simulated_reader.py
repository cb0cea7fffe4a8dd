"""The simulated reader's PIN tries (demo mode and fast tests): asked without using one, like a card."""

from __future__ import annotations

import datetime as dt

import pytest

from devices.reader import CardData, CardError, Slot
from devices.simulated import SimulatedCard, SimulatedReader
from kiosk.central.seed import generate_people
from kiosk.demo import DEMO_CARDS, demo_deck


def _card(tries_left: int = 3, *, tells_tries: bool = True) -> SimulatedCard:
    data = CardData(card_no="G00000001", issuing_admdvs="331100", generation=2)
    return SimulatedCard(data=data, tries_left=tries_left, tells_tries=tells_tries)


def test_tries_count_down_with_wrong_pins_and_not_with_asking() -> None:
    reader = SimulatedReader()
    reader.insert(_card())
    assert (reader.pin_tries(), reader.pin_tries()) == (3, 3)
    assert not reader.verify_pin("000000").ok
    assert (reader.pin_tries(), reader.pin_tries()) == (2, 2)
    assert not reader.verify_pin("000000").ok
    assert reader.pin_tries() == 1
    assert reader.verify_pin("123456").ok
    assert reader.pin_tries() == 3


def test_a_blocked_card_says_0() -> None:
    reader = SimulatedReader()
    reader.insert(_card(tries_left=1))
    assert reader.verify_pin("000000").blocked
    assert reader.pin_tries() == 0
    assert reader.verify_pin("123456").blocked
    assert reader.pin_tries() == 0


def test_the_locked_demo_card_says_0_and_the_others_3() -> None:
    reader = SimulatedReader(deck=demo_deck(generate_people(120, 1, dt.date(2025, 6, 1))))
    for index, (_household, _relation, label, locked) in enumerate(DEMO_CARDS):
        reader.insert(index)
        assert reader.pin_tries() == (0 if locked else 3), label
    assert any(locked for *_rest, locked in DEMO_CARDS)


def test_a_card_that_does_not_tell() -> None:
    reader = SimulatedReader()
    reader.insert(_card(tells_tries=False), Slot.RELATIVE)
    assert reader.pin_tries(Slot.RELATIVE) is None
    assert not reader.verify_pin("000000", Slot.RELATIVE).ok  # the count goes on as before


def test_no_card_or_no_reader_is_a_card_error() -> None:
    reader = SimulatedReader()
    with pytest.raises(CardError) as err:
        reader.pin_tries()
    assert err.value.key == "card_removed"
    reader.insert(_card())
    reader.set_lost(True)
    with pytest.raises(CardError) as lost:
        reader.pin_tries()
    assert lost.value.key == "reader_unavailable"
