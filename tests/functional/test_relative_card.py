"""The relative's own card in the second slot (areas that ask for it): PIN retries, a wrong card, and what
was typed on the step screen meanwhile. Shenzhen's holder (household 7, a 3rd-generation card) binds her
father; Shenzhen wants the SMS code and the relative's card."""

from __future__ import annotations

from devices.reader import CardData, Slot
from devices.simulated import SimulatedCard
from kiosk.central.seed import SyntheticPerson
from kiosk.session import Step
from screens.messages import reason_text
from screens.overlays import RelativePin
from tests.support.pilot import Kiosk


def _card(p: SyntheticPerson) -> SimulatedCard:
    assert p.card_no and p.card_issuing_admdvs
    return SimulatedCard(CardData(p.card_no, p.card_issuing_admdvs, 2, certno=p.certno, name=p.name))


async def _to_verify(kiosk: Kiosk) -> dict[str, SyntheticPerson]:
    fam = kiosk.family(7)
    holder = fam["00"]
    assert holder.card_no and holder.card_issuing_admdvs
    kiosk.world.reader.insert(SimulatedCard(CardData(holder.card_no, holder.card_issuing_admdvs, 3)))
    await kiosk.settle()
    await kiosk.type("123456")
    await kiosk.pilot.press("enter")
    await kiosk.settle()
    await kiosk.to_relative_step("51")
    await kiosk.type(fam["51"].certno)
    await kiosk.pilot.press("enter")
    await kiosk.settle()
    assert kiosk.app.session.step is Step.VERIFY
    return fam


def _overlay_error(kiosk: Kiosk) -> str:
    assert isinstance(kiosk.app.screen, RelativePin)
    return str(kiosk.app.screen.query_one("#error").render())


async def test_wrong_pin_stays_open_and_the_typed_code_is_kept(kiosk: Kiosk) -> None:
    fam = await _to_verify(kiosk)
    await kiosk.click("#send")
    code = kiosk.sms_code()
    await kiosk.type(code[:3])  # half the SMS code typed when the relative's card goes in
    father = _card(fam["51"])
    kiosk.world.reader.insert(father, Slot.RELATIVE)
    await kiosk.settle()
    await kiosk.type("123")
    await kiosk.pilot.press("enter")
    await kiosk.settle()
    assert "6" in _overlay_error(kiosk) and father.tries_left == 3  # too short: not sent to the card
    await kiosk.type("000000")
    await kiosk.pilot.press("enter")
    await kiosk.settle()
    assert "2" in _overlay_error(kiosk) and father.tries_left == 2  # still open, with the tries left
    await kiosk.type("123456")
    await kiosk.pilot.press("enter")
    await kiosk.settle()
    assert kiosk.app.session.relative_card_verified and kiosk.app.session.step is Step.VERIFY
    assert kiosk.app.screen.code == code[:3]  # type: ignore[attr-defined]
    await kiosk.type(code[3:])
    await kiosk.click("#ok")
    assert kiosk.app.session.step is Step.CONFIRM


async def test_someone_elses_card_is_refused_on_the_step_screen(kiosk: Kiosk) -> None:
    fam = await _to_verify(kiosk)
    kiosk.world.reader.insert(_card(fam["52"]), Slot.RELATIVE)  # the mother's card, not the father's
    await kiosk.settle()
    await kiosk.type("123456")
    await kiosk.pilot.press("enter")
    await kiosk.settle()
    assert kiosk.app.session.step is Step.VERIFY and not kiosk.app.session.relative_card_verified
    assert not isinstance(kiosk.app.screen, RelativePin)
    assert kiosk.error() == reason_text("relative_card_mismatch")


async def test_a_blocked_relative_card_is_told_so(kiosk: Kiosk) -> None:
    fam = await _to_verify(kiosk)
    father = _card(fam["51"])
    father.tries_left = 0
    kiosk.world.reader.insert(father, Slot.RELATIVE)
    await kiosk.settle()
    await kiosk.type("123456")
    await kiosk.pilot.press("enter")
    await kiosk.settle()
    assert not isinstance(kiosk.app.screen, RelativePin)
    assert kiosk.app.session.step is Step.VERIFY and kiosk.error() == reason_text("relative_pin_blocked")
