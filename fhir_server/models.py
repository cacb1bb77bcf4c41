from django.db import models

from accounts.models import Organisation
from referrals.models import Referral


class InboundMessage(models.Model):
    """A referral message this server accepted, by the sender's Bundle identifier: the same
    message sent again is answered with the same response, and makes no second referral.

    Only accepted messages are kept (a refused one stores nothing); the response holds no patient
    details or clinical text: a MessageHeader and the Task, which names the patient by id only."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    bundle_system = models.CharField(max_length=500, blank=True)
    bundle_value = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the canonical body.")
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "bundle_system", "bundle_value"],
                name="fhir_inbound_message_once_per_sender",
            )
        ]

    def __str__(self) -> str:
        return f"{self.bundle_value} -> {self.referral_id}"
