"""Platform staff's view of the provider's records of a referral, read only: contact attempts are
a log that the coordinator writes through `leisure.contact`."""

from django.contrib import admin

from audit.admin import AuditedAdminMixin

from .models import ContactAttempt


@admin.register(ContactAttempt)
class ContactAttemptAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audit_referral_attr = "referral_id"
    list_display = ["referral", "method", "outcome", "attempted_at", "organisation"]
    list_filter = ["method", "outcome"]
    search_fields = ["referral__reference"]
    list_select_related = ["referral", "organisation"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
