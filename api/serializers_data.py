"""What the API says about the offer (programmes, facilities, classes), sessions, assessments,
timeline events and in-app updates, and the bodies it takes to record attendance and an
assessment. Read shapes carry public identifiers only (references, UUIDs, codes); the bodies are
checked for shape here, and every rule about their values stays with the service they go to."""

from typing import Any

from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from accounts.validation import validate_single_line_text
from facilities.models import Facility, Programme, ProgrammeClass
from outcomes import instruments
from outcomes.models import Assessment, Method, Timepoint
from outcomes.schedules import normalise_schedule
from referrals.models import (
    MEMBERSHIP_NUMBER_MAX,
    VISIT_ACTIVITY_MAX,
    VISIT_DURATION_MAX,
    VISIT_EVENT_ID_MAX,
    VISIT_HEART_RATE_RANGE,
    VISIT_MET_MINUTES_MAX,
    Attendance,
    Notification,
    ReferralEvent,
    Session,
    Status,
)

from .problems import PROBLEM_CONTENT_TYPE, TITLES
from .serializers import (
    NamedRefSerializer,
    OrganisationRefSerializer,
    PatientSerializer,
    ProblemSerializer,
)
from .serializers_writes import StrictSerializer

# The most events one check-in request may carry.
CHECKIN_BATCH_MAX = 1000

# --- Errors ------------------------------------------------------------------------------------


def problems(*statuses: int) -> dict[tuple[int, str], OpenApiResponse]:
    """The error responses an operation documents, each a problem document."""
    return {
        (status, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            ProblemSerializer, description=TITLES[status]
        )
        for status in statuses
    }


# --- The offer ---------------------------------------------------------------------------------


class ScheduledMeasureSerializer(serializers.Serializer):
    instrument = serializers.CharField(help_text="Its code, as `instrument` when recording it")
    timepoints = serializers.ListField(child=serializers.ChoiceField(choices=Timepoint.choices))


@extend_schema_field(
    {
        "type": "string",
        "anyOf": [{"format": "email"}, {"maxLength": 0}],
        "description": "An email address, or empty when there is none",
    }
)
class OptionalEmailField(serializers.CharField):
    """An email address the model may leave blank, shown as it is stored: the document says ""
    is a value, which the `email` format alone does not allow."""


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?$",
        "example": "18:30:00",
        "description": "Local time in the UK (HH:MM:SS)",
    }
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time as the timetable shows it. It has no UTC offset, so it is not the
    `time` format of OpenAPI (RFC 3339's full-time needs one)."""


class ProgrammeSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    operator = OrganisationRefSerializer(read_only=True)
    conditions = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="SNOMED CT codes the programme is designed for",
    )
    exclusions = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Hard exclusions: codes that stop a referral",
    )
    outcome_schedule = serializers.SerializerMethodField()

    class Meta:
        model = Programme
        fields = [
            "id",
            "name",
            "description",
            "operator",
            "conditions",
            "exclusions",
            "min_age",
            "max_age",
            "duration_weeks",
            "planned_sessions",
            "self_directed_visits_count",
            "outcome_schedule",
            "is_active",
        ]
        read_only_fields = fields

    @extend_schema_field(ScheduledMeasureSerializer(many=True))
    def get_outcome_schedule(self, programme: Programme) -> list[dict[str, Any]]:
        """The measures the operator's admin set for the programme, as the recording page takes
        them. A referral for depression or anxiety also takes PHQ-9 and GAD-7 at baseline and
        exit (`outcomes.schedules.schedule_entries_for`)."""
        return normalise_schedule(programme.outcome_schedule)


class FacilitySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    operator = OrganisationRefSerializer(read_only=True)
    postcode_districts = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="Outward codes the facility takes referrals from",
    )
    email = OptionalEmailField(read_only=True)

    class Meta:
        model = Facility
        fields = [
            "id",
            "name",
            "operator",
            "address",
            "postcode",
            "phone",
            "email",
            "accessibility_notes",
            "postcode_districts",
            "is_active",
        ]
        read_only_fields = fields


class ProgrammeClassSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    programme = NamedRefSerializer(read_only=True)
    facility = NamedRefSerializer(read_only=True)
    weekday_label = serializers.CharField(source="get_weekday_display", read_only=True)
    start_time = LocalTimeField(read_only=True)

    class Meta:
        model = ProgrammeClass
        fields = [
            "id",
            "name",
            "programme",
            "facility",
            "weekday",
            "weekday_label",
            "start_time",
            "duration_minutes",
            "capacity",
            "is_active",
        ]
        read_only_fields = fields


# --- Sessions ----------------------------------------------------------------------------------


class SessionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    referral = serializers.CharField(
        source="referral.reference", read_only=True, help_text="The referral's reference"
    )
    patient = PatientSerializer(source="referral.patient", read_only=True)
    programme_class = NamedRefSerializer(read_only=True, allow_null=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Session
        fields = [
            "id",
            "referral",
            "patient",
            "programme_class",
            "kind",
            "scheduled_at",
            "status",
            "status_label",
            "logged_at",
        ]
        read_only_fields = fields


RECORDABLE_ATTENDANCE = [choice for choice in Attendance.choices if choice[0] != Attendance.BOOKED]


class AttendanceSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RECORDABLE_ATTENDANCE)
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --- Assessments -------------------------------------------------------------------------------


class AssessmentSerializer(serializers.ModelSerializer):
    """`answers` only for whoever may record the referral's measures (its instructors and the
    operator's systems), as the recording page shows them; the referrer sees the scores, as on
    the progress page."""

    id = serializers.UUIDField(source="public_id", read_only=True)
    referral = serializers.CharField(source="referral.reference", read_only=True)
    instrument_name = serializers.SerializerMethodField()
    timepoint_label = serializers.CharField(source="get_timepoint_display", read_only=True)
    answers = serializers.SerializerMethodField()
    scores = serializers.JSONField(read_only=True, help_text="Computed by the instrument")
    safety_alert = serializers.SerializerMethodField()
    recorded_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "referral",
            "instrument",
            "instrument_name",
            "timepoint",
            "timepoint_label",
            "method",
            "answers",
            "scores",
            "safety_alert",
            "administered_at",
            "recorded_at",
        ]
        read_only_fields = fields

    def get_instrument_name(self, assessment: Assessment) -> str:
        try:
            definition = instruments.get(assessment.instrument)
        except instruments.UnknownInstrument:
            return assessment.instrument
        return definition.short_name or definition.name

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "additionalProperties": True,
            "description": "{item code: answer}; null for a viewer who may not record them",
        }
    )
    def get_answers(self, assessment: Assessment) -> dict[str, Any] | None:
        return assessment.answers if self.context.get("shows_answers") else None

    def get_safety_alert(self, assessment: Assessment) -> bool:
        """True when the answers raised a safety alert (PHQ-9 question 9 above 0)."""
        return bool(assessment.scores.get("safety_alert"))


class AssessmentInputSerializer(serializers.Serializer):
    instrument = serializers.CharField(help_text="Instrument code, e.g. 'phq9'")
    timepoint = serializers.ChoiceField(choices=Timepoint.choices)
    answers = serializers.DictField(help_text="{item code: answer}, as the instrument defines")
    method = serializers.ChoiceField(choices=Method.choices, default=Method.IMPORTED)


# --- The events feed ---------------------------------------------------------------------------


class OptionalStatusField(serializers.ChoiceField):
    """A referral status, or null on an entry that is not a move (a session, a measure)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Status.choices, allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return value or None


class EventSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    from_status = OptionalStatusField()
    to_status = OptionalStatusField()
    referral = serializers.CharField(source="referral.reference", read_only=True)
    actor = serializers.SerializerMethodField()
    actor_organisation = OrganisationRefSerializer(read_only=True, allow_null=True)
    occurred_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = ReferralEvent
        fields = [
            "id",
            "referral",
            "kind",
            "action",
            "from_status",
            "to_status",
            "reason_code",
            "note",
            "actor",
            "actor_organisation",
            "occurred_at",
        ]
        read_only_fields = fields

    def get_actor(self, event: ReferralEvent) -> str | None:
        """Who did it, by name (a system by its client's name), as the timeline shows."""
        return event.actor.get_full_name() if event.actor else None


class EventsPageSerializer(serializers.Serializer):
    events = EventSerializer(many=True)
    next = serializers.CharField(help_text="Pass as `after` on the next call")


# --- In-app updates ----------------------------------------------------------------------------


class NotificationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    referral = serializers.CharField(source="referral.reference", read_only=True)
    content = serializers.JSONField(
        source="payload",
        read_only=True,
        help_text="What the update says: reference, action, headline, status, occurred_at",
    )

    class Meta:
        model = Notification
        fields = ["id", "referral", "kind", "content", "created_at", "read_at"]
        read_only_fields = fields


# --- Check-ins ---------------------------------------------------------------------------------


class ZonedDateTimeField(serializers.DateTimeField):
    """A moment with its UTC offset (RFC 3339, as the document's `date-time` says): a time
    without one could be any of several moments, so it is refused rather than guessed."""

    default_error_messages = {
        **serializers.DateTimeField.default_error_messages,
        "no_zone": "Give the time with its UTC offset, like 2026-03-02T18:30:00Z",
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            parsed = parse_datetime(value.strip())
            if parsed is not None and parsed.tzinfo is None:
                self.fail("no_zone")
        return super().to_internal_value(value)


class JSONStringField(serializers.CharField):
    """Text that must be a JSON string, kept as sent (not trimmed, so the length checked is the
    length the document states): DRF's own takes a number and makes it text."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class JSONIntegerField(serializers.IntegerField):
    """A whole number that must be a JSON integer: DRF's own takes "12", 12.0 and true."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class JSONUUIDField(serializers.UUIDField):
    """A UUID that must be a JSON string: DRF's own makes one of an integer."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class CheckinEventSerializer(StrictSerializer):
    """One visit as the platform recorded it."""

    event_id = JSONStringField(
        max_length=VISIT_EVENT_ID_MAX,
        validators=[validate_single_line_text],
        help_text="Your platform's id for the event: the same id again is the same visit.",
    )
    facility = JSONUUIDField(help_text="One of your leisure centres (`/facilities/`).")
    membership_number = JSONStringField(
        max_length=MEMBERSHIP_NUMBER_MAX,
        validators=[validate_single_line_text],
        help_text="The member's number, as the referral records it (case does not matter).",
    )
    occurred_at = ZonedDateTimeField(
        help_text="When the visit began, with its UTC offset. Late and out-of-order events are "
        "taken; one more than 10 minutes ahead of the portal's clock is refused."
    )
    activity = JSONStringField(
        max_length=VISIT_ACTIVITY_MAX,
        required=False,
        allow_blank=True,
        default="",
        validators=[validate_single_line_text],
        help_text="What the member did, e.g. 'Gym', 'Swim', 'Strength circuit'.",
    )
    duration_minutes = JSONIntegerField(
        min_value=0, max_value=VISIT_DURATION_MAX, required=False, allow_null=True
    )
    met_minutes = JSONIntegerField(
        min_value=0,
        max_value=VISIT_MET_MINUTES_MAX,
        required=False,
        allow_null=True,
        help_text="Energy spent: METs times minutes.",
    )
    average_heart_rate = JSONIntegerField(
        min_value=VISIT_HEART_RATE_RANGE[0],
        max_value=VISIT_HEART_RATE_RANGE[1],
        required=False,
        allow_null=True,
        help_text="Beats per minute, over the visit.",
    )


class CheckinBatchSerializer(StrictSerializer):
    """Up to 1,000 events, in any order."""

    events = serializers.ListField(
        child=CheckinEventSerializer(), min_length=1, max_length=CHECKIN_BATCH_MAX
    )


class CheckinResultSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[
            ("recorded", "Recorded, on the referral named"),
            ("duplicate", "Recorded before (this id): nothing changed"),
            ("unmatched", "Recorded, but no open referral has this membership number yet"),
            ("refused", "Not recorded: `errors` says why"),
        ]
    )
    visit = serializers.UUIDField(allow_null=True, help_text="The visit's id; null when refused.")
    referral = serializers.CharField(
        allow_null=True, help_text="The reference of the referral it is on, or null."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="{field: [messages]} for a refused event; empty otherwise.",
    )


class CheckinResponseSerializer(serializers.Serializer):
    results = CheckinResultSerializer(many=True, help_text="One per event, in the order sent.")
