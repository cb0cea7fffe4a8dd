"""Synthetic people: valid, deterministic, and covering every edge case the kiosk must handle."""

from __future__ import annotations

import datetime as dt

from kiosk.central.seed import generate_people
from kiosk.domain.idnumber import age_on, parse_id_number

TODAY = dt.date(2026, 11, 23)


def test_the_same_seed_and_day_give_the_same_people() -> None:
    assert generate_people(300, 5, TODAY) == generate_people(300, 5, TODAY)
    assert generate_people(300, 5, TODAY) != generate_people(300, 6, TODAY)


def test_every_person_is_valid_and_unique() -> None:
    people = generate_people(2000, 3, TODAY)
    assert len(people) == 2000
    assert len({p.certno for p in people}) == len({p.psn_no for p in people}) == 2000
    cards = [(p.card_issuing_admdvs, p.card_no) for p in people]
    assert len(set(cards)) == len(cards)
    for p in people:
        parsed = parse_id_number(p.certno)
        assert parsed.birth_date == p.birth_date and parsed.sex.value == p.sex
        assert p.card_no is not None and len(p.card_no) == 9
        if p.insutype == "390":
            assert p.account_balance_fen == 0


def test_the_edge_cases_are_all_there() -> None:
    people = generate_people(2000, 3, TODAY)
    ages = [age_on(p.birth_date, TODAY) for p in people]
    assert {p.insutype for p in people} == {"310", "390"}
    assert {p.insu_status for p in people} == {"1", "2", "4"}
    assert min(ages) < 14 and max(ages) >= 95
    assert {p.card_generation for p in people} == {2, 3}
    assert any(p.phone is None for p in people) and any(p.phone for p in people)
    assert {"331100", "330100", "330800", "440300", "371500", "130100", "110100"} <= {
        p.insured_admdvs for p in people
    }
    heads = {p.household: p for p in people if p.relation_to_head == "00"}
    assert any(
        p.insured_admdvs[:2] != heads[p.household].insured_admdvs[:2]
        for p in people
        if p.relation_to_head != "00"
    ), "some relatives must be insured in another province"


def test_generated_families_are_plausible() -> None:
    from kiosk.domain.relations import RELATIONS

    people = generate_people(1500, 11, TODAY)
    heads = {p.household: p for p in people if p.relation_to_head == "00"}
    for p in people:
        if p.relation_to_head == "00":
            continue
        rel = RELATIONS[p.relation_to_head]
        assert rel.sex is None or rel.sex.value == p.sex
        head = heads[p.household]
        if rel.generation > 0:
            assert p.birth_date < head.birth_date
        if rel.generation < 0:
            assert p.birth_date > head.birth_date
