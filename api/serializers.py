"""What the API says about a referral and its patient: read shapes built from the same rows the
pages show (`referrals.selectors`), with public identifiers only (reference, UUIDs, codes)."""

from rest_framework import serializers

from referrals.models import Patient, Referral


class OrganisationRefSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="ODS or organisation code")
    name = serializers.CharField()


class NamedRefSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    name = serializers.CharField()


class PatientSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)

    class Meta:
        model = Patient
        fields = [
            "id",
            "nhs_number",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "postcode",
        ]
        read_only_fields = fields


class ReferralSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    patient = PatientSerializer(read_only=True)
    referring_organisation = OrganisationRefSerializer(read_only=True)
    operator = OrganisationRefSerializer(read_only=True, allow_null=True)
    programme = NamedRefSerializer(read_only=True, allow_null=True)
    facility = NamedRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Referral
        fields = [
            "reference",
            "status",
            "status_label",
            "version",
            "priority",
            "patient",
            "referring_organisation",
            "operator",
            "programme",
            "facility",
            "submitted_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


# --- Errors, for the document (one shape for every operation) --------------------------------


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        help_text="The body field (dotted when nested, as patient.postcode) or the query "
        "parameter; empty for the request as a whole"
    )
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details (`application/problem+json`), as `api/problems.py` writes them."""

    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = FieldErrorSerializer(many=True, required=False)
    code = serializers.CharField(
        required=False,
        help_text="On a 409: referral_changed (a stale version), invalid_transition or "
        "workflow_error: which rule refused it.",
    )
