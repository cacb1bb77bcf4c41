"""Platform admin: reads of patient data there are audited too; the audit trail is read-only."""

from django.contrib import admin

from .models import AccessKind, AccessRecord
from .services import audit_read


class AuditedAdminMixin:
    """Write one access record for each changelist page and each change form of a model that
    holds patient data. Subclasses name the attributes holding the referral and patient ids."""

    audit_referral_attr = ""
    audit_patient_attr = ""

    def _audit(self, request, objects) -> None:
        objects = list(objects)
        audit_read(
            request,
            AccessKind.ADMIN,
            referrals=[getattr(o, self.audit_referral_attr) for o in objects]
            if self.audit_referral_attr
            else (),
            patients=[getattr(o, self.audit_patient_attr) for o in objects]
            if self.audit_patient_attr
            else (),
            description=f"Admin {self.model._meta.verbose_name}",
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            self._audit(request, changelist.result_list)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if original is not None:
            self._audit(request, [original])
        return response


@admin.register(AccessRecord)
class AccessRecordAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "organisation_name", "role", "kind", "url_name", "request_id"]
    list_filter = ["kind", "role"]
    search_fields = ["user__email", "request_id"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
