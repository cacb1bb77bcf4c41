"""What only the leisure side keeps: attempts to reach a referred patient.

A coordinator logs each call, text, letter or email and how it went. The log tells colleagues who
has tried what, and it is the evidence behind declining a referral as "unable to contact": that
reason is offered only once the programme's `contact_attempt_limit` attempts are logged
(`leisure/contact.py`). Rows are never changed or deleted by the portal: a mistaken entry is
followed by a correct one, as on the referral's timeline.
"""

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Organisation
from accounts.validation import SHORT_NOTE_MAX, bounded_text_field, text_length_constraint
from referrals.models import Referral


class ContactMethod(models.TextChoices):
    PHONE = "phone", "Phone call"
    SMS = "sms", "Text message (SMS)"
    LETTER = "letter", "Letter"
    EMAIL = "email", "Email"


class ContactOutcome(models.TextChoices):
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    SPOKE = "spoke", "Spoke to the patient"
    WRONG_NUMBER = "wrong_number", "Wrong number or address"
    NUMBER_UNAVAILABLE = "unavailable", "Number not in service"
    SENT = "sent", "Sent, no reply yet"
    RETURNED = "returned", "Returned or bounced"


class ContactAttempt(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="contact_attempts"
    )
    method = models.CharField(max_length=20, choices=ContactMethod.choices)
    outcome = models.CharField(max_length=20, choices=ContactOutcome.choices)
    note = bounded_text_field(SHORT_NOTE_MAX, blank=True)
    attempted_at = models.DateTimeField(help_text="When the attempt was made.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The operator the coordinator acted for, copied so the log reads true if they move on.
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["attempted_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(method__in=ContactMethod.values),
                name="contactattempt_method_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=ContactOutcome.values),
                name="contactattempt_outcome_valid",
            ),
            text_length_constraint("contactattempt", "note", SHORT_NOTE_MAX),
        ]
        indexes = [
            models.Index(fields=["referral", "attempted_at"], name="contactattempt_referral_idx")
        ]

    def __str__(self) -> str:
        return f"{self.get_method_display()} for {self.referral.reference}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Contact attempts are a log: record another attempt instead")
        super().save(*args, **kwargs)
