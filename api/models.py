"""What the API keeps: the first response to each `Idempotency-Key` (`api/idempotency.py`)."""

from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from accounts.models import ApiClient


class IdempotencyKey(models.Model):
    """A client's key and the response it got the first time, so a retry gets it again.

    Scoped per client: two systems that happen to choose the same key never meet. The body may
    hold patient details (a referral as created), so rows live a day only
    (`idempotency.keys_purge`, run hourly by the beat).
    """

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of the method, path, If-Match and body: the same key for another request is refused.
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    # Null only inside the transaction that does the work; a committed row always has both.
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(default=dict, blank=True)
    # Whose data the first response showed, so that each replay of it is audited as a read too.
    referral_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    patient_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "key"], name="idempotencykey_unique_per_client"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.created_at:%Y-%m-%d %H:%M})"
