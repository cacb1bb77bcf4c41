"""Patients, their referrals, the referral timeline, sessions and the notification outbox.

Status is changed only by the services in `referrals/services.py`, which follow the state table in
`referrals/workflow.py`; nothing here changes state on save.
"""

import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from accounts.models import Organisation
from accounts.validation import (
    CLINICAL_TEXT_MAX,
    CONSENT_NOTE_MAX,
    SHORT_NOTE_MAX,
    bounded_text_field,
    text_length_constraint,
    validate_single_line_text,
)
from clinical.conditions import Condition, Exclusion
from facilities.models import Facility, Programme, ProgrammeClass
from facilities.postcodes import normalise_postcode, validate_postcode

from .nhs_numbers import format_nhs_number, normalise_nhs_number, validate_nhs_number


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    INFO_REQUESTED = "info_requested", "Information requested"
    ACCEPTED = "accepted", "Accepted"
    WAITLISTED = "waitlisted", "Waiting list"
    BOOKED = "booked", "Booked"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    DISCHARGED = "discharged", "Discharged"
    CANCELLED = "cancelled", "Cancelled"


# The states a referral never leaves (the state table, `workflow.py`, has no move out of them).
FINAL_STATES = frozenset({Status.COMPLETED, Status.DECLINED, Status.DISCHARGED, Status.CANCELLED})


class Sex(models.TextChoices):
    """Person stated sex (NHS Data Dictionary)."""

    FEMALE = "F", "Female"
    MALE = "M", "Male"
    INDETERMINATE = "I", "Indeterminate"
    NOT_KNOWN = "U", "Not known"


class Ethnicity(models.TextChoices):
    """Ethnic category (NHS Data Dictionary, 2001 census codes)."""

    WHITE_BRITISH = "A", "White - British"
    WHITE_IRISH = "B", "White - Irish"
    WHITE_OTHER = "C", "White - Any other White background"
    MIXED_WHITE_BLACK_CARIBBEAN = "D", "Mixed - White and Black Caribbean"
    MIXED_WHITE_BLACK_AFRICAN = "E", "Mixed - White and Black African"
    MIXED_WHITE_ASIAN = "F", "Mixed - White and Asian"
    MIXED_OTHER = "G", "Mixed - Any other mixed background"
    ASIAN_INDIAN = "H", "Asian or Asian British - Indian"
    ASIAN_PAKISTANI = "J", "Asian or Asian British - Pakistani"
    ASIAN_BANGLADESHI = "K", "Asian or Asian British - Bangladeshi"
    ASIAN_OTHER = "L", "Asian or Asian British - Any other Asian background"
    BLACK_CARIBBEAN = "M", "Black or Black British - Caribbean"
    BLACK_AFRICAN = "N", "Black or Black British - African"
    BLACK_OTHER = "P", "Black or Black British - Any other Black background"
    CHINESE = "R", "Other ethnic groups - Chinese"
    OTHER = "S", "Other ethnic groups - Any other ethnic group"
    NOT_STATED = "Z", "Not stated"
    NOT_KNOWN = "99", "Not known"


def validate_date_of_birth(value) -> None:
    today = timezone.localdate()
    if value > today:
        raise ValidationError("Date of birth must be in the past", code="dob_in_future")
    if value.year < today.year - 120:
        raise ValidationError("Date of birth must be within the last 120 years", code="dob_too_old")


class Patient(models.Model):
    """One organisation's record of a person it refers for exercise.

    The record belongs to the organisation that gave the details: another organisation referring
    the same person keeps a record of its own, so no organisation's write changes what another
    sees. The NHS number (unique within an organisation, optional) links the records of one person
    across organisations, only for counting and de-duplication.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="patients",
        help_text="The organisation that gave these details and holds this record.",
    )
    # NULL, not "", for "no NHS number": the unique constraint must ignore the people without one.
    nhs_number = models.CharField(  # noqa: DJ001
        "NHS number", max_length=10, null=True, blank=True, validators=[validate_nhs_number]
    )
    given_name = models.CharField(max_length=100, validators=[validate_single_line_text])
    family_name = models.CharField(max_length=100, validators=[validate_single_line_text])
    date_of_birth = models.DateField(validators=[validate_date_of_birth])
    sex = models.CharField(max_length=1, choices=Sex.choices)
    gender_identity = models.CharField(
        max_length=100, blank=True, validators=[validate_single_line_text]
    )
    ethnicity = models.CharField(
        max_length=2, choices=Ethnicity.choices, default=Ethnicity.NOT_STATED
    )
    postcode = models.CharField(max_length=8, validators=[validate_postcode])
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    contact_by_phone = models.BooleanField(default=True)
    contact_by_email = models.BooleanField(default=False)
    contact_by_post = models.BooleanField(default=False)
    do_not_contact = models.BooleanField(default=False)
    interpreter_needed = models.BooleanField(default=False)
    interpreter_language = models.CharField(
        max_length=60, blank=True, validators=[validate_single_line_text]
    )
    registered_gp_ods = models.CharField("registered GP practice (ODS)", max_length=10, blank=True)
    # Set by the retention rule (governance/retention.py): identifying details are gone, and the
    # keyed hash of the NHS number still tells records of one person apart for counting.
    pseudonymised_at = models.DateTimeField(null=True, blank=True)
    nhs_number_pseudonym = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "nhs_number"],
                condition=models.Q(nhs_number__isnull=False),
                name="patient_nhs_number_unique_per_organisation",
                violation_error_code="duplicate_nhs_number",
                violation_error_message="Your organisation already has a patient with this NHS "
                "number",
            ),
            models.CheckConstraint(
                condition=models.Q(nhs_number__isnull=True)
                | models.Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="patient_nhs_number_ten_digits",
            ),
            models.CheckConstraint(
                condition=models.Q(interpreter_needed=False) | ~models.Q(interpreter_language=""),
                name="patient_interpreter_language_when_needed",
            ),
            models.CheckConstraint(
                condition=models.Q(contact_by_email=False) | ~models.Q(email=""),
                name="patient_email_when_contact_by_email",
            ),
        ]
        indexes = [
            models.Index(fields=["family_name", "date_of_birth"], name="patient_name_dob_idx"),
            # One person across organisations: de-duplicated counts join on the NHS number.
            models.Index(fields=["nhs_number"], name="patient_nhs_number_idx"),
        ]

    def __str__(self):
        return f"Patient {self.public_id}"

    def clean_fields(self, exclude=None):
        # Normalise what people type ("943 476 5919", " ls6 2ab") before length checks run.
        self.nhs_number = normalise_nhs_number(self.nhs_number) or None
        self.postcode = normalise_postcode(self.postcode)
        super().clean_fields(exclude=exclude)

    def validate_constraints(self, exclude=None):
        # A conditional unique constraint reports on the whole form; the duplicate is the NHS
        # number the person typed, so say so there.
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            errors = error.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            duplicate = [e for e in general if e.code == "duplicate_nhs_number"]
            if duplicate:
                errors.setdefault("nhs_number", []).extend(duplicate)
            rest = [e for e in general if e.code != "duplicate_nhs_number"]
            if rest:
                errors[NON_FIELD_ERRORS] = rest
            raise ValidationError(errors) from None

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def nhs_number_display(self) -> str:
        return format_nhs_number(self.nhs_number) if self.nhs_number else "Not known"

    def age_on(self, day) -> int:
        before_birthday = (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day)
        return day.year - self.date_of_birth.year - before_birthday


# Crockford-style alphabet without vowels or look-alikes: no words, no 0/O or 1/I confusion.
REFERENCE_ALPHABET = "23456789BCDFGHJKLMNPQRSTVWXZ"
REFERENCE_PREFIX = "ER-"


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Priority(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"


MEMBERSHIP_NUMBER_MAX = 40


def normalise_membership_number(value: str | None) -> str:
    """A leisure membership number as the portal keeps and matches it: trimmed, upper case
    ("  ab-1234 " and "AB-1234" are one member)."""
    return (value or "").strip().upper()


class Referral(models.Model):
    """One referral of one patient to an exercise programme, from draft to a final state."""

    reference = models.CharField(max_length=12, unique=True, default=new_reference, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="referrals")
    referring_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="referrals_made"
    )
    referring_clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="referrals_made",
        null=True,
        blank=True,
    )
    # Copied at referral time: the record must say who was responsible even if the user changes.
    clinician_name = models.CharField(max_length=200, validators=[validate_single_line_text])
    clinician_registration = models.CharField(max_length=30, blank=True)
    referred_on = models.DateField(default=timezone.localdate)

    reasons = ArrayField(
        models.CharField(max_length=20, choices=Condition.choices), default=list, blank=True
    )
    bp_systolic = models.PositiveSmallIntegerField("BP systolic (mmHg)", null=True, blank=True)
    bp_diastolic = models.PositiveSmallIntegerField("BP diastolic (mmHg)", null=True, blank=True)
    bp_measured_on = models.DateField(null=True, blank=True)
    # None until the referrer answers (a draft may leave it; a referral is sent only with it):
    # a default would be an answer nobody gave.
    heart_rate_medication = models.BooleanField(
        "takes medication affecting heart rate (e.g. beta blockers)", null=True, blank=True
    )
    medication_notes = bounded_text_field(CLINICAL_TEXT_MAX, blank=True)
    relevant_history = bounded_text_field(CLINICAL_TEXT_MAX, blank=True)
    # The safety screen: hard exclusions the referrer says apply. Any that the programme lists
    # stops the referral (an empty list means the screen found none).
    exclusions_present = ArrayField(
        models.CharField(max_length=40, choices=Exclusion.choices), default=list, blank=True
    )
    # When the referrer answered the safety screen: an empty list above means "none apply" only
    # once this is set. A draft whose BP falls below 180/100 after the answer loses it (the ticks
    # stay for the referrer to review): see `services._keep_safety_screen_true_to_bp`.
    safety_screened_at = models.DateTimeField(null=True, blank=True)
    # Who answered it: the provider judges the answers by who gave them (another referrer at the
    # practice may have finished the draft).
    safety_screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Blank until the referrer answers, like the medication question above.
    risk_tier = models.CharField(max_length=10, choices=RiskTier.choices, blank=True, default="")
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.ROUTINE)

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="referrals", null=True, blank=True
    )
    preferred_facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # The programme's operator, copied on submit: the triage worklist and visibility key on it.
    operator = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="referrals_received",
        null=True,
        blank=True,
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="referrals", null=True, blank=True
    )
    programme_class = models.ForeignKey(
        ProgrammeClass, on_delete=models.PROTECT, related_name="referrals", null=True, blank=True
    )
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="caseload",
        null=True,
        blank=True,
    )

    consent_referral = models.BooleanField("consents to the referral", default=False)
    consent_share_outcomes = models.BooleanField(
        "consents to progress and outcomes being shared with the referrer", default=False
    )
    consent_research = models.BooleanField("consents to anonymised evaluation use", default=False)
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    consent_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    # Where the referrer left a draft ("Save as draft" on a step, or the step they were sent on
    # to): "Continue the referral" reopens it. A step name of the wizard, or "check".
    draft_step = models.CharField(max_length=20, blank=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    status_changed_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change of state: a stale copy cannot overwrite a newer one.
    version = models.PositiveIntegerField(default=1)

    # The instructor's advice for the referrer, given at completion or discharge; it goes to the
    # referrer in the discharge summary (the letter and the FHIR message).
    discharge_recommendations = bounded_text_field(SHORT_NOTE_MAX, blank=True)

    # The patient's number in the operator's leisure management system (per operator: the
    # referral's), set at accept or booking and changed by the coordinator. Check-ins and
    # imports from the operator's systems name the member by it (`referrals/visits.py`).
    membership_number = models.CharField(
        max_length=MEMBERSHIP_NUMBER_MAX, blank=True, validators=[validate_single_line_text]
    )

    ubrn = models.CharField("e-RS UBRN", max_length=12, blank=True)
    bars_service_request_id = models.CharField("BaRS ServiceRequest id", max_length=64, blank=True)
    # Set by the retention rule: free text and external ids cleared, coded facts kept.
    pseudonymised_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="referral_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(bp_systolic__isnull=True, bp_diastolic__isnull=True)
                | models.Q(bp_systolic__isnull=False, bp_diastolic__isnull=False),
                name="referral_bp_paired",
            ),
            models.CheckConstraint(
                condition=models.Q(bp_systolic__isnull=True)
                | models.Q(bp_systolic__gt=models.F("bp_diastolic")),
                name="referral_bp_systolic_above_diastolic",
            ),
            # Once it leaves draft a referral has a programme, an operator and a date, and consent
            # while it is open: withdrawing consent to the referral ends it (referrals/consent.py).
            models.CheckConstraint(
                condition=models.Q(status=Status.DRAFT)
                | models.Q(
                    programme__isnull=False,
                    operator__isnull=False,
                    submitted_at__isnull=False,
                )
                & (
                    models.Q(consent_referral=True)
                    | models.Q(
                        status__in=[
                            Status.COMPLETED,
                            Status.DECLINED,
                            Status.DISCHARGED,
                            Status.CANCELLED,
                        ]
                    )
                ),
                name="referral_submitted_is_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(consent_referral=False)
                | models.Q(consent_recorded_at__isnull=False),
                name="referral_consent_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="referral_version_positive"
            ),
            text_length_constraint("referral", "medication_notes", CLINICAL_TEXT_MAX),
            text_length_constraint("referral", "relevant_history", CLINICAL_TEXT_MAX),
            text_length_constraint("referral", "discharge_recommendations", SHORT_NOTE_MAX),
        ]
        indexes = [
            # Referrer dashboard: an organisation's referrals, most recently changed first.
            models.Index(
                fields=["referring_organisation", "-updated_at"], name="referral_by_referrer_idx"
            ),
            # Referrer dashboard, "Me" (its default): a clinician's referrals for the practice, in
            # the page's order (both columns: the planner cannot tell that one implies the other).
            models.Index(
                fields=["referring_organisation", "referring_clinician", "-updated_at", "-id"],
                name="referral_by_clinician_idx",
            ),
            # Triage worklist: an operator's referrals in a state, oldest first.
            models.Index(fields=["operator", "status", "submitted_at"], name="referral_triage_idx"),
            # Triage worklist, "Waiting for us" (its default): the four states at once, oldest
            # first (an IN-list over the index above cannot be read in that order).
            models.Index(
                fields=["operator", "submitted_at", "id"],
                condition=models.Q(
                    status__in=["submitted", "info_requested", "accepted", "waitlisted"]
                ),
                name="referral_worklist_idx",
            ),
            # Class places: the referrals still in a class (holding a place or waiting), so
            # occupancy never reads a class's history (`places.classes_with_places`).
            models.Index(
                fields=["programme_class", "status"],
                condition=models.Q(status__in=["accepted", "booked", "active", "waitlisted"]),
                name="referral_in_class_idx",
            ),
            # Instructor caseload: referrals at a facility in a state.
            models.Index(fields=["facility", "status"], name="referral_facility_status_idx"),
            models.Index(fields=["patient", "-created_at"], name="referral_by_patient_idx"),
            # A visit from the operator's systems finds its referral by membership number.
            models.Index(fields=["operator", "membership_number"], name="referral_membership_idx"),
            GinIndex(fields=["reasons"], name="referral_reasons_gin"),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATES

    @property
    def shares_progress(self) -> bool:
        """Progress and outcomes go back to the referrer only with consent that still stands
        (a withdrawal clears the flag: `referrals/consent.py`)."""
        return self.consent_share_outcomes


class CurrentTransactionId(models.Func):
    """PostgreSQL's id of the transaction writing the row (`pg_current_xact_id()`, 64-bit, so it
    never wraps round), as a bigint: xid8 has no direct cast."""

    template = "pg_current_xact_id()::text::bigint"
    output_field = models.BigIntegerField()


class ReferralEvent(models.Model):
    """One entry on a referral's timeline. Append-only: the database refuses updates."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", "Status change"
        NOTE = "note", "Note"
        CORRECTION = "correction", "Correction"
        SESSION = "session", "Session"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TRANSITION)
    action = models.CharField(max_length=40, help_text="The service action, e.g. 'accept'.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    actor_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    note = bounded_text_field(SHORT_NOTE_MAX, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Set by the database: the writing transaction. The API's events feed reads in (txid, id)
    # order and only below the oldest transaction still open, so an event committed late is
    # never skipped (`selectors.events_feed_for`).
    txid = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [text_length_constraint("referralevent", "note", SHORT_NOTE_MAX)]
        indexes = [
            models.Index(fields=["referral", "created_at"], name="event_timeline_idx"),
            models.Index(fields=["txid", "id"], name="event_feed_idx"),
        ]

    def __str__(self):
        return f"{self.referral.reference}: {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("Referral events are append-only; record a correction instead")
        super().save(*args, **kwargs)


class ConsentPurpose(models.TextChoices):
    """What the patient agrees to; each maps to one of the referral's current-consent flags."""

    REFERRAL = "referral", "The referral itself"
    SHARE_PROGRESS = "share_progress", "Sharing progress and outcomes with the referrer"
    EVALUATION = "evaluation", "Anonymised evaluation use"


class ConsentDecision(models.TextChoices):
    GIVEN = "given", "Given"
    NOT_GIVEN = "not_given", "Not given"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ConsentMethod(models.TextChoices):
    """How the patient told us: recorded so a later reader can judge the record."""

    WITH_REFERRAL = "with_referral", "Recorded with the referral"
    IN_PERSON = "in_person", "In person"
    TELEPHONE = "telephone", "By telephone"
    WRITTEN = "written", "In writing (letter or email)"
    THROUGH_REPRESENTATIVE = "representative", "Through a carer or representative"


class ConsentRecord(models.Model):
    """One decision about one consent purpose. Append-only: the history is the evidence.

    The referral's flags (`consent_referral`, `consent_share_outcomes`, `consent_research`) hold
    the current state for queries; `referrals/consent.py` writes a record and the flag together.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    decision = models.CharField(max_length=10, choices=ConsentDecision.choices)
    method = models.CharField(max_length=20, choices=ConsentMethod.choices)
    note = bounded_text_field(CONSENT_NOTE_MAX, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    recorded_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purpose__in=ConsentPurpose.values), name="consent_purpose_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(decision__in=ConsentDecision.values),
                name="consent_decision_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(method__in=ConsentMethod.values), name="consent_method_valid"
            ),
            text_length_constraint("consentrecord", "note", CONSENT_NOTE_MAX),
        ]
        indexes = [models.Index(fields=["referral", "recorded_at"], name="consent_history_idx")]

    def __str__(self):
        return f"{self.referral.reference}: {self.purpose} {self.decision}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError("Consent records are append-only; record a new decision instead")
        super().save(*args, **kwargs)


class Attendance(models.TextChoices):
    BOOKED = "booked", "Booked"
    ATTENDED = "attended", "Attended"
    DNA = "dna", "Did not attend"
    CANCELLED_PATIENT = "cancelled_patient", "Cancelled by patient"
    CANCELLED_PROVIDER = "cancelled_provider", "Cancelled by provider"


class Session(models.Model):
    """An appointment: a class session, a 1:1 or an assessment, and whether the patient came."""

    class Kind(models.TextChoices):
        CLASS = "class", "Class"
        ONE_TO_ONE = "one_to_one", "One-to-one"
        ASSESSMENT = "assessment", "Assessment"

    Attendance = Attendance

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="sessions")
    programme_class = models.ForeignKey(
        ProgrammeClass, on_delete=models.PROTECT, related_name="sessions", null=True, blank=True
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CLASS)
    scheduled_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Attendance.choices, default=Attendance.BOOKED)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    logged_at = models.DateTimeField(null=True, blank=True)
    notes = bounded_text_field(SHORT_NOTE_MAX, blank=True)

    class Meta:
        ordering = ["scheduled_at", "id"]
        constraints = [
            text_length_constraint("session", "notes", SHORT_NOTE_MAX),
            models.CheckConstraint(
                condition=models.Q(status__in=Attendance.values),
                name="session_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status="booked") | models.Q(logged_at__isnull=False),
                name="session_outcome_logged_with_time",
            ),
            models.UniqueConstraint(
                fields=["referral", "scheduled_at"], name="session_one_per_referral_and_time"
            ),
        ]
        indexes = [
            models.Index(fields=["referral", "scheduled_at"], name="session_by_referral_idx"),
            models.Index(fields=["programme_class", "scheduled_at"], name="session_register_idx"),
        ]

    def __str__(self):
        return f"{self.referral.reference} {self.scheduled_at:%Y-%m-%d %H:%M}"


class VisitSource(models.TextChoices):
    CHECKIN = "checkin", "Check-in from a gym platform"
    IMPORT = "import", "Imported from a leisure management system"


# What a visit's activity data may be: beyond these it is a platform's error, not a workout.
VISIT_DURATION_MAX = 24 * 60  # minutes
VISIT_MET_MINUTES_MAX = 20_000  # 20 METs for 1,000 minutes: above any real session
VISIT_HEART_RATE_RANGE = (25, 250)  # beats per minute
VISIT_ACTIVITY_MAX = 100
VISIT_EVENT_ID_MAX = 100


class Visit(models.Model):
    """A self-directed visit to a leisure centre (a gym check-in, a swim), as the operator's own
    systems recorded it: not a booked session, and no attendance mark on one.

    Written only by `referrals/visits.py`, which matches it to the operator's open referral with
    the member's number. A visit that matches none is kept with no referral, so that it can be
    matched later. `(operator, source, source_event_id)` is unique: the platform's event id makes
    a repeated or concurrent post of one event the same row.
    """

    Source = VisitSource

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    operator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="visits")
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="visits", null=True, blank=True
    )
    facility = models.ForeignKey(
        Facility, on_delete=models.PROTECT, related_name="visits", null=True, blank=True
    )
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=VisitSource.choices)
    # The sending system's own id for the event (a check-in id, a row's key in an export).
    source_event_id = models.CharField(
        max_length=VISIT_EVENT_ID_MAX, validators=[validate_single_line_text]
    )
    # As the event named the member (normalised like the referral's).
    membership_number = models.CharField(
        max_length=MEMBERSHIP_NUMBER_MAX, blank=True, validators=[validate_single_line_text]
    )
    activity = models.CharField(
        max_length=VISIT_ACTIVITY_MAX, blank=True, validators=[validate_single_line_text]
    )
    duration_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(VISIT_DURATION_MAX)],
    )
    met_minutes = models.PositiveIntegerField(
        "MET-minutes",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(VISIT_MET_MINUTES_MAX)],
    )
    average_heart_rate = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[
            MinValueValidator(VISIT_HEART_RATE_RANGE[0]),
            MaxValueValidator(VISIT_HEART_RATE_RANGE[1]),
        ],
    )
    # The system that sent it (an API client's user).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "source", "source_event_id"], name="visit_one_per_event"
            ),
            models.CheckConstraint(
                condition=models.Q(source__in=VisitSource.values), name="visit_source_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__isnull=True)
                | models.Q(duration_minutes__lte=VISIT_DURATION_MAX),
                name="visit_duration_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(met_minutes__isnull=True)
                | models.Q(met_minutes__lte=VISIT_MET_MINUTES_MAX),
                name="visit_met_minutes_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(average_heart_rate__isnull=True)
                | models.Q(
                    average_heart_rate__gte=VISIT_HEART_RATE_RANGE[0],
                    average_heart_rate__lte=VISIT_HEART_RATE_RANGE[1],
                ),
                name="visit_heart_rate_in_range",
            ),
        ]
        indexes = [
            # The referral page: a referral's visits, latest first.
            models.Index(fields=["referral", "-occurred_at"], name="visit_by_referral_idx"),
            # Visits waiting for a referral, by member: matched later, or by a coordinator.
            models.Index(
                fields=["operator", "membership_number"],
                condition=models.Q(referral__isnull=True),
                name="visit_unmatched_idx",
            ),
        ]

    def __str__(self):
        return f"Visit {self.public_id}"


class AlertKind(models.TextChoices):
    """What raised a safety alert (DOMAIN.md, "Alert"). The label is all an email says of it."""

    PHQ9_ITEM9 = "phq9_item9", "PHQ-9 question 9 answered above 0"
    BLOOD_PRESSURE = "blood_pressure", "Blood pressure 180/100 mmHg or higher"
    HEART_RATE = "heart_rate", "Resting heart rate out of range"
    INCIDENT = "incident", "Incident in a session"


class AlertSeverity(models.TextChoices):
    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"


class IncidentKind(models.TextChoices):
    FALL = "fall", "Fall"
    CHEST_PAIN = "chest_pain", "Chest pain"
    DIZZINESS = "dizziness", "Dizziness or fainting"
    HYPOGLYCAEMIA = "hypoglycaemia", "Hypoglycaemia (low blood sugar)"
    OTHER = "other", "Other"


class Alert(models.Model):
    """A safety signal that must reach a person, open until someone acknowledges it with the
    action they took. Raised and acknowledged only through `referrals/alerts.py`, which writes
    the timeline event (`event`) and tells whoever listens in the same transaction."""

    Kind = AlertKind
    Severity = AlertSeverity
    Incident = IncidentKind

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="alerts")
    session = models.ForeignKey(
        Session, on_delete=models.SET_NULL, related_name="alerts", null=True, blank=True
    )
    # The timeline entry that raised it: the referrer's update and the alert emails hang on it.
    event = models.OneToOneField(ReferralEvent, on_delete=models.CASCADE, related_name="alert")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices)
    incident_kind = models.CharField(max_length=20, choices=IncidentKind.choices, blank=True)
    # What was found, in a line ("Blood pressure 200/115 mmHg at baseline"): shown in the portal
    # only, never in an email.
    summary = models.CharField(max_length=200, validators=[validate_single_line_text])
    description = bounded_text_field(SHORT_NOTE_MAX, blank=True)
    immediate_action = bounded_text_field(SHORT_NOTE_MAX, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    raised_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    action_taken = bounded_text_field(SHORT_NOTE_MAX, blank=True)
    # Set when the unacknowledged alert went to the operator's admins: it escalates once.
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=AlertKind.values), name="alert_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=AlertSeverity.values), name="alert_severity_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind=AlertKind.INCIDENT, incident_kind__in=IncidentKind.values)
                | (~models.Q(kind=AlertKind.INCIDENT) & models.Q(incident_kind="")),
                name="alert_incident_kind_for_incidents",
            ),
            # Acknowledged means by someone, when, and what they did about it.
            models.CheckConstraint(
                condition=models.Q(
                    acknowledged_at__isnull=True, acknowledged_by__isnull=True, action_taken=""
                )
                | (
                    models.Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False)
                    & ~models.Q(action_taken="")
                ),
                name="alert_acknowledged_with_action",
            ),
            text_length_constraint("alert", "description", SHORT_NOTE_MAX),
            text_length_constraint("alert", "immediate_action", SHORT_NOTE_MAX),
            text_length_constraint("alert", "action_taken", SHORT_NOTE_MAX),
        ]
        indexes = [
            models.Index(fields=["referral", "-raised_at"], name="alert_by_referral_idx"),
            # Open alerts: the lists at the top of the staff's pages and the escalation job.
            models.Index(
                fields=["raised_at"],
                condition=models.Q(acknowledged_at__isnull=True),
                name="alert_open_idx",
            ),
        ]

    def __str__(self):
        return f"{self.referral.reference}: {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def title(self) -> str:
        """The kind, and for an incident what happened: what a list row shows."""
        if self.kind == AlertKind.INCIDENT and self.incident_kind:
            return f"Incident in a session: {self.get_incident_kind_display().lower()}"
        return self.get_kind_display()


class Notification(models.Model):
    """The outbox: one row per channel and recipient, written in the transaction that caused it.

    Delivery (Celery, after commit, and the beat sweep) only ever reads these rows, so nothing is
    lost when the broker or a worker is down; `delivery/` does the sending. `public_id`
    is the webhook-id: the same on every retry. `payload` is what the message says, fixed when
    the row is written, so every retry sends the same body whatever has happened since.
    """

    class Channel(models.TextChoices):
        IN_APP = "in_app", "In-app"
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class Kind(models.TextChoices):
        UPDATE = "update", "Status update"
        TRIAGE_REMINDER = "triage_reminder", "Overdue triage reminder"
        TRIAGE_ESCALATION = "triage_escalation", "Overdue triage escalation"
        SAFETY_ALERT = "safety_alert", "Safety alert"
        SAFETY_ESCALATION = "safety_escalation", "Unacknowledged safety alert escalation"

    class DeliveryStatus(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SENT = "sent", "Sent"
        DEAD = "dead", "Dead"
        # Not sent on purpose: consent to share was withdrawn, or the channel was switched off,
        # between the change and its delivery.
        WITHHELD = "withheld", "Withheld"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(ReferralEvent, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.UPDATE)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    recipient_organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="notifications"
    )
    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
    )
    recipient_address = models.CharField(max_length=500, blank=True, help_text="Email or URL.")
    # Sent together with the recipient's other due rows in one email (daily digests, reminders).
    digest = models.BooleanField(default=False)
    # Tells apart repeats of one reminder for one event and recipient: the day it was due.
    dedup_key = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker's lease on the row while it sends; longer than the task's hard time limit, so a
    # live worker always finishes (or is killed) before anyone else may take the row.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel__in=["in_app", "email", "webhook"]),
                name="notification_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "retrying", "sent", "dead", "withheld"]),
                name="notification_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "update",
                        "triage_reminder",
                        "triage_escalation",
                        "safety_alert",
                        "safety_escalation",
                    ]
                ),
                name="notification_kind_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(channel="in_app") | models.Q(recipient_user__isnull=False),
                name="notification_in_app_has_user",
            ),
            models.CheckConstraint(
                condition=models.Q(channel="in_app") | ~models.Q(recipient_address=""),
                name="notification_external_has_address",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="notification_sent_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(digest=False) | models.Q(channel="email"),
                name="notification_digest_is_email",
            ),
            models.UniqueConstraint(
                fields=[
                    "event",
                    "kind",
                    "channel",
                    "recipient_address",
                    "recipient_user",
                    "dedup_key",
                ],
                name="notification_one_per_event_channel_recipient",
                nulls_distinct=False,
            ),
        ]
        indexes = [
            # The delivery sweep: what is due and not yet delivered.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "retrying"]),
                name="notification_due_idx",
            ),
            # Unread in-app updates on a referrer's dashboard.
            models.Index(
                fields=["recipient_user", "-created_at"],
                condition=models.Q(channel="in_app", read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # The admin's worklist of deliveries that need a person.
            models.Index(
                fields=["-created_at"],
                condition=models.Q(status__in=["dead", "retrying"]),
                name="notification_attention_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} for {self.referral.reference}"
