"""What every benchmark prints about the machine it ran on (this VM is shared: load shows up here)."""

from __future__ import annotations

from pathlib import Path


def machine_load() -> str:
    """Load average and CPU pressure (PSI): other work on the machine shows up here, not in `ps`."""
    parts = []
    try:
        parts.append("loadavg " + " ".join(Path("/proc/loadavg").read_text().split()[:3]))
        cpu = Path("/proc/pressure/cpu").read_text().split("\n")[0].split()
        parts.append("CPU pressure " + " ".join(f for f in cpu if f.startswith(("avg10", "avg60"))))
    except OSError:
        pass
    return ", ".join(parts) or "unknown"
