"""The status line (online/offline, queue length, DEMO) and the step indicator."""

from __future__ import annotations

from textual.widgets import Static

from screens.i18n import _


class StatusLine(Static):
    """Follows the app's `online` and `queue_length` reactives from the moment it is mounted: a fresh screen
    shows the current state at once, and a poll's answer reaches whichever screen is up."""

    def __init__(self, *, demo: bool, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.demo = demo
        self._online: bool | None = None
        self._queue_length = 0

    def on_mount(self) -> None:
        self.watch(self.app, "online", self._online_changed)
        self.watch(self.app, "queue_length", self._queue_length_changed)

    def _online_changed(self, online: bool | None) -> None:
        self._online = online
        self._draw()

    def _queue_length_changed(self, queue_length: int) -> None:
        self._queue_length = queue_length
        self._draw()

    def _draw(self) -> None:
        online = self._online
        link = {True: _("Online"), False: _("Offline"), None: _("Connecting")}[online]
        parts = [f"● {link}" if online else f"○ {link}"]
        if self._queue_length:  # only worth a citizen's attention when something is waiting
            parts.append(_("Waiting to send: {n}").format(n=self._queue_length))
        if self.demo:
            parts.insert(0, _("DEMO"))
        self.update("   ".join(parts))
        self.set_class(online is False, "offline")


class StepIndicator(Static):
    """'Step 3 of 7: relationship' — the bind flow's place, so nobody feels lost."""

    def __init__(self, number: int, total: int, label: str) -> None:
        super().__init__(
            _("Step {n} of {total}: {label}").format(n=number, total=total, label=label), classes="steps"
        )
