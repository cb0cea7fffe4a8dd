"""Bindings: check, create (exactly once), revoke by either side, list in both directions, history."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from kiosk import api
from kiosk.api import Reason
from kiosk.central import otp, registry
from kiosk.central.clock import aware, local_date
from kiosk.central.errors import ApiError, not_found
from kiosk.central.models import Binding, BindingEvent, ConsentLetter, Person, SmsMessage
from kiosk.domain import eligibility
from kiosk.domain.errors import DomainError
from kiosk.domain.masking import mask_name
from kiosk.domain.policy import AreaPolicy
from kiosk.domain.relations import relation


def _active(today: dt.date) -> Any:
    """SQL condition: a binding in force today (an active row past its validity counts as expired)."""
    return (Binding.status == "active") & (or_(Binding.valid_until.is_(None), Binding.valid_until >= today))


def effective_status(b: Binding, today: dt.date) -> api.BindingStatus:
    if b.status == "active" and b.valid_until is not None and b.valid_until < today:
        return "expired"
    return b.status


def _expire_lapsed(db: Session, psn_nos: list[str], now: dt.datetime) -> None:
    """Turn lapsed bindings of these people into `expired`, with history, before new rules are applied."""
    today = local_date(now)
    lapsed = db.scalars(
        select(Binding).where(
            Binding.status == "active",
            Binding.valid_until < today,
            or_(Binding.holder_psn_no.in_(psn_nos), Binding.relative_psn_no.in_(psn_nos)),
        )
    ).all()
    for b in lapsed:
        b.status, b.ended_at, b.ended_by = "expired", now, "system"
        db.add(BindingEvent(binding_id=b.binding_id, event="expired", at=now, actor="system"))
    db.flush()


_VERIFICATIONS: dict[str, api.Verification] = {"sms": "sms", "card": "card"}
"""The domain's verification words as the wire's (a word missing here fails the check loudly)."""


def _check(
    db: Session, holder: Person, relative: Person, relation_code: str, policy: AreaPolicy, today: dt.date
) -> None:
    holder_relatives = db.scalars(
        select(Binding.relative_psn_no).where(
            Binding.holder_psn_no == holder.psn_no, Binding.admdvs == policy.admdvs, _active(today)
        )
    ).all()
    relative_holders = db.scalar(
        select(func.count())
        .select_from(Binding)
        .where(Binding.relative_psn_no == relative.psn_no, _active(today))
    )
    register = registry.register_entries(db, [holder.psn_no, relative.psn_no])
    try:
        eligibility.check_binding(
            registry.to_rules_person(holder),
            registry.to_rules_person(relative),
            relation_code,
            policy,
            today,
            holder_active_relatives=set(holder_relatives),
            relative_active_holder_count=relative_holders or 0,
            holder_register=register.get(holder.psn_no),
            relative_register=register.get(relative.psn_no),
        )
    except DomainError as exc:
        raise ApiError.rejected(exc) from None


def check(db: Session, now: dt.datetime, body: api.BindingCheckIn) -> api.BindingCheckOut:
    """Everything the terminal must know before the confirm page, without writing anything."""
    today = local_date(now)
    holder = registry.person_by_psn_no(db, body.holder_psn_no, missing=Reason.HOLDER_NOT_FOUND)
    relative = registry.person_by_certno(db, body.relative_certno)
    policy = registry.area_policy(db, body.admdvs)
    _check(db, holder, relative, body.relation_code, policy, today)
    rules_relative = registry.to_rules_person(relative)
    return api.BindingCheckOut(
        relative=registry.person_out(relative, today),
        relation_code=body.relation_code,
        admdvs=policy.admdvs,
        required_verification=sorted(
            _VERIFICATIONS[v] for v in eligibility.required_verifications(policy, rules_relative, today)
        ),
        relative_is_minor=eligibility.is_minor(policy, rules_relative, today),
        valid_from=today,
        valid_until=eligibility.binding_valid_until(policy, today),
        per_txn_cap_fen=policy.per_txn_cap_fen,
        daily_cap_fen=policy.daily_cap_fen,
        annual_cap_fen=policy.annual_cap_fen,
        reserve_fen=policy.reserve_fen,
    )


def binding_out(
    db: Session, b: Binding, today: dt.date, people: dict[str, Person] | None = None
) -> api.BindingOut:
    people = people or {}
    holder = people.get(b.holder_psn_no) or db.get(Person, b.holder_psn_no)
    relative = people.get(b.relative_psn_no) or db.get(Person, b.relative_psn_no)
    assert holder is not None and relative is not None  # foreign keys guarantee both  # noqa: S101
    return api.BindingOut(
        binding_id=b.binding_id,
        request_id=b.request_id,
        status=effective_status(b, today),
        holder=registry.party_out(holder),
        relative=registry.party_out(relative),
        relation_code=b.relation_code,
        admdvs=b.admdvs,
        valid_from=b.valid_from,
        valid_until=b.valid_until,
        created_at=aware(b.created_at),  # SQLite returns naive UTC instants
        ended_at=None if b.ended_at is None else aware(b.ended_at),
        ended_by=b.ended_by,
    )


def _notify(
    db: Session, policy: AreaPolicy, now: dt.datetime, people: list[Person], template: str, text: str
) -> None:
    if not policy.notify_sms:
        return
    today = local_date(now)
    for p in people:
        if p.phone and not eligibility.is_minor(policy, registry.to_rules_person(p), today):
            db.add(
                SmsMessage(
                    psn_no=p.psn_no, phone=p.phone, template=template, body=text, created_at=now, attempts=0
                )
            )


def duplicate_pair(exc: IntegrityError) -> ApiError | None:
    """A concurrent twin bound the same pair first: the active-pair index says so (PostgreSQL, SQLite)."""
    if "uq_binding_active_pair" in str(exc.orig) or "binding.holder_psn_no" in str(exc.orig):
        return ApiError(422, Reason.DUPLICATE_BINDING, "this relative is already bound to this holder")
    return None


def create(
    db: Session, now: dt.datetime, kiosk_id: str, body: api.BindingCreateIn, otp_ttl_s: int
) -> api.BindingOut:
    today = local_date(now)
    holder_ref = registry.person_by_psn_no(db, body.holder_psn_no, missing=Reason.HOLDER_NOT_FOUND)
    relative_ref = registry.person_by_certno(db, body.relative_certno)
    people = registry.lock_people(db, [holder_ref.psn_no, relative_ref.psn_no])
    holder, relative = people[holder_ref.psn_no], people[relative_ref.psn_no]
    policy = registry.area_policy(db, body.admdvs)
    if body.channel is api.Channel.AGENT and not policy.agent_allowed:
        raise ApiError(422, Reason.AGENT_NOT_ALLOWED, "this area does not accept bindings by an agent")
    unknown_letter = ApiError(
        422, Reason.LETTER_UNKNOWN, "the commitment letter accepted is not one this service published"
    )
    if "\x00" in body.letter_id:  # no letter id holds a NUL; PostgreSQL text cannot even be asked about one
        raise unknown_letter
    letter = db.get(ConsentLetter, (body.letter_id, body.letter_version, "zh-CN"))
    accepted = db.scalars(
        select(ConsentLetter.sha256).where(
            ConsentLetter.letter_id == body.letter_id, ConsentLetter.version == body.letter_version
        )
    ).all()
    if letter is None or body.letter_sha256 not in accepted:
        raise unknown_letter
    if (body.letter_id, body.letter_version) != (policy.consent_letter.id, policy.consent_letter.version):
        raise ApiError(
            422, Reason.LETTER_OUTDATED, "the area's commitment letter has changed; read and accept it again"
        )
    _expire_lapsed(db, [holder.psn_no, relative.psn_no], now)
    _check(db, holder, relative, body.relation_code, policy, today)
    needed = eligibility.required_verifications(policy, registry.to_rules_person(relative), today)
    if "card" in needed and not body.relative_card_verified:
        raise ApiError(
            422, Reason.RELATIVE_CARD_REQUIRED, "the relative's own card and PIN are required in this area"
        )
    if "sms" in needed:
        if body.otp_id is None:
            raise ApiError(422, Reason.OTP_NOT_VERIFIED, "the relative's SMS code is required in this area")
        otp.consume(db, now, str(body.otp_id), holder.psn_no, relative.psn_no, otp_ttl_s)
    binding = Binding(
        binding_id=str(uuid.uuid4()),
        holder_psn_no=holder.psn_no,
        relative_psn_no=relative.psn_no,
        admdvs=policy.admdvs,
        relation_code=body.relation_code,
        status="active",
        valid_from=today,
        valid_until=eligibility.binding_valid_until(policy, today),
        created_at=now,
        letter_id=body.letter_id,
        letter_version=body.letter_version,
        letter_sha256=body.letter_sha256,
        channel=body.channel.value,
        kiosk_id=kiosk_id,
        request_id=str(body.request_id),
    )
    db.add(binding)
    db.flush()  # the active-pair index speaks here, inside the transaction
    db.add(
        BindingEvent(
            binding_id=binding.binding_id,
            event="created",
            at=now,
            actor="holder",
            kiosk_id=kiosk_id,
            request_id=str(body.request_id),
        )
    )
    rel_name = relation(body.relation_code).name_zh
    _notify(
        db,
        policy,
        now,
        [holder, relative],
        "bound",
        f"【医保家庭共济】{mask_name(holder.name)} 已将医保个人账户与{rel_name} {mask_name(relative.name)} "
        f"绑定家庭共济（{policy.name_zh}）。如有疑问请致电 12393。",
    )
    return binding_out(db, binding, today, people)


def revoke(
    db: Session, now: dt.datetime, kiosk_id: str, binding_id: str, body: api.RevokeIn
) -> api.BindingOut:
    today = local_date(now)
    found = db.get(Binding, binding_id)
    if found is None:
        raise not_found(Reason.BINDING_NOT_FOUND)
    people = registry.lock_people(db, [found.holder_psn_no, found.relative_psn_no])
    b = db.scalars(select(Binding).where(Binding.binding_id == binding_id).with_for_update()).one()
    if body.by_psn_no not in (b.holder_psn_no, b.relative_psn_no):
        raise ApiError(403, Reason.NOT_A_PARTY, "only the holder or the relative of a binding may end it")
    if effective_status(b, today) != "active":
        raise ApiError(
            422,
            Reason.BINDING_NOT_ACTIVE,
            "this binding has already ended",
            current=effective_status(b, today),
        )
    policy = registry.area_policy(db, b.admdvs)
    actor: api.Party = "holder" if body.by_psn_no == b.holder_psn_no else "relative"
    try:
        eligibility.check_may_unbind(policy, actor_is_holder=actor == "holder")
    except DomainError as exc:
        raise ApiError.rejected(exc) from None
    db.execute(
        update(Binding)
        .where(Binding.binding_id == b.binding_id)
        .values(status="revoked", ended_at=now, ended_by=actor)
        .execution_options(synchronize_session="fetch")
    )
    db.add(
        BindingEvent(
            binding_id=b.binding_id,
            event="revoked",
            at=now,
            actor=actor,
            kiosk_id=kiosk_id,
            request_id=str(body.request_id),
        )
    )
    holder, relative = people[b.holder_psn_no], people[b.relative_psn_no]
    _notify(
        db,
        policy,
        now,
        [holder, relative],
        "unbound",
        f"【医保家庭共济】{mask_name(holder.name)} 与 {mask_name(relative.name)} 的家庭共济绑定已解除"
        f"（{policy.name_zh}）。如有疑问请致电 12393。",
    )
    db.flush()
    db.refresh(b)
    return binding_out(db, b, today, people)


def list_for(db: Session, now: dt.datetime, psn_no: str, include_ended: bool) -> api.BindingsOut:
    today = local_date(now)
    registry.person_by_psn_no(db, psn_no)

    def side(column: InstrumentedAttribute[str]) -> list[api.BindingOut]:
        query = select(Binding).where(column == psn_no).order_by(Binding.created_at, Binding.binding_id)
        if not include_ended:
            query = query.where(_active(today))
        return [binding_out(db, b, today) for b in db.scalars(query)]

    return api.BindingsOut(as_holder=side(Binding.holder_psn_no), as_relative=side(Binding.relative_psn_no))


def history(db: Session, binding_id: str) -> list[api.BindingEventOut]:
    if db.get(Binding, binding_id) is None:
        raise not_found(Reason.BINDING_NOT_FOUND)
    events = db.scalars(
        select(BindingEvent).where(BindingEvent.binding_id == binding_id).order_by(BindingEvent.id)
    )
    return [api.BindingEventOut(event=e.event, at=aware(e.at), actor=e.actor) for e in events]
