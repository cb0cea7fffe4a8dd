"""The demo world has a past: card 1's usage records list what his wife's bills took from his account."""

from __future__ import annotations

from kiosk.central.demo import DEMO_BILLS
from kiosk.demo import DemoWorld
from kiosk.domain.masking import mask_name
from kiosk.domain.settlement import format_fen
from kiosk.session import Step
from tests.support.pilot import Kiosk


async def test_the_demo_holders_usage_records_have_rows(kiosk: Kiosk) -> None:
    fam = kiosk.family(1)
    await kiosk.login()  # demo card 1
    await kiosk.click("#usage")
    assert kiosk.app.session.step is Step.USAGE
    shown = kiosk.text()
    wife = mask_name(fam["10"].name)
    assert shown.count(f"用于 {wife}") == len(DEMO_BILLS)
    for _days, _kind, fen in DEMO_BILLS:
        assert f"¥{format_fen(fen)}" in shown
    assert f"¥{format_fen(sum(fen for _d, _k, fen in DEMO_BILLS))}" in shown  # the total
    assert "还没有使用过共济资金" not in shown


def test_the_relatives_side_says_whose_account_paid(world: DemoWorld) -> None:
    fam = {p.relation_to_head: p for p in world.people if p.household == 1}
    usage = world.backend.usage(fam["10"].psn_no)
    assert [r.role for r in usage.records] == ["relative"] * len(DEMO_BILLS)
    assert {r.holder_name_masked for r in usage.records} == {mask_name(fam["00"].name)}
    assert usage.total_fen == sum(fen for _d, _k, fen in DEMO_BILLS)
