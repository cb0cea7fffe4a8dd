"""The status line (online/offline, queue length, DEMO) and the step indicator."""

from __future__ import annotations

from textual.widgets import Static

from screens.i18n import _


class StatusLine(Static):
    def show(self, online: bool | None, queue: int, demo: bool) -> None:
        link = {True: _("Online"), False: _("Offline"), None: _("Connecting")}[online]
        parts = [f"● {link}" if online else f"○ {link}"]
        if queue:  # only worth a citizen's attention when something is waiting
            parts.append(_("Waiting to send: {n}").format(n=queue))
        if demo:
            parts.insert(0, _("DEMO"))
        self.update("   ".join(parts))
        self.set_class(online is False, "offline")


class StepIndicator(Static):
    """'Step 3 of 7: relationship' — the bind flow's place, so nobody feels lost."""

    def __init__(self, number: int, total: int, label: str) -> None:
        super().__init__(
            _("Step {n} of {total}: {label}").format(n=number, total=total, label=label), classes="steps"
        )
