"""Exactly-once application of client requests keyed by the client's UUID, with stored answers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.api import Reason
from kiosk.central.clock import Clock
from kiosk.central.errors import ApiError
from kiosk.central.models import ClientRequest

Kind = Literal["bind", "revoke", "settlement"]
Work = Callable[[Session], BaseModel]
"""The write itself, inside the transaction; its answer is stored as JSON and replayed verbatim."""


def body_digest(body: BaseModel, **path: str) -> str:
    """Hash of what the request asks for: its body and the path parameters naming its target."""
    canonical = json.dumps([body.model_dump(mode="json"), path], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(stored: ClientRequest, kind: Kind, digest: str) -> tuple[int, dict[str, Any]]:
    if stored.kind != kind or stored.body_sha256 != digest:
        raise ApiError(
            409,
            Reason.REQUEST_ID_CONFLICT,
            "this request_id was already used with a different body; nothing was changed",
        )
    return stored.status_code, stored.response


def run_once(
    sessions: sessionmaker[Session],
    clock: Clock,
    *,
    request_id: str,
    kind: Kind,
    kiosk_id: str,
    digest: str,
    work: Work,
    status: int = 201,
    on_conflict: Callable[[IntegrityError], ApiError | None] = lambda _exc: None,
    receipt_no: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Apply `work` once for `request_id`: (`status`, its answer), or the stored answer of the first time.

    Successes and rule rejections (422) are stored and replayed as they were first answered, with the
    terminal's `receipt_no` (the receipt's public page reads the answer from there).

    `on_conflict` maps a constraint violation raised by a concurrent writer to a rule rejection
    (e.g. the active-pair index → duplicate_binding); returning None re-raises it.
    """

    def record(db: Session, code: int, response: dict[str, Any]) -> None:
        db.add(
            ClientRequest(
                request_id=request_id,
                kind=kind,
                kiosk_id=kiosk_id,
                body_sha256=digest,
                status_code=code,
                response=response,
                created_at=clock(),
                receipt_no=receipt_no,
            )
        )

    rejection: ApiError
    try:
        with sessions.begin() as db:
            stored = db.get(ClientRequest, request_id)
            if stored is not None:
                return _replay(stored, kind, digest)
            response = work(db).model_dump(mode="json")
            record(db, status, response)
        return status, response
    except ApiError as exc:  # raised inside the transaction, so whatever `work` wrote is rolled back
        if exc.status != 422:
            raise
        rejection = exc
    except IntegrityError as exc:
        mapped = _after_conflict(sessions, request_id, kind, digest)
        if mapped is not None:
            return mapped
        conflict = on_conflict(exc)
        if conflict is None:
            raise
        rejection = conflict
    # The rule rejection is stored in its own transaction, after the failed work was rolled back.
    try:
        with sessions.begin() as db:
            record(db, rejection.status, rejection.body())
    except IntegrityError:
        mapped = _after_conflict(sessions, request_id, kind, digest)
        if mapped is not None:
            return mapped
        raise
    return rejection.status, rejection.body()


def _after_conflict(
    sessions: sessionmaker[Session], request_id: str, kind: Kind, digest: str
) -> tuple[int, dict[str, Any]] | None:
    """A concurrent twin of this request may have won the race: answer as it did."""
    with sessions() as db:
        stored = db.get(ClientRequest, request_id)
        return None if stored is None else _replay(stored, kind, digest)
