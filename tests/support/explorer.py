"""A random walk over the kiosk app under Pilot: at every step one thing a person or the world can do on the
screen that is up, then the invariants every screen must keep (tests/functional/test_explorer.py, and
benchmarks/explorer_soak.py for long walks)."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from textual.containers import VerticalScroll
from textual.pilot import OutOfBounds
from textual.widgets import Button, Static

from devices.reader import Slot
from kiosk.config import KioskConfig
from kiosk.demo import DEMO_PIN, DemoWorld, demo_deck
from kiosk.domain.masking import mask_id, mask_name
from kiosk.session import Step
from kiosk.store.models import CachedLetter, Submission
from kiosk.store.repository import Store
from screens.app import KioskApp, make_app
from screens.bind import ConfirmScreen, LetterScreen, RelativeScreen, VerifyScreen
from screens.i18n import set_language
from screens.menu import UnbindConfirmScreen
from screens.overlays import StaffPin
from screens.start import AttractScreen, PinScreen
from tests.support.clock import ManualClock
from tests.support.pilot import STAFF_HASH, rendered_text

KEYS = ("enter", "tab", "shift+tab", "backspace", "up", "down", "left", "right", "pagedown", "pageup", "f12")
SIZES = ((80, 24), (120, 40))
FORWARD = frozenset(
    {"bind", "bindings", "agree", "next", "send", "ok", "confirm", "another", "continue", "shared"}
)
"""Buttons that take a visit on: tapped more often, so that a short walk reaches the later screens."""


class InvariantBroken(AssertionError):
    """An invariant failed; the message holds the last steps of the walk."""


class CentralLink:
    """Central down and up for the kiosk under test, in this process: while down, the terminal's client
    (the one the backend and the sync worker share) is pointed at a loopback port that is bound but not
    listening, so every request is refused at once (httpx.ConnectError), as when central's host is gone.
    Central itself keeps running for the other parts of the world (its SMS file)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.url = client.base_url
        self._refusing = socket.socket()
        self._refusing.bind(("127.0.0.1", 0))  # held, so no other process takes the port meanwhile
        self.down = False

    def set_down(self, down: bool) -> None:
        port = self._refusing.getsockname()[1]
        self.client.base_url = httpx.URL(f"http://127.0.0.1:{port}") if down else self.url
        self.down = down

    def close(self) -> None:
        self.set_down(False)
        self._refusing.close()


@dataclass(frozen=True)
class Made:
    """A request the store took (a bind or unbind the citizen confirmed)."""

    request_id: str
    kind: str
    central_down: bool
    status: str
    """What the store said right after taking it (and trying to send it at once)."""


def pending_ids(store: Store) -> set[str]:
    """Requests in the store that central has not answered yet."""
    with store.sessions() as db:
        return set(db.scalars(select(Submission.request_id).where(Submission.status == "pending")))


@dataclass
class Walk:
    """One app on the demo world, walked by `rnd`."""

    app: KioskApp
    pilot: Any
    world: DemoWorld
    clock: ManualClock
    rnd: random.Random
    central: CentralLink
    world_rnd: random.Random
    """Central's outages and the sync worker's cycles: a stream of their own, so that a seed's walk stays
    step for step what it was before central could fail, up to its first outage."""
    trail: list[str] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)
    """Every bind or unbind request handed to the store, in the order they came."""
    made: list[Made] = field(default_factory=list)
    """The requests the store took, in the order they came."""
    known: set[str] = field(default_factory=set)
    """Every request the outbox may hold: those pending when the walk began, and those this walk made."""
    personal: tuple[str, ...] = ()
    letter_ends_seen: set[int] = field(default_factory=set)
    """The letter screens (by id) whose letter this walk has seen scrolled to its end, or fitting whole."""

    # --- what is on the screen ---------------------------------------------------------------------------

    def buttons(self) -> list[Button]:
        """Enabled buttons a person can see on the top screen."""
        return [
            b for b in self.app.screen.query(Button) if not b.disabled and b.display and b.region.area > 0
        ]

    def screen_text(self) -> str:
        parts: list[str] = []
        for screen in self.app.screen_stack:
            parts += [str(w.render()) for w in screen.query(Static)]
            parts += [str(b.label) for b in screen.query(Button)]
        return "\n".join(parts)

    # --- the steps -----------------------------------------------------------------------------------------

    async def settle(self) -> None:
        for _ in range(2):
            await self.pilot.pause()
            await self.app.workers.wait_for_complete()
        await self.pilot.pause()

    def _family_certnos(self) -> list[str]:
        holder = self.app.session.holder
        household = next(
            (p.household for p in self.world.people if holder is not None and p.psn_no == holder.psn_no), None
        )
        return [p.certno for p in self.world.people if p.household == household] or [
            self.world.people[0].certno
        ]

    def _sms_code(self) -> str:
        bodies = [m["body"] for m in self.world.central.sms()]
        codes = [w for body in bodies for w in body.split() if w.isdigit() and len(w) == 6]
        return codes[-1] if codes else "000000"

    def actions(self) -> list[tuple[float, str, Callable[[], Any]]]:
        """(weight, name, do) for everything a person or the world can do now. The weights lean towards
        what moves a visit on (the right PIN on the PIN screen, a card when there is none), so that a
        short walk reaches the later screens; everything else stays possible at every step."""
        rnd, app, reader = self.rnd, self.app, self.world.reader
        on_pin = isinstance(app.screen, PinScreen)
        # where a number is asked for, typing it is what a person does most (so walks reach the end)
        on_relative = isinstance(app.screen, RelativeScreen)
        on_code = isinstance(app.screen, VerifyScreen) and bool(app.screen.query("#code"))
        acts: list[tuple[float, str, Callable[[], Any]]] = []
        for b in self.buttons():
            name = b.id or ""
            weight = (
                1.0
                if name.startswith("key-")
                else 10.0
                if name in FORWARD or name.startswith(("area-", "rel-", "unbind-"))
                else 4.0
                if name == "lang"
                else 3.0
            )
            acts.append((weight, f"tap {b.id or b.label}", lambda b=b: self._tap(b)))
        acts.append((2, "digit", lambda: self._keys(rnd.choice("0123456789"))))
        for key in KEYS:
            acts.append((0.1 if key == "f12" else 0.7, key, lambda key=key: self._keys(key)))
        holder_in, lost = reader.present(Slot.HOLDER), reader.lost
        acts += [
            (
                12 if on_pin else 0.5,
                "type the card PIN",
                lambda: self._keys(*["backspace"] * 6, *DEMO_PIN, "enter"),
            ),
            (
                12 if on_relative else 2,
                "type a relative's ID number",
                lambda: self._keys(*rnd.choice(self._family_certnos())),
            ),
            (12 if on_code else 2, "type the SMS code", lambda: self._keys(*self._sms_code())),
            (3, "scroll to the end", self._scroll_end),
            (1, "scroll a little", self._scroll_some),
            (1.5 if holder_in else 0.2, "card out", lambda: reader.remove(Slot.HOLDER)),
            (
                0.5 if holder_in else 10,
                "card in",
                lambda: reader.insert(rnd.choice((0, 0, 0, 1, 2, 3, 4, 5, 6))),
            ),
            (1.5, "relative's card in", lambda: reader.insert(rnd.choice((5, 5, 1, 0)), Slot.RELATIVE)),
            (0.5, "relative's card out", lambda: reader.remove(Slot.RELATIVE)),
            (
                0.5,
                "idle warning",
                lambda: self._idle(app.config.idle_timeout_s - app.config.idle_warning_s + 1),
            ),
            (0.4, "idle timeout", lambda: self._idle(app.config.idle_timeout_s + 1)),
            (5 if lost else 0.2, "reader back" if lost else "reader lost", lambda: reader.set_lost(not lost)),
        ]
        return acts

    async def _tap(self, button: Button) -> None:
        try:
            await self.pilot.click(button)
        except OutOfBounds:
            return
        self.app.touch()  # a real tap reaches App.on_event (Pilot's click does not)

    async def _keys(self, *keys: str) -> None:
        for key in keys:
            await self.pilot.press(key)

    def _scroll_end(self) -> None:
        for scroll in self.app.screen.query("VerticalScroll"):
            scroll.scroll_end(animate=False)
        self.app.touch()

    def _scroll_some(self) -> None:
        for scroll in self.app.screen.query("VerticalScroll"):
            scroll.scroll_down(animate=False)
        self.app.touch()

    def _idle(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.app.tick()

    def world_event(self) -> tuple[str, Callable[[], Any]] | None:
        """Central goes down (more often on a confirm page, where it matters most) or comes back, or the
        sync worker runs its cycle while requests wait; None: the person acts this step."""
        r = self.world_rnd.random()
        if self.central.down:
            return ("central up", self._central_up) if r < 0.1 else None
        confirming = isinstance(self.app.screen, ConfirmScreen | UnbindConfirmScreen)
        if r < (0.3 if confirming else 0.01):
            return ("central down", lambda: self.central.set_down(True))
        if r > 0.95 and self.world.store.queue_stats()[0]:
            return ("sync cycle", self._sync)
        return None

    async def _central_up(self) -> None:
        self.central.set_down(False)
        await self._sync()  # the sync worker's next cycle, which the walk does not wait for

    async def _sync(self) -> None:
        await asyncio.to_thread(self.world.backend.sync_now)  # off the app's loop, as the worker runs

    async def step(self) -> None:
        screen = type(self.app.screen).__name__
        event = self.world_event()
        if event is not None:
            name, do = event
        else:
            acts = self.actions()
            _weight, name, do = self.rnd.choices(acts, weights=[a[0] for a in acts])[0]
        self.trail.append(f"{screen}: {name}")
        confirm = name == "tap confirm" and isinstance(self.app.screen, ConfirmScreen | UnbindConfirmScreen)
        before, made_before = len(self.submitted), len(self.made)
        result = do()
        if hasattr(result, "__await__"):
            await result
        await self.settle()
        self.check(allowed_submissions=1 if confirm else 0, before=before)
        self._check_outbox(made_before)

    # --- the invariants ------------------------------------------------------------------------------------

    def fail(self, what: str) -> None:
        raise InvariantBroken(f"{what}\nlast steps:\n  " + "\n  ".join(self.trail[-25:]))

    def check(self, *, allowed_submissions: int, before: int) -> None:
        app = self.app
        self._check_letter()
        crash = getattr(app, "crash", None) or app._exception
        if crash is not None:
            self.fail(f"an exception reached Textual: {crash!r}")
        if not app.is_running or app.return_code is not None:
            self.fail(f"the app stopped (return code {app.return_code})")
        if not isinstance(app.screen, AttractScreen) and not self.buttons():
            self.fail(f"dead end: {type(app.screen).__name__} offers no enabled button")
        if len(self.submitted) - before > allowed_submissions:
            self.fail(f"submitted without a Confirm tap: {self.submitted[before:]}")
        if app.session.step is Step.ATTRACT and isinstance(app.screen, AttractScreen):
            left = app.session.personal_data_left()
            if left:
                self.fail(f"after a wipe the session still holds {left}")
            text = self.screen_text()
            shown = [p for p in self.personal if p in text]
            if shown:
                self.fail(f"after a wipe the screen still shows {shown}")
        if isinstance(app.screen, StaffPin):
            rendered = rendered_text(app)
            shown = [p for p in self.personal if p in rendered]
            if shown:
                self.fail(f"the staff PIN overlay lets the visit show through: {shown}")

    def _check_outbox(self, made_before: int) -> None:
        """Nothing confirmed is lost, and the outbox holds exactly the confirmed requests central has not
        answered: a request confirmed while central is down waits in it."""
        store = self.world.store
        for made in self.made[made_before:]:
            self.known.add(made.request_id)
            if made.central_down and made.status != "pending":
                self.fail(f"a {made.kind} confirmed while central was down is {made.status!r}, not queued")
        statuses = {request_id: store.get(request_id) for request_id in self.known}
        lost = [request_id for request_id, got in statuses.items() if got is None]
        if lost:
            self.fail(f"confirmed requests lost from the store: {lost}")
        waiting = sum(1 for got in statuses.values() if got is not None and got.status == "pending")
        queued = store.queue_stats()[0]
        if queued != waiting:
            self.fail(f"the outbox holds {queued} requests, but {waiting} confirmed ones wait for central")

    def _check_letter(self) -> None:
        """'I have read and agree' is enabled only on a letter screen whose end the citizen has seen."""
        screen = self.app.screen
        if not isinstance(screen, LetterScreen):
            return
        scroll = next(screen.query("#letter").results(VerticalScroll), None)
        laid_out = scroll is not None and scroll.size.height and scroll.virtual_size.height
        if laid_out and (scroll.max_scroll_y == 0 or scroll.scroll_y >= scroll.max_scroll_y - 0.5):
            self.letter_ends_seen.add(id(screen))
        for agree in screen.query("#agree").results(Button):
            if not agree.disabled and id(screen) not in self.letter_ends_seen:
                self.fail("'I have read and agree' is enabled, but the letter was not read to its end")


def personal_strings(world: DemoWorld) -> tuple[str, ...]:
    """The demo people's names and ID numbers, as they are and as the screens mask them."""
    out: set[str] = set()
    for p in world.people:
        out |= {p.name, p.certno, mask_name(p.name), mask_id(p.certno)}
    return tuple(sorted(out))


def long_letter(backend: Any) -> Callable[..., Any]:
    """`backend.letter`, with a body long enough to need scrolling at any screen size (the demo's fits)."""
    real = backend.letter

    def letter(letter_id: str, version: int, lang: str) -> Any:
        found = real(letter_id, version, lang)
        if found is None:
            return None
        return CachedLetter(
            letter_id=found.letter_id,
            version=found.version,
            lang=found.lang,
            title=found.title,
            body="\n\n".join([found.body] * 8),
            sha256=found.sha256,
        )

    return letter


async def walk(world: DemoWorld, size: tuple[int, int], seed: int, steps: int) -> int:
    """Walk `steps` steps on a fresh app at `size`; returns the steps taken. Raises InvariantBroken.
    An odd seed gives a letter that needs scrolling."""
    reader = world.reader
    reader.set_lost(False)
    reader.remove(Slot.HOLDER)
    reader.remove(Slot.RELATIVE)
    reader.deck[:] = demo_deck(world.people)  # PIN tries used by an earlier walk come back
    clock = ManualClock()
    config = KioskConfig(reader="simulated", idle_timeout_s=90, idle_warning_s=20, staff_pin_hash=STAFF_HASH)
    app = make_app(world.backend, reader, config, clock=clock)
    backend = world.backend
    central = CentralLink(backend.client)
    submitted: list[str] = []
    made: list[Made] = []
    real_bind, real_unbind = backend.submit_bind, backend.submit_unbind

    def taken(kind: str, submission: Submission) -> Submission:
        made.append(Made(submission.request_id, kind, central.down, submission.status))
        return submission

    def submit_bind(draft: Any) -> Any:
        submitted.append("bind")
        return taken("bind", real_bind(draft))

    def submit_unbind(draft: Any) -> Any:
        submitted.append("unbind")
        return taken("unbind", real_unbind(draft))

    backend.submit_bind = submit_bind  # type: ignore[method-assign]
    backend.submit_unbind = submit_unbind  # type: ignore[method-assign]
    if seed % 2:
        backend.letter = long_letter(backend)  # type: ignore[method-assign]
    try:
        async with app.run_test(size=size) as pilot:
            w = Walk(
                app,
                pilot,
                world,
                clock,
                random.Random(seed),
                central,
                random.Random(f"central {seed}"),
                submitted=submitted,
                made=made,
                known=pending_ids(world.store),
            )
            w.personal = personal_strings(world)
            await w.settle()
            for _ in range(steps):
                await w.step()
            return steps
    finally:
        central.close()
        del backend.submit_bind, backend.submit_unbind
        if seed % 2:
            del backend.letter
        set_language("zh-CN")


def timed_walk(world: DemoWorld, size: tuple[int, int], seed: int, steps: int) -> tuple[int, float]:
    import asyncio

    start = time.perf_counter()
    taken = asyncio.run(walk(world, size, seed, steps))
    return taken, time.perf_counter() - start
