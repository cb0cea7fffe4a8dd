"""Shared pieces of the reliability tests: people in bulk, a provisioned terminal (store + signed client +
sync worker) and the two-sided ledger checks, around the seeded central of ``tests.support.central``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from kiosk.central.models import Binding, ClientRequest, Person
from kiosk.config import Config, StoreConfig, SyncConfig, TerminalConfig
from kiosk.domain.idnumber import make_id_number
from kiosk.store.repository import BindDraft, Store
from tests.support.central import KIOSK_ID, Central

REPO_ROOT = Path(__file__).resolve().parents[2]
AREA = "371500"  # Liaocheng: verification "none", so a binding needs no SMS code
COUNTY = "371502"


def area_policy(admdvs: str = AREA) -> dict[str, Any]:
    """The area's policy exactly as central publishes it (kiosk/central/data/areas.toml)."""
    raw = tomllib.loads((REPO_ROOT / "kiosk" / "central" / "data" / "areas.toml").read_text("utf-8"))
    (area,) = [a for a in raw["area"] if a["admdvs"] == admdvs]
    return dict(area)


# --- people --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    holder_psn_no: str
    relative_psn_no: str
    relative_certno: str
    relation_code: str


def add_people(central: Central, rows: list[tuple[str, int, str]]) -> dict[str, Person]:
    """Insert people (psn_no, age, sex) insured in Liaocheng in ONE transaction (the integration helper
    opens an engine per person, which PostgreSQL's connection limit does not survive for 200 people).
    ID numbers are built to be valid and not to collide with the seeded registry."""
    today = dt.date.today()
    sessions = central.sessions()
    with sessions.begin() as db:
        taken = set(db.scalars(select(Person.certno)))
        out: dict[str, Person] = {}
        next_seq: Counter[tuple[int, str]] = Counter()
        for psn_no, age, sex in rows:
            born = dt.date(today.year - age, 1, 1)  # birthday passed: exactly `age` years old
            parity = 1 if sex == "1" else 0
            while True:
                seq = next_seq[(age, sex)] * 2 + parity
                next_seq[(age, sex)] += 1
                if seq > 999:
                    raise RuntimeError(f"out of ID sequence numbers for age {age} sex {sex}")
                certno = make_id_number(COUNTY, born, seq)
                if certno not in taken:
                    break
            taken.add(certno)
            person = Person(
                psn_no=psn_no,
                certno=certno,
                name=f"测试{psn_no[-3:]}",
                sex=sex,
                birth_date=born,
                insutype="310",
                insu_status="1",
                insured_admdvs=AREA,
                phone="13900000000",
                card_no=None,
                card_issuing_admdvs=None,
                card_generation=None,
                account_balance_fen=0,
            )
            db.add(person)
            out[psn_no] = person
    return out


def add_couples(central: Central, n: int, tag: str) -> list[Pair]:
    """n distinct holder (man, 45) / relative (his wife, 43) pairs: each may bind once (relation 10)."""
    rows: list[tuple[str, int, str]] = []
    for i in range(n):
        rows.append((f"{tag}H{i:05d}", 45, "1"))
        rows.append((f"{tag}W{i:05d}", 43, "2"))
    people = add_people(central, rows)
    return [Pair(f"{tag}H{i:05d}", f"{tag}W{i:05d}", people[f"{tag}W{i:05d}"].certno, "10") for i in range(n)]


# --- the terminal ----------------------------------------------------------------------------------------


def terminal_config(
    central: Central, tmp_path: Path, *, url: str | None = None, sync: SyncConfig | None = None
) -> Config:
    secret_file = tmp_path / "kiosk.secret"
    secret_file.write_text(central.secret)
    return Config(
        terminal=TerminalConfig(
            kiosk_id=KIOSK_ID, central_url=url or central.server.url, secret_file=str(secret_file)
        ),
        store=StoreConfig(path=str(tmp_path / "terminal.db")),
        sync=sync or SyncConfig(interval_s=0.05, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=5),
    )


def draft(central: Central, pair: Pair, letter_sha: str | None = None) -> BindDraft:
    sha = letter_sha or central.letter_sha("sd-family-aid", 1)
    return BindDraft(
        pair.holder_psn_no,
        "测*",
        pair.relative_certno,
        "测*",
        pair.relation_code,
        AREA,
        "sd-family-aid",
        1,
        sha,
    )


# --- both sides of the ledger ---------------------------------------------------------------------------


def terminal_rows(store: Store) -> dict[str, tuple[str, str | None, str | None]]:
    """request_id → (status, reason_code, binding_id) of every submission on the terminal."""
    from kiosk.store.models import Submission

    with store.sessions() as db:
        return {s.request_id: (s.status, s.reason_code, s.binding_id) for s in db.scalars(select(Submission))}


def central_bindings(central: Central, holders: list[str]) -> list[tuple[str, str, str, str]]:
    """(request_id, binding_id, holder, relative) of every binding central holds for these holders."""
    with central.sessions()() as db:
        rows = db.execute(
            select(
                Binding.request_id, Binding.binding_id, Binding.holder_psn_no, Binding.relative_psn_no
            ).where(Binding.holder_psn_no.in_(holders))
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def central_answers(central: Central, request_ids: list[str]) -> dict[str, int]:
    """request_id → the HTTP status central stored (and replays) for it."""
    with central.sessions()() as db:
        rows = db.execute(
            select(ClientRequest.request_id, ClientRequest.status_code).where(
                ClientRequest.request_id.in_(request_ids)
            )
        ).all()
    return {r[0]: int(r[1]) for r in rows}


def assert_exactly_once(central: Central, store: Store, pairs: list[Pair]) -> dict[str, int]:
    """Every terminal submission is accepted once, and central holds exactly one binding per request,
    the same binding the terminal recorded, and no other binding for these holders."""
    terminal = terminal_rows(store)
    assert store.queue_stats() == (0, None), f"queue not drained: {store.queue_stats()}"
    statuses = Counter(status for status, _, _ in terminal.values())
    assert statuses == Counter({"accepted": len(pairs)}), f"terminal statuses: {dict(statuses)}"
    holders = [p.holder_psn_no for p in pairs]
    rows = central_bindings(central, holders)
    per_request = Counter(r[0] for r in rows)
    duplicated = {rid: n for rid, n in per_request.items() if n > 1}
    assert not duplicated, f"central holds several bindings for one request: {duplicated}"
    per_pair = Counter((r[2], r[3]) for r in rows)
    assert all(n == 1 for n in per_pair.values()), f"a pair bound twice: {per_pair.most_common(3)}"
    assert len(rows) == len(terminal) == len(pairs), (
        f"{len(rows)} bindings at central, {len(terminal)} submissions at the terminal, {len(pairs)} asked"
    )
    missing = set(terminal) - set(per_request)
    assert not missing, f"accepted at the terminal but no binding at central: {sorted(missing)[:5]}"
    unknown = set(per_request) - set(terminal)
    assert not unknown, f"bindings at central no terminal submission asked for: {sorted(unknown)[:5]}"
    by_request = {r[0]: r[1] for r in rows}
    wrong = {rid for rid, (_, _, bid) in terminal.items() if bid != by_request[rid]}
    assert not wrong, f"the terminal recorded another binding id than central's: {sorted(wrong)[:5]}"
    answers = central_answers(central, list(terminal))
    assert answers == dict.fromkeys(terminal, 201), "central's stored answers are not all 201"
    return {"bindings": len(rows), "submissions": len(terminal)}


def outbox_attempts(store: Store) -> Counter[int]:
    """How many requests needed how many failed attempts before central's answer arrived."""
    from kiosk.store.models import OutboxItem

    with store.sessions() as db:
        return Counter(int(a) for a in db.scalars(select(OutboxItem.attempts)))
