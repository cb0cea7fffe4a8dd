"""Central SIGKILLed and restarted while the terminal drains its queue (PostgreSQL): 0 bindings lost or
duplicated.

The sync worker runs in its own thread (`run_forever`, as in the kiosk app) on a queue of 100 bind
submissions. Central is killed with SIGKILL three times while the worker is pushing, and restarted each
time on the same port and database:
  - twice at a random moment (a few ms after the terminal's n-th answer: a request is usually in flight);
  - once while central's answer to a binding it has just committed is on its way back (held by a
    pass-through `FaultProxy` until central is dead), so the terminal must learn of it by replaying.
Afterwards each terminal submission is accepted exactly once, central holds exactly one binding per
request_id (the one the terminal recorded), and bindings = submissions.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kiosk.central.models import ClientRequest
from kiosk.config import SyncConfig
from kiosk.store.models import Submission
from kiosk.store.repository import Store
from kiosk.sync.client import terminal_client
from kiosk.sync.worker import SyncWorker
from tests.support.fault_proxy import FaultProxy
from tests.support.reliability import (
    add_couples,
    assert_exactly_once,
    draft,
    outbox_attempts,
    terminal_config,
)

SUBMISSIONS = 100
KILLS = ((20, "random"), (45, "random"), (70, "answer in flight"))  # (after this many answers, how)
WAIT_S = 60.0


def _answered(store: Store) -> int:
    return SUBMISSIONS - store.queue_stats()[0]


def _wait_until(condition: Any, what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.005)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_central_killed_mid_sync_loses_and_duplicates_nothing(central: Any, tmp_path: Path) -> None:
    seed = int(os.environ.get("KIOSK_RELIABILITY_SEED") or uuid.uuid4().int % 10**8)
    rng = random.Random(seed)
    pairs = add_couples(central, SUBMISSIONS, "CK")
    proxy = FaultProxy("127.0.0.1", central.server.port, seed=seed).start()  # passes everything
    sync = SyncConfig(interval_s=0.05, backoff_base_s=0.02, backoff_max_s=0.2, timeout_s=5)
    config = terminal_config(central, tmp_path, url=proxy.url, sync=sync)
    store = Store.open(config.store)
    kills: list[tuple[dt.datetime, int, str]] = []  # (when, answers the terminal had then, how)
    downtime: list[float] = []
    started = time.monotonic()
    try:
        with terminal_client(config) as client:
            worker = SyncWorker(store, client, config.sync)
            assert worker.run_once().online  # policy and letters
            letter = store.letter("sd-family-aid", 1, "zh-CN")
            assert letter is not None
            for pair in pairs:
                store.submit_bind(draft(central, pair, letter.sha256), online=True)

            thread = threading.Thread(target=worker.run_forever, name="sync", daemon=True)
            thread.start()
            try:
                for at, how in KILLS:
                    _wait_until(lambda at=at: _answered(store) >= at, f"{at} answers")
                    if how == "random":
                        time.sleep(rng.uniform(0, 0.02))
                        release = None
                    else:
                        held, release = proxy.hold_next_answer("/v1/bindings")
                        assert held.wait(WAIT_S), "no binding request reached central"
                    kills.append((dt.datetime.now(dt.UTC), _answered(store), how))
                    assert central.server.kill() == -9
                    down = time.monotonic()
                    if release is not None:
                        release.set()  # central is dead: the answer it gave is lost with the connection
                    time.sleep(0.3)  # the worker meets a dead central for a while
                    central.server.restart()  # same port, same database
                    downtime.append(time.monotonic() - down)
                _wait_until(lambda: store.queue_stats()[0] == 0, "the queue drained")
            finally:
                worker.stop()
                thread.join(30)
            assert not thread.is_alive()
    finally:
        proxy.stop()
    elapsed = time.monotonic() - started

    counted = assert_exactly_once(central, store, pairs)
    attempts = outbox_attempts(store)
    # Answers lost in a kill: central committed the request before the kill, the terminal learnt of it
    # only after the restart (by sending the same request_id again and getting the stored answer).
    with store.sessions() as db:
        answered_at = {s.request_id: _aware(s.updated_at) for s in db.scalars(select(Submission))}
    with central.sessions()() as db:
        committed_at = {
            r.request_id: _aware(r.created_at)
            for r in db.scalars(select(ClientRequest).where(ClientRequest.request_id.in_(list(answered_at))))
        }
    lost = {how: 0 for _, _, how in kills}
    for rid, committed in committed_at.items():
        for when, _, how in kills:
            if committed < when < answered_at[rid]:
                lost[how] += 1
    store.close()
    print(
        f"\ncentral restart: seed {seed}, {SUBMISSIONS} submissions, {len(kills)} SIGKILLs at "
        f"{[(n, how) for _, n, how in kills]} answers, restarts took {[round(d, 1) for d in downtime]} s, "
        f"committed answers lost in a kill and replayed {lost}, failed attempts per request "
        f"{dict(sorted(attempts.items()))}, {elapsed:.1f} s; central bindings {counted['bindings']} = "
        f"terminal submissions {counted['submissions']}"
    )
    assert all(n < SUBMISSIONS for _, n, _ in kills), "central was killed after the queue had drained"
    assert lost["answer in flight"] >= 1, "the held answer was not lost in the kill"
    assert sum(n for a, n in attempts.items() if a > 0) >= len(kills), "the worker never met a dead central"
