"""POST /v1/holders/identify: the card holder in front of the kiosk, and whether they may bind."""

from fastapi import APIRouter

from kiosk import api
from kiosk.central import registry
from kiosk.central.clock import local_date
from kiosk.central.deps import ClockDep, SessionDep

router = APIRouter(prefix="/holders", tags=["people"])


@router.post("/identify")
def identify_holder(db: SessionDep, clock: ClockDep, body: api.IdentifyHolderIn) -> api.HolderOut:
    return registry.holder_out(db, registry.identify(db, body), local_date(clock()))
