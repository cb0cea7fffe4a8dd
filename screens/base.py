"""The frame every kiosk screen shares: title, step indicator, body, error line, status line, language."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Static

from screens.i18n import _, language
from screens.messages import reason_text
from screens.widgets.status import StatusLine, StepIndicator

if TYPE_CHECKING:
    from kiosk.session import Session
    from screens.app import KioskApp


class BigButton(Button, can_focus=False):
    """Touch-first: large, no focus ring to chase, no press-animation delay."""

    def __init__(
        self, label: str, *, id: str | None = None, variant: Any = "default", classes: str = ""
    ) -> None:
        super().__init__(label, id=id, variant=variant, classes=f"big {classes}".strip())
        self.active_effect_duration = 0


class KioskScreen(Screen[None]):
    """Subclasses give `heading` (an English msgid) and `body()`; `step` places the bind flow's indicator."""

    heading: ClassVar[str] = ""
    step: ClassVar[tuple[int, str] | None] = None  # (number, msgid of the label) in the bind flow
    STEPS_TOTAL: ClassVar[int] = 7
    AUTO_FOCUS = None

    @property
    def kiosk(self) -> KioskApp:
        from screens.app import KioskApp

        assert isinstance(self.app, KioskApp)  # noqa: S101
        return self.app

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
                yield StatusLine(id="status")
                yield from self.footer_buttons()
                yield BigButton("English" if language() == "zh-CN" else "中文", id="lang", classes="small")
        if self.kiosk.demo_panel is not None:
            yield self.kiosk.demo_panel()

    def body(self) -> ComposeResult:
        yield from ()

    def footer_buttons(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        # query, not query_one: the status tick may land after a switch, before this screen has composed
        # (on_mount refreshes it then)
        for line in self.query(StatusLine):
            line.show(self.kiosk.backend.online, self.kiosk.queue_length, self.kiosk.demo)

    def show_error(self, key: str, params: dict[str, Any] | None = None, *, retry: bool = True) -> None:
        found = self.query("#error")
        if found:
            found.first(Static).update(reason_text(key, params))
        elif retry:  # not composed yet: show it once it is
            self.call_after_refresh(self.show_error, key, params, retry=False)

    def clear_error(self) -> None:
        self.query_one("#error", Static).update("")

    def back_to_menu(self) -> None:
        self.session.back_to_menu()
        self.kiosk.go()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "lang":
            event.stop()
            self.kiosk.toggle_language()
