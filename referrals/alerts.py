"""Safety alerts (DOMAIN.md, "Alert"): raising one, acknowledging it, and who sees the open ones.

An alert is a record, not a message: it stays as a banner on the referral and as a count and a list
at the top of the coordinator's and the instructor's pages until someone acknowledges it with the
action they took. Raising one writes the alert and its timeline event (`safety_alert`) and sends
`events.event_recorded` in the same transaction, so what listens commits or rolls back with it
(ADR 0004): `delivery` emails the operator's coordinators and safety mailbox at once (reference,
kind and a sign-in link, no patient data), tells the referrer like any progress update, and a beat
job escalates what nobody acknowledges in time.

Raised by: the outcome service (PHQ-9 question 9 above 0; physical measures with BP of 180/100 or
more or a resting heart rate outside `PORTAL_ALERT_HR_MIN`..`MAX`) and the incident page in
`leisure` (`incident_record`).
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When, Window
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import (
    Permission,
    active_memberships,
    has_permission,
    organisation_ids_with_role,
    staffed_facility_ids,
)
from accounts.validation import check_field_value
from clinical.conditions import bp_is_excluded

from .events import event_recorded
from .models import Alert, AlertKind, AlertSeverity, IncidentKind, Referral, ReferralEvent, Session
from .sections import Viewer
from .workflow import WorkflowError

if TYPE_CHECKING:
    from accounts.models import User

# The timeline action of a raised alert: the referrer hears of it (`workflow.PROGRESS_EVENTS`).
RAISED = "safety_alert"
ACKNOWLEDGED = "alert_acknowledged"

# How urgent each kind is; an incident's own kind decides (chest pain is urgent).
SEVERITY: dict[str, str] = {
    AlertKind.PHQ9_ITEM9: AlertSeverity.URGENT,
    AlertKind.BLOOD_PRESSURE: AlertSeverity.URGENT,
    AlertKind.HEART_RATE: AlertSeverity.HIGH,
    AlertKind.INCIDENT: AlertSeverity.HIGH,
}
URGENT_INCIDENTS = frozenset({IncidentKind.CHEST_PAIN})

# How many open alerts a page lists at its top; the count says how many more there are.
PANEL_SIZE = 50


class AlertAlreadyAcknowledged(WorkflowError):
    code = "alert_acknowledged"


# --- What raises one ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One reason for an alert in a set of measures: its kind and what was found, in a line."""

    kind: str
    summary: str


def heart_rate_range() -> tuple[int, int]:
    """The resting heart rates (beats a minute) that raise no alert, inclusive."""
    return settings.PORTAL_ALERT_HR_MIN, settings.PORTAL_ALERT_HR_MAX


def measure_findings(scores: dict[str, Any]) -> list[Finding]:
    """The alerts a physical-measures result calls for: BP at or above 180/100 (the programme's
    hard exclusion, `clinical.conditions.bp_is_excluded`) and a resting heart rate outside the
    configured range. Pure: the outcome form also uses it to say what was raised."""
    findings = []
    systolic, diastolic = scores.get("bp_systolic"), scores.get("bp_diastolic")
    if systolic is not None and diastolic is not None and bp_is_excluded(systolic, diastolic):
        findings.append(
            Finding(AlertKind.BLOOD_PRESSURE, f"Blood pressure {systolic}/{diastolic} mmHg")
        )
    rate = scores.get("resting_hr")
    low, high = heart_rate_range()
    if rate is not None and not low <= rate <= high:
        findings.append(
            Finding(
                AlertKind.HEART_RATE,
                f"Resting heart rate {rate} beats a minute (expected {low} to {high})",
            )
        )
    return findings


# --- Writes ------------------------------------------------------------------------------------


def alert_raise(
    *,
    referral: Referral,
    kind: str,
    summary: str,
    by: "User",
    session: Session | None = None,
    incident_kind: str = "",
    description: str = "",
    immediate_action: str = "",
    now: datetime.datetime | None = None,
) -> Alert:
    """Raise one alert on `referral`, with its timeline event, and tell whoever listens.

    The caller has checked that `by` may do what raised it (record an outcome, keep a register)
    and holds the referral's lock if it is changing the referral too; this runs in its
    transaction, so the alert, its emails and the referrer's update commit together.
    """
    for field, value in (
        ("summary", summary),
        ("description", description),
        ("immediate_action", immediate_action),
    ):
        check_field_value(Alert, field, value)
    now = now or timezone.now()
    severity = SEVERITY[kind]
    if incident_kind in URGENT_INCIDENTS:
        severity = AlertSeverity.URGENT
    with transaction.atomic():
        event = ReferralEvent.objects.create(
            referral=referral,
            kind=ReferralEvent.Kind.NOTE,
            action=RAISED,
            actor=by,
            actor_organisation=referral.operator,
            note=f"Safety alert: {summary}.",
            created_at=now,
        )
        alert = Alert.objects.create(
            referral=referral,
            session=session,
            event=event,
            kind=kind,
            severity=severity,
            incident_kind=incident_kind,
            summary=summary,
            description=description,
            immediate_action=immediate_action,
            raised_by=by,
            raised_at=now,
        )
        event_recorded.send(sender=ReferralEvent, event=event, alert=alert)
    return alert


def alert_raise_unless_open(
    *,
    referral: Referral,
    kind: str,
    summary: str,
    by: "User",
    now: datetime.datetime | None = None,
) -> Alert | None:
    """Raise the alert unless an open one already says exactly this: recording the same answers
    again (a correction) must not double the alarms. None when one was open."""
    if referral.alerts.filter(kind=kind, summary=summary, acknowledged_at__isnull=True).exists():
        return None
    return alert_raise(referral=referral, kind=kind, summary=summary, by=by, now=now)


def alerts_raise_for_measures(
    *, referral: Referral, scores: dict[str, Any], label: str, by: "User", now: datetime.datetime
) -> list[Alert]:
    """Raise an alert for each finding in a physical-measures result (`label` says which, e.g.
    "Physical measures at baseline"), unless an open one already says the same."""
    raised = []
    for finding in measure_findings(scores):
        alert = alert_raise_unless_open(
            referral=referral,
            kind=finding.kind,
            summary=f"{finding.summary}, {label[:1].lower()}{label[1:]}",
            by=by,
            now=now,
        )
        if alert is not None:
            raised.append(alert)
    return raised


# An incident can be logged from the warm-up before a session starts: not for one still to come.
INCIDENT_LEAD = datetime.timedelta(minutes=15)
NOT_HELD = (Session.Attendance.CANCELLED_PATIENT, Session.Attendance.CANCELLED_PROVIDER)


def incident_refusal(session: Session, now: datetime.datetime | None = None) -> str | None:
    """Why no incident can be logged in this session yet (or at all), or None if it can."""
    now = now or timezone.now()
    if session.status in NOT_HELD:
        return "This session was cancelled: log the incident in the session it happened in."
    if session.scheduled_at > now + INCIDENT_LEAD:
        starts = timezone.localtime(session.scheduled_at)
        return (
            f"This session has not happened yet (it starts on {starts:%-d %B %Y at %H:%M}): "
            "log an incident once it has begun."
        )
    return None


def incident_record(
    *,
    session: Session,
    by: "User",
    incident_kind: str,
    description: str,
    immediate_action: str,
) -> Alert:
    """An instructor logs an incident in a session (a fall, chest pain, ...), which raises an alert.

    PermissionDenied unless `by` keeps this session's register (SESSION_RECORD on its referral);
    ValidationError, keyed by field, for a missing or unknown answer or a session still to come.
    """
    if not has_permission(by, Permission.SESSION_RECORD, session):
        raise PermissionDenied("Only the referral's instructors log incidents in its sessions.")
    description, immediate_action = description.strip(), immediate_action.strip()
    errors: dict[str, str] = {}
    if incident_kind not in IncidentKind.values:
        errors["incident_kind"] = "Select what happened"
    if not description:
        errors["description"] = "Describe what happened"
    if not immediate_action:
        errors["immediate_action"] = "Enter what was done at the time"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=session.referral_id)
        current = Session.objects.get(pk=session.pk)
        if refusal := incident_refusal(current):
            raise ValidationError(refusal)
        day = f"{timezone.localtime(current.scheduled_at):%d %B %Y}".lstrip("0")
        return alert_raise(
            referral=referral,
            kind=AlertKind.INCIDENT,
            summary=f"{IncidentKind(incident_kind).label} in the session on {day}",
            by=by,
            session=current,
            incident_kind=incident_kind,
            description=description,
            immediate_action=immediate_action,
        )


def alert_acknowledge(*, alert: Alert, by: "User", action_taken: str) -> Alert:
    """Close an open alert, saying what was done. Once only: a second acknowledgement (two people
    at once, or a form sent again) raises AlertAlreadyAcknowledged and changes nothing.

    PermissionDenied unless `by` is one of the operator's coordinators or an instructor at the
    referral's facility (ALERT_ACKNOWLEDGE); ValidationError when the action taken is empty.
    """
    if not has_permission(by, Permission.ALERT_ACKNOWLEDGE, alert):
        raise PermissionDenied("Only the provider's coordinators and instructors acknowledge it.")
    action_taken = action_taken.strip()
    if not action_taken:
        raise ValidationError({"action_taken": "Enter the action you took"})
    check_field_value(Alert, "action_taken", action_taken)
    with transaction.atomic():
        locked = (
            Alert.objects.select_for_update(of=("self",))
            .select_related("referral", "acknowledged_by")
            .get(pk=alert.pk)
        )
        if locked.acknowledged_at is not None:
            who = locked.acknowledged_by.get_full_name() if locked.acknowledged_by else "someone"
            when = timezone.localtime(locked.acknowledged_at)
            raise AlertAlreadyAcknowledged(
                f"This alert was already acknowledged by {who} at {when:%H:%M on %d %B %Y}."
            )
        now = timezone.now()
        locked.acknowledged_by = by
        locked.acknowledged_at = now
        locked.action_taken = action_taken
        locked.save(update_fields=["acknowledged_by", "acknowledged_at", "action_taken"])
        ReferralEvent.objects.create(
            referral=locked.referral,
            kind=ReferralEvent.Kind.NOTE,
            action=ACKNOWLEDGED,
            actor=by,
            actor_organisation=locked.referral.operator,
            note=f"Safety alert acknowledged: {locked.title}.",
            created_at=now,
        )
    for name in ("acknowledged_by", "acknowledged_at", "action_taken"):
        setattr(alert, name, getattr(locked, name))
    return alert


# --- Reads -------------------------------------------------------------------------------------


def alerts_visible_to(user: "User") -> QuerySet[Alert]:
    """Alerts the user sees as the provider's staff: a coordinator, every alert of their operator;
    an instructor, those on referrals at a facility they staff. Nobody else: the referrer reads a
    referral's alerts on its page (with consent to share progress), commissioners and
    organisation admins none."""
    scope = Q(pk__in=[])
    for membership in active_memberships(user):
        if membership.role == Role.COORDINATOR:
            scope |= Q(referral__operator_id=membership.organisation_id)
        elif membership.role == Role.INSTRUCTOR:
            scope |= Q(
                referral__operator_id=membership.organisation_id,
                referral__facility_id__in=staffed_facility_ids(user),
            )
    return Alert.objects.filter(scope)


@dataclass(frozen=True)
class AlertPanel:
    """The open alerts at the top of a staff page: how many, and the most pressing ones."""

    count: int
    alerts: Sequence[Alert]

    @property
    def more(self) -> int:
        return self.count - len(self.alerts)


def open_alerts_panel(user: "User") -> AlertPanel | None:
    """The user's open alerts, urgent first then newest, in one query whatever their number
    (the total rides along as a window count). None for someone who is not the provider's
    coordinator or instructor, whose pages show no panel."""
    if not organisation_ids_with_role(user, Role.COORDINATOR, Role.INSTRUCTOR):
        return None
    urgent_first = Case(
        When(severity=AlertSeverity.URGENT, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    shown = list(
        alerts_visible_to(user)
        .filter(acknowledged_at__isnull=True)
        .select_related("referral", "raised_by")
        .annotate(total=Window(Count("pk")))
        .order_by(urgent_first, "-raised_at", "-id")[:PANEL_SIZE]
    )
    return AlertPanel(count=shown[0].total if shown else 0, alerts=shown)


@dataclass(frozen=True)
class AlertEntry:
    """One alert on the referral page, and whether this viewer may acknowledge it there."""

    alert: Alert
    can_acknowledge: bool


def alerts_section(viewer: Viewer, referral: Referral) -> dict[str, Any]:
    """The referral page's alerts (registered in `referrals/sections.py`): the provider's staff
    see every alert and may acknowledge the open ones; the referrer sees them only while the
    patient's consent to share progress stands, like the rest of the patient's progress. The
    referral's instructors also get the session to log an incident against: the latest one up to
    the end of today."""
    if viewer.is_referrer and not referral.shares_progress:
        alerts: list[Alert] = []
    else:
        alerts = list(
            referral.alerts.select_related("raised_by", "acknowledged_by").order_by(
                "-raised_at", "-id"
            )
        )
    entries = [
        AlertEntry(
            alert=alert,
            can_acknowledge=alert.is_open
            and has_permission(viewer.user, Permission.ALERT_ACKNOWLEDGE, alert),
        )
        for alert in alerts
    ]
    incident_session = None
    if has_permission(viewer.user, Permission.SESSION_RECORD, referral):
        incident_session = (
            referral.sessions.filter(scheduled_at__lte=timezone.now() + INCIDENT_LEAD)
            .exclude(status__in=NOT_HELD)
            .order_by("-scheduled_at", "-id")
            .first()
        )
    return {
        "referral_alerts": entries,
        "open_referral_alerts": [entry for entry in entries if entry.alert.is_open],
        "incident_session": incident_session,
    }
