"""Per-planning-area policy (统筹区政策): the configurable rules of DOMAIN.md §5, strictly validated."""

from __future__ import annotations

import enum
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from kiosk.domain.errors import PolicyError
from kiosk.domain.relations import RELATIONS

INSUTYPE_EMPLOYEE = "310"  # 职工基本医疗保险
INSUTYPE_RESIDENT = "390"  # 城乡居民基本医疗保险
KNOWN_INSUTYPES = frozenset({INSUTYPE_EMPLOYEE, INSUTYPE_RESIDENT})


class Scope(enum.StrEnum):
    """Where a relative may be insured relative to the binding's planning area."""

    AREA = "area"
    PROVINCE = "province"
    NATIONAL = "national"


class Verification(enum.StrEnum):
    """How the relative confirms a binding."""

    NONE = "none"
    SMS_RELATIVE = "sms_relative"
    RELATIVE_CARD = "relative_card"
    BOTH = "both"


class UnbindBy(enum.StrEnum):
    HOLDER = "holder"
    RELATIVE = "relative"
    EITHER = "either"


@dataclass(frozen=True, slots=True)
class ConsentLetterRef:
    id: str
    version: int


@dataclass(frozen=True, slots=True)
class AreaPolicy:
    """The rules of one planning area. Every field is required; money is in fen, 0 caps mean no cap."""

    admdvs: str  # 6-digit GB/T 2260 code of the planning area (统筹区)
    name_zh: str
    name_en: str
    allowed_relations: tuple[str, ...]  # GB/T 4761 codes
    max_relatives_per_holder: int
    max_holders_per_relative: int
    holder_insutypes: tuple[str, ...]
    relative_insutypes: tuple[str, ...]
    relative_scope: Scope
    per_txn_cap_fen: int  # paid from one holder for one settlement; 0 = no cap
    daily_cap_fen: int  # paid from one holder for one relative per day; 0 = no cap
    annual_cap_fen: int  # per calendar year; 0 = no cap
    reserve_fen: int  # kept in the holder's account, never shared
    verification: Verification
    notify_sms: bool
    binding_valid_days: int  # 0 = open-ended
    unbind_by: UnbindBy
    consent_letter: ConsentLetterRef
    agent_allowed: bool  # an entrusted agent (代办) may act at a staffed counter
    min_holder_age: int
    minor_age: int  # relatives younger than this never receive an SMS; the holder acts as guardian
    offline_queue_max_count: (
        int  # a terminal refuses new submissions beyond this many unsynced; 0 = none offline
    )
    offline_queue_max_age_hours: int  # ... or once its oldest unsynced submission is this old

    @property
    def province(self) -> str:
        return self.admdvs[:2]

    def name(self, lang: str) -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, ConsentLetterRef):
                value = {"id": value.id, "version": value.version}
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, enum.Enum):
                value = value.value
            out[f.name] = value
        return out


_ENUMS: dict[str, type[enum.StrEnum]] = {
    "relative_scope": Scope,
    "verification": Verification,
    "unbind_by": UnbindBy,
}
_BOOLS = {"notify_sms", "agent_allowed"}
_STRS = {"admdvs", "name_zh", "name_en"}
_CODE_LISTS = {"allowed_relations", "holder_insutypes", "relative_insutypes"}
_INTS = {f.name for f in fields(AreaPolicy)} - set(_ENUMS) - _BOOLS - _STRS - _CODE_LISTS - {"consent_letter"}
_AT_LEAST_ONE = {"max_relatives_per_holder", "max_holders_per_relative"}


def _fail(where: str, field: str, message: str) -> PolicyError:
    return PolicyError(detail=f"{where}: field '{field}' {message}", field=field, where=where)


def parse_policy(raw: Mapping[str, Any], where: str = "policy") -> AreaPolicy:
    """Validate one area's policy. Unknown, missing or ill-typed fields raise PolicyError naming them."""
    if not isinstance(raw, Mapping):
        raise PolicyError(detail=f"{where}: a policy must be a table", where=where)
    names = [f.name for f in fields(AreaPolicy)]
    for key in raw:
        if key not in names:
            raise _fail(where, str(key), "is unknown")
    for name in names:
        if name not in raw:
            raise _fail(where, name, "is missing")
    values: dict[str, Any] = {}
    for name in names:
        value = raw[name]
        if name in _STRS:
            if not isinstance(value, str) or not value.strip():
                raise _fail(where, name, "must be a non-empty string")
            if name == "admdvs" and not (len(value) == 6 and value.isascii() and value.isdigit()):
                raise _fail(where, name, "must be a 6-digit area code")
        elif name in _BOOLS:
            if not isinstance(value, bool):
                raise _fail(where, name, "must be true or false")
        elif name in _INTS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise _fail(where, name, "must be a whole number")
            if value < 0:
                raise _fail(where, name, "must not be negative")
            if name in _AT_LEAST_ONE and value < 1:
                raise _fail(where, name, "must be at least 1")
        elif name in _CODE_LISTS:
            if not isinstance(value, list | tuple) or not value or not all(isinstance(v, str) for v in value):
                raise _fail(where, name, "must be a non-empty list of code strings")
            known = RELATIONS if name == "allowed_relations" else KNOWN_INSUTYPES
            unknown = [v for v in value if v not in known]
            if unknown:
                raise _fail(where, name, f"has unknown codes {unknown}")
            if len(set(value)) != len(value):
                raise _fail(where, name, "lists a code twice")
            value = tuple(value)
        elif name in _ENUMS:
            allowed = [e.value for e in _ENUMS[name]]
            if value not in allowed:
                raise _fail(where, name, f"must be one of {allowed}")
            value = _ENUMS[name](value)
        elif name == "consent_letter":
            if (
                not isinstance(value, Mapping)
                or set(value) != {"id", "version"}
                or not isinstance(value["id"], str)
                or not value["id"].strip()
                or isinstance(value["version"], bool)
                or not isinstance(value["version"], int)
                or value["version"] < 1
            ):
                raise _fail(where, name, 'must be {id = "...", version = N} with N >= 1')
            value = ConsentLetterRef(value["id"], value["version"])
        values[name] = value
    if values["minor_age"] > 18:
        raise _fail(where, "minor_age", "must be at most 18")
    return AreaPolicy(**values)


def parse_policies(raw: Mapping[str, Any], where: str = "policies") -> dict[str, AreaPolicy]:
    """A document `{"area": [ {...}, ... ]}` → policies by admdvs; duplicate areas are an error."""
    areas = raw.get("area") if isinstance(raw, Mapping) else None
    if isinstance(raw, Mapping):
        unknown = [str(k) for k in raw if k != "area"]
        if unknown:  # a `[[areas]]` typo must not silently drop an area
            raise PolicyError(
                detail=f"{where}: unknown top-level keys {unknown} (expected only 'area')",
                where=where,
                field=unknown[0],
            )
    if not isinstance(areas, list) or not areas:
        raise PolicyError(detail=f"{where}: expected a non-empty list 'area'", where=where)
    out: dict[str, AreaPolicy] = {}
    for i, item in enumerate(areas):
        label = f"{where}: area[{i}]"
        if isinstance(item, Mapping) and isinstance(item.get("admdvs"), str):
            label += f" ({item['admdvs']})"
        policy = parse_policy(item, label)
        if policy.admdvs in out:
            raise _fail(label, "admdvs", "appears twice")
        out[policy.admdvs] = policy
    return out


def loads_policies(text: str, fmt: str = "toml", where: str = "policies") -> dict[str, AreaPolicy]:
    """Parse TOML or JSON text; syntax errors become PolicyError with the position."""
    try:
        if fmt not in ("toml", "json"):
            raise PolicyError(detail=f"{where}: unknown format {fmt!r} (toml or json)", where=where)
        raw = tomllib.loads(text) if fmt == "toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise PolicyError(detail=f"{where}: {exc}", where=where) from None
    return parse_policies(raw, where)
