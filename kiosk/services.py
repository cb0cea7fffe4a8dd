"""What the kiosk asks of the world: central (over the signed client), the local store and the sync worker."""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx

from kiosk.domain.errors import DomainError
from kiosk.domain.policy import AreaPolicy
from kiosk.store.models import CachedLetter, Submission
from kiosk.store.repository import BindDraft, Store, UnbindDraft
from kiosk.sync.worker import SyncWorker

log = logging.getLogger("kiosk.services")


class CentralRefused(DomainError):
    """Central answered with a rule's refusal; `key` is central's error key (translated on screen)."""


class CentralOffline(DomainError):
    """Central cannot be reached (or is failing); lookups that need it are not faked."""

    key = "central_offline"


class Backend:
    def __init__(self, client: httpx.Client, store: Store, worker: SyncWorker | None = None) -> None:
        self.client = client
        self.store = store
        self.worker = worker
        self._sync_lock = threading.Lock()

    @property
    def online(self) -> bool | None:
        return None if self.worker is None else self.worker.online

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, **params: Any) -> Any:
        try:
            r = self.client.request(method, path, json=body, params=params or None)
        except httpx.HTTPError as exc:
            if self.worker is not None:
                self.worker.online = False
            raise CentralOffline(detail=type(exc).__name__) from None
        if self.worker is not None:
            self.worker.online = True
        if r.status_code >= 500 or r.status_code in (401, 429):
            raise CentralOffline(detail=f"http {r.status_code}")
        payload = r.json()
        if r.status_code >= 400:
            error = payload.get("error", "unknown") if isinstance(payload, dict) else "unknown"
            params_out = payload.get("params", {}) if isinstance(payload, dict) else {}
            raise CentralRefused(error, **params_out)
        return payload

    def identify_holder(self, card_no: str, issuing_admdvs: str) -> dict[str, Any]:
        return dict(
            self._call("POST", "/v1/holders/identify", {"card_no": card_no, "issuing_admdvs": issuing_admdvs})
        )

    def identify_by_certno(self, certno: str) -> dict[str, Any]:
        return dict(self._call("POST", "/v1/holders/identify", {"certno": certno}))

    def policy(self, admdvs: str) -> AreaPolicy | None:
        return self.store.policy(admdvs)

    def area_name(self, admdvs: str, lang: str) -> str:
        policy = self.store.policy(admdvs)
        return admdvs if policy is None else policy.name(lang)

    def letter(self, letter_id: str, version: int, lang: str) -> CachedLetter | None:
        return self.store.letter(letter_id, version, lang)

    def check_binding(
        self, holder_psn_no: str, certno: str, relation_code: str, admdvs: str
    ) -> dict[str, Any]:
        body = {
            "holder_psn_no": holder_psn_no,
            "relative_certno": certno,
            "relation_code": relation_code,
            "admdvs": admdvs,
        }
        return dict(self._call("POST", "/v1/bindings/check", body))

    def send_otp(self, holder_psn_no: str, relative_psn_no: str) -> dict[str, Any]:
        return dict(
            self._call(
                "POST", "/v1/otp/send", {"holder_psn_no": holder_psn_no, "relative_psn_no": relative_psn_no}
            )
        )

    def verify_otp(self, otp_id: str, code: str) -> None:
        self._call("POST", "/v1/otp/verify", {"otp_id": otp_id, "code": code})

    def bindings(self, psn_no: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/persons/{psn_no}/bindings"))

    def usage(self, psn_no: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/v1/persons/{psn_no}/usage"))

    def submit_bind(self, draft: BindDraft) -> Submission:
        submission = self.store.submit_bind(draft, online=self.online is not False)
        self.sync_now()
        return self.store.get(submission.request_id) or submission

    def submit_unbind(self, draft: UnbindDraft) -> Submission:
        submission = self.store.submit_unbind(draft, online=self.online is not False)
        self.sync_now()
        return self.store.get(submission.request_id) or submission

    def pending_for(self, psn_no: str) -> list[Submission]:
        return [s for s in self.store.submissions_for(psn_no) if s.status != "accepted"]

    def sync_now(self) -> None:
        """Push right away so the receipt can often say 'accepted'; failures wait for the worker's cycle."""
        if self.worker is None:
            return
        with self._sync_lock:
            try:
                self.worker.run_once()
            except Exception:  # the request is durable already; the background cycle will retry
                log.exception("immediate sync failed")

    def queue_length(self) -> int:
        return self.store.queue_stats()[0]
