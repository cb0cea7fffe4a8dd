"""Errors the central API answers with (HTTP status, `Reason`, English message) and their handlers."""

from __future__ import annotations

from typing import Any, Literal, get_args

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from kiosk import api
from kiosk.api import Reason
from kiosk.domain.errors import DomainError

ErrorStatus = Literal[401, 403, 404, 409, 422, 429]
"""Every status an `ApiError` can have; each is documented on every /v1 operation with `api.ErrorOut`."""

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": api.ErrorOut} for status in get_args(ErrorStatus)
}


class ApiError(Exception):
    def __init__(self, status: ErrorStatus, key: Reason, message: str = "", /, **params: Any) -> None:
        self.status: ErrorStatus = status
        self.key = key
        self.message = message or key.value.replace("_", " ")
        self.params = params
        super().__init__(f"{status} {key.value}")

    def out(self) -> api.ErrorOut:
        return api.ErrorOut(error=self.key, message=self.message, params=self.params)

    def body(self) -> dict[str, Any]:
        return self.out().model_dump(mode="json")

    @classmethod
    def rejected(cls, exc: DomainError) -> ApiError:
        """A rule refused the request: 422 with the rule's key, so the terminal can explain it.

        A domain key that is no `Reason` is a bug of this build; it is answered as `unknown` rather than
        failing the request (tests/unit/test_central_errors.py holds every domain key to be a member)."""
        params = {k: v for k, v in exc.params.items() if isinstance(v, str | int | bool)}
        return cls(422, api.reason_of(exc.key), exc.detail or exc.key.replace("_", " "), **params)


def not_found(reason: Reason) -> ApiError:
    """404 for a lookup that found nothing; `reason` names what (`Reason.PERSON_NOT_FOUND`, ...)."""
    return ApiError(404, reason, reason.value.replace("_", " "))


def invalid_request(errors: list[dict[str, Any]]) -> JSONResponse:
    body = api.ErrorOut(
        error=Reason.INVALID_REQUEST, message="the request is malformed", params={"errors": errors}
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=422)


async def on_api_error(_request: Request, exc: ApiError) -> Response:
    return JSONResponse(exc.body(), status_code=exc.status)


async def on_invalid_request(_request: Request, exc: RequestValidationError) -> Response:
    return invalid_request(
        [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
    )


async def on_http_error(request: Request, exc: HTTPException) -> Response:
    # FastAPI answers a body it cannot decode (not UTF-8) with a bare 400; like a JSON syntax error
    # it is a malformed request, which the API documents as 422 invalid_request.
    if exc.status_code == 400:
        return invalid_request([{"loc": ["body"], "msg": str(exc.detail)}])
    return await http_exception_handler(request, exc)


def add_handlers(app: FastAPI) -> None:
    app.exception_handler(ApiError)(on_api_error)
    app.exception_handler(RequestValidationError)(on_invalid_request)
    app.exception_handler(HTTPException)(on_http_error)
