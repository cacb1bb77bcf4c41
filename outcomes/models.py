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
