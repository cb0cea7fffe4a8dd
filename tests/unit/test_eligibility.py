"""Who may bind whom: holder, relative, relation plausibility, duplicates, caps, verification, unbinding."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from kiosk.domain.eligibility import (
    MIN_GENERATION_GAP_YEARS,
    MIN_SPOUSE_AGE,
    Person,
    binding_valid_until,
    check_binding,
    check_holder,
    check_may_unbind,
    check_relation_plausible,
    in_scope,
    is_minor,
    required_verifications,
)
from kiosk.domain.errors import DomainError, Ineligible
from kiosk.domain.policy import AreaPolicy
from kiosk.domain.relations import ALL_CLOSE_RELATIVES, Sex
from tests.support.factories import LISHUI, TODAY, holder, make_policy, relative, years_before

M, F = Sex.MALE, Sex.FEMALE
HOLDER_BIRTH = dt.date(1970, 6, 15)  # the factory holder


def refused(call: Callable[[], object], key: str) -> Ineligible:
    with pytest.raises(Ineligible) as info:
        call()
    assert info.value.key == key
    assert str(info.value).startswith(key)
    assert isinstance(info.value, DomainError)
    return info.value


def bind(
    h: Person | None = None,
    r: Person | None = None,
    code: str = "51",
    policy: AreaPolicy | None = None,
    active: tuple[str, ...] = (),
    count: int = 0,
    today: dt.date = TODAY,
) -> None:
    check_binding(
        h or holder(),
        r or relative(),
        code,
        policy or make_policy(),
        today,
        holder_active_relatives=active,
        relative_active_holder_count=count,
    )


def everyone() -> AreaPolicy:
    """A policy that allows every close relative from anywhere, so only plausibility can refuse."""
    return make_policy(allowed_relations=list(ALL_CLOSE_RELATIVES), relative_scope="national")


def test_the_factory_binding_is_allowed() -> None:
    assert bind() is None
    assert check_holder(holder(), make_policy(), TODAY) is None


# ---- the holder --------------------------------------------------------------------------------


@pytest.mark.parametrize("insutype", ["390", "320", "", "31"])
def test_holder_must_be_employee_insured(insutype: str) -> None:
    exc = refused(
        lambda: check_holder(holder(insutype=insutype), make_policy(), TODAY), "holder_not_employee_insured"
    )
    assert exc.params == {"insutype": insutype}


def test_holder_insutypes_come_from_the_policy() -> None:
    policy = make_policy(holder_insutypes=["310", "390"])
    assert check_holder(holder(insutype="390"), policy, TODAY) is None


@pytest.mark.parametrize("status", ["2", "4", "0", ""])
def test_holder_status_must_be_normal(status: str) -> None:
    exc = refused(
        lambda: check_holder(holder(insu_status=status), make_policy(), TODAY), "holder_status_not_normal"
    )
    assert exc.params == {"status": status}


@pytest.mark.parametrize("area", ["331123", "330100", "331101", ""])
def test_holder_must_be_insured_in_the_area(area: str) -> None:
    exc = refused(
        lambda: check_holder(holder(insured_admdvs=area), make_policy(), TODAY), "holder_not_insured_in_area"
    )
    assert exc.params == {"area": LISHUI}


@pytest.mark.parametrize(
    ("birth", "ok"),
    [
        (years_before(TODAY, 16), True),  # 16th birthday today
        (years_before(TODAY, 16, days=-1), False),  # 16 tomorrow
        (years_before(TODAY, 15), False),
        (years_before(TODAY, 70), True),
    ],
)
def test_holder_minimum_age(birth: dt.date, ok: bool) -> None:
    call = lambda: check_holder(holder(birth_date=birth), make_policy(min_holder_age=16), TODAY)  # noqa: E731
    if ok:
        assert call() is None
    else:
        assert refused(call, "holder_too_young").params == {"min_age": 16}


def test_holder_checks_in_order() -> None:
    policy = make_policy()
    young = years_before(TODAY, 10)
    faults: list[tuple[str, dict[str, Any]]] = [
        ("holder_not_employee_insured", {"insutype": "390"}),
        ("holder_status_not_normal", {"insu_status": "4"}),
        ("holder_not_insured_in_area", {"insured_admdvs": "331123"}),
        ("holder_too_young", {"birth_date": young}),
    ]
    for i, (key, _) in enumerate(faults):
        overrides = {k: v for _, kv in faults[i:] for k, v in kv.items()}
        refused(lambda overrides=overrides: check_holder(holder(**overrides), policy, TODAY), key)


# ---- scope -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "relative_area", "ok"),
    [
        ("area", LISHUI, True),
        ("area", "331123", False),  # same province, another area
        ("area", "440304", False),
        ("province", LISHUI, True),
        ("province", "331123", True),
        ("province", "330102", True),
        ("province", "440304", False),
        ("province", "130102", False),
        ("national", LISHUI, True),
        ("national", "440304", True),
        ("national", "130102", True),
    ],
)
def test_relative_scope(scope: str, relative_area: str, ok: bool) -> None:
    policy = make_policy(relative_scope=scope)
    assert in_scope(relative_area, policy) is ok
    call = lambda: bind(r=relative(insured_admdvs=relative_area), policy=policy)  # noqa: E731
    if ok:
        assert call() is None
    else:
        assert refused(call, "relative_out_of_scope").params == {"scope": scope}


# ---- the relative ------------------------------------------------------------------------------


def test_relative_may_not_be_the_holder() -> None:
    refused(lambda: bind(r=relative(psn_no="H0001")), "relative_is_holder")


@pytest.mark.parametrize("code", ["61", "62", "41", "71", "77"])
def test_known_relation_not_allowed_in_the_area(code: str) -> None:
    exc = refused(lambda: bind(code=code), "relation_not_allowed")
    assert exc.params == {"relation": code, "area": LISHUI}


@pytest.mark.parametrize("code", ["99", "72", "", "5"])
def test_unknown_relation_code_says_unknown_rather_than_not_allowed(code: str) -> None:
    exc = refused(lambda: bind(code=code), "relation_unknown")
    assert exc.params == {"code": code}


@pytest.mark.parametrize("insutype", ["310", "390"])
def test_relative_may_be_employee_or_resident_insured(insutype: str) -> None:
    assert bind(r=relative(insutype=insutype)) is None


@pytest.mark.parametrize("insutype", ["320", "", "39"])
def test_relative_must_have_basic_medical_insurance(insutype: str) -> None:
    exc = refused(lambda: bind(r=relative(insutype=insutype)), "relative_not_insured")
    assert exc.params == {"insutype": insutype}


def test_relative_insutypes_come_from_the_policy() -> None:
    policy = make_policy(relative_insutypes=["310"])
    refused(lambda: bind(r=relative(insutype="390"), policy=policy), "relative_not_insured")


@pytest.mark.parametrize("status", ["2", "4"])
def test_relative_status_must_be_normal(status: str) -> None:
    exc = refused(lambda: bind(r=relative(insu_status=status)), "relative_status_not_normal")
    assert exc.params == {"status": status}


# ---- relation plausibility: sex ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "birth", "sex"),
    [
        ("51", dt.date(1944, 3, 1), F),  # a father must be male
        ("52", dt.date(1944, 3, 1), M),  # a mother female
        ("20", dt.date(1995, 3, 1), F),  # a son male
        ("30", dt.date(1995, 3, 1), M),  # a daughter female
        ("61", dt.date(1920, 3, 1), F),
        ("64", dt.date(1920, 3, 1), M),
        ("42", dt.date(2020, 3, 1), M),
        ("71", dt.date(1968, 3, 1), F),
        ("77", dt.date(1975, 3, 1), M),
    ],
)
def test_relation_sex_mismatch(code: str, birth: dt.date, sex: Sex) -> None:
    other = M if sex is F else F
    assert check_relation_plausible(holder(), relative(birth_date=birth, sex=other), code, TODAY) is None
    exc = refused(
        lambda: check_relation_plausible(holder(), relative(birth_date=birth, sex=sex), code, TODAY),
        "relation_sex_mismatch",
    )
    assert exc.params == {"relation": code}
    refused(
        lambda: bind(r=relative(birth_date=birth, sex=sex), code=code, policy=everyone()),
        "relation_sex_mismatch",
    )


@pytest.mark.parametrize("sex", [M, F])
def test_a_spouse_may_be_of_either_sex_on_record(sex: Sex) -> None:
    assert (
        check_relation_plausible(holder(), relative(birth_date=dt.date(1972, 1, 1), sex=sex), "10", TODAY)
        is None
    )


# ---- relation plausibility: age ----------------------------------------------------------------

# (code, sex, relative's birth date, plausible?) for the holder born 1970-06-15
AGE_CASES = [
    # parents: at least 14 years older
    ("51", M, dt.date(1956, 6, 15), True),
    ("51", M, dt.date(1956, 6, 16), False),
    ("52", F, dt.date(1940, 1, 1), True),
    ("52", F, dt.date(1960, 1, 1), False),
    ("52", F, dt.date(1985, 1, 1), False),  # younger than the holder
    ("51", M, HOLDER_BIRTH, False),
    # grandparents: at least 28 years older
    ("61", M, dt.date(1942, 6, 15), True),
    ("62", F, dt.date(1942, 6, 16), False),
    ("63", M, dt.date(1950, 1, 1), False),  # old enough to be a parent, not a grandparent
    ("64", F, dt.date(1910, 1, 1), True),
    # children: at least 14 years younger
    ("20", M, dt.date(1984, 6, 15), True),
    ("30", F, dt.date(1984, 6, 14), False),
    ("30", F, dt.date(2024, 12, 1), True),
    ("20", M, dt.date(1960, 1, 1), False),  # older than the holder
    # grandchildren: at least 28 years younger
    ("41", M, dt.date(1998, 6, 15), True),
    ("42", F, dt.date(1998, 6, 14), False),
    ("43", M, dt.date(1990, 1, 1), False),  # young enough to be a child, not a grandchild
    ("44", F, dt.date(2020, 1, 1), True),
    # elder siblings: born earlier, or twins (the same day)
    ("71", M, dt.date(1970, 6, 14), True),
    ("71", M, HOLDER_BIRTH, True),
    ("75", F, dt.date(1960, 1, 1), True),
    ("75", F, dt.date(1970, 6, 16), False),
    # younger siblings: born later, or twins
    ("73", M, dt.date(1970, 6, 16), True),
    ("73", M, HOLDER_BIRTH, True),
    ("77", F, dt.date(1980, 1, 1), True),
    ("77", F, dt.date(1970, 6, 14), False),
]


@pytest.mark.parametrize(("code", "sex", "birth", "ok"), AGE_CASES)
def test_relation_age_plausibility(code: str, sex: Sex, birth: dt.date, ok: bool) -> None:
    r = relative(birth_date=birth, sex=sex)
    if ok:
        assert check_relation_plausible(holder(), r, code, TODAY) is None
        assert bind(r=r, code=code, policy=everyone()) is None
    else:
        exc = refused(lambda: check_relation_plausible(holder(), r, code, TODAY), "relation_age_implausible")
        assert exc.params == {"relation": code}
        refused(lambda: bind(r=r, code=code, policy=everyone()), "relation_age_implausible")


def test_generation_gap_constants() -> None:
    assert MIN_GENERATION_GAP_YEARS == 14
    assert MIN_SPOUSE_AGE == {Sex.MALE: 22, Sex.FEMALE: 20}


@pytest.mark.parametrize(
    ("holder_age", "spouse_age", "ok"),
    [
        (55, 53, True),
        (22, 20, True),  # the legal ages: men 22, women 20
        (25, 19, False),  # the wife is under 20
        (21, 25, False),  # the husband is under 22 (allowed as a holder from 16)
        (30, 0, False),
    ],
)
def test_spouses_under_the_legal_marriage_age_are_implausible(
    holder_age: int, spouse_age: int, ok: bool
) -> None:
    h = holder(birth_date=years_before(TODAY, holder_age))
    r = relative(birth_date=years_before(TODAY, spouse_age), sex=F)
    if ok:
        assert check_relation_plausible(h, r, "10", TODAY) is None
        assert bind(h=h, r=r, code="10") is None
    else:
        assert refused(
            lambda: check_relation_plausible(h, r, "10", TODAY), "relation_age_implausible"
        ).params == {"relation": "10"}
        refused(lambda: bind(h=h, r=r, code="10"), "relation_age_implausible")


def test_spouse_age_counts_on_the_given_day() -> None:
    r = relative(birth_date=dt.date(2005, 6, 16), sex=F)  # 20 on 2025-06-16
    refused(lambda: check_relation_plausible(holder(), r, "10", TODAY), "relation_age_implausible")
    assert check_relation_plausible(holder(), r, "10", dt.date(2025, 6, 16)) is None


def test_plausibility_of_an_unknown_code_is_an_error() -> None:
    refused(lambda: check_relation_plausible(holder(), relative(), "99", TODAY), "relation_unknown")


# ---- duplicates and caps -----------------------------------------------------------------------


def test_duplicate_binding() -> None:
    refused(lambda: bind(active=("R0001",)), "duplicate_binding")
    refused(lambda: bind(active=("R0009", "R0001")), "duplicate_binding")


@pytest.mark.parametrize(("already", "ok"), [(0, True), (4, True), (5, False), (7, False)])
def test_cap_on_relatives_per_holder(already: int, ok: bool) -> None:
    active = tuple(f"R9{i:03d}" for i in range(already))
    if ok:
        assert bind(active=active) is None
    else:
        assert refused(lambda: bind(active=active), "holder_relatives_cap").params == {"cap": 5}


def test_cap_on_relatives_per_holder_comes_from_the_policy() -> None:
    policy = make_policy(max_relatives_per_holder=1)
    refused(lambda: bind(active=("R9000",), policy=policy), "holder_relatives_cap")


@pytest.mark.parametrize(("count", "ok"), [(0, True), (2, True), (3, False), (9, False)])
def test_cap_on_holders_per_relative(count: int, ok: bool) -> None:
    if ok:
        assert bind(count=count) is None
    else:
        assert refused(lambda: bind(count=count), "relative_holders_cap").params == {"cap": 3}


def test_one_holder_per_relative_area() -> None:
    policy = make_policy(max_holders_per_relative=1)  # Quzhou: a relative may be bound by one holder only
    assert bind(policy=policy, count=0) is None
    refused(lambda: bind(policy=policy, count=1), "relative_holders_cap")


# ---- order of the checks -----------------------------------------------------------------------


def test_binding_checks_in_the_order_a_citizen_hears_them() -> None:
    """Each fault alone is refused with its key, and with all later faults present it still comes first."""

    def holder_birth(s: dict[str, Any]) -> dt.date:
        return s["holder"].get("birth_date", HOLDER_BIRTH)

    faults: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("holder_not_employee_insured", lambda s: s["holder"].update(insutype="390")),
        ("holder_status_not_normal", lambda s: s["holder"].update(insu_status="2")),
        ("holder_not_insured_in_area", lambda s: s["holder"].update(insured_admdvs="331123")),
        ("holder_too_young", lambda s: s["holder"].update(birth_date=years_before(TODAY, 15))),
        ("relative_is_holder", lambda s: s["relative"].update(psn_no="H0001")),
        ("relation_not_allowed", lambda s: s.update(code="61")),
        ("relative_not_insured", lambda s: s["relative"].update(insutype="320")),
        ("relative_status_not_normal", lambda s: s["relative"].update(insu_status="4")),
        ("relative_out_of_scope", lambda s: s["relative"].update(insured_admdvs="440304")),
        ("relation_sex_mismatch", lambda s: s["relative"].update(sex=F)),
        ("relation_age_implausible", lambda s: s["relative"].update(age_fault=True)),
        ("duplicate_binding", lambda s: s.update(dup=True)),
        ("holder_relatives_cap", lambda s: s.update(full=True)),
        ("relative_holders_cap", lambda s: s.update(count=3)),
    ]

    def build(applied: list[Callable[[dict[str, Any]], None]]) -> Callable[[], None]:
        state: dict[str, Any] = {
            "holder": {},
            "relative": {},
            "code": "51",
            "dup": False,
            "full": False,
            "count": 0,
        }
        for apply in applied:
            apply(state)
        rel = dict(state["relative"])
        if rel.pop("age_fault", False):
            rel["birth_date"] = years_before(holder_birth(state), -1)  # a father younger than the holder
        h, r = holder(**state["holder"]), relative(**rel)
        active = tuple(f"R9{i:03d}" for i in range(5)) if state["full"] else ()
        if state["dup"]:
            active += (r.psn_no,)
        return lambda: bind(h=h, r=r, code=state["code"], active=active, count=state["count"])

    assert build([])() is None
    for i, (key, _) in enumerate(faults):
        refused(build([faults[i][1]]), key)
        refused(build([apply for _, apply in faults[i:]]), key)


# ---- verification ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verification", "adult", "minor"),
    [
        ("none", set(), set()),
        ("sms_relative", {"sms"}, set()),
        ("relative_card", {"card"}, {"card"}),
        ("both", {"sms", "card"}, {"card"}),
    ],
)
def test_required_verifications(verification: str, adult: set[str], minor: set[str]) -> None:
    policy = make_policy(verification=verification, minor_age=14)
    grown = relative(birth_date=years_before(TODAY, 14))  # 14 today: no longer a minor
    child = relative(birth_date=years_before(TODAY, 14, days=-1))  # 14 tomorrow
    assert required_verifications(policy, grown, TODAY) == frozenset(adult)
    assert required_verifications(policy, child, TODAY) == frozenset(minor)
    assert isinstance(required_verifications(policy, grown, TODAY), frozenset)


@pytest.mark.parametrize("minor_age", [14, 16, 18])
@pytest.mark.parametrize("age", [0, 5, 13, 17])
def test_minors_never_get_an_sms(minor_age: int, age: int) -> None:
    policy = make_policy(verification="both", minor_age=minor_age)
    person = relative(birth_date=years_before(TODAY, age))
    needed = required_verifications(policy, person, TODAY)
    assert ("sms" in needed) is (age >= minor_age)
    assert is_minor(policy, person, TODAY) is (age < minor_age)


def test_verification_does_not_leak_between_calls() -> None:
    policy = make_policy(verification="both")
    child = relative(birth_date=years_before(TODAY, 5))
    assert required_verifications(policy, child, TODAY) == {"card"}
    assert required_verifications(policy, relative(), TODAY) == {"sms", "card"}


def test_minor_age_zero_means_nobody_is_a_minor() -> None:
    policy = make_policy(minor_age=0)
    baby = relative(birth_date=TODAY)
    assert is_minor(policy, baby, TODAY) is False
    assert required_verifications(policy, baby, TODAY) == {"sms"}


# ---- validity period ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "start", "until"),
    [
        (0, dt.date(2025, 1, 1), None),
        (1, dt.date(2025, 1, 1), dt.date(2025, 1, 1)),
        (2, dt.date(2025, 12, 31), dt.date(2026, 1, 1)),
        (365, dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        (365, dt.date(2025, 6, 15), dt.date(2026, 6, 14)),
        (366, dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
        (30, dt.date(2024, 2, 15), dt.date(2024, 3, 15)),
    ],
)
def test_binding_valid_until_counts_days_inclusively(
    days: int, start: dt.date, until: dt.date | None
) -> None:
    policy = make_policy(binding_valid_days=days)
    got = binding_valid_until(policy, start)
    assert got == until
    if got is not None:
        assert (got - start).days + 1 == days


# ---- unbinding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unbind_by", "actor_is_holder", "ok"),
    [
        ("either", True, True),
        ("either", False, True),
        ("holder", True, True),
        ("holder", False, False),
        ("relative", True, False),
        ("relative", False, True),
    ],
)
def test_check_may_unbind(unbind_by: str, actor_is_holder: bool, ok: bool) -> None:
    policy = make_policy(unbind_by=unbind_by)
    if ok:
        assert check_may_unbind(policy, actor_is_holder) is None
    else:
        exc = refused(lambda: check_may_unbind(policy, actor_is_holder), "unbind_not_allowed_for_side")
        assert exc.params == {"unbind_by": unbind_by}


def test_person_age_and_immutability() -> None:
    person = relative(birth_date=dt.date(1944, 6, 16))
    assert person.age(TODAY) == 80
    assert person.age(dt.date(2025, 6, 16)) == 81
    with pytest.raises(dataclasses.FrozenInstanceError):
        person.sex = F  # type: ignore[misc]
