"""The real PC/SC stack for tests and benchmarks: pcscd with Debian's vpcd driver, and virtual cards.

`.ci/run` starts pcscd and exports ``KIOSK_TEST_PCSCD_PIDFILE`` (a file holding its PID); a test that
restarts pcscd writes the new PID there, so `.ci/run` stops exactly the pcscd the run started. Without
that variable the session starts its own pcscd when the machine can (root, pcscd and vpcd installed).
vpcd's readers are fixed ("Virtual PCD 00 00" on TCP 35963, "... 00 01" on 35964): one pcscd per machine,
so every test using it runs in one xdist group (``pytest.mark.xdist_group("pcscd")``).

Nothing here depends on pytest.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from devices.reader import Slot
from tests.support.services import ServiceUnavailable

HOLDER_READER = "Virtual PCD 00 00"
RELATIVE_READER = "Virtual PCD 00 01"
PORTS = {Slot.HOLDER: 35963, Slot.RELATIVE: 35964}
READERS = {Slot.HOLDER: HOLDER_READER, Slot.RELATIVE: RELATIVE_READER}
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
SOCKET = Path("/run/pcscd/pcscd.comm")
PIDFILE_ENV = "KIOSK_TEST_PCSCD_PIDFILE"


def wait_for(predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise TimeoutError(f"timed out after {timeout} s waiting for {what}")


def card_in(reader: str) -> bool | None:
    """Is a card in `reader` as pcscd sees it (None: pcscd or the reader is not there)?"""
    from devices.pcsc import probe

    status = probe()
    for state in status.readers:
        if state.name == reader:
            return state.present
    return None


class Pcscd:
    """A pcscd these tests may stop and start again (`restartable`), or one that was there already."""

    def __init__(self, pidfile: Path | None, log: Path | None, *, owned: bool) -> None:
        self.pidfile, self.log, self.owned = pidfile, log, owned
        self.restarts = 0

    @property
    def restartable(self) -> bool:
        return self.pidfile is not None

    @property
    def pid(self) -> int | None:
        if self.pidfile is None:
            return None
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    @classmethod
    def acquire(cls) -> Pcscd:
        """The run's pcscd (from `.ci/run`), one already running, or a new one this process owns."""
        try:
            import smartcard  # noqa: F401 - pyscard is what the kiosk talks to pcscd with
        except ImportError as exc:
            raise ServiceUnavailable(f"pyscard is not installed ({exc}); `bash .ci/run` installs it") from exc
        if not VPCD_DRIVER.exists():
            raise ServiceUnavailable("vsmartcard-vpcd is not installed (apt); `bash .ci/run` installs it")
        env_pidfile = os.environ.get(PIDFILE_ENV, "").strip()
        if env_pidfile:
            me = cls(Path(env_pidfile), None, owned=False)
            me.wait_ready()
            return me
        if SOCKET.exists() and _pcscd_running():
            me = cls(None, None, owned=False)
            me.wait_ready()
            return me
        if shutil.which("pcscd") is None:
            raise ServiceUnavailable("pcscd is not installed (apt); `bash .ci/run` installs it")
        if os.geteuid() != 0:
            raise ServiceUnavailable(
                "pcscd must be started as root here; run the tests through `bash .ci/run`"
            )
        tmp = Path(tempfile.mkdtemp(prefix="kiosk-test-pcscd-"))
        me = cls(tmp / "pid", tmp / "pcscd.log", owned=True)
        me.start()
        return me

    def start(self) -> None:
        assert self.pidfile is not None
        Path("/run/pcscd").mkdir(parents=True, exist_ok=True)
        for stale in (SOCKET, SOCKET.with_name("pcscd.pid")):  # left by a pcscd that was killed -9
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()
        log = self.log or self.pidfile.with_name("pcscd-restarted.log")
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                ["pcscd", "--foreground"],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.pidfile.write_text(f"{proc.pid}\n")
        self._proc = proc
        self.wait_ready()

    def wait_ready(self, timeout: float = 10.0) -> None:
        try:
            wait_for(lambda: card_in(HOLDER_READER) is not None, timeout, "pcscd to list the vpcd readers")
        except TimeoutError as exc:
            raise ServiceUnavailable(f"pcscd does not list {HOLDER_READER!r}: {exc}") from exc

    def stop(self) -> None:
        pid = self.pid
        if pid is None:
            raise RuntimeError("this pcscd was not started by the tests: it cannot be stopped")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.pid == pid:
            proc.wait(timeout=10)
        else:
            wait_for(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid), 10, f"pcscd {pid} to exit")
        wait_for(lambda: not SOCKET.exists(), 5, "pcscd's socket to go")

    def restart(self, pause_s: float = 0.0) -> None:
        self.stop()
        if pause_s:
            time.sleep(pause_s)
        self.start()
        self.restarts += 1

    def close(self) -> None:
        if self.owned and self.pid is not None:
            with contextlib.suppress(Exception):
                self.stop()
            assert self.pidfile is not None
            shutil.rmtree(self.pidfile.parent, ignore_errors=True)


def _pcscd_running() -> bool:
    try:
        out = subprocess.run(["pgrep", "-x", "pcscd"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return True
    return out.returncode == 0


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except (OSError, IndexError):
        return True
