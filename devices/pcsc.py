"""The PC/SC card reader (pyscard over pcscd): the hall's reader in production, vpcd's virtual reader in CI.

Three parts:
- `SlotObserver`, a pyscard `CardObserver`: turns added/removed cards into the kiosk's `CardEvent`s and only
  posts them onward (it never touches the card).
- `Supervisor`, one thread: keeps a PC/SC context, lists the readers, waits on `SCardGetStatusChange` and
  feeds the observer. When pcscd goes away or restarts (every call on the old context fails) or the holder's
  reader disappears it reports READER_LOST, keeps trying, and once the reader is back reports READER_BACK and
  re-subscribes: cards already in the readers are reported inserted again.
  pyscard's own `CardMonitor` is not used: in pyscard 2.3 it is a process-wide thread that stops for good
  when pcscd goes away (no event, no restart) and prints a traceback on stderr, where Textual draws.
- `PcscReader`, the `CardReader`: connects to the card on first use after an insertion, runs the social
  security card profile (`devices.sscard`) over `SCardTransmit`, and maps PC/SC errors to `CardError`s.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from smartcard import scard
from smartcard.CardMonitoring import CardObserver

from devices.reader import CardData, CardError, CardEvent, CardEventKind, Listener, PinResult, Slot
from devices.sscard import Authenticator, SocialSecurityCard

log = logging.getLogger("kiosk.pcsc")
T = TypeVar("T")

_MASK = 0xFFFFFFFF
SERVICE_GONE = {
    scard.SCARD_E_NO_SERVICE & _MASK,
    scard.SCARD_E_SERVICE_STOPPED & _MASK,
    scard.SCARD_F_COMM_ERROR & _MASK,
    scard.SCARD_E_INVALID_HANDLE & _MASK,
    0x80100004,  # SCARD_E_INVALID_PARAMETER: what a stale context answers after some pcscd restarts
}
CARD_GONE = {
    scard.SCARD_W_REMOVED_CARD & _MASK,
    scard.SCARD_E_NO_SMARTCARD & _MASK,
    scard.SCARD_W_RESET_CARD & _MASK,
    scard.SCARD_W_UNPOWERED_CARD & _MASK,
}
SCARD_PRESENT = 0x0004  # SCardStatus's state bit (pcsc-lite's value; pyscard does not export it)
READER_GONE = {scard.SCARD_E_READER_UNAVAILABLE & _MASK, scard.SCARD_E_UNKNOWN_READER & _MASK}


def _hr(value: int) -> int:
    return int(value) & _MASK


def error_text(hresult: int) -> str:
    try:
        return f"{scard.SCardGetErrorMessage(hresult)} (0x{_hr(hresult):08X})"
    except Exception:
        return f"0x{_hr(hresult):08X}"


def error_key(hresult: int) -> str:
    """The citizen-facing reason for a failed PC/SC call."""
    code = _hr(hresult)
    if code in CARD_GONE:
        return "card_removed"
    if code in SERVICE_GONE or code in READER_GONE:
        return "reader_unavailable"
    return "malformed_answer"  # unresponsive card, buffer overflow, protocol mismatch: "insert it again"


@dataclass(frozen=True, slots=True)
class ReaderState:
    name: str
    present: bool
    atr: bytes


@dataclass(frozen=True, slots=True)
class PcscStatus:
    """What `kiosk doctor` reports: is pcscd there, which readers, which card ATRs."""

    service: bool
    error: str = ""
    readers: tuple[ReaderState, ...] = ()


def probe() -> PcscStatus:
    """One look at pcscd and its readers (for `kiosk doctor`)."""
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        return PcscStatus(False, f"pcscd is not running or not reachable: {error_text(hr)}")
    try:
        hr, names = scard.SCardListReaders(ctx, [])
        if _hr(hr) == _hr(scard.SCARD_E_NO_READERS_AVAILABLE):
            return PcscStatus(True, "pcscd runs but sees no card reader")
        if hr != scard.SCARD_S_SUCCESS:
            return PcscStatus(False, f"listing readers failed: {error_text(hr)}")
        hr, states = scard.SCardGetStatusChange(ctx, 0, [(n, scard.SCARD_STATE_UNAWARE) for n in names])
        if hr != scard.SCARD_S_SUCCESS:
            return PcscStatus(True, f"reader state failed: {error_text(hr)}")
        return PcscStatus(
            True,
            readers=tuple(
                ReaderState(name, bool(event & scard.SCARD_STATE_PRESENT), bytes(atr))
                for name, event, atr in states
            ),
        )
    finally:
        scard.SCardReleaseContext(ctx)


def pick_readers(names: Sequence[str], holder: str = "", relative: str = "") -> dict[Slot, str]:
    """Map the slots to reader names: a configured name matches exactly or as a prefix; unconfigured slots
    take the readers in pcscd's order (the first for the holder, the next for a relative's card)."""

    def match(want: str) -> str | None:
        found = [n for n in names if n == want] or [n for n in names if n.startswith(want)]
        return found[0] if found else None

    chosen: dict[Slot, str] = {}
    for slot, want in ((Slot.HOLDER, holder), (Slot.RELATIVE, relative)):
        if want:
            found = match(want)
            if found is not None:
                chosen[slot] = found
        else:
            free = [n for n in names if n not in chosen.values() and n not in (holder, relative)]
            if free:
                chosen[slot] = free[0]
    return chosen


class SlotObserver(CardObserver):  # type: ignore[misc]  # pyscard ships no type hints
    """Only posts: added/removed cards (pyscard's `update(observable, (added, removed))`) become CardEvents
    for the slot whose reader they sit in."""

    def __init__(self, slots: Callable[[], dict[Slot, str]], post: Callable[[CardEvent], None]) -> None:
        super().__init__()
        self._slots = slots
        self._post = post

    def update(self, observable: Any, handlers: tuple[list[Any], list[Any]]) -> None:
        added, removed = handlers
        by_reader = {name: slot for slot, name in self._slots().items()}
        for kind, cards in ((CardEventKind.REMOVED, removed), (CardEventKind.INSERTED, added)):
            for card in cards:
                slot = by_reader.get(card.reader)
                if slot is not None:
                    self._post(CardEvent(kind, slot))


@dataclass(frozen=True, slots=True)
class _Card:
    """What the observer receives: a card in a reader (the shape of pyscard's `Card`)."""

    reader: str
    atr: bytes


class Supervisor(threading.Thread):
    """Watches pcscd and the readers; see the module text."""

    def __init__(
        self,
        observer: SlotObserver,
        post: Callable[[CardEvent], None],
        *,
        holder: str = "",
        relative: str = "",
        retry_s: float = 0.5,
        wait_ms: int = 500,
    ) -> None:
        super().__init__(name="pcsc-supervisor", daemon=True)
        self.observer, self._post = observer, post
        self.holder, self.relative = holder, relative
        self.retry_s, self.wait_ms = retry_s, wait_ms
        self.slots: dict[Slot, str] = {}
        self.present: dict[str, bytes] = {}  # reader name -> ATR of the card in it
        self.healthy = False
        self.looked = threading.Event()  # first look done (lost or not): `subscribe` waits for it
        self._halt = threading.Event()
        self._ctx: int | None = None

    # --- lifecycle ----------------------------------------------------------------------------------

    def stop(self) -> None:
        self._halt.set()
        ctx = self._ctx
        if ctx is not None:
            scard.SCardCancel(ctx)
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=5)

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self._step()
            except Exception:
                log.exception("card reader supervisor: unexpected error; starting over")
                self._lose("unexpected error")
                self._halt.wait(self.retry_s)
        self._release()

    # --- one round ----------------------------------------------------------------------------------

    def _step(self) -> None:
        if self._ctx is None:
            hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hr != scard.SCARD_S_SUCCESS:
                self._lose(f"pcscd: {error_text(hr)}")
                self._halt.wait(self.retry_s)
                return
            self._ctx = ctx
        hr, names = scard.SCardListReaders(self._ctx, [])
        if _hr(hr) == _hr(scard.SCARD_E_NO_READERS_AVAILABLE):
            names = []
        elif hr != scard.SCARD_S_SUCCESS:
            self._context_failed(hr)
            return
        slots = pick_readers(names, self.holder, self.relative)
        if Slot.HOLDER not in slots:
            self._lose("the holder's card reader is not connected")
            self._halt.wait(self.retry_s)
            return
        if not self.healthy:
            self._back(slots)
        elif slots != self.slots:  # the relative's reader came or went: remember, report its card
            self._resubscribe(slots)
        states = [(name, self._known(name)) for name in self.slots.values()]
        hr, changed = scard.SCardGetStatusChange(self._ctx, self.wait_ms, states)
        if _hr(hr) in (_hr(scard.SCARD_E_TIMEOUT), _hr(scard.SCARD_E_CANCELLED)):
            return
        if hr != scard.SCARD_S_SUCCESS:
            if _hr(hr) in READER_GONE:
                return  # listed again next round: the reader's absence is handled there
            self._context_failed(hr)
            return
        self._apply(changed)

    def _known(self, name: str) -> int:
        return int(scard.SCARD_STATE_PRESENT if name in self.present else scard.SCARD_STATE_EMPTY)

    def _apply(self, states: list[tuple[str, int, list[int]]]) -> None:
        added, removed = [], []
        for name, event, atr in states:
            inside = bool(event & scard.SCARD_STATE_PRESENT) and not event & scard.SCARD_STATE_MUTE
            if inside and name not in self.present:
                self.present[name] = bytes(atr)
                added.append(_Card(name, bytes(atr)))
            elif not inside and name in self.present:
                del self.present[name]
                removed.append(_Card(name, b""))
            elif inside and bytes(atr) != self.present[name]:  # swapped between two looks
                self.present[name] = bytes(atr)
                removed.append(_Card(name, b""))
                added.append(_Card(name, bytes(atr)))
        if added or removed:
            self.observer.update(self, (added, removed))

    def _context_failed(self, hr: int) -> None:
        log.warning("pcscd connection failed: %s", error_text(hr))
        self._release()
        self._lose(f"pcscd: {error_text(hr)}")
        self._halt.wait(self.retry_s)

    def _release(self) -> None:
        ctx, self._ctx = self._ctx, None
        if ctx is not None:
            scard.SCardReleaseContext(ctx)

    def _lose(self, why: str) -> None:
        if self.healthy or not self.looked.is_set():
            log.warning("card reader unavailable: %s", why)
            if self.present:
                self.observer.update(self, ([], [_Card(n, b"") for n in self.present]))
            self.present.clear()
            self.healthy = False
            self.slots = {}
            self._post(CardEvent(CardEventKind.READER_LOST))
        self.looked.set()

    def _back(self, slots: dict[Slot, str]) -> None:
        lost_before = self.looked.is_set()
        self.healthy = True
        self.slots = slots
        # Unconfigured slots keep the reader they got first: if the holder's reader is unplugged, the
        # relative's must not quietly become the holder's.
        self.holder = self.holder or slots[Slot.HOLDER]
        if Slot.RELATIVE in slots:
            self.relative = self.relative or slots[Slot.RELATIVE]
        self.present.clear()
        log.info("card readers: %s", ", ".join(f"{s.name.lower()}={n}" for s, n in slots.items()))
        if lost_before:
            self._post(CardEvent(CardEventKind.READER_BACK))
        self.looked.set()
        # re-subscribe: the first status look reports the cards already inside as added

    def _resubscribe(self, slots: dict[Slot, str]) -> None:
        gone = [n for n in self.present if n not in slots.values()]
        if gone:
            self.observer.update(self, ([], [_Card(n, b"") for n in gone]))
            for n in gone:
                del self.present[n]
        self.slots = slots


@dataclass
class _Connection:
    handle: int
    protocol: int
    card: SocialSecurityCard


@dataclass
class PcscReader:
    """The `CardReader` over pcscd. `holder_reader`/`relative_reader`: reader names (or name prefixes) from
    kiosk.toml; empty = the first and second reader pcscd lists."""

    holder_reader: str = ""
    relative_reader: str = ""
    today: Callable[[], dt.date] = dt.date.today
    # a PSAM-backed external authentication opening EF06 of 3rd-generation cards (none yet: such cards are
    # identified by card number + issuing area through central)
    authenticator: Authenticator | None = None
    retry_s: float = 0.5
    _listeners: list[Listener] = field(default_factory=list)
    _supervisor: Supervisor | None = None
    _ctx: int | None = None
    _conns: dict[Slot, _Connection] = field(default_factory=dict)
    _stale: set[Slot] = field(default_factory=set)
    _io: threading.Lock = field(default_factory=threading.Lock)
    _ctx_stale: bool = False

    # --- events -------------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)
        if self._supervisor is None:
            observer = SlotObserver(
                lambda: dict(self._supervisor.slots) if self._supervisor else {}, self._post
            )
            self._supervisor = Supervisor(
                observer,
                self._post,
                holder=self.holder_reader,
                relative=self.relative_reader,
                retry_s=self.retry_s,
            )
            self._supervisor.start()

    def _post(self, event: CardEvent) -> None:
        if event.kind in (CardEventKind.REMOVED, CardEventKind.INSERTED):
            self._stale.add(event.slot)
        elif event.kind is CardEventKind.READER_LOST:
            self._stale.update(Slot)
            self._ctx_stale = True  # pcscd may have restarted: the I/O context dies with it
        for listener in list(self._listeners):
            listener(event)

    @property
    def healthy(self) -> bool:
        return self._supervisor is not None and self._supervisor.healthy

    def present(self, slot: Slot = Slot.HOLDER) -> bool:
        sup = self._supervisor
        if sup is None:
            return False
        name = sup.slots.get(slot)
        return name is not None and name in sup.present

    def close(self) -> None:
        self._listeners.clear()
        if self._supervisor is not None:
            self._supervisor.stop()
            self._supervisor = None
        with self._io:
            for slot in list(self._conns):
                self._drop(slot)
            if self._ctx is not None:
                scard.SCardReleaseContext(self._ctx)
                self._ctx = None

    # --- card I/O (worker threads) ------------------------------------------------------------------

    def read(self, slot: Slot = Slot.HOLDER) -> CardData:
        return self._with_card(slot, lambda card: card.read())

    def verify_pin(self, pin: str, slot: Slot = Slot.HOLDER) -> PinResult:
        return self._with_card(slot, lambda card: card.verify_pin(pin))

    def pin_tries(self, slot: Slot = Slot.HOLDER) -> int | None:
        return self._with_card(slot, lambda card: card.pin_tries())

    def apdus_sent(self, slot: Slot = Slot.HOLDER) -> int:
        conn = self._conns.get(slot)
        return conn.card.channel.apdus if conn else 0

    def _with_card(self, slot: Slot, op: Callable[[SocialSecurityCard], T]) -> T:
        with self._io:
            conn = self._connection(slot)
            try:
                return op(conn.card)
            except CardError as exc:
                if exc.key in ("card_removed", "reader_unavailable"):
                    self._drop(slot)
                raise

    def _reader_name(self, slot: Slot) -> str:
        sup = self._supervisor
        if sup is not None and sup.healthy and slot in sup.slots:
            return sup.slots[slot]
        # not subscribed (tests, doctor) or not yet looked: ask pcscd now
        hr, names = scard.SCardListReaders(self._context(), [])
        if _hr(hr) in SERVICE_GONE:
            self._forget_context(hr)
            hr, names = scard.SCardListReaders(self._context(), [])
        if hr != scard.SCARD_S_SUCCESS:
            self._forget_context(hr)
            raise CardError("reader_unavailable", error_text(hr))
        name = pick_readers(names, self.holder_reader, self.relative_reader).get(slot)
        if name is None:
            raise CardError("reader_unavailable", f"no reader for the {slot.name.lower()} slot")
        return name

    def _context(self) -> int:
        if self._ctx_stale:
            self._ctx_stale = False
            if self._ctx is not None:
                scard.SCardReleaseContext(self._ctx)
                self._ctx = None
                self._conns.clear()
        if self._ctx is None:
            hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            if hr != scard.SCARD_S_SUCCESS:
                raise CardError("reader_unavailable", error_text(hr))
            self._ctx = ctx
        return self._ctx

    def _forget_context(self, hr: int) -> None:
        if _hr(hr) in SERVICE_GONE and self._ctx is not None:
            scard.SCardReleaseContext(self._ctx)
            self._ctx = None
            self._conns.clear()

    def _connection(self, slot: Slot) -> _Connection:
        if slot in self._stale:
            self._stale.discard(slot)
            self._drop(slot)
        conn = self._conns.get(slot)
        if conn is not None:
            return conn
        for attempt in (1, 2):  # a context from before a pcscd restart fails once: the second is fresh
            name = self._reader_name(slot)
            hr, handle, protocol = scard.SCardConnect(
                self._context(),
                name,
                scard.SCARD_SHARE_SHARED,
                scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            )
            if hr == scard.SCARD_S_SUCCESS or _hr(hr) not in SERVICE_GONE or attempt == 2:
                break
            self._forget_context(hr)
        if hr != scard.SCARD_S_SUCCESS:
            self._forget_context(hr)
            code = _hr(hr)
            if code == _hr(scard.SCARD_E_NO_SMARTCARD) or code in CARD_GONE:
                raise CardError("card_removed", error_text(hr))
            raise CardError(error_key(hr), error_text(hr))
        card = SocialSecurityCard(
            self._transmitter(handle, protocol), today=self.today, authenticator=self.authenticator
        )
        conn = _Connection(handle, protocol, card)
        self._conns[slot] = conn
        return conn

    def _transmitter(self, handle: int, protocol: int) -> Callable[[bytes], tuple[bytes, int]]:
        def transmit(apdu: bytes) -> tuple[bytes, int]:
            hr, response = scard.SCardTransmit(handle, protocol, list(apdu))
            if hr != scard.SCARD_S_SUCCESS:
                self._forget_context(hr)
                raise CardError(error_key(hr), error_text(hr))
            if len(response) < 2:
                # vpcd (and some readers) answer nothing when the card leaves mid-command
                key = "card_removed" if self._card_left(handle) else "malformed_answer"
                raise CardError(key, f"{len(response)}-byte answer")
            return bytes(response[:-2]), (response[-2] << 8) | response[-1]

        return transmit

    def _card_left(self, handle: int, within_s: float = 0.6) -> bool:
        """After a broken answer: is the card gone? pcscd polls presence every 400 ms (vpcd: a removal is
        seen 5-400 ms after it), so wait a little longer than one poll before calling the answer broken."""
        deadline = time.monotonic() + within_s
        while True:
            hr, _reader, state, _protocol, _atr = scard.SCardStatus(handle)
            if hr != scard.SCARD_S_SUCCESS:
                return _hr(hr) in CARD_GONE or _hr(hr) in READER_GONE
            if not state & SCARD_PRESENT:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def _drop(self, slot: Slot) -> None:
        conn = self._conns.pop(slot, None)
        if conn is not None:
            # reset: a PIN verified for this citizen must not stay verified for the next
            scard.SCardDisconnect(conn.handle, scard.SCARD_RESET_CARD)
