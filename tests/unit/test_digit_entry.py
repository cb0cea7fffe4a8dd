"""The one digit-entry widget: what it takes, how it shows it, and the messages it posts."""

from __future__ import annotations

import pytest
from textual import events, on
from textual.app import App, ComposeResult
from textual.widgets import Static

from screens.widgets.digits import ID_NUMBER, PIN, SMS_CODE, ClearOnSubmit, DigitEntry, DigitFormat

ID = "33010619891102131X"


class EntryApp(App[None]):
    """A DigitEntry alone on a screen, recording what it posts."""

    def __init__(self, fmt: DigitFormat, clear_on_submit: ClearOnSubmit = "never") -> None:
        super().__init__()
        self.fmt = fmt
        self.clear_on_submit = clear_on_submit
        self.changes: list[str] = []
        self.submitted: list[str] = []

    def compose(self) -> ComposeResult:
        yield DigitEntry(self.fmt, display_id="shown", clear_on_submit=self.clear_on_submit, id="entry")

    @on(DigitEntry.Changed)
    def _changed(self, event: DigitEntry.Changed) -> None:
        self.changes.append(event.value)

    @on(DigitEntry.Submitted)
    def _submitted(self, event: DigitEntry.Submitted) -> None:
        self.submitted.append(event.value if event.complete else f"{event.value} (incomplete)")

    @property
    def entry(self) -> DigitEntry:
        return self.query_one(DigitEntry)

    def shown(self) -> str:
        return str(self.query_one("#shown", Static).render())


def test_a_pin_shows_dots_only() -> None:
    assert PIN.show("") == "○ ○ ○ ○ ○ ○"
    assert PIN.show("1234") == "● ● ● ● ○ ○"


def test_an_sms_code_shows_its_digits_and_the_places_left() -> None:
    assert SMS_CODE.show("48") == "4 8 _ _ _ _"


def test_an_id_number_is_grouped_like_on_the_card() -> None:
    assert ID_NUMBER.show("3301061989") == "330106 1989____ ____"
    assert ID_NUMBER.show(ID) == "330106 19891102 131X"


@pytest.mark.parametrize(
    ("fmt", "typed", "key", "taken"),
    [
        (PIN, "12345", "6", True),
        (PIN, "123456", "7", False),  # full
        (PIN, "", "X", False),
        (ID_NUMBER, ID[:17], "X", True),  # the check character may be X
        (ID_NUMBER, ID[:10], "X", False),  # nowhere else
        (SMS_CODE, "12345", "X", False),
        (ID_NUMBER, ID[:17], "a", False),
    ],
)
def test_what_may_be_typed(fmt: DigitFormat, typed: str, key: str, taken: bool) -> None:
    assert fmt.accepts(typed, key) is taken


async def test_keyboard_digits_backspace_and_enter() -> None:
    app = EntryApp(PIN)
    async with app.run_test() as pilot:
        await pilot.press(*"1234567")  # the 7th digit is not taken
        assert app.entry.value == "123456" and app.entry.complete
        assert app.shown() == "● ● ● ● ● ●"
        await pilot.press("backspace", "a", "x")  # letters are not digits, an X is not a PIN's
        assert app.entry.value == "12345" and app.shown() == "● ● ● ● ● ○"
        await pilot.press("enter")
        assert app.submitted == ["12345 (incomplete)"] and app.entry.value == "12345"  # kept: "never"
        assert app.changes == ["1", "12", "123", "1234", "12345", "123456", "12345"]


@pytest.mark.parametrize(
    ("clear_on_submit", "left_after_short", "left_after_full"),
    [("never", "123", "123456"), ("always", "", ""), ("if_complete", "123", "")],
)
async def test_what_a_submit_leaves_typed(
    clear_on_submit: ClearOnSubmit, left_after_short: str, left_after_full: str
) -> None:
    app = EntryApp(PIN, clear_on_submit)
    async with app.run_test() as pilot:
        await pilot.press(*"123", "enter")
        assert app.entry.value == left_after_short
        await pilot.press("backspace", "backspace", "backspace", *"123456", "enter")
        assert app.entry.value == left_after_full
        assert app.submitted[-1] == "123456"


async def test_keys_typed_right_after_enter_belong_to_the_next_try() -> None:
    """Regression: the entry was cleared by the screen once the Submitted message reached it, so digits
    typed in between (a wrong PIN, then at once the right one) were refused as overflow, then wiped."""
    app = EntryApp(PIN, "always")
    async with app.run_test() as pilot:
        app.entry.focus()
        await pilot.pause()
        for key in (*"999999", "enter", *"123456", "enter"):
            app.entry.post_message(events.Key(key, key if len(key) == 1 else None))  # no pause between
        await pilot.pause()
        assert app.submitted == ["999999", "123456"]


async def test_keypad_taps_type_delete_and_clear() -> None:
    app = EntryApp(SMS_CODE)
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("#key-4", "#key-8", "#key-2"):
            await pilot.click(key)
        assert app.entry.value == "482" and app.shown() == "4 8 2 _ _ _"
        await pilot.click("#key-back")
        assert app.entry.value == "48"
        await pilot.click("#key-clear")
        assert app.entry.value == "" and app.changes[-1] == ""


async def test_an_id_number_takes_x_last_from_the_keyboard_or_the_keypad() -> None:
    app = EntryApp(ID_NUMBER)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("x")  # not as the first character
        assert app.entry.value == ""
        await pilot.press(*ID[:17], "x")
        assert app.entry.value == ID and app.shown() == "330106 19891102 131X"
        await pilot.press("backspace")
        await pilot.click("#key-X")
        assert app.entry.value == ID
        assert not app.query("#key-clear")  # the X key takes the place of Clear


async def test_it_takes_focus_so_the_keyboard_reaches_it() -> None:
    app = EntryApp(PIN)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.focused is app.entry
