"""The citizen's session as a state machine: the steps of DESIGN §4, what was collected, and wipe().

Screens call these methods (blocking ones from worker threads) and show what they return; every rule of
the flow lives here or below, never in a screen. What a step's screen shows is gathered when the step starts,
in the worker thread that runs it (`gather`), so no screen reads the store or calls central while drawing.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from devices.reader import CardData, PinResult
from kiosk import api
from kiosk.api import Reason, reason_of
from kiosk.domain.errors import DomainError, InvalidIdNumber
from kiosk.domain.idnumber import age_on, parse_id_number
from kiosk.domain.masking import mask_id
from kiosk.domain.policy import AreaPolicy
from kiosk.domain.relations import relation
from kiosk.services import Backend, CentralFault, CentralRefused
from kiosk.store.models import Submission
from kiosk.store.repository import BindDraft, UnbindDraft

log = logging.getLogger(__name__)


class Step(enum.Enum):
    ATTRACT = "attract"
    PIN = "pin"
    BLOCKED = "blocked"
    INELIGIBLE = "ineligible"
    MENU = "menu"
    LETTER = "letter"
    AREA = "area"
    RELATION = "relation"
    RELATIVE = "relative"
    VERIFY = "verify"
    CONFIRM = "confirm"
    RECEIPT = "receipt"
    BINDINGS = "bindings"
    UNBIND_CONFIRM = "unbind_confirm"
    UNBIND_RECEIPT = "unbind_receipt"
    USAGE = "usage"
    GUIDES = "guides"


class SessionError(DomainError):
    """A step was asked for out of order (a bug or a stale screen), or a citizen input was refused."""

    def __init__(self, reason: Reason, detail: str = "", /, **params: object) -> None:
        super().__init__(reason, detail, **params)
        self.reason = reason


class Side(enum.Enum):
    """Which end of a binding the holder in front of the kiosk is."""

    AS_HOLDER = "as_holder"  # their account is shared with the other
    AS_RELATIVE = "as_relative"  # the other's account is shared with them


def other_party(binding: api.BindingOut, side: Side) -> api.PartyOut:
    """The person at the other end of `binding` from the holder in front of the kiosk."""
    return binding.relative if side is Side.AS_HOLDER else binding.holder


@dataclass(frozen=True, slots=True)
class UnbindTarget:
    """The binding the holder chose to end, and their side of it."""

    binding: api.BindingOut
    side: Side

    @property
    def other(self) -> api.PartyOut:
        return other_party(self.binding, self.side)


@dataclass(frozen=True, slots=True)
class AreaName:
    """A planning area's name in both languages (the citizen may switch language on the screen)."""

    admdvs: str
    name_zh: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class RelativeSummary:
    """What the confirm pages show about the relative: masked name and ID, age, relation, phone."""

    name_masked: str
    age: int
    certno_masked: str
    relation: str  # in the session's language
    phone_masked: str | None
    is_minor: bool


SINGLE_PERSON_RELATIONS = frozenset({"10", "51", "52", "61", "62", "63", "64"})
"""Relations one has only one of (spouse, father, mother, each grandparent): once bound, that relation is
taken, and the relationship step says so before an ID number is typed."""


@dataclass(frozen=True, slots=True)
class BoundRelation:
    """A relation the holder has already used: who holds it (masked), and whether another may be added."""

    name_masked: str
    taken: bool  # a single-person relation: choosing it again can only be refused


@dataclass
class Session:
    """Everything one citizen's visit collected. `wipe()` forgets all of it."""

    backend: Backend
    clock: Callable[[], float] = time.monotonic
    """For the SMS resend countdown (the app passes its own, so tests drive it)."""
    lang: str = "zh-CN"
    step: Step = Step.ATTRACT
    card: CardData | None = None
    pin_tries_left: int | None = None
    pin_wrong: bool = False  # a wrong PIN was typed in this visit
    holder: api.HolderOut | None = None
    ineligible_reason: Reason | None = None
    area: str | None = None
    letters: dict[str, api.LetterOut] = field(default_factory=dict)
    """The commitment letter in each language central has it in (the citizen may switch on the screen)."""
    letter_agreed: api.LetterOut | None = None
    """The letter on the screen when the citizen agreed: the one every binding of this visit records,
    whatever language the visit goes on in."""
    relation_code: str | None = None
    relative_certno: str | None = None
    relative_check: api.BindingCheckOut | None = None
    relative_card_verified: bool = False
    otp: api.OtpSendOut | None = None
    otp_verified: bool = False
    otp_resent: bool = False  # a second code went out: the first one no longer works
    resend_at: float | None = None
    """When (on `clock`) central will send another code: after a code was sent, or a throttled resend."""
    receipt: Submission | None = None
    receipt_url: str | None = None
    """Where the receipt's QR code points: central's public page for this receipt."""
    receipts: list[Submission] = field(default_factory=list)
    bindings: api.BindingsOut | None = None
    unbind_target: UnbindTarget | None = None
    usage: api.UsageOut | None = None
    # gathered for the screens when their step starts (see `gather`)
    area_names: list[AreaName] = field(default_factory=list)  # the area step's choices
    relations: list[str] = field(default_factory=list)  # the relationship step's choices
    bound: dict[str, BoundRelation] = field(default_factory=dict)  # relation code -> already bound to whom
    area_name: AreaName | None = None  # the chosen area, for the confirm page
    pending: list[Submission] = field(default_factory=list)  # sent from here, not yet accepted

    # --- the card and the PIN ---------------------------------------------------------------------------

    def card_inserted(self, card: CardData, pin_tries: int | None = None) -> None:
        """A card was read; `pin_tries` is what the card says of its PIN counter before any try (None: it
        does not say). A locked card is told so before a PIN pad it could never get past."""
        lang = self.lang  # chosen on the attract screen, before the card
        self.wipe()
        self.lang = lang
        self.card = card
        self.pin_tries_left = pin_tries
        self.step = Step.BLOCKED if pin_tries == 0 else Step.PIN

    def pin_entered(self, result: PinResult) -> None:
        """After the card answered VERIFY: identify the holder at central (blocking)."""
        self._expect(Step.PIN)
        if result.blocked:
            self.pin_tries_left = 0
            self.step = Step.BLOCKED
            return
        if not result.ok:
            self.pin_tries_left = result.tries_left
            self.pin_wrong = True
            reason = Reason.PIN_LAST_TRY if result.tries_left == 1 else Reason.PIN_WRONG
            raise SessionError(reason, tries_left=result.tries_left)
        assert self.card is not None  # noqa: S101 - PIN follows a card
        if self.card.certno and self.card.generation == 2:
            holder = self.backend.identify_by_certno(self.card.certno)
        else:
            holder = self.backend.identify_holder(self.card.card_no, self.card.issuing_admdvs)
        self.holder = holder
        if not holder.eligible:
            self.ineligible_reason = (
                Reason.INELIGIBLE if holder.ineligible_reason is None else reason_of(holder.ineligible_reason)
            )
            # They cannot share their own account, but someone may share theirs with them (a parent on
            # resident insurance): the letter promises either side may end it, so they may see and end it.
            self.bindings = self.backend.bindings(holder.psn_no)
            self.step = Step.INELIGIBLE
            return
        self.area = holder.insured_admdvs
        self._to(Step.MENU)

    # --- the bind flow ----------------------------------------------------------------------------------

    def policy(self) -> AreaPolicy:
        assert self.area is not None  # noqa: S101
        policy = self.backend.policy(self.area)
        if policy is None:
            raise SessionError(Reason.POLICY_UNKNOWN, area=self.area)
        return policy

    @property
    def letter(self) -> api.LetterOut | None:
        """The letter in the citizen's language, or in Chinese where it has no translation."""
        return self.letters.get(self.lang) or self.letters.get("zh-CN")

    @property
    def can_unbind_only(self) -> bool:
        """Not a holder who may share (resident insurance, suspended ...), but someone shares with them."""
        return self.ineligible_reason is not None and bool(
            self.bindings and _in_force(self.bindings.as_relative)
        )

    def start_bind(self) -> None:
        """The commitment letter; refused at once where the holder has no relative left to bind."""
        self._expect(Step.MENU, Step.RECEIPT, Step.BINDINGS)
        policy = self.policy()
        assert self.holder is not None  # noqa: S101
        bindings = self.backend.bindings(self.holder.psn_no)
        waiting = [s for s in self.backend.pending_for(self.holder.psn_no) if s.kind == "bind"]
        if len(_in_force(bindings.as_holder)) + len(waiting) >= policy.max_relatives_per_holder:
            raise SessionError(Reason.HOLDER_RELATIVES_CAP, cap=policy.max_relatives_per_holder)
        ref = policy.consent_letter
        letters = {}
        for lang in ("zh-CN", "en"):
            found = self.backend.letter(ref.id, ref.version, lang)
            if found is not None:
                letters[lang] = api.LetterOut.model_validate(found, from_attributes=True)
        if "zh-CN" not in letters:
            raise SessionError(Reason.LETTER_MISSING)
        self.letters = letters
        self._to(Step.LETTER)

    def accept_letter(self, read_to_end: bool) -> None:
        """Agreed to the letter (in the language it was read in, which the binding records). With one area
        to choose from, it is chosen: the relationship step comes next."""
        self._expect(Step.LETTER)
        if not read_to_end:
            raise SessionError(Reason.LETTER_NOT_READ)
        self.letter_agreed = self.letter
        choices = self.area_choices()
        if len(choices) == 1:
            self.area = choices[0]
            self._to(Step.RELATION)
        else:
            self._to(Step.AREA)

    def area_choices(self) -> list[str]:
        """The areas this holder may bind in: their insured area (their account lives there)."""
        assert self.holder is not None  # noqa: S101
        return [self.holder.insured_admdvs]

    def choose_area(self, admdvs: str) -> None:
        self._expect(Step.AREA)
        if admdvs not in self.area_choices():
            raise SessionError(Reason.AREA_NOT_ALLOWED, area=admdvs)
        self.area = admdvs
        self._to(Step.RELATION)

    def relation_choices(self) -> list[str]:
        return list(self.policy().allowed_relations)

    def choose_relation(self, code: str) -> None:
        self._expect(Step.RELATION)
        if code not in self.relation_choices():
            raise SessionError(Reason.RELATION_NOT_ALLOWED, relation=code)
        bound = self.bound.get(code)
        if bound is not None and bound.taken:
            raise SessionError(
                Reason.RELATION_ALREADY_BOUND,
                relation=relation(code).name(self.lang),
                name=bound.name_masked,
            )
        self.relation_code = code
        self.relative_certno = None
        self.relative_check = None
        self._to(Step.RELATIVE)

    def back_to_relation(self) -> None:
        self._expect(Step.RELATIVE)
        self.relative_certno, self.relative_check = None, None
        self._to(Step.RELATION)

    def reenter_relative(self) -> None:
        """Not the right person (seen on the verification or the confirm page): type the number again."""
        self._expect(Step.VERIFY, Step.CONFIRM)
        self.relative_certno, self.relative_check = None, None
        self.otp, self.otp_verified, self.relative_card_verified, self.resend_at = None, False, False, None
        self.otp_resent = False
        self._to(Step.RELATIVE)

    def enter_relative(self, certno_text: str, *, by_card: bool = False) -> None:
        """Check the typed (or read) ID number here, then every rule at central (blocking)."""
        self._expect(Step.RELATIVE)
        try:
            certno = parse_id_number(certno_text).value
        except InvalidIdNumber as exc:
            raise SessionError(Reason.INVALID_ID_NUMBER, reason=exc.params.get("reason", "format")) from None
        assert self.holder is not None and self.area is not None and self.relation_code is not None  # noqa: S101
        if certno == self._holder_certno():
            raise SessionError(Reason.RELATIVE_IS_HOLDER)
        try:
            check = self.backend.check_binding(self.holder.psn_no, certno, self.relation_code, self.area)
        except CentralRefused as exc:
            raise _relay(exc) from None
        self.relative_certno = certno
        self.relative_check = check
        self.relative_card_verified = by_card
        self.otp, self.otp_verified, self.resend_at, self.otp_resent = None, False, None, False
        # The person is shown (masked) with the verification, or on the confirm page: one look, not two.
        self._to(Step.VERIFY if self.needed_verification() - self._done() else Step.CONFIRM)

    def _holder_certno(self) -> str | None:
        return self.card.certno if self.card is not None else None

    def needed_verification(self) -> set[str]:
        assert self.relative_check is not None  # noqa: S101
        return set(self.relative_check.required_verification)

    def _done(self) -> set[str]:
        return {
            name for name, done in (("sms", self.otp_verified), ("card", self.relative_card_verified)) if done
        }

    def send_sms(self) -> api.OtpSendOut:
        self._expect(Step.VERIFY)
        assert self.holder is not None and self.relative_check is not None  # noqa: S101
        again = self.otp is not None
        try:
            self.otp = self.backend.send_otp(self.holder.psn_no, self.relative_check.relative.psn_no)
        except CentralRefused as exc:
            wait = exc.params.get("retry_after_s")
            if exc.reason is Reason.OTP_THROTTLED and isinstance(wait, int | float):
                self.resend_at = self.clock() + wait
            raise _relay(exc) from None
        self.resend_at = self.clock() + self.otp.resend_after_s
        self.otp_resent = again
        return self.otp

    def resend_wait_s(self) -> int:
        """Whole seconds until another code may be asked for (0: now)."""
        if self.resend_at is None:
            return 0
        return max(0, int(self.resend_at - self.clock() + 0.999))

    def verify_sms(self, code: str) -> None:
        self._expect(Step.VERIFY)
        if self.otp is None:
            raise SessionError(Reason.OTP_NOT_SENT)
        if not (len(code) == 6 and code.isdigit()):
            raise SessionError(Reason.OTP_FORMAT)
        try:
            answer = self.backend.verify_otp(self.otp.otp_id, code)
        except CentralRefused as exc:
            raise _relay(exc) from None
        if not answer.verified:  # central refuses a wrong code with its reason; this is only belt and braces
            raise SessionError(Reason.OTP_WRONG)
        self.otp_verified = True
        if not self.needed_verification() - self._done():
            self._to(Step.CONFIRM)

    def relative_card_checked(self, card: CardData, result: PinResult) -> None:
        """The relative's own card and PIN, in the second slot, when the area requires them."""
        self._expect(Step.VERIFY)
        if not result.ok:
            raise SessionError(
                Reason.RELATIVE_PIN_BLOCKED if result.blocked else Reason.PIN_WRONG,
                tries_left=result.tries_left,
            )
        if card.certno is not None and card.certno != self.relative_certno:
            raise SessionError(Reason.RELATIVE_CARD_MISMATCH)
        self.relative_card_verified = True
        if not self.needed_verification() - self._done():
            self._to(Step.CONFIRM)

    def confirm(self) -> Submission:
        """Commit durably (store + outbox in one transaction) before anything says 'done'."""
        self._expect(Step.CONFIRM)
        letter = self.letter_agreed
        assert self.holder and self.relative_check and letter and self.relative_certno  # noqa: S101
        assert self.area is not None and self.relation_code is not None  # noqa: S101
        draft = BindDraft(
            holder_psn_no=self.holder.psn_no,
            holder_name_masked=self.holder.name_masked,
            relative_certno=self.relative_certno,
            relative_name_masked=self.relative_check.relative.name_masked,
            relation_code=self.relation_code,
            admdvs=self.area,
            letter_id=letter.letter_id,
            letter_version=letter.version,
            letter_sha256=letter.sha256,
            otp_id=self.otp.otp_id if self.otp and self.otp_verified else None,
            relative_card_verified=self.relative_card_verified,
        )
        self.receipt = self.backend.submit_bind(draft)
        self.receipts.append(self.receipt)
        self.relative_certno = None  # the full number is no longer needed here
        self._to(Step.RECEIPT)
        return self.receipt

    def bind_another(self) -> None:
        """The next relative under the same letter and area (the letter was agreed to in this visit)."""
        self._expect(Step.RECEIPT)
        self.relation_code, self.relative_check, self.relative_certno = None, None, None
        self.otp, self.otp_verified, self.relative_card_verified, self.resend_at = None, False, False, None
        self.otp_resent = False
        self._to(Step.RELATION)

    # --- looking and unbinding ----------------------------------------------------------------------------

    def show_bindings(self) -> api.BindingsOut:
        self._expect(
            Step.MENU, Step.RECEIPT, Step.UNBIND_RECEIPT, Step.BINDINGS, Step.UNBIND_CONFIRM, Step.INELIGIBLE
        )
        assert self.holder is not None  # noqa: S101
        self.bindings = self.backend.bindings(self.holder.psn_no)
        self._to(Step.BINDINGS)
        return self.bindings

    def choose_unbind(self, binding_id: str) -> None:
        self._expect(Step.BINDINGS)
        assert self.bindings is not None  # noqa: S101
        for side, rows in (
            (Side.AS_HOLDER, self.bindings.as_holder),
            (Side.AS_RELATIVE, self.bindings.as_relative),
        ):
            for b in rows:
                if b.binding_id == binding_id:
                    self.unbind_target = UnbindTarget(b, side)
                    self._to(Step.UNBIND_CONFIRM)
                    return
        raise SessionError(Reason.BINDING_NOT_FOUND)

    def confirm_unbind(self) -> Submission:
        self._expect(Step.UNBIND_CONFIRM)
        assert self.holder is not None and self.unbind_target is not None  # noqa: S101
        b, other = self.unbind_target.binding, self.unbind_target.other
        draft = UnbindDraft(
            binding_id=b.binding_id,
            by_psn_no=self.holder.psn_no,
            admdvs=b.admdvs,
            holder_psn_no=self.holder.psn_no,
            holder_name_masked=self.holder.name_masked,
            relative_name_masked=other.name_masked,
            relative_certno_masked=other.certno_masked,
        )
        self.receipt = self.backend.submit_unbind(draft)
        if self.bindings is not None:  # asked to end: no longer offered (the notice, the list)
            self.bindings = api.BindingsOut(
                as_holder=[x for x in self.bindings.as_holder if x.binding_id != b.binding_id],
                as_relative=[x for x in self.bindings.as_relative if x.binding_id != b.binding_id],
            )
        self._to(Step.UNBIND_RECEIPT)
        return self.receipt

    def show_usage(self) -> api.UsageOut:
        self._expect(Step.MENU)
        assert self.holder is not None  # noqa: S101
        self.usage = self.backend.usage(self.holder.psn_no)
        self._to(Step.USAGE)
        return self.usage

    def back_from_guides(self) -> None:
        """The guides were opened from the menu (a holder who may share) or from the attract screen."""
        if self.holder is not None and self.ineligible_reason is None:
            self._to(Step.MENU)
        else:
            self.step = Step.ATTRACT  # no visit: the attract screen in the language chosen there

    def show_guides(self) -> None:
        self._to(Step.GUIDES)

    def back_to_menu(self) -> None:
        """The menu; for someone who may only see what is shared with them, their notice (it offers that)."""
        if self.holder is None or self.step is Step.BLOCKED:
            raise SessionError(Reason.NO_HOLDER)
        if self.ineligible_reason is not None:
            self.unbind_target = None
            self._to(Step.INELIGIBLE)
            return
        self._to(Step.MENU)

    # --- helpers ----------------------------------------------------------------------------------------

    def gather(self) -> None:
        """Read what the current step's screen shows into the session (area names, relationship choices,
        requests still waiting to be sent), so that the screen draws only what is here. Blocking (the local
        store). The steps do it themselves as they enter a step, in the worker thread that runs them; call
        it after putting a session at a step by hand."""
        self._gather(self.step)

    def _gather(self, step: Step) -> None:
        match step:
            case Step.AREA:
                self.area_names = [self._area_name(admdvs) for admdvs in self.area_choices()]
            case Step.RELATION:
                self.relations = self.relation_choices()
                assert self.holder is not None  # noqa: S101
                psn_no = self.holder.psn_no
                self.bound = _bound_relations(
                    self.backend.bindings(psn_no).as_holder, self.backend.pending_for(psn_no)
                )
            case Step.CONFIRM:
                assert self.area is not None  # noqa: S101
                self.area_name = self._area_name(self.area)
            case Step.RECEIPT | Step.UNBIND_RECEIPT:
                assert self.receipt is not None  # noqa: S101
                self.area_name = self._area_name(self.receipt.admdvs)
                try:
                    self.receipt_url = self.backend.receipt_url(self.receipt.receipt_no)
                except CentralFault:  # the receipt stands without its QR code: it is committed already
                    log.exception("no receipt page address for this terminal")
                    self.receipt_url = None
            case Step.BINDINGS:
                assert self.holder is not None  # noqa: S101
                self.pending = self.backend.pending_for(self.holder.psn_no)
            case _:
                # the other screens draw what the steps collected; MENU and GUIDES read nothing, which is
                # why back_to_menu and show_guides may run on the UI thread
                pass

    def _to(self, step: Step) -> None:
        """Enter `step` once what its screen shows is gathered (a refusal there leaves the step as it was)."""
        self._gather(step)
        self.step = step

    def _area_name(self, admdvs: str) -> AreaName:
        policy = self.backend.policy(admdvs)
        if policy is None:  # not pulled yet: the code is all there is to show
            return AreaName(admdvs, admdvs, admdvs)
        return AreaName(admdvs, policy.name_zh, policy.name_en)

    def relative_summary(self) -> RelativeSummary:
        """What the confirm pages show about the relative: masked name, age, relation, masked ID."""
        assert self.relative_check is not None and self.relation_code is not None  # noqa: S101
        r = self.relative_check.relative
        return RelativeSummary(
            name_masked=r.name_masked,
            age=r.age,
            certno_masked=r.certno_masked if self.relative_certno is None else mask_id(self.relative_certno),
            relation=relation(self.relation_code).name(self.lang),
            phone_masked=r.phone_masked,
            is_minor=self.relative_check.relative_is_minor,
        )

    def holder_age(self, today: dt.date) -> int | None:
        if self.holder is None:
            return None
        return age_on(self.holder.birth_date, today)

    def _expect(self, *steps: Step) -> None:
        if self.step not in steps:
            raise SessionError(Reason.WRONG_STEP, step=self.step.value)

    def wipe(self) -> None:
        """Forget everything personal: the next citizen starts from nothing (and in Chinese)."""
        self.__dict__.update(Session(self.backend, self.clock).__dict__)

    def personal_data_left(self) -> list[str]:
        """Names of fields still holding anything personal (a wiped session returns [])."""
        keep = {"backend", "clock", "lang", "step"}
        return [
            n
            for n in self.__dataclass_fields__
            if n not in keep and getattr(self, n) not in (None, [], {}, False)
        ]


def _relay(exc: CentralRefused) -> SessionError:
    """Central's refusal, passed on with its reason and parameters for the citizen's message."""
    return SessionError(exc.reason, exc.detail, **exc.params)


def _in_force(rows: list[api.BindingOut]) -> list[api.BindingOut]:
    return [b for b in rows if b.status == "active"]


def _bound_relations(rows: list[api.BindingOut], pending: list[Submission]) -> dict[str, BoundRelation]:
    """Relation code -> who already holds it: the bindings in force where the holder shares, and the
    bindings sent from this terminal that central has not answered yet."""
    held = [(b.relation_code, b.relative.name_masked) for b in _in_force(rows)]
    held += [
        (s.relation_code, s.relative_name_masked) for s in pending if s.kind == "bind" and s.relation_code
    ]
    out: dict[str, BoundRelation] = {}
    for code, name in held:
        out.setdefault(code, BoundRelation(name, taken=code in SINGLE_PERSON_RELATIONS))
    return out
