"""What a person met in the demo, each fixed and held here: the flow's length, what a pulled or forgotten
card is told, a locked card, the resend countdown, relations already bound, the beneficiary's side, the
receipt, the keypad's Clear, keyboard operation, the menu's Finish, the letter's language, the bindings'
columns."""

from __future__ import annotations

import threading
from typing import Any

from textual.widgets import Button, Static

from devices.reader import CardData, Slot
from devices.simulated import SimulatedReader
from kiosk.config import KioskConfig
from kiosk.demo import DemoWorld
from kiosk.session import Step
from screens.app import make_app
from screens.widgets.qr import QRCode
from tests.support.pilot import STAFF_HASH, Kiosk

FATHER_CARD = 5  # demo card 6: the father of household 1, on resident insurance
LOCKED_CARD = 6  # demo card 7: its PIN is locked


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _to_verify(kiosk: Kiosk, relation: str = "51") -> None:
    await kiosk.login()
    await kiosk.to_relative_step(relation)
    await kiosk.type(kiosk.family(1)[relation].certno)
    await kiosk.click("#next")


def _button(kiosk: Kiosk, selector: str) -> Button:
    return kiosk.app.screen.query_one(selector, Button)


async def test_taps_after_the_pin_a_parent_with_sms_takes_seven(kiosk: Kiosk) -> None:
    """bind, agree, relation, next, 'yes, send the code', OK, confirm: no one-choice area step, and the
    person is confirmed once (with the verification), not on a page of its own and again at the end."""
    fam = kiosk.family(1)
    await kiosk.login()
    taps: list[str] = []

    async def tap(selector: str) -> None:
        taps.append(selector)
        await kiosk.click(selector)

    await tap("#bind")
    kiosk.app.screen.query_one("#letter").scroll_end(animate=False)
    await kiosk.until(lambda: not _button(kiosk, "#agree").disabled, "the letter's end reached")
    await tap("#agree")
    assert kiosk.app.session.step is Step.RELATION
    await tap("#rel-51")
    await kiosk.type(fam["51"].certno)
    await tap("#next")
    assert fam["51"].name[0] + "*" in kiosk.text() and "76" in kiosk.text()  # who it is, before the SMS
    await tap("#send")
    await kiosk.type(kiosk.sms_code())
    await tap("#ok")
    await tap("#confirm")
    assert kiosk.app.session.step is Step.RECEIPT and len(taps) == 7, taps


async def test_not_the_person_on_the_verification_goes_back_to_the_number(kiosk: Kiosk) -> None:
    await _to_verify(kiosk)
    await kiosk.click("#reenter")
    assert kiosk.app.session.step is Step.RELATIVE and kiosk.app.session.relative_check is None


async def test_resend_within_a_minute_is_throttled_with_a_countdown_never_offline(kiosk: Kiosk) -> None:
    clock = Clock()
    kiosk.app.session.clock = clock
    await _to_verify(kiosk)
    await kiosk.click("#send")
    send = _button(kiosk, "#send")
    assert send.disabled and "1:00" in str(send.label)  # central's resend_after_s, counted down
    clock.now += 25
    await kiosk.until(lambda: "0:35" in str(_button(kiosk, "#send").label), "the countdown moved on")
    # the terminal's clock ran ahead of central's: the button is ready, central still says too soon
    kiosk.app.session.resend_at = None
    await kiosk.until(lambda: not _button(kiosk, "#send").disabled, "the button enabled")
    await kiosk.click("#send")
    error = kiosk.error()
    assert "刚刚发出" in error and "无法连接" not in error, error
    assert "新的验证码" not in kiosk.text()  # nothing new went out
    await kiosk.until(lambda: _button(kiosk, "#send").disabled, "the button off again, with its countdown")
    assert "0:" in str(_button(kiosk, "#send").label)


async def test_a_card_pulled_mid_flow_says_nothing_was_submitted(kiosk: Kiosk) -> None:
    await _to_verify(kiosk)
    kiosk.world.reader.remove()
    await kiosk.settle()
    assert kiosk.app.session.step is Step.ATTRACT
    assert "没有提交任何申请" in kiosk.text() and "请插入社会保障卡" in kiosk.text()


async def test_a_card_pulled_on_the_menu_says_nothing_alarming(kiosk: Kiosk) -> None:
    await kiosk.login()
    kiosk.world.reader.remove()
    await kiosk.settle()
    assert kiosk.app.notice is None and "没有提交" not in kiosk.text()


async def test_after_finish_the_attract_screen_asks_for_the_card_until_it_is_taken(kiosk: Kiosk) -> None:
    await kiosk.login()
    await kiosk.click("#finish")
    assert kiosk.app.session.step is Step.ATTRACT
    assert "请取走您的社保卡" in kiosk.text() and "请插入" not in kiosk.text()
    kiosk.world.reader.remove()
    await kiosk.settle()
    assert "请插入社会保障卡" in kiosk.text() and "请取走" not in kiosk.text()


async def test_after_the_idle_wipe_the_attract_screen_asks_for_the_card(world: DemoWorld) -> None:
    clock = Clock()
    config = KioskConfig(reader="simulated", idle_timeout_s=90, idle_warning_s=20, staff_pin_hash=STAFF_HASH)
    app = make_app(world.backend, world.reader, config, clock=clock)
    async with app.run_test(size=(120, 40)) as pilot:
        k = Kiosk(app, pilot, world)
        await k.login()
        clock.now += 91
        await k.until(lambda: app.session.step is Step.ATTRACT, "the idle wipe")
        await k.until(lambda: "请取走您的社保卡" in k.text(), "the take-your-card prompt")
        assert app.session.personal_data_left() == []


class GatedReader(SimulatedReader):
    """A reader whose card takes as long to read as the test says."""

    def __init__(self, deck: Any) -> None:
        super().__init__(deck=deck)
        self.gate = threading.Event()

    def read(self, slot: Slot = Slot.HOLDER) -> CardData:
        assert self.gate.wait(20), "the test never let the read finish"
        return super().read(slot)


async def test_reading_your_card_shows_before_the_read_finishes(world: DemoWorld) -> None:
    reader = GatedReader(world.reader.deck)
    config = KioskConfig(reader="simulated", staff_pin_hash=STAFF_HASH)
    app = make_app(world.backend, reader, config)
    async with app.run_test(size=(80, 24)) as pilot:
        reader.insert(0)
        await pilot.pause()
        await pilot.pause()
        shown = "\n".join(str(w.render()) for w in app.screen.query(Static))
        assert "正在读卡" in shown and app.session.step is Step.ATTRACT  # the read is still held
        reader.gate.set()
        k = Kiosk(app, pilot, world)
        await k.until(lambda: app.session.step is Step.PIN, "the PIN pad after the read")
        assert "正在读卡" not in k.text()


async def test_a_locked_card_is_told_before_any_pin_pad(kiosk: Kiosk) -> None:
    await kiosk.insert(LOCKED_CARD)
    assert kiosk.app.session.step is Step.BLOCKED
    assert "密码已锁定" in kiosk.text() and not kiosk.app.screen.query("#pin")


async def test_the_last_try_warns_that_a_wrong_pin_locks_the_card(kiosk: Kiosk) -> None:
    await kiosk.insert(0)
    for _try in range(2):
        await kiosk.type("999999")
        await kiosk.pilot.press("enter")
        await kiosk.settle()
    assert "再错一次，卡将被锁定" in kiosk.error()
    await kiosk.click("#lang")  # redrawn: the warning stays, in English
    assert "locks the card" in kiosk.error()


async def test_a_card_with_one_try_left_warns_before_the_first_digit(kiosk: Kiosk) -> None:
    kiosk.world.reader.deck[0].tries_left = 1
    await kiosk.insert(0)
    assert kiosk.app.session.step is Step.PIN and "只剩 1 次机会" in kiosk.error()


async def test_a_relation_already_bound_is_marked_and_refused_before_the_number(kiosk: Kiosk) -> None:
    fam = kiosk.family(1)
    await kiosk.login()
    await kiosk.bind("51")
    await kiosk.click("#another")
    father = _button(kiosk, "#rel-51")
    assert "已绑定" in str(father.label) and "已绑定" not in str(_button(kiosk, "#rel-20").label)
    await kiosk.click("#rel-51")
    assert kiosk.app.session.step is Step.RELATION
    assert "已经绑定了父亲" in kiosk.error() and fam["51"].name[0] + "*" in kiosk.error()


async def test_the_beneficiary_on_resident_insurance_sees_and_ends_the_binding(kiosk: Kiosk) -> None:
    """The letter says either side may end it: the father (resident insurance, no account to share)
    still sees the account shared with him and ends it."""
    await kiosk.login()
    await kiosk.bind("20")  # the son: a minor, no SMS
    await kiosk.click("#finish")
    kiosk.world.reader.remove()
    await kiosk.settle()
    await kiosk.login(FATHER_CARD)
    assert kiosk.app.session.step is Step.INELIGIBLE and not kiosk.app.screen.query("#shared")
    await kiosk.click("#finish")
    kiosk.world.reader.remove()
    await kiosk.settle()

    await kiosk.login()  # the holder binds the father
    await kiosk.bind("51")
    await kiosk.click("#finish")
    kiosk.world.reader.remove()
    await kiosk.settle()

    await kiosk.login(FATHER_CARD)
    assert kiosk.app.session.step is Step.INELIGIBLE
    await kiosk.click("#shared")
    assert kiosk.app.session.step is Step.BINDINGS
    assert "我的账户共济给" not in kiosk.text()  # he has no account to share: only what is shared with him
    bindings = kiosk.app.session.bindings
    assert bindings is not None and len(bindings.as_relative) == 1
    await kiosk.click(f"#unbind-{bindings.as_relative[0].binding_id}")
    await kiosk.click("#confirm")
    assert kiosk.app.session.step is Step.UNBIND_RECEIPT and "已解除绑定" in kiosk.text()
    await kiosk.click("#menu")  # back to his notice, which no longer offers anything to end
    assert kiosk.app.session.step is Step.INELIGIBLE and not kiosk.app.screen.query("#shared")


async def test_the_receipt_says_who_on_what_terms_once_and_offers_the_menu(kiosk: Kiosk) -> None:
    fam = kiosk.family(1)
    await kiosk.login()
    await kiosk.to_relative_step("20")
    await kiosk.type(fam["20"].certno)
    await kiosk.click("#next")
    await kiosk.click("#confirm")
    shown = kiosk.text()
    assert "绑定成功" in shown and "已提交" not in shown  # one word on where it stands
    assert fam["20"].name[0] + "*" in shown and "儿子" in shown and "限额" in shown and "有效期" in shown
    assert fam["20"].certno not in shown and "请取走" not in shown  # the card is still needed here
    receipt = kiosk.app.session.receipt
    assert receipt is not None
    qr = kiosk.app.screen.query_one("#qr", QRCode)  # a phone opens central's page, not a bare string
    assert qr.data.startswith(f"{kiosk.world.backend.public_url}/r/{receipt.receipt_no}?m=")
    await kiosk.click("#menu")
    assert kiosk.app.session.step is Step.MENU


async def test_the_id_keypad_clears_what_was_typed(kiosk: Kiosk) -> None:
    await kiosk.login()
    await kiosk.to_relative_step("51")
    await kiosk.type("3325011950")
    await kiosk.click("#clear")
    assert kiosk.app.screen.query_one("#entry").value == ""  # type: ignore[attr-defined]


async def test_tab_and_enter_drive_the_menu_and_digits_still_reach_the_entry(kiosk: Kiosk) -> None:
    await kiosk.login()
    await kiosk.pilot.press("tab")
    assert kiosk.app.focused is not None and kiosk.app.focused.id == "bind"
    await kiosk.pilot.press("enter")
    await kiosk.settle()
    assert kiosk.app.session.step is Step.LETTER
    assert kiosk.app.focused is kiosk.app.screen.query_one("#letter")  # keys scroll the letter at once
    await kiosk.pilot.press("tab")
    assert isinstance(kiosk.app.focused, Button) and kiosk.app.focused.id == "back"
    await kiosk.pilot.press("escape")
    await kiosk.settle()
    assert kiosk.app.session.step is Step.LETTER  # nothing else reacts to stray keys


async def test_a_tap_leaves_the_digits_with_the_entry(kiosk: Kiosk) -> None:
    await kiosk.login()
    await kiosk.to_relative_step("51")
    await kiosk.click("#clear")  # a tap on a button must not take the keyboard away from the entry
    await kiosk.type("33")
    assert kiosk.app.screen.query_one("#entry").value == "33"  # type: ignore[attr-defined]


async def test_the_menus_finish_is_nowhere_a_way_back_to_the_menu_is(kiosk: Kiosk) -> None:
    """Two quick taps on 'back' must not end the visit: no screen that leads back to the menu has its
    way back where the menu has Finish."""
    await kiosk.login()
    finish = _button(kiosk, "#finish").region
    for open_it, back in (("#guides", "#back"), ("#bindings", "#menu"), ("#usage", "#menu")):
        await kiosk.click(open_it)
        region = _button(kiosk, back).region
        assert not region.overlaps(finish), (open_it, region, finish)
        await kiosk.click(back)
        assert kiosk.app.session.step is Step.MENU


async def test_the_letter_follows_the_language(kiosk: Kiosk) -> None:
    await kiosk.login()
    await kiosk.click("#bind")
    title_zh = str(kiosk.app.screen.query_one("#letter-title", Static).render())
    await kiosk.click("#lang")
    title_en = str(kiosk.app.screen.query_one("#letter-title", Static).render())
    assert "承诺书" in title_zh and "commitment letter" in title_en.lower()
    kiosk.app.screen.query_one("#letter").scroll_end(animate=False)
    await kiosk.until(lambda: not _button(kiosk, "#agree").disabled, "the letter's end reached")
    await kiosk.click("#agree")
    letter = kiosk.app.session.letter_agreed
    assert letter is not None and letter.lang == "en"  # the binding records the letter that was read


async def test_my_bindings_line_up_in_columns_with_dates(kiosk: Kiosk) -> None:
    await kiosk.login()
    await kiosk.bind("20")  # the son (a minor: no SMS)
    await kiosk.bind("51")  # then the father
    await kiosk.click("#menu")
    await kiosk.click("#bindings")
    cells = list(kiosk.app.screen.query(".table .td").results(Static))
    per_row = 6  # name, relation, ID, from, until, status (then the button)
    rows = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
    assert len(rows) == 3  # and the wife, bound in the demo's past
    for column in range(per_row):
        assert len({row[column].region.x for row in rows}) == 1, column
    assert any(str(c.render()).count("-") == 2 for c in rows[0])  # a date


async def test_the_demo_panel_shows_the_sms_code_at_80x24_at_one_height(world: DemoWorld) -> None:
    config = KioskConfig(reader="simulated", staff_pin_hash=STAFF_HASH)
    app = make_app(world.backend, world.reader, config, demo_sms=world.latest_sms)
    async with app.run_test(size=(80, 24)) as pilot:
        k = Kiosk(app, pilot, world)
        heights = {app.screen.query_one("#demo-panel").region.height}
        await k.login()
        heights.add(app.screen.query_one("#demo-panel").region.height)
        await k.to_relative_step("51")
        await k.type(k.family(1)["51"].certno)
        await k.click("#next")
        await k.click("#send")
        heights.add(app.screen.query_one("#demo-panel").region.height)
        code = k.sms_code()
        await k.until(
            lambda: code in str(app.screen.query_one("#demo-sms", Static).render()), "the code shown"
        )
        sms = app.screen.query_one("#demo-sms", Static)
        text = str(sms.render())
        # the code is within what the panel's width shows
        assert text.index(code) + len(code) <= sms.region.width, (text, sms.region)
        assert heights == {1}


async def test_a_first_send_central_refuses_as_too_soon_counts_down_too(kiosk: Kiosk) -> None:
    """The person re-entered after a code went out: central still waits, and the button says how long."""
    await _to_verify(kiosk)
    await kiosk.click("#send")
    await kiosk.click("#reenter")
    await kiosk.type(kiosk.family(1)["51"].certno)
    await kiosk.click("#next")
    assert kiosk.app.session.otp is None and not _button(kiosk, "#send").disabled
    await kiosk.click("#send")
    assert "刚刚发出" in kiosk.error()
    await kiosk.until(lambda: _button(kiosk, "#send").disabled, "the button off, counting down")
    assert "是，发送验证码（" in str(_button(kiosk, "#send").label) or "(0:" in str(
        _button(kiosk, "#send").label
    )


async def test_a_letter_agreed_in_english_then_a_binding_confirmed_in_chinese(kiosk: Kiosk) -> None:
    """The walk by hand: agreeing in English, switching back to Chinese and confirming ended the kiosk
    (the letter agreed to was looked up in the language of the moment, and there was none)."""
    await kiosk.login()
    await kiosk.click("#bind")
    await kiosk.click("#lang")
    kiosk.app.screen.query_one("#letter").scroll_end(animate=False)
    await kiosk.until(lambda: not _button(kiosk, "#agree").disabled, "the letter's end reached")
    await kiosk.click("#agree")
    await kiosk.click("#lang")  # back to Chinese for the rest
    await kiosk.click("#rel-20")
    await kiosk.type(kiosk.family(1)["20"].certno)
    await kiosk.click("#next")
    await kiosk.click("#confirm")
    receipt = kiosk.app.session.receipt
    assert kiosk.app.session.step is Step.RECEIPT and receipt is not None and receipt.status == "accepted"
    assert "绑定成功" in kiosk.text()


async def test_back_on_end_this_binding_returns_to_the_list(kiosk: Kiosk) -> None:
    await kiosk.login()
    await kiosk.click("#bindings")
    bindings = kiosk.app.session.bindings
    assert bindings is not None and bindings.as_holder  # the wife, bound in the demo's past
    await kiosk.click(f"#unbind-{bindings.as_holder[0].binding_id}")
    assert kiosk.app.session.step is Step.UNBIND_CONFIRM
    await kiosk.click("#back")
    assert kiosk.app.session.step is Step.BINDINGS


async def test_guides_from_the_attract_screen_keep_the_chosen_language(kiosk: Kiosk) -> None:
    await kiosk.click("#lang")
    await kiosk.click("#guides")
    await kiosk.click("#back")
    assert kiosk.app.session.step is Step.ATTRACT and kiosk.app.language == "en"
    assert "Please insert your social security card" in kiosk.text()


async def test_next_page_turns_the_letter_to_its_end_for_whoever_cannot_drag(world: DemoWorld) -> None:
    config = KioskConfig(reader="simulated", staff_pin_hash=STAFF_HASH)
    app = make_app(world.backend, world.reader, config)
    async with app.run_test(size=(80, 20)) as pilot:  # the letter does not fit
        k = Kiosk(app, pilot, world)
        await k.login()
        await k.click("#bind")
        await pilot.pause()
        assert _button(k, "#agree").disabled and _button(k, "#more").display
        scroll = app.screen.query_one("#letter")
        for _page in range(10):
            if not _button(k, "#more").display:
                break
            before = scroll.scroll_y
            await k.click("#more")
            await k.until(lambda b=before: scroll.scroll_y > b, "the page turned")  # type: ignore[misc]
            await k.until(
                lambda: not _button(k, "#agree").disabled or scroll.scroll_y < scroll.max_scroll_y - 0.5,
                "the end noticed, or more to read",
            )
        assert not _button(k, "#agree").disabled and not _button(k, "#more").display
