"""Late rejection: a submission the terminal took (pending) but central refuses becomes `rejected` with
central's reason code within ONE sync cycle, and stays rejected: statuses never move back or sideways.

Five submissions are queued in Liaocheng (max 2 holders per relative, relations 10/20/30/51/52):
three children bind their mother (the third is over the cap), one binds his younger sister (relation 77
is not allowed there) and one names a relative the registry does not know (404).

A second test loses central's rejection on the way back (connection cut after central answered) and
frees the cap before the retry: the retry must get central's stored answer (rejected, same reason), not
a fresh decision the terminal and central would then disagree about.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kiosk.domain.idnumber import make_id_number
from kiosk.store.models import OutboxItem
from kiosk.store.repository import BindDraft, Store
from kiosk.sync.client import terminal_client
from kiosk.sync.worker import SyncWorker
from tests.support.fault_proxy import FaultProxy
from tests.support.reliability import AREA, add_people, central_answers, central_bindings, terminal_config


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_late_rejection_arrives_in_one_cycle_and_is_final(central: Any, tmp_path: Path) -> None:
    people = add_people(
        central,
        [
            ("LRC1", 40, "1"),
            ("LRC2", 42, "1"),
            ("LRC3", 44, "1"),
            ("LRMOTHER", 70, "2"),
            ("LRSISTER", 35, "2"),
        ],
    )
    unknown_certno = make_id_number("371502", people["LRC1"].birth_date.replace(year=1950), 998)
    config = terminal_config(central, tmp_path)
    store = Store.open(config.store)
    with terminal_client(config) as client:
        worker = SyncWorker(store, client, config.sync)
        assert worker.run_once().online  # policy and letters
        letter = store.letter("sd-family-aid", 1, "zh-CN")
        assert letter is not None

        def submit(holder: str, certno: str, code: str) -> str:
            d = BindDraft(holder, "测*", certno, "测*", code, AREA, "sd-family-aid", 1, letter.sha256)
            return store.submit_bind(d, online=True).request_id

        mother = people["LRMOTHER"].certno
        first = submit("LRC1", mother, "52")
        second = submit("LRC2", mother, "52")
        over_cap = submit("LRC3", mother, "52")
        sister = submit("LRC1", people["LRSISTER"].certno, "77")
        unknown = submit("LRC2", unknown_certno, "52")
        assert {store.get(r).status for r in (first, second, over_cap, sister, unknown)} == {"pending"}  # type: ignore[union-attr]

        report = worker.run_once()  # ONE cycle
        assert (report.sent, report.accepted, report.rejected, report.retry_later) == (5, 2, 3, 0)
        expected = {
            first: ("accepted", None),
            second: ("accepted", None),
            over_cap: ("rejected", "relative_holders_cap"),
            sister: ("rejected", "relation_not_allowed"),
            unknown: ("rejected", "person_not_found"),
        }
        got = {rid: (s.status, s.reason_code) for rid in expected if (s := store.get(rid)) is not None}
        assert got == expected
        assert store.queue_stats() == (0, None)

        rejected = (over_cap, sister, unknown)
        for rid in rejected:
            assert (
                store.record_answer(rid, "accepted", binding_id="00000000-0000-4000-8000-000000000000")
                is False
            )
            after = store.get(rid)
            assert after is not None
            assert (after.status, after.reason_code, after.binding_id) == ("rejected", expected[rid][1], None)
        for rid in (first, second):
            before = store.get(rid)
            assert store.record_answer(rid, "rejected", reason_code="late_noise") is False
            after = store.get(rid)
            assert before is not None and after is not None
            assert (after.status, after.reason_code, after.binding_id) == (
                "accepted",
                None,
                before.binding_id,
            )
        with store.sessions() as db:
            outbox = db.scalars(select(OutboxItem)).all()
        assert all(o.done_at is not None and o.payload is None for o in outbox)  # answered, data erased
        assert worker.run_once().sent == 0  # nothing is ever sent again
    store.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_rejection_whose_answer_was_lost_is_replayed_not_decided_again(
    central: Any, tmp_path: Path
) -> None:
    people = add_people(central, [("LLC1", 40, "1"), ("LLC2", 42, "1"), ("LLC3", 44, "1"), ("LLM", 70, "2")])
    mother = people["LLM"].certno
    proxy = FaultProxy("127.0.0.1", central.server.port).start()
    config = terminal_config(central, tmp_path, url=proxy.url)
    store = Store.open(config.store)
    try:
        with terminal_client(config) as client:
            worker = SyncWorker(store, client, config.sync)
            assert worker.run_once().online
            letter = store.letter("sd-family-aid", 1, "zh-CN")
            assert letter is not None

            def submit(holder: str) -> str:
                d = BindDraft(holder, "测*", mother, "测*", "52", AREA, "sd-family-aid", 1, letter.sha256)
                return store.submit_bind(d, online=True).request_id

            first, second = submit("LLC1"), submit("LLC2")
            assert worker.run_once().accepted == 2
            over_cap = submit("LLC3")
            proxy.set_faults({"cut": 1.0})
            lost = worker.run_once()
            assert (lost.sent, lost.online, lost.retry_later) == (0, False, 1)
            assert store.get(over_cap).status == "pending"  # type: ignore[union-attr]
            assert central_answers(central, [over_cap]) == {over_cap: 422}  # decided, answer lost
            proxy.set_faults(None)

            # The cap is freed before the terminal asks again.
            binding_id = store.get(first).binding_id  # type: ignore[union-attr]
            revoke = central.client().post(
                f"/v1/bindings/{binding_id}/revoke",
                json={"request_id": str(uuid.uuid4()), "by_psn_no": "LLC1"},
            )
            assert revoke.status_code == 200, revoke.text

            again = worker.run_once()  # ONE cycle after the network is back
            assert (again.sent, again.rejected) == (1, 1)
            got = store.get(over_cap)
            assert got is not None and (got.status, got.reason_code) == ("rejected", "relative_holders_cap")
            assert store.record_answer(over_cap, "accepted") is False
            assert store.get(over_cap).status == "rejected"  # type: ignore[union-attr]
            assert central_bindings(central, ["LLC3"]) == []  # both sides agree: no binding
            assert store.get(second).status == "accepted"  # type: ignore[union-attr]
    finally:
        proxy.stop()
        store.close()
