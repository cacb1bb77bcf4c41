"""Queries shared by pages, the API and exports; above all, which referrals a user may see."""

import datetime
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import (
    active_memberships,
    organisation_ids_with_role,
    staffed_facility_ids,
)
from facilities.models import Programme
from facilities.selectors import programmes_commissioned_by

from .consent import progress_visible_to, timeline_visible_to
from .models import (
    FINAL_STATES,
    Notification,
    Patient,
    Referral,
    ReferralEvent,
    Session,
    Status,
    Visit,
)
from .working_days import add_working_days

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from accounts.models import Organisation, User


def referrals_visible_to(user: "User") -> QuerySet[Referral]:
    """Every referral `user` may see, by role and organisation; the start of every referral list.

    Referrers see their organisation's referrals (drafts included); coordinators see what was
    submitted to their operator; instructors see their operator's referrals assigned to a facility
    they work at. Commissioners and organisation admins see no individual referrals.
    """
    scope = Q(pk__in=[])
    for membership in active_memberships(user):
        if membership.role == Role.REFERRER:
            scope |= Q(referring_organisation_id=membership.organisation_id)
        elif membership.role == Role.COORDINATOR:
            scope |= Q(operator_id=membership.organisation_id) & ~Q(status=Status.DRAFT)
        elif membership.role == Role.INSTRUCTOR:
            scope |= Q(
                operator_id=membership.organisation_id, facility_id__in=staffed_facility_ids(user)
            ) & ~Q(status=Status.DRAFT)
    return Referral.objects.filter(scope)


def referral_list_for(user: "User") -> QuerySet[Referral]:
    """The visible referrals with what a list row shows, in a constant number of queries."""
    return referrals_visible_to(user).select_related(
        "patient", "programme", "referring_organisation", "operator", "facility"
    )


def referral_for_user(user: "User", reference: str) -> Referral:
    """One referral by public reference; Referral.DoesNotExist when the user may not see it."""
    return referral_list_for(user).get(reference=reference)


def referral_status_counts(queryset: QuerySet[Referral]) -> list[dict[str, Any]]:
    """How many referrals are in each state, in lifecycle order, for aggregate-only views."""
    counts = dict(queryset.order_by().values_list("status").annotate(n=Count("id")))
    return [
        {"status": status, "label": label, "count": counts.get(status, 0)}
        for status, label in Status.choices
    ]


def referrals_commissioned_by(user: "User") -> QuerySet[Referral]:
    """Referrals to programmes the user's commissioner organisations fund: for aggregates only."""
    # A subquery rather than a join: a programme funded by two of the user's organisations
    # must still count each referral once. Drafts are the referrer's own business.
    programmes = programmes_commissioned_by(user).values("pk")
    return Referral.objects.filter(programme__in=programmes).exclude(status=Status.DRAFT)


def referrals_overdue_for_triage(
    queryset: QuerySet[Referral], today: datetime.date | None = None
) -> QuerySet[Referral]:
    """Submitted referrals not actioned within their programme's SLA in working days.

    One condition per distinct SLA length keeps this a single SQL query whatever the list size.
    """
    today = today or timezone.localdate()
    sla_lengths = Programme.objects.order_by().values_list("triage_sla_days", flat=True).distinct()
    overdue = Q(pk__in=[])
    for days in sla_lengths:
        # The (days+1)th working day back from today, counting today: submitted before it means
        # more than `days` working days have passed (working_days_between(submitted, today)).
        cutoff = add_working_days(today + datetime.timedelta(days=1), -(days + 1))
        overdue |= Q(programme__triage_sla_days=days, submitted_at__date__lt=cutoff)
    return queryset.filter(status=Status.SUBMITTED).filter(overdue)


# --- The referrer's dashboard ------------------------------------------------------------------

NEEDS_ACTION = "needs_action"


def referrals_made_by_organisations_of(user: "User") -> QuerySet[Referral]:
    """The referrals of every organisation where the user is a referrer (their dashboard)."""
    organisation_ids = organisation_ids_with_role(user, Role.REFERRER)
    return referral_list_for(user).filter(referring_organisation_id__in=organisation_ids)


def referrals_matching(queryset: QuerySet[Referral], term: str) -> QuerySet[Referral]:
    """Search by reference, NHS number (spaces allowed) or the start of the last name."""
    term = (term or "").strip()
    if not term:
        return queryset
    digits = re.sub(r"[\s-]", "", term)
    if digits.isdigit():
        return queryset.filter(patient__nhs_number=digits)
    if term.upper().startswith("ER-") or re.fullmatch(r"[2-9B-Z]{6}", term.upper()):
        reference = term.upper() if term.upper().startswith("ER-") else f"ER-{term.upper()}"
        return queryset.filter(reference=reference)
    return queryset.filter(patient__family_name__istartswith=term)


def referrer_dashboard(
    user: "User",
    *,
    status: str = "",
    clinician: str = "mine",
    referred_from: datetime.date | None = None,
    referred_to: datetime.date | None = None,
    search: str = "",
) -> QuerySet[Referral]:
    queryset = referrals_made_by_organisations_of(user)
    if clinician != "all":
        queryset = queryset.filter(referring_clinician=user)
    if status == NEEDS_ACTION:
        queryset = queryset.filter(status__in=[Status.DRAFT, Status.INFO_REQUESTED])
    elif status:
        queryset = queryset.filter(status=status)
    if referred_from:
        queryset = queryset.filter(referred_on__gte=referred_from)
    if referred_to:
        queryset = queryset.filter(referred_on__lte=referred_to)
    # Only what a row shows: every join left out is planning time saved on each request.
    # The order is the one `referral_by_clinician_idx` (mine) and `referral_by_referrer_idx`
    # (anyone in my organisation) hold, so a page is read off the index, not sorted.
    return (
        referrals_matching(queryset, search)
        .select_related(None)
        .select_related("patient", "programme")
        .order_by("-updated_at", "-id")
    )


def in_app_updates_for(user: "User") -> QuerySet[Notification]:
    """The user's in-app updates, read or not, less those withheld when consent to share
    progress was withdrawn before they were read."""
    return Notification.objects.filter(
        recipient_user=user, channel=Notification.Channel.IN_APP
    ).exclude(status=Notification.DeliveryStatus.WITHHELD)


def unread_updates_for(user: "User") -> QuerySet[Notification]:
    """In-app updates the user has not opened yet."""
    return in_app_updates_for(user).filter(read_at__isnull=True)


def referral_ids_with_unread_updates(user: "User", referral_ids: "Iterable[int]") -> set[int]:
    return set(
        unread_updates_for(user)
        .filter(referral_id__in=list(referral_ids))
        .values_list("referral_id", flat=True)
    )


def patient_known_to(organisation: "Organisation", nhs_number: str) -> Patient | None:
    """`organisation`'s own record of the patient with this NHS number, else None.

    Only the organisation's own records are read: what another organisation recorded about the
    same person is never shown here.
    """
    return Patient.objects.filter(organisation=organisation, nhs_number=nhs_number).first()


def patient_of(organisation: "Organisation", public_id: "UUID | str") -> Patient | None:
    """One of `organisation`'s own patient records by its public id, else None."""
    return Patient.objects.filter(organisation=organisation, public_id=public_id).first()


def referral_timeline(referral: Referral) -> QuerySet[ReferralEvent]:
    return referral.events.select_related("actor", "actor_organisation").order_by(
        "created_at", "id"
    )


def referral_timeline_for(user: "User", referral: Referral) -> QuerySet[ReferralEvent]:
    """The timeline of a referral `user` can see, as they may see it (`timeline_visible_to`)."""
    return referral_timeline(referral).filter(timeline_visible_to(user))


def sessions_visible_to(user: "User") -> QuerySet[Session]:
    """Sessions of the referrals `user` sees whose progress they may see (a referrer's only with
    the patient's consent to share progress), with the referral, patient and class."""
    referrals = referrals_visible_to(user).filter(progress_visible_to(user))
    return Session.objects.filter(referral__in=referrals).select_related(
        "referral__patient", "programme_class"
    )


# --- Self-directed visits ----------------------------------------------------------------------

# How many of a referral's latest visits its page lists.
RECENT_VISITS = 5


@dataclass(frozen=True)
class VisitsSummary:
    """A referral's self-directed visits (`Visit`): how many, and the latest few."""

    count: int
    recent: list[Visit]


def visits_summary(referral: Referral, recent: int = RECENT_VISITS) -> VisitsSummary:
    """For a referral the viewer may see, and whose progress they may see: two queries."""
    visits = Visit.objects.filter(referral=referral).select_related("facility")
    latest = list(visits.order_by("-occurred_at", "-id")[:recent])
    count = len(latest) if len(latest) < recent else visits.count()
    return VisitsSummary(count=count, recent=latest)


# --- The events feed ---------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class FeedPosition:
    """A place in the events feed: after every event with a smaller (txid, id)."""

    txid: int = 0
    id: int = 0


@dataclass(frozen=True)
class FeedPage:
    events: list[ReferralEvent]
    next: FeedPosition


# The oldest transaction that may still write to this database, else the snapshot's xmax (the
# first transaction it counts as not yet ended). Those of other databases on the same server
# (known by their backend's `datname`) cannot write an event here, so they hold nothing back;
# one whose database cannot be told (its backend gone meanwhile, or hidden from this role) does.
OLDEST_OPEN_HERE = """
SELECT COALESCE(
    (SELECT min(open) FROM pg_snapshot_xip(snapshot) AS open
     WHERE open::xid NOT IN (
         SELECT activity.backend_xid FROM pg_stat_activity AS activity
         WHERE activity.backend_xid IS NOT NULL
           AND activity.datname IS DISTINCT FROM current_database())),
    pg_snapshot_xmax(snapshot))::text::bigint
FROM pg_current_snapshot() AS snapshot
"""


def _oldest_open_transaction() -> int:
    """The oldest transaction still open here: every event written by an earlier one has
    committed (or rolled back), so it is visible now and to every later read (ADR 0007)."""
    with connection.cursor() as cursor:
        cursor.execute(OLDEST_OPEN_HERE)
        row = cursor.fetchone()
    return int(row[0])


def events_feed_for(user: "User", after: FeedPosition, limit: int) -> FeedPage:
    """Up to `limit` timeline events `user` may see, following `after`, for a poller.

    Events are read in (writing transaction, id) order and only those written by transactions
    older than the oldest one still open: an event whose transaction commits late cannot fall
    behind a position already handed out, so reading page after page from `next` returns each
    event exactly once. The price is delay, never loss: an open transaction holds back events
    written after it began until it ends. Each event is judged against what `user` may see when
    it is read (`referrals_visible_to`, `timeline_visible_to`); one passed over is not offered
    again should that change (consent to share progress given again, say).
    """
    horizon = _oldest_open_transaction()
    events = list(
        ReferralEvent.objects.filter(referral__in=referrals_visible_to(user))
        .filter(timeline_visible_to(user))
        .filter(Q(txid__gt=after.txid) | Q(txid=after.txid, id__gt=after.id))
        .filter(txid__lt=horizon)
        .select_related("referral", "actor", "actor_organisation")
        .order_by("txid", "id")[:limit]
    )
    if len(events) == limit:
        last = events[-1]
        return FeedPage(events, FeedPosition(last.txid, last.id))
    # Every event below the horizon was read: the next read starts there.
    return FeedPage(events, max(after, FeedPosition(horizon, 0)))


# --- Home pages: counts, not rows -----------------------------------------------------------------


def referrer_home_counts(user: "User") -> dict[str, int]:
    """What the referrer's home says about their organisations' referrals, in one query: how
    many there are, how many are the user's own, and how many wait on the referrer."""
    queryset = referrals_visible_to(user).filter(
        referring_organisation_id__in=organisation_ids_with_role(user, Role.REFERRER)
    )
    return queryset.order_by().aggregate(
        total=Count("id"),
        mine=Count("id", filter=Q(referring_clinician=user)),
        drafts=Count("id", filter=Q(status=Status.DRAFT)),
        questions=Count("id", filter=Q(status=Status.INFO_REQUESTED)),
    )


def organisation_referral_counts(
    organisations: "Iterable[Organisation]", today: datetime.date | None = None
) -> dict[int, dict[str, int]]:
    """For an organisation admin's home: per organisation, the referrals it sent (a referrer)
    or received (an operator), how many are open, and how many wait past the triage time.
    Counts only, never rows: admins see no individual referrals. A fixed number of queries."""
    ids = [organisation.id for organisation in organisations]
    counts: dict[int, dict[str, int]] = {
        pk: {"sent": 0, "sent_open": 0, "received": 0, "received_open": 0, "overdue": 0}
        for pk in ids
    }
    sent_or_received = Referral.objects.exclude(status=Status.DRAFT).order_by()
    still_open = ~Q(status__in=FINAL_STATES)
    for key, column in (("sent", "referring_organisation_id"), ("received", "operator_id")):
        rows = (
            sent_or_received.filter(**{f"{column}__in": ids})
            .values(column)
            .annotate(total=Count("id"), open=Count("id", filter=still_open))
        )
        for row in rows:
            counts[row[column]][key] = row["total"]
            counts[row[column]][f"{key}_open"] = row["open"]
    overdue = (
        referrals_overdue_for_triage(Referral.objects.filter(operator_id__in=ids), today)
        .order_by()
        .values("operator_id")
        .annotate(n=Count("id"))
    )
    for row in overdue:
        counts[row["operator_id"]]["overdue"] = row["n"]
    return counts
