"""Pilot walks: bind with an SMS code, bind a minor, unbind, usage, by keyboard and by mouse."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from kiosk.central.db import make_engine, make_sessionmaker
from kiosk.central.models import Binding
from kiosk.session import Step
from tests.support.pilot import Kiosk


def _central_bindings(k: Kiosk, holder_psn_no: str) -> list[Binding]:
    """The holder's bindings made at the kiosk during the test (not the demo world's past one, with the
    holder's wife 40 days ago)."""
    engine = make_engine(k.world.central.database_url, pool_size=1)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    try:
        with make_sessionmaker(engine)() as db:
            return list(
                db.scalars(
                    select(Binding).where(Binding.holder_psn_no == holder_psn_no, Binding.created_at > since)
                )
            )
    finally:
        engine.dispose()


async def test_bind_a_father_with_an_sms_code_then_bind_a_son(kiosk: Kiosk) -> None:
    fam = kiosk.family(1)
    await kiosk.login()
    assert kiosk.app.session.step is Step.MENU and fam["00"].name in kiosk.text()
    await kiosk.to_relative_step("51")
    await kiosk.type(fam["51"].certno)
    await kiosk.pilot.press("enter")
    await kiosk.settle()
    assert kiosk.app.session.step is Step.VERIFY  # the person is shown with the verification
    shown = kiosk.text()
    assert fam["51"].certno not in shown and fam["51"].name not in shown
    await kiosk.click("#send")
    await kiosk.type(kiosk.sms_code())
    await kiosk.click("#ok")
    assert kiosk.app.session.step is Step.CONFIRM
    await kiosk.click("#confirm")
    assert kiosk.app.session.step is Step.RECEIPT
    receipt = kiosk.app.session.receipt
    assert receipt is not None and receipt.status == "accepted" and receipt.receipt_no in kiosk.text()

    await kiosk.click("#another")  # back to the relationship, the letter and area are kept
    assert kiosk.app.session.step is Step.RELATION
    await kiosk.click("#rel-20")
    await kiosk.type(fam["20"].certno)
    await kiosk.click("#next")  # a minor: no SMS, straight to the confirm page with the person
    assert kiosk.app.session.step is Step.CONFIRM
    await kiosk.click("#confirm")
    assert kiosk.app.session.receipt is not None and kiosk.app.session.receipt.status == "accepted"
    assert {b.relative_psn_no for b in _central_bindings(kiosk, fam["00"].psn_no)} == {
        fam["51"].psn_no,
        fam["20"].psn_no,
    }
    await kiosk.click("#finish")
    assert kiosk.app.session.step is Step.ATTRACT and kiosk.app.session.personal_data_left() == []


async def test_list_and_unbind_then_usage(kiosk: Kiosk) -> None:
    fam = kiosk.family(1)
    await kiosk.login()
    await kiosk.to_relative_step("20")
    await kiosk.type(fam["20"].certno)
    await kiosk.click("#next")
    await kiosk.click("#confirm")
    await kiosk.click("#finish")
    await kiosk.login()
    await kiosk.click("#bindings")
    assert kiosk.app.session.step is Step.BINDINGS
    assert kiosk.app.session.bindings is not None
    binding_id = next(b.binding_id for b in kiosk.app.session.bindings.as_holder if b.relation_code == "20")
    await kiosk.click(f"#unbind-{binding_id}")
    assert kiosk.app.session.step is Step.UNBIND_CONFIRM
    await kiosk.click("#confirm")
    assert kiosk.app.session.step is Step.UNBIND_RECEIPT
    assert [b.status for b in _central_bindings(kiosk, fam["00"].psn_no)] == ["revoked"]
    await kiosk.click("#finish")
    await kiosk.login()
    await kiosk.click("#usage")
    assert kiosk.app.session.step is Step.USAGE


async def test_english_all_the_way(kiosk: Kiosk) -> None:
    await kiosk.click("#lang")
    assert "Please insert your social security card" in kiosk.text()
    await kiosk.login()
    assert "Bind a relative" in str(kiosk.app.screen.query_one("#bind").label)
    await kiosk.click("#lang")
    assert "绑定亲属" in str(kiosk.app.screen.query_one("#bind").label)
