"""A receipt's public page (GET /r/{receipt_no}?m=MAC) on a real uvicorn, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import httpx
import pytest

from kiosk.central.seed import SyntheticPerson
from kiosk.domain.masking import mask_name
from kiosk.receipts import new_receipt_no, receipt_mac, receipt_url
from tests.support.central import Central, bind_body

HANGZHOU = "330100"


def page(central: Central, receipt_no: str, mac: str | None) -> httpx.Response:
    params = {} if mac is None else {"m": mac}
    return httpx.get(f"{central.server.url}/r/{receipt_no}", params=params, timeout=30)


def bind_granddaughter(central: Central, **extra: object) -> tuple[str, dict[str, object]]:
    """Household 2's head binds her granddaughter of 3 (a minor: no SMS) with a receipt number."""
    fam = central.household(2)
    receipt_no = new_receipt_no(dt.datetime.now(dt.UTC))
    body = bind_body(central, fam["00"], fam["44"].certno, "44", HANGZHOU, receipt_no=receipt_no, **extra)
    created = central.client().post("/v1/bindings", json=body)
    assert created.status_code == 201, created.text
    return receipt_no, created.json()


def _everything_personal(people: list[SyntheticPerson]) -> list[str]:
    return [v for p in people for v in (p.name, p.certno, p.psn_no, p.phone, p.card_no) if v]


def test_a_binding_receipt_shows_its_status_and_only_masked_data(central: Central) -> None:
    fam = central.household(2)
    receipt_no, binding = bind_granddaughter(central)
    r = page(central, receipt_no, receipt_mac(receipt_no, central.secret))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert (
        '<meta name="viewport"' in html and "<script" not in html and "http" not in html.split("</head>")[0]
    )
    assert (
        "家庭共济绑定回执" in html and "已通过：绑定已生效" in html and "长期有效" in html
    )  # Hangzhou: open-ended
    assert "Accepted: the binding is in force" in html and "Hangzhou" in html and "杭州市" in html
    assert mask_name(fam["44"].name) in html and receipt_no in html
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    assert today.isoformat() in html and f"{today.year}年{today.month}月{today.day}日" in html
    for value in _everything_personal(central.people):  # no full name, ID number, phone or card, ever
        assert value not in html
    assert binding["binding_id"] not in html
    assert (
        r.headers["cache-control"] == "no-store"
        and "default-src 'none'" in r.headers["content-security-policy"]
    )


def test_the_unbinding_has_its_own_receipt_and_the_bindings_says_it_ended(central: Central) -> None:
    fam = central.household(2)
    bound_no, binding = bind_granddaughter(central)
    unbound_no = new_receipt_no(dt.datetime.now(dt.UTC))
    revoke = {"request_id": str(uuid.uuid4()), "by_psn_no": fam["00"].psn_no, "receipt_no": unbound_no}
    r = central.client().post(f"/v1/bindings/{binding['binding_id']}/revoke", json=revoke)
    assert r.status_code == 200, r.text
    unbound = page(central, unbound_no, receipt_mac(unbound_no, central.secret)).text
    assert "家庭共济解除绑定回执" in unbound and "已通过：绑定已解除" in unbound and "has ended" in unbound
    assert mask_name(fam["44"].name) in unbound
    bound = page(central, bound_no, receipt_mac(bound_no, central.secret)).text
    assert "绑定已结束" in bound and "The binding has ended" in bound and "已通过" not in bound


def test_a_rejected_request_says_why_in_plain_words(central: Central) -> None:
    fam = central.household(2)
    receipt_no = new_receipt_no(dt.datetime.now(dt.UTC))
    body = bind_body(central, fam["00"], fam["20"].certno, "73", HANGZHOU, receipt_no=receipt_no)  # her son
    r = central.client().post("/v1/bindings", json=body)
    assert (r.status_code, r.json()["error"]) == (422, "relation_mismatch")
    html = page(central, receipt_no, receipt_mac(receipt_no, central.secret)).text
    assert "未通过" in html and "亲属关系与户籍登记不符。" in html
    assert "does not match the household register" in html and "relation_mismatch" not in html
    for value in _everything_personal(central.people):
        assert value not in html


@pytest.mark.parametrize(
    "case", ["wrong-mac", "no-mac", "other-kiosks-mac", "unknown", "not-a-number", "queued-on-the-terminal"]
)
def test_anything_but_a_known_receipt_with_its_mac_gets_one_plain_404(central: Central, case: str) -> None:
    receipt_no, _binding = bind_granddaughter(central)
    unknown = new_receipt_no(dt.datetime.now(dt.UTC))
    number, mac = {
        "wrong-mac": (receipt_no, "AAAAAAAAAA"),
        "no-mac": (receipt_no, None),
        "other-kiosks-mac": (receipt_no, receipt_mac(receipt_no, "another kiosk's secret")),
        "unknown": (unknown, "AAAAAAAAAA"),  # a guessed number
        "not-a-number": ("R1'; DROP TABLE binding;--", "AAAAAAAAAA"),
        "queued-on-the-terminal": (unknown, receipt_mac(unknown, central.secret)),
    }[case]
    r = page(central, number, mac)
    unknown_page = page(central, "R000000000000000000", "AAAAAAAAAA")
    assert r.status_code == unknown_page.status_code == 404
    assert r.text == unknown_page.text  # no oracle: the same bytes whatever was wrong
    assert "暂时查不到这张回执" in r.text and "arrives once that terminal is online" in r.text
    assert receipt_no not in r.text


def test_a_request_without_a_receipt_number_still_binds(central: Central) -> None:
    fam = central.household(2)
    body = bind_body(central, fam["00"], fam["44"].certno, "44", HANGZHOU)  # a terminal of the last release
    assert central.client().post("/v1/bindings", json=body).status_code == 201


def test_the_terminals_url_opens_the_page(central: Central) -> None:
    receipt_no, _binding = bind_granddaughter(central)
    url = receipt_url(central.server.url, receipt_no, central.secret)
    assert re.fullmatch(rf"{re.escape(central.server.url)}/r/{receipt_no}\?m=[A-Z2-7]{{10}}", url)
    assert httpx.get(url, timeout=30).status_code == 200
