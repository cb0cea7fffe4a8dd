"""Every bad input gets a clear message and loses nothing: PIN, ID number, refusals, SMS code, card pulled,
idle, central offline, and keys that must not end the kiosk."""

from __future__ import annotations

import pytest

from kiosk.session import Step
from screens.overlays import IdleWarning, StaffPin
from screens.start import MessageScreen
from tests.support.pilot import STAFF_PIN, Kiosk


async def test_wrong_pin_shows_tries_left_then_blocks(kiosk: Kiosk) -> None:
    await kiosk.insert(0)
    for left in (2, 1):
        await kiosk.type("000000")
        await kiosk.pilot.press("enter")
        await kiosk.settle()
        assert kiosk.app.session.step is Step.PIN
        assert str(left) in kiosk.error()
    await kiosk.type("000000")
    await kiosk.pilot.press("enter")
    await kiosk.settle()
    assert isinstance(kiosk.app.screen, MessageScreen) and kiosk.app.screen.key == "pin_blocked"
    assert "人工窗口" in kiosk.text()


async def test_a_short_pin_is_not_sent_to_the_card(kiosk: Kiosk) -> None:
    await kiosk.insert(0)
    await kiosk.type("123")
    await kiosk.click("#ok")
    assert kiosk.app.session.step is Step.PIN and "6" in kiosk.error()
    assert kiosk.world.reader.deck[0].tries_left == 3


async def test_an_already_blocked_card_is_told_so(kiosk: Kiosk) -> None:
    await kiosk.login(card=6)
    assert isinstance(kiosk.app.screen, MessageScreen) and kiosk.app.screen.key == "pin_blocked"


@pytest.mark.parametrize(
    ("card", "reason"), [(3, "holder_status_not_normal"), (4, "holder_not_employee_insured")]
)
async def test_ineligible_holders_are_told_why_before_anything_else(
    kiosk: Kiosk, card: int, reason: str
) -> None:
    await kiosk.login(card=card)
    assert isinstance(kiosk.app.screen, MessageScreen) and kiosk.app.screen.key == reason
    await kiosk.click("#finish")
    assert kiosk.app.session.step is Step.ATTRACT


async def test_id_number_is_checked_as_typed(kiosk: Kiosk) -> None:
    fam = kiosk.family(1)
    await kiosk.login()
    await kiosk.to_relative_step("51")
    good = fam["51"].certno
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    await kiosk.type(wrong_check)
    assert "校验码" in kiosk.error()
    await kiosk.click("#next")
    assert kiosk.app.session.step is Step.RELATIVE  # nothing was sent
    await kiosk.pilot.press("backspace")
    await kiosk.type(good[17])
    assert kiosk.error() == ""
    await kiosk.type("19991399")  # cannot type past 18 characters
    assert kiosk.app.screen.typed == good  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("relation", "who", "reason_text"),
    [("51", "52", "性别"), ("52", "30", "年龄")],
    ids=["sex-mismatch", "age-implausible"],
)
async def test_central_refusals_are_explained(
    kiosk: Kiosk, relation: str, who: str, reason_text: str
) -> None:
    fam = kiosk.family(1)
    await kiosk.login()
    await kiosk.to_relative_step(relation)
    await kiosk.type(fam[who].certno)
    await kiosk.click("#next")
    assert kiosk.app.session.step is Step.RELATIVE and reason_text in kiosk.error()


async def test_duplicate_binding_is_refused_before_the_confirm_page(kiosk: Kiosk) -> None:
    fam = kiosk.family(1)
    for attempt in range(2):
        await kiosk.login()
        await kiosk.to_relative_step("20")
        await kiosk.type(fam["20"].certno)
        await kiosk.click("#next")
        if attempt == 0:
            await kiosk.click("#confirm")
            await kiosk.click("#finish")
    assert kiosk.app.session.step is Step.RELATIVE and "已经和您绑定" in kiosk.error()


async def test_wrong_sms_code_shows_tries_left(kiosk: Kiosk) -> None:
    fam = kiosk.family(1)
    await kiosk.login()
    await kiosk.to_relative_step("52")
    await kiosk.type(fam["52"].certno)
    await kiosk.click("#next")
    await kiosk.click("#send")
    code = kiosk.sms_code()
    await kiosk.type(f"{(int(code) + 1) % 10**6:06d}")
    await kiosk.click("#ok")
    assert kiosk.app.session.step is Step.VERIFY and "4" in kiosk.error()
    await kiosk.type(code)
    await kiosk.click("#ok")
    assert kiosk.app.session.step is Step.CONFIRM


async def _walk_to(kiosk: Kiosk, step: Step) -> None:
    fam = kiosk.family(1)
    if step is Step.ATTRACT:
        return
    if step is Step.PIN:
        await kiosk.insert(0)
        return
    await kiosk.login()
    if step is Step.MENU:
        return
    await kiosk.to_relative_step("52")
    if step is Step.RELATIVE:
        return
    await kiosk.type(fam["52"].certno)
    await kiosk.click("#next")
    if step is Step.VERIFY:
        return
    await kiosk.click("#send")
    await kiosk.type(kiosk.sms_code())
    await kiosk.click("#ok")
    if step is Step.CONFIRM:
        return
    await kiosk.click("#confirm")
    assert step is Step.RECEIPT


STEPS = [Step.PIN, Step.MENU, Step.RELATIVE, Step.VERIFY, Step.CONFIRM, Step.RECEIPT]


@pytest.mark.parametrize("step", STEPS, ids=[s.value for s in STEPS])
async def test_card_pulled_at_any_step_wipes_everything(kiosk: Kiosk, step: Step) -> None:
    await _walk_to(kiosk, step)
    assert kiosk.app.session.step is step
    kiosk.world.reader.remove()
    await kiosk.settle()
    assert kiosk.app.session.step is Step.ATTRACT
    assert kiosk.app.session.personal_data_left() == []
    holder = kiosk.family(1)["00"]
    assert holder.name not in kiosk.text() and holder.name[0] + "*" not in kiosk.text()
    if step is not Step.RECEIPT:  # nothing is committed unless confirmed
        assert kiosk.world.store.submissions_for(holder.psn_no) == []


@pytest.mark.parametrize("step", STEPS, ids=[s.value for s in STEPS])
async def test_idle_at_any_step_warns_then_wipes(kiosk: Kiosk, step: Step) -> None:
    await _walk_to(kiosk, step)
    now = [kiosk.app.clock()]
    kiosk.app.clock = lambda: now[0]
    kiosk.app.last_touch = now[0]
    now[0] += kiosk.app.config.idle_timeout_s - 5
    kiosk.app.tick()
    await kiosk.settle()
    assert isinstance(kiosk.app.screen, IdleWarning) and "5" in kiosk.text()
    now[0] += 6
    kiosk.app.tick()
    await kiosk.settle()
    assert kiosk.app.session.step is Step.ATTRACT and kiosk.app.session.personal_data_left() == []


async def test_a_touch_during_the_countdown_keeps_the_session(kiosk: Kiosk) -> None:
    await kiosk.login()
    now = [kiosk.app.clock()]
    kiosk.app.clock = lambda: now[0]
    now[0] += kiosk.app.config.idle_timeout_s - 3
    kiosk.app.tick()
    await kiosk.settle()
    assert isinstance(kiosk.app.screen, IdleWarning)
    await kiosk.click("#continue")
    assert kiosk.app.session.step is Step.MENU and not isinstance(kiosk.app.screen, IdleWarning)


OFFLINE_STEPS = [Step.PIN, Step.MENU, Step.RELATIVE, Step.VERIFY]


@pytest.mark.parametrize("step", OFFLINE_STEPS, ids=[s.value for s in OFFLINE_STEPS])
async def test_central_offline_is_said_plainly_and_nothing_is_faked(kiosk: Kiosk, step: Step) -> None:
    fam = kiosk.family(1)
    await _walk_to(kiosk, step)
    kiosk.world.central.stop()
    if step is Step.PIN:
        await kiosk.type("123456")
        await kiosk.pilot.press("enter")
    elif step is Step.MENU:
        await kiosk.pilot.click("#bindings")
    elif step is Step.RELATIVE:
        await kiosk.type(fam["52"].certno)
        await kiosk.pilot.click("#next")
    else:
        await kiosk.pilot.click("#send")
    await kiosk.settle()
    assert kiosk.app.session.step is step
    assert "连接不上" in kiosk.error()


async def test_confirm_while_offline_queues_the_request_when_the_area_allows(kiosk: Kiosk) -> None:
    await _walk_to(kiosk, Step.CONFIRM)
    kiosk.world.central.stop()
    await kiosk.click("#confirm")
    receipt = kiosk.app.session.receipt
    assert kiosk.app.session.step is Step.RECEIPT and receipt is not None and receipt.status == "pending"
    assert "网络恢复后" in kiosk.text()
    assert kiosk.world.store.queue_stats()[0] == 1


@pytest.mark.parametrize("key", ["ctrl+c", "ctrl+q", "ctrl+z", "ctrl+backslash", "ctrl+p", "escape"])
async def test_no_key_lets_a_citizen_out(kiosk: Kiosk, key: str) -> None:
    await kiosk.login()
    await kiosk.pilot.press(key)
    await kiosk.settle()
    assert kiosk.app.is_running and kiosk.app.session.step is Step.MENU


async def test_staff_key_needs_the_staff_pin(kiosk: Kiosk) -> None:
    await kiosk.pilot.press("f12")
    await kiosk.settle()
    assert isinstance(kiosk.app.screen, StaffPin)
    await kiosk.type("111111")
    await kiosk.click("#ok")
    assert kiosk.app.is_running and "工作人员密码不正确" in kiosk.text()
    await kiosk.type(STAFF_PIN)
    await kiosk.click("#ok")
    assert kiosk.app.return_code == 0 and not kiosk.app.is_running
