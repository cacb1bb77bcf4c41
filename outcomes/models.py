"""Outcome measures: one Assessment is one administration of one instrument at one timepoint.

Instruments and their scoring live in code (`outcomes/instruments/`, the outcomes issue); here are
only the stored answers and the scores the code computed from them.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from referrals.models import Referral


class Timepoint(models.TextChoices):
    BASELINE = "baseline", "Baseline"
    MID = "mid", "Mid-programme"
    EXIT = "exit", "Exit"
    FOLLOWUP_3M = "followup_3m", "3-month follow-up"
    FOLLOWUP_6M = "followup_6m", "6-month follow-up"
    FOLLOWUP_12M = "followup_12m", "12-month follow-up"


class Method(models.TextChoices):
    INSTRUCTOR = "instructor", "Administered by instructor"
    SELF_REPORT = "self_report", "Patient self-report"
    PAPER = "paper", "Entered from a paper form"
    IMPORTED = "imported", "Imported"


class Assessment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="assessments")
    instrument = models.CharField(max_length=30, help_text="Instrument code, e.g. 'gppaq'.")
    timepoint = models.CharField(max_length=20, choices=Timepoint.choices)
    answers = models.JSONField(default=dict)
    # Computed by the instrument's scoring code, never typed in.
    scores = models.JSONField(default=dict, blank=True)
    method = models.CharField(max_length=20, choices=Method.choices, default=Method.INSTRUCTOR)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    administered_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["administered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "instrument", "timepoint"],
                name="assessment_one_per_instrument_and_timepoint",
            ),
            models.CheckConstraint(
                condition=models.Q(timepoint__in=Timepoint.values),
                name="assessment_timepoint_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["instrument", "timepoint"], name="assessment_instrument_idx"),
        ]

    def __str__(self):
        return f"{self.instrument} {self.get_timepoint_display()} for {self.referral.reference}"


# --- The programme report's facts (outcomes/report_facts.py) -----------------------------------
# Derived rows, one per submitted referral and one per outcome score it has at both baseline and
# exit, kept current by database triggers in the transaction that changes what they derive from.
# The references are plain columns (no foreign-key constraint): these rows are rebuilt, never
# edited, and must never stop a referral, programme or organisation from being deleted.


def _reference(to: str, **kwargs) -> models.ForeignKey:
    return models.ForeignKey(
        to,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the indexes the report reads by are declared on each model
        related_name="+",
        **kwargs,
    )


# What a report reads of each row, carried in the index it finds the rows by: a scope's rows are
# then read from one stretch of the index, not from a page of the table each (rows are written
# in the order referrals change, so one operator's are spread over the whole table).
REFERRAL_FIGURES = (
    "age", "sex", "ethnicity", "accepted", "status", "counted", "adherent", "attended",
    "visit_days_counted", "visit_count", "days_to_first_session",
)  # fmt: skip
OUTCOME_FIGURES = ("instrument", "score", "change")


class ReportReferral(models.Model):
    """What the programme report needs to know about one submitted referral, worked out once
    (`report_facts.py`), so a report over a million referrals reads one row each."""

    referral = models.OneToOneField(
        Referral,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        primary_key=True,
        related_name="+",
    )
    programme = _reference("facilities.Programme")
    # The assigned facility, or the preferred one while none is assigned (the report's filter).
    facility = _reference("facilities.Facility", null=True)
    referring_organisation = _reference("accounts.Organisation")
    referred_on = models.DateField()
    status = models.CharField(max_length=20)
    accepted = models.BooleanField()
    attended = models.IntegerField()
    visit_count = models.IntegerField()
    visit_days = models.IntegerField()
    # With the programme's settings (planned sessions, whether visits count): refreshed when
    # they change, so the report does not join programmes for every referral.
    visit_days_counted = models.IntegerField(default=0)
    counted = models.IntegerField(default=0)
    adherent = models.BooleanField(default=False)
    days_to_first_session = models.IntegerField(null=True)
    age = models.IntegerField()
    sex = models.CharField(max_length=1)
    ethnicity = models.CharField(max_length=2)

    class Meta:
        indexes = [
            models.Index(
                fields=["programme", "referred_on"],
                include=REFERRAL_FIGURES,
                name="report_referral_programme",
            ),
            models.Index(fields=["facility"], name="report_referral_facility"),
            models.Index(fields=["referring_organisation"], name="report_referral_referrer"),
        ]

    def __str__(self):
        return f"Report facts of referral {self.referral_id}"


class ReportReferrer(models.Model):
    """An organisation that has referred to a programme: the report's choice of referring
    organisations, without reading every referral. Kept with the facts; a pair stays after its
    referrals move or go (offered, it shows no referrals) until `report_facts.rebuild`."""

    programme = _reference("facilities.Programme")
    referring_organisation = _reference("accounts.Organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "referring_organisation"], name="report_referrer_unique"
            )
        ]

    def __str__(self):
        return f"Organisation {self.referring_organisation_id} refers to {self.programme_id}"


class ReportOutcome(models.Model):
    """One outcome score of one referral whose patient consents to evaluation use, with its
    baseline and exit values (both present), and the referral's report filters copied on."""

    id = models.BigAutoField(primary_key=True)
    referral = _reference(Referral)
    programme = _reference("facilities.Programme")
    facility = _reference("facilities.Facility", null=True)
    referring_organisation = _reference("accounts.Organisation")
    referred_on = models.DateField()
    instrument = models.CharField(max_length=30)
    score = models.CharField(max_length=60)
    baseline = models.FloatField()
    exit = models.FloatField()
    change = models.FloatField(default=0.0)  # exit - baseline

    class Meta:
        indexes = [
            models.Index(fields=["referral"], name="report_outcome_referral"),
            models.Index(
                fields=["programme", "referred_on"],
                include=OUTCOME_FIGURES,
                name="report_outcome_programme",
            ),
        ]

    def __str__(self):
        return f"{self.instrument} {self.score} of referral {self.referral_id}"
