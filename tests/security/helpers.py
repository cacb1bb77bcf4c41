"""Two worlds of data and the checks the security matrix and the write-then-read tests share.

World "own" is practice A, operator X and the commissioner of X's programme; world "other" is
practice B and operator Y. Nothing in "other" is reachable by anyone in "own" (no referral
crosses), so any identifier of an "other" patient in a response to an "own" user is a leak, and
any change to an "other" row after an "own" user's request is a write across organisations.
"""

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace

from allauth.account.models import EmailAddress
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.utils import timezone

from accounts.models import Membership, Organisation, Role, User
from facilities.models import Facility, Programme, ProgrammeClass
from leisure.models import ContactAttempt
from outcomes.models import Assessment
from outcomes.services import assessment_record
from referrals.alerts import incident_record
from referrals.models import (
    Alert,
    Notification,
    Patient,
    Referral,
    ReferralEvent,
    Session,
    Status,
)
from tests.builders import referral_in_state, run_action
from tests.factories import MembershipFactory, PatientFactory, UserFactory, member

OTHER_SURNAME = "Zzotherworld"
OWN_SURNAME = "Aaownworld"


@dataclass
class World:
    """One side of the matrix: its organisations, staff and referrals in every state."""

    name: str
    practice: Organisation
    operator: Organisation
    referrer: User
    coordinator: User
    instructor: User
    practice_admin: User
    operator_admin: User
    facility: Facility
    programme: Programme
    programme_class: ProgrammeClass
    referrals: dict[str, Referral] = field(default_factory=dict)
    group: Group | None = None
    authenticator_id: int | None = None

    @property
    def organisations(self) -> list[Organisation]:
        return [self.practice, self.operator]

    @property
    def staff(self) -> list[User]:
        return [
            self.referrer,
            self.coordinator,
            self.instructor,
            self.practice_admin,
            self.operator_admin,
        ]

    @property
    def patients(self) -> list[Patient]:
        return [r.patient for r in self.referrals.values()]

    def referral(self, status: str) -> Referral:
        return self.referrals[status]

    def sessions(self) -> list[Session]:
        return list(
            Session.objects.filter(referral__in=self.referrals.values()).order_by("scheduled_at")
        )

    def alerts(self) -> list[Alert]:
        return list(Alert.objects.filter(referral__in=self.referrals.values()).order_by("pk"))

    def membership(self, organisation: Organisation | None = None) -> Membership:
        """A membership of `organisation` (this world's own one of the same kind if foreign)."""
        organisation = self.counterpart(organisation) if organisation else self.practice
        return (
            Membership.objects.filter(organisation=organisation, is_active=True)
            .exclude(role=Role.ORG_ADMIN)
            .order_by("pk")
            .first()
        )

    def counterpart(self, organisation: Organisation) -> Organisation:
        if organisation in self.organisations:
            return organisation
        return self.practice if organisation.is_referrer_kind else self.operator


def mirrored(people) -> SimpleNamespace:
    """`people` with B and Y in the places of A and X, so the builders make B-to-Y referrals."""
    return SimpleNamespace(
        **{
            **vars(people),
            "practice_a": people.practice_b,
            "referrer_a": people.referrer_b,
            "operator_x": people.operator_y,
            "coordinator_x": people.coordinator_y,
            "instructor_x": people.instructor_y,
            "facility_x": people.facility_y,
            "programme_x": people.programme_y,
            "class_x": people.class_y,
        }
    )


def _fill_world(name: str, people, surname: str, phone: str) -> World:
    """Referrals in every state, with sessions, assessments, an alert and notifications."""
    n = iter(range(1, 100))
    referrals = {}
    for status in Status.values:
        patient = PatientFactory(
            organisation=people.practice_a,
            family_name=f"{surname}{chr(ord('a') + next(n))}",
            given_name=f"{name.title()}given",
            email=f"{name}.patient{len(referrals)}@patients.example",
            phone=phone,
        )
        referrals[status] = referral_in_state(people, status, patient=patient)
    active = referrals[Status.ACTIVE]
    assessment_record(
        referral=active,
        instrument="phq9",
        timepoint="baseline",
        answers={f"q{i}": 0 for i in range(1, 10)},
        by=people.instructor_x,
    )
    # An open safety alert on it (an incident in its attended session), for the acknowledge page.
    incident_record(
        session=active.sessions.filter(status=Session.Attendance.ATTENDED).get(),
        by=people.instructor_x,
        incident_kind="fall",
        description="Slipped at the end of the session.",
        immediate_action="First aid; no injury.",
    )
    # An info request that was answered, so the timeline holds the referrer's words too.
    answered = referral_in_state(
        people,
        Status.INFO_REQUESTED,
        patient=PatientFactory(
            organisation=people.practice_a,
            family_name=f"{surname}answered",
            email=f"{name}.answered@patients.example",
        ),
    )
    run_action(people, answered, "answer_info")
    answered.refresh_from_db()
    referrals["answered"] = answered
    return World(
        name=name,
        practice=people.practice_a,
        operator=people.operator_x,
        referrer=people.referrer_a,
        coordinator=people.coordinator_x,
        instructor=people.instructor_x,
        practice_admin=getattr(people, "admin_a", None),
        operator_admin=getattr(people, "admin_x", None),
        facility=people.facility_x,
        programme=people.programme_x,
        programme_class=people.class_x,
        referrals=referrals,
    )


def build_worlds(people) -> tuple[World, World]:
    """The two worlds on top of the `people` fixture; other-world surnames are distinctive."""
    people.admin_b = member(people.practice_b, Role.ORG_ADMIN, "admin.b@example.nhs.uk")
    people.admin_y = member(people.operator_y, Role.ORG_ADMIN, "admin.y@example.org")
    own = _fill_world("own", people, OWN_SURNAME, "07700 900111")
    mirror = mirrored(people)
    mirror.admin_a, mirror.admin_x = people.admin_b, people.admin_y
    other = _fill_world("other", mirror, OTHER_SURNAME, "07700 900999")
    for world in (own, other):
        world.group = Group.objects.create(name=f"{world.name} world group")
        EmailAddress.objects.create(user=world.referrer, email=world.referrer.email, primary=True)
        world.authenticator_id = RecoveryCodes.activate(world.referrer).instance.pk
    return own, other


# --- Who asks ----------------------------------------------------------------------------------


def personas(people, own: World, other: World) -> dict[str, User | None]:
    """Every kind of requester; all belong to world "own" or to no world at all."""
    platform_staff = UserFactory(email="staff@platform.example", is_staff=True, is_superuser=True)
    no_membership = UserFactory(email="nobody@example.org")
    # Former staff of the other world: their memberships are inactive, so they see nothing.
    former_referrer = UserFactory(email="former.gp.b@example.nhs.uk")
    MembershipFactory(
        user=former_referrer, organisation=other.practice, role=Role.REFERRER, is_active=False
    )
    former_coordinator = UserFactory(email="former.coordinator.y@example.org")
    MembershipFactory(
        user=former_coordinator,
        organisation=other.operator,
        role=Role.COORDINATOR,
        is_active=False,
    )
    return {
        "anonymous": None,
        "referrer": own.referrer,
        "coordinator": own.coordinator,
        "instructor": own.instructor,
        "commissioner": people.commissioner,
        "practice_admin": own.practice_admin,
        "operator_admin": own.operator_admin,
        "platform_staff": platform_staff,
        "no_membership": no_membership,
        "deactivated_referrer": former_referrer,
        "deactivated_coordinator": former_coordinator,
    }


def client_for(user: User | None) -> Client:
    """A client that reports 5xx as responses (with `exc_info`) rather than raising them."""
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


# --- What must not be seen ---------------------------------------------------------------------


def identifiers(world: World) -> set[str]:
    """Strings that identify the world's patients and staff: NHS numbers in both forms,
    family names, emails, referral references."""
    found: set[str] = set()
    for referral in world.referrals.values():
        patient = Patient.objects.get(pk=referral.patient_id)
        found |= {referral.reference, patient.family_name}
        if patient.nhs_number:
            found |= {patient.nhs_number, patient.nhs_number_display}
        if patient.email:
            found.add(patient.email)
    found |= {u.email for u in world.staff}
    return found


def leaked(response, secrets: Iterable[str], *, asked: str = "") -> list[str]:
    """The identifiers in the response body or Location that the request did not carry itself
    (a 404 page or a sign-in link may echo what was asked, which tells the asker nothing)."""
    body = b"".join(response) if response.streaming else response.content
    text = body.decode("utf-8", "replace") + " " + response.get("Location", "")
    return sorted(s for s in secrets if s in text and s not in asked)


# --- What must not change ----------------------------------------------------------------------


def _scoped_querysets(organisations: list[Organisation]) -> dict[str, object]:
    org_ids = [o.pk for o in organisations]
    referrals = Referral.objects.filter(
        Q(referring_organisation_id__in=org_ids) | Q(operator_id__in=org_ids)
    )
    referral_ids = referrals.values("pk")
    users = User.objects.filter(memberships__organisation_id__in=org_ids).distinct()
    return {
        "organisations": Organisation.objects.filter(pk__in=org_ids),
        "memberships": Membership.objects.filter(organisation_id__in=org_ids),
        "users": User.objects.filter(pk__in=users.values("pk")),
        "patients": Patient.objects.filter(
            Q(referrals__in=referral_ids) | Q(organisation_id__in=org_ids)
        ).distinct(),
        "referrals": referrals,
        "events": ReferralEvent.objects.filter(referral__in=referral_ids),
        "sessions": Session.objects.filter(referral__in=referral_ids),
        "assessments": Assessment.objects.filter(referral__in=referral_ids),
        "notifications": Notification.objects.filter(referral__in=referral_ids),
        "alerts": Alert.objects.filter(referral__in=referral_ids),
        "contact_attempts": ContactAttempt.objects.filter(referral__in=referral_ids),
        "facilities": Facility.objects.filter(operator_id__in=org_ids),
        "facility_staff": Facility.staff.through.objects.filter(facility__operator_id__in=org_ids),
        "programmes": Programme.objects.filter(operator_id__in=org_ids),
        "programme_commissioners": Programme.commissioners.through.objects.filter(
            programme__operator_id__in=org_ids
        ),
        "classes": ProgrammeClass.objects.filter(programme__operator_id__in=org_ids),
        "class_instructors": ProgrammeClass.instructors.through.objects.filter(
            programmeclass__programme__operator_id__in=org_ids
        ),
    }


def _columns(queryset) -> list[str]:
    return [f.attname for f in queryset.model._meta.concrete_fields]


class Fingerprint:
    """Every row an organisation holds, hashed per table in one query, so a test can check
    after each request that nothing of another organisation changed (and say what did)."""

    def __init__(self, organisations: list[Organisation]):
        self.querysets = _scoped_querysets(organisations)
        parts, params = [], []
        for name, queryset in self.querysets.items():
            sql, qs_params = queryset.values(*_columns(queryset)).query.sql_with_params()
            # Table and column names are ours; every value stays a query parameter.
            hashed = "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM"
            parts.append(f"({hashed} ({sql}) t) AS {name}")
            params.extend(qs_params)
        self.sql = "SELECT " + ", ".join(parts)
        self.params = params
        self.tables = sorted({qs.model._meta.db_table for qs in self.querysets.values()})

    def writes(self) -> int:
        """Rows inserted, updated or deleted so far in this transaction in the tables the
        fingerprint reads: a cheap catalogue read. While it stands still nothing the
        fingerprint hashes can have changed, so `take()` can be skipped."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)"
                " FROM pg_stat_xact_user_tables WHERE relname = ANY(%s)",
                [self.tables],
            )
            return int(cursor.fetchone()[0])

    def take(self) -> tuple[str, ...]:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return tuple(cursor.fetchone())

    def rows(self) -> dict[str, list[dict]]:
        return {
            name: [dict(r) for r in qs.values(*_columns(qs)).order_by("pk")]
            for name, qs in self.querysets.items()
        }

    def changes(self, before_rows: dict[str, list[dict]]) -> list[str]:
        """What differs from an earlier `rows()`, table by table, for a failure message."""
        after_rows = self.rows()
        out = []
        for name, before in before_rows.items():
            after = after_rows[name]
            if before != after:
                gone = [r for r in before if r not in after]
                new = [r for r in after if r not in before]
                out.append(f"{name}: before {gone} after {new}")
        return out


def rendered(client: Client, url: str, method: str = "get", data=None) -> str:
    """The page's text, for write-then-read comparisons (follows redirects)."""
    response = getattr(client, method)(url, data or {}, follow=True)
    assert response.status_code < 500, f"{method.upper()} {url}: {response.status_code}"
    return response.content.decode()


def tomorrow() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=1)


SPACES = re.compile(r"\s+")


def text_of(html: str) -> str:
    """Visible text with whitespace collapsed, so a name split over lines still matches."""
    return SPACES.sub(" ", re.sub(r"<[^>]+>", " ", html))
