"""Builders shared by the unit tests: a valid Lishui area policy and people with fixed birth dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kiosk.domain.eligibility import Person
from kiosk.domain.policy import AreaPolicy, parse_policy
from kiosk.domain.relations import Sex

# A fixed "today" for every rule that depends on the date; tests never read the clock.
TODAY = dt.date(2025, 6, 15)

# Real GB/T 2260 county codes that python-stdnum knows (莲都区, 遂昌县, 上城区, 福田区, 东昌府区, 长安区).
REAL_AREA_CODES = ("331102", "331123", "330102", "440304", "371502", "130102")

LISHUI = "331100"


def policy_dict(**overrides: Any) -> dict[str, Any]:
    """A valid policy mapping for 丽水市 (values of the Lishui 2016 text, seed 003); override any field."""
    raw: dict[str, Any] = {
        "admdvs": LISHUI,
        "name_zh": "丽水市",
        "name_en": "Lishui",
        "allowed_relations": ["10", "20", "30", "51", "52"],
        "max_relatives_per_holder": 5,
        "max_holders_per_relative": 3,
        "holder_insutypes": ["310"],
        "relative_insutypes": ["310", "390"],
        "relative_scope": "area",
        "per_txn_cap_fen": 150000,
        "daily_cap_fen": 300000,
        "annual_cap_fen": 0,
        "reserve_fen": 0,
        "verification": "sms_relative",
        "notify_sms": True,
        "binding_valid_days": 365,
        "unbind_by": "either",
        "consent_letter": {"id": "lishui-2024", "version": 1},
        "agent_allowed": True,
        "min_holder_age": 16,
        "minor_age": 14,
        "offline_queue_max_count": 200,
        "offline_queue_max_age_hours": 72,
    }
    raw.update(overrides)
    return raw


def make_policy(**overrides: Any) -> AreaPolicy:
    return parse_policy(policy_dict(**overrides))


def holder(**overrides: Any) -> Person:
    """An employee-insured holder in Lishui, born 1970-06-15 (55 on TODAY)."""
    values: dict[str, Any] = {
        "psn_no": "H0001",
        "birth_date": dt.date(1970, 6, 15),
        "sex": Sex.MALE,
        "insutype": "310",
        "insu_status": "1",
        "insured_admdvs": LISHUI,
    }
    values.update(overrides)
    return Person(**values)


def relative(**overrides: Any) -> Person:
    """The holder's father by default: male, born 1944-03-01, resident-insured in Lishui."""
    values: dict[str, Any] = {
        "psn_no": "R0001",
        "birth_date": dt.date(1944, 3, 1),
        "sex": Sex.MALE,
        "insutype": "390",
        "insu_status": "1",
        "insured_admdvs": LISHUI,
    }
    values.update(overrides)
    return Person(**values)


def years_before(day: dt.date, years: int, days: int = 0) -> dt.date:
    """`day` moved back `years` calendar years (29 Feb becomes 28 Feb), then `days` further back."""
    try:
        moved = day.replace(year=day.year - years)
    except ValueError:
        moved = day.replace(year=day.year - years, day=28)
    return moved - dt.timedelta(days=days)
