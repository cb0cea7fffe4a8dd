"""What time changes: codes expire, bindings lapse after their validity and can then be made again.

These run the app in-process (Starlette's TestClient) with a clock the test moves; everything else about
the service is the same as on the real uvicorn.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kiosk.central.app import CentralSettings, create_app
from kiosk.central.seed import SyntheticPerson
from kiosk.sync.client import KioskAuth
from tests.support.central import KIOSK_ID, prepare_database
from tests.support.clock import Clock


@pytest.fixture
def world(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Clock, list[SyntheticPerson], Path]]:
    secret, people = prepare_database(sqlite_url)
    clock = Clock()
    sms = tmp_path / "sms.jsonl"
    app = create_app(CentralSettings(database_url=sqlite_url, sms_gateway="file", sms_file=sms, clock=clock))
    with TestClient(app) as client:
        client.auth = KioskAuth(KIOSK_ID, secret, clock=lambda: clock().timestamp())
        yield client, clock, people, sms


def _family(people: list[SyntheticPerson], n: int) -> dict[str, SyntheticPerson]:
    return {p.relation_to_head: p for p in people if p.household == n}


def _verified_otp(client: TestClient, sms: Path, holder: SyntheticPerson, relative: SyntheticPerson) -> str:
    otp_id = client.post(
        "/v1/otp/send", json={"holder_psn_no": holder.psn_no, "relative_psn_no": relative.psn_no}
    )
    assert otp_id.status_code == 200, otp_id.text
    code = re.findall(r"验证码 (\d{6})", sms.read_text(encoding="utf-8"))[-1]
    assert (
        client.post("/v1/otp/verify", json={"otp_id": otp_id.json()["otp_id"], "code": code}).status_code
        == 200
    )
    return str(otp_id.json()["otp_id"])


def _bind(
    client: TestClient, holder: SyntheticPerson, relative: SyntheticPerson, code: str, otp_id: str
) -> dict:
    letter = client.get("/v1/letters/zj-family-aid/2").json()
    r = client.post(
        "/v1/bindings",
        json={
            "request_id": str(uuid.uuid4()),
            "holder_psn_no": holder.psn_no,
            "relative_certno": relative.certno,
            "relation_code": code,
            "admdvs": "331100",
            "letter_id": "zj-family-aid",
            "letter_version": 2,
            "letter_sha256": letter["sha256"],
            "otp_id": otp_id,
        },
    )
    assert r.status_code in (201, 422), r.text
    return dict(r.json())


def test_a_code_expires_after_five_minutes(
    world: tuple[TestClient, Clock, list[SyntheticPerson], Path],
) -> None:
    client, clock, people, sms = world
    fam = _family(people, 1)
    sent = client.post(
        "/v1/otp/send", json={"holder_psn_no": fam["00"].psn_no, "relative_psn_no": fam["51"].psn_no}
    )
    code = re.findall(r"验证码 (\d{6})", sms.read_text(encoding="utf-8"))[-1]
    clock.advance(seconds=301)
    r = client.post("/v1/otp/verify", json={"otp_id": sent.json()["otp_id"], "code": code})
    assert (r.status_code, r.json()["error"]) == (422, "otp_expired"), r.text
    again = client.post(
        "/v1/otp/send", json={"holder_psn_no": fam["00"].psn_no, "relative_psn_no": fam["51"].psn_no}
    )
    assert again.status_code == 200  # after the throttle window a new code may be sent


def test_a_verified_code_binds_once(world: tuple[TestClient, Clock, list[SyntheticPerson], Path]) -> None:
    client, _clock, people, sms = world
    fam = _family(people, 1)
    otp_id = _verified_otp(client, sms, fam["00"], fam["51"])
    assert _bind(client, fam["00"], fam["51"], "51", otp_id)["status"] == "active"
    # the same code cannot serve another binding (here: the mother)
    assert _bind(client, fam["00"], fam["52"], "52", otp_id)["error"] == "otp_not_verified"


def test_a_binding_lapses_after_its_validity_and_can_be_made_again(
    world: tuple[TestClient, Clock, list[SyntheticPerson], Path],
) -> None:
    client, clock, people, sms = world
    fam = _family(people, 1)  # Lishui: valid for 365 days
    first = _bind(client, fam["00"], fam["51"], "51", _verified_otp(client, sms, fam["00"], fam["51"]))
    assert dt.date.fromisoformat(first["valid_until"]) - dt.date.fromisoformat(
        first["valid_from"]
    ) == dt.timedelta(days=364)
    clock.advance(days=365)
    active = client.get(f"/v1/persons/{fam['00'].psn_no}/bindings").json()
    assert active["as_holder"] == []
    everything = client.get(f"/v1/persons/{fam['00'].psn_no}/bindings", params={"include_ended": True}).json()
    assert [b["status"] for b in everything["as_holder"]] == ["expired"]
    second = _bind(client, fam["00"], fam["51"], "51", _verified_otp(client, sms, fam["00"], fam["51"]))
    assert second["status"] == "active" and second["binding_id"] != first["binding_id"]
    history = client.get(f"/v1/bindings/{first['binding_id']}/history").json()
    assert [e["event"] for e in history] == ["created", "expired"]
