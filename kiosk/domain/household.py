"""The household register (户籍): what two people's relations to their household's head prove about them.

The register records each member's relation to the head of their household (户主) as a GB/T 4761-2008
code, not the relations between members. `register_kin` derives from two members' codes which close
relatives (近亲属, Civil Code art. 1045) one may be of the other, and `check_against_register` refuses a
claimed relation the register contradicts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kiosk.domain.errors import Ineligible
from kiosk.domain.relations import Generation, relation


class Kin(enum.Enum):
    """The kinds of close relative the relation codes of a binding name (sex and age are other rules')."""

    SPOUSE = "spouse"
    PARENT = "parent"
    CHILD = "child"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"

    def inverse(self) -> Kin:
        """What the other person is to the first: my parent has me as a child."""
        return _INVERSE[self]


_INVERSE = {
    Kin.SPOUSE: Kin.SPOUSE,
    Kin.SIBLING: Kin.SIBLING,
    Kin.PARENT: Kin.CHILD,
    Kin.CHILD: Kin.PARENT,
    Kin.GRANDPARENT: Kin.GRANDCHILD,
    Kin.GRANDCHILD: Kin.GRANDPARENT,
}


class Place(enum.Enum):
    """Where a register code puts a member relative to the head."""

    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"  # 子/女, adopted and step-children included (养子, 继子: the head raises them)
    CHILD_IN_LAW = "child_in_law"  # 女婿, 儿媳
    GRANDCHILD = "grandchild"
    PARENT = "parent"  # 父亲, 母亲, step- and adoptive parents
    PARENT_IN_LAW = "parent_in_law"  # 公婆, 岳父母: the parents of the head's spouse
    GRANDPARENT = "grandparent"
    SIBLING = "sibling"
    OTHER = "other"  # a sibling's spouse, great-grand-, uncles, cousins, other relatives, non-relatives


def _codes(places: dict[Place, str]) -> dict[str, Place]:
    return {code: p for p, codes in places.items() for code in codes.split()}


# GB/T 4761-2008 by what the code says of the member. "00" is how this registry's seed marks the head; the
# standard has 02 户主 and 01 本人 (which registers use for the head too).
_PLACES = _codes(
    {
        Place.HEAD: "00 01 02",
        Place.SPOUSE: "10 11 12",
        Place.CHILD: "20 21 22 23 24 25 26 27 29 30 31 32 33 34 35 36 37 39",
        Place.CHILD_IN_LAW: "28 38",
        Place.GRANDCHILD: "40 41 42 43 44 49",
        Place.PARENT: "50 51 52 57 58 59",
        Place.PARENT_IN_LAW: "53 54 55 56",
        Place.GRANDPARENT: "60 61 62 63 64 69",
        Place.SIBLING: "70 71 73 75 77 79",
        Place.OTHER: "45 46 47 48 65 66 67 68 72 74 76 78 " + " ".join(str(n) for n in range(80, 100)),
    }
)


def place(code: str) -> Place | None:
    """The place of a register code; None for a code the standard does not have."""
    return _PLACES.get(code)


def codes_of(at: Place) -> frozenset[str]:
    """Every register code that puts a member at this place."""
    return frozenset(code for code, p in _PLACES.items() if p is at)


_NONE: frozenset[Kin] = frozenset()
_P = Place
# What the second member may be to the first, both in one household, for the pairs the register settles.
# An empty set: the register proves they are no close relatives (e.g. the head's spouse and the head's
# mother are in-laws; three generations apart is never close). Pairs absent here (either joined to the
# head only through someone else's marriage, or a code as vague as 97 其他亲属) settle nothing.
_ONE_WAY: dict[tuple[Place, Place], frozenset[Kin]] = {
    (_P.HEAD, _P.SPOUSE): frozenset({Kin.SPOUSE}),
    (_P.HEAD, _P.CHILD): frozenset({Kin.CHILD}),
    (_P.HEAD, _P.PARENT): frozenset({Kin.PARENT}),
    (_P.HEAD, _P.GRANDPARENT): frozenset({Kin.GRANDPARENT}),
    (_P.HEAD, _P.GRANDCHILD): frozenset({Kin.GRANDCHILD}),
    (_P.HEAD, _P.SIBLING): frozenset({Kin.SIBLING}),
    (_P.HEAD, _P.CHILD_IN_LAW): _NONE,
    (_P.HEAD, _P.PARENT_IN_LAW): _NONE,
    (_P.HEAD, _P.OTHER): _NONE,
    (_P.SPOUSE, _P.CHILD): frozenset({Kin.CHILD}),  # their child, or a step-child the couple raises
    (_P.SPOUSE, _P.GRANDCHILD): frozenset({Kin.GRANDCHILD}),
    (_P.SPOUSE, _P.PARENT): _NONE,  # parents-in-law
    (_P.SPOUSE, _P.GRANDPARENT): _NONE,
    (_P.SPOUSE, _P.SIBLING): _NONE,
    (_P.SPOUSE, _P.PARENT_IN_LAW): frozenset({Kin.PARENT}),  # the head's parents-in-law are the spouse's
    (_P.CHILD, _P.CHILD): frozenset({Kin.SIBLING}),
    (_P.CHILD, _P.PARENT): frozenset({Kin.GRANDPARENT}),
    (_P.CHILD, _P.PARENT_IN_LAW): frozenset({Kin.GRANDPARENT}),
    (_P.CHILD, _P.GRANDPARENT): _NONE,
    (_P.CHILD, _P.GRANDCHILD): frozenset({Kin.CHILD}),  # their own child, or a nephew or niece
    (_P.CHILD, _P.CHILD_IN_LAW): frozenset({Kin.SPOUSE}),  # their spouse, or a sibling's
    (_P.CHILD, _P.SIBLING): _NONE,  # uncles and aunts
    (_P.PARENT, _P.PARENT): frozenset({Kin.SPOUSE}),
    (_P.PARENT, _P.GRANDPARENT): frozenset({Kin.PARENT}),  # their parent, or a parent-in-law
    (_P.PARENT, _P.SIBLING): frozenset({Kin.CHILD}),
    (_P.PARENT, _P.GRANDCHILD): _NONE,
    (_P.GRANDPARENT, _P.SIBLING): frozenset({Kin.GRANDCHILD}),
    (_P.GRANDPARENT, _P.GRANDCHILD): _NONE,
    (_P.GRANDCHILD, _P.GRANDCHILD): frozenset({Kin.SIBLING}),  # siblings, or cousins
    (_P.GRANDCHILD, _P.CHILD_IN_LAW): frozenset({Kin.PARENT}),  # a parent, or an uncle's or aunt's spouse
    (_P.GRANDCHILD, _P.SIBLING): _NONE,
    (_P.SIBLING, _P.SIBLING): frozenset({Kin.SIBLING}),
}
_SAME_HOUSEHOLD: dict[tuple[Place, Place], frozenset[Kin]] = {
    **_ONE_WAY,
    **{(b, a): frozenset(k.inverse() for k in kin) for (a, b), kin in _ONE_WAY.items()},
}


def register_kin(holder_code: str, relative_code: str) -> frozenset[Kin] | None:
    """What the relative may be to the holder, both in one household, by their codes relative to its head.

    A set of the close relations the register leaves possible (empty: none), or None when the register
    settles nothing for this pair.
    """
    holder_place, relative_place = place(holder_code), place(relative_code)
    if holder_place is None or relative_place is None:
        return None
    return _SAME_HOUSEHOLD.get((holder_place, relative_place))


def claimed_kin(relation_code: str) -> Kin:
    """The kind of close relative a binding's relation code names (an unknown code is an error)."""
    rel = relation(relation_code)
    if rel.generation is Generation.SAME:
        return Kin.SPOUSE if rel.older is None else Kin.SIBLING
    return {
        Generation.PARENT: Kin.PARENT,
        Generation.GRANDPARENT: Kin.GRANDPARENT,
        Generation.CHILD: Kin.CHILD,
        Generation.GRANDCHILD: Kin.GRANDCHILD,
    }[rel.generation]


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """A person's line in the household register."""

    household_no: str
    relation_to_head: str
    head_married: bool = False
    """Whether the household lists a spouse of its head."""

    @property
    def spouse_in_household(self) -> bool:
        """The register shows this person's spouse in their own household: the head's spouse (the head is
        there), or the head of a household that lists a spouse."""
        at = place(self.relation_to_head)
        return at is Place.SPOUSE or (at is Place.HEAD and self.head_married)


def check_against_register(
    relation_code: str, holder: RegisterEntry | None, relative: RegisterEntry | None
) -> None:
    """Refuse (`relation_mismatch`) a claimed relation the household register contradicts.

    - Either person not in the register: the register says nothing, nothing is refused.
    - Both in one household: the relation derived from their two relations to the head
      (`register_kin`) must allow the claim, where it settles the pair at all.
    - In different households, only a spouse is settled: someone whose spouse the register shows in
      their own household (the head's spouse, or a head with a spouse listed) is married to someone
      there, so not to a person of another household. Parents, children, siblings and grandparents often
      live apart (an adult child has a household of their own), so no other claim is refused there.
    """
    if holder is None or relative is None:
        return
    claim = claimed_kin(relation_code)
    if holder.household_no == relative.household_no:
        allowed = register_kin(holder.relation_to_head, relative.relation_to_head)
        if allowed is not None and claim not in allowed:
            raise Ineligible("relation_mismatch", relation=relation_code)
    elif claim is Kin.SPOUSE and (holder.spouse_in_household or relative.spouse_in_household):
        raise Ineligible("relation_mismatch", relation=relation_code)
