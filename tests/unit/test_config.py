"""kiosk.toml's models: each section refuses what it does not know, naming the file, section and field."""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from kiosk.config import SECTIONS, Config, ConfigError, KioskConfig, SyncConfig, load_config
from kiosk.staff import hash_pin

REPO = Path(__file__).resolve().parents[2]
FIELDS = [(section, name) for section, model in SECTIONS.items() for name in model.model_fields]
LITERALS = [
    (section, name)
    for section, model in SECTIONS.items()
    for name, info in model.model_fields.items()
    if typing.get_origin(info.annotation) is typing.Literal
]


def error_of(tmp_path: Path, text: str) -> str:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    return message.removeprefix(f"{path}: ")


def wrong_value(annotation: Any) -> str:
    """A TOML value of another type than the field's."""
    return '"ninety"' if annotation in (int, float) else "42"


@pytest.mark.parametrize(("section", "field"), FIELDS)
def test_a_value_of_the_wrong_type_is_named(tmp_path: Path, section: str, field: str) -> None:
    annotation = SECTIONS[section].model_fields[field].annotation
    message = error_of(tmp_path, f"[{section}]\n{field} = {wrong_value(annotation)}\n")
    expected = "an integer" if annotation is int else "a number" if annotation is float else ""
    if typing.get_origin(annotation) is typing.Literal:
        expected = " or ".join(f'"{choice}"' for choice in typing.get_args(annotation))
    assert message.startswith(f"[{section}] {field}: must be {expected or 'a string'}"), message


@pytest.mark.parametrize("section", SECTIONS)
def test_an_unknown_setting_is_named_with_the_known_ones(tmp_path: Path, section: str) -> None:
    message = error_of(tmp_path, f"[{section}]\nno_such_setting = 1\n")
    known = ", ".join(SECTIONS[section].model_fields)
    assert message == f"[{section}] no_such_setting: unknown setting (known: {known})"


@pytest.mark.parametrize(("section", "field"), LITERALS)
def test_a_choice_outside_the_literal_is_named(tmp_path: Path, section: str, field: str) -> None:
    message = error_of(tmp_path, f'[{section}]\n{field} = "nope"\n')
    assert message.startswith(f"[{section}] {field}: must be "), message
    assert message.endswith(', got "nope"')


def test_the_literal_choices_are_the_ones_the_code_knows() -> None:
    assert set(LITERALS) == {("kiosk", "reader"), ("central", "sms_gateway")}


@pytest.mark.parametrize(("section", "field"), FIELDS)
def test_broken_toml_names_the_section_and_the_line_s_field(tmp_path: Path, section: str, field: str) -> None:
    message = error_of(tmp_path, f"[{section}]\n{field} = \n")
    assert message.startswith(f"[{section}] {field}: not valid TOML: "), message
    assert "line 2" in message


def test_a_broken_table_header_names_the_section(tmp_path: Path) -> None:
    assert error_of(tmp_path, "[central\n").startswith("[central]: not valid TOML: ")


def test_an_unknown_section_is_named(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[centre]\nport = 1\n")
    assert message == "unknown section [centre] (known: [kiosk], [central], [terminal], [store], [sync])"


def test_a_section_that_is_not_a_table(tmp_path: Path) -> None:
    assert error_of(tmp_path, "sync = 3\n") == "[sync]: must be a table, got an integer 3"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[sync]\nbackoff_base_s = 0\n", "[sync] backoff_base_s: must be > 0, got 0"),
        ("[sync]\ntimeout_s = -1.5\n", "[sync] timeout_s: must be > 0, got -1.5"),
        ("[central]\nport = 0\n", "[central] port: must be > 0, got 0"),
        ("[central]\nport = 65536\n", "[central] port: must be < 65536, got 65536"),
        ("[kiosk]\nidle_timeout_s = 14\n", "[kiosk] idle_timeout_s: must be >= 15, got 14"),
        (
            "[kiosk]\nidle_timeout_s = 30\nidle_warning_s = 30\n",
            "[kiosk] idle_warning_s: must be less than idle_timeout_s (30)",
        ),
        ('[kiosk]\nstaff_pin_hash = "0"\n', "[kiosk] staff_pin_hash: not a hash made by `kiosk hash-pin`"),
        ('[central]\nsms_gateway = "file"\n', '[central] sms_file: required when sms_gateway = "file"'),
        (
            "[kiosk]\nidle_warning_s = true\n",
            "[kiosk] idle_warning_s: must be an integer, got a boolean true",
        ),
        ('[kiosk]\nidle_timeout_s = "90"\n', '[kiosk] idle_timeout_s: must be an integer, got a string "90"'),
        (
            '[terminal]\npublic_url = "fa.example.org/r"\n',
            "[terminal] public_url: must be an http:// or https:// address without a query, "
            "e.g. https://example.org",
        ),
    ],
)
def test_values_out_of_range_are_named(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(tmp_path, text) == message


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[sync]\ninterval_s = 0\n[central]\nhost = 1\n")
    assert message.split("; ") == [
        "[central] host: must be a string (in quotes), got an integer 1",
        "[sync] interval_s: must be > 0, got 0",
    ]


def test_good_values_are_read_typed(tmp_path: Path) -> None:
    staff = hash_pin("246810", iterations=1000)
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'[kiosk]\nreader = "simulated"\nstaff_pin_hash = "{staff}"\n[sync]\ntimeout_s = 3\n'
        '[central]\nsms_gateway = "file"\nsms_file = "/tmp/sms.jsonl"\n',
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.kiosk.reader == "simulated" and config.kiosk.staff_pin_hash == staff
    assert config.sync.timeout_s == 3.0 and isinstance(config.sync.timeout_s, float)
    assert config.central.sms_file == "/tmp/sms.jsonl" and config.source == str(path)


def test_an_unreadable_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"^{tmp_path / 'absent.toml'}: cannot read the configuration"):
        load_config(tmp_path / "absent.toml")


def test_the_file_cannot_set_its_own_source(tmp_path: Path) -> None:
    assert error_of(tmp_path, 'source = "elsewhere"\n').startswith("unknown section [source]")


def test_sections_are_frozen() -> None:
    config = Config()
    with pytest.raises(ValidationError):
        config.sync.interval_s = 1.0  # type: ignore[misc]
    with pytest.raises(ValidationError):
        config.kiosk = KioskConfig()  # type: ignore[misc]
    assert hash(SyncConfig()) == hash(SyncConfig())


def test_code_that_builds_a_section_gets_the_same_checks() -> None:
    with pytest.raises(ValidationError):
        KioskConfig(reader="usb")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        SyncConfig(interval_s=0)


@pytest.mark.parametrize(("section", "field"), FIELDS)
def test_every_field_has_its_docstring(section: str, field: str) -> None:
    assert (SECTIONS[section].model_fields[field].description or "").strip()


def test_the_shipped_kiosk_toml_sets_every_field_to_its_default() -> None:
    """kiosk.toml says "every value below is the default": it lists each setting, with the model's default."""
    shipped = tomllib.loads((REPO / "kiosk.toml").read_text(encoding="utf-8"))
    defaults = Config()
    assert set(shipped) == set(SECTIONS)
    for section, model in SECTIONS.items():
        assert set(shipped[section]) == set(model.model_fields), section
        assert model(**shipped[section]) == getattr(defaults, section), section
