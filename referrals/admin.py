"""Platform staff's view of referrals. State changes still go through the services: the status
is read-only here, and the timeline can only be read."""

from django.contrib import admin

from .models import Notification, Patient, Referral, ReferralEvent, Session


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["public_id", "family_name", "given_name", "date_of_birth", "postcode"]
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


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
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
    raw_id_fields = ["patient", "referring_clinician", "instructor", "consent_recorded_by"]
    readonly_fields = [
        "reference",
        "status",
        "status_changed_at",
        "submitted_at",
        "version",
        "operator",
        "created_at",
        "updated_at",
    ]
    inlines = [ReferralEventInline]


@admin.register(ReferralEvent)
class ReferralEventAdmin(admin.ModelAdmin):
    list_display = ["referral", "action", "from_status", "to_status", "actor", "created_at"]
    list_filter = ["action", "to_status"]
    search_fields = ["referral__reference"]
    list_select_related = ["referral", "actor"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["referral", "scheduled_at", "kind", "status"]
    list_filter = ["status", "kind"]
    search_fields = ["referral__reference"]
    list_select_related = ["referral"]
    raw_id_fields = ["referral", "programme_class", "logged_by"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "public_id",
        "referral",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    ]
    list_filter = ["status", "channel"]
    search_fields = ["referral__reference", "public_id"]
    list_select_related = ["referral"]
    readonly_fields = ["public_id", "event", "referral", "created_at"]
