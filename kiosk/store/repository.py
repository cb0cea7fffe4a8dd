"""The terminal store's operations: durable submissions with their outbox rows, answers, policy cache."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from kiosk import api
from kiosk.api import Reason
from kiosk.config import StoreConfig
from kiosk.domain.errors import DomainError
from kiosk.domain.masking import mask_id
from kiosk.domain.policy import AreaPolicy, parse_policy
from kiosk.receipts import new_receipt_no
from kiosk.store.crypto import FieldCipher, load_or_create_key
from kiosk.store.db import check_mode, make_sessions, make_store_engine, upgrade
from kiosk.store.models import CachedArea, CachedLetter, KioskState, OutboxItem, Submission

Clock = Callable[[], dt.datetime]
FINAL = ("accepted", "rejected")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


class SubmissionRefused(DomainError):
    """The terminal will not take a new submission now (queue full or too old, offline not allowed,
    no policy for the area yet), or the request cannot be built from what was confirmed (a fault:
    invalid_request); `key` says which, for the citizen's message."""


@dataclass(frozen=True, slots=True)
class BindDraft:
    """What the citizen confirmed for a binding (the full ID number is only used to build the payload)."""

    holder_psn_no: str
    holder_name_masked: str
    relative_certno: str
    relative_name_masked: str
    relation_code: str
    admdvs: str
    letter_id: str
    letter_version: int
    letter_sha256: str
    otp_id: str | None = None
    relative_card_verified: bool = False
    channel: api.Channel = api.Channel.SELF


@dataclass(frozen=True, slots=True)
class UnbindDraft:
    binding_id: str
    by_psn_no: str
    admdvs: str
    holder_psn_no: str
    holder_name_masked: str
    relative_name_masked: str
    relative_certno_masked: str


@dataclass(frozen=True, slots=True)
class DueItem:
    outbox_id: int
    request_id: str
    method: str
    path: str
    body: dict[str, Any]
    attempts: int


# Statements of the submit path, built once (building them per call cost as much as running them).
_POLICY_VERSION = select(CachedArea.version).where(CachedArea.admdvs == bindparam("admdvs"))
_POLICY_BODY = select(CachedArea.policy).where(CachedArea.admdvs == bindparam("admdvs"))
_WAITING_UP_TO = select(func.count()).select_from(
    select(OutboxItem.id).where(OutboxItem.done_at.is_(None)).limit(bindparam("bound")).subquery()
)
_OLDEST_WAITING = select(func.min(OutboxItem.created_at)).where(OutboxItem.done_at.is_(None))
_INSERT_SUBMISSION = insert(Submission)
_INSERT_OUTBOX = insert(OutboxItem)


class Store:
    def __init__(self, engine: Engine, cipher: FieldCipher, clock: Clock = utc_now) -> None:
        check_mode(engine)
        self.engine = engine
        self.sessions: sessionmaker[Session] = make_sessions(engine)
        self.cipher = cipher
        self.clock = clock
        self._policies: dict[str, tuple[int, AreaPolicy]] = {}

    @classmethod
    def open(cls, config: StoreConfig, clock: Clock = utc_now, *, migrate: bool = True) -> Store:
        path = config.resolved_path()
        if migrate:
            upgrade(path)
        cipher = FieldCipher(load_or_create_key(config.resolved_key_file()))
        return cls(make_store_engine(path), cipher, clock)

    @classmethod
    def at(cls, path: Path, clock: Clock = utc_now) -> Store:
        """A store in `path` with its key beside it (tests, tools)."""
        return cls.open(StoreConfig(path=str(path)), clock)

    def close(self) -> None:
        self.engine.dispose()

    # --- submissions -----------------------------------------------------------------------------------

    def submit_bind(self, draft: BindDraft, *, online: bool) -> Submission:
        request_id, receipt_no = uuid.uuid4(), new_receipt_no(self.clock())
        try:
            body = api.BindingCreateIn(
                request_id=request_id,
                holder_psn_no=draft.holder_psn_no,
                relative_certno=draft.relative_certno,
                relation_code=draft.relation_code,
                admdvs=draft.admdvs,
                letter_id=draft.letter_id,
                letter_version=draft.letter_version,
                letter_sha256=draft.letter_sha256,
                otp_id=draft.otp_id,
                relative_card_verified=draft.relative_card_verified,
                channel=draft.channel,
                receipt_no=receipt_no,
            )
        except ValidationError as exc:  # nothing is stored; the detail names the fields, not their values
            raise SubmissionRefused(Reason.INVALID_REQUEST, detail=api.invalid_fields(exc)) from None
        return self._submit(
            request_id=request_id,
            receipt_no=receipt_no,
            kind="bind",
            admdvs=draft.admdvs,
            online=online,
            method="POST",
            path="/v1/bindings",
            body=body,
            columns={
                "holder_psn_no": draft.holder_psn_no,
                "holder_name_masked": draft.holder_name_masked,
                "relative_name_masked": draft.relative_name_masked,
                "relative_certno_masked": mask_id(draft.relative_certno),
                "relation_code": draft.relation_code,
            },
        )

    def submit_unbind(self, draft: UnbindDraft, *, online: bool) -> Submission:
        request_id, receipt_no = uuid.uuid4(), new_receipt_no(self.clock())
        try:
            body = api.RevokeIn(request_id=request_id, by_psn_no=draft.by_psn_no, receipt_no=receipt_no)
        except ValidationError as exc:  # nothing is stored; the detail names the fields, not their values
            raise SubmissionRefused(Reason.INVALID_REQUEST, detail=api.invalid_fields(exc)) from None
        return self._submit(
            request_id=request_id,
            receipt_no=receipt_no,
            kind="unbind",
            admdvs=draft.admdvs,
            online=online,
            method="POST",
            path=f"/v1/bindings/{draft.binding_id}/revoke",
            body=body,
            columns={
                "holder_psn_no": draft.holder_psn_no,
                "holder_name_masked": draft.holder_name_masked,
                "relative_name_masked": draft.relative_name_masked,
                "relative_certno_masked": draft.relative_certno_masked,
                "relation_code": None,
                "binding_id": draft.binding_id,
            },
        )

    def _submit(
        self,
        *,
        request_id: uuid.UUID,
        receipt_no: str,
        kind: str,
        admdvs: str,
        online: bool,
        method: str,
        path: str,
        body: api.BindingCreateIn | api.RevokeIn,
        columns: dict[str, Any],
    ) -> Submission:
        """One transaction: the submission and its outbox row are durable together, or not at all. The
        outbox keeps the request as the contract's JSON (`body.model_dump(mode="json")`), sealed.

        Plain Core inserts rather than ORM objects: this is the citizen's wait after "Confirm", and the
        ORM's unit of work cost four times the SQLite commit itself (benchmarks/store_commit.py).
        """
        now = self.clock()
        payload = self.cipher.seal(body.model_dump(mode="json"))
        row = {
            "request_id": str(request_id),
            "receipt_no": receipt_no,  # in the request too: central serves the receipt's public page
            "kind": kind,
            "status": "pending",
            "reason_code": None,
            "created_at": now,
            "updated_at": now,
            "admdvs": admdvs,
            "binding_id": None,
            **columns,
        }
        with self.engine.begin() as conn:
            self._check_queue(conn, admdvs, online, now)
            conn.execute(_INSERT_SUBMISSION, row)
            conn.execute(
                _INSERT_OUTBOX,
                {
                    "request_id": str(request_id),
                    "method": method,
                    "path": path,
                    "payload": payload,
                    "created_at": now,
                    "attempts": 0,
                    "next_attempt_at": now,
                },
            )
        return Submission(**row)

    def _check_queue(self, conn: Connection, admdvs: str, online: bool, now: dt.datetime) -> None:
        policy = self._cached_policy(conn, admdvs)
        if policy is None:
            raise SubmissionRefused(Reason.POLICY_UNKNOWN, area=admdvs)
        if not online and policy.offline_queue_max_count == 0:
            raise SubmissionRefused(Reason.OFFLINE_NOT_ALLOWED, area=admdvs)
        if policy.offline_queue_max_count:
            # count no further than the bound: the cost stays flat however long the queue is
            count = conn.execute(_WAITING_UP_TO, {"bound": policy.offline_queue_max_count}).scalar_one()
            if count >= policy.offline_queue_max_count:
                raise SubmissionRefused(Reason.OFFLINE_QUEUE_FULL, count=count)
        if policy.offline_queue_max_age_hours:
            oldest = conn.execute(_OLDEST_WAITING).scalar_one()
            max_age = dt.timedelta(hours=policy.offline_queue_max_age_hours)
            if oldest is not None and now - _aware(oldest) > max_age:
                raise SubmissionRefused(
                    Reason.OFFLINE_QUEUE_TOO_OLD, hours=policy.offline_queue_max_age_hours
                )

    def _cached_policy(self, conn: Connection, admdvs: str) -> AreaPolicy | None:
        """The parsed policy, kept in memory by (area, version): parsing it on every submit cost more
        than the commit. The version check is one primary-key read."""
        version = conn.execute(_POLICY_VERSION, {"admdvs": admdvs}).scalar()
        if version is None:
            return None
        hit = self._policies.get(admdvs)
        if hit is not None and hit[0] == version:
            return hit[1]
        raw = conn.execute(_POLICY_BODY, {"admdvs": admdvs}).scalar_one()
        policy = parse_policy(raw, f"cached area {admdvs}")
        self._policies[admdvs] = (version, policy)
        return policy

    @staticmethod
    def _queue(db: Session) -> tuple[int, dt.datetime | None]:
        row = db.execute(
            select(func.count(), func.min(OutboxItem.created_at)).where(OutboxItem.done_at.is_(None))
        ).one()
        return int(row[0]), row[1]

    def queue_stats(self) -> tuple[int, float | None]:
        """(requests not yet answered by central, age in seconds of the oldest)."""
        with self.sessions() as db:
            count, oldest = self._queue(db)
        age = None if oldest is None else (self.clock() - _aware(oldest)).total_seconds()
        return count, age

    def get(self, request_id: str) -> Submission | None:
        with self.sessions() as db:
            return db.get(Submission, request_id)

    def submissions_for(self, psn_no: str) -> list[Submission]:
        with self.sessions() as db:
            return list(
                db.scalars(
                    select(Submission)
                    .where(Submission.holder_psn_no == psn_no)
                    .order_by(Submission.created_at)
                )
            )

    # --- the sync worker's side --------------------------------------------------------------------------

    def due(self, limit: int = 50) -> list[DueItem]:
        """Unanswered requests whose retry time has come, oldest first (central applies them in order)."""
        now = self.clock()
        with self.sessions() as db:
            rows = db.scalars(
                select(OutboxItem)
                .where(OutboxItem.done_at.is_(None), OutboxItem.next_attempt_at <= now)
                .order_by(OutboxItem.id)
                .limit(limit)
            ).all()
            return [
                DueItem(r.id, r.request_id, r.method, r.path, self.cipher.open(r.payload), r.attempts)
                for r in rows
                if r.payload is not None
            ]

    def record_answer(
        self, request_id: str, status: str, reason_code: str | None = None, binding_id: str | None = None
    ) -> bool:
        """Central answered: the status moves forward once and the encrypted payload is erased.
        Returns False when the submission had already been answered (statuses never move back)."""
        if status not in FINAL:
            raise ValueError(f"not a final status: {status}")
        now = self.clock()
        with self.sessions.begin() as db:
            values: dict[str, Any] = {"status": status, "reason_code": reason_code, "updated_at": now}
            if binding_id is not None:
                values["binding_id"] = binding_id
            moved = db.execute(  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
                update(Submission)
                .where(Submission.request_id == request_id, Submission.status == "pending")
                .values(**values)
            ).rowcount
            db.execute(
                update(OutboxItem)
                .where(OutboxItem.request_id == request_id)
                .values(payload=None, done_at=now, last_error=None)
            )
        return bool(moved)

    def record_failure(self, outbox_id: int, error: str, retry_at: dt.datetime) -> None:
        with self.sessions.begin() as db:
            db.execute(
                update(OutboxItem)
                .where(OutboxItem.id == outbox_id)
                .values(attempts=OutboxItem.attempts + 1, last_error=error[:200], next_attempt_at=retry_at)
            )

    # --- policy cache ---------------------------------------------------------------------------------

    def _policy(self, db: Session, admdvs: str) -> AreaPolicy | None:
        area = db.get(CachedArea, admdvs)
        return None if area is None else parse_policy(area.policy, f"cached area {admdvs}")

    def policy(self, admdvs: str) -> AreaPolicy | None:
        with self.sessions() as db:
            return self._policy(db, admdvs)

    def cache_area(
        self, admdvs: str, version: int, name_zh: str, name_en: str, policy: dict[str, Any]
    ) -> bool:
        """Store a newer policy version; returns True when something changed. The policy is validated
        first, so a bad one from central never replaces a good one here."""
        parse_policy(policy, f"area {admdvs} from central")
        with self.sessions.begin() as db:
            area = db.get(CachedArea, admdvs)
            if area is not None and area.version >= version:
                return False
            if area is None:
                area = CachedArea(admdvs=admdvs)
                db.add(area)
            area.version, area.name_zh, area.name_en = version, name_zh, name_en
            area.policy, area.fetched_at = policy, self.clock()
        return True

    def has_letter(self, letter_id: str, version: int, lang: str) -> bool:
        with self.sessions() as db:
            return db.get(CachedLetter, (letter_id, version, lang)) is not None

    def cache_letter(
        self, letter_id: str, version: int, lang: str, title: str, body: str, sha256: str
    ) -> None:
        with self.sessions.begin() as db:
            if db.get(CachedLetter, (letter_id, version, lang)) is None:
                db.add(
                    CachedLetter(
                        letter_id=letter_id, version=version, lang=lang, title=title, body=body, sha256=sha256
                    )
                )

    def letter(self, letter_id: str, version: int, lang: str) -> CachedLetter | None:
        with self.sessions() as db:
            return db.get(CachedLetter, (letter_id, version, lang))

    # --- kiosk state ----------------------------------------------------------------------------------

    def set_state(self, key: str, value: str) -> None:
        with self.sessions.begin() as db:
            row = db.get(KioskState, key)
            if row is None:
                db.add(KioskState(key=key, value=value))
            else:
                row.value = value

    def state(self, key: str) -> str | None:
        with self.sessions() as db:
            row = db.get(KioskState, key)
            return None if row is None else row.value
