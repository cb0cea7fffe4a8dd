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
    spoken_zh: str = ""  # what people say (儿子 for 子, 哥哥 for 兄): buttons and sentences use this

    def name(self, lang: str) -> str:
        """The everyday name in `lang`; the standard's term is `name_zh`."""
        return (self.spoken_zh or self.name_zh) if lang.startswith("zh") else self.name_en


# The close relatives (近亲属, Civil Code art. 1045) that GB/T 4761 names one by one. In-law codes of the
# standard (72 嫂, 74 弟媳, 53-56 公婆/岳父母 ...) are not close relatives and are left out on purpose.
_M, _F = Sex.MALE, Sex.FEMALE
RELATIONS: dict[str, Relation] = {
    r.code: r
    for r in (
        Relation("10", "配偶", "spouse", Generation.SAME, None, spoken_zh="配偶"),
        Relation("20", "子", "son", Generation.CHILD, _M, spoken_zh="儿子"),
        Relation("30", "女", "daughter", Generation.CHILD, _F, spoken_zh="女儿"),
        Relation("51", "父亲", "father", Generation.PARENT, _M, spoken_zh="父亲"),
        Relation("52", "母亲", "mother", Generation.PARENT, _F, spoken_zh="母亲"),
        Relation("61", "祖父", "paternal grandfather", Generation.GRANDPARENT, _M, spoken_zh="爷爷（祖父）"),
        Relation("62", "祖母", "paternal grandmother", Generation.GRANDPARENT, _F, spoken_zh="奶奶（祖母）"),
        Relation(
            "63", "外祖父", "maternal grandfather", Generation.GRANDPARENT, _M, spoken_zh="外公（外祖父）"
        ),
        Relation(
            "64", "外祖母", "maternal grandmother", Generation.GRANDPARENT, _F, spoken_zh="外婆（外祖母）"
        ),
        Relation("41", "孙子", "grandson (son's son)", Generation.GRANDCHILD, _M, spoken_zh="孙子"),
        Relation("42", "孙女", "granddaughter (son's daughter)", Generation.GRANDCHILD, _F, spoken_zh="孙女"),
        Relation("43", "外孙子", "grandson (daughter's son)", Generation.GRANDCHILD, _M, spoken_zh="外孙"),
        Relation(
            "44",
            "外孙女",
            "granddaughter (daughter's daughter)",
            Generation.GRANDCHILD,
            _F,
            spoken_zh="外孙女",
        ),
        Relation("71", "兄", "elder brother", Generation.SAME, _M, older=True, spoken_zh="哥哥"),
        Relation("73", "弟", "younger brother", Generation.SAME, _M, older=False, spoken_zh="弟弟"),
        Relation("75", "姐姐", "elder sister", Generation.SAME, _F, older=True, spoken_zh="姐姐"),
        Relation("77", "妹妹", "younger sister", Generation.SAME, _F, older=False, spoken_zh="妹妹"),
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


# What the holder is to the relative, by the relative's generation; the holder's sex is not known at the
# other end of a binding, so the words name both (子女, not 儿子 or 女儿).
_INVERSE: dict[tuple[Generation, bool], tuple[str, str]] = {
    (Generation.SAME, True): ("配偶", "spouse"),
    (Generation.SAME, False): ("兄弟姐妹", "sibling"),
    (Generation.PARENT, False): ("子女", "child"),
    (Generation.CHILD, False): ("父母", "parent"),
    (Generation.GRANDPARENT, False): ("孙子女", "grandchild"),
    (Generation.GRANDCHILD, False): ("祖父母", "grandparent"),
}


def inverse_name(code: str, lang: str) -> str:
    """The holder's relation to the relative of a binding with relation `code` (the relative's to the
    holder), in `lang`: what "Accounts shared with me" says of the one who shares."""
    r = relation(code)
    zh, en = _INVERSE[(r.generation, r.code == "10")]
    return zh if lang.startswith("zh") else en
