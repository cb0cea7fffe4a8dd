"""A seeded central service on a real uvicorn (SQLite and PostgreSQL), and a signed client for it.

Also the registry edits tests make by hand (a person, a binding) and the body of a bind request. The
``central`` fixture is registered for the whole suite by ``tests/conftest.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.central.auth import register_kiosk
from kiosk.central.db import make_engine, make_sessionmaker
from kiosk.central.models import Binding, Person
from kiosk.central.seed import SyntheticPerson, letter_sha256, seed_database
from kiosk.domain.idnumber import make_id_number
from kiosk.sync.client import central_client
from tests.support.services import CentralServer

KIOSK_ID = "test-kiosk-01"
LETTER = {"letter_id": "zj-family-aid", "letter_version": 2}


@dataclass
class Central:
    """A running central service with its people, a signed client and the SMS it sent."""

    server: CentralServer
    database_url: str
    secret: str
    people: list[SyntheticPerson]
    sms_file: Path
    extra: dict[str, Any] = field(default_factory=dict)
    _clients: list[httpx.Client] = field(default_factory=list)

    def client(self, kiosk_id: str = KIOSK_ID, secret: str | None = None) -> httpx.Client:
        c = central_client(self.server.url, kiosk_id, secret or self.secret, timeout=30)
        self._clients.append(c)
        return c

    def sms(self, phone: str | None = None) -> list[str]:
        if not self.sms_file.exists():
            return []
        rows = [json.loads(line) for line in self.sms_file.read_text(encoding="utf-8").splitlines()]
        return [r["body"] for r in rows if phone is None or r["phone"] == phone]

    def household(self, n: int) -> dict[str, SyntheticPerson]:
        """The n-th generated family (1 = the first fixed scenario) by relation code to its head ("00")."""
        return {p.relation_to_head: p for p in self.people if p.household == n}

    def sessions(self) -> Any:
        engine = make_engine(self.database_url, pool_size=2)
        self.extra.setdefault("engines", []).append(engine)
        return make_sessionmaker(engine)

    def letter_sha(self, letter_id: str = "zj-family-aid", version: int = 2, lang: str = "zh-CN") -> str:
        r = self.client().get(f"/v1/letters/{letter_id}/{version}", params={"lang": lang})
        r.raise_for_status()
        return str(r.json()["sha256"])

    def close(self) -> None:
        for c in self._clients:
            c.close()
        for engine in self.extra.get("engines", []):
            engine.dispose()


def prepare_database(url: str, people: int = 120, seed: int = 1) -> tuple[str, list[SyntheticPerson]]:
    generated, _added, secret = seed_database(
        url, people, seed, also=lambda db: register_kiosk(db, KIOSK_ID, dt.datetime.now(dt.UTC))
    )
    assert secret is not None
    return secret, generated


@pytest.fixture
def central(database_url: str, tmp_path: Path) -> Iterator[Central]:
    secret, people = prepare_database(database_url)
    sms_file = tmp_path / "sms.jsonl"
    server = CentralServer(database_url, log_dir=tmp_path, extra_args=["--sms-file", str(sms_file)])
    server.start()
    c = Central(server, database_url, secret, people, sms_file)
    try:
        yield c
    finally:
        c.close()
        server.stop()


def add_person(
    central: Central,
    *,
    psn_no: str,
    age: int,
    sex: str,
    area: str,
    insutype: str = "310",
    balance_fen: int = 0,
    phone: str | None = "13900000000",
    seq: int = 0,
) -> Person:
    """Insert a person straight into the registry (tests that need a family shape the seed doesn't have)."""
    today = dt.date.today()
    born = dt.date(today.year - age, 1, 1)  # the birthday has passed: exactly `age` years old
    county = {
        "371500": "371502",
        "331100": "331102",
        "330100": "330102",
        "130100": "130102",
        "330800": "330802",
    }[area]
    parity = 1 if sex == "1" else 0
    certno = make_id_number(county, born, (seq * 2 + parity) % 1000)
    person = Person(
        psn_no=psn_no,
        certno=certno,
        name=f"测试{psn_no[-3:]}",
        sex=sex,
        birth_date=born,
        insutype=insutype,
        insu_status="1",
        insured_admdvs=area,
        phone=phone,
        card_no=None,
        card_issuing_admdvs=None,
        card_generation=None,
        account_balance_fen=balance_fen,
    )
    with central.sessions().begin() as db:
        db.add(person)
    return person


def add_binding(central: Central, holder: str, relative: str, area: str, relation_code: str) -> str:
    """Insert an active binding directly (setup for settlement tests, not a test of binding itself)."""
    binding_id = str(uuid.uuid4())
    with central.sessions().begin() as db:
        db.add(
            Binding(
                binding_id=binding_id,
                holder_psn_no=holder,
                relative_psn_no=relative,
                admdvs=area,
                relation_code=relation_code,
                status="active",
                valid_from=dt.date.today(),
                valid_until=None,
                created_at=dt.datetime.now(dt.UTC),
                letter_id="zj-family-aid",
                letter_version=2,
                letter_sha256=letter_sha256("x"),
                channel="self",
                kiosk_id=KIOSK_ID,
                request_id=str(uuid.uuid4()),
            )
        )
    return binding_id


def bind_body(
    central: Central,
    holder: SyntheticPerson | Person,
    relative_certno: str,
    relation_code: str,
    area: str,
    **extra: Any,
) -> dict[str, Any]:
    letter = {
        "331100": ("zj-family-aid", 2),
        "330100": ("zj-family-aid", 2),
        "330800": ("zj-family-aid", 2),
        "440300": ("gd-family-aid", 1),
        "371500": ("sd-family-aid", 1),
        "130100": ("he-family-aid", 1),
    }[area]
    body = {
        "request_id": str(uuid.uuid4()),
        "holder_psn_no": holder.psn_no,
        "relative_certno": relative_certno,
        "relation_code": relation_code,
        "admdvs": area,
        "letter_id": letter[0],
        "letter_version": letter[1],
        "letter_sha256": central.letter_sha(*letter),
    }
    body.update(extra)
    return body
