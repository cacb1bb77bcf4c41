"""Self-directed visits (`Visit`): the one writer, and the referral page's reads.

A leisure operator's own systems (a gym platform's check-ins now; leisure management system
exports later) say that a member came. `visits_record` keeps each such event once and matches it
to the operator's open referral with that membership number:

- **Once.** `(operator, source, source_event_id)` is unique in the database and rows are inserted
  with `ON CONFLICT DO NOTHING`, so a batch posted twice, or by two workers at once, never makes a
  second row: the later event is a *duplicate* of the visit already there.
- **Matched.** The referral of the operator whose `membership_number` is the event's and which is
  open (accepted, waitlisted, booked or active); the newest submitted if there are several.
- **Unmatched visits are kept**, with no referral, so they can be matched later (a coordinator's
  queue comes with file imports). A referral that is not open matches nothing: its visits would
  say nothing about a programme the patient is not on.
- **Refused** only for what cannot be a visit of this operator: a facility not its own, or a time
  in the future beyond `CLOCK_SKEW`. Late and out-of-order events are normal (a platform batches
  and retries) and are taken as they come.

A batch costs a constant number of queries whatever its size (facilities, referrals, one INSERT,
one read back). A visit is no attendance mark on a session. Whether visits count toward adherence
is the programme's to say (`Programme.self_directed_visits_count`, counted by
`referrals.adherence`); where they do, a booked referral's first visit on or after its booking
starts it, in the same transaction as the visit, like a first class attended: the referrer hears
"started" once, through the status-update loop.
"""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import Permission, has_permission
from accounts.validation import check_field_value
from facilities.models import Facility

from .models import (
    Referral,
    ReferralEvent,
    Status,
    Visit,
    VisitSource,
    normalise_membership_number,
)
from .transitions import transition

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from accounts.models import Organisation, User

# The states in which a referral takes visits: the patient is on (or waiting for) the programme.
OPEN_FOR_VISITS = frozenset({Status.ACCEPTED, Status.WAITLISTED, Status.BOOKED, Status.ACTIVE})
# How far ahead of the portal's clock a sender's clock may be: further is not a visit yet.
CLOCK_SKEW = datetime.timedelta(minutes=10)
# Before this a time is a sender's error (an unset clock, a default date), not a late event.
EARLIEST_VISIT = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


class Outcome:
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    UNMATCHED = "unmatched"
    REFUSED = "refused"


@dataclass(frozen=True)
class VisitEvent:
    """One event as a sender gave it (shape already checked: the API's serializer)."""

    event_id: str
    facility: uuid.UUID
    occurred_at: datetime.datetime
    membership_number: str = ""
    activity: str = ""
    duration_minutes: int | None = None
    met_minutes: int | None = None
    average_heart_rate: int | None = None


@dataclass
class VisitResult:
    """What became of one event, in the order given."""

    event_id: str
    status: str
    visit: Visit | None = None
    referral: Referral | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


# The event's fields kept as they come, checked by the model's own validators (length, hidden
# characters, ranges), so every sender (the API, a file import) is held to the same rules.
CHECKED_FIELDS = (
    ("event_id", "source_event_id"),
    ("activity", "activity"),
    ("duration_minutes", "duration_minutes"),
    ("met_minutes", "met_minutes"),
    ("average_heart_rate", "average_heart_rate"),
)


def _refusals(
    event: VisitEvent, facility: Facility | None, now: datetime.datetime
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    values = {
        **vars(event),
        "membership_number": normalise_membership_number(event.membership_number),
    }
    for name, column in (*CHECKED_FIELDS, ("membership_number", "membership_number")):
        value = values[name]
        if value is None or value == "":
            continue
        try:
            check_field_value(Visit, column, value, key=name)
        except ValidationError as refused:
            errors.update(refused.message_dict)
    if not event.event_id:
        errors["event_id"] = ["Give the event's id"]
    if facility is None:
        errors["facility"] = ["None of your leisure centres has this id"]
    if event.occurred_at > now + CLOCK_SKEW:
        errors["occurred_at"] = ["This time is in the future: send a visit once it has happened"]
    elif event.occurred_at < EARLIEST_VISIT:
        errors["occurred_at"] = ["This time is too long ago to be a visit"]
    return errors


def _open_referrals_by_number(operator: "Organisation", numbers: set[str]) -> dict[str, Referral]:
    """The operator's open referral for each membership number (the newest submitted), in one
    query."""
    if not numbers:
        return {}
    found: dict[str, Referral] = {}
    candidates = Referral.objects.filter(
        operator=operator, membership_number__in=numbers, status__in=OPEN_FOR_VISITS
    ).order_by("membership_number", "-submitted_at", "-id")
    for referral in candidates:
        found.setdefault(referral.membership_number, referral)
    return found


def visits_record(
    *,
    operator: "Organisation",
    by: "User",
    events: Sequence[VisitEvent],
    source: str = VisitSource.CHECKIN,
) -> list[VisitResult]:
    """Record `events` for `operator`'s members, each once; one result per event, in order.

    `by` (the sending system, or a person importing) must record attendance for the operator
    (`Permission.SESSION_RECORD`): its systems, coordinators and instructors do."""
    if not has_permission(by, Permission.SESSION_RECORD, operator):
        raise PermissionDenied("Only the operator's staff and systems record its visits.")
    if source not in VisitSource.values:
        raise ValueError(f"Unknown visit source {source!r}")
    now = timezone.now()
    facilities = {
        f.public_id: f
        for f in Facility.objects.filter(
            operator=operator, public_id__in={e.facility for e in events}
        )
    }
    numbers = {normalise_membership_number(e.membership_number) for e in events} - {""}
    referrals = _open_referrals_by_number(operator, numbers)

    results: list[VisitResult] = []
    new: dict[str, Visit] = {}  # event id: the row this batch means to insert
    for event in events:
        facility = facilities.get(event.facility)
        errors = _refusals(event, facility, now)
        if errors:
            results.append(VisitResult(event.event_id, Outcome.REFUSED, errors=errors))
            continue
        number = normalise_membership_number(event.membership_number)
        results.append(VisitResult(event.event_id, Outcome.RECORDED))
        if event.event_id in new:
            continue  # the same event twice in one batch: the first is the one kept
        new[event.event_id] = Visit(
            operator=operator,
            referral=referrals.get(number),
            facility=facility,
            occurred_at=event.occurred_at,
            source=source,
            source_event_id=event.event_id,
            membership_number=number,
            activity=event.activity,
            duration_minutes=event.duration_minutes,
            met_minutes=event.met_minutes,
            average_heart_rate=event.average_heart_rate,
            recorded_by=by,
            created_at=now,
        )
    if not new:
        return results

    with transaction.atomic():
        # Rows another request (or an earlier post) holds already are left as they are. In one
        # order (by event id), so two overlapping batches wait on each other, never deadlock.
        rows = sorted(new.values(), key=lambda visit: visit.source_event_id)
        Visit.objects.bulk_create(rows, ignore_conflicts=True)
        stored = {
            visit.source_event_id: visit
            for visit in Visit.objects.filter(
                operator=operator, source=source, source_event_id__in=list(new)
            ).select_related("referral")
        }
        written = [v for v in stored.values() if v.public_id == new[v.source_event_id].public_id]
        start_on_counted_visits(written, by=by, permission=Permission.SESSION_RECORD)
    first_seen: set[str] = set()
    for result in results:
        if result.status == Outcome.REFUSED:
            continue
        visit = stored[result.event_id]
        result.visit, result.referral = visit, visit.referral
        ours = visit.public_id == new[result.event_id].public_id
        if not ours or result.event_id in first_seen:
            result.status = Outcome.DUPLICATE
        elif visit.referral_id is None:
            result.status = Outcome.UNMATCHED
        first_seen.add(result.event_id)
    return results


@dataclass(frozen=True)
class MatchedVisit:
    """A visit whose referral the sender has already found (a file import matches by membership
    number, referral reference or NHS number with date of birth, and checks the referral was
    open at the time), so it is written as it is."""

    event_id: str
    occurred_at: datetime.datetime
    referral: Referral
    membership_number: str = ""
    activity: str = ""


def visits_record_matched(
    *,
    operator: "Organisation",
    by: "User",
    visits: Sequence[MatchedVisit],
    source: str = VisitSource.IMPORT,
) -> set[str]:
    """Write `visits` (each on its referral, which must be `operator`'s), each once; return the
    event ids this call stored. An event id already stored (an earlier import, the same row
    earlier in this batch) is left as it was: a duplicate. One INSERT and one read back.

    `by` records attendance for the operator, or imports it (its coordinators)."""
    if not (
        has_permission(by, Permission.SESSION_RECORD, operator)
        or has_permission(by, Permission.ATTENDANCE_IMPORT, operator)
    ):
        raise PermissionDenied("Only the operator's staff and systems record its visits.")
    if source not in VisitSource.values:
        raise ValueError(f"Unknown visit source {source!r}")
    if any(visit.referral.operator_id != operator.pk for visit in visits):
        raise PermissionDenied("A visit can only be recorded on the operator's own referral.")
    now = timezone.now()
    new: dict[str, Visit] = {}
    for visit in visits:
        new.setdefault(
            visit.event_id,
            Visit(
                operator=operator,
                referral=visit.referral,
                occurred_at=visit.occurred_at,
                source=source,
                source_event_id=visit.event_id,
                membership_number=normalise_membership_number(visit.membership_number),
                activity=visit.activity,
                recorded_by=by,
                created_at=now,
            ),
        )
    if not new:
        return set()
    with transaction.atomic():
        rows = sorted(new.values(), key=lambda visit: visit.source_event_id)
        Visit.objects.bulk_create(rows, ignore_conflicts=True)
        stored = set(
            Visit.objects.filter(public_id__in=[row.public_id for row in rows]).values_list(
                "source_event_id", flat=True
            )
        )
        start_on_counted_visits(
            [row for row in rows if row.source_event_id in stored],
            by=by,
            permission=(
                Permission.SESSION_RECORD
                if has_permission(by, Permission.SESSION_RECORD, operator)
                else Permission.ATTENDANCE_IMPORT
            ),
        )
        return stored


def start_on_counted_visits(
    visits: Sequence[Visit], *, by: "User", permission: Permission
) -> list[Referral]:
    """Start each booked referral whose programme counts self-directed visits and which one of
    `visits` (just stored) is the first on or after its booking: the move a first class attended
    makes, with the referrer's update. Call inside the transaction that stored the visits. One
    query when none qualifies; `permission` is the one the caller recorded the visits under."""
    first: dict[int, Visit] = {}
    for visit in visits:
        if visit.referral_id is None:
            continue
        known = first.get(visit.referral_id)
        if known is None or visit.occurred_at < known.occurred_at:
            first[visit.referral_id] = visit
    if not first:
        return []
    started: list[Referral] = []
    candidates = Referral.objects.filter(
        pk__in=list(first), status=Status.BOOKED, programme__self_directed_visits_count=True
    ).order_by("pk")
    for referral in candidates:
        visit = first[referral.pk]
        if referral.status_changed_at and visit.occurred_at < referral.status_changed_at:
            continue  # a late event from before the booking: not the programme's start
        on = f"{timezone.localtime(visit.occurred_at):%d %B %Y}"
        transition(
            referral,
            by=by,
            action_name="start",
            note=f"First self-directed visit on {on}",
            permission=permission,
        )
        started.append(referral)
    return started


def visits_attach_unmatched(referral: Referral, *, by: "User", permission: Permission) -> int:
    """Put on `referral` the operator's visits kept unmatched with its membership number since
    it was accepted (a member checked in before the coordinator recorded the number): the
    "matched later" of an unmatched check-in. A booked referral whose programme counts them
    may start. Call inside the transaction that recorded the number; returns how many."""
    number = referral.membership_number
    if not number or referral.status not in OPEN_FOR_VISITS:
        return 0
    accepted_at = (
        ReferralEvent.objects.filter(referral=referral, to_status=Status.ACCEPTED)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if accepted_at is None:
        return 0
    waiting = Visit.objects.filter(
        operator_id=referral.operator_id,
        referral__isnull=True,
        membership_number=number,
        occurred_at__gte=accepted_at,
    )
    ids = list(waiting.values_list("pk", flat=True))
    if not ids:
        return 0
    Visit.objects.filter(pk__in=ids, referral__isnull=True).update(referral=referral)
    start_on_counted_visits(
        list(Visit.objects.filter(pk__in=ids, referral=referral)), by=by, permission=permission
    )
    return len(ids)


def visits_held_by(
    organisation: "Organisation", referrals: Sequence[Referral]
) -> dict[int, list[dict[str, object]]]:
    """For a subject access export: the self-directed visits `organisation`'s systems recorded
    on these referrals, by referral id, oldest first (one query). Only the operator holds them:
    a referrer gets none."""
    held: dict[int, list[dict[str, object]]] = {}
    visits = (
        Visit.objects.filter(referral__in=referrals, operator=organisation)
        .select_related("facility")
        .order_by("occurred_at", "id")
    )
    for visit in visits:
        held.setdefault(visit.referral_id or 0, []).append(
            {
                "occurred_at": timezone.localtime(visit.occurred_at).isoformat(),
                "facility": visit.facility.name if visit.facility else None,
                "source": visit.get_source_display(),
                "membership_number": visit.membership_number,
                "activity": visit.activity,
                "duration_minutes": visit.duration_minutes,
                "met_minutes": visit.met_minutes,
                "average_heart_rate": visit.average_heart_rate,
            }
        )
    return held


def membership_numbers_held_by(
    organisation: "Organisation", referrals: Sequence[Referral]
) -> dict[int, list[dict[str, object]]]:
    """For a subject access export: the leisure membership number on each of `organisation`'s
    own referrals (the operator's identifier for the patient; the referrer never holds it)."""
    return {
        referral.pk: [{"membership_number": referral.membership_number}]
        for referral in referrals
        if referral.operator_id == organisation.pk and referral.membership_number
    }


# --- Retention ------------------------------------------------------------------------------------

FORGET_UNMATCHED = "delete unmatched visits"


def visits_unmatched_due(now: datetime.datetime) -> "QuerySet[Visit]":
    """Visits that matched no referral, recorded more than `PORTAL_IMPORT_RETENTION_DAYS` ago:
    a membership number nobody has claimed by then is not kept. Reads only."""
    days = settings.PORTAL_IMPORT_RETENTION_DAYS
    return Visit.objects.filter(
        referral__isnull=True, created_at__lt=now - datetime.timedelta(days=days)
    )


def visits_unmatched_forget(ids: list[int], now: datetime.datetime) -> int:
    """Delete the due unmatched visits among `ids`, inside the retention batch's transaction;
    one matched meanwhile (locked and re-checked) is kept."""
    locked = list(
        visits_unmatched_due(now)
        .filter(pk__in=ids)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    deleted, _ = Visit.objects.filter(pk__in=locked).delete()
    return deleted
