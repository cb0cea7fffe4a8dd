"""KioskApp: wiring, lock-down, idle timer, card events → session, and which screen shows which step."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen, Screen

from devices.reader import CardError, CardEvent, CardEventKind, CardReader, Slot
from kiosk.config import KioskConfig
from kiosk.domain.errors import DomainError
from kiosk.services import Backend
from kiosk.session import Session, SessionError, Step
from kiosk.staff import check_pin
from screens import bind, menu, start
from screens.i18n import language, set_language
from screens.overlays import IdleWarning, RelativePin, StaffPin

TIDY_AFTER_S = 1.0  # after a visit ends, before the heap is tidied (the attract screen is drawn first)


@dataclass
class CardChanged(Message):
    """A card event from the reader's thread, delivered on the UI thread."""

    event: CardEvent


STEP_SCREENS: dict[Step, Callable[[], Screen[Any]]] = {
    Step.ATTRACT: start.AttractScreen,
    Step.PIN: start.PinScreen,
    Step.MENU: menu.MenuScreen,
    Step.LETTER: bind.LetterScreen,
    Step.AREA: bind.AreaScreen,
    Step.RELATION: bind.RelationScreen,
    Step.RELATIVE: bind.RelativeScreen,
    Step.RELATIVE_CONFIRM: bind.RelativeConfirmScreen,
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
    """No way out for a citizen: no inherited bindings (Ctrl+C/Q/Z/\\, Ctrl+P do nothing), no palette."""

    CSS_PATH = "styles/app.tcss"
    ENABLE_COMMAND_PALETTE = False
    ALLOW_SELECT = False
    BINDINGS: ClassVar[list[Binding]] = [Binding("f12", "staff", "Staff", show=False, id="staff")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-short"), (32, "-tall")]

    def __init__(
        self,
        backend: Backend,
        reader: CardReader,
        config: KioskConfig,
        *,
        demo_panel: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.backend = backend
        self.reader = reader
        self.config = config
        self.session = Session(backend)
        self.demo = demo_panel is not None
        self.demo_panel = demo_panel
        self.reader_lost = False
        self.queue_length = 0
        self.clock = clock
        self.last_touch = clock()

    # --- start, screens, language -------------------------------------------------------------------

    def on_mount(self) -> None:
        set_language("zh-CN")
        self.reader.subscribe(lambda event: self.post_message(CardChanged(event)))
        self.push_screen(start.AttractScreen())
        self.set_interval(1.0, self.tick)
        self.set_timer(TIDY_AFTER_S, self._tidy_heap)  # start-up's objects too

    def go(self) -> None:
        """Show the screen of the session's step: always a fresh instance (no personal data lingers)."""
        while isinstance(self.screen, ModalScreen):
            self.pop_screen()
        self.switch_screen(STEP_SCREENS[self.session.step]())

    def show_message(
        self, key: str, params: dict[str, Any] | None = None, *, back_to_menu: bool = False
    ) -> None:
        while isinstance(self.screen, ModalScreen):
            self.pop_screen()
        self.switch_screen(start.MessageScreen(key, params, back_to_menu=back_to_menu))

    def finish(self) -> None:
        """End of the visit (Finish, card out, idle): wipe, Chinese again, attract screen."""
        self.session.wipe()
        set_language("zh-CN")
        self.go()
        self.set_timer(TIDY_AFTER_S, self._tidy_heap)

    def _tidy_heap(self) -> None:
        """Between visits, with nobody waiting: one full garbage collection, then freeze what survives.
        Textual keeps ~0.5 million long-lived objects (rendered strips and their caches); a full collection
        scans them all and freezes the screen for 0.2-0.6 s. Frozen, the collector leaves them alone during
        the next visit (benchmarks/gc_pauses.py: 7 pauses of ~430 ms in 40 visits before, none after)."""
        if self.session.step is not Step.ATTRACT:
            return
        gc.unfreeze()  # what became garbage since the last freeze is collected now
        gc.collect()
        gc.freeze()

    def toggle_language(self) -> None:
        lang = "en" if language() == "zh-CN" else "zh-CN"
        set_language(lang)
        self.session.lang = lang
        self.screen.refresh(recompose=True)

    # --- blocking work off the UI thread --------------------------------------------------------------

    def act(
        self, fn: Callable[[], Any], *, stay: bool = False, then: Callable[[], Any] | None = None
    ) -> None:
        """Run a session step in a thread; then show its screen (or stay), or the error on this screen."""
        screen = self.screen
        before = self.session.step

        def done(_result: Any) -> None:
            if self.current_screen() is not screen:
                return  # the citizen left (card out, idle) while this ran
            if stay and then is not None and self.session.step is before:
                then()
            else:
                self.go()

        self.blocking(fn, done, screen)

    def blocking(
        self, fn: Callable[[], Any], done: Callable[[Any], None], screen: Screen[Any] | None = None
    ) -> None:
        screen = screen or self.screen
        generation = id(self.session.card)

        def work() -> None:
            try:
                result = fn()
            except (DomainError, CardError) as exc:
                self.call_from_thread(self._failed, exc, screen, generation)
            else:
                self.call_from_thread(done, result)

        self.run_worker(work, thread=True, exit_on_error=False, group="io")

    def current_screen(self) -> Screen[Any] | None:
        """The top screen, or None while the app is starting or shutting down (workers may still answer)."""
        return self.screen_stack[-1] if self.screen_stack else None

    def _failed(self, exc: DomainError | CardError, screen: Screen[Any], generation: int) -> None:
        if self.current_screen() is not screen or generation != id(self.session.card):
            return
        if isinstance(exc, SessionError) and exc.key == "wrong_step":
            self.go()
            return
        params = dict(getattr(exc, "params", {}) or {})
        show = getattr(screen, "show_error", None)
        if show is not None:
            show(exc.key, params)

    # --- the card -------------------------------------------------------------------------------------

    def on_card_changed(self, message: CardChanged) -> None:
        event = message.event
        if event.kind is CardEventKind.READER_LOST:
            self.reader_lost = True
            self.finish()
        elif event.kind is CardEventKind.READER_BACK:
            self.reader_lost = False
            self.finish()
        elif event.slot is Slot.HOLDER and event.kind is CardEventKind.REMOVED:
            self.finish()
        elif event.slot is Slot.HOLDER and event.kind is CardEventKind.INSERTED:
            self.touch()
            self.blocking(lambda: self.reader.read(Slot.HOLDER), self._card_read)
        elif (
            event.slot is Slot.RELATIVE
            and event.kind is CardEventKind.INSERTED
            and self.session.step is Step.VERIFY
        ):
            self.push_screen(RelativePin())

    def _card_read(self, card: Any) -> None:
        self.session.card_inserted(card)
        self.go()

    def check_pin(self, pin: str) -> None:
        def verify_and_identify() -> None:
            self.session.pin_entered(self.reader.verify_pin(pin))

        def done(_: Any) -> None:
            if self.session.step is Step.BLOCKED:
                self.show_message("pin_blocked")
            elif self.session.step is Step.INELIGIBLE:
                self.show_message(self.session.ineligible_reason or "ineligible")
            else:
                self.go()

        self.blocking(verify_and_identify, done)

    def check_relative_pin(self, pin: str, overlay: RelativePin) -> None:
        """The relative's card and PIN (second slot). A wrong PIN keeps the overlay open for another try;
        otherwise the answer belongs to the step screen under it, which keeps what was typed there (an SMS
        code) while the step is not done."""
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
                overlay.wrong_pin(int(wrong.params.get("tries_left", 0)))
                return
            if self.current_screen() is overlay:
                self.pop_screen()
            if self.session.step is Step.VERIFY and self.current_screen() is step_screen is not None:
                step_screen.refresh(recompose=True)
            else:
                self.go()

        def failed(exc: DomainError | CardError, _screen: Screen[Any], generation: int) -> None:
            if self.current_screen() is overlay:
                self.pop_screen()
            if step_screen is not None:
                self._failed(exc, step_screen, generation)

        generation = id(self.session.card)

        def work() -> None:
            try:
                result = verify()
            except (DomainError, CardError) as exc:
                self.call_from_thread(failed, exc, overlay, generation)
            else:
                self.call_from_thread(done, result)

        self.run_worker(work, thread=True, exit_on_error=False, group="io")

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
        if self.current_screen() is None:
            return
        self.blocking(self.backend.queue_length, self._status)
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

    def _status(self, queue: int) -> None:
        self.queue_length = queue
        refresh = getattr(self.current_screen(), "refresh_status", None)
        if refresh is not None:
            refresh()

    def action_staff(self) -> None:
        if not isinstance(self.screen, StaffPin):
            self.push_screen(StaffPin())

    def staff_pin_entered(self, pin: str) -> bool:
        if self.config.staff_pin_hash and check_pin(pin, self.config.staff_pin_hash):
            self.session.wipe()
            self.exit()
            return True
        return False
