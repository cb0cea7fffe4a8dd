"""Real services for tests and benchmarks: a throw-away PostgreSQL server, fresh databases, and the
central service running as a subprocess.

Nothing here depends on pytest, so benchmarks and ad-hoc scripts can use it too. Problems that mean
"this machine cannot provide the service" raise `ServiceUnavailable`; the pytest fixtures turn that into
a skip (or a failure when ``KIOSK_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

REPO_ROOT = Path(__file__).resolve().parents[2]

PG_USER = "postgres"
# Unix socket paths are limited to 107 bytes; keep the server's temp dir short.
_MAX_SOCKET_DIR = 80


class ServiceUnavailable(RuntimeError):
    """The machine cannot provide the service (binaries missing, wrong user, ...)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"<no log: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------------------------------
# PostgreSQL server
# --------------------------------------------------------------------------------------------------


def find_pg_bin() -> Path:
    """The newest ``/usr/lib/postgresql/*/bin`` holding initdb and pg_ctl, else the ones on PATH."""

    def version(p: str) -> tuple[int, ...]:
        v = Path(p).parent.parent.name
        return tuple(int(x) for x in v.split(".") if x.isdigit())

    for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True):
        bindir = Path(initdb).parent
        if (bindir / "pg_ctl").exists():
            return bindir
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    raise ServiceUnavailable(
        "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb); "
        "install them with `apt-get install -y postgresql`"
    )


def _traversable_by(path: Path, uid: int, gid: int) -> bool:
    """Whether user uid (primary group gid) can reach ``path`` (x on every ancestor)."""
    for p in [path, *path.parents]:
        try:
            st = p.stat()
        except OSError:
            return False
        if st.st_uid == uid:
            ok = st.st_mode & 0o100
        elif st.st_gid == gid:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            return False
    return True


class Postgres:
    """A private PostgreSQL server in a temp dir, on a free port, listening on 127.0.0.1 only.

    As root the server runs as the ``postgres`` user (it refuses to run as root) through
    ``runuser -u postgres --``; as any other user it runs as that user. ``stop()`` is idempotent and is
    also registered with ``atexit`` in case the caller forgets.
    """

    def __init__(self, base_dir: str | os.PathLike[str] | None = None, *, start_timeout: int = 60) -> None:
        self.bindir = find_pg_bin()
        self.start_timeout = start_timeout
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam(PG_USER)
            except KeyError as exc:
                raise ServiceUnavailable(f"running as root but there is no {PG_USER!r} user") from exc
            if shutil.which("runuser") is None:
                raise ServiceUnavailable("running as root but `runuser` is missing")
            self._prefix: list[str] = ["runuser", "-u", PG_USER, "--"]
            self._uid, self._gid = pw.pw_uid, pw.pw_gid
        else:
            self._prefix = []
            self._uid, self._gid = os.geteuid(), os.getegid()
        self._base_dir = self._choose_base(base_dir)
        self.dir: Path | None = None
        self.port: int | None = None
        self.url: str | None = None
        self.start_seconds: float | None = None

    def _choose_base(self, base_dir: str | os.PathLike[str] | None) -> Path:
        # pytest's tmp dirs are 0700 and owned by root: the postgres user cannot enter them. Fall back
        # to the system temp dir (then /tmp) when the given dir is unusable or too long for a socket.
        candidates = [Path(base_dir)] if base_dir is not None else []
        candidates += [Path(tempfile.gettempdir()), Path("/tmp")]
        for c in candidates:
            c = c.resolve()
            if c.is_dir() and len(str(c)) < _MAX_SOCKET_DIR - 20 and _traversable_by(c, self._uid, self._gid):
                return c
        raise ServiceUnavailable(f"no temp dir reachable by uid {self._uid} among {candidates}")

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        # stdin/stdout/stderr must not be pipes the server could inherit: pg_ctl gets `-l logfile`.
        return subprocess.run(
            [*self._prefix, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=self.start_timeout + 30,
        )

    @property
    def data_dir(self) -> Path:
        assert self.dir is not None, "server not started"
        return self.dir / "data"

    @property
    def log_file(self) -> Path:
        assert self.dir is not None, "server not started"
        return self.dir / "server.log"

    def start(self) -> str:
        """initdb + pg_ctl start; returns the SQLAlchemy URL of the ``postgres`` database."""
        if self.url is not None:
            return self.url
        t0 = time.monotonic()
        self.dir = Path(tempfile.mkdtemp(prefix="kiosk-pg-", dir=self._base_dir))
        atexit.register(self.stop)
        try:
            os.chown(self.dir, self._uid, self._gid)
            initdb = self._run(
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-A",
                "trust",
                "-U",
                PG_USER,
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
            if initdb.returncode != 0:
                raise ServiceUnavailable(
                    f"initdb failed ({initdb.returncode}):\n{initdb.stdout}{initdb.stderr}"
                )
            last_error = ""
            for _attempt in range(5):  # the free port may be taken between free_port() and the bind
                port = free_port()
                opts = (
                    f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1"
                    " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                )
                started = self._run(
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    str(self.start_timeout),
                    "-o",
                    opts,
                    "start",
                )
                if started.returncode == 0:
                    self.port = port
                    break
                last_error = f"{started.stdout}{started.stderr}\n{_tail(self.log_file)}"
                self._pg_ctl_stop("immediate")  # in case it half-started
            else:
                raise ServiceUnavailable(f"pg_ctl start failed:\n{last_error}")
            self.url = f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/postgres"
            with psycopg.connect(**_conninfo(self.url), connect_timeout=10):
                pass
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        return self.url

    def _pg_ctl_stop(self, mode: str) -> bool:
        if self.dir is None or not (self.data_dir / "postmaster.pid").exists():
            return True
        r = self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop")
        return r.returncode == 0

    def stop(self) -> None:
        """Stop exactly this server (``pg_ctl -m fast stop``) and remove its temp dir."""
        if self.dir is None:
            return
        try:
            if not self._pg_ctl_stop("fast"):
                self._pg_ctl_stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
            self.url = None
            self.port = None
            atexit.unregister(self.stop)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_postgres(tmpdir: str | os.PathLike[str] | None = None) -> tuple[str, Callable[[], None]]:
    """Start a private PostgreSQL server; returns ``(sqlalchemy_url, stop)``.

    Raises `ServiceUnavailable` when the binaries are missing or the server cannot be started.
    """
    pg = Postgres(tmpdir)
    url = pg.start()
    return url, pg.stop


# --------------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------------


def _conninfo(url: str | URL) -> dict[str, object]:
    """psycopg connection keywords from a SQLAlchemy URL (``postgresql+psycopg://...``)."""
    u = make_url(url)
    kw: dict[str, object] = {"dbname": u.database or "postgres"}
    if u.host:
        kw["host"] = u.host
    if u.port:
        kw["port"] = u.port
    if u.username:
        kw["user"] = u.username
    if u.password is not None:
        kw["password"] = u.password
    for key, value in u.query.items():
        kw[key] = value if isinstance(value, str) else value[-1]
    return kw


def check_postgres(admin_url: str, timeout: int = 5) -> None:
    """Raise `ServiceUnavailable` unless a connection to ``admin_url`` works."""
    try:
        with psycopg.connect(**_conninfo(admin_url), connect_timeout=timeout) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        raise ServiceUnavailable(f"cannot connect to {make_url(admin_url)!r}: {exc}") from exc


def fresh_database(admin_url: str, prefix: str = "kiosk_test") -> str:
    """CREATE DATABASE with a unique name on admin_url's server; returns a SQLAlchemy URL to it."""
    name = f"{prefix}_{uuid.uuid4().hex}"
    with psycopg.connect(**_conninfo(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(admin_url).set(database=name)
    return url.render_as_string(hide_password=False)


def drop_database(url: str, admin_url: str | None = None) -> None:
    """DROP DATABASE (forcing out leftover connections); admin_url defaults to the same server's
    ``postgres`` database."""
    u = make_url(url)
    admin = make_url(admin_url) if admin_url is not None else u.set(database="postgres")
    with psycopg.connect(**_conninfo(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(u.database)))


# --------------------------------------------------------------------------------------------------
# The central service
# --------------------------------------------------------------------------------------------------


class CentralServer:
    """``python -m kiosk central serve`` as a real subprocess, on 127.0.0.1.

    >>> with CentralServer(database_url) as server:
    ...     httpx.get(f"{server.url}/healthz")
    """

    def __init__(
        self,
        database_url: str,
        *,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
        log_dir: str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.port = port if port is not None else free_port()
        self.extra_args = list(extra_args)
        self.env = {**os.environ, **(env or {})}
        self.log_dir = (
            Path(log_dir) if log_dir is not None else Path(tempfile.mkdtemp(prefix="kiosk-central-"))
        )
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_file = self.log_dir / f"central-{self.port}.log"
        self.startup_timeout = startup_timeout
        self.cwd = Path(cwd) if cwd is not None else REPO_ROOT
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "kiosk",
            "central",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--database-url",
            self.database_url,
            *self.extra_args,
        ]

    def log_tail(self, lines: int = 40) -> str:
        return _tail(self.log_file, lines)

    def start(self) -> CentralServer:
        if self.proc is not None and self.proc.poll() is None:
            return self
        t0 = time.monotonic()
        with self.log_file.open("ab") as log:
            log.write(f"\n=== {time.strftime('%H:%M:%S')} start: {self.command}\n".encode())
            log.flush()
            # Own process group, so stop()/kill() also reach any worker processes it spawns.
            self.proc = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        atexit.register(self.kill)
        deadline = t0 + self.startup_timeout
        last_error = "no attempt"
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while True:
                code = self.proc.poll()
                if code is not None:
                    raise RuntimeError(
                        f"central service exited with code {code} during startup; log {self.log_file}:\n"
                        f"{self.log_tail()}"
                    )
                try:
                    r = client.get(f"{self.url}/healthz")
                    if r.status_code == 200:
                        break
                    last_error = f"HTTP {r.status_code}: {r.text[:200]}"
                except httpx.HTTPError as exc:
                    last_error = repr(exc)
                if time.monotonic() > deadline:
                    self.kill()
                    raise TimeoutError(
                        f"central service not healthy after {self.startup_timeout:.0f} s ({last_error}); "
                        f"log {self.log_file}:\n{self.log_tail()}"
                    )
                time.sleep(0.05)
        self.start_seconds = time.monotonic() - t0
        return self

    def _signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` s, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait()
        else:
            self._signal(signal.SIGKILL)  # leftovers of the group, if any
        atexit.unregister(self.kill)
        return self.proc.returncode

    def kill(self) -> int | None:
        """SIGKILL at once (a crash). Returns the exit code."""
        if self.proc is None:
            return None
        self._signal(signal.SIGKILL)
        self.proc.wait()
        atexit.unregister(self.kill)
        return self.proc.returncode

    def restart(self) -> CentralServer:
        """Stop (gracefully) and start again on the same port with the same database."""
        self.stop()
        return self.start()

    def __enter__(self) -> CentralServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
