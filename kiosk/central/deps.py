"""The routes' dependencies: the database session, the clock, the settings, the SMS outbox, the signed kiosk.

`create_app` puts one `Central` on `app.state`; everything a route needs is taken from it through the
`Annotated[..., Depends(...)]` aliases below, so a route states what it uses in its signature. The
dependencies that only pick something out of `Central` are `async`: FastAPI then calls them on the event
loop instead of sending each to the thread pool.
"""

# No `from __future__ import annotations` here: FastAPI reads these annotations at run time.

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from kiosk.central import auth, sms
from kiosk.central.clock import Clock
from kiosk.central.settings import CentralSettings
from kiosk.signing import SignatureError, parse_headers


@dataclass(frozen=True, slots=True)
class Central:
    """What one app instance runs on, built by `create_app` and kept on `app.state.central`."""

    settings: CentralSettings
    engine: Engine
    sessions: sessionmaker[Session]
    outbox: sms.Outbox


async def get_central(request: Request) -> Central:
    central: Central = request.app.state.central
    return central


CentralDep = Annotated[Central, Depends(get_central)]


async def get_settings(central: CentralDep) -> CentralSettings:
    return central.settings


SettingsDep = Annotated[CentralSettings, Depends(get_settings)]


async def get_clock(central: CentralDep) -> Clock:
    return central.settings.clock


ClockDep = Annotated[Clock, Depends(get_clock)]


def get_db(central: CentralDep) -> Iterator[Session]:
    """A session for reading, or for one transaction the route opens with `db.begin()`."""
    with central.sessions() as db:
        yield db


# scope="function": the session (and its pooled connection) is given back as soon as the route returns,
# not after the answer has been sent.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


async def get_sessions(central: CentralDep) -> sessionmaker[Session]:
    return central.sessions


SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
"""The session factory, for writes applied exactly once (`run_once` opens transactions of its own)."""


async def get_outbox(central: CentralDep) -> sms.Outbox:
    return central.outbox


OutboxDep = Annotated[sms.Outbox, Depends(get_outbox)]


async def signed_kiosk(request: Request, central: CentralDep) -> str:
    """The id of the registered kiosk that signed this request; 401 before anything is read or written."""
    body = await request.body()
    try:
        parts = parse_headers(request.headers)
    except SignatureError as exc:
        raise auth.refused(exc.reason) from None
    # The signature covers the path as sent, before any decoding, and the query string.
    path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
    if request.scope.get("query_string"):
        path += "?" + request.scope["query_string"].decode("latin-1")
    settings = central.settings
    return await run_in_threadpool(
        auth.authenticate,
        central.sessions,
        settings.clock,
        settings.signature_window_s,
        parts,
        request.method,
        path,
        body,
    )


SignedKiosk = Annotated[str, Depends(signed_kiosk)]
