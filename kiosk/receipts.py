"""Receipt numbers and the address of a receipt's public page: the terminal makes both, central checks them.

A receipt number (`R` + the day + 48 random bits) is made on the terminal when the citizen confirms. The
QR code on the receipt holds `{public_url}/r/{receipt_no}?m={mac}`: the MAC is keyed by the kiosk's
secret, which only that kiosk and central know, so a number typed or guessed without its MAC shows
nothing, and the numbers of other people's receipts cannot be walked through.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets

from kiosk.api import RECEIPT_NO_PATTERN

MAC_LENGTH = 10
"""Base32 characters of the MAC (50 bits): far beyond guessing at a web page's pace, short in a QR code."""
_DOMAIN = b"family-aid receipt\n"  # a receipt MAC can never be mistaken for a request signature
_RECEIPT_NO = re.compile(RECEIPT_NO_PATTERN)


def new_receipt_no(now: dt.datetime) -> str:
    """A fresh receipt number for a submission confirmed at `now` (the day is the terminal's clock's)."""
    return f"R{now:%y%m%d}{secrets.token_hex(6).upper()}"  # 48 random bits a day


def is_receipt_no(text: str) -> bool:
    return _RECEIPT_NO.fullmatch(text) is not None


def receipt_mac(receipt_no: str, kiosk_secret: str) -> str:
    """The receipt's MAC: the first `MAC_LENGTH` base32 characters of its HMAC-SHA256 by the kiosk secret."""
    digest = hmac.new(kiosk_secret.encode(), _DOMAIN + receipt_no.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:MAC_LENGTH]


def mac_matches(receipt_no: str, mac: str, kiosk_secret: str) -> bool:
    """Whether `mac` is this receipt's MAC under `kiosk_secret`, compared in constant time."""
    return hmac.compare_digest(receipt_mac(receipt_no, kiosk_secret).encode(), mac.encode("utf-8"))


def receipt_url(public_url: str, receipt_no: str, kiosk_secret: str) -> str:
    """The address the receipt's QR code holds: central's public page of this receipt."""
    if not is_receipt_no(receipt_no):
        raise ValueError("not a receipt number")
    return f"{public_url.rstrip('/')}/r/{receipt_no}?m={receipt_mac(receipt_no, kiosk_secret)}"
