"""What the kiosk asks of the world: central (over the signed client), the local store and the sync worker."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from kiosk import api, receipts
from kiosk.api import Reason
from kiosk.config import DEFAULT_PUBLIC_URL
from kiosk.domain.errors import DomainError
from kiosk.domain.policy import AreaPolicy
from kiosk.store.models import CachedLetter, Submission
from kiosk.store.repository import BindDraft, Store, UnbindDraft
from kiosk.sync.client import KioskAuth
from kiosk.sync.worker import SyncWorker

log = logging.getLogger("kiosk.services")

Out = TypeVar("Out", bound=BaseModel)


class CentralRefused(DomainError):
    """Central answered with a rule's refusal (any 4xx but 401, 429 included): `reason` and its `params`
    (e.g. `retry_after_s` of otp_throttled) are what the citizen's message is made of."""

    def __init__(self, reason: Reason, detail: str = "", /, **params: object) -> None:
        super().__init__(reason, detail, **params)
        self.reason = reason


class CentralOffline(DomainError):
    """Central cannot be reached (or is failing, or refuses this kiosk's signature); lookups that need it
    are not faked."""

    key = Reason.CENTRAL_OFFLINE


class CentralFault(DomainError):
    """An answer this terminal cannot read (not the contract's shape), or a request it could not build:
    nobody's doing in front of the kiosk, so the citizen is asked to fetch the staff; the log says more."""

    key = Reason.UNKNOWN


@contextmanager
def _request_built(what: str) -> Iterator[None]:
    """Requests are built from the contract's models; a value they refuse is this terminal's fault."""
    try:
        yield
    except ValidationError as exc:
        log.error("could not build the request to %s: %s", what, api.invalid_fields(exc))
        raise CentralFault(Reason.INVALID_REQUEST, detail=what) from None


class Backend:
    def __init__(
        self,
        client: httpx.Client,
        store: Store,
        worker: SyncWorker | None = None,
        *,
        public_url: str = DEFAULT_PUBLIC_URL,
    ) -> None:
        self.client = client
        self.store = store
        self.worker = worker
        self.public_url = public_url
        self._sync_lock = threading.Lock()

    @property
    def online(self) -> bool | None:
        return None if self.worker is None else self.worker.online

    def _call(self, method: str, path: str, out: type[Out], body: BaseModel | None = None) -> Out:
        """One request to central; the answer validated as `out`, or one of the three errors above."""
        json = None if body is None else body.model_dump(mode="json")
        try:
            r = self.client.request(method, path, json=json)
        except httpx.HTTPError as exc:
            if self.worker is not None:
                self.worker.online = False
            raise CentralOffline(detail=type(exc).__name__) from None
        if self.worker is not None:
            self.worker.online = True
        if r.status_code >= 500 or r.status_code == 401:
            raise CentralOffline(detail=f"http {r.status_code}")
        try:
            if r.status_code >= 400:
                error = api.ErrorOut.model_validate_json(r.content)
            else:
                return out.model_validate_json(r.content)
        except ValidationError as exc:
            log.error(
                "%s %s: http %s, an answer not of the contract: %s",
                method,
                path,
                r.status_code,
                api.invalid_fields(exc),
            )
            raise CentralFault(detail=f"{method} {path}: http {r.status_code}") from None
        raise CentralRefused(error.error, error.message, **error.params)

    def identify_holder(self, card_no: str, issuing_admdvs: str) -> api.HolderOut:
        with _request_built("identify the holder by card"):
            body = api.IdentifyHolderIn(card_no=card_no, issuing_admdvs=issuing_admdvs)
        return self._call("POST", "/v1/holders/identify", api.HolderOut, body)

    def identify_by_certno(self, certno: str) -> api.HolderOut:
        with _request_built("identify the holder by ID number"):
            body = api.IdentifyHolderIn(certno=certno)
        return self._call("POST", "/v1/holders/identify", api.HolderOut, body)

    def policy(self, admdvs: str) -> AreaPolicy | None:
        return self.store.policy(admdvs)

    def letter(self, letter_id: str, version: int, lang: str) -> CachedLetter | None:
        return self.store.letter(letter_id, version, lang)

    def check_binding(
        self, holder_psn_no: str, certno: str, relation_code: str, admdvs: str
    ) -> api.BindingCheckOut:
        with _request_built("check a binding"):
            body = api.BindingCheckIn(
                holder_psn_no=holder_psn_no,
                relative_certno=certno,
                relation_code=relation_code,
                admdvs=admdvs,
            )
        return self._call("POST", "/v1/bindings/check", api.BindingCheckOut, body)

    def send_otp(self, holder_psn_no: str, relative_psn_no: str) -> api.OtpSendOut:
        with _request_built("send a code"):
            body = api.OtpSendIn(holder_psn_no=holder_psn_no, relative_psn_no=relative_psn_no)
        return self._call("POST", "/v1/otp/send", api.OtpSendOut, body)

    def verify_otp(self, otp_id: str, code: str) -> api.OtpVerifyOut:
        with _request_built("verify a code"):
            body = api.OtpVerifyIn(otp_id=otp_id, code=code)
        return self._call("POST", "/v1/otp/verify", api.OtpVerifyOut, body)

    def bindings(self, psn_no: str) -> api.BindingsOut:
        return self._call("GET", f"/v1/persons/{psn_no}/bindings", api.BindingsOut)

    def usage(self, psn_no: str) -> api.UsageOut:
        return self._call("GET", f"/v1/persons/{psn_no}/usage", api.UsageOut)

    def submit_bind(self, draft: BindDraft) -> Submission:
        submission = self.store.submit_bind(draft, online=self.online is not False)
        self.sync_now()
        return self.store.get(submission.request_id) or submission

    def submit_unbind(self, draft: UnbindDraft) -> Submission:
        submission = self.store.submit_unbind(draft, online=self.online is not False)
        self.sync_now()
        return self.store.get(submission.request_id) or submission

    def receipt_url(self, receipt_no: str) -> str:
        """What the receipt's QR code holds: central's public page of this receipt, with the MAC made with
        the secret this terminal signs its requests with (no I/O: safe to call while drawing)."""
        auth = self.client.auth
        if not isinstance(auth, KioskAuth):
            raise CentralFault(Reason.UNKNOWN, detail="the client to central is not signed")
        return receipts.receipt_url(self.public_url, receipt_no, auth.secret)

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
