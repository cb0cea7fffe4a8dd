"""The frame every kiosk screen shares: title, step indicator, body, error line, status line, language."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Static

from screens.events import FinishVisit, RunStep, ShowStep, ToggleLanguage
from screens.i18n import _, language
from screens.messages import reason_text
from screens.widgets.digits import DigitEntry
from screens.widgets.status import StatusLine, StepIndicator

if TYPE_CHECKING:
    from collections.abc import Callable

    from kiosk.session import Session
    from screens.app import KioskApp  # for the type checker only: screens.app imports the screens


class BigButton(Button):
    """Touch-first: large, no press-animation delay. Tab and the arrow keys reach it and Enter presses it
    (a hardware keypad, an assisted setup), but a tap does not leave it focused: the focus stays with the
    screen's digit entry, so the keyboard's digits still go there."""

    FOCUS_ON_CLICK = False

    def __init__(
        self, label: str, *, id: str | None = None, variant: Any = "default", classes: str = ""
    ) -> None:
        super().__init__(label, id=id, variant=variant, classes=f"big {classes}".strip())
        self.active_effect_duration = 0


class LanguageButton(BigButton):
    """Names the other language in that language; follows the app's `language` reactive."""

    def __init__(self) -> None:
        super().__init__(self._label(language()), id="lang", classes="small")

    @staticmethod
    def _label(lang: str) -> str:
        return "English" if lang == "zh-CN" else "中文"

    def on_mount(self) -> None:
        self.watch(self.app, "language", self._language_changed, init=False)

    def _language_changed(self, lang: str) -> None:
        self.label = self._label(lang)


class KioskScreen(Screen[None]):
    """Subclasses give `heading` (an English msgid) and `body()`; `step` places the bind flow's indicator.

    A screen reads the session and posts `screens.events` messages; the app does the rest."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,right", "app.focus_next", show=False),
        Binding("up,left", "app.focus_previous", show=False),
    ]

    heading: ClassVar[str] = ""
    step: ClassVar[tuple[int, str] | None] = None  # (number, msgid of the label) in the bind flow
    STEPS_TOTAL: ClassVar[int] = 5
    AUTO_FOCUS: ClassVar[str | None] = None  # a screen may name what has the focus when it opens

    @property
    def kiosk(self) -> KioskApp:
        """The running app, typed (only a KioskApp shows these screens)."""
        return cast("KioskApp", self.app)

    @property
    def session(self) -> Session:
        return self.kiosk.session

    def compose(self) -> ComposeResult:
        with Vertical(id="frame"):
            with Horizontal(id="header"):
                yield Static(_(self.heading), id="title")
                if self.step is not None:
                    yield StepIndicator(self.step[0], self.STEPS_TOTAL, _(self.step[1]))
            with Vertical(id="body"):
                yield from self.body()
            yield Static("", id="error")
            with Horizontal(id="footer"):
                yield StatusLine(demo=self.kiosk.demo, id="status")
                yield from self.footer_buttons()
                yield LanguageButton()
        if self.kiosk.demo_panel is not None:
            yield self.kiosk.demo_panel()

    def body(self) -> ComposeResult:
        yield from ()

    def footer_buttons(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        # every word on the screen is in the language, so a switch redraws the whole screen
        self.watch(self.app, "language", self._language_changed, init=False)

    def _language_changed(self) -> None:
        if self.is_current:
            self.refresh(recompose=True)

    async def recompose(self) -> None:
        """Redraw from the session, keeping what was typed (a language switch, the relative's card accepted
        while half an SMS code is typed)."""
        if self not in self.app.screen_stack:
            return  # being replaced: the session may already have moved on (or been wiped)
        typed = {entry.id: entry.value for entry in self.query(DigitEntry)}
        await super().recompose()
        for entry in self.query(DigitEntry):
            if typed.get(entry.id):
                entry.value = typed[entry.id]
        self.composed()

    def composed(self) -> None:
        """After the screen's widgets are mounted, and again after every redraw: what a screen shows from
        the session beyond its widgets (a warning on the error line)."""

    # --- what the screen asks of the app ------------------------------------------------------------------

    def run_step(self, step: Callable[[], object], *, stay: bool = False) -> None:
        self.post_message(RunStep(self, step, stay))

    def show_step(self, change: Callable[[], object]) -> None:
        self.post_message(ShowStep(change))

    def back_to_menu(self) -> None:
        self.show_step(self.session.back_to_menu)

    def finish(self) -> None:
        self.post_message(FinishVisit())

    @on(Button.Pressed, "#lang")
    def _toggle_language(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(ToggleLanguage())

    # --- the error line and the digit entry ---------------------------------------------------------------

    def show_error(self, key: str, params: dict[str, Any] | None = None, *, retry: bool = True) -> None:
        self.show_error_text(reason_text(key, params), retry=retry)

    def show_error_text(self, text: str, *, retry: bool = True) -> None:
        found = self.query("#error")
        if found:
            found.first(Static).update(text)
        elif retry:  # not composed yet: show it once it is
            self.call_after_refresh(self.show_error_text, text, retry=False)

    def clear_error(self) -> None:
        self.query_one("#error", Static).update("")

    def on_key(self, event: events.Key) -> None:
        """A digit typed while a button has the focus still goes into the screen's digit entry."""
        entries = self.query(DigitEntry)
        if (
            entries
            and not entries.first().has_focus
            and event.character
            and event.character in "0123456789xX"
        ):
            entries.first().focus()
            entries.first().press(event.character.upper())
            event.stop()

    def type_key(self, key: str) -> None:
        """Type into the screen's digit entry as a keypad tap would ("0".."9", "X", "back", "clear")."""
        self.query_one(DigitEntry).press(key)
