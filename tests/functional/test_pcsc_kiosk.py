"""The running app with `reader = "pcsc"`: Pilot drives the screens while virtual cards sit in vpcd's readers
of a real pcscd (the demo world supplies central, store and sync). Needs pcscd + vsmartcard-vpcd."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from devices.reader import Slot
from devices.virtual_card import CardApplet
from kiosk.config import KioskConfig
from kiosk.demo import DemoWorld, card_person
from kiosk.session import Step
from screens.app import make_app
from screens.messages import reason_text
from tests.support.pcsc_stack import HOLDER_READER, RELATIVE_READER
from tests.support.pilot import STAFF_HASH, Kiosk

pytestmark = [pytest.mark.xdist_group("pcscd"), pytest.mark.timeout(180)]


class PcscKiosk(Kiosk):
    vcards: Callable[..., Any]

    async def until(self, predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; step {self.app.session.step}")
            await self.pilot.pause(0.05)
        await self.settle()

    def card(self, key: str, slot: Slot = Slot.HOLDER, **kw: Any) -> Any:
        person, generation, locked = card_person(key, people=60)
        kw.setdefault("generation", generation)
        return self.vcards(CardApplet(person, tries_left=0 if locked else 3, **kw), slot)

    async def insert_card(self, key: str = "1") -> Any:
        card = self.card(key)
        card.insert()
        await self.until(lambda: self.app.session.step is not Step.ATTRACT, "the card to be read")
        return card


@pytest.fixture
async def pkiosk(world: DemoWorld, vcards: Callable[..., Any]) -> AsyncIterator[PcscKiosk]:
    from devices.pcsc import PcscReader

    reader = PcscReader(holder_reader=HOLDER_READER, relative_reader=RELATIVE_READER, retry_s=0.1)
    config = KioskConfig(reader="pcsc", idle_timeout_s=90, idle_warning_s=20, staff_pin_hash=STAFF_HASH)
    app = make_app(world.backend, reader, config)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            k = PcscKiosk(app, pilot, world)
            k.vcards = vcards
            await k.until(lambda: reader.healthy, "the reader supervisor")
            yield k
    finally:
        reader.close()


async def test_a_binding_walked_with_a_card_in_pcscd(pkiosk: PcscKiosk) -> None:
    k = pkiosk
    fam = k.family(1)
    card = await k.insert_card("1")
    assert k.app.session.step is Step.PIN
    await k.type("123456")
    await k.pilot.press("enter")
    await k.until(lambda: k.app.session.step is Step.MENU, "the menu")
    assert fam["00"].name in k.text()  # the holder is greeted by name
    await k.to_relative_step("51")
    await k.type(fam["51"].certno)
    await k.pilot.press("enter")
    await k.settle()
    await k.click("#send")
    await k.type(k.sms_code())
    await k.click("#ok")
    await k.click("#confirm")
    receipt = k.app.session.receipt
    assert receipt is not None and receipt.status == "accepted"
    card.remove()  # taking the card out ends the visit
    await k.until(lambda: k.app.session.step is Step.ATTRACT, "the attract screen")
    assert k.app.session.personal_data_left() == []


async def test_wrong_pin_then_right_pin_on_the_chip(pkiosk: PcscKiosk) -> None:
    k = pkiosk
    card = await k.insert_card("1")
    await k.type("000000")
    await k.pilot.press("enter")
    await k.until(lambda: "2" in k.error(), "the tries-left message")
    assert card.applet.tries_left == 2
    await k.type("123456")
    await k.pilot.press("enter")
    await k.until(lambda: k.app.session.step is Step.MENU, "the menu")
    assert card.applet.tries_left == 3


async def test_the_relatives_own_card_in_the_second_reader(pkiosk: PcscKiosk) -> None:
    """Shenzhen wants the SMS code and the relative's own card: slot 2, the relative's PIN on the keypad.
    The holder's card is 3rd-generation: identified by card number + issuing area through central."""
    k = pkiosk
    fam = k.family(7)
    await k.insert_card(fam["00"].certno)
    await k.type("123456")
    await k.pilot.press("enter")
    await k.until(lambda: k.app.session.step is Step.MENU, "the menu")
    await k.to_relative_step("51")
    await k.type(fam["51"].certno)
    await k.pilot.press("enter")
    await k.settle()
    assert k.app.session.step is Step.VERIFY
    await k.click("#send")
    code = k.sms_code()
    await k.type(code[:2])
    father = k.card(fam["51"].certno, Slot.RELATIVE)
    father.insert()
    await k.until(lambda: type(k.app.screen).__name__ == "RelativePin", "the relative's PIN pad")
    await k.type("000000")
    await k.pilot.press("enter")
    await k.until(lambda: father.applet.tries_left == 2, "the wrong PIN to reach the chip")
    await k.settle()
    assert type(k.app.screen).__name__ == "RelativePin"  # open again for the right PIN
    await k.type("123456")
    await k.pilot.press("enter")
    await k.until(lambda: k.app.session.relative_card_verified, "the relative's card to be checked")
    assert k.app.session.step is Step.VERIFY  # the SMS code is still wanted, and what was typed is kept
    await k.type(code[2:])
    await k.click("#ok")
    assert k.app.session.step is Step.CONFIRM
    await k.click("#confirm")
    assert k.app.session.receipt is not None and k.app.session.receipt.status == "accepted"


async def test_card_pulled_mid_flow_wipes_the_visit(pkiosk: PcscKiosk) -> None:
    k = pkiosk
    fam = k.family(1)
    card = await k.insert_card("1")
    await k.type("123456")
    await k.pilot.press("enter")
    await k.until(lambda: k.app.session.step is Step.MENU, "the menu")
    await k.to_relative_step("51")
    await k.type(fam["51"].certno[:10])
    card.remove()
    await k.until(lambda: k.app.session.step is Step.ATTRACT, "the attract screen")
    assert k.app.session.personal_data_left() == []
    assert fam["00"].name not in k.text()


async def test_a_card_that_is_not_a_social_security_card(pkiosk: PcscKiosk) -> None:
    k = pkiosk
    k.card("1", social_security=False).insert()
    expected = reason_text("not_social_security_card")
    await k.until(lambda: expected in k.text(), "the not-a-social-security-card message")
    assert k.app.session.step is Step.ATTRACT


async def test_pcscd_restart_shows_reader_unavailable_and_recovers(pkiosk: PcscKiosk, pcscd: Any) -> None:
    if not pcscd.restartable:
        pytest.skip("pcscd was already running, not started by this run: it is not ours to restart")
    k = pkiosk
    await k.insert_card("1")
    await k.type("123456")
    await k.pilot.press("enter")
    await k.until(lambda: k.app.session.step is Step.MENU, "the menu")
    pcscd.stop()
    try:
        await k.until(lambda: k.app.reader_lost, "the reader to be reported lost")
        assert k.app.session.step is Step.ATTRACT and k.app.session.personal_data_left() == []
        assert reason_text("reader_unavailable") in k.text()
    finally:
        pcscd.start()
    # back by itself: the card still in the reader is read again and the PIN is asked afresh
    await k.until(lambda: not k.app.reader_lost, "the reader to come back", timeout=15)
    await k.until(lambda: k.app.session.step is Step.PIN, "the PIN screen again", timeout=15)
    assert reason_text("reader_unavailable") not in k.text()
