"""A virtual social security card for Debian's vpcd driver (vsmartcard-vpcd): tests, demos and staff training
on a real pcscd without a card.

vpcd listens on TCP (35963 = reader "Virtual PCD 00 00", 35964 = "... 00 01"); the card connects to it as a
client. Connecting is inserting the card, closing the socket is pulling it out. Every message both ways is a
2-byte big-endian length and a payload; one-byte payloads from vpcd are controls (00 power off, 01 power on,
02 reset, 04 send the ATR), longer ones are command APDUs to answer with data + SW.

The card's behaviour (`CardApplet`) is plain Python with no socket, so unit tests drive it directly; the PIN
try counter lives in the applet and survives resets and re-insertion, like the chip's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import enum
import hashlib
import hmac
import logging
import os
import socket
import struct
import threading
from dataclasses import dataclass, field

from devices.sscard import (
    EF05,
    EF06,
    MAX_PIN_TRIES,
    NAME_BYTES,
    REC_CARD_ID,
    REC_CARD_NO,
    REC_CERTNO,
    REC_EXPIRY,
    REC_NAME,
    REC_NAME_EXT,
    REC_SPEC_VERSION,
    SSSE_AID,
)

log = logging.getLogger("kiosk.virtual_card")

VPCD_PORT = 35963  # reader "Virtual PCD 00 00"; 35964 is "Virtual PCD 00 01"
CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4


class Fault(enum.Enum):
    """Broken answers, for tests of the kiosk's error handling (applied to EF05 card number reads)."""

    NONE = "none"
    GARBAGE = "garbage"  # one stray byte instead of an answer
    TRUNCATED = "truncated"  # a record whose TLV length promises more than it holds
    OVERSIZED = "oversized"  # an answer longer than any short APDU allows
    BAD_STATUS = "bad-status"  # an unexpected status word (6F00, "no precise diagnosis")
    WRONG_TAG = "wrong-tag"  # the record carries another record's tag


@dataclass
class CardPerson:
    """What is printed into the chip."""

    card_no: str
    issuing_admdvs: str
    certno: str
    name: str
    sex: str = "1"
    birth_date: dt.date = dt.date(1980, 1, 1)
    issued: dt.date = dt.date(2021, 3, 1)
    expires: dt.date = dt.date(2031, 3, 1)


def _bcd(text: str) -> bytes:
    return bytes.fromhex(text)


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag, len(value)]) + value


def card_records(person: CardPerson, generation: int) -> dict[tuple[int, int], bytes]:
    """The EF05/EF06 records of a card, each a TLV whose tag is the record id."""
    card_id = (
        _bcd(person.issuing_admdvs)
        + bytes.fromhex("D15600000500")
        + hashlib.sha256(person.card_no.encode()).digest()[:7]
    )
    name = person.name.encode("gbk")
    base, ext = name[:NAME_BYTES], name[NAME_BYTES:]
    records = {
        (EF05, REC_CARD_ID): _tlv(REC_CARD_ID, card_id),
        (EF05, 0x02): _tlv(0x02, b"3"),
        (EF05, REC_SPEC_VERSION): _tlv(REC_SPEC_VERSION, f"{generation}.00".encode()),
        (EF05, 0x04): _tlv(0x04, person.issuing_admdvs.encode() + b"00000" + b"KI"),
        (EF05, 0x05): _tlv(0x05, _bcd(person.issued.strftime("%Y%m%d"))),
        (EF05, REC_EXPIRY): _tlv(REC_EXPIRY, _bcd(person.expires.strftime("%Y%m%d"))),
        (EF05, REC_CARD_NO): _tlv(REC_CARD_NO, person.card_no.encode()),
        (EF06, REC_CERTNO): _tlv(REC_CERTNO, person.certno.encode()),
        (EF06, REC_NAME): _tlv(REC_NAME, base.ljust(NAME_BYTES, b"\x00")),
        (EF06, 0x0A): _tlv(0x0A, person.sex.encode()),
        (EF06, 0x0B): _tlv(0x0B, b"\x01"),
        (EF06, 0x0D): _tlv(0x0D, _bcd(person.birth_date.strftime("%Y%m%d"))),
    }
    if ext:
        records[(EF06, REC_NAME_EXT)] = _tlv(REC_NAME_EXT, ext)
    return records


def make_atr(card_no: str, *, t0: bool) -> bytes:
    """`3B 6D 00 00` + 13 historical bytes (chip maker, COS, card maker, date, serial) for a T=0 card; the
    T=1 variant adds TD1/TD2/TA3/TB3 and the check byte T=1 requires."""
    serial = hashlib.sha256(card_no.encode()).digest()[:5]
    historical = b"VK" + b"SS" + b"KI" + bytes([0x21, 0x03]) + serial
    if t0:
        return bytes([0x3B, 0x6D, 0x00, 0x00]) + historical
    body = bytes([0xED, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45]) + historical
    tck = 0
    for b in body:
        tck ^= b
    return bytes([0x3B]) + body + bytes([tck])


@dataclass
class CardApplet:
    """The card's answers. `social_security=False` makes a card without the SSSE application."""

    person: CardPerson
    generation: int = 2
    pin: str = "123456"
    tries_left: int = MAX_PIN_TRIES
    t0: bool = False
    fault: Fault = Fault.NONE
    social_security: bool = True
    with_name_extension: bool = True
    records: dict[tuple[int, int], bytes] = field(init=False)
    selected: bool = field(default=False, init=False)
    # 3rd-generation cards open EF06 after external authentication by a PSAM: GET CHALLENGE (8 bytes), then
    # EXTERNAL AUTHENTICATE with the first 8 bytes of HMAC-SHA256(psam_key, challenge) (a stand-in for the
    # real scheme, enough to exercise the kiosk's Authenticator seam)
    psam_key: bytes = b"virtual-psam-key"
    authenticated: bool = field(default=False, init=False)
    # the PIN's security status: set by a right PIN, cleared by a wrong one and by a reset
    pin_verified: bool = field(default=False, init=False)
    _challenge: bytes = field(default=b"", init=False)
    _pending: bytes = field(default=b"", init=False)
    apdus: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.records = card_records(self.person, self.generation)
        if not self.with_name_extension:
            self.records.pop((EF06, REC_NAME_EXT), None)

    @property
    def atr(self) -> bytes:
        return make_atr(self.person.card_no, t0=self.t0)

    def reset(self) -> None:
        """Power off/on or reset: the selection, pending answers and a verified PIN go; the PIN try counter
        stays."""
        self.selected = False
        self.pin_verified = False
        self._pending = b""
        self.authenticated = False
        self._challenge = b""

    def process(self, apdu: bytes) -> bytes:
        self.apdus += 1
        if len(apdu) < 4:
            return b"\x67\x00"
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        if cla != 0x00:
            return b"\x6e\x00"
        if ins == 0xC0:  # GET RESPONSE
            if not self._pending:
                return b"\x69\x85"
            out, self._pending = self._pending, b""
            le = body[0] if body else 0
            if le and le != len(out):
                self._pending = out
                return bytes([0x6C, len(out)])
            return out + b"\x90\x00"
        self._pending = b""
        if ins == 0xA4:
            return self._select(p1, body)
        if ins == 0xB2:
            return self._read_record(p1, p2, body)
        if ins == 0x20:
            return self._verify(body)
        if ins == 0x84:  # GET CHALLENGE
            self._challenge = os.urandom(8)
            return self._challenge + b"\x90\x00"
        if ins == 0x82:  # EXTERNAL AUTHENTICATE
            return self._external_authenticate(body)
        return b"\x6d\x00"

    def _select(self, p1: int, body: bytes) -> bytes:
        if p1 != 0x04 or not body or body[0] not in (len(body) - 1, len(body) - 2):
            return b"\x6a\x86"
        name = body[1 : 1 + body[0]]
        if not self.social_security or name != SSSE_AID:
            return b"\x6a\x82"
        self.selected = True
        fci = _tlv(0x6F, _tlv(0x84, SSSE_AID))
        if self.t0:  # case 4 on T=0: the data waits for GET RESPONSE
            self._pending = fci
            return bytes([0x61, len(fci)])
        return fci + b"\x90\x00"

    def _read_record(self, rec: int, p2: int, body: bytes) -> bytes:
        if not self.selected:
            return b"\x69\x86"  # command not allowed: no current application
        if p2 & 0x07 != 0x04:
            return b"\x6a\x86"
        sfi = p2 >> 3
        if sfi not in (EF05, EF06):
            return b"\x6a\x82"
        open_records = sfi == EF05 and rec in (REC_CARD_ID, REC_SPEC_VERSION, REC_CARD_NO)
        if self.generation >= 3 and not self.authenticated and not open_records:
            return b"\x69\x82"  # security status not satisfied: needs the PSAM's external authentication
        record = self.records.get((sfi, rec))
        if record is None:
            return b"\x6a\x83"
        if sfi == EF05 and rec == REC_CARD_NO and self.fault is not Fault.NONE:
            broken = self._broken(record)
            if broken is not None:
                return broken
        le = body[0] if len(body) == 1 else 0
        if le != len(record) and (self.t0 or le != 0):
            return bytes([0x6C, len(record)])
        return record + b"\x90\x00"

    def _broken(self, record: bytes) -> bytes | None:
        if self.fault is Fault.GARBAGE:
            return b"\x5a"
        if self.fault is Fault.TRUNCATED:
            return record[:5] + b"\x90\x00"
        if self.fault is Fault.OVERSIZED:
            return record + bytes(600) + b"\x90\x00"
        if self.fault is Fault.BAD_STATUS:
            return b"\x6f\x00"
        if self.fault is Fault.WRONG_TAG:
            return bytes([0x08]) + record[1:] + b"\x90\x00"
        return None

    def _external_authenticate(self, body: bytes) -> bytes:
        if not self._challenge:
            return b"\x69\x85"  # conditions of use not satisfied: no challenge asked
        expected = psam_response(self.psam_key, self._challenge)
        self._challenge = b""
        if len(body) != 9 or body[0] != 8 or not hmac.compare_digest(body[1:], expected):
            return b"\x63\x00"  # authentication failed
        self.authenticated = True
        return b"\x90\x00"

    def _verify(self, body: bytes) -> bytes:
        if body in (b"", b"\x00"):  # no data (4 bytes; 5 with P3 = 00 on T=0): the status, no try used
            if self.tries_left <= 0:
                return b"\x69\x83"
            if self.pin_verified:
                return b"\x90\x00"
            return bytes([0x63, 0xC0 | self.tries_left])
        if len(body) != 4 or body[0] != 3:
            return b"\x67\x00"
        if self.tries_left <= 0:
            return b"\x69\x83"
        if body[1:].hex() == self.pin:
            self.tries_left = MAX_PIN_TRIES
            self.pin_verified = True
            return b"\x90\x00"
        self.pin_verified = False
        self.tries_left -= 1
        if self.tries_left == 0:
            return b"\x69\x83"
        return bytes([0x63, 0xC0 | self.tries_left])

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """The applet as a `devices.sscard.Transmit` (in-process, for unit tests)."""
        answer = self.process(apdu)
        if len(answer) < 2:
            return b"", -1
        return answer[:-2], int.from_bytes(answer[-2:], "big")


def psam_response(key: bytes, challenge: bytes) -> bytes:
    """What the (stand-in) PSAM answers to the card's challenge."""
    return hmac.new(key, challenge, hashlib.sha256).digest()[:8]


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)  # vpcd writes length and body apart
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class VirtualCard:
    """Connects an applet to vpcd. `insert()` connects (and keeps reconnecting while pcscd or vpcd is away,
    as a card left in the reader would reappear); `remove()` closes the socket: the card is pulled out."""

    def __init__(self, applet: CardApplet, host: str = "127.0.0.1", port: int = VPCD_PORT) -> None:
        self.applet = applet
        self.host, self.port = host, port
        self._inserted = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.sessions = 0
        # tests: the card is pulled out when this many APDUs have been answered (mid-read removal)
        self.pull_after: int | None = None

    @property
    def inserted(self) -> bool:
        return self._inserted.is_set()

    def insert(self) -> None:
        if self._inserted.is_set():
            return
        self._inserted.set()
        self._thread = threading.Thread(target=self._run, name=f"virtual-card-{self.port}", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        self._inserted.clear()
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        self.connected.clear()

    close = remove

    def wait_connected(self, timeout: float = 5.0) -> bool:
        return self.connected.wait(timeout)

    def _run(self) -> None:
        while self._inserted.is_set():
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2)
            except OSError:
                threading.Event().wait(0.2)  # vpcd (pcscd) not there yet: try again shortly
                continue
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if not self._inserted.is_set():
                    sock.close()
                    return
                self._sock = sock
            self.sessions += 1
            self.connected.set()
            try:
                self._serve(sock)
            except OSError:
                pass
            finally:
                self.connected.clear()
                with self._lock:
                    if self._sock is sock:
                        self._sock = None
                sock.close()
            self.applet.reset()
            if self._inserted.is_set():
                log.info("vpcd went away; reconnecting while the card stays inserted")
                threading.Event().wait(0.2)

    def _serve(self, sock: socket.socket) -> None:
        while True:
            header = _recv_exact(sock, 2)
            if header is None:
                return
            (length,) = struct.unpack(">H", header)
            payload = _recv_exact(sock, length)
            if payload is None:
                return
            if length == 1:
                ctrl = payload[0]
                if ctrl in (CTRL_OFF, CTRL_ON, CTRL_RESET):
                    self.applet.reset()
                    continue
                if ctrl == CTRL_ATR:
                    answer = self.applet.atr
                else:
                    continue
            else:
                if self.pull_after is not None and self.applet.apdus >= self.pull_after:
                    self._inserted.clear()  # pulled out while the kiosk waits for this answer
                    return
                answer = self.applet.process(payload)
            sock.sendall(struct.pack(">H", len(answer)) + answer)


def expired(person: CardPerson, today: dt.date) -> CardPerson:
    """The card as it is the day after its ten years of validity ended."""
    return dataclasses.replace(
        person, issued=today - dt.timedelta(days=3653), expires=today - dt.timedelta(days=1)
    )
