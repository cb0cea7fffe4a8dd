"""Every citizen-facing text goes through the catalogs, and the Chinese catalog translates all of it."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{\w+\}")


def _extracted() -> set[str]:
    found = extract_from_dir(
        str(ROOT / "screens"), method_map=[("**.py", "python")], keywords={"_": None, "N_": None}
    )
    return {message for _file, _line, message, _comments, _context in found if isinstance(message, str)}


def _catalog(lang: str) -> dict[str, str]:
    with (ROOT / "screens" / "locale" / lang / "LC_MESSAGES" / "kiosk.po").open("rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id}


def test_every_text_in_the_screens_is_in_both_catalogs() -> None:
    extracted = _extracted()
    assert len(extracted) > 100
    for lang in ("zh_CN", "en"):
        missing = extracted - set(_catalog(lang))
        assert not missing, f"{lang} lacks {sorted(missing)[:5]}"


def test_chinese_translates_everything_with_the_same_placeholders() -> None:
    for msgid, msgstr in _catalog("zh_CN").items():
        assert msgstr.strip(), f"untranslated: {msgid!r}"
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


def test_switching_language_switches_the_text() -> None:
    from screens.i18n import _, set_language

    try:
        set_language("zh-CN")
        assert _("Please insert your social security card") == "请插入社会保障卡"
        set_language("en")
        assert _("Please insert your social security card") == "Please insert your social security card"
    finally:
        set_language("zh-CN")


def test_no_screen_holds_a_chinese_literal_outside_the_catalogs() -> None:
    """Chinese text in screens/ must come from the catalogs (relation names come from the domain)."""
    offenders = []
    for path in (ROOT / "screens").rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"[\u4e00-\u9fff]", code) and '"中文"' not in code:
                offenders.append(f"{path.name}:{number}")
    assert not offenders, offenders
