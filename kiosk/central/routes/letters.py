"""GET /v1/letters/{letter_id}/{version}: one language of a published commitment letter, with its hash."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from kiosk import api
from kiosk.central import registry
from kiosk.central.deps import SessionDep

router = APIRouter(prefix="/letters", tags=["policy"])


@router.get("/{letter_id}/{version}")
def letter(
    db: SessionDep,
    letter_id: Annotated[str, Path(min_length=1, max_length=40)],
    version: Annotated[int, Path(ge=1, le=10**6)],
    lang: Annotated[str, Query(pattern=r"^(zh-CN|en)$")] = "zh-CN",
) -> api.LetterOut:
    return registry.letter_out(registry.letter(db, letter_id, version, lang))
