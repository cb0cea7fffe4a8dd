"""KioskApp: wiring, lock-down, idle timer, card events → session, and which screen shows which step."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import var
from textual.screen import ModalScreen, Screen

from devices.reader import CardData, CardError, CardEvent, CardEventKind, CardReader, Slot
from devices.simulated import SimulatedReader
from kiosk.config import KioskConfig
from kiosk.domain.errors import DomainError
from kiosk.services import Backend
from kiosk.session import Session, SessionError, Step
from kiosk.staff import PinThrottle, check_pin
from screens import bind, menu, start
from screens.base import KioskScreen
from screens.events import FinishVisit, RunStep, ShowStep, ToggleLanguage
from screens.i18n import DEFAULT_LANGUAGE, follow, following
from screens.overlays import IdleWarning, RelativePin, StaffPin
from screens.widgets.demo import DemoPanel

log = logging.getLogger(__name__)

TIDY_AFTER_S = 1.0  # after a visit ends, before the heap is tidied (the attract screen is drawn first)

NOTICE_S = 30.0
"""How long the attract screen keeps a word about the visit that just ended (the card was pulled)."""

UNCONFIRMED_STEPS = frozenset(
    {
        Step.PIN,
        Step.LETTER,
        Step.AREA,
        Step.RELATION,
        Step.RELATIVE,
        Step.VERIFY,
        Step.CONFIRM,
        Step.UNBIND_CONFIRM,
    }
)
"""Steps where the citizen is on the way to a request not yet confirmed: a card pulled there loses it."""

OUT_OF_SERVICE_S = 15.0
"""After a crash: how long the notice stays up before the process exits (its supervisor restarts it)."""

Failure = DomainError | CardError


@dataclass
class CardChanged(Message):
    """A card event from the reader's thread, delivered on the UI thread."""

    event: CardEvent


@dataclass(frozen=True)
class Job:
    """A blocking call and what the UI does with its outcome."""

    call: Callable[[], Any]
    done: Callable[[Any], None]
    failed: Callable[[Failure], None]
    visit: int | None
    """The visit it belongs to; its outcome is dropped once that visit ended. None: it belongs to none."""


@dataclass
class Answered(Message):
    """A job's outcome, posted by the worker thread."""

    job: Job
    result: Any = None
    error: Failure | None = None
    crash: Exception | None = None
    """Anything else the call raised: a fault, raised again on the UI thread (see `_handle_exception`)."""


STEP_SCREENS: dict[Step, Callable[[], Screen[Any]]] = {
    Step.ATTRACT: start.AttractScreen,
    Step.PIN: start.PinScreen,
    Step.MENU: menu.MenuScreen,
    Step.LETTER: bind.LetterScreen,
    Step.AREA: bind.AreaScreen,
    Step.RELATION: bind.RelationScreen,
    Step.RELATIVE: bind.RelativeScreen,
    Step.VERIFY: bind.VerifyScreen,
    Step.CONFIRM: bind.ConfirmScreen,
    Step.RECEIPT: bind.ReceiptScreen,
    Step.BINDINGS: menu.BindingsScreen,
    Step.UNBIND_CONFIRM: menu.UnbindConfirmScreen,
    Step.UNBIND_RECEIPT: bind.ReceiptScreen,
    Step.USAGE: menu.UsageScreen,
    Step.GUIDES: menu.GuidesScreen,
}


class KioskApp(App[None], inherit_bindings=False):
    """No way out for a citizen: no inherited bindings (Ctrl+C/Q/Z/\\, Ctrl+P do nothing), no palette.

    Build it with `make_app`."""

    CSS_PATH = "styles/app.tcss"
    ENABLE_COMMAND_PALETTE = False
    AUTO_FOCUS = None  # nothing is highlighted until Tab or an arrow asks for it (a digit entry takes focus)
    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[BindingType]] = [Binding("f12", "staff", "Staff", show=False, id="staff")]
    # Textual declares this one as an instance variable, so it cannot be a ClassVar here
    VERTICAL_BREAKPOINTS: list[tuple[int, str]] | None = [(0, "-short"), (32, "-tall")]  # noqa: RUF012

    queue_length: var[int] = var(0)
    """Requests stored on this terminal that central has not answered yet (the status line shows them)."""
    online: var[bool | None] = var(None)
    """The sync worker's last word on the link to central; None until it has tried."""
    reader_lost: var[bool] = var(False)
    """The card reader is gone: the attract screen says so instead of inviting a card."""
    card_in: var[bool] = var(False)
    """A card is in the holder's slot (from the reader's events): after a visit the attract screen asks for
    it to be taken, and does not invite one."""
    reading: var[bool] = var(False)
    """The card just inserted is being read: the attract screen says so at once."""
    notice: var[tuple[str, float] | None] = var(None)
    """A word for the attract screen about how the last visit ended (a reason key) and when (on `clock`)."""
    language: var[str] = var(DEFAULT_LANGUAGE)
    """The citizen's language: the screens' text (screens.i18n follows this), the session's letter and
    relation names. Every visit starts in Chinese."""

    def __init__(
        self,
        backend: Backend,
        reader: CardReader,
        config: KioskConfig,
        *,
        demo_panel: Callable[[], DemoPanel] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.reader = reader
        self.config = config
        self.session = Session(backend, clock)
        self.demo = demo_panel is not None
        self.demo_panel = demo_panel
        self.clock = clock
        self.last_touch = clock()
        self.visit = 0
        """Counts visits (a card read, an end): what a worker answers for an earlier visit is dropped."""
        self.in_flight: dict[int, int] = {}
        """Blocking calls still running, per visit (a card pulled while one saves is told so)."""
        self.online = backend.online
        self.crashed_at: float | None = None
        """When a fault escaped (`_handle_exception`): the kiosk is out of service and exits soon."""
        self.staff_throttle = PinThrottle(clock)
        """Wrong staff PINs and the lock-out they earn, for as long as this process runs."""

    # --- start, screens, language -------------------------------------------------------------------

    def on_mount(self) -> None:
        follow(self)  # the screens' gettext lookups now follow `language`
        self.reader.subscribe(self._card_event)
        self.push_screen(start.AttractScreen())
        self.set_interval(1.0, self.tick)
        self.set_timer(TIDY_AFTER_S, self._tidy_heap)  # start-up's objects too

    def _card_event(self, event: CardEvent) -> None:
        """Called on the reader's thread: only a message crosses to the UI."""
        self.post_message(CardChanged(event))

    def on_unmount(self) -> None:
        if following(self):
            follow(None)

    def watch_language(self, language: str) -> None:
        self.session.lang = language

    def go(self) -> None:
        """Show the screen of the session's step: always a fresh instance (no personal data lingers)."""
        step = self.session.step
        if step is Step.BLOCKED:
            self.show_message("pin_blocked")
        elif step is Step.INELIGIBLE:
            self.show_message(
                self.session.ineligible_reason or "ineligible", offer_shared=self.session.can_unbind_only
            )
        else:
            self._show(STEP_SCREENS[step]())

    def show_message(
        self,
        key: str,
        params: dict[str, Any] | None = None,
        *,
        offer_menu: bool = False,
        offer_shared: bool = False,
    ) -> None:
        self._show(start.MessageScreen(key, params, offer_menu=offer_menu, offer_shared=offer_shared))

    def _show(self, screen: Screen[Any]) -> None:
        while isinstance(self.screen, ModalScreen):
            self.pop_screen()
        self.switch_screen(screen)

    def finish(self) -> None:
        """End of the visit (Finish, card out, idle): wipe, attract screen, Chinese again."""
        self._new_visit()
        self.go()
        self.language = DEFAULT_LANGUAGE  # after the switch: the screen being replaced is not redrawn
        self.set_timer(TIDY_AFTER_S, self._tidy_heap)

    def _new_visit(self) -> None:
        self.visit += 1
        self.session.wipe()

    def _tidy_heap(self) -> None:
        """Between visits, with nobody waiting: one full garbage collection, then freeze what survives.
        Textual keeps ~0.5 million long-lived objects (rendered strips and their caches); a full collection
        scans them all and freezes the screen for 0.2-0.6 s. Frozen, the collector leaves them alone during
        the next visit (benchmarks/gc_pauses.py: 7 pauses of ~430 ms in 40 visits before, none after)."""
        if self.session.step is not Step.ATTRACT or self.reading:
            return  # someone is already there: their card comes first
        gc.unfreeze()  # what became garbage since the last freeze is collected now
        gc.collect()
        gc.freeze()

    def current_screen(self) -> Screen[Any] | None:
        """The top screen, or None while the app is starting or shutting down (workers may still answer)."""
        return self.screen_stack[-1] if self.screen_stack else None

    # --- what the screens ask -----------------------------------------------------------------------------

    @on(RunStep)
    def _run_step(self, request: RunStep) -> None:
        screen = request.screen
        if self.current_screen() is not screen:
            return  # the citizen left that screen before the request was handled
        before = self.session.step

        def done(_result: object) -> None:
            if self.current_screen() is not screen:
                return  # the citizen left (overlay, card out) while this ran
            if request.stay and self.session.step is before:
                screen.refresh(recompose=True)
            else:
                self.go()

        self.blocking(request.step, done)

    @on(ShowStep)
    def _show_step(self, request: ShowStep) -> None:
        request.change()
        self.go()

    @on(FinishVisit)
    def _finish_visit(self) -> None:
        self.finish()

    @on(ToggleLanguage)
    def _toggle_language(self) -> None:
        self.language = "en" if self.language == "zh-CN" else "zh-CN"

    @on(start.PinScreen.Entered)
    def _card_pin(self, entered: start.PinScreen.Entered) -> None:
        pin = entered.pin

        def verify_and_identify() -> None:
            self.session.pin_entered(self.reader.verify_pin(pin))

        self.blocking(verify_and_identify, lambda _: self.go())

    @on(RelativePin.Entered)
    def _relative_pin(self, entered: RelativePin.Entered) -> None:
        """The relative's card and PIN (second slot). A wrong PIN keeps the overlay open for another try;
        otherwise the answer belongs to the step screen under it, which keeps what was typed there (an SMS
        code) while the step is not done."""
        overlay, pin = entered.overlay, entered.pin
        step_screen = next((s for s in reversed(self.screen_stack) if not isinstance(s, ModalScreen)), None)

        def verify() -> SessionError | None:
            result = self.reader.verify_pin(pin, Slot.RELATIVE)
            card = self.reader.read(Slot.RELATIVE)
            try:
                self.session.relative_card_checked(card, result)
            except SessionError as exc:
                if exc.key == "pin_wrong":
                    return exc
                raise
            return None

        def done(wrong: SessionError | None) -> None:
            if wrong is not None and self.current_screen() is overlay:
                overlay.wrong_pin(int(str(wrong.params.get("tries_left", 0))))
                return
            if self.current_screen() is overlay:
                self.pop_screen()
            if self.session.step is Step.VERIFY and self.current_screen() is step_screen is not None:
                step_screen.refresh(recompose=True)
            else:
                self.go()

        def failed(exc: Failure) -> None:
            if self.current_screen() is overlay:
                self.pop_screen()
            if step_screen is not None:
                self._refused(step_screen, exc)

        self.blocking(verify, done, failed=failed)

    @on(StaffPin.Entered)
    def _staff_pin(self, entered: StaffPin.Entered) -> None:
        overlay, pin, pin_hash = entered.overlay, entered.pin, self.config.staff_pin_hash
        throttle = self.staff_throttle
        if not throttle.take_try():
            overlay.locked_out(throttle.seconds_left())  # locked out: the PIN is not even checked
            return

        def done(right: bool) -> None:
            if right:
                throttle.right()
                self.session.wipe()
                self.exit()
            elif self.current_screen() is overlay:
                if throttle.seconds_left():
                    overlay.locked_out(throttle.seconds_left())
                else:
                    overlay.wrong_pin()

        # PBKDF2 takes a noticeable time: not on the UI thread. No visit's: staff may leave at any time.
        self.blocking(lambda: bool(pin_hash) and check_pin(pin, pin_hash), done, any_visit=True)

    # --- blocking work off the UI thread --------------------------------------------------------------

    def blocking(
        self,
        call: Callable[[], Any],
        done: Callable[[Any], None],
        *,
        failed: Callable[[Failure], None] | None = None,
        any_visit: bool = False,
    ) -> None:
        """Run `call` in the worker; then `done(result)` on the UI thread, or on a DomainError or CardError
        `failed(error)` (by default: shown on the screen that is up now, if it still is). Both are skipped
        once the visit has ended, unless `any_visit` (the status poll, the staff PIN)."""
        if failed is None:
            screen = self.current_screen()
            failed = (lambda exc: self._refused(screen, exc)) if screen is not None else _ignore
        job = Job(call, done, failed, None if any_visit else self.visit)
        if job.visit is not None:
            self.in_flight[job.visit] = self.in_flight.get(job.visit, 0) + 1
        self._work(job)

    @work(thread=True, exit_on_error=False, group="io")
    def _work(self, job: Job) -> None:
        """The one place blocking calls run; the outcome goes back as a message (threads never touch the
        screens)."""
        try:
            result = job.call()
        except (DomainError, CardError) as exc:
            self.post_message(Answered(job, error=exc))
        except Exception as exc:  # a fault: it goes on to _handle_exception (not swallowed)
            self.post_message(Answered(job, crash=exc))
        else:
            self.post_message(Answered(job, result=result))

    @on(Answered)
    def _answered(self, answer: Answered) -> None:
        job = answer.job
        if job.visit is not None:
            left = self.in_flight.pop(job.visit, 1) - 1
            if left > 0:
                self.in_flight[job.visit] = left
        if answer.crash is not None:
            raise answer.crash  # whichever visit it was for: the kiosk is in a state nobody tested
        if job.visit is not None and job.visit != self.visit:
            return  # a late answer from an earlier visit: that citizen has gone
        if answer.error is not None:
            job.failed(answer.error)
        else:
            job.done(answer.result)

    def _refused(self, screen: Screen[Any], exc: Failure) -> None:
        if self.current_screen() is not screen:
            return
        if isinstance(exc, SessionError) and exc.key == "wrong_step":
            self.go()
        elif isinstance(screen, KioskScreen):
            screen.show_error(exc.key, dict(getattr(exc, "params", {}) or {}))

    # --- the card -------------------------------------------------------------------------------------

    @on(CardChanged)
    def _card_changed(self, message: CardChanged) -> None:
        event = message.event
        if event.kind is CardEventKind.READER_LOST:
            self.reader_lost = True
            self.finish()
        elif event.kind is CardEventKind.READER_BACK:
            self.reader_lost = False
            self.finish()
        elif event.slot is Slot.HOLDER and event.kind is CardEventKind.REMOVED:
            self.card_in = self.reading = False
            self.notice = self._pulled_notice()
            self.finish()
        elif event.slot is Slot.HOLDER and event.kind is CardEventKind.INSERTED:
            self.touch()
            self.card_in, self.notice = True, None
            if self.session.step is not Step.ATTRACT:
                self.finish()  # a new card (the old one's removal was missed): its visit starts afresh
            self.reading = True  # the attract screen says "reading your card" in the next frame
            self.blocking(self._read_holder_card, self._card_read, failed=self._card_unread)
        elif (
            event.slot is Slot.RELATIVE
            and event.kind is CardEventKind.INSERTED
            and self.session.step is Step.VERIFY
        ):
            self.push_screen(RelativePin())

    def _read_holder_card(self) -> tuple[CardData, int | None]:
        """In the worker: the card's data, and its PIN tries as the card tells them without using one."""
        card = self.reader.read(Slot.HOLDER)
        return card, self.reader.pin_tries(Slot.HOLDER)

    def _card_read(self, read: tuple[CardData, int | None]) -> None:
        self.reading = False
        self.visit += 1  # a card starts a visit (card_inserted wipes the session, keeping the language)
        self.session.card_inserted(*read)
        self.go()

    def _card_unread(self, exc: Failure) -> None:
        self.reading = False
        self.notice = (exc.key, self.clock())

    def _pulled_notice(self) -> tuple[str, float] | None:
        """What the attract screen says after the card was pulled in the middle of something."""
        step, now = self.session.step, self.clock()
        if step in (Step.CONFIRM, Step.UNBIND_CONFIRM) and self.in_flight.get(self.visit):
            return ("card_pulled_while_saving", now)  # the commit may well have gone through
        if step not in UNCONFIRMED_STEPS:
            return None  # a menu, a list, a receipt: nothing was under way
        return ("card_pulled_partly_saved" if self.session.receipts else "card_pulled_nothing_sent", now)

    # --- idle, status, staff --------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.touch()
        await super().on_event(event)

    def touch(self) -> None:
        self.last_touch = self.clock()
        if isinstance(self.current_screen(), IdleWarning):
            self.pop_screen()

    def tick(self) -> None:
        if self.crashed_at is not None:
            if self.clock() - self.crashed_at >= OUT_OF_SERVICE_S:
                self.exit(return_code=1)
            return
        if self.current_screen() is None:
            return
        if self.notice is not None and self.clock() - self.notice[1] >= NOTICE_S:
            self.notice = None
        self.blocking(self.backend.queue_length, self._status, any_visit=True)
        if isinstance(self.screen, StaffPin):
            self.screen.locked_out(self.staff_throttle.seconds_left())  # the lock-out's countdown
        if self.session.step is Step.ATTRACT:
            return
        idle = self.clock() - self.last_touch
        left = self.config.idle_timeout_s - idle
        if left <= 0:
            self.finish()
        elif left <= self.config.idle_warning_s:
            if isinstance(self.screen, IdleWarning):
                self.screen.show(int(left + 0.999))
            elif not isinstance(self.screen, ModalScreen):
                self.push_screen(IdleWarning(int(left + 0.999)))

    def _status(self, queue_length: int) -> None:
        """The status poll's answer; the link state is the sync worker's flag, read with it."""
        self.queue_length = queue_length
        self.online = self.backend.online

    def action_staff(self) -> None:
        """F12, at any time: during a visit too. The overlay is opaque, so the visit's personal data does not
        show behind it, and the visit stays as it was: Cancel or a wrong PIN gives it back unchanged (a
        citizen's visit is not ended by someone pressing F12); the idle timer goes on under it."""
        if not isinstance(self.screen, StaffPin):
            self.push_screen(StaffPin(self.staff_throttle.seconds_left()))

    # --- faults ------------------------------------------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Anything that escaped a handler, a timer or the worker. Textual would print the traceback over
        the screen and exit with status 1 at once; the kiosk logs it (masked), wipes the visit, tells the
        citizen to ask the staff, and exits non-zero after OUT_OF_SERVICE_S (tick) so its supervisor starts
        a fresh process. Pilot still sees the error (`_exception`), so a test that meets one fails."""
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        log.error("out of service: unexpected error", exc_info=error)
        self.session.wipe()
        self.visit += 1  # what the worker still answers for that visit is dropped
        if self.crashed_at is not None:  # a fault while going out of service: leave now
            self.exit(return_code=1)
            return
        self.crashed_at = self.clock()
        try:
            self._show(start.OutOfServiceScreen())
        except Exception:  # the screens themselves may be what is broken
            log.exception("out of service: the notice could not be shown")
            self.exit(return_code=1)


def _ignore(_exc: Failure) -> None:
    """No screen was up to be told (the app was starting or ending)."""


def make_app(
    backend: Backend,
    reader: CardReader,
    config: KioskConfig,
    *,
    demo_sms: Callable[[], str] | None = None,
    clock: Callable[[], float] = time.monotonic,
    app_class: type[KioskApp] = KioskApp,
) -> KioskApp:
    """The kiosk app, as `kiosk`, `kiosk --demo`, the tests and the benchmarks run it.

    `demo_sms` (the demo's latest SMS) adds the DEMO panel: with buttons that put the simulated reader's
    cards in, or with the SMS only when the cards come through PC/SC. `app_class` is for a subclass that
    measures (benchmarks)."""
    deck = reader if isinstance(reader, SimulatedReader) else None
    panel = None if demo_sms is None else partial(DemoPanel, deck, demo_sms)
    return app_class(backend, reader, config, demo_panel=panel, clock=clock)
