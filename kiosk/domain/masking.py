"""Masking of personal data shown to anyone but the card holder: ID 6+4, names 张*明, phones 3+4."""

from __future__ import annotations

import re


def mask_id(value: str) -> str:
    """`331102199001011234` → `331102********1234`. Anything too short to keep 10 is fully starred."""
    value = value or ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_name(name: str) -> str:
    """张三明 → 张*明, 张三 → 张*, 欧阳娜娜 → 欧**娜, 张 → *; Latin names: first and last letter per word."""
    name = (name or "").strip()
    if not name:
        return ""
    if " " in name:
        return " ".join(mask_name(part) for part in name.split())
    if len(name) == 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    """`13812345678` → `138****5678`."""
    phone = phone or ""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_card_no(card_no: str) -> str:
    """A 9-character card number keeps its first and last two characters: `A1*****78`."""
    card_no = card_no or ""
    if len(card_no) <= 4:
        return "*" * len(card_no)
    return card_no[:2] + "*" * (len(card_no) - 4) + card_no[-2:]


_LONG_DIGIT_RUN = re.compile(r"\d{15,}[\dXx]")  # the whole run: an ID amid other digits must not leak


def redact_text(text: str) -> str:
    """Mask every ID-number-like run in free text (log lines, error details) as 6+4."""
    return _LONG_DIGIT_RUN.sub(lambda m: mask_id(m.group(0)), text)
