"""Ticks and answers that arrive while the app is between two screens must not crash the kiosk."""

from __future__ import annotations

import pytest

from kiosk.session import Step
from screens.messages import reason_text
from tests.support.pilot import Kiosk


async def test_status_tick_right_after_a_switch(kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch) -> None:
    # The app's own 1 s tick asks the backend too: it must find the same 3 however late a busy machine runs it
    monkeypatch.setattr(kiosk.world.backend, "queue_length", lambda: 3)
    await kiosk.login()
    assert kiosk.app.session.step is Step.MENU
    kiosk.app.finish()  # switches to a fresh attract screen that has not composed yet...
    kiosk.app._status(3)  # ...when the status tick answers
    await kiosk.settle()
    assert kiosk.app.session.step is Step.ATTRACT and kiosk.app.is_running
    assert "3" in kiosk.text()  # the queue length reached the new screen's status line


async def test_an_error_for_a_screen_still_composing_is_shown_once_it_is(kiosk: Kiosk) -> None:
    await kiosk.insert(0)
    kiosk.app.go()  # a fresh PIN screen, not composed yet
    kiosk.app.screen.show_error("card_removed")  # type: ignore[attr-defined]
    await kiosk.settle()
    assert kiosk.error() == reason_text("card_removed")


async def test_idle_countdown_tick_before_the_warning_composed(kiosk: Kiosk) -> None:
    from screens.overlays import IdleWarning

    await kiosk.login()
    warning = IdleWarning(15)
    kiosk.app.push_screen(warning)
    warning.show(14)  # the next tick, before the overlay has its widgets
    await kiosk.settle()
    assert "14" in str(warning.query_one("#countdown").render())


async def test_the_heap_is_tidied_between_visits_not_during_one(kiosk: Kiosk) -> None:
    """After a visit ends (attract screen), one full collection runs and the survivors are frozen, so the
    collector's long pauses do not land on a citizen's key press; during a visit nothing is collected."""
    import gc

    from screens.app import TIDY_AFTER_S

    await kiosk.login()
    gc.unfreeze()
    await kiosk.pilot.pause(TIDY_AFTER_S + 0.3)
    assert gc.get_freeze_count() == 0  # mid-visit: left alone
    kiosk.world.reader.remove()
    await kiosk.settle()
    assert kiosk.app.session.step is Step.ATTRACT
    # start-up's and Textual's long-lived objects, frozen once the tidy timer has fired
    await kiosk.until(lambda: gc.get_freeze_count() > 10_000, "the heap tidied on the attract screen")
    gc.unfreeze()
