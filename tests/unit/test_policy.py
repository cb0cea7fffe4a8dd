"""Area policies (DOMAIN.md §5): every field required, strictly typed, errors name the field."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from kiosk.domain.errors import DomainError, PolicyError
from kiosk.domain.policy import (
    AreaPolicy,
    ConsentLetterRef,
    Scope,
    UnbindBy,
    Verification,
    loads_policies,
    parse_policies,
    parse_policy,
)
from kiosk.domain.relations import ALL_CLOSE_RELATIVES
from tests.support.factories import LISHUI, make_policy, policy_dict

FIELDS = [f.name for f in dataclasses.fields(AreaPolicy)]
STR_FIELDS = ["admdvs", "name_zh", "name_en"]
BOOL_FIELDS = ["notify_sms", "agent_allowed"]
INT_FIELDS = [
    "max_relatives_per_holder",
    "max_holders_per_relative",
    "per_txn_cap_fen",
    "daily_cap_fen",
    "annual_cap_fen",
    "reserve_fen",
    "binding_valid_days",
    "min_holder_age",
    "minor_age",
    "offline_queue_max_count",
    "offline_queue_max_age_hours",
]
CODE_LIST_FIELDS = ["allowed_relations", "holder_insutypes", "relative_insutypes"]
ENUM_FIELDS = {"relative_scope": Scope, "verification": Verification, "unbind_by": UnbindBy}


def field_error(raw: Any, field: str, where: str = "policy") -> PolicyError:
    """Parse `raw`, expect a PolicyError about `field`, and return it."""
    with pytest.raises(PolicyError) as info:
        parse_policy(raw, where)
    exc = info.value
    assert exc.params["field"] == field
    assert f"'{field}'" in str(exc)
    assert exc.params["where"] == where
    assert str(exc).startswith(f"invalid_policy: {where}: ")
    return exc


def to_toml(policies: list[dict[str, Any]]) -> str:
    """Just enough TOML for policy dicts (str, bool, int, list of str, one-level inline table)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(v)

    blocks = ["[[area]]\n" + "".join(f"{k} = {value(v)}\n" for k, v in p.items()) for p in policies]
    return "\n".join(blocks)


# ---- a valid policy ----------------------------------------------------------------------------


def test_factory_policy_covers_every_field() -> None:
    assert set(policy_dict()) == set(FIELDS)
    assert set(FIELDS) == {
        *STR_FIELDS,
        *BOOL_FIELDS,
        *INT_FIELDS,
        *CODE_LIST_FIELDS,
        *ENUM_FIELDS,
        "consent_letter",
    }


def test_valid_policy_parses_to_typed_values() -> None:
    policy = make_policy()
    assert policy.admdvs == LISHUI
    assert policy.province == "33"
    assert policy.name("zh") == "丽水市"
    assert policy.name("en") == "Lishui"
    assert policy.allowed_relations == ("10", "20", "30", "51", "52")
    assert policy.holder_insutypes == ("310",)
    assert policy.relative_insutypes == ("310", "390")
    assert policy.relative_scope is Scope.AREA
    assert policy.verification is Verification.SMS_RELATIVE
    assert policy.unbind_by is UnbindBy.EITHER
    assert policy.consent_letter == ConsentLetterRef("lishui-2024", 1)
    assert (policy.per_txn_cap_fen, policy.daily_cap_fen, policy.annual_cap_fen) == (150000, 300000, 0)
    assert policy.notify_sms is True
    assert policy.minor_age == 14


def test_to_dict_round_trips_and_is_plain_data() -> None:
    policy = make_policy(allowed_relations=list(ALL_CLOSE_RELATIVES), relative_scope="national")
    data = policy.to_dict()
    assert data == policy_dict(allowed_relations=list(ALL_CLOSE_RELATIVES), relative_scope="national")
    assert json.loads(json.dumps(data)) == data
    assert parse_policy(data) == policy


def test_policy_is_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_policy().reserve_fen = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    "overrides",
    [
        {"per_txn_cap_fen": 0, "daily_cap_fen": 0, "annual_cap_fen": 0, "reserve_fen": 0},
        {"binding_valid_days": 0, "min_holder_age": 0, "minor_age": 0},
        {"offline_queue_max_count": 0, "offline_queue_max_age_hours": 0},
        {"max_relatives_per_holder": 1, "max_holders_per_relative": 1},
        {"minor_age": 18},
        {"reserve_fen": 100000, "annual_cap_fen": 10**12},
        {"allowed_relations": list(ALL_CLOSE_RELATIVES)},
        {"relative_insutypes": ["390"], "holder_insutypes": ["310", "390"]},
        {"allowed_relations": ("10",)},
        {"consent_letter": {"id": "x", "version": 12}},
    ],
)
def test_boundary_values_are_accepted(overrides: dict[str, Any]) -> None:
    policy = make_policy(**overrides)
    for name, value in overrides.items():
        got = getattr(policy, name)
        expected = tuple(value) if isinstance(value, list | tuple) else value
        assert got == (ConsentLetterRef(**value) if name == "consent_letter" else expected)


@pytest.mark.parametrize(("field", "enum"), list(ENUM_FIELDS.items()))
def test_every_enum_value_is_accepted(field: str, enum: type) -> None:
    for member in enum:
        assert getattr(make_policy(**{field: member.value}), field) is member


# ---- unknown and missing fields ----------------------------------------------------------------


@pytest.mark.parametrize("key", ["colour", "daily_cap_yuan", "Admdvs", "admdvs "])
def test_unknown_key_is_an_error(key: str) -> None:
    exc = field_error(policy_dict(**{key: 1}), key)
    assert "unknown" in str(exc)


@pytest.mark.parametrize("field", FIELDS)
def test_missing_key_is_an_error(field: str) -> None:
    raw = policy_dict()
    del raw[field]
    exc = field_error(raw, field)
    assert "missing" in str(exc)


def test_unknown_key_is_reported_before_missing_ones() -> None:
    raw = policy_dict(typo_field=1)
    del raw["reserve_fen"]
    field_error(raw, "typo_field")


# ---- wrong types, field by field ---------------------------------------------------------------


@pytest.mark.parametrize("field", STR_FIELDS)
@pytest.mark.parametrize("bad", [331100, None, "", "   ", ["331100"], True])
def test_string_fields(field: str, bad: Any) -> None:
    field_error(policy_dict(**{field: bad}), field)


@pytest.mark.parametrize(
    "bad", ["33110", "3311000", "33110a", "33 100", "３３１１００", "-33110", "33110\n", "331100.0"]
)
def test_admdvs_must_be_six_ascii_digits(bad: str) -> None:
    exc = field_error(policy_dict(admdvs=bad), "admdvs")
    assert "6-digit" in str(exc)


@pytest.mark.parametrize("field", BOOL_FIELDS)
@pytest.mark.parametrize("bad", ["true", "yes", 1, 0, None, [True]])
def test_bool_fields(field: str, bad: Any) -> None:
    field_error(policy_dict(**{field: bad}), field)


@pytest.mark.parametrize("field", INT_FIELDS)
@pytest.mark.parametrize("bad", [True, False, 1.0, 1.5, "5", None, [5]])
def test_int_fields_must_be_whole_numbers(field: str, bad: Any) -> None:
    exc = field_error(policy_dict(**{field: bad}), field)
    assert "whole number" in str(exc)


@pytest.mark.parametrize("field", INT_FIELDS)
@pytest.mark.parametrize("bad", [-1, -150000])
def test_int_fields_must_not_be_negative(field: str, bad: int) -> None:
    exc = field_error(policy_dict(**{field: bad}), field)
    assert "negative" in str(exc)


@pytest.mark.parametrize("field", ["max_relatives_per_holder", "max_holders_per_relative"])
def test_relative_caps_must_be_at_least_one(field: str) -> None:
    exc = field_error(policy_dict(**{field: 0}), field)
    assert "at least 1" in str(exc)


@pytest.mark.parametrize("bad", [19, 25, 100])
def test_minor_age_at_most_18(bad: int) -> None:
    field_error(policy_dict(minor_age=bad), "minor_age")


@pytest.mark.parametrize("field", CODE_LIST_FIELDS)
@pytest.mark.parametrize("bad", ["310", [], None, [310], ["310", None], {"310": True}])
def test_code_lists_must_be_non_empty_lists_of_strings(field: str, bad: Any) -> None:
    field_error(policy_dict(**{field: bad}), field)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("allowed_relations", ["10", "99"]),
        ("allowed_relations", ["72"]),  # 嫂: an in-law, not a close relative
        ("allowed_relations", ["310"]),
        ("holder_insutypes", ["320"]),
        ("holder_insutypes", ["10"]),
        ("relative_insutypes", ["310", "391"]),
        ("relative_insutypes", [" 390"]),
    ],
)
def test_unknown_codes_are_an_error(field: str, bad: list[str]) -> None:
    exc = field_error(policy_dict(**{field: bad}), field)
    assert "unknown codes" in str(exc)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("allowed_relations", ["10", "20", "10"]),
        ("holder_insutypes", ["310", "310"]),
        ("relative_insutypes", ["390", "310", "390"]),
    ],
)
def test_duplicate_codes_are_an_error(field: str, bad: list[str]) -> None:
    exc = field_error(policy_dict(**{field: bad}), field)
    assert "twice" in str(exc)


@pytest.mark.parametrize("field", list(ENUM_FIELDS))
@pytest.mark.parametrize("bad", ["", "Area", "EITHER", "city", "sms", None, 1])
def test_enum_fields(field: str, bad: Any) -> None:
    exc = field_error(policy_dict(**{field: bad}), field)
    assert "must be one of" in str(exc)


@pytest.mark.parametrize(
    "bad",
    [
        "lishui-2024",
        None,
        ["lishui-2024", 1],
        {},
        {"id": "lishui-2024"},
        {"version": 1},
        {"id": "lishui-2024", "version": 1, "url": "x"},
        {"id": "lishui-2024", "version": 0},
        {"id": "lishui-2024", "version": -1},
        {"id": "lishui-2024", "version": True},
        {"id": "lishui-2024", "version": "1"},
        {"id": "lishui-2024", "version": 1.0},
        {"id": 2024, "version": 1},
        {"id": None, "version": 1},
        {"id": "", "version": 1},
        {"id": "  ", "version": 1},
    ],
)
def test_consent_letter(bad: Any) -> None:
    field_error(policy_dict(consent_letter=bad), "consent_letter")


@pytest.mark.parametrize("raw", [None, [], "admdvs = 331100", 331100, [("admdvs", "331100")]])
def test_a_policy_must_be_a_table(raw: Any) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(raw, "areas.toml")
    assert info.value.params["where"] == "areas.toml"
    assert "table" in str(info.value)


def test_policy_error_is_a_domain_error_with_a_stable_key() -> None:
    exc = field_error(policy_dict(reserve_fen=-5), "reserve_fen", where="conf/areas.toml")
    assert isinstance(exc, DomainError)
    assert exc.key == "invalid_policy"
    assert "conf/areas.toml" in exc.detail


# ---- documents of several areas ----------------------------------------------------------------

SUICHANG = {"admdvs": "331123", "name_zh": "遂昌县", "name_en": "Suichang"}


def test_parse_policies_keys_by_area() -> None:
    policies = parse_policies({"area": [policy_dict(), policy_dict(**SUICHANG)]})
    assert list(policies) == [LISHUI, "331123"]
    assert policies["331123"].name_en == "Suichang"
    assert policies[LISHUI] == make_policy()


def test_duplicate_area_is_an_error() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policies(
            {"area": [policy_dict(), policy_dict(**SUICHANG), policy_dict(name_en="Lishui again")]}
        )
    exc = info.value
    assert exc.params["field"] == "admdvs"
    assert "'admdvs'" in str(exc)
    assert "twice" in str(exc)
    assert exc.params["where"] == f"policies: area[2] ({LISHUI})"


def test_field_error_names_the_area_it_is_in() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policies({"area": [policy_dict(), policy_dict(**SUICHANG, daily_cap_fen=-1)]}, "areas.toml")
    exc = info.value
    assert exc.params["field"] == "daily_cap_fen"
    assert "'daily_cap_fen'" in str(exc)
    assert exc.params["where"] == "areas.toml: area[1] (331123)"
    assert "area[1] (331123)" in str(exc)


def test_an_area_that_is_not_a_table() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policies({"area": [policy_dict(), "331123"]})
    assert info.value.params["where"] == "policies: area[1]"


@pytest.mark.parametrize(
    "raw", [{}, {"area": []}, {"area": policy_dict()}, {"areas": [policy_dict()]}, [policy_dict()], None]
)
def test_a_document_needs_a_non_empty_area_list(raw: Any) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policies(raw, "areas.toml")
    assert info.value.params["where"] == "areas.toml"
    assert "'area'" in str(info.value)


# ---- TOML and JSON text ------------------------------------------------------------------------


def test_loads_toml() -> None:
    text = to_toml([policy_dict(), policy_dict(**SUICHANG, relative_scope="province")])
    policies = loads_policies(text)
    assert policies[LISHUI] == make_policy()
    assert policies["331123"].relative_scope is Scope.PROVINCE
    assert loads_policies(text, "toml") == policies


def test_loads_json() -> None:
    text = json.dumps({"area": [policy_dict(), policy_dict(**SUICHANG)]}, ensure_ascii=False)
    policies = loads_policies(text, "json")
    assert policies[LISHUI] == make_policy()
    assert set(policies) == {LISHUI, "331123"}


@pytest.mark.parametrize(
    ("field", "line"),
    [
        ("per_txn_cap_fen", "per_txn_cap_fen = 1500.00"),  # yuan written as a float
        ("notify_sms", 'notify_sms = "true"'),
        ("admdvs", "admdvs = 331100"),
        ("consent_letter", 'consent_letter = {id = "lishui-2024", version = 1, lang = "zh"}'),
    ],
)
def test_toml_field_errors_name_the_field(field: str, line: str) -> None:
    text = "\n".join(
        line if row.startswith(f"{field} = ") else row for row in to_toml([policy_dict()]).splitlines()
    )
    assert line in text
    with pytest.raises(PolicyError) as info:
        loads_policies(text, "toml", "areas.toml")
    assert info.value.params["field"] == field
    assert f"'{field}'" in str(info.value)


def test_json_field_error_names_the_field() -> None:
    text = json.dumps({"area": [policy_dict(max_holders_per_relative=1.5)]})
    with pytest.raises(PolicyError) as info:
        loads_policies(text, "json")
    assert info.value.params["field"] == "max_holders_per_relative"
    assert "'max_holders_per_relative'" in str(info.value)


@pytest.mark.parametrize(
    ("text", "fmt", "position"),
    [
        ('[[area]]\nadmdvs = "331100"\nname_zh = \n', "toml", "line 3"),
        ('[[area]]\nadmdvs = "331100"\nadmdvs = "331123"\n', "toml", "line 3"),  # a key twice
        ("[[area]\n", "toml", "line 1"),
        ('{"area": [', "json", "line 1"),
        ('{"area": [\n  {"admdvs": "331100",}\n]}', "json", "line 2"),
        ("", "json", "line 1"),
    ],
)
def test_syntax_errors_say_where(text: str, fmt: str, position: str) -> None:
    with pytest.raises(PolicyError) as info:
        loads_policies(text, fmt, "conf/areas." + fmt)
    exc = info.value
    assert exc.params == {"where": "conf/areas." + fmt}
    assert position in str(exc)
    assert str(exc).startswith(f"invalid_policy: conf/areas.{fmt}: ")


def test_empty_toml_document_has_no_area() -> None:
    with pytest.raises(PolicyError) as info:
        loads_policies("", "toml")
    assert "'area'" in str(info.value)


def test_an_unknown_text_format_is_refused() -> None:
    with pytest.raises(PolicyError) as info:
        loads_policies("area = []", fmt="yaml")
    assert "unknown format 'yaml'" in str(info.value)


def test_an_unknown_top_level_key_is_refused() -> None:
    with pytest.raises(PolicyError) as info:
        parse_policies({"area": [policy_dict()], "areas": [policy_dict()]})
    assert info.value.params["field"] == "areas"
