"""The DEMO panel: insert or remove demo cards, and read the SMS the embedded central 'sends'."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from devices.reader import Slot
from devices.simulated import SimulatedReader
from screens.i18n import _


class DemoButton(Button, can_focus=False):
    pass


class DemoPanel(Horizontal):
    """Clearly labelled DEMO: card N goes into the holder's slot; the relative's card into the second slot.
    Without a simulated reader (`kiosk --demo --pcsc`, cards from `kiosk virtual-card`) it shows the SMS only.
    """

    def __init__(self, reader: SimulatedReader | None, latest_sms: Callable[[], str]) -> None:
        super().__init__(id="demo-panel")
        self.reader = reader
        self.latest_sms = latest_sms

    def compose(self) -> ComposeResult:
        if self.reader is None:
            yield Static(_("DEMO: cards come through the PC/SC reader."), classes="demo-label")
            yield Static(self.latest_sms(), id="demo-sms")
            return
        yield Static(_("DEMO cards:"), classes="demo-label")
        for i, _card in enumerate(self.reader.deck):
            button = DemoButton(str(i + 1), id=f"demo-card-{i}", classes="demo")
            button.tooltip = _card.label
            yield button
        yield DemoButton(_("Remove"), id="demo-remove", classes="demo")
        yield DemoButton(_("Relative's card"), id="demo-relative", classes="demo")
        yield Static(self.latest_sms(), id="demo-sms")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._refresh_sms)

    def _refresh_sms(self) -> None:
        self.query_one("#demo-sms", Static).update(self.latest_sms())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button_id = event.button.id or ""
        if not button_id.startswith("demo-") or self.reader is None:
            return
        event.stop()
        if button_id.startswith("demo-card-"):
            self.reader.insert(int(button_id.removeprefix("demo-card-")))
        elif button_id == "demo-remove":
            self.reader.remove()
        elif button_id == "demo-relative":
            father = next((c for c in self.reader.deck if "father" in c.label), self.reader.deck[-1])
            self.reader.insert(father, Slot.RELATIVE)
