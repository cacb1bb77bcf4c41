"""Platform staff's view of referrals. State changes still go through the services: the status
is read-only here, and the timeline can only be read."""

from django.contrib import admin, messages

from audit.admin import AuditedAdminMixin
from delivery.tasks import notification_retry_now

from .models import ConsentRecord, Notification, Patient, Referral, ReferralEvent, Session


@admin.register(Patient)
class PatientAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_patient_attr = "pk"
    list_display = [
        "public_id",
        "organisation",
        "family_name",
        "given_name",
        "date_of_birth",
        "postcode",
    ]
    list_filter = ["organisation"]
    list_select_related = ["organisation"]
    search_fields = ["nhs_number", "family_name", "public_id"]
    readonly_fields = ["public_id", "created_at", "updated_at"]


class ReferralEventInline(admin.TabularInline):
    model = ReferralEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "from_status", "to_status", "actor", "reason_code", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class ConsentRecordInline(admin.TabularInline):
    """Read only: a consent decision is recorded on the referral page, by the service."""

    model = ConsentRecord
    extra = 0
    can_delete = False
    fields = [
        "recorded_at",
        "purpose",
        "decision",
        "method",
        "recorded_by",
        "recorded_by_organisation",
        "note",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_referral_attr, audit_patient_attr = "pk", "patient_id"
    list_display = [
        "reference",
        "status",
        "referring_organisation",
        "operator",
        "programme",
        "updated_at",
    ]
    list_filter = ["status", "priority", "referring_organisation", "operator"]
    search_fields = ["reference", "patient__nhs_number", "patient__family_name"]
    list_select_related = ["referring_organisation", "operator", "programme"]
    raw_id_fields = ["patient", "referring_clinician", "instructor"]
    readonly_fields = [
        "reference",
        "status",
        "status_changed_at",
        "submitted_at",
        "version",
        "operator",
        # Consent changes only through referrals/consent.py, which stops what depends on it.
        "consent_referral",
        "consent_share_outcomes",
        "consent_research",
        "consent_recorded_at",
        "consent_recorded_by",
        "created_at",
        "updated_at",
    ]
    inlines = [ConsentRecordInline, ReferralEventInline]


@admin.register(ReferralEvent)
class ReferralEventAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_referral_attr = "referral_id"
    list_display = ["referral", "action", "from_status", "to_status", "actor", "created_at"]
    list_filter = ["action", "to_status"]
    search_fields = ["referral__reference"]
    list_select_related = ["referral", "actor"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Session)
class SessionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_referral_attr = "referral_id"
    list_display = ["referral", "scheduled_at", "kind", "status"]
    list_filter = ["status", "kind"]
    search_fields = ["referral__reference"]
    list_select_related = ["referral"]
    raw_id_fields = ["referral", "programme_class", "logged_by"]


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
