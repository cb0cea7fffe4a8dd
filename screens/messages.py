"""The citizen's words for every reason the core can give (errors, refusals, statuses)."""

from __future__ import annotations

from typing import Any

from kiosk.api import INTERNAL_REASONS, Reason, reason_of
from screens.i18n import N_, _

# Every `Reason` but the internal ones has a sentence here (tests/unit/test_reasons.py holds it); an
# internal one is a fault of the terminal or the service, so the citizen is sent to the staff with its code.

REASONS: dict[Reason, str] = {
    # card and PIN
    Reason.PIN_WRONG: N_("The PIN is not right. {tries_left} tries left."),
    Reason.PIN_LAST_TRY: N_(
        "The PIN is not right. One try left: one more wrong PIN locks the card. If unsure, ask the staff."
    ),
    Reason.PIN_BLOCKED: N_("This card's PIN is locked. Please go to the staff counter to unlock it."),
    Reason.CARD_REMOVED: N_("The card was taken out. Please insert it again."),
    Reason.READER_UNAVAILABLE: N_("The card reader is not available. Please ask the staff for help."),
    Reason.NOT_SOCIAL_SECURITY_CARD: N_("This is not a social security card."),
    Reason.CARD_EXPIRED: N_("This card has expired. Please go to the staff counter to renew it."),
    Reason.MALFORMED_ANSWER: N_("The card could not be read. Please insert it again."),
    Reason.CARD_NOT_FOUND: N_("This card is not registered. Please go to the staff counter."),
    Reason.PERSON_NOT_FOUND: N_("No insured person has this ID number."),
    # holder
    Reason.HOLDER_NOT_EMPLOYEE_INSURED: N_(
        "Only employee medical insurance has a personal account that can be shared. Yours is resident insurance."
    ),
    Reason.HOLDER_STATUS_NOT_NORMAL: N_(
        "Your insurance is suspended or ended, so your account cannot be shared now."
    ),
    Reason.HOLDER_NOT_INSURED_IN_AREA: N_("You are not insured in this area."),
    Reason.HOLDER_TOO_YOUNG: N_("You are too young to share your account here (minimum age {min_age})."),
    Reason.AREA_NOT_SERVED: N_("Your insured area is not served at this terminal. Please ask the staff."),
    # relative
    Reason.INVALID_ID_NUMBER: N_("This ID number is not valid. Please check it."),
    Reason.RELATIVE_IS_HOLDER: N_("This is your own ID number. Please enter your relative's."),
    Reason.RELATION_NOT_ALLOWED: N_("This area does not allow sharing with this relative."),
    Reason.RELATION_UNKNOWN: N_("Unknown relationship."),
    Reason.RELATIVE_NOT_INSURED: N_("The relative is not in a basic medical insurance."),
    Reason.RELATIVE_STATUS_NOT_NORMAL: N_("The relative's insurance is suspended or ended."),
    Reason.RELATIVE_OUT_OF_SCOPE: N_("The relative is insured in an area this one cannot share with."),
    Reason.RELATION_SEX_MISMATCH: N_("The relationship does not match the relative's sex. Please check it."),
    Reason.RELATION_AGE_IMPLAUSIBLE: N_(
        "The relationship does not match the ages. Please check the relationship."
    ),
    Reason.RELATION_MISMATCH: N_(
        "The relationship does not match the household register. Please check the relationship."
    ),
    Reason.DUPLICATE_BINDING: N_("This relative is already bound to you."),
    Reason.RELATION_ALREADY_BOUND: N_("Your {relation} ({name}) is already bound to you."),
    Reason.HOLDER_RELATIVES_CAP: N_("You have reached the most relatives you may bind here ({cap})."),
    Reason.RELATIVE_HOLDERS_CAP: N_("This relative already has the most holders allowed ({cap})."),
    # verification
    Reason.OTP_WRONG: N_("The code is not right. {attempts_left} tries left."),
    Reason.OTP_EXPIRED: N_("The code has expired. Please ask for a new one."),
    Reason.OTP_LOCKED: N_("Too many wrong codes. Please ask for a new one."),
    Reason.OTP_THROTTLED: N_(
        "A code was sent just now. You can ask for another when the countdown on the button ends."
    ),
    Reason.OTP_NOT_FOR_MINOR: N_("A child gets no SMS: you confirm as guardian."),
    Reason.OTP_FORMAT: N_("The code has 6 digits."),
    Reason.OTP_NOT_SENT: N_("Please ask for a code first."),
    Reason.OTP_ALREADY_USED: N_("This code has already been used. Please ask for a new one."),
    Reason.RELATIVE_CARD_REQUIRED: N_("In this area the relative also confirms with their own card and PIN."),
    Reason.RELATIVE_NO_PHONE: N_(
        "The relative has no registered mobile phone. Please ask the staff for help."
    ),
    Reason.RELATIVE_CARD_MISMATCH: N_("This card belongs to someone else."),
    Reason.RELATIVE_PIN_BLOCKED: N_("The relative's card PIN is locked."),
    # submitting
    Reason.CENTRAL_OFFLINE: N_(
        "The medical insurance service cannot be reached now. Please try again later."
    ),
    Reason.OFFLINE_NOT_ALLOWED: N_("The service is offline and this area does not accept requests offline."),
    Reason.OFFLINE_QUEUE_FULL: N_("Too many requests are waiting for the network. Please try again later."),
    Reason.OFFLINE_QUEUE_TOO_OLD: N_("This terminal has been offline too long. Please ask the staff."),
    Reason.POLICY_UNKNOWN: N_(
        "This terminal has not yet received the rules of your area. Please ask the staff."
    ),
    Reason.LETTER_MISSING: N_("The commitment letter is not available. Please ask the staff."),
    Reason.LETTER_NOT_READ: N_("Please read the letter to the end first."),
    Reason.LETTER_OUTDATED: N_("The commitment letter has changed. Please read and agree to the new one."),
    Reason.AGENT_NOT_ALLOWED: N_("This area does not accept a binding made on someone else's behalf."),
    Reason.UNBIND_NOT_ALLOWED_FOR_SIDE: N_("In this area only the holder may end the sharing."),
    Reason.BINDING_NOT_ACTIVE: N_("This binding has already ended."),
    Reason.REQUEST_ID_CONFLICT: N_("This request conflicted with another one. Please ask the staff."),
    Reason.STAFF_PIN_WRONG: N_("Wrong staff PIN."),
}

STATUS = {
    "pending": N_("Waiting to be sent"),
    "accepted": N_("Done"),
    "rejected": N_("Refused"),
    "active": N_("In force"),
    "revoked": N_("Ended"),
    "expired": N_("Expired"),
}


STAFF = N_("Something went wrong. Please ask the staff for help. (code: {key})")


def reason_text(reason: Reason | str, params: dict[str, Any] | None = None) -> str:
    """The citizen's sentence for `reason` (a key from anywhere is read with `reason_of`), filled with
    `params`. Internal reasons, and keys this build does not know, send the citizen to the staff with the
    key, so that the staff can tell what happened."""
    known = reason if isinstance(reason, Reason) else reason_of(reason)
    template = REASONS.get(known)
    if template is None or known in INTERNAL_REASONS:
        # a key this build does not know is shown as it came (the staff can still look it up)
        code = str(reason) if known is Reason.UNKNOWN and reason else known.value
        return _(STAFF).format(key=code)
    try:
        return _(template).format(**(params or {}))
    except (KeyError, IndexError):
        return _(template)


def status_text(status: str) -> str:
    return _(STATUS.get(status, status))
