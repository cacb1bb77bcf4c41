from django.contrib import admin

from audit.admin import AuditedAdminMixin

from .models import Assessment


@admin.register(Assessment)
class AssessmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_referral_attr = "referral_id"
    list_display = ["referral", "instrument", "timepoint", "method", "administered_at"]
    list_filter = ["instrument", "timepoint", "method"]
    search_fields = ["referral__reference"]
    list_select_related = ["referral"]
    raw_id_fields = ["referral", "recorded_by"]
    readonly_fields = ["scores"]
