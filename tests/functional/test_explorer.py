"""A seeded random walk over the real app (everything a person or the world can do on each screen) with the
invariants every screen keeps; central down and up, and the outbox invariant it checks; the letter-screen
bugs the walk found; what happens when a fault escapes."""

from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from textual.containers import VerticalScroll
from textual.widgets import Button

from kiosk.config import KioskConfig
from kiosk.demo import DemoWorld
from kiosk.logs import RedactIdNumbers
from kiosk.session import Step
from kiosk.store.repository import BindDraft
from screens.app import OUT_OF_SERVICE_S, make_app
from screens.bind import LetterScreen
from screens.start import OutOfServiceScreen
from tests.support.clock import ManualClock
from tests.support.explorer import SIZES, CentralLink, InvariantBroken, Made, Walk, long_letter, walk
from tests.support.pilot import STAFF_HASH, Kiosk

STEPS = 100  # per walk: 2 sizes x 2 walks x 100 steps, about 2 minutes on a busy 2-core machine


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@settings(
    max_examples=1,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(min_value=0, max_value=2**16))
@example(seed=7)  # found the letter redrawn with 'I have read and agree' enabled (80x24, before the fix)
def test_a_random_walk_keeps_every_invariant(world: DemoWorld, size: tuple[int, int], seed: int) -> None:
    """No exception reaches Textual, the app runs, every screen offers a way on, a wipe leaves nothing
    personal, nothing is submitted without a Confirm tap, and the letter is agreed only once read."""
    assert asyncio.run(walk(world, size, seed, STEPS)) == STEPS


async def test_central_down_and_up_takes_central_from_the_kiosk_and_gives_it_back(kiosk: Kiosk) -> None:
    link = CentralLink(kiosk.world.backend.client)
    try:
        link.set_down(True)
        await kiosk.login(0)
        assert kiosk.app.session.step is Step.PIN and "连接不上" in kiosk.error()
        link.set_down(False)
        await kiosk.type("123456")
        await kiosk.pilot.press("enter")
        await kiosk.settle()
        assert kiosk.app.session.step is Step.MENU
    finally:
        link.close()


async def test_a_bind_confirmed_while_central_is_down_waits_and_goes_once_it_is_back(kiosk: Kiosk) -> None:
    store, backend = kiosk.world.store, kiosk.world.backend
    link = CentralLink(backend.client)
    try:
        await kiosk.login()
        await kiosk.to_relative_step("52")
        await kiosk.type(kiosk.family(1)["52"].certno)
        await kiosk.click("#next")
        await kiosk.click("#send")
        await kiosk.type(kiosk.sms_code())
        await kiosk.click("#ok")
        assert kiosk.app.session.step is Step.CONFIRM
        link.set_down(True)
        await kiosk.click("#confirm")
        receipt = kiosk.app.session.receipt
        assert kiosk.app.session.step is Step.RECEIPT and receipt is not None and receipt.status == "pending"
        assert store.queue_stats()[0] == 1
        link.set_down(False)

        def sent() -> bool:  # the sync worker's cycles, until the retry the failure scheduled is due
            backend.sync_now()
            got = store.get(receipt.request_id)
            return got is not None and got.status == "accepted"

        await kiosk.until(sent, "the queued bind is accepted once central is back")
        assert store.queue_stats()[0] == 0
    finally:
        link.close()


def _outbox_walk(world: DemoWorld) -> Walk:
    """A walk with no app, for its outbox invariant alone."""
    link = CentralLink(world.backend.client)
    walk = Walk(None, None, world, ManualClock(), random.Random(0), link, random.Random(0))  # type: ignore[arg-type]
    link.close()
    return walk


def _unconfirmed_bind(world: DemoWorld) -> str:
    """A bind put in the store directly, as if the kiosk had committed it without a Confirm."""
    family = {p.relation_to_head: p for p in world.people if p.household == 1}
    area = family["00"].insured_admdvs
    policy = world.store.policy(area)
    assert policy is not None
    ref = policy.consent_letter
    letter = world.store.letter(ref.id, ref.version, "zh-CN")
    assert letter is not None
    draft = BindDraft(
        holder_psn_no=family["00"].psn_no,
        holder_name_masked="*",
        relative_certno=family["51"].certno,
        relative_name_masked="*",
        relation_code="51",
        admdvs=area,
        letter_id=letter.letter_id,
        letter_version=letter.version,
        letter_sha256=letter.sha256,
    )
    return world.store.submit_bind(draft, online=False).request_id


def test_the_outbox_invariant_finds_a_request_nobody_confirmed_and_one_not_queued(world: DemoWorld) -> None:
    walk = _outbox_walk(world)
    walk._check_outbox(0)  # an empty outbox, nothing made: holds
    request_id = _unconfirmed_bind(world)
    with pytest.raises(InvariantBroken, match="the outbox holds 1 requests, but 0 confirmed ones wait"):
        walk._check_outbox(0)
    walk.made.append(Made(request_id, "bind", central_down=True, status="pending"))
    walk._check_outbox(0)  # now it was confirmed, while central was down, and it waits: holds
    walk.made.append(Made(request_id, "bind", central_down=True, status="accepted"))
    with pytest.raises(InvariantBroken, match="confirmed while central was down is 'accepted', not queued"):
        walk._check_outbox(1)
    walk.known.add("00000000-0000-0000-0000-000000000000")
    with pytest.raises(InvariantBroken, match="confirmed requests lost from the store"):
        walk._check_outbox(2)


async def _letter(kiosk: Kiosk, *, long: bool) -> LetterScreen:
    if long:
        kiosk.world.backend.letter = long_letter(kiosk.world.backend)  # type: ignore[method-assign]
    await kiosk.login(0)
    await kiosk.click("#bind")
    screen = kiosk.app.screen
    assert isinstance(screen, LetterScreen)
    await kiosk.until(lambda: screen.query("#agree"), "the letter screen is composed")
    return screen


async def test_letter_check_end_during_a_redraw_no_matches_agree(kiosk: Kiosk) -> None:
    """'English' on the letter crashed with NoMatches '#agree': the 0.2 s timer runs in its own task and
    could look for the button while the redraw had removed the old widgets and not mounted the new ones."""
    screen = await _letter(kiosk, long=True)
    await screen.query_children("*").remove()  # where the redraw is between its two awaits
    screen._check_end()  # the timer firing then: must not raise
    await kiosk.settle()
    assert kiosk.app._exception is None


async def test_letter_language_switch_keeps_agree_disabled_until_the_end(kiosk: Kiosk) -> None:
    """A language switch redrew the letter with 'I have read and agree' enabled, read or not."""
    screen = await _letter(kiosk, long=True)
    assert screen.query_one("#agree", Button).disabled
    await kiosk.click("#lang")
    assert screen.query_one("#agree", Button).disabled, "a redraw enabled it before the end was reached"
    screen.query_one("#letter", VerticalScroll).scroll_end(animate=False)
    await kiosk.until(lambda: not screen.query_one("#agree", Button).disabled, "agree enabled at the end")
    await kiosk.click("#lang")  # back to Chinese: the end stays reached
    assert not screen.query_one("#agree", Button).disabled
    await kiosk.click("#agree")
    assert kiosk.app.session.step is Step.RELATION  # one area: chosen for the holder


@pytest.mark.parametrize("where", ["handler", "worker"])
async def test_a_fault_puts_the_kiosk_out_of_service_and_exits_non_zero(
    world: DemoWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """A fault is logged with its traceback (ID numbers masked), the visit wiped, the notice shown in both
    languages, and after OUT_OF_SERVICE_S the app exits with status 1 for its supervisor to restart it."""
    certno = world.people[0].certno

    def broken(*_args: object) -> None:
        raise RuntimeError(f"bug while handling {certno}")

    clock = ManualClock()
    config = KioskConfig(reader="simulated", idle_timeout_s=90, idle_warning_s=20, staff_pin_hash=STAFF_HASH)
    app = make_app(world.backend, world.reader, config, clock=clock)
    log_file = tmp_path / "kiosk.log"
    handler = logging.FileHandler(log_file, encoding="utf-8")  # as kiosk.cli._log_to_file sets it up
    handler.addFilter(RedactIdNumbers())
    logging.getLogger("screens.app").addHandler(handler)
    monkeypatch.setattr(handler, "level", logging.ERROR)
    with pytest.raises(RuntimeError, match="bug while handling"):  # Pilot re-raises it at the end
        async with app.run_test(size=(120, 40)) as pilot:
            k = Kiosk(app, pilot, world)
            await k.settle()
            await k.login(0)
            assert app.session.holder is not None
            if where == "handler":  # show_step runs on the UI thread, in the button's handler
                monkeypatch.setattr(app.session, "show_guides", broken)
                await k.click("#guides")
            else:  # run_step runs in the worker thread
                monkeypatch.setattr(app.session, "show_usage", broken)
                await k.click("#usage")
            await k.until(lambda: isinstance(app.screen, OutOfServiceScreen), "the out-of-service notice")
            assert app.session.personal_data_left() == []
            assert app.session.step is Step.ATTRACT
            assert app.is_running, "the notice stays up until OUT_OF_SERVICE_S"
            text = "\n".join(str(s.render()) for s in app.screen.query("Static"))
            assert "本机暂停服务，请找工作人员帮助。" in text
            assert "This terminal is out of service. Please ask the staff for help." in text
            clock.advance(OUT_OF_SERVICE_S)
            app.tick()
            await k.until(lambda: not app.is_running, "the app exits")
    assert app.return_code == 1
    logging.getLogger("screens.app").removeHandler(handler)
    handler.close()
    logged = log_file.read_text(encoding="utf-8")
    assert (
        "out of service" in logged and "Traceback" in logged and "RuntimeError: bug while handling" in logged
    )
    assert certno not in logged, "the ID number in the traceback is masked"
