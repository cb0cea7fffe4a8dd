"""GET /r/{receipt_no}?m=MAC: a receipt's public page for the citizen's phone (unsigned, outside /v1)."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from kiosk.central.clock import local_date
from kiosk.central.deps import ClockDep, SessionDep
from kiosk.central.receipt_page import NOT_HERE_YET, find_receipt, render_receipt

router = APIRouter(tags=["receipts"])

# The page holds nothing to cache, to send to another site or to frame; it runs no script and loads nothing.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
}


# Not in the OpenAPI document: a page for people, not part of the terminals' API. Any receipt number and
# MAC are taken as text, so a malformed one gets the same page as a wrong one (never a 422 that tells).
@router.get("/r/{receipt_no}", include_in_schema=False, response_class=HTMLResponse)
def receipt_page(db: SessionDep, clock: ClockDep, receipt_no: str, m: str = "") -> HTMLResponse:
    view = find_receipt(db, receipt_no, m, local_date(clock()))
    if view is None:
        return HTMLResponse(NOT_HERE_YET, status_code=404, headers=HEADERS)
    return HTMLResponse(render_receipt(view), headers=HEADERS)
