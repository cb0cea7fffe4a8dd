"""GB/T 4761-2008 relation codes: which close relatives exist, their sex, generation and seniority."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.domain.errors import DomainError, Ineligible
from kiosk.domain.relations import (
    ALL_CLOSE_RELATIVES,
    RELATIONS,
    SPOUSE_PARENTS_CHILDREN,
    Generation,
    Sex,
    relation,
)

M, F = Sex.MALE, Sex.FEMALE

# code: (generation, sex, must the relative be older?)
EXPECTED = {
    "10": (Generation.SAME, None, None),
    "20": (Generation.CHILD, M, None),
    "30": (Generation.CHILD, F, None),
    "51": (Generation.PARENT, M, None),
    "52": (Generation.PARENT, F, None),
    "61": (Generation.GRANDPARENT, M, None),
    "62": (Generation.GRANDPARENT, F, None),
    "63": (Generation.GRANDPARENT, M, None),
    "64": (Generation.GRANDPARENT, F, None),
    "41": (Generation.GRANDCHILD, M, None),
    "42": (Generation.GRANDCHILD, F, None),
    "43": (Generation.GRANDCHILD, M, None),
    "44": (Generation.GRANDCHILD, F, None),
    "71": (Generation.SAME, M, True),
    "73": (Generation.SAME, M, False),
    "75": (Generation.SAME, F, True),
    "77": (Generation.SAME, F, False),
}


def test_exactly_the_close_relatives_are_known() -> None:
    assert set(RELATIONS) == set(EXPECTED)
    assert set(ALL_CLOSE_RELATIVES) == set(EXPECTED)
    assert len(ALL_CLOSE_RELATIVES) == len(set(ALL_CLOSE_RELATIVES))


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_relation_attributes(code: str) -> None:
    generation, sex, older = EXPECTED[code]
    rel = relation(code)
    assert rel.code == code
    assert rel.generation is generation
    assert rel.sex is sex
    assert rel.older is older
    assert rel.name_zh
    assert rel.name_en


def test_original_national_rule_is_spouse_parents_children() -> None:
    assert SPOUSE_PARENTS_CHILDREN == ("10", "20", "30", "51", "52")
    assert [relation(c).name_zh for c in SPOUSE_PARENTS_CHILDREN] == ["配偶", "子", "女", "父亲", "母亲"]


@pytest.mark.parametrize(
    ("code", "zh", "en"),
    [("10", "配偶", "spouse"), ("51", "父亲", "father"), ("77", "妹妹", "younger sister")],
)
def test_name_by_language(code: str, zh: str, en: str) -> None:
    rel = relation(code)
    assert rel.name("zh") == zh
    assert rel.name("zh-CN") == zh
    assert rel.name("en") == en
    assert rel.name("es") == en


@pytest.mark.parametrize(
    "code",
    [
        # in-laws and great-grand relations of GB/T 4761 are not close relatives (Civil Code art. 1045)
        "72",  # 嫂
        "74",  # 弟媳
        "76",  # 姐夫
        "78",  # 妹夫
        "53",  # 公公
        "56",  # 岳母
        "45",  # 孙媳妇
        "47",  # 曾孙子
        "65",  # 配偶的祖父母
        "67",  # 曾祖父
        # not codes at all
        "99",
        "",
        "1",
        "010",
        " 10",
    ],
)
def test_unknown_code_is_an_error_not_a_guess(code: str) -> None:
    with pytest.raises(Ineligible) as info:
        relation(code)
    assert info.value.key == "relation_unknown"
    assert info.value.params["code"] == code
    assert isinstance(info.value, DomainError)


def test_sex_codes_follow_gb_t_2261() -> None:
    assert Sex.MALE == "1"
    assert Sex.FEMALE == "2"


def test_generations_are_signed_distances() -> None:
    assert [int(g) for g in Generation] == [2, 1, 0, -1, -2]


def test_relations_are_immutable() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        relation("51").sex = Sex.FEMALE  # type: ignore[misc]


def test_the_inverse_of_every_relation_names_the_other_generation() -> None:
    from kiosk.domain.relations import RELATIONS, inverse_name

    assert inverse_name("51", "zh-CN") == "子女" and inverse_name("52", "en") == "child"
    assert inverse_name("20", "zh-CN") == "父母" and inverse_name("10", "en") == "spouse"
    assert inverse_name("41", "zh-CN") == "祖父母" and inverse_name("63", "en") == "grandchild"
    assert inverse_name("71", "zh-CN") == "兄弟姐妹"
    for code in RELATIONS:  # every close relative has one
        assert inverse_name(code, "zh-CN") and inverse_name(code, "en")
