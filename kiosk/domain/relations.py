"""Relations of a relative to the holder as GB/T 4761-2008 family-relation codes (家庭关系代码)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Sex(enum.StrEnum):
    MALE = "1"
    FEMALE = "2"


class Generation(enum.IntEnum):
    """How many generations the relative stands above (+) or below (-) the holder."""

    GRANDPARENT = 2
    PARENT = 1
    SAME = 0
    CHILD = -1
    GRANDCHILD = -2


@dataclass(frozen=True, slots=True)
class Relation:
    code: str
    name_zh: str
    name_en: str
    generation: Generation
    sex: Sex | None  # None: either sex (配偶)
    older: bool | None = None  # siblings: must the relative be older (兄/姐) or younger (弟/妹)?

    def name(self, lang: str) -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en


# The close relatives (近亲属, Civil Code art. 1045) that GB/T 4761 names one by one. In-law codes of the
# standard (72 嫂, 74 弟媳, 53-56 公婆/岳父母 ...) are not close relatives and are left out on purpose.
_M, _F = Sex.MALE, Sex.FEMALE
RELATIONS: dict[str, Relation] = {
    r.code: r
    for r in (
        Relation("10", "配偶", "spouse", Generation.SAME, None),
        Relation("20", "子", "son", Generation.CHILD, _M),
        Relation("30", "女", "daughter", Generation.CHILD, _F),
        Relation("51", "父亲", "father", Generation.PARENT, _M),
        Relation("52", "母亲", "mother", Generation.PARENT, _F),
        Relation("61", "祖父", "paternal grandfather", Generation.GRANDPARENT, _M),
        Relation("62", "祖母", "paternal grandmother", Generation.GRANDPARENT, _F),
        Relation("63", "外祖父", "maternal grandfather", Generation.GRANDPARENT, _M),
        Relation("64", "外祖母", "maternal grandmother", Generation.GRANDPARENT, _F),
        Relation("41", "孙子", "grandson (son's son)", Generation.GRANDCHILD, _M),
        Relation("42", "孙女", "granddaughter (son's daughter)", Generation.GRANDCHILD, _F),
        Relation("43", "外孙子", "grandson (daughter's son)", Generation.GRANDCHILD, _M),
        Relation("44", "外孙女", "granddaughter (daughter's daughter)", Generation.GRANDCHILD, _F),
        Relation("71", "兄", "elder brother", Generation.SAME, _M, older=True),
        Relation("73", "弟", "younger brother", Generation.SAME, _M, older=False),
        Relation("75", "姐姐", "elder sister", Generation.SAME, _F, older=True),
        Relation("77", "妹妹", "younger sister", Generation.SAME, _F, older=False),
    )
}

# The original national rule (国办发〔2021〕14号) and the five relations of the Lishui 2016 text (seed 003).
SPOUSE_PARENTS_CHILDREN = ("10", "20", "30", "51", "52")
ALL_CLOSE_RELATIVES = tuple(RELATIONS)


def relation(code: str) -> Relation:
    """The relation for a GB/T 4761 code; an unknown code is an error, never a guess."""
    try:
        return RELATIONS[code]
    except KeyError:
        from kiosk.domain.errors import Ineligible

        raise Ineligible("relation_unknown", f"unknown relation code {code!r}", code=code) from None
