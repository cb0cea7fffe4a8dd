"""Request signatures: what is signed, freshness, and that any change to the request breaks the MAC."""

from __future__ import annotations

import pytest

from kiosk.signing import SignatureError, parse_headers, sign, signed_headers, verify

SECRET = "s3cret"


def _parts(method: str = "POST", path: str = "/v1/bindings", body: bytes = b"{}", now: float = 1_000_000):
    return parse_headers(signed_headers("k1", SECRET, method, path, body, now=now))


def test_a_signed_request_verifies() -> None:
    verify(_parts(), SECRET, "POST", "/v1/bindings", b"{}", now=1_000_010)


@pytest.mark.parametrize(
    ("method", "path", "body", "secret"),
    [
        ("GET", "/v1/bindings", b"{}", SECRET),
        ("POST", "/v1/bindings?x=1", b"{}", SECRET),
        ("POST", "/v1/bindings", b'{"a":1}', SECRET),
        ("POST", "/v1/bindings", b"{}", "other"),
    ],
    ids=["method", "query", "body", "secret"],
)
def test_any_change_breaks_the_signature(method: str, path: str, body: bytes, secret: str) -> None:
    with pytest.raises(SignatureError) as err:
        verify(_parts(), secret, method, path, body, now=1_000_000)
    assert err.value.reason == "bad_signature"


@pytest.mark.parametrize("skew", [-301, 301, 10_000])
def test_stale_or_future_timestamps_are_refused(skew: int) -> None:
    with pytest.raises(SignatureError) as err:
        verify(_parts(now=1_000_000), SECRET, "POST", "/v1/bindings", b"{}", now=1_000_000 + skew)
    assert err.value.reason == "stale_timestamp"


def test_each_signature_has_its_own_nonce() -> None:
    a, b = _parts(), _parts()
    assert a.nonce != b.nonce and a.signature != b.signature


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "unsigned"),
        (
            {
                "X-Kiosk-Id": "k",
                "X-Kiosk-Timestamp": "12a",
                "X-Kiosk-Nonce": "abcdefgh",
                "X-Kiosk-Signature": "x",
            },
            "bad_timestamp",
        ),
        (
            {"X-Kiosk-Id": "k", "X-Kiosk-Timestamp": "12", "X-Kiosk-Nonce": "a b", "X-Kiosk-Signature": "x"},
            "bad_nonce",
        ),
        (
            {
                "X-Kiosk-Id": "",
                "X-Kiosk-Timestamp": "12",
                "X-Kiosk-Nonce": "abcdefgh",
                "X-Kiosk-Signature": "x",
            },
            "unknown_kiosk",
        ),
    ],
)
def test_malformed_headers_are_refused(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(SignatureError) as err:
        parse_headers(headers)
    assert err.value.reason == reason


def test_header_names_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in signed_headers("k1", SECRET, "GET", "/v1/areas", b"", now=5).items()}
    parts = parse_headers(headers)
    assert parts.signature == sign(SECRET, "GET", "/v1/areas", "5", parts.nonce, b"")
