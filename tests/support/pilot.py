"""The kiosk app on a demo world (embedded central on loopback, store, sync, simulated reader) for Pilot."""

from __future__ import annotations

import io
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rich.console import Console

from kiosk.config import KioskConfig
from kiosk.demo import DemoWorld, build_demo
from kiosk.session import Step
from kiosk.staff import hash_pin
from screens.app import KioskApp, make_app
from screens.i18n import set_language

STAFF_PIN = "246810"
STAFF_HASH = hash_pin(STAFF_PIN, iterations=1000)


@pytest.fixture
def world() -> Iterator[DemoWorld]:
    w = build_demo(people=60)
    try:
        yield w
    finally:
        w.close()
        set_language("zh-CN")


@dataclass
class Kiosk:
    """A running app under Pilot, with helpers that wait for its worker threads."""

    app: KioskApp
    pilot: Any
    world: DemoWorld

    async def settle(self) -> None:
        for _ in range(3):
            await self.pilot.pause()
            await self.app.workers.wait_for_complete()
        await self.pilot.pause()

    async def until(self, condition: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
        """Let the app run until `condition` holds (a timer fired, a worker answered); fail after a
        generous timeout, so a busy machine makes the test slower, never wrong."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout_s} s: {what}")
            await self.pilot.pause(0.05)

    async def click(self, selector: str) -> None:
        await self.pilot.click(selector)
        await self.settle()

    async def type(self, text: str) -> None:
        for ch in text:
            await self.pilot.press(ch)
        await self.settle()

    async def insert(self, card: int) -> None:
        self.world.reader.insert(card)
        await self.settle()

    def family(self, household: int) -> dict[str, Any]:
        return {p.relation_to_head: p for p in self.world.people if p.household == household}

    def error(self) -> str:
        return str(self.app.screen.query_one("#error").render())

    def text(self) -> str:
        """Everything the current screen shows, as plain text."""
        return "\n".join(str(w.render()) for w in self.app.screen.query("Static"))

    def rendered(self) -> str:
        """What the terminal shows now, as plain text: the top screen and whatever shows through it (as
        `App.export_screenshot` composes it)."""
        return rendered_text(self.app)

    def sms_code(self) -> str:
        codes = re.findall(r"验证码 (\d{6})", "\n".join(m["body"] for m in self.world.central.sms()))
        assert codes, "no code was sent"
        return codes[-1]

    async def login(self, card: int = 0, pin: str = "123456") -> None:
        await self.insert(card)
        await self.type(pin)
        await self.pilot.press("enter")
        await self.settle()

    async def bind(self, relation_code: str, household: int = 1) -> None:
        """From the menu (or the receipt's "Bind another relative"): bind that relative of the household,
        with the SMS code where one is asked for, up to the receipt."""
        if self.app.session.step is Step.RECEIPT:
            await self.click("#another")
            await self.click(f"#rel-{relation_code}")
        else:
            await self.to_relative_step(relation_code)
        await self.type(self.family(household)[relation_code].certno)
        await self.click("#next")
        if self.app.session.step is Step.VERIFY:
            await self.click("#send")
            await self.type(self.sms_code())
            await self.click("#ok")
        await self.click("#confirm")
        assert self.app.session.step is Step.RECEIPT, self.app.session.step

    async def to_relative_step(self, relation_code: str) -> None:
        await self.click("#bind")
        self.app.screen.query_one("#letter").scroll_end(animate=False)
        agree = self.app.screen.query_one("#agree")
        deadline = time.monotonic() + 30  # generous: only a hung screen takes this long
        while agree.disabled:  # the screen looks for the letter's end on its own timer, however late it runs
            assert time.monotonic() < deadline, "'I have read and agree' stayed disabled at the letter's end"
            await self.pilot.pause(0.05)
        await self.click("#agree")  # one area to choose from: it is chosen
        await self.click(f"#rel-{relation_code}")


def rendered_text(app: KioskApp) -> str:
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


@pytest.fixture
async def kiosk(world: DemoWorld, request: pytest.FixtureRequest) -> AsyncIterator[Kiosk]:
    size = getattr(request, "param", (120, 40))
    config = KioskConfig(reader="simulated", idle_timeout_s=90, idle_warning_s=20, staff_pin_hash=STAFF_HASH)
    app = make_app(world.backend, world.reader, config)
    async with app.run_test(size=size) as pilot:
        k = Kiosk(app, pilot, world)
        await k.settle()
        yield k
