"""Coded reasons for the moves that end or pause a referral, so reports can count them."""

from django.db import models


class DeclineReason(models.TextChoices):
    NOT_ELIGIBLE = "not_eligible", "Not eligible for the programme"
    OUTSIDE_AREA = "outside_area", "Outside the area we serve"
    PATIENT_DECLINED = "patient_declined", "Patient declined"
    UNABLE_TO_CONTACT = "unable_to_contact", "Unable to contact the patient"
    DUPLICATE = "duplicate", "Duplicate referral"
    OTHER = "other", "Other (see note)"


class DischargeReason(models.TextChoices):
    DNA_LIMIT = "dna_limit", "Did not attend the limit of sessions in a row"
    PATIENT_CHOICE = "patient_choice", "Patient chose to stop"
    MEDICAL = "medical", "Medical reasons"
    MOVED_AWAY = "moved_away", "Moved away"
    CONSENT_WITHDRAWN = "consent_withdrawn", "Patient withdrew consent to the referral"
    OTHER = "other", "Other (see note)"


class CancelReason(models.TextChoices):
    PATIENT_WITHDREW = "patient_withdrew", "Patient withdrew"
    CONSENT_WITHDRAWN = "consent_withdrawn", "Patient withdrew consent to the referral"
    REFERRER_WITHDREW = "referrer_withdrew", "Referrer withdrew the referral"
    NO_LONGER_APPROPRIATE = "no_longer_appropriate", "No longer clinically appropriate"
    DUPLICATE = "duplicate", "Duplicate referral"
    OTHER = "other", "Other (see note)"


# Every coded reason's label, for timelines (codes are unique across the three lists or mean the
# same thing, e.g. "duplicate" and "other").
REASON_LABELS = {
    **dict(DeclineReason.choices),
    **dict(DischargeReason.choices),
    **dict(CancelReason.choices),
}
