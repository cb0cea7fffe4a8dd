"""The citizen's words for every reason key the core can give (errors, refusals, statuses)."""

from __future__ import annotations

from typing import Any

from screens.i18n import N_, _

REASONS: dict[str, str] = {
    # card and PIN
    "pin_wrong": N_("The PIN is not right. {tries_left} tries left."),
    "pin_blocked": N_("This card's PIN is locked. Please go to the staff counter to unlock it."),
    "card_removed": N_("The card was taken out. Please insert it again."),
    "reader_unavailable": N_("The card reader is not available. Please ask the staff for help."),
    "not_social_security_card": N_("This is not a social security card."),
    "card_expired": N_("This card has expired. Please go to the staff counter to renew it."),
    "malformed_answer": N_("The card could not be read. Please insert it again."),
    "card_not_found": N_("This card is not registered. Please go to the staff counter."),
    "person_not_found": N_("No insured person has this ID number."),
    # holder
    "holder_not_employee_insured": N_(
        "Only employee medical insurance has a personal account that can be shared. Yours is resident insurance."
    ),
    "holder_status_not_normal": N_(
        "Your insurance is suspended or ended, so your account cannot be shared now."
    ),
    "holder_not_insured_in_area": N_("You are not insured in this area."),
    "holder_too_young": N_("You are too young to share your account here (minimum age {min_age})."),
    "area_not_served": N_("Your insured area is not served at this terminal. Please ask the staff."),
    # relative
    "invalid_id_number": N_("This ID number is not valid. Please check it."),
    "relative_is_holder": N_("This is your own ID number. Please enter your relative's."),
    "relation_not_allowed": N_("This area does not allow sharing with this relative."),
    "relation_unknown": N_("Unknown relationship."),
    "relative_not_insured": N_("The relative is not in a basic medical insurance."),
    "relative_status_not_normal": N_("The relative's insurance is suspended or ended."),
    "relative_out_of_scope": N_("The relative is insured in an area this one cannot share with."),
    "relation_sex_mismatch": N_("The relationship does not match the relative's sex. Please check it."),
    "relation_age_implausible": N_(
        "The relationship does not match the ages. Please check the relationship."
    ),
    "duplicate_binding": N_("This relative is already bound to you."),
    "holder_relatives_cap": N_("You have reached the most relatives you may bind here ({cap})."),
    "relative_holders_cap": N_("This relative already has the most holders allowed ({cap})."),
    # verification
    "otp_wrong": N_("The code is not right. {attempts_left} tries left."),
    "otp_expired": N_("The code has expired. Please ask for a new one."),
    "otp_locked": N_("Too many wrong codes. Please ask for a new one."),
    "otp_throttled": N_("A code was sent just now. Please wait a minute before asking again."),
    "otp_not_for_minor": N_("A child gets no SMS: you confirm as guardian."),
    "otp_format": N_("The code has 6 digits."),
    "relative_no_phone": N_("The relative has no registered mobile phone. Please ask the staff for help."),
    "relative_card_mismatch": N_("This card belongs to someone else."),
    "relative_pin_blocked": N_("The relative's card PIN is locked."),
    # submitting
    "central_offline": N_("The medical insurance service cannot be reached now. Please try again later."),
    "offline_not_allowed": N_("The service is offline and this area does not accept requests offline."),
    "offline_queue_full": N_("Too many requests are waiting for the network. Please try again later."),
    "offline_queue_too_old": N_("This terminal has been offline too long. Please ask the staff."),
    "policy_unknown": N_("This terminal has not yet received the rules of your area. Please ask the staff."),
    "letter_missing": N_("The commitment letter is not available. Please ask the staff."),
    "letter_not_read": N_("Please read the letter to the end first."),
    "unbind_not_allowed_for_side": N_("In this area only the holder may end the sharing."),
    "binding_not_active": N_("This binding has already ended."),
    "request_id_conflict": N_("This request conflicted with another one. Please ask the staff."),
    "staff_pin_wrong": N_("Wrong staff PIN."),
}

STATUS = {
    "pending": N_("Waiting to be sent"),
    "accepted": N_("Done"),
    "rejected": N_("Refused"),
    "active": N_("In force"),
    "revoked": N_("Ended"),
    "expired": N_("Expired"),
}


def reason_text(key: str, params: dict[str, Any] | None = None) -> str:
    template = REASONS.get(key)
    if template is None:
        return _("Something went wrong ({key}). Please ask the staff for help.").format(key=key)
    try:
        return _(template).format(**(params or {}))
    except (KeyError, IndexError):
        return _(template)


def status_text(status: str) -> str:
    return _(STATUS.get(status, status))
