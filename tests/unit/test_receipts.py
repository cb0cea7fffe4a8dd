"""Receipt numbers and the address a receipt's QR code holds (kiosk/receipts.py)."""

from __future__ import annotations

import datetime as dt
import re
import string
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk import api
from kiosk.receipts import (
    MAC_LENGTH,
    is_receipt_no,
    mac_matches,
    new_receipt_no,
    receipt_mac,
    receipt_url,
)

NOW = dt.datetime(2025, 6, 1, 9, 30, tzinfo=dt.UTC)
SECRET = "kiosk-secret-one"
receipt_nos = st.from_regex(api.RECEIPT_NO_PATTERN, fullmatch=True)


def test_a_new_receipt_number_carries_the_day_and_48_random_bits() -> None:
    numbers = {new_receipt_no(NOW) for _ in range(50)}
    assert len(numbers) == 50
    assert all(re.fullmatch(r"R250601[0-9A-F]{12}", n) and is_receipt_no(n) for n in numbers)


def test_the_mac_is_short_base32_and_the_same_every_time() -> None:
    mac = receipt_mac("R250601ABCDEF012345", SECRET)
    assert len(mac) == MAC_LENGTH and set(mac) <= set(string.ascii_uppercase + "234567")
    assert receipt_mac("R250601ABCDEF012345", SECRET) == mac


@given(receipt_nos, receipt_nos)
def test_another_receipt_or_another_kiosk_gives_another_mac(first: str, second: str) -> None:
    # 50 bits: two MACs agreeing by chance would be a one-in-10^15 event, not a flaky test
    assert receipt_mac(first, SECRET) != receipt_mac(first, "kiosk-secret-two")
    if first != second:
        assert receipt_mac(first, SECRET) != receipt_mac(second, SECRET)


@pytest.mark.parametrize(
    "mac",
    ["", "AAAAAAAAAA", "abcdefghij", "A" * 200, "长长长长长长长长长长"],
    ids=["empty", "wrong", "lowercase", "long", "not-ascii"],
)
def test_a_wrong_mac_does_not_match(mac: str) -> None:
    assert not mac_matches("R250601ABCDEF012345", mac, SECRET)


def test_the_right_mac_matches_only_under_its_kiosks_secret() -> None:
    mac = receipt_mac("R250601ABCDEF012345", SECRET)
    assert mac_matches("R250601ABCDEF012345", mac, SECRET)
    assert not mac_matches("R250601ABCDEF012345", mac, "kiosk-secret-two")
    assert not mac_matches("R250601ABCDEF012346", mac, SECRET)


@given(
    receipt_nos,
    st.sampled_from(["https://fa.example.org", "https://fa.example.org/", "http://127.0.0.1:8765"]),
)
def test_the_url_is_the_public_page_of_the_receipt_with_its_mac(receipt_no: str, base: str) -> None:
    url = urlsplit(receipt_url(base, receipt_no, SECRET))
    assert f"{url.scheme}://{url.netloc}" == base.rstrip("/")
    assert url.path == f"/r/{receipt_no}"
    (mac,) = parse_qs(url.query)["m"]
    assert mac_matches(receipt_no, mac, SECRET)


@pytest.mark.parametrize(
    "text", ["", "R2506", "r250601abcdef012345", "R250601ABCDEF012345/../x", "FAMILY-AID:R"]
)
def test_only_a_receipt_number_gets_a_url(text: str) -> None:
    assert not is_receipt_no(text)
    with pytest.raises(ValueError, match="not a receipt number"):
        receipt_url("https://fa.example.org", text, SECRET)
