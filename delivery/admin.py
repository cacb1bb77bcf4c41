"""The outbox in the platform admin: what is stuck, and "retry now" once its cause is fixed."""

from django.contrib import admin, messages

from audit.admin import AuditedAdminMixin
from referrals.models import Notification

from .tasks import notification_retry_now


class NeedsAttentionFilter(admin.SimpleListFilter):
    """Dead and retrying deliveries: the admin's worklist."""

    title = "needs attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [
            ("yes", "Dead or retrying"),
            ("dead", "Dead"),
            ("retrying", "Retrying"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=["dead", "retrying"])
        if self.value() in {"dead", "retrying"}:
            return queryset.filter(status=self.value())
        return queryset


@admin.register(Notification)
class NotificationAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_referral_attr = "referral_id"
    """Deliveries are read-only here; "retry now" goes through the outbox service."""

    list_display = [
        "public_id",
        "referral",
        "kind",
        "channel",
        "recipient_address",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
    ]
    list_filter = [NeedsAttentionFilter, "status", "channel", "kind", "digest"]
    search_fields = ["referral__reference", "public_id", "recipient_address"]
    list_select_related = ["referral"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    fields = [
        "public_id",
        "referral",
        "event",
        "kind",
        "channel",
        "recipient_organisation",
        "recipient_user",
        "recipient_address",
        "digest",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "claimed_until",
        "last_error",
        "sent_at",
        "read_at",
        "created_at",
        "payload",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    @admin.action(description="Retry now", permissions=["change"])
    def retry_now(self, request, queryset):
        queued = skipped = 0
        for notification in queryset:
            if notification_retry_now(notification=notification, by=request.user):
                queued += 1
                self.log_change(request, notification, "Retry requested")
            else:
                skipped += 1
        if queued:
            self.message_user(request, f"{queued} notification(s) queued to send again now.")
        if skipped:
            self.message_user(
                request,
                f"{skipped} notification(s) skipped: already sent, withheld, in-app or being sent.",
                level=messages.WARNING,
            )
