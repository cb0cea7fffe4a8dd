"""/v1/persons: look a relative up by ID number; a person's bindings and the mutual-aid money they used."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from kiosk import api
from kiosk.central import bindings, money, registry
from kiosk.central.clock import local_date
from kiosk.central.deps import ClockDep, SessionDep

router = APIRouter(prefix="/persons")

PsnNoPath = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9]+$")]


@router.post("/lookup", tags=["people"])
def lookup(db: SessionDep, clock: ClockDep, body: api.LookupIn) -> api.PersonOut:
    return registry.person_out(registry.person_by_certno(db, body.certno), local_date(clock()))


@router.get("/{psn_no}/bindings", tags=["bindings"])
def person_bindings(
    db: SessionDep, clock: ClockDep, psn_no: PsnNoPath, include_ended: bool = False
) -> api.BindingsOut:
    return bindings.list_for(db, clock(), psn_no, include_ended)


@router.get("/{psn_no}/usage", tags=["money"])
def person_usage(
    db: SessionDep, psn_no: PsnNoPath, year: Annotated[int | None, Query(ge=1900, le=2200)] = None
) -> api.UsageOut:
    return money.usage_for(db, psn_no, year)
