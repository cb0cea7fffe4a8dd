"""A hypothesis state machine over the citizen session: random inputs, card removals and timeouts.
Nothing is committed unless confirmed; after a wipe nothing personal is left in the session."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from devices.reader import CardError
from kiosk.demo import DemoWorld, build_demo
from kiosk.domain.errors import DomainError
from kiosk.session import Session, Step

WORLD: list[DemoWorld] = []


@pytest.fixture(scope="module", autouse=True)
def shared_world() -> Iterator[None]:
    WORLD.append(build_demo(people=60))
    yield
    WORLD.pop().close()


class CitizenAtTheKiosk(RuleBasedStateMachine):
    """`progress` does the right thing for the step; `mistake` the wrong one; `walk_away` ends the visit."""

    def __init__(self) -> None:
        super().__init__()
        self.world = WORLD[0]
        self.session = Session(self.world.backend)
        self.confirmed = 0
        self.before = self._committed()
        self.fam = {p.relation_to_head: p for p in self.world.people if p.household == 1}
        for card in self.world.reader.deck[:5]:
            card.tries_left = 3

    def _committed(self) -> int:
        heads = [p.psn_no for p in self.world.people if p.relation_to_head == "00"]
        return sum(len(self.world.store.submissions_for(psn_no)) for psn_no in heads)

    def _try(self, action: Callable[[], object]) -> None:
        # a refusal is a message on screen; the invariants below say what must hold
        with contextlib.suppress(DomainError, CardError):
            action()

    def _code(self, right: bool) -> str:
        codes = re.findall(r"验证码 (\d{6})", "\n".join(m["body"] for m in self.world.central.sms()))
        return codes[-1] if right and codes else "000000"

    def _act(self, right: bool, pick: int) -> None:
        s, fam = self.session, self.fam
        relatives = ["20", "30", "51", "52", "10"]
        match s.step:
            case Step.ATTRACT:
                card = 0 if right else [1, 3, 4][pick % 3]
                self.world.reader.insert(card)
                s.card_inserted(self.world.reader.read())
            case Step.PIN:
                self._try(
                    lambda: s.pin_entered(self.world.reader.verify_pin("123456" if right else "999999"))
                )
            case Step.MENU:
                self._try(s.start_bind if right else [s.show_bindings, s.show_usage][pick % 2])
            case Step.LETTER:
                self._try(lambda: s.accept_letter(read_to_end=right))
            case Step.AREA:
                self._try(lambda: s.choose_area(s.area_choices()[0] if right else "999999"))
            case Step.RELATION:
                self._try(
                    lambda: s.choose_relation(relatives[pick % 5] if right else "99")
                )  # no area allows 99
            case Step.RELATIVE:
                who = s.relation_code or "20"
                text = (
                    fam[who].certno
                    if right
                    else ["12345X", fam["00"].certno, fam[relatives[pick % 5]].certno][pick % 3]
                )
                self._try(lambda: s.enter_relative(text))
            case Step.VERIFY:
                if s.otp is None:
                    self._try(s.send_sms)
                else:
                    self._try(lambda: s.verify_sms(self._code(right)))
            case Step.CONFIRM:
                if right:
                    s.confirm()
                    self.confirmed += 1
                    event("confirmed a binding")
                else:
                    s.back_to_menu()
            case Step.RECEIPT:
                self._try(s.bind_another if right else s.show_bindings)
            case Step.BINDINGS | Step.USAGE:
                s.back_to_menu()
            case _:
                self.walk_away(0)

    @rule(pick=st.integers(0, 5))
    def progress(self, pick: int) -> None:
        self._act(True, pick)

    @rule(pick=st.integers(0, 5))
    def mistake(self, pick: int) -> None:
        self._act(False, pick)

    @rule()
    def switch_language(self) -> None:
        """The language button, at any step (the letter agreed in one language, the rest in the other)."""
        self.session.lang = "en" if self.session.lang == "zh-CN" else "zh-CN"

    @precondition(lambda self: self.session.step is not Step.ATTRACT)
    @rule(chance=st.integers(0, 5))
    def walk_away(self, chance: int) -> None:
        """Card pulled or idle timeout (rare when drawn, so that walks also reach the end)."""
        if chance:
            return
        self.world.reader.remove()
        self.session.wipe()
        assert self.session.personal_data_left() == []
        assert self.session.step is Step.ATTRACT and self.session.lang == "zh-CN"

    @invariant()
    def nothing_is_committed_unless_confirmed(self) -> None:
        assert self._committed() - self.before == self.confirmed

    @invariant()
    def the_full_relative_id_is_gone_after_a_commit(self) -> None:
        if self.session.step is Step.RECEIPT:
            assert self.session.relative_certno is None


CitizenAtTheKiosk.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_citizen_session = CitizenAtTheKiosk.TestCase
