"""The central service's FastAPI application, built by `create_app(settings)` (never at import time)."""

# No `from __future__ import annotations` here: FastAPI must see the real types of the local dependencies.

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import BackgroundTasks, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException

import kiosk
from kiosk import api
from kiosk.central import auth, bindings, money, otp, registry, sms
from kiosk.central.clock import Clock, local_date, utc_now
from kiosk.central.db import make_engine, make_sessionmaker, upgrade
from kiosk.central.errors import ApiError
from kiosk.central.idempotency import body_digest, run_once
from kiosk.central.models import Area
from kiosk.signing import WINDOW_SECONDS, SignatureError, parse_headers

log = logging.getLogger("kiosk.central")
T = TypeVar("T")


@dataclass
class CentralSettings:
    """How one central service process runs. Every worker behind a load balancer needs the same secret_key."""

    database_url: str
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))  # keys the OTP hashes
    sms_gateway: str = "log"  # log | file
    sms_file: Path | None = None
    otp_rules: otp.OtpRules = field(default_factory=otp.OtpRules)
    signature_window_s: int = WINDOW_SECONDS
    clock: Clock = utc_now
    run_migrations: bool = True
    pool_size: int = 40


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": api.ErrorOut} for code in (401, 403, 404, 409, 422, 429)
}
SignedId = Annotated[str, PathParam(pattern=r"^[0-9a-f-]{36}$")]
PsnPath = Annotated[str, PathParam(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9]+$")]


def create_app(settings: CentralSettings) -> FastAPI:
    if settings.run_migrations:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url, pool_size=settings.pool_size)
    sessions: sessionmaker[Session] = make_sessionmaker(engine)
    gateway = sms.make_gateway(settings.sms_gateway, settings.sms_file)
    otp_key = settings.secret_key.encode()
    clock = settings.clock

    app = FastAPI(
        title="Family mutual-aid central service",
        version=kiosk.__version__,
        description="Reference central medical-insurance service for the family mutual-aid kiosks. "
        "Every /v1 request is signed by a registered kiosk (X-Kiosk-* headers, HMAC-SHA256).",
    )
    app.state.sessions = sessions
    app.state.engine = engine

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()
        ]
        body = api.ErrorOut(
            error="invalid_request", message="the request is malformed", params={"errors": errors}
        )
        return JSONResponse(body.model_dump(), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        # FastAPI answers a body it cannot decode (not UTF-8) with a bare 400; like a JSON syntax error
        # it is a malformed request, which the API documents as 422 invalid_request.
        if exc.status_code == 400:
            errors = [{"loc": ["body"], "msg": str(exc.detail)}]
            body = api.ErrorOut(
                error="invalid_request", message="the request is malformed", params={"errors": errors}
            )
            return JSONResponse(body.model_dump(), status_code=422)
        return await http_exception_handler(request, exc)

    async def signed(request: Request) -> str:
        body = await request.body()
        try:
            parts = parse_headers(request.headers)
        except SignatureError as exc:
            raise ApiError(
                401, "unauthorized", f"request signature refused: {exc.reason}", reason=exc.reason
            ) from None
        path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
        if request.scope.get("query_string"):
            path += "?" + request.scope["query_string"].decode("latin-1")
        return await run_in_threadpool(
            auth.authenticate, sessions, clock, settings.signature_window_s, parts, request.method, path, body
        )

    Kiosk = Annotated[str, Depends(signed)]

    def read(fn: Callable[[Session], T]) -> T:
        with sessions() as db:
            return fn(db)

    def write(fn: Callable[[Session], T]) -> T:
        with sessions.begin() as db:
            return fn(db)

    delivery_lock = threading.Lock()
    delivery_wanted = threading.Event()

    def deliver_sms() -> None:
        """One delivery loop per process: a request that finds it running only asks it to go round again."""
        delivery_wanted.set()
        if not delivery_lock.acquire(blocking=False):
            return
        try:
            while delivery_wanted.is_set():
                delivery_wanted.clear()
                sms.deliver_pending(sessions, gateway, clock)
        except Exception:  # delivery is retried with the next message; the request already succeeded
            log.exception("SMS delivery failed")
        finally:
            delivery_lock.release()

    @app.get("/healthz", response_model=api.Health, tags=["operations"])
    def healthz() -> api.Health:
        with sessions() as db:
            db.execute(text("SELECT 1"))
        return api.Health(status="ok", database=engine.dialect.name, version=kiosk.__version__)

    @app.get("/v1/me", response_model=api.KioskMe, responses=ERRORS, tags=["operations"])
    def me(kiosk_id: Kiosk) -> api.KioskMe:
        return api.KioskMe(kiosk_id=kiosk_id, server_time=clock())

    @app.get("/v1/areas", response_model=list[api.AreaOut], responses=ERRORS, tags=["policy"])
    def areas(_k: Kiosk) -> list[api.AreaOut]:
        return read(lambda db: [registry.area_out(a) for a in db.scalars(select(Area).order_by(Area.admdvs))])

    @app.get("/v1/areas/{admdvs}", response_model=api.AreaOut, responses=ERRORS, tags=["policy"])
    def area(_k: Kiosk, admdvs: Annotated[str, PathParam(pattern=r"^\d{6}$")]) -> api.AreaOut:
        def get(db: Session) -> api.AreaOut:
            found = db.get(Area, admdvs)
            if found is None:
                raise ApiError(404, "area_not_found", "area not found")
            return registry.area_out(found)

        return read(get)

    @app.get(
        "/v1/letters/{letter_id}/{version}",
        response_model=api.LetterOut,
        responses=ERRORS,
        tags=["policy"],
    )
    def letter(
        _k: Kiosk,
        letter_id: Annotated[str, PathParam(min_length=1, max_length=40)],
        version: Annotated[int, PathParam(ge=1, le=10**6)],
        lang: Annotated[str, Query(pattern=r"^(zh-CN|en)$")] = "zh-CN",
    ) -> api.LetterOut:
        def get(db: Session) -> api.LetterOut:
            found = registry.letter(db, letter_id, version, lang)
            return api.LetterOut(
                letter_id=found.letter_id,
                version=found.version,
                lang=found.lang,
                title=found.title,
                body=found.body,
                sha256=found.sha256,
            )

        return read(get)

    @app.post("/v1/holders/identify", response_model=api.HolderOut, responses=ERRORS, tags=["people"])
    def identify_holder(_k: Kiosk, body: api.IdentifyHolderIn) -> api.HolderOut:
        def get(db: Session) -> api.HolderOut:
            if body.certno is not None:
                person = registry.person_by_certno(db, body.certno)
            else:
                assert body.card_no is not None and body.issuing_admdvs is not None  # noqa: S101 - validated
                person = registry.person_by_card(db, body.card_no, body.issuing_admdvs)
            return registry.holder_out(db, person, local_date(clock()))

        return read(get)

    @app.post("/v1/persons/lookup", response_model=api.PersonOut, responses=ERRORS, tags=["people"])
    def lookup(_k: Kiosk, body: api.LookupIn) -> api.PersonOut:
        return read(
            lambda db: registry.person_out(registry.person_by_certno(db, body.certno), local_date(clock()))
        )

    @app.post("/v1/bindings/check", response_model=api.BindingCheckOut, responses=ERRORS, tags=["bindings"])
    def check_binding(_k: Kiosk, body: api.BindingCheckIn) -> api.BindingCheckOut:
        return read(lambda db: bindings.check(db, clock(), body))

    def duplicate_pair(exc: IntegrityError) -> ApiError | None:
        if "uq_binding_active_pair" in str(exc.orig) or "binding.holder_psn_no" in str(exc.orig):
            return ApiError(422, "duplicate_binding", "this relative is already bound to this holder")
        return None

    @app.post(
        "/v1/bindings",
        status_code=201,
        response_model=api.BindingOut,
        responses=ERRORS,
        tags=["bindings"],
    )
    def create_binding(kiosk_id: Kiosk, body: api.BindingCreateIn, tasks: BackgroundTasks) -> JSONResponse:
        status, response = run_once(
            sessions,
            clock,
            request_id=str(body.request_id),
            kind="bind",
            kiosk_id=kiosk_id,
            digest=body_digest(body),
            on_conflict=duplicate_pair,
            work=lambda db: bindings.create(db, clock(), kiosk_id, body, settings.otp_rules.ttl_s),
        )
        tasks.add_task(deliver_sms)
        return JSONResponse(response, status_code=status)

    @app.post(
        "/v1/bindings/{binding_id}/revoke",
        response_model=api.BindingOut,
        responses=ERRORS,
        tags=["bindings"],
    )
    def revoke_binding(
        kiosk_id: Kiosk, binding_id: SignedId, body: api.RevokeIn, tasks: BackgroundTasks
    ) -> JSONResponse:
        status, response = run_once(
            sessions,
            clock,
            request_id=str(body.request_id),
            kind="revoke",
            kiosk_id=kiosk_id,
            digest=body_digest(body, binding_id=binding_id),
            work=lambda db: bindings.revoke(db, clock(), kiosk_id, binding_id, body),
        )
        tasks.add_task(deliver_sms)
        return JSONResponse(response, status_code=status)

    @app.get(
        "/v1/bindings/{binding_id}/history",
        response_model=list[api.BindingEventOut],
        responses=ERRORS,
        tags=["bindings"],
    )
    def binding_history(_k: Kiosk, binding_id: SignedId) -> list[api.BindingEventOut]:
        return read(lambda db: bindings.history(db, binding_id))

    @app.get(
        "/v1/persons/{psn_no}/bindings",
        response_model=api.BindingsOut,
        responses=ERRORS,
        tags=["bindings"],
    )
    def person_bindings(_k: Kiosk, psn_no: PsnPath, include_ended: bool = False) -> api.BindingsOut:
        return read(lambda db: bindings.list_for(db, clock(), psn_no, include_ended))

    @app.get("/v1/persons/{psn_no}/usage", response_model=api.UsageOut, responses=ERRORS, tags=["money"])
    def person_usage(
        _k: Kiosk, psn_no: PsnPath, year: Annotated[int | None, Query(ge=1900, le=2200)] = None
    ) -> api.UsageOut:
        return read(lambda db: money.usage_for(db, psn_no, year))

    @app.post("/v1/otp/send", response_model=api.OtpSendOut, responses=ERRORS, tags=["verification"])
    def otp_send(kiosk_id: Kiosk, body: api.OtpSendIn, tasks: BackgroundTasks) -> api.OtpSendOut:
        out = write(lambda db: otp.send(db, otp_key, settings.otp_rules, clock(), kiosk_id, body))
        tasks.add_task(deliver_sms)
        return out

    @app.post("/v1/otp/verify", response_model=api.OtpVerifyOut, responses=ERRORS, tags=["verification"])
    def otp_verify(_k: Kiosk, body: api.OtpVerifyIn) -> api.OtpVerifyOut:
        failure = write(lambda db: otp.verify(db, otp_key, settings.otp_rules, clock(), body))
        if failure is not None:
            raise failure
        return api.OtpVerifyOut(verified=True)

    @app.post(
        "/v1/settlements",
        status_code=201,
        response_model=api.SettlementOut,
        responses=ERRORS,
        tags=["money"],
    )
    def settlement(client_id: Kiosk, body: api.SettlementIn) -> JSONResponse:
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

    return app
