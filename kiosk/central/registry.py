"""The people registry, areas and letters: lookups and their masked views."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import api
from kiosk.api import Reason
from kiosk.central.errors import ApiError, not_found
from kiosk.central.models import Area, ConsentLetter, HouseholdMember, Person
from kiosk.domain import eligibility
from kiosk.domain.errors import DomainError, InvalidIdNumber
from kiosk.domain.household import Place, RegisterEntry, codes_of, place
from kiosk.domain.idnumber import age_on, parse_id_number
from kiosk.domain.masking import mask_id, mask_name, mask_phone
from kiosk.domain.policy import AreaPolicy, parse_policy
from kiosk.domain.relations import Sex


def to_rules_person(p: Person) -> eligibility.Person:
    return eligibility.Person(
        psn_no=p.psn_no,
        birth_date=p.birth_date,
        sex=Sex(p.sex),
        insutype=p.insutype,
        insu_status=p.insu_status,
        insured_admdvs=p.insured_admdvs,
    )


@lru_cache(maxsize=256)
def _parsed(admdvs: str, version: int, policy_json: str) -> AreaPolicy:
    return parse_policy(json.loads(policy_json), f"area {admdvs} v{version}")


def area_policy(db: Session, admdvs: str) -> AreaPolicy:
    found = area(db, admdvs)
    return _parsed(found.admdvs, found.version, json.dumps(found.policy, sort_keys=True))


def area_out(area: Area) -> api.AreaOut:
    return api.AreaOut(
        admdvs=area.admdvs,
        name_zh=area.name_zh,
        name_en=area.name_en,
        version=area.version,
        policy=area.policy,
    )


def area(db: Session, admdvs: str) -> Area:
    found = db.get(Area, admdvs)
    if found is None:
        raise not_found(Reason.AREA_NOT_FOUND)
    return found


def areas(db: Session) -> list[Area]:
    return list(db.scalars(select(Area).order_by(Area.admdvs)))


def letter(db: Session, letter_id: str, version: int, lang: str) -> ConsentLetter:
    # No letter id holds a NUL (PostgreSQL text cannot), and asking PostgreSQL about one is a driver error.
    found = None if "\x00" in letter_id else db.get(ConsentLetter, (letter_id, version, lang))
    if found is None:
        raise not_found(Reason.LETTER_NOT_FOUND)
    return found


def letter_out(letter: ConsentLetter) -> api.LetterOut:
    return api.LetterOut.model_validate(letter, from_attributes=True)


def person_by_certno(db: Session, certno: str, *, lock: bool = False) -> Person:
    try:
        value = parse_id_number(certno).value
    except InvalidIdNumber as exc:
        raise ApiError.rejected(exc) from None
    query = select(Person).where(Person.certno == value)
    if lock:
        query = query.with_for_update()
    found = db.scalars(query).first()
    if found is None:
        raise not_found(Reason.PERSON_NOT_FOUND)
    return found


def person_by_psn_no(db: Session, psn_no: str, *, missing: Reason = Reason.PERSON_NOT_FOUND) -> Person:
    """The person with this number; `missing` is the 404's reason (e.g. `HOLDER_NOT_FOUND`)."""
    found = db.get(Person, psn_no)
    if found is None:
        raise not_found(missing)
    return found


def person_by_card(db: Session, card_no: str, issuing_admdvs: str) -> Person:
    found = db.scalars(
        select(Person).where(Person.card_no == card_no, Person.card_issuing_admdvs == issuing_admdvs)
    ).first()
    if found is None:
        raise not_found(Reason.CARD_NOT_FOUND)
    return found


def identify(db: Session, body: api.IdentifyHolderIn) -> Person:
    """The card holder by ID number, or by card number and issuing area (the body has one or the other)."""
    if body.certno is not None:
        return person_by_certno(db, body.certno)
    assert body.card_no is not None and body.issuing_admdvs is not None  # noqa: S101 - validated by the model
    return person_by_card(db, body.card_no, body.issuing_admdvs)


def register_entries(db: Session, psn_nos: list[str]) -> dict[str, RegisterEntry]:
    """The household-register lines of these people (those it lists), with whether each one's household
    lists a spouse of its head."""
    members = db.scalars(select(HouseholdMember).where(HouseholdMember.psn_no.in_(psn_nos))).all()
    heads = {m.household_no for m in members if place(m.relation_to_head) is Place.HEAD}
    married = (
        set(
            db.scalars(
                select(HouseholdMember.household_no).where(
                    HouseholdMember.household_no.in_(heads),
                    HouseholdMember.relation_to_head.in_(codes_of(Place.SPOUSE)),
                )
            )
        )
        if heads
        else set()
    )
    return {
        m.psn_no: RegisterEntry(m.household_no, m.relation_to_head, head_married=m.household_no in married)
        for m in members
    }


def lock_people(db: Session, psn_nos: list[str]) -> dict[str, Person]:
    """Lock the rows of everyone a write touches, always in the same order so two writers never deadlock."""
    rows = db.scalars(
        select(Person)
        .where(Person.psn_no.in_(sorted(set(psn_nos))))
        .order_by(Person.psn_no)
        .with_for_update()
    ).all()
    return {p.psn_no: p for p in rows}


def holder_out(db: Session, p: Person, today: dt.date) -> api.HolderOut:
    reason: Reason | None = None
    try:
        eligibility.check_holder(to_rules_person(p), area_policy(db, p.insured_admdvs), today)
    except DomainError as exc:
        reason = api.reason_of(exc.key)
    except ApiError as exc:  # insured in an area this service has no policy for
        reason = Reason.AREA_NOT_SERVED if exc.key is Reason.AREA_NOT_FOUND else exc.key
    return api.HolderOut(
        psn_no=p.psn_no,
        name=p.name,
        name_masked=mask_name(p.name),
        certno_masked=mask_id(p.certno),
        sex=p.sex,
        birth_date=p.birth_date,
        age=age_on(p.birth_date, today),
        insutype=p.insutype,
        insu_status=p.insu_status,
        insured_admdvs=p.insured_admdvs,
        phone_masked=mask_phone(p.phone) if p.phone else None,
        card_generation=p.card_generation,
        eligible=reason is None,
        ineligible_reason=reason,
    )


def person_out(p: Person, today: dt.date) -> api.PersonOut:
    return api.PersonOut(
        psn_no=p.psn_no,
        name_masked=mask_name(p.name),
        certno_masked=mask_id(p.certno),
        sex=p.sex,
        age=age_on(p.birth_date, today),
        insutype=p.insutype,
        insu_status=p.insu_status,
        insured_admdvs=p.insured_admdvs,
        phone_masked=mask_phone(p.phone) if p.phone else None,
    )


def party_out(p: Person) -> api.PartyOut:
    return api.PartyOut(psn_no=p.psn_no, name_masked=mask_name(p.name), certno_masked=mask_id(p.certno))
