"""A fixed, offline world for the screen snapshots: a fake backend, an empty simulated reader, a frozen clock.

The demo world cannot be used here: its names, ID numbers, receipt numbers and dates change from day to day,
so every snapshot would drift. Everything the screens draw comes from the constants below instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest

from devices.reader import CardData
from devices.simulated import SimulatedCard, SimulatedReader
from kiosk import api
from kiosk.config import KioskConfig
from kiosk.domain.policy import AreaPolicy, ConsentLetterRef, Scope, UnbindBy, Verification
from kiosk.domain.relations import ALL_CLOSE_RELATIVES
from kiosk.store.models import CachedLetter, Submission
from screens.app import KioskApp, make_app
from screens.i18n import set_language
from tests.support.fixed_world import AREA, MakeKiosk

# The area with every close relative allowed: the longest relationship grid a screen has to hold.
POLICY = AreaPolicy(
    admdvs=AREA,
    name_zh="杭州市",
    name_en="Hangzhou",
    allowed_relations=ALL_CLOSE_RELATIVES,
    max_relatives_per_holder=8,
    max_holders_per_relative=4,
    holder_insutypes=("310",),
    relative_insutypes=("310", "390"),
    relative_scope=Scope.NATIONAL,
    per_txn_cap_fen=0,
    daily_cap_fen=50000,
    annual_cap_fen=300000,
    reserve_fen=0,
    verification=Verification.SMS_RELATIVE,
    notify_sms=True,
    binding_valid_days=0,
    unbind_by=UnbindBy.EITHER,
    consent_letter=ConsentLetterRef("zj-family-aid", 2),
    agent_allowed=True,
    min_holder_age=16,
    minor_age=14,
    offline_queue_max_count=500,
    offline_queue_max_age_hours=168,
)

# The published letter plus a few clauses and an annex of the area's rules: long enough not to fit even at
# 120x40, so every snapshot shows the top of the letter with "I have read and agree" still disabled.
_LETTER_TEXT = {
    "zh-CN": (
        "浙江省职工医保个人账户家庭共济承诺书",
        "本人自愿申请将本人职工基本医疗保险个人账户用于近亲属家庭共济，并郑重承诺：\n\n"
        "一、本人与被共济人之间的亲属关系真实，所填写（或读取）的身份信息真实、准确。\n"
        "二、本人知晓：被共济人就医、购药时先使用其本人的个人账户，不足部分才使用本人个人账户，"
        "并受各统筹区规定的每次、每日、每年限额的限制。\n"
        "三、本人知晓：个人账户资金只能用于被共济人在定点医药机构发生的政策范围内自付费用等规定用途，"
        "不得套现或转让。\n"
        "四、本人或被共济人均可随时申请解除共济关系；本人参保关系终止时，共济关系自动解除。\n"
        "五、本人同意医保经办机构为办理家庭共济查询、使用必要的个人信息；共济使用记录可由双方查询，"
        "就诊明细对外保密。\n"
        "六、如提供虚假信息或违规使用个人账户资金，本人愿意承担相应法律责任，并退回违规使用的资金。\n"
        "七、本人知晓：绑定、解除绑定的结果将以短信通知本人和被共济人登记的手机号码。\n"
        "八、本人知晓：终端断网时提交的申请先保存在本终端，联网后自动发送，结果以短信为准。\n"
        "九、本人知晓：被共济人为未成年人时，由本人作为监护人确认，不向其发送验证码。\n"
        "十、本人已仔细阅读以上内容，理解并同意遵守。\n\n"
        "附：杭州市家庭共济规则\n"
        "1. 可共济的亲属：配偶、父母、子女，以及祖父母、外祖父母、孙子女、外孙子女、兄弟姐妹。\n"
        "2. 每次结算不限额；每天最多 500 元；每年最多 3000 元。\n"
        "3. 被共济人须通过短信验证码确认；未满 14 周岁的由本人作为监护人确认。\n"
        "4. 共济关系长期有效，直到任何一方解除。\n"
        "5. 每人最多可共济 8 位亲属；每位亲属最多接受 4 人共济。\n"
        "6. 终端离线时最多保存 500 笔申请，最长 7 天。\n"
        "7. 咨询电话：12393。\n\n"
        "特别提示：\n"
        "· 请勿把社保卡和密码交给他人使用。\n"
        "· 工作人员不会向您索要短信验证码。\n"
        "· 如发现共济资金被冒用，请立即解除绑定并拨打 12393。\n"
        "· 本承诺书以医保经办机构公布的文本为准。\n\n"
        "承诺人：以读卡信息为准\n"
        "日期：以提交时间为准",
    ),
    "en": (
        "Zhejiang family mutual-aid commitment letter",
        "Of my own free will I ask that my employee medical-insurance personal account be shared with a "
        "close relative (family mutual aid), and I solemnly promise:\n\n"
        "1. The family relationship between me and the relative is real, and the identity data entered "
        "(or read from a card) is true and accurate.\n"
        "2. I understand that when the relative is treated or buys medicine, their own personal account "
        "pays first; my account pays only the rest, within the per-payment, daily and yearly limits.\n"
        "3. I understand that the money may only pay the relative's eligible out-of-pocket costs at "
        "designated hospitals and pharmacies; it may not be cashed out or transferred.\n"
        "4. Either I or the relative may end the sharing at any time; it ends by itself when my insurance "
        "relationship ends.\n"
        "5. I agree that the medical-insurance agency uses the personal data needed to run and look up the "
        "sharing; both of us may see the usage records, and medical details stay confidential.\n"
        "6. If I give false information or misuse the account, I accept the legal consequences and will pay "
        "back what was misused.\n"
        "7. I understand that the result of a binding or unbinding is sent by SMS to both of us.\n"
        "8. I understand that a request made while the terminal is offline is kept here and sent when the "
        "network is back; the SMS tells the result.\n"
        "9. I understand that a relative under 14 gets no code: I confirm as their guardian.\n"
        "10. I have read all of the above, understand it and agree to it.\n\n"
        "Annex: the rules of Hangzhou\n"
        "1. Relatives: spouse, parents, children, grandparents, grandchildren, brothers and sisters.\n"
        "2. No limit per payment; at most 500 yuan a day and 3,000 yuan a year.\n"
        "3. The relative confirms with an SMS code; for a child under 14 I confirm as guardian.\n"
        "4. The sharing has no end date: it lasts until either of us ends it.\n"
        "5. I may share with at most 8 relatives; a relative may receive from at most 4 holders.\n"
        "6. An offline terminal keeps at most 500 requests, for at most 7 days.\n"
        "7. Questions: call 12393.\n\n"
        "Please note:\n"
        "- Never let anyone else use your card or your PIN.\n"
        "- Staff will never ask you for an SMS code.\n"
        "- If the shared money is misused, end the binding at once and call 12393.\n"
        "- The text published by the medical insurance agency prevails.\n\n"
        "Signed: as read from the card\n"
        "Date: the time of submission",
    ),
}


def _letter(lang: str) -> CachedLetter:
    title, body = _LETTER_TEXT[lang]
    return CachedLetter(
        letter_id="zj-family-aid",
        version=2,
        lang=lang,
        title=title,
        body=body,
        sha256=hashlib.sha256(body.encode()).hexdigest(),
    )


def _not_while_drawing(name: str) -> NoReturn:
    raise AssertionError(f"Backend.{name}() was called: a snapshot only draws, it never talks to central")


@dataclass
class FakeBackend:
    """Duck-types kiosk.services.Backend for what the session gathers before a screen is shown.

    Calls that would reach central fail loudly; once a case is set up (`drawing`), so do the local reads
    (policy, letter, pending requests): a screen reads only the session while composing.
    """

    queued: int = 0
    pending: Sequence[Submission] = field(default_factory=list)
    held: api.BindingsOut = field(default_factory=lambda: api.BindingsOut(as_holder=[], as_relative=[]))
    drawing: bool = False

    def _local(self, name: str) -> None:
        if self.drawing:
            raise AssertionError(f"Backend.{name}() was called while drawing: screens read only the session")

    app: KioskApp | None = None
    _online: bool | None = True

    @property
    def online(self) -> bool | None:
        return self._online

    @online.setter
    def online(self, online: bool | None) -> None:
        """The app learns the link state from its status poll, once a second; the fake tells it at once,
        as that poll would (a snapshot is taken before the first one)."""
        self._online = online
        if self.app is not None:
            self.app.online = online

    def queue_length(self) -> int:
        return self.queued

    def policy(self, admdvs: str) -> AreaPolicy | None:
        self._local("policy")
        return POLICY if admdvs == AREA else None

    def letter(self, letter_id: str, version: int, lang: str) -> CachedLetter | None:
        self._local("letter")
        ref = POLICY.consent_letter
        if (letter_id, version) != (ref.id, ref.version) or lang not in _LETTER_TEXT:
            return None
        return _letter(lang)

    def pending_for(self, psn_no: str) -> list[Submission]:
        self._local("pending_for")
        return [s for s in self.pending if s.holder_psn_no == psn_no and s.status != "accepted"]

    def receipt_url(self, receipt_no: str) -> str:
        """As the real one: no I/O, the page's address with a fixed MAC."""
        return f"http://127.0.0.1:8000/r/{receipt_no}?m=AAAAAAAAAA"

    def identify_holder(self, *args: Any) -> NoReturn:
        _not_while_drawing("identify_holder")

    def identify_by_certno(self, *args: Any) -> NoReturn:
        _not_while_drawing("identify_by_certno")

    def check_binding(self, *args: Any) -> NoReturn:
        _not_while_drawing("check_binding")

    def send_otp(self, *args: Any) -> NoReturn:
        _not_while_drawing("send_otp")

    def verify_otp(self, *args: Any) -> NoReturn:
        _not_while_drawing("verify_otp")

    def bindings(self, *args: Any) -> api.BindingsOut:
        """The holder's bindings, which the relationship step gathers (to mark those already bound)."""
        self._local("bindings")
        return self.held

    def usage(self, *args: Any) -> NoReturn:
        _not_while_drawing("usage")

    def submit_bind(self, *args: Any) -> NoReturn:
        _not_while_drawing("submit_bind")

    def submit_unbind(self, *args: Any) -> NoReturn:
        _not_while_drawing("submit_unbind")

    def sync_now(self) -> None:
        _not_while_drawing("sync_now")


# Three demo cards, only for the snapshot of the DEMO panel.
DEMO_DECK = [
    SimulatedCard(CardData("A10000017", AREA, 3), label="张*明 holder"),
    SimulatedCard(CardData("A10000025", AREA, 3), label="王*芳 spouse"),
    SimulatedCard(CardData("A10000033", AREA, 3), label="李*国 father"),
]
DEMO_SMS = "【医保家庭共济】验证码 ******，5 分钟内有效。"


def _frozen_clock() -> float:
    """The idle timer never advances: no countdown appears unless a test pushes one."""
    return 0.0


@pytest.fixture(autouse=True)
def _snapshot_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """NO_COLOR and TEXTUAL_THEME would change every snapshot; the language starts in Chinese."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TEXTUAL_THEME", raising=False)
    set_language("zh-CN")
    yield
    set_language("zh-CN")


@pytest.fixture
def make_kiosk() -> MakeKiosk:
    """`make_kiosk(demo=False)` → a KioskApp on a fresh fake world (online, nothing waiting to be sent)."""

    def make(*, demo: bool = False) -> KioskApp:
        backend = FakeBackend()
        reader = SimulatedReader(deck=list(DEMO_DECK) if demo else [])
        config = KioskConfig(reader="simulated", idle_timeout_s=90, idle_warning_s=20)
        app = make_app(
            backend,  # type: ignore[arg-type]
            reader,
            config,
            demo_sms=(lambda: DEMO_SMS) if demo else None,
            clock=_frozen_clock,
        )
        backend.app = app
        return app

    return make
