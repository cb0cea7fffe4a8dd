"""The central API on a real uvicorn, on SQLite and PostgreSQL: people, bindings, OTP, money, signatures."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from kiosk.central.models import Person
from kiosk.central.seed import SyntheticPerson
from kiosk.signing import signed_headers
from tests.support.central import Central, add_binding, add_person, bind_body


def _code(central: Central, phone: str) -> str:
    messages = [m for m in central.sms(phone) if "验证码" in m]
    assert messages, f"no verification SMS for {phone}"
    match = re.search(r"验证码 (\d{6})", messages[-1])
    assert match
    return match.group(1)


def _wait_sms(central: Central, phone: str, count: int) -> list[str]:
    import time

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = central.sms(phone)
        if len(got) >= count:
            return got
        time.sleep(0.05)
    raise AssertionError(f"expected {count} SMS for the phone, got {central.sms(phone)}")


def test_health_and_openapi_are_public(central: Central) -> None:
    assert httpx.get(central.server.url + "/healthz").json()["status"] == "ok"
    spec = httpx.get(central.server.url + "/openapi.json").json()
    assert "/v1/bindings" in spec["paths"]


def test_holder_identified_by_card_sees_own_name(central: Central) -> None:
    head = central.household(1)["00"]
    c = central.client()
    r = c.post(
        "/v1/holders/identify", json={"card_no": head.card_no, "issuing_admdvs": head.card_issuing_admdvs}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == head.name and body["eligible"] is True
    assert (
        head.certno not in r.text and body["certno_masked"] == head.certno[:6] + "********" + head.certno[-4:]
    )
    by_id = c.post("/v1/holders/identify", json={"certno": head.certno})
    assert by_id.json()["psn_no"] == head.psn_no


@pytest.mark.parametrize(
    ("household", "reason"),
    [
        (4, "holder_status_not_normal"),
        (5, "holder_status_not_normal"),
        (9, "area_not_served"),
        (10, "holder_too_young"),
    ],
)
def test_ineligible_holders_are_told_why(central: Central, household: int, reason: str) -> None:
    head = central.household(household)["00"]
    r = central.client().post("/v1/holders/identify", json={"certno": head.certno})
    assert r.status_code == 200
    assert (r.json()["eligible"], r.json()["ineligible_reason"]) == (False, reason)


def test_resident_insured_holder_is_not_eligible(central: Central) -> None:
    resident = central.household(6)["00"]
    assert resident.insutype == "390"
    r = central.client().post("/v1/holders/identify", json={"certno": resident.certno})
    assert r.json()["ineligible_reason"] == "holder_not_employee_insured"


def test_relative_lookup_is_masked(central: Central) -> None:
    father = central.household(1)["51"]
    r = central.client().post("/v1/persons/lookup", json={"certno": father.certno})
    assert r.status_code == 200
    assert father.certno not in r.text and father.name not in r.text
    assert r.json()["name_masked"].startswith(father.name[0]) and "*" in r.json()["name_masked"]


@pytest.mark.parametrize(
    ("certno", "status", "error"),
    [("331102199001011230", 422, "invalid_id_number"), ("33110219900101123", 422, "invalid_id_number")],
)
def test_bad_id_numbers_are_refused_clearly(central: Central, certno: str, status: int, error: str) -> None:
    r = central.client().post("/v1/persons/lookup", json={"certno": certno})
    assert (r.status_code, r.json()["error"]) == (status, error)


def test_unknown_person_is_404(central: Central) -> None:
    r = central.client().post("/v1/persons/lookup", json={"certno": "11010519491231002X"})
    assert (r.status_code, r.json()["error"]) == (404, "person_not_found")


def test_bind_with_sms_then_revoke_by_relative(central: Central) -> None:
    fam = central.household(1)  # Lishui: SMS to the relative, either side may unbind
    holder, father = fam["00"], fam["51"]
    assert father.insutype == "390"  # demo card 6: resident-insured, no account of his own to share
    c = central.client()
    check = c.post(
        "/v1/bindings/check",
        json={
            "holder_psn_no": holder.psn_no,
            "relative_certno": father.certno,
            "relation_code": "51",
            "admdvs": "331100",
        },
    )
    assert check.status_code == 200, check.text
    assert check.json()["required_verification"] == ["sms"]
    assert check.json()["per_txn_cap_fen"] == 150000

    body = bind_body(central, holder, father.certno, "51", "331100")
    assert c.post("/v1/bindings", json=body).json()["error"] == "otp_not_verified"

    sent = c.post("/v1/otp/send", json={"holder_psn_no": holder.psn_no, "relative_psn_no": father.psn_no})
    assert sent.status_code == 200, sent.text
    otp_id = sent.json()["otp_id"]
    assert (
        father.phone is not None
        and sent.json()["phone_masked"] == father.phone[:3] + "****" + father.phone[-4:]
    )
    _wait_sms(central, father.phone, 1)
    code = _code(central, father.phone)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    r = c.post("/v1/otp/verify", json={"otp_id": otp_id, "code": wrong})
    assert (r.status_code, r.json()["error"], r.json()["params"]["attempts_left"]) == (422, "otp_wrong", 4)
    assert c.post("/v1/otp/verify", json={"otp_id": otp_id, "code": code}).json() == {"verified": True}

    body = bind_body(central, holder, father.certno, "51", "331100", otp_id=otp_id)
    created = c.post("/v1/bindings", json=body)
    assert created.status_code == 201, created.text
    binding = created.json()
    assert binding["status"] == "active" and binding["valid_until"] is not None
    assert father.certno not in created.text and holder.certno not in created.text

    again = c.post("/v1/bindings", json=body)  # a retry after a lost answer
    assert (again.status_code, again.json()) == (201, binding)
    changed = dict(body, relation_code="10")
    assert c.post("/v1/bindings", json=changed).status_code == 409

    mine = c.get(f"/v1/persons/{holder.psn_no}/bindings").json()
    theirs = c.get(f"/v1/persons/{father.psn_no}/bindings").json()
    assert [b["binding_id"] for b in mine["as_holder"]] == [binding["binding_id"]]
    assert [b["binding_id"] for b in theirs["as_relative"]] == [binding["binding_id"]]
    assert holder.phone is not None
    assert any("已将医保个人账户" in m for m in _wait_sms(central, holder.phone, 1))
    assert any("已将医保个人账户" in m for m in _wait_sms(central, father.phone, 2))

    revoke = {"request_id": str(uuid.uuid4()), "by_psn_no": father.psn_no}
    r = c.post(f"/v1/bindings/{binding['binding_id']}/revoke", json=revoke)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["ended_by"]) == ("revoked", "relative")
    assert c.post(f"/v1/bindings/{binding['binding_id']}/revoke", json=revoke).json() == r.json()
    history = c.get(f"/v1/bindings/{binding['binding_id']}/history").json()
    assert [e["event"] for e in history] == ["created", "revoked"]
    assert c.get(f"/v1/persons/{holder.psn_no}/bindings").json()["as_holder"] == []
    ended = c.get(f"/v1/persons/{holder.psn_no}/bindings", params={"include_ended": "true"}).json()
    assert [b["status"] for b in ended["as_holder"]] == ["revoked"]
    assert any("已解除" in m for m in _wait_sms(central, holder.phone, 2))
    again = c.post(
        f"/v1/bindings/{binding['binding_id']}/revoke",
        json={"request_id": str(uuid.uuid4()), "by_psn_no": holder.psn_no},
    )
    assert (again.status_code, again.json()["error"]) == (422, "binding_not_active")


def test_minor_gets_no_sms_and_holder_binds_as_guardian(central: Central) -> None:
    fam = central.household(1)
    holder, son = fam["00"], fam["20"]  # the son is 10
    c = central.client()
    r = c.post("/v1/otp/send", json={"holder_psn_no": holder.psn_no, "relative_psn_no": son.psn_no})
    assert (r.status_code, r.json()["error"]) == (422, "otp_not_for_minor")
    check = c.post(
        "/v1/bindings/check",
        json={
            "holder_psn_no": holder.psn_no,
            "relative_certno": son.certno,
            "relation_code": "20",
            "admdvs": "331100",
        },
    ).json()
    assert check["required_verification"] == [] and check["relative_is_minor"] is True
    created = c.post("/v1/bindings", json=bind_body(central, holder, son.certno, "20", "331100"))
    assert created.status_code == 201, created.text
    dup = c.post("/v1/bindings", json=bind_body(central, holder, son.certno, "20", "331100"))
    assert (dup.status_code, dup.json()["error"]) == (422, "duplicate_binding")


@pytest.mark.parametrize(
    ("household", "relation", "code", "area", "error"),
    [
        (1, "52", "61", "331100", "relation_not_allowed"),  # Lishui: five relations only
        (1, "52", "51", "331100", "relation_sex_mismatch"),  # the mother entered as father
        (1, "30", "52", "331100", "relation_age_implausible"),  # the daughter entered as mother
        (3, "52", "52", "330800", "relative_out_of_scope"),  # Quzhou: same area only; she is in Hangzhou
        (1, "00", "10", "330100", "holder_not_insured_in_area"),  # a Lishui holder binding in Hangzhou
        (1, "52", "10", "331100", "relation_mismatch"),  # his mother entered as his wife: the register says
        (1, "10", "52", "331100", "relation_age_implausible"),  # (his wife as his mother: too young first)
        (2, "20", "73", "330100", "relation_mismatch"),  # Hangzhou: her son entered as her younger brother
    ],
)
def test_binding_rules_refuse_with_reason(
    central: Central, household: int, relation: str, code: str, area: str, error: str
) -> None:
    fam = central.household(household)
    holder = fam["00"]
    relative = fam[relation] if relation != "00" else fam["10"]
    r = central.client().post(
        "/v1/bindings/check",
        json={
            "holder_psn_no": holder.psn_no,
            "relative_certno": relative.certno,
            "relation_code": code,
            "admdvs": area,
        },
    )
    assert (r.status_code, r.json()["error"]) == (422, error)
    body = bind_body(central, holder, relative.certno, code, area)
    r = central.client().post("/v1/bindings", json=body)
    assert (r.status_code, r.json()["error"]) == (422, error)
    assert central.client().post("/v1/bindings", json=body).json()["error"] == error  # the rejection is kept


def _check(
    central: Central,
    holder: SyntheticPerson | Person,
    relative: SyntheticPerson | Person,
    code: str,
    area: str,
) -> httpx.Response:
    return central.client().post(
        "/v1/bindings/check",
        json={
            "holder_psn_no": holder.psn_no,
            "relative_certno": relative.certno,
            "relation_code": code,
            "admdvs": area,
        },
    )


def test_across_households_the_register_refuses_only_a_spouse_it_places_elsewhere(central: Central) -> None:
    married_head = central.household(2)["00"]  # Hangzhou, her husband in her household
    other_head = central.household(8)["00"]  # a man of 29 with a household of his own
    r = _check(central, married_head, other_head, "10", "330100")
    assert (r.status_code, r.json()["error"]) == (422, "relation_mismatch")
    assert _check(central, married_head, other_head, "20", "330100").status_code == 200  # a son moved out


def test_someone_the_register_does_not_list_is_checked_as_before(central: Central) -> None:
    holder = central.household(2)["00"]
    stranger = add_person(central, psn_no="HZ0000000001", age=60, sex="1", area="330100", seq=7)
    assert _check(central, holder, stranger, "10", "330100").status_code == 200


def test_quzhou_needs_the_relatives_card_and_refuses_agents(central: Central) -> None:
    holder = add_person(central, psn_no="QZ0000000001", age=40, sex="1", area="330800", seq=1)
    mother = add_person(central, psn_no="QZ0000000002", age=66, sex="2", area="330800", seq=2)
    c = central.client()
    check = c.post(
        "/v1/bindings/check",
        json={
            "holder_psn_no": holder.psn_no,
            "relative_certno": mother.certno,
            "relation_code": "52",
            "admdvs": "330800",
        },
    )
    assert check.json()["required_verification"] == ["card"]
    assert check.json()["reserve_fen"] == 100000
    no_card = c.post("/v1/bindings", json=bind_body(central, holder, mother.certno, "52", "330800"))
    assert (no_card.status_code, no_card.json()["error"]) == (422, "relative_card_required")
    agent = c.post(
        "/v1/bindings",
        json=bind_body(
            central, holder, mother.certno, "52", "330800", relative_card_verified=True, channel="agent"
        ),
    )
    assert agent.json()["error"] == "agent_not_allowed"
    ok = c.post(
        "/v1/bindings",
        json=bind_body(central, holder, mother.certno, "52", "330800", relative_card_verified=True),
    )
    assert ok.status_code == 201, ok.text


def test_letter_must_be_current_and_genuine(central: Central) -> None:
    fam = central.household(1)
    c = central.client()
    old = bind_body(
        central,
        fam["00"],
        fam["20"].certno,
        "20",
        "331100",
        letter_version=1,
        letter_sha256=central.letter_sha("zj-family-aid", 1),
    )
    assert c.post("/v1/bindings", json=old).json()["error"] == "letter_outdated"
    forged = bind_body(central, fam["00"], fam["20"].certno, "20", "331100", letter_sha256="0" * 64)
    assert c.post("/v1/bindings", json=forged).json()["error"] == "letter_unknown"
    en = bind_body(
        central, fam["00"], fam["20"].certno, "20", "331100", letter_sha256=central.letter_sha(lang="en")
    )
    assert c.post("/v1/bindings", json=en).status_code == 201


def test_only_the_holder_may_unbind_where_the_area_says_so(central: Central) -> None:
    fam = central.household(8)  # Shijiazhuang: unbind_by = holder, SMS verification
    holder, sister = fam["00"], fam["77"]
    c = central.client()
    otp_id = c.post(
        "/v1/otp/send", json={"holder_psn_no": holder.psn_no, "relative_psn_no": sister.psn_no}
    ).json()["otp_id"]
    assert sister.phone is not None
    _wait_sms(central, sister.phone, 1)
    c.post("/v1/otp/verify", json={"otp_id": otp_id, "code": _code(central, sister.phone)})
    created = c.post(
        "/v1/bindings", json=bind_body(central, holder, sister.certno, "77", "130100", otp_id=otp_id)
    )
    assert created.status_code == 201, created.text
    bid = created.json()["binding_id"]
    by_sister = c.post(
        f"/v1/bindings/{bid}/revoke", json={"request_id": str(uuid.uuid4()), "by_psn_no": sister.psn_no}
    )
    assert (by_sister.status_code, by_sister.json()["error"]) == (422, "unbind_not_allowed_for_side")
    stranger = central.household(1)["00"]
    r = c.post(
        f"/v1/bindings/{bid}/revoke", json={"request_id": str(uuid.uuid4()), "by_psn_no": stranger.psn_no}
    )
    assert (r.status_code, r.json()["error"]) == (403, "not_a_party")
    r = c.post(
        f"/v1/bindings/{bid}/revoke", json={"request_id": str(uuid.uuid4()), "by_psn_no": holder.psn_no}
    )
    assert r.json()["status"] == "revoked"


def test_otp_resend_is_throttled_and_attempts_are_limited(central: Central) -> None:
    fam = central.household(1)
    c = central.client()
    first = c.post(
        "/v1/otp/send", json={"holder_psn_no": fam["00"].psn_no, "relative_psn_no": fam["52"].psn_no}
    )
    assert first.status_code == 200
    again = c.post(
        "/v1/otp/send", json={"holder_psn_no": fam["00"].psn_no, "relative_psn_no": fam["52"].psn_no}
    )
    assert (again.status_code, again.json()["error"]) == (429, "otp_throttled")
    otp_id = first.json()["otp_id"]
    errors = [
        c.post("/v1/otp/verify", json={"otp_id": otp_id, "code": "000000"}).json()["error"] for _ in range(6)
    ]
    # 000000 may be the real code once in a million; then the first answer is a success and this fails loudly
    assert errors[:4] == ["otp_wrong"] * 4 and errors[4:] == ["otp_locked", "otp_locked"]


def test_settlement_uses_own_account_then_holder_within_caps(central: Central) -> None:
    # Lishui: 1,500 yuan per settlement, 3,000 yuan per day from one holder for one relative
    holder = add_person(
        central, psn_no="LS0000000001", age=45, sex="1", area="331100", balance_fen=1_000_000, seq=1
    )
    father = add_person(
        central, psn_no="LS0000000002", age=75, sex="1", area="331100", balance_fen=20_000, seq=2
    )
    add_binding(central, holder.psn_no, father.psn_no, "331100", "51")
    c = central.client()

    def pay(amount: int) -> dict[str, object]:
        r = c.post(
            "/v1/settlements",
            json={
                "settlement_id": str(uuid.uuid4()),
                "relative_certno": father.certno,
                "amount_fen": amount,
                "institution_kind": "pharmacy",
            },
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    first = pay(300_000)
    assert (first["own_account_fen"], first["cash_fen"]) == (20_000, 130_000)
    assert first["mutual_aid"] == [{"holder_name_masked": "测***1", "amount_fen": 150_000}]
    second = pay(200_000)
    assert (second["own_account_fen"], second["mutual_aid"][0]["amount_fen"], second["cash_fen"]) == (
        0,
        150_000,
        50_000,
    )
    third = pay(100_000)  # the daily cap of 3,000 yuan is used up
    assert (third["mutual_aid"], third["cash_fen"]) == ([], 100_000)
    usage = c.get(f"/v1/persons/{holder.psn_no}/usage").json()
    assert usage["total_fen"] == 300_000 and {r["role"] for r in usage["records"]} == {"holder"}
    assert "diagnosis" not in str(usage) and father.name not in str(usage)
    relative_view = c.get(f"/v1/persons/{father.psn_no}/usage").json()
    assert {r["role"] for r in relative_view["records"]} == {"relative"}


def test_unsigned_or_badly_signed_requests_write_nothing(central: Central) -> None:
    fam = central.household(1)
    body = bind_body(central, fam["00"], fam["20"].certno, "20", "331100")
    url = central.server.url
    assert httpx.post(url + "/v1/bindings", json=body).status_code == 401
    wrong_key = central.client(secret="not-the-secret").post("/v1/bindings", json=body)
    assert (wrong_key.status_code, wrong_key.json()["params"]["reason"]) == (401, "bad_signature")
    unknown = central.client(kiosk_id="nobody").post("/v1/bindings", json=body)
    assert (unknown.status_code, unknown.json()["params"]["reason"]) == (401, "unknown_kiosk")

    import json as _json

    raw = _json.dumps(body).encode()
    stale = signed_headers("test-kiosk-01", central.secret, "POST", "/v1/bindings", raw, now=1_000_000)
    r = httpx.post(url + "/v1/bindings", content=raw, headers={**stale, "Content-Type": "application/json"})
    assert (r.status_code, r.json()["params"]["reason"]) == (401, "stale_timestamp")

    fresh = signed_headers("test-kiosk-01", central.secret, "POST", "/v1/bindings", raw)
    tampered = raw.replace(b'"20"', b'"30"')
    r = httpx.post(
        url + "/v1/bindings", content=tampered, headers={**fresh, "Content-Type": "application/json"}
    )
    assert r.json()["params"]["reason"] == "bad_signature"
    assert central.client().get(f"/v1/persons/{fam['00'].psn_no}/bindings").json()["as_holder"] == []

    ok = httpx.post(url + "/v1/bindings", content=raw, headers={**fresh, "Content-Type": "application/json"})
    assert ok.status_code == 201, ok.text
    replay = httpx.post(
        url + "/v1/bindings", content=raw, headers={**fresh, "Content-Type": "application/json"}
    )
    assert (replay.status_code, replay.json()["params"]["reason"]) == (401, "replayed")
