"""Who may bind whom: holder and relative eligibility, relation plausibility, duplicates and caps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from kiosk.domain.errors import Ineligible
from kiosk.domain.household import RegisterEntry, check_against_register
from kiosk.domain.idnumber import age_on
from kiosk.domain.policy import AreaPolicy, Scope, UnbindBy, Verification
from kiosk.domain.relations import Generation, Sex, relation

STATUS_NORMAL = "1"  # psn_insu_stas: 1 正常参保, 2 暂停, 4 终止

# Youngest age gap between one generation and the next that the kiosk accepts without staff (a parent
# 14 years older than a child is rare but real; younger gaps are almost surely a typing mistake).
MIN_GENERATION_GAP_YEARS = 14
# Legal marriage age by sex (Civil Code art. 1047): men 22, women 20.
MIN_SPOUSE_AGE = {Sex.MALE: 22, Sex.FEMALE: 20}


@dataclass(frozen=True, slots=True)
class Person:
    """A person as the rules see them (the registry's 人员信息, without the things rules don't need)."""

    psn_no: str
    birth_date: dt.date
    sex: Sex
    insutype: str  # 310 employee, 390 resident
    insu_status: str  # 1 normal, 2 suspended, 4 terminated
    insured_admdvs: str  # the planning area where they are insured (参保地)

    def age(self, today: dt.date) -> int:
        return age_on(self.birth_date, today)


def check_holder(holder: Person, policy: AreaPolicy, today: dt.date) -> None:
    """Raise Ineligible when `holder` may not share their personal account in `policy`'s area."""
    if holder.insutype not in policy.holder_insutypes:
        raise Ineligible("holder_not_employee_insured", insutype=holder.insutype)
    if holder.insu_status != STATUS_NORMAL:
        raise Ineligible("holder_status_not_normal", status=holder.insu_status)
    if holder.insured_admdvs != policy.admdvs:
        raise Ineligible("holder_not_insured_in_area", area=policy.admdvs)
    if holder.age(today) < policy.min_holder_age:
        raise Ineligible("holder_too_young", min_age=policy.min_holder_age)


def in_scope(relative_admdvs: str, policy: AreaPolicy) -> bool:
    if policy.relative_scope is Scope.NATIONAL:
        return True
    if policy.relative_scope is Scope.PROVINCE:
        return relative_admdvs[:2] == policy.province
    return relative_admdvs == policy.admdvs


def check_relation_plausible(holder: Person, relative: Person, relation_code: str, today: dt.date) -> None:
    """Sex and age must fit the relation: a father is male and older, a younger sister female and younger."""
    rel = relation(relation_code)
    if rel.sex is not None and relative.sex != rel.sex:
        raise Ineligible("relation_sex_mismatch", relation=relation_code)
    gap = _years_between(relative.birth_date, holder.birth_date)  # > 0: the relative is older
    generation = int(rel.generation)
    if generation > 0 and gap < MIN_GENERATION_GAP_YEARS * generation:
        raise Ineligible("relation_age_implausible", relation=relation_code)
    if generation < 0 and -gap < MIN_GENERATION_GAP_YEARS * -generation:
        raise Ineligible("relation_age_implausible", relation=relation_code)
    if rel.generation is Generation.SAME:
        # Twins share a birth date and are still 兄/弟/姐/妹 to each other: only the wrong order is refused.
        if rel.older is True and relative.birth_date > holder.birth_date:
            raise Ineligible("relation_age_implausible", relation=relation_code)
        if rel.older is False and relative.birth_date < holder.birth_date:
            raise Ineligible("relation_age_implausible", relation=relation_code)
        if rel.older is None and any(p.age(today) < MIN_SPOUSE_AGE[p.sex] for p in (holder, relative)):
            raise Ineligible("relation_age_implausible", relation=relation_code)


def _years_between(earlier: dt.date, later: dt.date) -> int:
    """Whole years from `earlier` to `later`; negative when `earlier` is in fact later."""
    if earlier <= later:
        return age_on(earlier, later)
    return -age_on(later, earlier)


def check_binding(
    holder: Person,
    relative: Person,
    relation_code: str,
    policy: AreaPolicy,
    today: dt.date,
    *,
    holder_active_relatives: Collection[str],
    relative_active_holder_count: int,
    holder_register: RegisterEntry | None = None,
    relative_register: RegisterEntry | None = None,
) -> None:
    """Every rule for a new binding, in the order a citizen should hear about them.

    `holder_active_relatives` are the psn_no of relatives the holder already shares with in this area;
    `relative_active_holder_count` counts the holders already sharing with this relative; the register
    entries are the two people's lines in the household register, None for someone it does not list.
    """
    check_holder(holder, policy, today)
    if relative.psn_no == holder.psn_no:
        raise Ineligible("relative_is_holder")
    if relation_code not in policy.allowed_relations:
        relation(relation_code)  # an unknown code says so, rather than "not allowed here"
        raise Ineligible("relation_not_allowed", relation=relation_code, area=policy.admdvs)
    if relative.insutype not in policy.relative_insutypes:
        raise Ineligible("relative_not_insured", insutype=relative.insutype)
    if relative.insu_status != STATUS_NORMAL:
        raise Ineligible("relative_status_not_normal", status=relative.insu_status)
    if not in_scope(relative.insured_admdvs, policy):
        raise Ineligible("relative_out_of_scope", scope=policy.relative_scope.value)
    check_relation_plausible(holder, relative, relation_code, today)
    check_against_register(relation_code, holder_register, relative_register)
    if relative.psn_no in holder_active_relatives:
        raise Ineligible("duplicate_binding")
    if len(holder_active_relatives) >= policy.max_relatives_per_holder:
        raise Ineligible("holder_relatives_cap", cap=policy.max_relatives_per_holder)
    if relative_active_holder_count >= policy.max_holders_per_relative:
        raise Ineligible("relative_holders_cap", cap=policy.max_holders_per_relative)


def required_verifications(policy: AreaPolicy, relative: Person, today: dt.date) -> frozenset[str]:
    """What the relative must show: {"sms"}, {"card"}, both or none. Minors never get an SMS."""
    needed = {
        Verification.NONE: set(),
        Verification.SMS_RELATIVE: {"sms"},
        Verification.RELATIVE_CARD: {"card"},
        Verification.BOTH: {"sms", "card"},
    }[policy.verification]
    if is_minor(policy, relative, today):
        needed.discard("sms")
    return frozenset(needed)


def is_minor(policy: AreaPolicy, person: Person, today: dt.date) -> bool:
    return person.age(today) < policy.minor_age


def binding_valid_until(policy: AreaPolicy, start: dt.date) -> dt.date | None:
    """Last day the binding is in force, or None when open-ended."""
    if policy.binding_valid_days == 0:
        return None
    return start + dt.timedelta(days=policy.binding_valid_days - 1)


def check_may_unbind(policy: AreaPolicy, actor_is_holder: bool) -> None:
    """Either side may end the authorisation (seed 003 rule 四) unless the area says otherwise."""
    if policy.unbind_by is UnbindBy.EITHER:
        return
    if (policy.unbind_by is UnbindBy.HOLDER) != actor_is_holder:
        raise Ineligible("unbind_not_allowed_for_side", unbind_by=policy.unbind_by.value)
