"""The staff key F12: the PIN's lock-out after wrong PINs, with its countdown; over a citizen's visit, the
overlay hides the visit's personal data and gives the visit back unchanged on Cancel or a wrong PIN."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import screens.app
from kiosk.config import KioskConfig
from kiosk.demo import DemoWorld
from kiosk.session import Step
from kiosk.staff import FREE_TRIES, check_pin
from screens.app import make_app
from screens.menu import MenuScreen
from screens.overlays import StaffPin
from tests.support.clock import ManualClock
from tests.support.explorer import personal_strings
from tests.support.pilot import STAFF_HASH, STAFF_PIN, Kiosk

WRONG_PIN = "111111"
LOCKED = {
    "zh-CN": "工作人员密码错误次数过多，请 {seconds} 秒后再试。",
    "en": "Too many wrong PINs. Try again in {seconds} seconds.",
}
WRONG = {"zh-CN": "工作人员密码不正确。", "en": "Wrong staff PIN."}


@pytest.fixture
async def kiosk(world: DemoWorld) -> AsyncIterator[Kiosk]:
    """The app on the demo world, on a clock that moves only when the test says (`kiosk.app.clock`)."""
    config = KioskConfig(reader="simulated", idle_timeout_s=90, idle_warning_s=20, staff_pin_hash=STAFF_HASH)
    app = make_app(world.backend, world.reader, config, clock=ManualClock())
    async with app.run_test(size=(120, 40)) as pilot:
        k = Kiosk(app, pilot, world)
        await k.settle()
        yield k


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The PINs the app put through the PBKDF2 check."""
    seen: list[str] = []

    def counting_check_pin(pin: str, stored: str) -> bool:
        seen.append(pin)
        return check_pin(pin, stored)

    monkeypatch.setattr(screens.app, "check_pin", counting_check_pin)
    return seen


def _clock(kiosk: Kiosk) -> ManualClock:
    clock = kiosk.app.clock
    assert isinstance(clock, ManualClock)
    return clock


async def _enter(kiosk: Kiosk, pin: str) -> None:
    await kiosk.type(pin)
    await kiosk.click("#ok")


async def _second(kiosk: Kiosk, seconds: float = 1.0) -> None:
    """`seconds` pass on the app's clock, then its one-second tick runs."""
    _clock(kiosk).advance(seconds)
    kiosk.app.tick()
    await kiosk.settle()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_five_wrong_staff_pins_lock_it_out_with_a_countdown(
    kiosk: Kiosk, checked: list[str], lang: str
) -> None:
    kiosk.app.language = lang
    await kiosk.pilot.press("f12")
    await kiosk.settle()
    for n in range(1, FREE_TRIES):
        await _enter(kiosk, WRONG_PIN)
        assert kiosk.error() == WRONG[lang], f"wrong PIN {n}: no lock-out yet"
    await _enter(kiosk, WRONG_PIN)
    assert kiosk.error() == LOCKED[lang].format(seconds=60)
    assert len(checked) == FREE_TRIES
    await _second(kiosk, 1)
    assert kiosk.error() == LOCKED[lang].format(seconds=59), "the countdown moves with the app's tick"
    await _second(kiosk, 20)
    assert kiosk.error() == LOCKED[lang].format(seconds=39)
    await _enter(kiosk, WRONG_PIN)  # a try during the lock-out: refused, not counted, the wait unchanged
    assert kiosk.error() == LOCKED[lang].format(seconds=39) and len(checked) == FREE_TRIES
    await _second(kiosk, 39)
    assert kiosk.error() == "", "the lock-out is over and says so by going"
    await _enter(kiosk, WRONG_PIN)  # the sixth wrong PIN: locked again, for twice as long
    assert kiosk.error() == LOCKED[lang].format(seconds=120) and len(checked) == FREE_TRIES + 1


async def test_the_right_staff_pin_during_a_lock_out_is_not_checked(kiosk: Kiosk, checked: list[str]) -> None:
    await kiosk.pilot.press("f12")
    await kiosk.settle()
    for _ in range(FREE_TRIES):
        await _enter(kiosk, WRONG_PIN)
    await _enter(kiosk, STAFF_PIN)
    assert kiosk.app.is_running and isinstance(kiosk.app.screen, StaffPin)
    assert STAFF_PIN not in checked and len(checked) == FREE_TRIES
    assert kiosk.error() == LOCKED["zh-CN"].format(seconds=60)
    await kiosk.click("#cancel")  # closing and opening it again does not lift the lock-out
    await kiosk.pilot.press("f12")
    await kiosk.settle()
    assert kiosk.error() == LOCKED["zh-CN"].format(seconds=60)
    await _second(kiosk, 60)
    await _enter(kiosk, STAFF_PIN)
    assert checked[-1] == STAFF_PIN
    await kiosk.until(lambda: not kiosk.app.is_running, "the right PIN after the lock-out leaves the kiosk")
    assert kiosk.app.return_code == 0


async def test_f12_over_the_menu_shows_nothing_of_the_visit_and_cancel_gives_it_back(kiosk: Kiosk) -> None:
    personal = personal_strings(kiosk.world)
    await kiosk.login(0)
    menu = kiosk.app.screen
    assert isinstance(menu, MenuScreen)
    shown = [p for p in personal if p in kiosk.rendered()]
    assert shown, "the menu shows the holder's name (else this test could not fail)"
    await kiosk.pilot.press("f12")
    await kiosk.settle()
    assert isinstance(kiosk.app.screen, StaffPin)
    rendered = kiosk.rendered()
    assert "工作人员密码" in rendered
    assert [p for p in personal if p in rendered] == [], "the visit shows through the staff PIN overlay"
    await _enter(kiosk, WRONG_PIN)
    rendered = kiosk.rendered()
    assert WRONG["zh-CN"] in rendered and [p for p in personal if p in rendered] == []
    await kiosk.click("#cancel")
    assert kiosk.app.screen_stack[-1] is menu, "the visit goes on as it was: the same screen"
    assert kiosk.app.session.step is Step.MENU
    assert kiosk.app.session.holder is not None
    assert [p for p in personal if p in kiosk.rendered()] == shown


async def test_the_idle_timeout_under_the_staff_pin_still_ends_the_visit(kiosk: Kiosk) -> None:
    """Staff who open the overlay and walk away leave no visit open under it."""
    await kiosk.login(0)
    await kiosk.pilot.press("f12")
    await kiosk.settle()
    await _second(kiosk, kiosk.app.config.idle_timeout_s + 1)
    assert kiosk.app.session.step is Step.ATTRACT and kiosk.app.session.personal_data_left() == []
    assert not isinstance(kiosk.app.screen, StaffPin)
