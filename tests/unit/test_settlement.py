"""Settlement in fen: the relative's own account, then holders in binding order within caps, then cash."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.settlement import HolderShare, Settlement, format_fen, settle
from tests.support.factories import make_policy

YUAN = 100


def share(psn: str = "H1", balance: int = 10_000 * YUAN, **limits: int) -> HolderShare:
    """A holder with no caps and no reserve unless given."""
    values = {"reserve_fen": 0, "per_txn_cap_fen": 0, "daily_cap_fen": 0, "annual_cap_fen": 0}
    values.update(limits)
    return HolderShare(psn, balance, **values)


# ---- HolderShare -------------------------------------------------------------------------------


def test_share_under_a_policy_takes_its_limits() -> None:
    policy = make_policy(
        per_txn_cap_fen=150000, daily_cap_fen=300000, annual_cap_fen=900000, reserve_fen=100000
    )
    s = HolderShare.under(policy, "H1", balance_fen=5_000_00, used_today_fen=1_000_00, used_year_fen=2_000_00)
    assert s == HolderShare("H1", 5_000_00, 100000, 150000, 300000, 900000, 1_000_00, 2_000_00)


@pytest.mark.parametrize(
    ("s", "available"),
    [
        (share(balance=123_45), 123_45),  # zero caps mean no cap: the whole balance
        (share(balance=0), 0),
        (share(balance=-500), 0),
        (share(balance=5_000_00, reserve_fen=1_000_00), 4_000_00),  # Quzhou: 1,000 yuan kept for the holder
        (share(balance=800_00, reserve_fen=1_000_00), 0),
        (share(balance=1_000_00, reserve_fen=1_000_00), 0),
        (share(per_txn_cap_fen=1_500_00), 1_500_00),
        (share(balance=1_000_00, per_txn_cap_fen=1_500_00), 1_000_00),
        (share(daily_cap_fen=3_000_00), 3_000_00),
        (share(daily_cap_fen=3_000_00, used_today_fen=2_000_00), 1_000_00),
        (share(daily_cap_fen=3_000_00, used_today_fen=3_000_00), 0),
        (
            share(daily_cap_fen=3_000_00, used_today_fen=4_000_00),
            0,
        ),  # over the cap already: nothing, not less
        (share(annual_cap_fen=5_000_00, used_year_fen=4_900_00), 100_00),
        (share(annual_cap_fen=5_000_00, used_year_fen=6_000_00), 0),
        (
            share(used_today_fen=9_000_00, used_year_fen=9_000_00),
            10_000_00,
        ),  # usage without caps limits nothing
        (share(per_txn_cap_fen=1_500_00, daily_cap_fen=3_000_00, used_today_fen=2_000_00), 1_000_00),
        (
            share(
                per_txn_cap_fen=1_500_00,
                daily_cap_fen=3_000_00,
                annual_cap_fen=2_000_00,
                used_year_fen=1_800_00,
            ),
            200_00,
        ),
        (share(balance=2_100_00, reserve_fen=1_000_00, per_txn_cap_fen=1_500_00), 1_100_00),
    ],
)
def test_available_fen(s: HolderShare, available: int) -> None:
    assert s.available_fen() == available


# ---- settle ------------------------------------------------------------------------------------


def test_own_account_pays_first() -> None:
    result = settle(300_00, own_balance_fen=500_00, holders=[share()])
    assert result == Settlement(300_00, 300_00, (), 0)
    assert result.mutual_aid_total_fen == 0


def test_holder_pays_only_what_the_own_account_cannot() -> None:
    result = settle(300_00, own_balance_fen=120_00, holders=[share()])
    assert result.own_account_fen == 120_00
    assert result.mutual_aid_fen == (("H1", 180_00),)
    assert result.cash_fen == 0


def test_lishui_per_settlement_cap_leaves_cash() -> None:
    # seed 003: at most 1,500 yuan per settlement from the holder
    policy = make_policy()
    holder_share = HolderShare.under(policy, "H1", balance_fen=20_000_00, used_today_fen=0, used_year_fen=0)
    result = settle(5_000_00, own_balance_fen=0, holders=[holder_share])
    assert result.mutual_aid_fen == (("H1", 1_500_00),)
    assert result.cash_fen == 3_500_00


def test_lishui_daily_cap_counts_what_was_paid_today() -> None:
    # seed 003: at most 3,000 yuan a day; 2,000 already paid today leaves 1,000
    policy = make_policy()
    holder_share = HolderShare.under(
        policy, "H1", balance_fen=20_000_00, used_today_fen=2_000_00, used_year_fen=0
    )
    result = settle(1_400_00, own_balance_fen=0, holders=[holder_share])
    assert result.mutual_aid_fen == (("H1", 1_000_00),)
    assert result.cash_fen == 400_00


def test_annual_cap() -> None:
    result = settle(1_000_00, 0, [share(annual_cap_fen=6_000_00, used_year_fen=5_750_00)])
    assert result.mutual_aid_fen == (("H1", 250_00),)
    assert result.cash_fen == 750_00


def test_reserve_is_never_shared() -> None:
    result = settle(10_000_00, 0, [share(balance=3_000_00, reserve_fen=1_000_00)])
    assert result.mutual_aid_fen == (("H1", 2_000_00),)
    assert result.cash_fen == 8_000_00


def test_zero_caps_mean_no_cap() -> None:
    result = settle(9_999_99, 0, [share(balance=10_000_00)])
    assert result.mutual_aid_fen == (("H1", 9_999_99),)
    assert result.cash_fen == 0


def test_holders_pay_in_binding_order() -> None:
    holders = [share("H1", balance=100_00), share("H2", balance=300_00), share("H3", balance=300_00)]
    result = settle(500_00, own_balance_fen=50_00, holders=holders)
    assert result.own_account_fen == 50_00
    assert result.mutual_aid_fen == (("H1", 100_00), ("H2", 300_00), ("H3", 50_00))
    assert result.cash_fen == 0
    reordered = settle(500_00, own_balance_fen=50_00, holders=list(reversed(holders)))
    assert reordered.mutual_aid_fen == (("H3", 300_00), ("H2", 150_00))


def test_holders_without_room_are_skipped_and_not_listed() -> None:
    holders = [
        share("H1", balance=0),
        share("H2", daily_cap_fen=100_00, used_today_fen=100_00),
        share("H3", balance=200_00),
        share("H4", balance=500_00),
    ]
    result = settle(300_00, 0, holders)
    assert result.mutual_aid_fen == (("H3", 200_00), ("H4", 100_00))
    assert all(fen > 0 for _, fen in result.mutual_aid_fen)


def test_later_holders_are_not_asked_once_the_bill_is_paid() -> None:
    result = settle(100_00, 0, [share("H1"), share("H2")])
    assert result.mutual_aid_fen == (("H1", 100_00),)


def test_cash_pays_the_rest() -> None:
    result = settle(1_000_00, 100_00, [share("H1", balance=200_00), share("H2", balance=300_00)])
    assert (result.own_account_fen, result.mutual_aid_total_fen, result.cash_fen) == (100_00, 500_00, 400_00)


def test_no_holders_means_own_account_then_cash() -> None:
    assert settle(1_000_00, 300_00, []) == Settlement(1_000_00, 300_00, (), 700_00)


def test_zero_bill() -> None:
    assert settle(0, 500_00, [share()]) == Settlement(0, 0, (), 0)


@pytest.mark.parametrize(("amount", "own"), [(-1, 0), (0, -1), (-100_00, 500_00), (100_00, -1)])
def test_negative_input_is_refused(amount: int, own: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        settle(amount, own, [share()])


# ---- format_fen --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (99, "0.99"),
        (100, "1.00"),
        (150000, "1,500.00"),
        (1234567, "12,345.67"),
        (100000000, "1,000,000.00"),
        (-5, "-0.05"),
        (-150050, "-1,500.50"),
        (10**20 + 1, "1,000,000,000,000,000,000.01"),  # integer arithmetic, no float rounding
    ],
)
def test_format_fen(fen: int, text: str) -> None:
    assert format_fen(fen) == text


# ---- properties --------------------------------------------------------------------------------

fen = st.integers(0, 2_000_000)
caps = st.one_of(st.just(0), st.integers(1, 500_000))


one_share = st.builds(
    HolderShare,
    holder_psn_no=st.just("H"),
    balance_fen=st.integers(-10_000, 1_000_000),
    reserve_fen=st.integers(0, 200_000),
    per_txn_cap_fen=caps,
    daily_cap_fen=caps,
    annual_cap_fen=caps,
    used_today_fen=st.integers(0, 600_000),
    used_year_fen=st.integers(0, 600_000),
)
# several holders in binding order, each with its own psn_no
shares = st.lists(one_share, max_size=5).map(
    lambda hs: [dataclasses.replace(h, holder_psn_no=f"H{i}") for i, h in enumerate(hs)]
)


@settings(max_examples=300)
@given(amount=fen, own_balance=fen, holders=shares)
def test_settle_properties(amount: int, own_balance: int, holders: list[HolderShare]) -> None:
    result = settle(amount, own_balance, holders)
    by_psn = {h.holder_psn_no: h for h in holders}
    paid = dict(result.mutual_aid_fen)

    # every fen is paid by someone
    assert result.amount_fen == amount
    assert result.own_account_fen + result.mutual_aid_total_fen + result.cash_fen == amount
    # nothing negative, the own account within its balance and used first
    assert result.own_account_fen >= 0
    assert result.cash_fen >= 0
    assert result.own_account_fen <= own_balance
    assert result.own_account_fen == min(amount, own_balance)
    assert all(p > 0 for p in paid.values())
    assert len(paid) == len(result.mutual_aid_fen)
    # no holder beyond its room, its balance less reserve, or any cap less what was used
    for psn, p in paid.items():
        h = by_psn[psn]
        assert p <= h.available_fen()
        assert p <= h.balance_fen - h.reserve_fen
        if h.per_txn_cap_fen:
            assert p <= h.per_txn_cap_fen
        if h.daily_cap_fen:
            assert p <= h.daily_cap_fen - h.used_today_fen
        if h.annual_cap_fen:
            assert p <= h.annual_cap_fen - h.used_year_fen
    # binding order: holders appear in order, and a later one pays only after earlier ones gave all they could
    order = [h.holder_psn_no for h in holders]
    assert [psn for psn, _ in result.mutual_aid_fen] == [psn for psn in order if psn in paid]
    if paid:
        last = order.index(result.mutual_aid_fen[-1][0])
        for h in holders[:last]:
            assert paid.get(h.holder_psn_no, 0) == h.available_fen()
    # cash only when there was not enough room
    room = own_balance + sum(h.available_fen() for h in holders)
    if room >= amount:
        assert result.cash_fen == 0
    assert result.cash_fen == max(0, amount - room)


@settings(max_examples=200)
@given(h=one_share)
def test_available_fen_properties(h: HolderShare) -> None:
    room = h.available_fen()
    assert 0 <= room <= max(0, h.balance_fen - h.reserve_fen)
    for cap, used in (
        (h.per_txn_cap_fen, 0),
        (h.daily_cap_fen, h.used_today_fen),
        (h.annual_cap_fen, h.used_year_fen),
    ):
        if cap:
            assert room <= max(0, cap - used)


@settings(max_examples=200)
@given(st.integers(-(10**15), 10**15))
def test_format_fen_round_trips(amount: int) -> None:
    text = format_fen(amount)
    assert int(text.replace(",", "").replace(".", "")) == amount
    assert text.rsplit(".", 1)[1].isdigit()
    assert len(text.rsplit(".", 1)[1]) == 2


@pytest.mark.parametrize(
    "holders",
    [
        [HolderShare("H1", 100, 0, 0, 0, 0, used_today_fen=-1)],
        [HolderShare("H1", 100, -5, 0, 0, 0)],
        [HolderShare("H1", 100, 0, 0, 0, 0), HolderShare("H1", 100, 0, 0, 0, 0)],
    ],
    ids=["negative-used", "negative-reserve", "holder-twice"],
)
def test_settle_refuses_inconsistent_holders(holders: list[HolderShare]) -> None:
    with pytest.raises(ValueError):
        settle(500, 0, holders)
