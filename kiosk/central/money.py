"""Settlements at hospitals and pharmacies, split by the domain rules, and the usage records they leave."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kiosk import api
from kiosk.api import Reason
from kiosk.central import registry
from kiosk.central.bindings import _active
from kiosk.central.clock import local_date
from kiosk.central.errors import ApiError
from kiosk.central.models import Binding, Person, SettlementRecord, UsageRecord
from kiosk.domain.masking import mask_name
from kiosk.domain.settlement import HolderShare, settle


def _used(db: Session, holder: str, relative: str, since: dt.date) -> int:
    total = db.scalar(
        select(func.coalesce(func.sum(UsageRecord.amount_fen), 0)).where(
            UsageRecord.holder_psn_no == holder,
            UsageRecord.relative_psn_no == relative,
            UsageRecord.occurred_on >= since,
        )
    )
    return int(total or 0)


def create_settlement(
    db: Session, now: dt.datetime, client_id: str, body: api.SettlementIn
) -> api.SettlementOut:
    occurred_at = body.occurred_at or now
    try:
        day = local_date(occurred_at)
    except OverflowError:  # e.g. 9999-12-31T23:00:00Z is already in the year 10000 in China
        raise ApiError(422, Reason.OCCURRED_AT_OUT_OF_RANGE, "the settlement time is out of range") from None
    relative_ref = registry.person_by_certno(db, body.relative_certno)
    bindings = db.scalars(
        select(Binding)
        .where(Binding.relative_psn_no == relative_ref.psn_no, _active(day))
        .order_by(Binding.created_at, Binding.binding_id)
    ).all()
    # Lock the relative and every holder before reading what they already paid: the caps hold under load.
    people = registry.lock_people(db, [relative_ref.psn_no, *(b.holder_psn_no for b in bindings)])
    relative = people[relative_ref.psn_no]
    shares: list[HolderShare] = []
    binding_of: dict[str, Binding] = {}
    for b in bindings:
        if b.holder_psn_no in binding_of:  # bound in two areas: the first binding speaks for the holder
            continue
        policy = registry.area_policy(db, b.admdvs)
        holder = people[b.holder_psn_no]
        shares.append(
            HolderShare.under(
                policy,
                holder.psn_no,
                holder.account_balance_fen,
                used_today_fen=_used(db, holder.psn_no, relative.psn_no, day),
                used_year_fen=_used(db, holder.psn_no, relative.psn_no, dt.date(day.year, 1, 1)),
            )
        )
        binding_of[b.holder_psn_no] = b
    split = settle(body.amount_fen, relative.account_balance_fen, shares)
    relative.account_balance_fen -= split.own_account_fen
    db.add(
        SettlementRecord(
            settlement_id=str(body.settlement_id),
            relative_psn_no=relative.psn_no,
            amount_fen=split.amount_fen,
            own_account_fen=split.own_account_fen,
            mutual_aid_fen=split.mutual_aid_total_fen,
            cash_fen=split.cash_fen,
            institution_kind=body.institution_kind.value,
            occurred_at=occurred_at,
            client_id=client_id,
        )
    )
    db.flush()
    out_shares = []
    for holder_psn_no, fen in split.mutual_aid_fen:
        holder = people[holder_psn_no]
        holder.account_balance_fen -= fen
        db.add(
            UsageRecord(
                settlement_id=str(body.settlement_id),
                binding_id=binding_of[holder_psn_no].binding_id,
                holder_psn_no=holder_psn_no,
                relative_psn_no=relative.psn_no,
                amount_fen=fen,
                occurred_on=day,
                institution_kind=body.institution_kind.value,
            )
        )
        out_shares.append(api.MutualAidShareOut(holder_name_masked=mask_name(holder.name), amount_fen=fen))
    return api.SettlementOut(
        settlement_id=str(body.settlement_id),
        amount_fen=split.amount_fen,
        own_account_fen=split.own_account_fen,
        mutual_aid=out_shares,
        cash_fen=split.cash_fen,
    )


def usage_for(db: Session, psn_no: str, year: int | None) -> api.UsageOut:
    """Usage records a family member may see: amount, day, institution kind — never a diagnosis."""
    registry.person_by_psn_no(db, psn_no)
    query = (
        select(UsageRecord)
        .where(or_(UsageRecord.holder_psn_no == psn_no, UsageRecord.relative_psn_no == psn_no))
        .order_by(UsageRecord.occurred_on.desc(), UsageRecord.id.desc())
        .limit(500)
    )
    if year is not None:
        query = query.where(
            UsageRecord.occurred_on >= dt.date(year, 1, 1), UsageRecord.occurred_on <= dt.date(year, 12, 31)
        )
    rows = db.scalars(query).all()
    names = {
        p.psn_no: p.name
        for p in db.scalars(
            select(Person).where(
                Person.psn_no.in_({r.holder_psn_no for r in rows} | {r.relative_psn_no for r in rows})
            )
        )
    }
    records = [
        api.UsageRecordOut(
            occurred_on=r.occurred_on,
            amount_fen=r.amount_fen,
            institution_kind=api.InstitutionKind(r.institution_kind),
            role="holder" if r.holder_psn_no == psn_no else "relative",
            holder_name_masked=mask_name(names.get(r.holder_psn_no, "")),
            relative_name_masked=mask_name(names.get(r.relative_psn_no, "")),
        )
        for r in rows
    ]
    return api.UsageOut(records=records, total_fen=sum(r.amount_fen for r in records))
