"""`kiosk doctor`: one line per check of this terminal's health; healthy only when every check passes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from devices.reader import Slot
from kiosk.config import Config, ConfigError
from kiosk.store.db import integrity_ok
from kiosk.store.repository import Store
from kiosk.sync.client import terminal_client


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def run_checks(config: Config, store_opener: Callable[[Config], Store] | None = None) -> list[Check]:
    checks = [Check("config", True, f"loaded from {config.source}")]
    store: Store | None = None
    try:
        store = (store_opener or (lambda c: Store.open(c.store)))(config)
        ok, detail = integrity_ok(store.engine)
        checks.append(
            Check("store", ok, f"{config.store.resolved_path()}: WAL, synchronous=FULL, integrity {detail}")
        )
    except Exception as exc:  # whatever stops the store from opening is exactly what doctor must report
        checks.append(Check("store", False, f"{config.store.resolved_path()}: {exc}"))
    try:
        client = terminal_client(config)
    except ConfigError as exc:
        checks.append(Check("central", False, str(exc)))
        client = None
    if client is not None:
        with client:
            try:
                health = client.get("/healthz")
                checks.append(
                    Check(
                        "central",
                        health.status_code == 200,
                        f"{config.terminal.central_url} answers {health.status_code}",
                    )
                )
                me = client.get("/v1/me")
                reason = me.json().get("params", {}).get("reason", "") if me.status_code == 401 else ""
                checks.append(
                    Check(
                        "signature",
                        me.status_code == 200,
                        f"kiosk {config.terminal.kiosk_id!r} "
                        + ("accepted" if me.status_code == 200 else f"refused ({me.status_code} {reason})"),
                    )
                )
            except httpx.HTTPError as exc:
                checks.append(
                    Check(
                        "central", False, f"{config.terminal.central_url} unreachable: {type(exc).__name__}"
                    )
                )
    checks.extend(reader_checks(config))
    if store is not None:
        count, age = store.queue_stats()
        limit_h = _strictest_age_hours(store)
        ok = age is None or limit_h == 0 or age < limit_h * 3600
        age_text = "empty" if age is None else f"{count} waiting, oldest {age / 3600:.1f} h"
        checks.append(Check("queue", ok, f"{age_text} (limit {limit_h} h)" if limit_h else age_text))
        store.close()
    return checks


def _strictest_age_hours(store: Store) -> int:
    from sqlalchemy import select

    from kiosk.domain.policy import parse_policy
    from kiosk.store.models import CachedArea

    with store.sessions() as db:
        ages = [parse_policy(a.policy).offline_queue_max_age_hours for a in db.scalars(select(CachedArea))]
    positive = [a for a in ages if a > 0]
    return min(positive) if positive else 0


def reader_checks(config: Config) -> list[Check]:
    """pcscd, the readers the kiosk will use for each slot, and the ATR of a card inserted now."""
    if config.kiosk.reader != "pcsc":
        return [Check("reader", True, f"{config.kiosk.reader} (not a PC/SC reader: nothing to check)")]
    try:
        from devices.pcsc import pick_readers, probe
    except ImportError as exc:
        return [Check("pcscd", False, f"pyscard is not installed ({exc}); pip install '.[pcsc]'")]
    status = probe()
    if not status.service:
        return [Check("pcscd", False, status.error or "not running")]
    checks = [Check("pcscd", True, "running")]
    names = [r.name for r in status.readers]
    slots = pick_readers(names, config.kiosk.holder_reader, config.kiosk.relative_reader)
    holder = slots.get(Slot.HOLDER)
    relative = slots.get(Slot.RELATIVE)
    listed = ", ".join(repr(n) for n in names) or "none"
    if holder is None:
        want = repr(config.kiosk.holder_reader) if config.kiosk.holder_reader else "any reader"
        checks.append(
            Check("readers", False, f"no reader for the holder's card ({want}); pcscd lists {listed}")
        )
        return checks
    checks.append(
        Check(
            "readers",
            True,
            f"holder: {holder!r}; relative: {relative!r}"
            if relative
            else f"holder: {holder!r}; no second reader",
        )
    )
    for state in status.readers:
        if state.name in (holder, relative):
            which = "holder" if state.name == holder else "relative"
            detail = (
                f"{which} reader: ATR {state.atr.hex(' ').upper()}"
                if state.present
                else f"{which} reader: empty"
            )
            checks.append(Check("card", True, detail))
    return checks


def report(checks: list[Check]) -> tuple[str, int]:
    lines = [f"{'ok ' if c.ok else 'FAIL'} {c.name:<10} {c.detail}" for c in checks]
    return "\n".join(lines), 0 if all(c.ok for c in checks) else 1
