"""kiosk.toml → a frozen, typed configuration. Every field is documented here; a bad file is a clear error."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

ENV_CONFIG = "KIOSK_CONFIG"


def data_dir() -> Path:
    """Where the terminal and the embedded central keep their files ($XDG_DATA_HOME/family-aid-kiosk)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "family-aid-kiosk"


class ConfigError(Exception):
    """The configuration file is missing, unreadable or wrong; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class CentralConfig:
    """[central]: the reference central service (`kiosk central serve`)."""

    database_url: str = (
        ""  # SQLAlchemy URL; empty = SQLite in the data dir. Production: postgresql+psycopg://...
    )
    host: str = "127.0.0.1"  # address to listen on; put TLS (and mTLS) in front for anything but loopback
    port: int = 8765
    sms_gateway: str = "log"  # "log" (writes to the log) or "file" (JSON lines in sms_file)
    sms_file: str = ""  # used when sms_gateway = "file"
    # The name of the environment variable holding the key of OTP hashes (the same on every worker).
    secret_key_env: str = "KIOSK_CENTRAL_SECRET"  # noqa: S105 - a variable name, not a secret

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{data_dir() / 'central.db'}"


@dataclass(frozen=True, slots=True)
class TerminalConfig:
    """[terminal]: this kiosk's identity and link to central (provisioned by `kiosk central add-kiosk`)."""

    kiosk_id: str = ""
    central_url: str = "http://127.0.0.1:8765"
    secret_file: str = ""  # file holding the kiosk secret (mode 0600); never put the secret itself here


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """[store]: the terminal's durable local store (SQLite, WAL, synchronous=FULL)."""

    path: str = ""  # SQLite file; empty = $XDG_DATA_HOME/family-aid-kiosk/terminal.db
    key_file: str = ""  # key of the encrypted fields (created 0600 on first use); empty = next to the store

    def resolved_path(self) -> Path:
        return Path(self.path) if self.path else data_dir() / "terminal.db"

    def resolved_key_file(self) -> Path:
        return Path(self.key_file) if self.key_file else self.resolved_path().with_suffix(".key")


@dataclass(frozen=True, slots=True)
class SyncConfig:
    """[sync]: how the terminal pushes its outbox and pulls policy from central."""

    interval_s: float = 5.0  # pause between sync cycles when there is nothing to do
    backoff_base_s: float = 1.0  # first retry delay of a failed request; doubles each time, with jitter
    backoff_max_s: float = 300.0  # longest retry delay
    timeout_s: float = 10.0  # one HTTP request to central


@dataclass(frozen=True, slots=True)
class KioskConfig:
    """[kiosk]: the terminal's behaviour in front of citizens."""

    reader: str = "pcsc"  # "pcsc" (the hall's card reader); the simulated reader is for --demo and tests only
    idle_timeout_s: int = 90  # no touch for this long wipes the session (a countdown is shown first)
    idle_warning_s: int = 20  # how long the countdown before the wipe is shown
    # PBKDF2 hash of the staff PIN (`kiosk hash-pin`); empty = the staff key (F12) cannot exit
    staff_pin_hash: str = ""
    # PC/SC reader names (exact, or a prefix) for the holder's card and a relative's card; empty = the first
    # and the second reader pcscd lists (`kiosk doctor` prints them)
    holder_reader: str = ""
    relative_reader: str = ""
    # Where the kiosk writes its log while the screens run (the screen owns the terminal); empty = next to
    # the store, as terminal.log
    log_file: str = ""


@dataclass(frozen=True, slots=True)
class Config:
    kiosk: KioskConfig = field(default_factory=KioskConfig)
    central: CentralConfig = field(default_factory=CentralConfig)
    terminal: TerminalConfig = field(default_factory=TerminalConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    source: str = "<defaults>"


_SECTIONS: dict[str, type[Any]] = {
    "kiosk": KioskConfig,
    "central": CentralConfig,
    "terminal": TerminalConfig,
    "store": StoreConfig,
    "sync": SyncConfig,
}


def _section(cls: type[Any], raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown setting (known: {', '.join(sorted(known))})")
        expected = type(getattr(cls(), key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
            raise ConfigError(f"{where}.{key}: must be {expected.__name__}, got {type(value).__name__}")
        values[key] = value
    section = cls(**values)
    if isinstance(section, KioskConfig):
        if section.reader not in ("pcsc", "simulated"):
            raise ConfigError(f'{where}.reader: must be "pcsc" or "simulated"')
        if section.idle_timeout_s < 15 or not (0 < section.idle_warning_s < section.idle_timeout_s):
            raise ConfigError(
                f"{where}.idle_timeout_s/idle_warning_s: need 15 <= timeout and 0 < warning < timeout"
            )
        if section.staff_pin_hash and not section.staff_pin_hash.startswith("pbkdf2_sha256$"):
            raise ConfigError(f"{where}.staff_pin_hash: not a hash made by `kiosk hash-pin`")
    if isinstance(section, SyncConfig):
        for name in ("interval_s", "backoff_base_s", "backoff_max_s", "timeout_s"):
            if getattr(section, name) <= 0:
                raise ConfigError(f"{where}.{name}: must be greater than 0")
    if isinstance(section, CentralConfig):
        if not (0 < section.port < 65536):
            raise ConfigError(f"{where}.port: must be 1-65535")
        if section.sms_gateway not in ("log", "file"):
            raise ConfigError(f'{where}.sms_gateway: must be "log" or "file"')
        if section.sms_gateway == "file" and not section.sms_file:
            raise ConfigError(f'{where}.sms_file: required when sms_gateway = "file"')
    return section


def parse_config(text: str, source: str) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in _SECTIONS:
            raise ConfigError(f"{source}: unknown section [{name}] (known: {', '.join(_SECTIONS)})")
        sections[name] = _section(_SECTIONS[name], value, f"{source}: [{name}]")
    return Config(**sections, source=source)


def load_config(path: str | Path | None = None) -> Config:
    """Read `path`, else $KIOSK_CONFIG, else ./kiosk.toml if present, else the defaults."""
    chosen = path or os.environ.get(ENV_CONFIG)
    if chosen is None:
        local = Path("kiosk.toml")
        if not local.exists():
            return Config()
        chosen = local
    p = Path(chosen)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the configuration: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: the configuration is not UTF-8 text") from None
    return parse_config(text, str(p))
