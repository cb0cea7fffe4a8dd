"""GET /v1/me: the signed kiosk's own id and the service's clock (a terminal checks its key and time)."""

from fastapi import APIRouter

from kiosk import api
from kiosk.central.deps import ClockDep, SignedKiosk

router = APIRouter(tags=["operations"])


@router.get("/me")
def me(kiosk_id: SignedKiosk, clock: ClockDep) -> api.KioskMe:
    return api.KioskMe(kiosk_id=kiosk_id, server_time=clock())
