"""The terminal reads central's answers through the contract: each one validated into its `kiosk.api` model
by the Backend and the sync worker; refusals carry a `Reason` and its parameters, and an answer not of the
contract is a fault for the staff, never a crash. Central is an httpx.MockTransport here."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk import api
from kiosk.api import Reason
from kiosk.receipts import receipt_mac
from kiosk.services import Backend, CentralFault, CentralOffline, CentralRefused
from kiosk.session import Session, SessionError, Step
from kiosk.store.repository import BindDraft, Store, UnbindDraft
from kiosk.sync.client import central_client
from kiosk.sync.worker import SyncWorker
from tests.support.factories import LISHUI, policy_dict

Handler = Callable[[httpx.Request], httpx.Response]
LETTER_SHA = "a" * 64

HOLDER = api.HolderOut(
    psn_no="H0001",
    name="王建国",
    name_masked="王*国",
    certno_masked="331102********2132",
    sex="1",
    birth_date=dt.date(1970, 6, 15),
    age=55,
    insutype="310",
    insu_status="1",
    insured_admdvs=LISHUI,
    phone_masked="139****0132",
    card_generation=3,
    eligible=True,
    ineligible_reason=None,
)


class Central:
    """Answers with whatever `answer` says and keeps the requests it got."""

    def __init__(self) -> None:
        self.answer: Handler = lambda _request: httpx.Response(500)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


@pytest.fixture
def central() -> Central:
    return Central()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.at(tmp_path / "terminal.db")
    assert s.cache_area(LISHUI, 1, "丽水市", "Lishui", policy_dict())
    yield s
    s.close()


@pytest.fixture
def client(central: Central) -> Iterator[httpx.Client]:
    with httpx.Client(base_url="http://central.test", transport=httpx.MockTransport(central)) as c:
        yield c


@pytest.fixture
def backend(client: httpx.Client, store: Store) -> Backend:
    return Backend(client, store, SyncWorker(store, client))


def test_the_receipt_url_is_centrals_page_with_the_mac_of_this_kiosks_secret(store: Store) -> None:
    number = "R250601ABCDEF012345"
    with central_client("http://central.test", "kiosk-7", "the kiosk secret") as signed:
        backend = Backend(signed, store, public_url="https://fa.example.org/")
        mac = receipt_mac(number, "the kiosk secret")
        assert backend.receipt_url(number) == f"https://fa.example.org/r/{number}?m={mac}"
    with httpx.Client() as unsigned, pytest.raises(CentralFault):  # no secret to make the MAC with
        Backend(unsigned, store).receipt_url(number)


def _error(status: int, reason: str, **params: Any) -> Handler:
    return lambda _r: httpx.Response(status, json={"error": reason, "message": reason, "params": params})


# --- the Backend ------------------------------------------------------------------------------------


def test_an_answer_becomes_its_model_and_the_request_is_the_contracts_json(
    backend: Backend, central: Central
) -> None:
    central.answer = lambda _r: httpx.Response(200, content=HOLDER.model_dump_json())
    holder = backend.identify_holder("A10000017", LISHUI)
    assert holder == HOLDER and holder.birth_date == dt.date(1970, 6, 15)
    assert central.body() == {"card_no": "A10000017", "issuing_admdvs": LISHUI, "certno": None}
    assert backend.online is True


def test_a_refusal_carries_its_reason_and_parameters(backend: Backend, central: Central) -> None:
    central.answer = _error(422, "relative_holders_cap", cap=3)
    with pytest.raises(CentralRefused) as refused:
        backend.check_binding("H0001", "331102194403012136", "51", LISHUI)
    assert refused.value.reason is Reason.RELATIVE_HOLDERS_CAP and refused.value.params == {"cap": 3}


def test_429_is_a_refusal_with_its_wait_not_offline(backend: Backend, central: Central) -> None:
    central.answer = _error(429, "otp_throttled", retry_after_s=42)
    with pytest.raises(CentralRefused) as refused:
        backend.send_otp("H0001", "R0001")
    assert refused.value.reason is Reason.OTP_THROTTLED and refused.value.params == {"retry_after_s": 42}
    assert backend.online is True


@pytest.mark.parametrize("status", [401, 500, 503])
def test_a_refused_signature_or_a_failing_central_is_offline(
    backend: Backend, central: Central, status: int
) -> None:
    central.answer = _error(status, "unauthorized")
    with pytest.raises(CentralOffline) as offline:
        backend.usage("H0001")
    assert offline.value.key is Reason.CENTRAL_OFFLINE


def test_an_unreachable_central_is_offline(backend: Backend, central: Central) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    central.answer = unreachable
    with pytest.raises(CentralOffline):
        backend.bindings("H0001")
    assert backend.online is False


@pytest.mark.parametrize(
    "answer",
    [
        lambda _r: httpx.Response(200, json={**HOLDER.model_dump(mode="json"), "birth_date": "yesterday"}),
        lambda _r: httpx.Response(200, json={"psn_no": "H0001", "name": "王建国"}),
        lambda _r: httpx.Response(200, content=b"<html>proxy error</html>"),
        _error(422, "a_reason_of_a_newer_central"),
        lambda _r: httpx.Response(404, content=b"not found"),
    ],
    ids=["bad-field", "missing-fields", "not-json", "unknown-reason", "error-not-json"],
)
def test_an_answer_not_of_the_contract_is_a_fault_logged_without_its_values(
    backend: Backend, central: Central, answer: Handler, caplog: pytest.LogCaptureFixture
) -> None:
    central.answer = answer
    with caplog.at_level(logging.ERROR, logger="kiosk.services"), pytest.raises(CentralFault) as fault:
        backend.identify_by_certno("331102197006152132")
    assert fault.value.key is Reason.UNKNOWN
    assert "not of the contract" in caplog.text and "王建国" not in caplog.text


def test_a_request_the_contract_refuses_is_never_sent(backend: Backend, central: Central) -> None:
    with pytest.raises(CentralFault) as fault:
        backend.identify_holder("too-long-a-card-number", LISHUI)
    assert fault.value.key is Reason.INVALID_REQUEST and central.requests == []


# --- the session on top of it --------------------------------------------------------------------------


def _at_verify(backend: Backend) -> Session:
    session = Session(backend, step=Step.VERIFY, holder=HOLDER, area=LISHUI, relation_code="51")
    session.relative_check = api.BindingCheckOut(
        relative=api.PersonOut(
            psn_no="R0001",
            name_masked="王*",
            certno_masked="331102********2136",
            sex="1",
            age=81,
            insutype="390",
            insu_status="1",
            insured_admdvs=LISHUI,
            phone_masked="138****5678",
        ),
        relation_code="51",
        admdvs=LISHUI,
        required_verification=["sms"],
        relative_is_minor=False,
        valid_from=dt.date(2025, 6, 15),
        valid_until=None,
        per_txn_cap_fen=150000,
        daily_cap_fen=300000,
        annual_cap_fen=0,
        reserve_fen=0,
    )
    return session


def test_a_throttled_code_reaches_the_citizen_as_its_reason(backend: Backend, central: Central) -> None:
    central.answer = _error(429, "otp_throttled", retry_after_s=42)
    session = _at_verify(backend)
    with pytest.raises(SessionError) as refused:
        session.send_sms()
    assert refused.value.reason is Reason.OTP_THROTTLED and refused.value.params == {"retry_after_s": 42}
    assert session.step is Step.VERIFY and session.otp is None


def test_the_confirm_step_gathers_the_area_name_before_it_is_shown(
    backend: Backend, central: Central
) -> None:
    otp = api.OtpSendOut(
        otp_id=str(uuid.uuid4()),
        phone_masked="138****5678",
        expires_at=dt.datetime(2025, 6, 15, 10, 5, tzinfo=dt.UTC),
        resend_after_s=60,
    )
    central.answer = lambda r: httpx.Response(
        200, content=otp.model_dump_json() if r.url.path == "/v1/otp/send" else b'{"verified": true}'
    )
    session = _at_verify(backend)
    assert session.send_sms() == otp
    session.verify_sms("123456")
    assert central.body() == {"otp_id": otp.otp_id, "code": "123456"}
    assert session.step is Step.CONFIRM and session.area_name is not None
    assert (session.area_name.name("zh-CN"), session.area_name.name("en")) == ("丽水市", "Lishui")


# --- the store's payloads and the sync worker ----------------------------------------------------------


def _draft(**overrides: Any) -> BindDraft:
    values: dict[str, Any] = {
        "holder_psn_no": "H0001",
        "holder_name_masked": "王*国",
        "relative_certno": "331102194403012136",
        "relative_name_masked": "王*",
        "relation_code": "51",
        "admdvs": LISHUI,
        "letter_id": "lishui-2024",
        "letter_version": 1,
        "letter_sha256": LETTER_SHA,
    }
    values.update(overrides)
    return BindDraft(**values)


def test_the_outbox_keeps_the_contracts_json(store: Store) -> None:
    bind = store.submit_bind(_draft(), online=True)
    unbind = store.submit_unbind(
        UnbindDraft("b-1", "H0001", LISHUI, "H0001", "王*国", "王*", "331102********2136"), online=True
    )
    bodies = {item.request_id: item.body for item in store.due()}
    sent = api.BindingCreateIn.model_validate(bodies[bind.request_id])
    assert sent.relative_certno == "331102194403012136" and sent.receipt_no == bind.receipt_no
    assert bodies[unbind.request_id] == {
        "request_id": unbind.request_id,
        "by_psn_no": "H0001",
        "receipt_no": unbind.receipt_no,  # central keeps it: the key of the receipt's public page
    }


def test_a_draft_the_contract_refuses_is_not_stored(store: Store) -> None:
    from kiosk.store.repository import SubmissionRefused

    with pytest.raises(SubmissionRefused) as refused:
        store.submit_bind(_draft(letter_sha256="not a digest"), online=True)
    assert refused.value.key is Reason.INVALID_REQUEST and "letter_sha256" in refused.value.detail
    assert store.due() == []


def test_the_worker_records_central_answers_through_the_contract(
    store: Store, client: httpx.Client, central: Central
) -> None:
    accepted = store.submit_bind(_draft(), online=True)
    rejected = store.submit_bind(_draft(relation_code="52"), online=True)
    binding = api.BindingOut(
        binding_id="b-42",
        request_id=accepted.request_id,
        status="active",
        holder=api.PartyOut(psn_no="H0001", name_masked="王*国", certno_masked="331102********2132"),
        relative=api.PartyOut(psn_no="R0001", name_masked="王*", certno_masked="331102********2136"),
        relation_code="51",
        admdvs=LISHUI,
        valid_from=dt.date(2025, 6, 15),
        valid_until=None,
        created_at=dt.datetime(2025, 6, 15, 10, tzinfo=dt.UTC),
        ended_at=None,
        ended_by=None,
    )

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/bindings":
            if json.loads(request.content)["relation_code"] == "51":
                return httpx.Response(201, content=binding.model_dump_json())
            return _error(422, "relation_sex_mismatch")(request)
        return httpx.Response(200, json=[])

    central.answer = answer
    report = SyncWorker(store, client).run_once()
    assert (report.accepted, report.rejected, report.error) == (1, 1, None)
    done, refused = store.get(accepted.request_id), store.get(rejected.request_id)
    assert done is not None and (done.status, done.binding_id) == ("accepted", "b-42")
    assert refused is not None and (refused.status, refused.reason_code) == (
        "rejected",
        "relation_sex_mismatch",
    )


def test_answers_not_of_the_contract_settle_by_status_and_are_logged(
    store: Store, client: httpx.Client, central: Central, caplog: pytest.LogCaptureFixture
) -> None:
    accepted = store.submit_bind(_draft(), online=True)
    rejected = store.submit_bind(_draft(relation_code="52"), online=True)

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/bindings":
            accept = json.loads(request.content)["relation_code"] == "51"
            return httpx.Response(201 if accept else 422, json={"what": "not the contract"})
        return httpx.Response(200, json=[{"admdvs": LISHUI, "version": 2}])  # an area without its fields

    central.answer = answer
    with caplog.at_level(logging.ERROR, logger="kiosk.sync"):
        report = SyncWorker(store, client).run_once()
    done, refused = store.get(accepted.request_id), store.get(rejected.request_id)
    assert done is not None and (done.status, done.binding_id) == ("accepted", None)
    assert refused is not None and (refused.status, refused.reason_code) == ("rejected", "unknown")
    assert report.error is not None and "not of the contract" in report.error
    assert caplog.text.count("not of the contract") == 3
    assert store.policy(LISHUI) is not None and store.state("last_sync_ok") is None
