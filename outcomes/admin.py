from django.contrib import admin

from .models import Assessment


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["referral", "instrument", "timepoint", "method", "administered_at"]
    list_filter = ["instrument", "timepoint", "method"]
    search_fields = ["referral__reference"]
    list_select_related = ["referral"]
    raw_id_fields = ["referral", "recorded_by"]
    readonly_fields = ["scores"]
