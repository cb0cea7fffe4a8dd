"""POST /v1/settlements: an institution settles a relative's bill, split over the accounts (exactly once)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from kiosk import api
from kiosk.central import money
from kiosk.central.deps import ClockDep, SessionsDep, SignedKiosk
from kiosk.central.idempotency import body_digest, run_once

router = APIRouter(prefix="/settlements", tags=["money"])


@router.post("", status_code=201, response_model=api.SettlementOut)
def settlement(
    client_id: SignedKiosk, sessions: SessionsDep, clock: ClockDep, body: api.SettlementIn
) -> JSONResponse:
    status, response = run_once(
        sessions,
        clock,
        request_id=str(body.settlement_id),
        kind="settlement",
        kiosk_id=client_id,
        digest=body_digest(body),
        work=lambda db: money.create_settlement(db, clock(), client_id, body),
    )
    return JSONResponse(response, status_code=status)
