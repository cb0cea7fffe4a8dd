"""Network faults between the sync worker and central: nothing lost, nothing bound twice.

~50 bind submissions are queued, then the worker syncs through `FaultProxy` while it drops connections,
delays, duplicates requests, cuts (or truncates) central's answer after central committed, and holds
requests past the client's timeout before forwarding them anyway. Then the faults stop and the worker
drains the queue. Both sides are counted: every terminal submission is accepted, central holds exactly
one binding per request (the one the terminal recorded) and nothing else for these holders.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from kiosk.config import SyncConfig
from kiosk.store.repository import Store
from kiosk.sync.client import terminal_client
from kiosk.sync.worker import SyncWorker
from tests.support.clock import Clock
from tests.support.fault_proxy import FAULTS, FaultProxy
from tests.support.reliability import (
    add_couples,
    assert_exactly_once,
    draft,
    outbox_attempts,
    terminal_config,
)

SUBMISSIONS = 50
WEIGHTS = {
    "pass": 0.30,
    "drop": 0.14,
    "delay": 0.14,
    "duplicate": 0.16,
    "cut": 0.13,
    "partial": 0.08,
    "late": 0.05,
}
TIMEOUT_S = 1.0  # the client's; `late` holds a request 1.0-1.6 s
FAULTY_UNTIL_LEFT = 8  # faults stop when this few are still queued (the rest drain on a clean network)
MAX_FAULTY_CYCLES = 400
PHASE_DEADLINE_S = 60.0


def _cycle(worker: SyncWorker, clock: Clock) -> None:
    worker.run_once()
    clock.advance(seconds=worker.config.backoff_max_s)  # whatever failed is due again next cycle


def test_network_faults_lose_nothing_and_bind_nothing_twice(central: Any, tmp_path: Path) -> None:
    seed = int(os.environ.get("KIOSK_RELIABILITY_SEED") or uuid.uuid4().int % 10**8)
    pairs = add_couples(central, SUBMISSIONS, "NF")
    proxy = FaultProxy(
        "127.0.0.1", central.server.port, seed=seed, late_hold_s=(TIMEOUT_S, 1.6 * TIMEOUT_S)
    ).start()
    sync = SyncConfig(interval_s=0.05, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=TIMEOUT_S)
    config = terminal_config(central, tmp_path, url=proxy.url, sync=sync)
    clock = Clock()  # the store's: the backoff passes when a cycle ends, not when the machine gets to it
    store = Store.open(config.store, clock)
    started = time.monotonic()
    try:
        with terminal_client(config) as client:
            worker = SyncWorker(store, client, config.sync)
            assert worker.run_once().online  # policy and letters first, on a clean network
            letter = store.letter("sd-family-aid", 1, "zh-CN")
            assert letter is not None
            for pair in pairs:
                store.submit_bind(draft(central, pair, letter.sha256), online=True)
            assert store.queue_stats()[0] == SUBMISSIONS

            proxy.set_faults(WEIGHTS, cover="/v1/bindings")  # each fault hits a binding at least once
            faulty_cycles = 0
            deadline = time.monotonic() + PHASE_DEADLINE_S
            while (
                store.queue_stats()[0] > FAULTY_UNTIL_LEFT
                and faulty_cycles < MAX_FAULTY_CYCLES
                and time.monotonic() < deadline
            ):
                _cycle(worker, clock)
                faulty_cycles += 1
            proxy.set_faults(None)

            clean_cycles = 0
            deadline = time.monotonic() + PHASE_DEADLINE_S
            while store.queue_stats()[0] and time.monotonic() < deadline:
                _cycle(worker, clock)
                clean_cycles += 1
            assert worker.run_once().sent == 0  # nothing left to send
    finally:
        proxy.stop()
    elapsed = time.monotonic() - started

    counted = assert_exactly_once(central, store, pairs)
    attempts = outbox_attempts(store)
    store.close()

    on_bindings = proxy.injected("/v1/bindings", "POST")
    everywhere = proxy.injected()
    lost = proxy.lost_answers("/v1/bindings", 201)
    print(
        f"\nnetwork faults: seed {seed}, {SUBMISSIONS} submissions, {faulty_cycles} faulty + "
        f"{clean_cycles} clean cycles, {elapsed:.1f} s\n"
        f"  injected on POST /v1/bindings: {dict(sorted(on_bindings.items()))}\n"
        f"  injected on all requests:      {dict(sorted(everywhere.items()))}\n"
        f"  answers central committed (201) that never reached the terminal: {lost}\n"
        f"  central's (first, second) answers to duplicated binding requests: "
        f"{dict(proxy.duplicate_answers('/v1/bindings'))}\n"
        f"  failed attempts per request: {dict(sorted(attempts.items()))}\n"
        f"  central bindings {counted['bindings']} = terminal submissions {counted['submissions']}"
    )
    # The test only means something if every fault actually hit binding requests, and central
    # committed bindings whose answers were lost on the way back.
    missing = [f for f in FAULTS if on_bindings[f] == 0]
    assert not missing, f"faults never injected on a binding request: {missing} (seed {seed})"
    assert lost >= 3, f"only {lost} committed answers were lost on the way (seed {seed})"
    assert sum(n for a, n in attempts.items() if a > 0) >= 5  # requests that were retried
