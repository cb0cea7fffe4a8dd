"""The household register's word on a claimed relation (kiosk/domain/household.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.central.seed import generate_people, household_no
from kiosk.domain.eligibility import Person, check_binding
from kiosk.domain.errors import Ineligible
from kiosk.domain.household import (
    Kin,
    Place,
    RegisterEntry,
    check_against_register,
    claimed_kin,
    codes_of,
    place,
    register_kin,
)
from kiosk.domain.relations import RELATIONS, Sex
from tests.support.factories import TODAY, holder, make_policy, relative, years_before

ONE = "H0000001"


def entry(code: str, household: str = ONE, head_married: bool = False) -> RegisterEntry:
    return RegisterEntry(household, code, head_married)


def mismatch(call: Callable[[], object]) -> None:
    with pytest.raises(Ineligible) as info:
        call()
    assert info.value.key == "relation_mismatch"


# --- codes -----------------------------------------------------------------------------------------------


def test_every_relation_a_binding_names_has_a_place_and_a_kind() -> None:
    for code in RELATIONS:
        assert place(code) not in (None, Place.HEAD, Place.OTHER), code
        assert isinstance(claimed_kin(code), Kin)
    assert [claimed_kin(c) for c in ("10", "20", "30", "51", "52", "61", "43", "71", "77")] == [
        Kin.SPOUSE,
        Kin.CHILD,
        Kin.CHILD,
        Kin.PARENT,
        Kin.PARENT,
        Kin.GRANDPARENT,
        Kin.GRANDCHILD,
        Kin.SIBLING,
        Kin.SIBLING,
    ]


def test_the_head_is_00_01_or_02_and_an_unknown_code_has_no_place() -> None:
    assert codes_of(Place.HEAD) == {"00", "01", "02"}
    assert place("28") is Place.CHILD_IN_LAW and place("55") is Place.PARENT_IN_LAW
    assert place("99") is Place.OTHER and place("72") is Place.OTHER
    assert place("") is None and place("9") is None and place("AA") is None
    assert register_kin("00", "AA") is None


def test_what_one_is_to_the_other_the_other_is_the_inverse_of() -> None:
    for a, b in itertools.product(Place, repeat=2):
        there = register_kin(min(codes_of(a)), min(codes_of(b)))
        back = register_kin(min(codes_of(b)), min(codes_of(a)))
        assert (there is None) == (back is None), (a, b)
        if there is not None and back is not None:
            assert back == {k.inverse() for k in there}, (a, b)


# --- one household ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("holder_code", "relative_code", "kin"),
    [
        ("00", "52", {Kin.PARENT}),  # the head's mother is his mother
        ("00", "10", {Kin.SPOUSE}),
        ("00", "20", {Kin.CHILD}),
        ("00", "38", set()),  # a daughter-in-law is no close relative
        ("00", "99", set()),  # nor is someone the register calls a non-relative
        ("10", "52", set()),  # the head's mother is his wife's mother-in-law
        ("10", "20", {Kin.CHILD}),
        ("10", "55", {Kin.PARENT}),  # the head's parents-in-law are his wife's parents
        ("20", "00", {Kin.PARENT}),
        ("20", "10", {Kin.PARENT}),
        ("20", "30", {Kin.SIBLING}),
        ("20", "51", {Kin.GRANDPARENT}),
        ("20", "71", set()),  # the head's brother is his son's uncle
        ("51", "52", {Kin.SPOUSE}),
        ("51", "71", {Kin.CHILD}),
        ("44", "10", {Kin.GRANDPARENT}),
        ("41", "38", {Kin.PARENT}),  # the daughter-in-law is the grandson's mother (or his aunt)
        ("20", "61", set()),  # three generations apart
    ],
)
def test_the_register_says_what_two_members_are(holder_code: str, relative_code: str, kin: set[Kin]) -> None:
    assert register_kin(holder_code, relative_code) == kin


@pytest.mark.parametrize(
    ("holder_code", "relative_code"),
    [("38", "38"), ("10", "97"), ("28", "53"), ("10", "10"), ("61", "63")],
    ids=["two-daughters-in-law", "vague-code", "in-laws", "two-spouses", "grandparents"],
)
def test_pairs_the_register_does_not_settle(holder_code: str, relative_code: str) -> None:
    assert register_kin(holder_code, relative_code) is None
    check_against_register("71", entry(holder_code), entry(relative_code))  # nothing is refused


def test_a_head_binding_his_mother_as_his_spouse_is_refused() -> None:
    mismatch(lambda: check_against_register("10", entry("00"), entry("52")))
    check_against_register("52", entry("00"), entry("52"))


def test_a_son_claimed_as_a_younger_brother_is_refused() -> None:
    mismatch(lambda: check_against_register("73", entry("00"), entry("20")))


# --- other households, no entry ----------------------------------------------------------------------------


def test_only_a_spouse_the_register_places_elsewhere_is_refused_across_households() -> None:
    married_head, lone_head = entry("00", "H1", head_married=True), entry("00", "H1")
    someone = entry("20", "H2")
    mismatch(lambda: check_against_register("10", married_head, someone))
    mismatch(lambda: check_against_register("10", someone, entry("10", "H3")))  # H3's head's wife
    check_against_register("10", lone_head, someone)  # an unmarried head may marry anyone
    for code in (
        "20",
        "30",
        "51",
        "52",
        "61",
        "41",
        "71",
        "77",
    ):  # an adult child has a household of their own
        check_against_register(code, married_head, someone)
        check_against_register(code, entry("10", "H1"), entry("51", "H2"))


def test_without_an_entry_the_register_says_nothing() -> None:
    for code in RELATIONS:
        check_against_register(code, None, entry("52"))
        check_against_register(code, entry("00"), None)


def test_the_binding_rules_ask_the_register_after_sex_and_age() -> None:
    h = holder()
    register = {"holder_register": entry("00"), "relative_register": entry("52")}  # she is his mother
    mother = relative(sex=Sex.FEMALE, birth_date=years_before(h.birth_date, 25))

    def check(code: str, r: Person = mother) -> None:
        check_binding(
            h,
            r,
            code,
            make_policy(),
            TODAY,
            holder_active_relatives=(),
            relative_active_holder_count=0,
            **register,
        )

    check("52")
    mismatch(lambda: check("10", relative(sex=Sex.FEMALE, birth_date=years_before(h.birth_date, 2))))
    with pytest.raises(Ineligible) as info:  # "father" for a woman: her sex is the plainer reason
        check("51")
    assert info.value.key == "relation_sex_mismatch"


# --- a property: the register never refuses a true relation ------------------------------------------------


@dataclass(eq=False)
class Member:
    sex: Sex
    code: str = ""
    parents: list[Member] = field(default_factory=list)  # birth, adoptive or step-parents who raise them
    spouse: Member | None = None
    household: str = "A"

    def marry(self, other: Member) -> None:
        self.spouse, other.spouse = other, self


def _grandparents(m: Member) -> set[int]:
    return {id(g) for p in m.parents for g in p.parents}


def true_kin(a: Member, b: Member) -> set[Kin]:
    """What `b` is to `a` in the family tree (a step-parent raising a child counts, as in the Civil Code)."""
    kin = set()
    if a.spouse is b:
        kin.add(Kin.SPOUSE)
    if b in a.parents:
        kin.add(Kin.PARENT)
    if a in b.parents:
        kin.add(Kin.CHILD)
    if a is not b and {id(p) for p in a.parents} & {id(p) for p in b.parents}:
        kin.add(Kin.SIBLING)
    if id(b) in _grandparents(a):
        kin.add(Kin.GRANDPARENT)
    if id(a) in _grandparents(b):
        kin.add(Kin.GRANDCHILD)
    return kin


CLAIM = {Kin.SPOUSE: "10", Kin.PARENT: "51", Kin.CHILD: "20", Kin.SIBLING: "71", Kin.GRANDPARENT: "61"}
CLAIM[Kin.GRANDCHILD] = "41"


@st.composite
def families(draw: st.DrawFn) -> list[Member]:
    """A family around a head, each member coded by their relation to the head; an adult child may have
    moved out with their own spouse and children (household B, with its own head)."""
    flip = st.booleans()
    sexes = st.sampled_from(Sex)
    head = Member(draw(sexes), "00")
    father, mother = Member(Sex.MALE, "51"), Member(Sex.FEMALE, "52")
    father.marry(mother)
    head.parents = [father, mother]
    grandparents = [
        Member(Sex.MALE, "61"),
        Member(Sex.FEMALE, "62"),
        Member(Sex.MALE, "63"),
        Member(Sex.FEMALE, "64"),
    ]
    grandparents[0].marry(grandparents[1])
    grandparents[2].marry(grandparents[3])
    father.parents, mother.parents = grandparents[:2], grandparents[2:]
    people = [head, father, mother, *grandparents]
    for _ in range(draw(st.integers(0, 2))):  # brothers and sisters, perhaps married
        sibling = Member(draw(sexes), "70", parents=[father, mother])
        people.append(sibling)
        if draw(flip):
            in_law = Member(Sex.FEMALE if sibling.sex is Sex.MALE else Sex.MALE, "72")
            sibling.marry(in_law)
            people.append(in_law)
    spouse = Member(Sex.FEMALE if head.sex is Sex.MALE else Sex.MALE, "10")
    head.marry(spouse)
    spouse.parents = [Member(Sex.MALE, "53" if head.sex is Sex.FEMALE else "55")]
    spouse.parents.append(Member(Sex.FEMALE, "54" if head.sex is Sex.FEMALE else "56"))
    spouse.parents[0].marry(spouse.parents[1])
    people += [spouse, *spouse.parents]
    children = []
    for _ in range(draw(st.integers(0, 3))):
        sex = draw(sexes)
        kind = draw(st.sampled_from(["ours", "hers", "his"]))  # the couple's, a step-child, the head's own
        child = Member(
            sex,
            ("20" if sex is Sex.MALE else "30") if kind != "hers" else ("27" if sex is Sex.MALE else "37"),
        )
        child.parents = [head, spouse] if kind != "his" or draw(flip) else [head]
        children.append(child)
    people += children
    for child in children:
        if not draw(flip):
            continue
        partner = Member(
            Sex.FEMALE if child.sex is Sex.MALE else Sex.MALE, "38" if child.sex is Sex.MALE else "28"
        )
        child.marry(partner)
        people.append(partner)
        grandchildren = []
        for _ in range(draw(st.integers(0, 2))):
            sex = draw(sexes)
            code = {(Sex.MALE, Sex.MALE): "41", (Sex.MALE, Sex.FEMALE): "42"}.get(
                (child.sex, sex), "43" if sex is Sex.MALE else "44"
            )
            grandchildren.append(Member(sex, code, parents=[child, partner]))
        people += grandchildren
        if draw(flip):  # moved out: the child heads household B, with their spouse and children
            child.code, child.household = "00", "B"
            partner.code, partner.household = "10", "B"
            for g in grandchildren:
                g.code, g.household = "20" if g.sex is Sex.MALE else "30", "B"
    people.append(Member(draw(sexes), "99"))  # a lodger
    registered = [p for p in people if p.code == "00" or draw(flip)]
    return registered


def _entries(people: list[Member]) -> dict[int, RegisterEntry]:
    married = {p.household for p in people if place(p.code) is Place.SPOUSE}
    return {id(p): RegisterEntry(p.household, p.code, head_married=p.household in married) for p in people}


@settings(max_examples=300)
@given(families())
def test_the_register_never_refuses_a_true_relation(people: list[Member]) -> None:
    entries = _entries(people)
    for a, b in itertools.permutations(people, 2):
        for kin in true_kin(a, b):
            check_against_register(CLAIM[kin], entries[id(a)], entries[id(b)])


@settings(max_examples=100)
@given(families())
def test_in_the_heads_household_the_register_names_the_heads_relation_exactly(people: list[Member]) -> None:
    head = next(p for p in people if p.code == "00" and p.household == "A")
    for other in people:
        if other is not head and other.household == "A":
            derived = register_kin(head.code, other.code)
            assert derived is not None and derived == true_kin(head, other), other.code


def test_the_seeds_households_bind_as_they_are_registered() -> None:
    people = generate_people(300, seed=1)
    married = {household_no(p) for p in people if p.relation_to_head == "10"}
    entries = {
        p.psn_no: RegisterEntry(household_no(p), p.relation_to_head, household_no(p) in married)
        for p in people
    }
    heads = {p.household: p for p in people if p.relation_to_head == "00"}
    for p in people:
        head = heads[p.household]
        if p is not head:  # the head binding each member as the register names them
            check_against_register(p.relation_to_head, entries[head.psn_no], entries[p.psn_no])
    family = {p.relation_to_head: p for p in people if p.household == 1}  # demo card 1's
    mismatch(lambda: check_against_register("10", entries[family["00"].psn_no], entries[family["52"].psn_no]))
