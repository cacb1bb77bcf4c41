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


# --- Attendance imports (issue 14) --------------------------------------------------------------
#
# A coordinator uploads an export of the operator's leisure management system; the rows become
# visits (`referrals/visits.py`), session marks, or rows a person must look at. The flow is in
# `leisure/imports/` (its modules listed in its `__init__.py`); these are its records.

IMPORT_MAPPING_NAME_MAX = 80
IMPORT_FILENAME_MAX = 255
IMPORT_FAILURE_MAX = 1000


class ImportMapping(models.Model):
    """Which column of one source's exports feeds which field: saved once, reused for every file
    from that source. `mapping` is `dataclasses.asdict(ColumnMapping)`
    (`leisure.imports.reading`); its id, not its name, is part of each row's key, so renaming it
    keeps re-imports idempotent."""

    operator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=IMPORT_MAPPING_NAME_MAX)
    mapping = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "name"], name="importmapping_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    # Uploaded on the page, being mapped and previewed: not queued until the coordinator starts it.
    DRAFT = "draft", "Not started"
    UPLOADED = "uploaded", "Waiting to start"
    RUNNING = "running", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class AttendanceImport(models.Model):
    """One uploaded file and what became of its rows.

    The counters grow chunk by chunk, each in the chunk's transaction, so a page polling them
    shows progress and a task that restarts resumes after the last committed chunk: `rows_read`
    is both the progress and the count of data rows. Once done, recorded + sessions_marked +
    duplicates + unmatched + rejected = rows_read, and rows_read + skipped (+ the header) is
    every row of the file."""

    Status = ImportStatus

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    operator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    # Empty only on a draft whose source is still being mapped.
    mapping = models.ForeignKey(
        ImportMapping, on_delete=models.PROTECT, null=True, blank=True, related_name="imports"
    )
    # The source as part of each row's key (`row_key`): the operator's and the mapping's ids,
    # stable where a name is not.
    source_name = models.CharField(max_length=100)
    filename = models.CharField(max_length=IMPORT_FILENAME_MAX)
    # The file itself, in the database rather than on a disk: the Celery task reads it in another
    # process (possibly on another machine, with no shared disk), the report of rejected rows
    # reads it again, and it commits or rolls back with the import's row. It holds patient data:
    # retention empties it (`data_cleared_at`). Deferred by every list.
    data = models.BinaryField()
    data_cleared_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    rows_read = models.PositiveIntegerField(default=0)
    # The file's data rows, counted on upload, for the progress bar (rows_read of total_rows).
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    recorded = models.PositiveIntegerField(default=0)  # new visits
    sessions_marked = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)  # nothing changed
    unmatched = models.PositiveIntegerField(default=0)  # queued for a coordinator
    rejected = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)  # blank rows and repeated headers
    failure = models.CharField(max_length=IMPORT_FAILURE_MAX, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When the run was handed to a worker (the sweep hands it again if none took it).
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ImportStatus.values),
                name="attendanceimport_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["operator", "-created_at"], name="attendanceimport_list_idx")
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


class ImportRowKind(models.TextChoices):
    REJECTED = "rejected", "Rejected"
    UNMATCHED = "unmatched", "No matching referral"


class ImportRowProblem(models.Model):
    """A row a person must look at: *rejected* (what is wrong, field by field, for the import's
    report) or *unmatched* (a visit nobody could be found for: the coordinator's queue, resolved
    by choosing the referral). An unmatched visit is queued once per operator and row key,
    whichever import met it first, so overlapping files do not queue it again."""

    Kind = ImportRowKind

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    attendance_import = models.ForeignKey(
        AttendanceImport, on_delete=models.CASCADE, related_name="problems"
    )
    operator = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=ImportRowKind.choices)
    row_number = models.PositiveIntegerField()
    # {field: [reasons]}; a reason may quote a cell, so retention clears these with the values.
    reasons = models.JSONField(default=dict, blank=True)
    values = models.JSONField(default=dict, blank=True)  # the row as the file had it
    # An unmatched row's clean identifiers and time, to find the referral by.
    membership_number = models.CharField(max_length=40, blank=True)
    referral_reference = models.CharField(max_length=40, blank=True)
    nhs_number = models.CharField(max_length=10, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    time_known = models.BooleanField(default=True)
    activity = models.CharField(max_length=100, blank=True)
    row_key = models.CharField(max_length=64, blank=True)
    resolved_referral = models.ForeignKey(
        Referral, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["row_number", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ImportRowKind.values),
                name="importrowproblem_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=ImportRowKind.REJECTED) | ~models.Q(row_key=""),
                name="importrowproblem_unmatched_has_key",
            ),
            models.UniqueConstraint(
                fields=["operator", "row_key"],
                condition=models.Q(kind=ImportRowKind.UNMATCHED),
                name="importrowproblem_unmatched_once",
            ),
        ]
        indexes = [
            # The coordinator's queue: the operator's unresolved unmatched rows.
            models.Index(
                fields=["operator", "occurred_at"],
                condition=models.Q(kind=ImportRowKind.UNMATCHED, resolved_at__isnull=True),
                name="importrowproblem_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Row {self.row_number}: {self.get_kind_display()}"
