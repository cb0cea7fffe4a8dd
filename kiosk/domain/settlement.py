"""Settlement arithmetic in fen: the relative's own account, then bound holders within caps, then cash."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.domain.policy import AreaPolicy


@dataclass(frozen=True, slots=True)
class HolderShare:
    """What one bound holder could contribute to a relative's bill (limits from the holder's area policy)."""

    holder_psn_no: str
    balance_fen: int
    reserve_fen: int
    per_txn_cap_fen: int  # 0 = no cap
    daily_cap_fen: int  # 0 = no cap
    annual_cap_fen: int  # 0 = no cap
    used_today_fen: int = 0  # already paid by this holder for this relative today
    used_year_fen: int = 0  # ... and this calendar year

    @classmethod
    def under(
        cls, policy: AreaPolicy, holder_psn_no: str, balance_fen: int, used_today_fen: int, used_year_fen: int
    ) -> HolderShare:
        return cls(
            holder_psn_no,
            balance_fen,
            policy.reserve_fen,
            policy.per_txn_cap_fen,
            policy.daily_cap_fen,
            policy.annual_cap_fen,
            used_today_fen,
            used_year_fen,
        )

    def available_fen(self) -> int:
        room = max(0, self.balance_fen - self.reserve_fen)
        for cap, used in (
            (self.per_txn_cap_fen, 0),
            (self.daily_cap_fen, self.used_today_fen),
            (self.annual_cap_fen, self.used_year_fen),
        ):
            if cap:
                room = min(room, max(0, cap - used))
        return room


@dataclass(frozen=True, slots=True)
class Settlement:
    amount_fen: int
    own_account_fen: int  # acct_pay
    mutual_aid_fen: tuple[tuple[str, int], ...]  # acct_mulaid_pay per holder, in binding order, > 0 only
    cash_fen: int  # psn_cash_pay

    @property
    def mutual_aid_total_fen(self) -> int:
        return sum(fen for _, fen in self.mutual_aid_fen)


def settle(amount_fen: int, own_balance_fen: int, holders: Sequence[HolderShare]) -> Settlement:
    """Split a bill: own account first, then each holder in binding order as far as their room goes."""
    if amount_fen < 0 or own_balance_fen < 0:
        raise ValueError("amounts must not be negative")
    for h in holders:
        if min(h.reserve_fen, h.used_today_fen, h.used_year_fen) < 0:
            raise ValueError("a holder's reserve and amounts used must not be negative")
    if len({h.holder_psn_no for h in holders}) != len(holders):
        raise ValueError("a holder is listed twice")
    own = min(amount_fen, own_balance_fen)
    left = amount_fen - own
    shares: list[tuple[str, int]] = []
    for holder in holders:
        if left == 0:
            break
        pay = min(left, holder.available_fen())
        if pay > 0:
            shares.append((holder.holder_psn_no, pay))
            left -= pay
    return Settlement(amount_fen, own, tuple(shares), left)


def format_fen(amount_fen: int) -> str:
    """1234567 → '12,345.67' (yuan with two decimals), integer arithmetic only."""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), 100)
    return f"{sign}{yuan:,}.{fen:02d}"
