"""The card reader interface: card events and the operations the kiosk needs from a social security card."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Slot(enum.IntEnum):
    """A terminal has the holder's slot and a second one for a relative's card."""

    HOLDER = 0
    RELATIVE = 1


@dataclass(frozen=True, slots=True)
class CardData:
    """What the kiosk reads from a social security card (EF05; EF06 when the card lets us)."""

    card_no: str  # 9 characters (EF05 07)
    issuing_admdvs: str  # first 6 digits of the card identification code (EF05 01)
    generation: int  # 2 or 3 (EF05 03: "2.00" / "3.00")
    certno: str | None = None  # EF06 08; None on 3rd-generation cards without a PSAM
    name: str | None = None  # EF06 09/4E

    def __repr__(self) -> str:  # never print the full ID number or name by accident
        return f"CardData({self.card_no[:2]}***, area={self.issuing_admdvs}, gen={self.generation})"


class CardEventKind(enum.Enum):
    INSERTED = "inserted"
    REMOVED = "removed"
    READER_LOST = "reader_lost"
    READER_BACK = "reader_back"


@dataclass(frozen=True, slots=True)
class CardEvent:
    kind: CardEventKind
    slot: Slot = Slot.HOLDER


@dataclass(frozen=True, slots=True)
class PinResult:
    ok: bool
    tries_left: int
    blocked: bool = False


class CardError(Exception):
    """A card could not be used; `key` names why (not_social_security_card, card_expired, malformed_answer,
    card_removed, reader_unavailable) for the citizen's message."""

    def __init__(self, key: str, detail: str = "") -> None:
        self.key = key
        super().__init__(f"{key}: {detail}" if detail else key)


Listener = Callable[[CardEvent], None]


class CardReader(Protocol):
    """Implemented by the simulated reader (demo, fast tests) and the PC/SC reader (production)."""

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` for every card event, from any thread: it must only post a message onward."""

    def read(self, slot: Slot = Slot.HOLDER) -> CardData:
        """Read the inserted card; raises CardError. Blocking: call it from a worker thread."""

    def verify_pin(self, pin: str, slot: Slot = Slot.HOLDER) -> PinResult:
        """VERIFY the card PIN (6 digits). Blocking. A blocked card answers blocked=True, tries_left=0."""

    def pin_tries(self, slot: Slot = Slot.HOLDER) -> int | None:
        """How many wrong PINs the card still accepts, asked without using a try (VERIFY with no data).
        0 = blocked; None = the card does not tell (then ask for the PIN as usual). A card whose PIN is
        already verified in this card session answers as a fresh count (3), since the success reset it.
        Blocking; raises CardError like `read` (card_removed, reader_unavailable, ...)."""

    def present(self, slot: Slot = Slot.HOLDER) -> bool:
        """Is a card in the slot now?"""

    def close(self) -> None:
        """Stop delivering events and release the reader."""
