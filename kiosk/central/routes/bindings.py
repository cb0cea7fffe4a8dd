"""/v1/bindings: check a binding, create it (exactly once), revoke it (exactly once), its history.

Creating and revoking are applied once per client `request_id` (`idempotency.run_once`, in transactions
of its own): the answer is the one stored the first time, sent as it was stored.
"""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path
from fastapi.responses import JSONResponse

from kiosk import api
from kiosk.central import bindings
from kiosk.central.deps import ClockDep, OutboxDep, SessionDep, SessionsDep, SettingsDep, SignedKiosk
from kiosk.central.idempotency import body_digest, run_once

router = APIRouter(prefix="/bindings", tags=["bindings"])

BindingIdPath = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]


@router.post("/check")
def check_binding(db: SessionDep, clock: ClockDep, body: api.BindingCheckIn) -> api.BindingCheckOut:
    return bindings.check(db, clock(), body)


@router.post("", status_code=201, response_model=api.BindingOut)
def create_binding(
    kiosk_id: SignedKiosk,
    sessions: SessionsDep,
    settings: SettingsDep,
    outbox: OutboxDep,
    body: api.BindingCreateIn,
    tasks: BackgroundTasks,
) -> JSONResponse:
    clock = settings.clock
    status, response = run_once(
        sessions,
        clock,
        request_id=str(body.request_id),
        kind="bind",
        kiosk_id=kiosk_id,
        digest=body_digest(body),
        on_conflict=bindings.duplicate_pair,
        receipt_no=body.receipt_no,
        work=lambda db: bindings.create(db, clock(), kiosk_id, body, settings.otp_rules.ttl_s),
    )
    tasks.add_task(outbox.deliver)
    return JSONResponse(response, status_code=status)


@router.post("/{binding_id}/revoke", response_model=api.BindingOut)
def revoke_binding(
    kiosk_id: SignedKiosk,
    sessions: SessionsDep,
    clock: ClockDep,
    outbox: OutboxDep,
    binding_id: BindingIdPath,
    body: api.RevokeIn,
    tasks: BackgroundTasks,
) -> JSONResponse:
    status, response = run_once(
        sessions,
        clock,
        request_id=str(body.request_id),
        kind="revoke",
        kiosk_id=kiosk_id,
        digest=body_digest(body, binding_id=binding_id),
        status=200,
        receipt_no=body.receipt_no,
        work=lambda db: bindings.revoke(db, clock(), kiosk_id, binding_id, body),
    )
    tasks.add_task(outbox.deliver)
    return JSONResponse(response, status_code=status)


@router.get("/{binding_id}/history")
def binding_history(db: SessionDep, binding_id: BindingIdPath) -> list[api.BindingEventOut]:
    return bindings.history(db, binding_id)
