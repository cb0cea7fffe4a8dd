"""An in-process card reader with a deck of demo cards: demo mode and fast unit tests only."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from devices.reader import CardData, CardError, CardEvent, CardEventKind, Listener, PinResult, Slot

MAX_PIN_TRIES = 3


@dataclass
class SimulatedCard:
    data: CardData
    pin: str = "123456"
    tries_left: int = MAX_PIN_TRIES
    label: str = ""  # what the demo panel shows (masked)
    broken: str | None = None  # a CardError key the card answers with when read
    tells_tries: bool = True  # False: a card that refuses VERIFY without data, so pin_tries is None

    @property
    def blocked(self) -> bool:
        return self.tries_left <= 0


@dataclass
class SimulatedReader:
    """Cards are inserted and removed by calling `insert`/`remove` (the demo panel's buttons, or tests)."""

    deck: list[SimulatedCard] = field(default_factory=list)
    _slots: dict[Slot, SimulatedCard | None] = field(default_factory=lambda: {s: None for s in Slot})
    _listeners: list[Listener] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    read_delay_s: float = 0.0
    lost: bool = False

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: CardEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    def insert(self, card: SimulatedCard | int, slot: Slot = Slot.HOLDER) -> None:
        chosen = self.deck[card] if isinstance(card, int) else card
        with self._lock:
            if self._slots[slot] is not None:
                self._slots[slot] = None
                removed = True
            else:
                removed = False
            self._slots[slot] = chosen
        if removed:
            self._emit(CardEvent(CardEventKind.REMOVED, slot))
        self._emit(CardEvent(CardEventKind.INSERTED, slot))

    def remove(self, slot: Slot = Slot.HOLDER) -> None:
        with self._lock:
            had = self._slots[slot] is not None
            self._slots[slot] = None
        if had:
            self._emit(CardEvent(CardEventKind.REMOVED, slot))

    def set_lost(self, lost: bool) -> None:
        """The reader goes away (unplugged, its driver gone) or comes back, as a PC/SC reader reports it."""
        self.lost = lost
        self._emit(CardEvent(CardEventKind.READER_LOST if lost else CardEventKind.READER_BACK))

    def _card(self, slot: Slot) -> SimulatedCard:
        if self.lost:
            raise CardError("reader_unavailable")
        card = self._slots[slot]
        if card is None:
            raise CardError("card_removed")
        return card

    def read(self, slot: Slot = Slot.HOLDER) -> CardData:
        if self.read_delay_s:
            threading.Event().wait(self.read_delay_s)
        card = self._card(slot)
        if card.broken:
            raise CardError(card.broken)
        return card.data

    def verify_pin(self, pin: str, slot: Slot = Slot.HOLDER) -> PinResult:
        card = self._card(slot)
        with self._lock:
            if card.blocked:
                return PinResult(False, 0, blocked=True)
            if pin == card.pin:
                card.tries_left = MAX_PIN_TRIES
                return PinResult(True, MAX_PIN_TRIES)
            card.tries_left -= 1
            return PinResult(False, card.tries_left, blocked=card.blocked)

    def pin_tries(self, slot: Slot = Slot.HOLDER) -> int | None:
        card = self._card(slot)
        with self._lock:
            return max(card.tries_left, 0) if card.tells_tries else None

    def present(self, slot: Slot = Slot.HOLDER) -> bool:
        return self._slots[slot] is not None

    def close(self) -> None:
        self._listeners.clear()
