"""GET /v1/areas and /v1/areas/{admdvs}: the planning areas and the mutual-aid policy of each."""

from typing import Annotated

from fastapi import APIRouter, Path

from kiosk import api
from kiosk.central import registry
from kiosk.central.deps import SessionDep

router = APIRouter(prefix="/areas", tags=["policy"])


@router.get("")
def areas(db: SessionDep) -> list[api.AreaOut]:
    return [registry.area_out(a) for a in registry.areas(db)]


@router.get("/{admdvs}")
def area(db: SessionDep, admdvs: Annotated[str, Path(pattern=r"^\d{6}$")]) -> api.AreaOut:
    return registry.area_out(registry.area(db, admdvs))
