"""The central service's routes, one module per resource; everything under /v1 is signed by a kiosk.

Outside /v1 only /healthz and the receipts' public pages (/r/...), which are for people's phones.

Each module holds an `APIRouter`; `include_routes` mounts them on an app. The /v1 router checks the
signature of every request before its route runs (`deps.signed_kiosk`, shared with the routes that need
the kiosk's id) and documents each error status with `api.ErrorOut`.
"""

from fastapi import APIRouter, Depends, FastAPI

from kiosk.central.deps import signed_kiosk
from kiosk.central.errors import ERROR_RESPONSES
from kiosk.central.routes import (
    areas,
    bindings,
    health,
    holders,
    kiosks,
    letters,
    otp,
    persons,
    receipts,
    settlements,
)


def include_routes(app: FastAPI) -> None:
    app.include_router(health.router)
    app.include_router(receipts.router)
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(signed_kiosk)], responses=ERROR_RESPONSES)
    for module in (kiosks, areas, letters, holders, persons, bindings, otp, settlements):
        v1.include_router(module.router)
    app.include_router(v1)
