"""Central's error answers: every key is a `Reason`; every /v1 route is signed and documents its errors."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from kiosk import api
from kiosk.api import Reason
from kiosk.central.app import CentralSettings, create_app
from kiosk.central.errors import ApiError, not_found
from kiosk.domain.errors import DomainError, Ineligible, InvalidIdNumber

DOMAIN = Path(__file__).resolve().parents[2] / "kiosk" / "domain"
ERROR_CLASSES = {"DomainError", "Ineligible", "InvalidIdNumber", "PolicyError"}


def _domain_keys() -> set[str]:
    """Every key the domain rules can raise: `Ineligible("key", ...)` calls and `key = "..."` defaults."""
    keys = set()
    for path in DOMAIN.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERROR_CLASSES and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    keys.add(first.value)
            if isinstance(node, ast.ClassDef) and node.name in ERROR_CLASSES:
                for statement in node.body:
                    if isinstance(statement, ast.Assign | ast.AnnAssign) and isinstance(
                        statement.value, ast.Constant
                    ):
                        targets = (
                            statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                        )
                        if any(getattr(t, "id", None) == "key" for t in targets):
                            keys.add(str(statement.value.value))
    return keys


def test_every_key_the_domain_rules_raise_is_a_reason() -> None:
    keys = _domain_keys()
    assert {"invalid_id_number", "relation_unknown", "holder_too_young", "invalid_policy"} <= keys
    assert sorted(k for k in keys if k not in set(Reason)) == []


def test_a_rule_rejection_is_a_422_with_the_rules_reason_and_plain_params() -> None:
    error = ApiError.rejected(Ineligible("holder_relatives_cap", cap=5, policy=object()))
    assert (error.status, error.key, error.params) == (422, Reason.HOLDER_RELATIVES_CAP, {"cap": 5})
    assert error.body() == {
        "error": "holder_relatives_cap",
        "message": "holder relatives cap",
        "params": {"cap": 5},
    }
    assert ApiError.rejected(InvalidIdNumber(detail="bad check digit")).key is Reason.INVALID_ID_NUMBER


def test_a_domain_key_this_build_does_not_know_is_answered_as_unknown() -> None:
    assert ApiError.rejected(DomainError("brand_new_rule")).key is Reason.UNKNOWN


def test_not_found_names_what_was_not_found() -> None:
    error = not_found(Reason.BINDING_NOT_FOUND)
    assert (error.status, error.message) == (404, "binding not found")
    assert api.ErrorOut.model_validate(error.body()).error is Reason.BINDING_NOT_FOUND


PATH_VALUES = {
    "admdvs": "331100",
    "letter_id": "zj-family-aid",
    "version": "2",
    "binding_id": "00000000-0000-4000-8000-000000000000",
    "psn_no": "P1",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    url = f"sqlite:///{tmp_path_factory.mktemp('central') / 'central.db'}"
    return create_app(CentralSettings(database_url=url, run_migrations=False))  # no request reaches the DB


def _operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    found = [(path, method, op) for path, ops in app.openapi()["paths"].items() for method, op in ops.items()]
    assert len(found) == 16
    return found


def test_every_v1_operation_refuses_an_unsigned_request_before_anything_else(app: FastAPI) -> None:
    with TestClient(app) as client:
        for path, method, _op in _operations(app):
            if not path.startswith("/v1/"):
                continue
            r = client.request(method, re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m[1]], path))
            assert r.status_code == 401, (method, path, r.text)
            assert api.ErrorOut.model_validate(r.json()).error is Reason.UNAUTHORIZED


def test_every_v1_operation_documents_each_error_status_with_the_error_model(app: FastAPI) -> None:
    error_ref = {"$ref": "#/components/schemas/ErrorOut"}
    for path, method, op in _operations(app):
        if path.startswith("/v1/"):
            documented = {s: r["content"]["application/json"]["schema"] for s, r in op["responses"].items()}
            for status in ("401", "403", "404", "409", "422", "429"):
                assert documented[status] == error_ref, (method, path, status)
