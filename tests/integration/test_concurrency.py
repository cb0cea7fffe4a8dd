"""Many kiosks at once: one active binding per pair, caps on relatives and on money hold under load."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import func, select

from kiosk.central.models import Binding, Person, UsageRecord
from tests.support.central import Central, add_binding, add_person, bind_body

PARALLEL = 16


def _all_at_once(
    central: Central, bodies: list[tuple[str, dict[str, Any]]]
) -> list[tuple[int, dict[str, Any]]]:
    """POST every (path, body) from its own client, all released together."""
    import threading

    barrier = threading.Barrier(len(bodies))

    def one(item: tuple[str, dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        client = central.client()
        barrier.wait()
        r = client.post(item[0], json=item[1])
        return r.status_code, r.json()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def _count(central: Central, *where: Any) -> int:
    with central.sessions()() as db:
        return int(db.scalar(select(func.count()).select_from(Binding).where(*where)) or 0)


def test_two_kiosks_binding_the_same_pair_give_one_binding(central: Central) -> None:
    holder = add_person(central, psn_no="LC0000000001", age=40, sex="1", area="371500", seq=1)
    wife = add_person(central, psn_no="LC0000000002", age=38, sex="2", area="371500", seq=2)
    bodies = [
        ("/v1/bindings", bind_body(central, holder, wife.certno, "10", "371500")) for _ in range(PARALLEL)
    ]
    results = _all_at_once(central, bodies)
    outcomes = Counter(status if status == 201 else body["error"] for status, body in results)
    assert outcomes == {201: 1, "duplicate_binding": PARALLEL - 1}, results
    assert _count(central, Binding.holder_psn_no == holder.psn_no, Binding.status == "active") == 1


def test_the_same_request_sent_many_times_applies_once(central: Central) -> None:
    holder = add_person(central, psn_no="LC0000000011", age=40, sex="1", area="371500", seq=11)
    wife = add_person(central, psn_no="LC0000000012", age=38, sex="2", area="371500", seq=12)
    body = bind_body(central, holder, wife.certno, "10", "371500")
    results = _all_at_once(central, [("/v1/bindings", body)] * PARALLEL)
    assert {status for status, _ in results} == {201}
    assert len({b["binding_id"] for _, b in results}) == 1
    assert _count(central, Binding.holder_psn_no == holder.psn_no) == 1


def test_cap_on_relatives_per_holder_holds_under_concurrent_binds(central: Central) -> None:
    cap = 6  # Liaocheng's max_relatives_per_holder
    holder = add_person(central, psn_no="LC0000000021", age=62, sex="1", area="371500", seq=21)
    sons = [
        add_person(central, psn_no=f"LC00000001{i:02d}", age=20 + i, sex="1", area="371500", seq=100 + i)
        for i in range(cap + 4)
    ]
    results = _all_at_once(
        central, [("/v1/bindings", bind_body(central, holder, son.certno, "20", "371500")) for son in sons]
    )
    outcomes = Counter(status if status == 201 else body["error"] for status, body in results)
    assert outcomes == {201: cap, "holder_relatives_cap": 4}, results
    assert _count(central, Binding.holder_psn_no == holder.psn_no, Binding.status == "active") == cap


def test_cap_on_holders_per_relative_holds_under_concurrent_binds(central: Central) -> None:
    cap = 2  # Liaocheng's max_holders_per_relative
    mother = add_person(central, psn_no="LC0000000031", age=68, sex="2", area="371500", seq=31)
    children = [
        add_person(central, psn_no=f"LC00000002{i:02d}", age=35 + i, sex="1", area="371500", seq=200 + i)
        for i in range(5)
    ]
    results = _all_at_once(
        central,
        [("/v1/bindings", bind_body(central, child, mother.certno, "52", "371500")) for child in children],
    )
    outcomes = Counter(status if status == 201 else body["error"] for status, body in results)
    assert outcomes == {201: cap, "relative_holders_cap": 3}, results
    assert _count(central, Binding.relative_psn_no == mother.psn_no, Binding.status == "active") == cap


def test_money_caps_hold_under_concurrent_settlements(central: Central) -> None:
    daily_cap, per_txn_cap = 300_000, 150_000  # Lishui: 3,000 yuan a day, 1,500 yuan a settlement
    start_balance = 10_000_000
    holder = add_person(
        central, psn_no="LS0000000041", age=45, sex="1", area="331100", balance_fen=start_balance, seq=41
    )
    father = add_person(central, psn_no="LS0000000042", age=75, sex="1", area="331100", balance_fen=0, seq=42)
    add_binding(central, holder.psn_no, father.psn_no, "331100", "51")
    bodies = [
        (
            "/v1/settlements",
            {
                "settlement_id": str(uuid.uuid4()),
                "relative_certno": father.certno,
                "amount_fen": 100_000,
                "institution_kind": "hospital",
            },
        )
        for _ in range(PARALLEL)
    ]
    results = _all_at_once(central, bodies)
    assert {status for status, _ in results} == {201}
    paid = [share["amount_fen"] for _, body in results for share in body["mutual_aid"]]
    assert sum(paid) == daily_cap and max(paid) <= per_txn_cap
    assert all(
        body["own_account_fen"] + sum(s["amount_fen"] for s in body["mutual_aid"]) + body["cash_fen"]
        == body["amount_fen"]
        for _, body in results
    )
    with central.sessions()() as db:
        balance = db.get(Person, holder.psn_no)
        used = db.scalar(
            select(func.sum(UsageRecord.amount_fen)).where(UsageRecord.holder_psn_no == holder.psn_no)
        )
    assert balance is not None and balance.account_balance_fen == start_balance - daily_cap
    assert used == daily_cap
