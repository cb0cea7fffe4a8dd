"""Citizen-facing text via gettext catalogs (Babel .po files in screens/locale), in the kiosk's language."""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "kiosk"
LANGS = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"  # every visit starts in Chinese


class LanguageHolder(Protocol):
    """Where the language lives. While the kiosk runs, that is KioskApp's `language` reactive: setting it
    redraws the screens and tells the session."""

    language: str


@dataclass
class _Standalone:
    """The language when no kiosk app runs (unit tests, scripts)."""

    language: str = DEFAULT_LANGUAGE


# One holder at a time, so there is one answer to "which language": never a copy kept in sync by hand.
_holder: list[LanguageHolder] = [_Standalone()]


def follow(holder: LanguageHolder | None) -> None:
    """Make `holder` the source of the language (the app, while it runs); None: back to the default."""
    _holder[0] = _Standalone() if holder is None else holder


def following(holder: LanguageHolder) -> bool:
    return _holder[0] is holder


def set_language(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}")
    _holder[0].language = lang


def language() -> str:
    return _holder[0].language


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


def _(message: str) -> str:
    """Translate `message` (the English source text) into the current language."""
    return _translations(language()).gettext(message)


def translate(message: str, lang: str) -> str:
    """`message` in `lang`, whatever the current language (a notice shown in both)."""
    return _translations(lang).gettext(message)


def N_(message: str) -> str:
    """Mark a message for extraction; translate it later with _()."""
    return message
