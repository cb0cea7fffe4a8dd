"""GET /healthz: the service runs and its database answers (unsigned, for load balancers and operators)."""

from fastapi import APIRouter
from sqlalchemy import text

import kiosk
from kiosk import api
from kiosk.central.deps import CentralDep, SessionDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(central: CentralDep, db: SessionDep) -> api.Health:
    db.execute(text("SELECT 1"))
    return api.Health(status="ok", database=central.engine.dialect.name, version=kiosk.__version__)
