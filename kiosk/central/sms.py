"""The SMS gateway interface and its log and file implementations; delivery of the outbox after commit."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Literal, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kiosk.central.clock import Clock
from kiosk.central.models import SmsMessage
from kiosk.domain.masking import mask_phone

log = logging.getLogger("kiosk.central.sms")

OTP_PLACEHOLDER = "******"


class SmsGateway(Protocol):
    def send(self, phone: str, body: str) -> None:
        """Hand one message to the carrier; raise on failure (the row stays pending and is retried)."""


class LogGateway:
    """Writes messages to the log (development and the embedded demo central)."""

    def send(self, phone: str, body: str) -> None:
        log.info("SMS to %s: %s", mask_phone(phone), body)


class FileGateway:
    """Appends one JSON line per message to a file, which the demo panel and tests read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, phone: str, body: str) -> None:
        line = json.dumps({"phone": phone, "body": body}, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def make_gateway(kind: Literal["log", "file"], path: Path | None) -> SmsGateway:
    if kind == "file":
        if path is None:
            raise ValueError("the file SMS gateway needs a path")
        return FileGateway(path)
    if kind == "log":
        return LogGateway()
    raise ValueError(f"unknown SMS gateway {kind!r}")


def deliver_pending(
    sessions: sessionmaker[Session], gateway: SmsGateway, clock: Clock, limit: int = 100
) -> int:
    """Send what the outbox holds; a verification code is scrubbed from the stored body once sent."""
    sent = 0
    with sessions.begin() as db:
        rows = db.scalars(
            select(SmsMessage)
            .where(SmsMessage.sent_at.is_(None), SmsMessage.attempts < 10)
            .order_by(SmsMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.attempts += 1
            try:
                gateway.send(row.phone, row.body)
            except Exception:  # a carrier failure must not lose the other messages
                log.exception("SMS gateway refused message %s", row.id)
                continue
            row.sent_at = clock()
            if row.template == "otp":
                row.body = _scrub_code(row.body)
            sent += 1
    return sent


class Outbox:
    """Delivers the outbox after a request committed, with one delivery loop per process: a request that
    finds the loop running only asks it to go round once more."""

    def __init__(self, sessions: sessionmaker[Session], gateway: SmsGateway, clock: Clock) -> None:
        self.sessions = sessions
        self.gateway = gateway
        self.clock = clock
        self._running = threading.Lock()
        self._wanted = threading.Event()

    def deliver(self) -> None:
        self._wanted.set()
        if not self._running.acquire(blocking=False):
            return
        try:
            while self._wanted.is_set():
                self._wanted.clear()
                deliver_pending(self.sessions, self.gateway, self.clock)
        except Exception:  # delivery is retried with the next message; the request already succeeded
            log.exception("SMS delivery failed")
        finally:
            self._running.release()


def _scrub_code(body: str) -> str:
    return "".join(OTP_PLACEHOLDER[0] if c.isdigit() else c for c in body)
