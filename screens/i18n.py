"""Citizen-facing text through gettext catalogs (Babel .po files in screens/locale), switchable at runtime."""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "kiosk"
LANGS = ("zh-CN", "en")

_current = ["zh-CN"]


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    po = LOCALE_DIR / lang.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang.replace("-", "_"))
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def set_language(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}")
    _current[0] = lang


def language() -> str:
    return _current[0]


def _(message: str) -> str:
    """Translate `message` (the English source text) into the current language."""
    return _translations(_current[0]).gettext(message)


def N_(message: str) -> str:
    """Mark a message for extraction; translate it later with _()."""
    return message
