"""kiosk.toml → frozen, typed pydantic models; a bad file is an error naming its file, section and field.

Plain pydantic models validate what `tomllib` read, rather than pydantic-settings' TOML source: the file is
the only source (no environment variable silently overrides a hall's kiosk.toml), the file is chosen at run
time (`--config`, `$KIOSK_CONFIG`, `./kiosk.toml`), and every error can name that file. Each field's
docstring below is its documentation (`use_attribute_docstrings`: it is also the field's description).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from kiosk.staff import is_pin_hash

ENV_CONFIG = "KIOSK_CONFIG"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8765"  # the reference central's own address (`kiosk central serve`)


def data_dir() -> Path:
    """Where the terminal and the embedded central keep their files ($XDG_DATA_HOME/family-aid-kiosk)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "family-aid-kiosk"


class ConfigError(Exception):
    """The configuration is missing, unreadable or wrong; the message starts with the file it is about."""


class _Section(BaseModel):
    # strict: a TOML string is never taken for a number nor a number for a bool (an int is a valid float).
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)


class CentralConfig(_Section):
    """[central]: the reference central service (`kiosk central serve`)."""

    database_url: str = ""
    """SQLAlchemy URL; empty = SQLite in the data dir. Production: postgresql+psycopg://user@dbhost/central."""
    host: str = "127.0.0.1"
    """Address to listen on; put TLS (and mTLS) in front for anything but loopback."""
    port: int = Field(8765, gt=0, lt=65536)
    """TCP port to listen on."""
    sms_gateway: Literal["log", "file"] = "log"
    """Where SMS go: "log" (the service's log) or "file" (one JSON line per message in sms_file)."""
    sms_file: str = ""
    """The JSON-lines file of sms_gateway = "file"."""
    secret_key_env: str = "KIOSK_CENTRAL_SECRET"  # noqa: S105 - a variable name, not a secret
    """The environment variable holding the key of the OTP hashes (the same on every worker)."""

    @model_validator(mode="after")
    def _sms_file_for_file_gateway(self) -> CentralConfig:
        if self.sms_gateway == "file" and not self.sms_file:
            raise ValueError('sms_file: required when sms_gateway = "file"')
        return self

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{data_dir() / 'central.db'}"


class TerminalConfig(_Section):
    """[terminal]: this kiosk's identity and link to central (provisioned by `kiosk central add-kiosk`)."""

    kiosk_id: str = ""
    """This terminal's name at central, as given to `kiosk central add-kiosk`."""
    central_url: str = "http://127.0.0.1:8765"
    """Base URL of the central service."""
    secret_file: str = ""
    """File holding the kiosk secret (mode 0600); never put the secret itself in kiosk.toml."""
    public_url: str = DEFAULT_PUBLIC_URL
    """Base URL at which citizens' phones reach central's public receipt page (`/r/...`): the receipt's
    QR code holds this address, the receipt number and a MAC. Usually not central_url, which is the
    terminals' own (mTLS) entrance."""

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(
                "must be an http:// or https:// address without a query, e.g. https://example.org"
            )
        return value


class StoreConfig(_Section):
    """[store]: the terminal's durable local store (SQLite, WAL, synchronous=FULL)."""

    path: str = ""
    """SQLite file; empty = $XDG_DATA_HOME/family-aid-kiosk/terminal.db."""
    key_file: str = ""
    """Key of the encrypted fields (created 0600 on first use); empty = next to the store (terminal.key)."""

    def resolved_path(self) -> Path:
        return Path(self.path) if self.path else data_dir() / "terminal.db"

    def resolved_key_file(self) -> Path:
        return Path(self.key_file) if self.key_file else self.resolved_path().with_suffix(".key")


class SyncConfig(_Section):
    """[sync]: how the terminal pushes its outbox and pulls policy from central."""

    interval_s: float = Field(5.0, gt=0)
    """Pause between sync cycles when there is nothing to do."""
    backoff_base_s: float = Field(1.0, gt=0)
    """First retry delay of a failed request; doubles each time, with jitter."""
    backoff_max_s: float = Field(300.0, gt=0)
    """Longest retry delay."""
    timeout_s: float = Field(10.0, gt=0)
    """Time limit of one HTTP request to central."""


class KioskConfig(_Section):
    """[kiosk]: the terminal's behaviour in front of citizens."""

    reader: Literal["pcsc", "simulated"] = "pcsc"
    """"pcsc": the hall's card reader; "simulated" is for `kiosk --demo` and tests only."""
    idle_timeout_s: int = Field(90, ge=15)
    """No touch for this long wipes the session (a countdown is shown first)."""
    idle_warning_s: int = Field(20, gt=0)
    """How long the countdown before the wipe is shown; less than idle_timeout_s."""
    staff_pin_hash: str = ""
    """PBKDF2 hash of the staff PIN, made by `kiosk hash-pin`; empty = the staff key (F12) cannot exit."""
    holder_reader: str = ""
    """PC/SC reader name (exact, or a prefix) for the holder's card; empty = the first reader pcscd lists
    (`kiosk doctor` prints them)."""
    relative_reader: str = ""
    """PC/SC reader name (exact, or a prefix) for a relative's own card; empty = the second reader."""
    log_file: str = ""
    """Where the kiosk logs while the screens run (they own the terminal); empty = terminal.log next to
    the store."""

    @field_validator("staff_pin_hash")
    @classmethod
    def _made_by_hash_pin(cls, value: str) -> str:
        if value and not is_pin_hash(value):
            raise ValueError("not a hash made by `kiosk hash-pin`")
        return value

    @model_validator(mode="after")
    def _warning_within_timeout(self) -> KioskConfig:
        if self.idle_warning_s >= self.idle_timeout_s:
            raise ValueError(f"idle_warning_s: must be less than idle_timeout_s ({self.idle_timeout_s})")
        return self


class Config(BaseModel):
    """The whole of kiosk.toml: one model per section, and the file it came from."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True)

    kiosk: KioskConfig = KioskConfig()
    central: CentralConfig = CentralConfig()
    terminal: TerminalConfig = TerminalConfig()
    store: StoreConfig = StoreConfig()
    sync: SyncConfig = SyncConfig()
    source: str = "<defaults>"
    """The file the configuration was read from (not a setting of the file)."""


SECTIONS: dict[str, type[_Section]] = {
    "kiosk": KioskConfig,
    "central": CentralConfig,
    "terminal": TerminalConfig,
    "store": StoreConfig,
    "sync": SyncConfig,
}

_TOML_TYPES = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", dict: "a table"}


def _toml_type(value: Any) -> str:
    for kind, name in _TOML_TYPES.items():
        if type(value) is kind:
            return name
    return f"a TOML {type(value).__name__}" if not isinstance(value, list) else "an array"


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _problem(error: ErrorDetails) -> str:
    """One pydantic error as `[section] field: what is wrong`, in the words of someone editing the file."""
    loc = [str(part) for part in error["loc"]]
    where = f"[{loc[0]}]" + (f" {'.'.join(loc[1:])}" if len(loc) > 1 else "")
    kind, ctx, value = error["type"], error.get("ctx", {}), error["input"]
    if kind == "extra_forbidden":
        known = SECTIONS[loc[0]].model_fields if loc[0] in SECTIONS else {}
        return f"{where}: unknown setting (known: {', '.join(known)})"
    if kind == "value_error":  # our validators name the field in the message when loc is the section
        message = str(ctx.get("error", error["msg"]))
        return f"{where} {message}" if len(loc) == 1 else f"{where}: {message}"
    toml_value = json.dumps(value, ensure_ascii=False) if isinstance(value, str | bool) else repr(value)
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"{where}: must be {bounds[kind]} {_number(limit)}, got {toml_value}"
    if kind == "literal_error":  # pydantic quotes the choices in Python's way; the file has TOML's
        choices = str(ctx.get("expected", "")).replace("'", '"')
        return f"{where}: must be {choices}, got {toml_value}"
    types = {
        "string_type": "a string (in quotes)",
        "int_type": "an integer",
        "float_type": "a number",
        "bool_type": "true or false",
        "model_type": "a table",
    }
    wanted = types.get(kind)
    if wanted is None:
        return f"{where}: {error['msg'].replace('Input should be', 'must be')}"
    shown = "" if isinstance(value, dict) else f" {toml_value}"
    return f"{where}: must be {wanted}, got {_toml_type(value)}{shown}"


def _toml_place(text: str, message: str) -> str:
    """`[section] field: ` of the line a TOML error names (tomllib says only the line and the column)."""
    at = re.search(r"at line (\d+)", message)
    if at is None:
        return ""
    lines = text.splitlines()[: int(at.group(1))]
    headers = [m.group(1).strip() for line in lines if (m := re.match(r"\s*\[+([^\]#]*)", line))]
    key = re.match(r"\s*([A-Za-z0-9_-]+)\s*=", lines[-1]) if lines else None
    place = (f"[{headers[-1]}]" if headers else "") + (f" {key.group(1)}" if key else "")
    return f"{place.strip()}: " if place else ""


def parse_config(text: str, source: str) -> Config:
    """The configuration in `text` (TOML); `source` names it in errors (`source: [section] field: ...`)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: {_toml_place(text, str(exc))}not valid TOML: {exc}") from None
    unknown = [name for name in raw if name not in SECTIONS]
    if unknown:
        raise ConfigError(
            f"{source}: unknown section [{unknown[0]}] (known: {', '.join(f'[{s}]' for s in SECTIONS)})"
        )
    try:
        return Config.model_validate({**raw, "source": source})
    except ValidationError as exc:
        problems = "; ".join(_problem(error) for error in exc.errors(include_url=False))
        raise ConfigError(f"{source}: {problems}") from None


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
