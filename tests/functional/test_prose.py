"""The letter and the guides as a citizen sees them: lines broken where Chinese and English allow it."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Button

from screens.widgets.prose import Prose
from tests.support.explorer import long_letter
from tests.support.pilot import Kiosk

CLOSING = tuple("。，、：；！？）」』")
OPENING = tuple("（「『")
SMALL = [(80, 24)]


def _lines(widget: Widget) -> list[str]:
    """Every line the widget draws (its whole height, scrolled into view or not), trailing cells dropped."""
    return [
        strip.text.rstrip()
        for strip in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    ]


def _check(widget: Widget, text: str) -> None:
    lines = _lines(widget)
    assert len(lines) > 1, "the text should need more than one line here"
    for line in lines:
        assert not line.startswith(CLOSING) and not line.endswith(OPENING), line
    assert "".join(lines).replace(" ", "") == text.replace("\n", "").replace(" ", "")


@pytest.mark.parametrize("kiosk", SMALL, indirect=True, ids=["80x24"])
async def test_letter_at_80x24_starts_no_line_with_punctuation_in_either_language(kiosk: Kiosk) -> None:
    await kiosk.login(0)
    await kiosk.click("#bind")
    for _language in ("zh-CN", "en"):
        letter = kiosk.app.session.letter
        assert letter is not None
        body = kiosk.app.screen.query_one("#letter-body")
        _check(body, letter.body)
        await kiosk.click("#lang")
    assert kiosk.app.session.letter is not None and kiosk.app.session.letter.lang == "zh-CN"


@pytest.mark.parametrize("kiosk", SMALL, indirect=True, ids=["80x24"])
async def test_letter_end_is_still_found_with_prose(kiosk: Kiosk) -> None:
    kiosk.world.backend.letter = long_letter(kiosk.world.backend)  # type: ignore[method-assign]
    await kiosk.login(0)
    await kiosk.click("#bind")
    agree = kiosk.app.screen.query_one("#agree", Button)
    assert agree.disabled, "the long letter does not fit its box"
    kiosk.app.screen.query_one("#letter").scroll_end(animate=False)
    await kiosk.until(lambda: not agree.disabled, "'I have read and agree' enabled at the letter's end")


@pytest.mark.parametrize("kiosk", SMALL, indirect=True, ids=["80x24"])
async def test_guides_at_80x24_start_no_line_with_punctuation(kiosk: Kiosk) -> None:
    await kiosk.click("#guides")
    texts = list(kiosk.app.screen.query(".text").results(Prose))
    assert len(texts) == 3
    for text in texts:
        _check(text, str(text.visual))


class _One(App[None]):
    CSS = "Prose { width: 30; color: #ff0000; text-style: bold; }"

    def compose(self) -> ComposeResult:
        yield Prose("所填写（或读取）的身份信息真实、准确，被共济人就医、购药时先使用其本人的个人账户。")


async def test_prose_keeps_its_css_and_lays_out_again_when_resized() -> None:
    app = _One()
    async with app.run_test(size=(40, 10)) as pilot:
        prose = app.query_one(Prose)
        # 30 cells: 15 characters at most, and "实、" and "先" each go down rather than break their line
        assert _lines(prose) == [
            "所填写（或读取）的身份信息真",
            "实、准确，被共济人就医、购药时",
            "先使用其本人的个人账户。",
        ]
        style = prose.render_lines(Region(0, 0, 30, 1))[0]._segments[0].style
        assert (
            style is not None
            and style.bold
            and style.color is not None
            and style.color.triplet == (255, 0, 0)
        )
        prose.styles.width = 16
        await pilot.pause()
        assert prose.size.height == len(_lines(prose)) == 6
        assert all(not line.startswith(CLOSING) and len(line) <= 8 for line in _lines(prose))
        prose.update("新的文字：短。")
        await pilot.pause()
        assert _lines(prose) == ["新的文字：短。"]
