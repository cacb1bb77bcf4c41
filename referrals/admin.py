"""Platform staff's view of referrals. State changes still go through the services: the status
is read-only here, and the timeline can only be read."""

from django.contrib import admin

from audit.admin import AuditedAdminMixin

from .models import Alert, ConsentRecord, Patient, Referral, ReferralEvent, Session, Visit


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


@admin.register(Alert)
class AlertAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Read only: an alert is raised by what was recorded and acknowledged on the referral page,
    by `referrals.alerts`, which also writes its emails and timeline entry."""

    audit_referral_attr = "referral_id"
    list_display = ["referral", "kind", "severity", "raised_at", "acknowledged_at", "escalated_at"]
    list_filter = ["kind", "severity", ("acknowledged_at", admin.EmptyFieldListFilter)]
    search_fields = ["referral__reference", "public_id"]
    list_select_related = ["referral"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Visit)
class VisitAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """Read only: visits come from the operators' systems (`referrals.visits`, the one writer),
    kept once per event id; platform staff look one up by its event id or referral."""

    audit_referral_attr = "referral_id"
    list_display = ["occurred_at", "operator", "source", "source_event_id", "referral"]
    list_filter = ["source", ("referral", admin.EmptyFieldListFilter)]
    search_fields = ["source_event_id", "referral__reference"]
    list_select_related = ["operator", "referral"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
