"""Who read which patient's record, and (through django-pghistory) what changed.

`AccessRecord` rows are append-only in the database (migration 0002): UPDATE is always refused,
DELETE only inside a transaction that has run `SET LOCAL audit.allow_purge = 'on'` (the
retention job). What changed (the pghistory change history) is kept by `governance`, which sits
above the tracked apps; this app sits below them, so every page can record its reads.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models

from accounts.models import Organisation, Role


class AccessKind(models.TextChoices):
    REFERRAL_PAGE = "referral_page", "Referral page"
    LIST = "list", "List"
    EXPORT = "export", "Export"
    PRINTOUT = "printout", "Printout"
    SUBJECT_ACCESS = "subject_access", "Subject access export"
    API = "api", "API"
    FHIR = "fhir", "FHIR"
    ADMIN = "admin", "Platform admin"
    AUDIT = "audit", "Audit search"


class AccessRecord(models.Model):
    """One read of patient-identifiable data: one row per page, however many patients it shows."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="access_records",
        help_text="Empty for the system itself (commands, tasks).",
    )
    # Copied, not joined: the record must say what the person was when they looked.
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisation_name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=20, choices=AccessKind.choices)
    # The URL name and the path, never the query string (which could carry search terms).
    url_name = models.CharField(max_length=100, blank=True)
    path = models.CharField(max_length=500, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    referral_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    patient_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=AccessKind.values), name="access_record_kind_valid"
            )
        ]
        indexes = [
            GinIndex(fields=["referral_ids"], name="access_referral_ids_gin"),
            GinIndex(fields=["patient_ids"], name="access_patient_ids_gin"),
            models.Index(fields=["organisation", "-at"], name="access_org_at_idx"),
            models.Index(fields=["user", "-at"], name="access_user_at_idx"),
        ]

    def __str__(self):
        return (
            f"{self.get_kind_display()} by {self.user_id or 'system'} at {self.at:%Y-%m-%d %H:%M}"
        )

    @property
    def role_label(self) -> str:
        return dict(Role.choices).get(self.role, "Platform staff" if self.role else "")
