"""The sync worker: pushes the outbox to central, pulls policy and letters, backs off with jitter."""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx
from pydantic import TypeAdapter, ValidationError

from kiosk import api
from kiosk.api import Reason
from kiosk.config import SyncConfig
from kiosk.domain.errors import PolicyError
from kiosk.domain.policy import parse_policy
from kiosk.store.repository import DueItem, Store

log = logging.getLogger("kiosk.sync")

# Central's answers that settle a request for good: the binding exists (or ended), or a rule refused it.
# 401 (our signature) and 429/5xx (central's trouble) are retried; so is anything the network loses.
ACCEPTED = frozenset({200, 201})
REJECTED = frozenset({403, 404, 409, 422})
AREAS = TypeAdapter(list[api.AreaOut])


@dataclass
class SyncReport:
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    retry_later: int = 0
    conflicts: list[str] = field(default_factory=list)  # request ids central saw with another body (409)
    online: bool = True
    error: str | None = None
    areas_updated: int = 0


class SyncWorker:
    """One worker per terminal. `run_once` is what `kiosk sync --once` and the app's thread call."""

    def __init__(
        self,
        store: Store,
        client: httpx.Client,
        config: SyncConfig | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.client = client
        self.config = config or SyncConfig()
        self.rng = rng
        self.online: bool | None = None  # None until the first contact
        self._stop = threading.Event()

    def backoff(self, attempts: int) -> dt.timedelta:
        """Exponential backoff with full jitter in [½, 1] of the step, capped."""
        step = min(self.config.backoff_max_s, self.config.backoff_base_s * (2 ** min(attempts, 30)))
        return dt.timedelta(seconds=step * (0.5 + self.rng() / 2))

    def push(self, report: SyncReport, limit: int = 200) -> None:
        for item in self.store.due(limit):
            if not self._send(item, report):
                return  # central unreachable: the rest waits for the next cycle

    def _send(self, item: DueItem, report: SyncReport) -> bool:
        try:
            response = self.client.request(item.method, item.path, json=item.body)
        except httpx.HTTPError as exc:
            self._retry(item, f"network: {type(exc).__name__}", report)
            report.online, report.error = False, f"central unreachable ({type(exc).__name__})"
            return False
        report.sent += 1
        status = response.status_code
        if status in ACCEPTED:
            # the status settles it: central applied the request even if its answer cannot be read
            binding = _answer(response, api.BindingOut, item)
            self.store.record_answer(
                item.request_id, "accepted", binding_id=None if binding is None else binding.binding_id
            )
            report.accepted += 1
            return True
        if status in REJECTED:
            error = _answer(response, api.ErrorOut, item)
            reason = Reason.UNKNOWN if error is None else error.error
            if status == 409:
                report.conflicts.append(item.request_id)
                log.error("central refused request %s: its id was used with another body", item.request_id)
            self.store.record_answer(item.request_id, "rejected", reason_code=reason)
            report.rejected += 1
            return True
        self._retry(item, f"http {status}", report)
        if status == 401:
            report.error = "central refused this kiosk's signature (check kiosk_id, secret and the clock)"
            return False
        return status != 503 and status < 500  # central is in trouble: stop pushing this cycle

    def _retry(self, item: DueItem, error: str, report: SyncReport) -> None:
        self.store.record_failure(item.outbox_id, error, self.store.clock() + self.backoff(item.attempts))
        report.retry_later += 1

    def pull_policy(self, report: SyncReport) -> None:
        """Areas whose version moved, and the letters they name (zh-CN and en)."""
        try:
            response = self.client.get("/v1/areas")
            response.raise_for_status()
            for area in AREAS.validate_json(response.content):
                try:
                    letter = parse_policy(area.policy, f"area {area.admdvs} from central").consent_letter
                    changed = self.store.cache_area(
                        area.admdvs, area.version, area.name_zh, area.name_en, area.policy
                    )
                except PolicyError as exc:
                    log.error("central sent a policy this terminal cannot use: %s", exc)
                    continue
                report.areas_updated += int(changed)
                for lang in ("zh-CN", "en"):
                    if not self.store.has_letter(letter.id, letter.version, lang):
                        r = self.client.get(
                            f"/v1/letters/{letter.id}/{letter.version}", params={"lang": lang}
                        )
                        r.raise_for_status()
                        got = api.LetterOut.model_validate_json(r.content)
                        self.store.cache_letter(
                            got.letter_id, got.version, got.lang, got.title, got.body, got.sha256
                        )
        except ValidationError as exc:
            log.error("central's areas or letters are not of the contract: %s", api.invalid_fields(exc))
            report.error = report.error or "policy pull failed (an answer not of the contract)"
        except httpx.HTTPError as exc:
            report.online = report.online and not isinstance(exc, httpx.TransportError)
            report.error = report.error or f"policy pull failed ({type(exc).__name__})"

    def run_once(self) -> SyncReport:
        report = SyncReport()
        self.push(report)
        if report.online:
            self.pull_policy(report)
        self.online = report.online
        now = self.store.clock().isoformat()
        if report.online and report.error is None:
            self.store.set_state("last_sync_ok", now)
        else:
            self.store.set_state("last_sync_error", f"{now} {report.error}")
        return report

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                report = self.run_once()
            except Exception:  # the worker must outlive any single bad cycle; the log says why
                log.exception("sync cycle failed")
                report = SyncReport(online=False)
            busy = report.sent > 0 and report.online
            self._stop.wait(0 if busy else self.config.interval_s)

    def stop(self) -> None:
        self._stop.set()


Answer = TypeVar("Answer", api.BindingOut, api.ErrorOut)


def _answer(response: httpx.Response, model: type[Answer], item: DueItem) -> Answer | None:
    """Central's answer to an outbox request as `model`, or None (logged) when it is not of that shape."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        log.error(
            "request %s: http %s, an answer not of the contract: %s",
            item.request_id,
            response.status_code,
            api.invalid_fields(exc),
        )
        return None
