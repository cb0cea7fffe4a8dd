"""No screen reads the store or calls central on the UI thread: what a screen draws was gathered by its step,
in the step's worker thread. A whole visit is walked (language switched on the screens that show gathered
data, which recomposes them) while every method of the backend and the store notes the thread it ran on."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

from kiosk.services import Backend
from kiosk.session import Step
from kiosk.store.repository import Store
from tests.support.pilot import Kiosk


def _watch(obj: object, cls: type, on_ui_thread: list[str]) -> None:
    """Wrap every public method of `obj` (an instance of `cls`) to note the calls made on the main thread."""
    for name, _fn in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_"):
            continue
        bound: Callable[..., Any] = getattr(obj, name)

        @functools.wraps(bound)
        def watched(*args: Any, __bound: Callable[..., Any] = bound, __name: str = name, **kw: Any) -> Any:
            if threading.current_thread() is threading.main_thread():
                on_ui_thread.append(f"{cls.__name__}.{__name}")
            return __bound(*args, **kw)

        setattr(obj, name, watched)


async def _switch_language_twice(kiosk: Kiosk) -> None:
    await kiosk.click("#lang")
    await kiosk.click("#lang")


async def test_a_whole_visit_does_no_io_on_the_ui_thread(kiosk: Kiosk) -> None:
    on_ui_thread: list[str] = []
    _watch(kiosk.world.backend, Backend, on_ui_thread)
    _watch(kiosk.world.store, Store, on_ui_thread)
    fam = kiosk.family(1)

    await kiosk.login()
    await kiosk.click("#bind")
    kiosk.app.screen.query_one("#letter").scroll_end(animate=False)
    await kiosk.pilot.pause(0.3)
    await kiosk.settle()
    await kiosk.click("#agree")
    assert kiosk.app.session.step is Step.RELATION  # one area to choose from: it is chosen
    await _switch_language_twice(kiosk)
    await kiosk.click("#rel-51")
    await kiosk.type(fam["51"].certno)
    await kiosk.click("#next")
    await kiosk.click("#send")
    await kiosk.type(kiosk.sms_code())
    await kiosk.click("#ok")
    assert kiosk.app.session.step is Step.CONFIRM
    await _switch_language_twice(kiosk)
    await kiosk.click("#confirm")
    assert kiosk.app.session.step is Step.RECEIPT
    await kiosk.click("#finish")

    await kiosk.login()
    await kiosk.click("#bindings")
    assert kiosk.app.session.step is Step.BINDINGS and kiosk.app.session.bindings is not None
    await _switch_language_twice(kiosk)
    await kiosk.click(f"#unbind-{kiosk.app.session.bindings.as_holder[0].binding_id}")
    await kiosk.click("#confirm")
    assert kiosk.app.session.step is Step.UNBIND_RECEIPT
    await kiosk.click("#menu")
    await kiosk.click("#usage")
    assert kiosk.app.session.step is Step.USAGE
    await _switch_language_twice(kiosk)
    await kiosk.click("#menu")
    await kiosk.click("#finish")

    assert on_ui_thread == []
