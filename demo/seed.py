"""`manage.py seed_demo`: builds the Leeds demo scheme (its tables are in `demo/data.py`).

The demo tells the story of the last nine months (`STORY_DAYS` before the day it runs), so that
every page and report a newcomer opens has something true to show: referrals waiting for triage
(some past their service level), classes with a waiting list, attendance on the classes' own
weekdays, outcome measures at baseline, mid-point and exit, completed and discharged referrals
with their summaries, and a few referrals that ended long enough ago for the retention rule.

Everything about a referral goes through the services (workflow, attendance, consent, outcome
measures), by the persona whose job it is, so the demo's timelines, sessions and outbox rows look
exactly like the product's own. Each referral's journey is played on a story clock
(`demo/clock.py`) at the moment each step happens, all journeys interleaved in time order, so
every timestamp is the story's, never the seed's. Organisations, facilities, programmes, users
and memberships are created with the ORM (they have no services yet), before the story starts.

Running it again creates nothing twice: rows are found by their natural keys (organisation code,
user email, facility, programme and class name, patient NHS number or name and date of birth), and
each demo patient has exactly one demo referral, so a patient who already has one is skipped.
The data comes from fixed seeds, so it is the same on every run and every machine; only dates move,
as they are counted back from today. The whole seed is one transaction: a run that stops half way
leaves nothing behind.
"""

# Seeded, repeatable randomness is the point here; none of it protects anything.
# ruff: noqa: S311

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import DateTimeField, F, OuterRef, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.api_clients import api_client_create
from accounts.models import ApiClient, Membership, Organisation, Role
from clinical.reasons import DeclineReason, DischargeReason
from demo.clock import Steps, StoryClock, play
from demo.data import (
    API_CLIENTS,
    ATTENDANCE_WEIGHTS,
    CANCELS,
    DECLINES,
    DEMO_API_SECRET,
    DEMO_PASSWORD,
    ETHNICITY_WEIGHTS,
    FACILITIES,
    FAMILY_NAMES,
    FULL_CLASSES,
    GIVEN_NAMES,
    HISTORIC_CASES,
    HISTORY,
    INTERPRETER_LANGUAGES,
    INWARD_LETTERS,
    NAMES_BY_ETHNICITY,
    ORGANISATIONS,
    OTHER_LEEDS_DISTRICTS,
    PATIENTS_WITHOUT_NHS_NUMBER,
    PROGRAMME_WEIGHTS,
    PROGRAMMES,
    QUESTIONS_AND_ANSWERS,
    REFERRER_WEIGHTS,
    SEED,
    STATUS_COUNTS,
    STORY_DAYS,
    USERS,
    Attendance,
    ProgrammeSpec,
)
from demo.measures import Participant, answers_for
from facilities.models import Facility, Programme, ProgrammeClass
from governance.models import (
    AssessmentEvent,
    MembershipEvent,
    OrganisationEvent,
    PatientEvent,
    ProgrammeEvent,
)
from leisure.contact import contact_attempt_record
from leisure.models import ContactMethod, ContactOutcome
from outcomes.models import Timepoint
from outcomes.schedules import FOLLOWUP_MONTHS, add_months
from outcomes.services import assessment_record
from referrals import services
from referrals.alerts import incident_record
from referrals.consent import consent_holds, consent_record_decision
from referrals.events import event_recorded
from referrals.models import (
    ConsentMethod,
    ConsentPurpose,
    IncidentKind,
    Notification,
    Patient,
    Priority,
    Referral,
    ReferralEvent,
    RiskTier,
    Session,
    Sex,
    Status,
)
from referrals.nhs_numbers import synthetic_nhs_numbers
from referrals.visits import VisitEvent, visits_record
from referrals.working_days import add_working_days, is_bank_holiday, is_working_day

# States in which a referral ends the story holding a place in its class.
HOLDING_PLACES = (Status.ACCEPTED, Status.BOOKED, Status.ACTIVE)
# Before "unable to contact": three calls on different days and a letter (method, outcome, hour).
UNANSWERED_ATTEMPTS = (
    (ContactMethod.PHONE, ContactOutcome.NO_ANSWER, 10),
    (ContactMethod.PHONE, ContactOutcome.LEFT_MESSAGE, 17),
    (ContactMethod.PHONE, ContactOutcome.NO_ANSWER, 12),
    (ContactMethod.LETTER, ContactOutcome.SENT, 15),
)
# The platform's first day in the story: before the first historic referral.
PLATFORM_YEARS = 11
# PostgreSQL's NOW(), the start of the transaction, which the change history's triggers stamp
# (Django's `Now()` is the statement's time instead).
TRANSACTION_START = RawSQL("NOW()", (), output_field=DateTimeField())


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    sign_ins: list[tuple[str, str, str]] = field(default_factory=list)  # email, role, organisation
    api_clients: list[tuple[str, str, str]] = field(default_factory=list)  # id, name, organisation
    steps: int = 0


@dataclass
class Demo:
    """What the referral phase needs: the rows the first phase found or made, by key."""

    organisations: dict[str, Organisation]
    users: dict[str, object]  # by email
    facilities: dict[str, Facility]
    programmes: dict[str, Programme]
    classes: dict[str, list[ProgrammeClass]]  # by programme key
    # Operators whose first active referral has had its open safety alert raised.
    alerted_operators: set[int] = field(default_factory=set)

    def user(self, organisation_key: str, role: str):
        return next(
            self.users[spec.email]
            for spec in USERS
            if spec.organisation == organisation_key and spec.role == role
        )


def seed_demo(*, log: Callable[[str], None] = lambda message: None) -> SeedReport:
    report = SeedReport()
    today = timezone.localdate()
    story_end = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    setup_at = story_end - datetime.timedelta(days=round(365.25 * PLATFORM_YEARS))
    clock = StoryClock(setup_at)
    with transaction.atomic(), clock.running():
        demo = _seed_organisations_and_people(report)
        log(
            f"Organisations, people, facilities and programmes ready "
            f"({sum(report.created.values())} rows created)."
        )
        journeys = [
            journey.steps()
            for case in _plan_cases()
            if (journey := _journey_for(demo, case, report, today)) is not None
        ]
        updates = UpdatesDelivered()
        with updates.listening():
            report.steps = play(clock, journeys, until=story_end)
        updates.record_sent()
        _restamp_change_history(setup_at)
        # Connected once the scheme runs on the portal: dated today, not with the first people.
        _seed_api_clients(demo.organisations, report)
    log(f"{len(journeys)} referrals played through the story in {report.steps} steps.")
    return report


class UpdatesDelivered:
    """Records each status-update email as sent at the moment its event happened in the story.

    In the product the Celery worker sends an email seconds after the change commits. Replaying
    months of changes at once would instead leave every update of the story pending until
    `make run` starts the worker, which would then send hundreds of stale emails and date them
    today. The demo's mail goes nowhere, so its email rows are recorded as sent when they were
    written (in one UPDATE at the end, and before a patient withdraws consent, which would
    otherwise withhold them; the outbox's own sending is for real updates): the delivery log
    then tells the story's dates. Only rows for this run's events are touched.
    """

    def __init__(self) -> None:
        self.events: list[int] = []

    def noticed(self, event: ReferralEvent, **_signal: object) -> None:
        self.events.append(event.pk)

    @contextlib.contextmanager
    def listening(self) -> Iterator[None]:
        event_recorded.connect(self.noticed, dispatch_uid="demo-updates-delivered")
        try:
            yield
        finally:
            event_recorded.disconnect(dispatch_uid="demo-updates-delivered")

    def record_sent(self) -> int:
        return updates_sent(Notification.objects.filter(event_id__in=self.events))


def updates_sent(rows: QuerySet[Notification]) -> int:
    """Record these email rows as sent when they were written (see `UpdatesDelivered`)."""
    return (
        rows.filter(status=Notification.DeliveryStatus.PENDING, digest=False)
        .exclude(channel=Notification.Channel.IN_APP)
        .update(
            status=Notification.DeliveryStatus.SENT,
            sent_at=F("created_at"),
            last_attempt_at=F("created_at"),
            attempts=1,
        )
    )


def _restamp_change_history(setup_at: datetime.datetime) -> None:
    """Date this run's change-history rows by the story, not the seed.

    The history's database triggers stamp each row with the database's clock (`NOW()`, the start
    of this transaction), which the story clock cannot turn. Each row this run wrote takes the
    time of the change it records: the tracked row's own `updated_at` or `created_at`, or the
    platform's first day for rows without one (set up before the story).
    """
    for event_model in (
        PatientEvent,
        AssessmentEvent,
        MembershipEvent,
        ProgrammeEvent,
        OrganisationEvent,
    ):
        tracked = event_model.pgh_tracked_model
        names = {f.name for f in tracked._meta.concrete_fields}
        stamp = next((name for name in ("updated_at", "created_at") if name in names), None)
        rows = event_model.objects.filter(
            pgh_created_at__gte=TRANSACTION_START, pgh_obj_id__in=tracked.objects.values("pk")
        )
        if stamp is None:
            rows.update(pgh_created_at=setup_at)
        else:
            rows.update(
                pgh_created_at=Subquery(
                    tracked.objects.filter(pk=OuterRef("pgh_obj_id")).values(stamp)[:1]
                )
            )


def _seed_organisations_and_people(report: SeedReport) -> Demo:
    User = get_user_model()
    organisations = {}
    for spec in ORGANISATIONS:
        organisation = Organisation.objects.filter(code=spec.code).first()
        if organisation is None:
            organisation = Organisation(
                kind=spec.kind, name=spec.name, code=spec.code, shared_mailbox=spec.shared_mailbox
            )
            organisation.full_clean()
            organisation.save()
            report.created["organisations"] += 1
        organisations[spec.key] = organisation

    facilities = {}
    for spec in FACILITIES:
        operator = organisations[spec.operator]
        facility = Facility.objects.filter(operator=operator, name=spec.name).first()
        if facility is None:
            facility = Facility(
                operator=operator,
                name=spec.name,
                address=spec.address,
                postcode=spec.postcode,
                phone=spec.phone,
                email=spec.email,
                postcode_districts=list(spec.districts),
                accessibility_notes=spec.accessibility,
            )
            facility.full_clean()
            facility.save()
            report.created["facilities"] += 1
        facilities[spec.key] = facility

    users = {}
    for spec in USERS:
        user = User.objects.filter(email__iexact=spec.email).first()
        if user is None:
            extra = {"is_staff": True, "is_superuser": True} if spec.organisation is None else {}
            user = User.objects.create_user(
                spec.email,
                DEMO_PASSWORD,
                full_name=spec.full_name,
                professional_registration=spec.registration,
                **extra,
            )
            report.created["users"] += 1
        users[spec.email] = user
        if spec.organisation is not None:
            organisation = organisations[spec.organisation]
            _membership, made = Membership.objects.get_or_create(
                user=user, organisation=organisation, role=spec.role
            )
            report.created["memberships"] += made
            role_label = Role(spec.role).label
            report.sign_ins.append((spec.email, role_label, organisation.name))
        else:
            report.sign_ins.append((spec.email, "Platform staff (superuser)", "—"))
        for facility_key in spec.facilities:
            facilities[facility_key].staff.add(user)

    programmes, classes = {}, {}
    icb = organisations["icb"]
    for spec in PROGRAMMES:
        operator = organisations[spec.operator]
        programme = Programme.objects.filter(operator=operator, name=spec.name).first()
        if programme is None:
            programme = Programme(
                operator=operator,
                name=spec.name,
                description=spec.description,
                conditions=list(spec.conditions),
                min_age=spec.min_age,
                max_age=spec.max_age,
                exclusions=list(spec.exclusions),
                duration_weeks=spec.duration_weeks,
                planned_sessions=spec.planned_sessions,
                dna_limit=spec.dna_limit,
                triage_sla_days=spec.triage_sla_days,
                self_directed_visits_count=spec.self_directed_visits_count,
                outcome_schedule=spec.outcome_schedule,
            )
            programme.full_clean()
            programme.save()
            report.created["programmes"] += 1
        programme.commissioners.add(icb)
        programmes[spec.key] = programme
        instructor = next(
            users[u.email] for u in USERS if u.organisation == spec.operator and u.facilities
        )
        classes[spec.key] = []
        for class_spec in spec.classes:
            facility = facilities[class_spec.facility]
            programme_class = ProgrammeClass.objects.filter(
                programme=programme, facility=facility, name=class_spec.name
            ).first()
            if programme_class is None:
                programme_class = ProgrammeClass(
                    programme=programme,
                    facility=facility,
                    name=class_spec.name,
                    weekday=class_spec.weekday,
                    start_time=class_spec.start,
                    duration_minutes=class_spec.duration_minutes,
                    capacity=class_spec.capacity,
                )
                programme_class.full_clean()
                programme_class.save()
                report.created["classes"] += 1
            programme_class.instructors.add(instructor)
            classes[spec.key].append(programme_class)

    # Fresh copies: permission checks cache memberships and facilities on the user object.
    users = {email: User.objects.get(pk=user.pk) for email, user in users.items()}
    return Demo(organisations, users, facilities, programmes, classes)


def _seed_api_clients(organisations: dict[str, Organisation], report: SeedReport) -> None:
    """The demo's systems, made as an admin makes them, then given a known id and secret. Made
    after the story, so the clock dates them today."""
    for spec in API_CLIENTS:
        organisation = organisations[spec.organisation]
        if not ApiClient.objects.filter(application__client_id=spec.client_id).exists():
            issued = api_client_create(
                organisation=organisation, name=spec.name, scopes=spec.scopes, by=None
            )
            application = issued.client.application
            application.client_id = spec.client_id
            application.client_secret = DEMO_API_SECRET  # hashed as it is saved
            application.save(update_fields=["client_id", "client_secret", "updated"])
            report.created["API clients"] += 1
        report.api_clients.append((spec.client_id, spec.name, organisation.name))


# --- Planning: every random choice is made here, from fixed seeds -------------------------------


@dataclass
class Case:
    number: int
    status: str
    rank: int  # the how-manyth case in this status: spreads reasons and variants evenly
    referrer: str  # organisation key
    programme: str  # programme key
    patient: dict
    # Draws for the workflow, so that skipping an existing case never shifts another's data.
    seed: int
    years_ago: int = 0  # a historic case: its story ends this many years before today
    # The class it is placed in, when planned (FULL_CLASSES); otherwise chosen at acceptance.
    programme_class: str = ""


def _plan_cases() -> list[Case]:
    rng = random.Random(SEED)
    statuses = [status for status, count in STATUS_COUNTS.items() for _ in range(count)]
    rng.shuffle(statuses)
    without_number = set(rng.sample(range(len(statuses)), PATIENTS_WITHOUT_NHS_NUMBER))
    # Well into the 999 range, clear of the numbers the test factories hand out first.
    nhs_numbers = itertools.islice(synthetic_nhs_numbers(), 20_000, None, 37)
    programme_specs = {spec.key: spec for spec in PROGRAMMES}
    cases, seen_without_number, ranks = [], set(), Counter()
    for number, status in enumerate(statuses):
        case_rng = random.Random(SEED * 1000 + number)
        referrer = _weighted(case_rng, REFERRER_WEIGHTS)
        programme = _weighted(case_rng, PROGRAMME_WEIGHTS[referrer])
        patient = _plan_patient(case_rng, programme_specs[programme], referrer)
        if number in without_number:
            patient["nhs_number"] = None
            key = (patient["given_name"], patient["family_name"], patient["date_of_birth"])
            if key in seen_without_number:  # pragma: no cover - the fixed seed never collides
                raise ValueError(f"Two demo patients without an NHS number share {key}")
            seen_without_number.add(key)
        else:
            patient["nhs_number"] = next(nhs_numbers)
        cases.append(
            Case(number, status, ranks[status], referrer, programme, patient, SEED * 1000 + number)
        )
        ranks[status] += 1
    historic_numbers = itertools.islice(synthetic_nhs_numbers(), 60_000, None, 41)
    for offset, (status, years_ago) in enumerate(HISTORIC_CASES):
        number = len(statuses) + offset
        case_rng = random.Random(SEED * 1000 + number)
        # Exercise on referral takes adults of any age: born 1945-1975 they were eligible then.
        spec = dataclasses.replace(programme_specs["eor"], birth_years=(1945, 1975))
        referrer = ("beech", "meanwood")[offset % 2]
        patient = _plan_patient(case_rng, spec, referrer)
        patient["nhs_number"] = next(historic_numbers)
        cases.append(
            Case(
                number,
                status,
                ranks[status],
                referrer,
                "eor",
                patient,
                SEED * 1000 + number,
                years_ago=years_ago,
            )
        )
        ranks[status] += 1
    _route_to_full_classes(cases)
    return cases


def _route_to_full_classes(cases: list[Case]) -> None:
    """Fill each of FULL_CLASSES with referrals that end holding a place, and send every referral
    that ends on a waiting list to one of them, so that the waiting list is for a full class.

    A programme with too few such referrals takes some from other programmes (of referrers who
    refer to it too); every other referral is placed in a class that never fills.
    """
    specs = {spec.key: spec for spec in PROGRAMMES}
    current = [case for case in cases if not case.years_ago]

    def refers_to(case: Case, programme: str) -> bool:
        return programme in PROGRAMME_WEIGHTS[case.referrer]

    for programme, class_name in FULL_CLASSES.items():
        classes = specs[programme].classes
        capacity = next(c.capacity for c in classes if c.name == class_name)
        # Enough to fill the class, and a few for each of the programme's other classes.
        wanted = capacity + 3 * (len(classes) - 1)
        holders = [c for c in current if c.status in HOLDING_PLACES and c.programme == programme]
        spare = [
            c
            for c in current
            if c.status in HOLDING_PLACES
            and c.programme not in FULL_CLASSES
            and refers_to(c, programme)
        ]
        while len(holders) < wanted:
            # From whichever other programme has the most to spare.
            largest, _count = Counter(c.programme for c in spare).most_common(1)[0]
            moved = next(c for c in spare if c.programme == largest)
            spare.remove(moved)
            moved.programme = programme
            holders.append(moved)
        for case in holders[:capacity]:
            case.programme_class = class_name
    for case in current:
        if case.status == Status.WAITLISTED:
            if case.programme not in FULL_CLASSES:
                case.programme = next(p for p in FULL_CLASSES if refers_to(case, p))
            case.programme_class = FULL_CLASSES[case.programme]


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _plan_patient(rng: random.Random, programme: ProgrammeSpec, referrer: str) -> dict:
    sex = rng.choices([Sex.FEMALE, Sex.MALE], weights=[55, 45])[0]
    ethnicity = _weighted(rng, ETHNICITY_WEIGHTS)
    if ethnicity in NAMES_BY_ETHNICITY:
        female, male, families = NAMES_BY_ETHNICITY[ethnicity]
        given = rng.choice(female if sex == Sex.FEMALE else male)
        family = rng.choice(families)
    else:
        given = rng.choice(GIVEN_NAMES[sex])
        family = rng.choice(FAMILY_NAMES)
    first_year, last_year = programme.birth_years
    born = datetime.date(first_year, 1, 1) + datetime.timedelta(
        days=rng.randrange(
            (datetime.date(last_year, 12, 31) - datetime.date(first_year, 1, 1)).days
        )
    )
    operator_districts = [
        district
        for spec in FACILITIES
        if spec.operator == programme.operator
        for district in spec.districts
    ]
    district = rng.choice(operator_districts if rng.random() < 0.8 else OTHER_LEEDS_DISTRICTS)
    inward = f"{rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
    has_email = rng.random() < 0.45
    email = f"{given}.{family}{rng.randint(1, 99)}@example.com".lower().replace(" ", "")
    interpreter = ethnicity in INTERPRETER_LANGUAGES and rng.random() < 0.25
    registered_practice = {"beech": "B86001", "meanwood": "B86002"}.get(
        referrer, rng.choice(["B86001", "B86002"])
    )
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": born,
        "sex": sex,
        "ethnicity": ethnicity,
        "postcode": f"{district} {inward}",
        "phone": f"07700 900{rng.randint(0, 999):03d}",
        "email": email if has_email else "",
        "contact_by_email": has_email and rng.random() < 0.6,
        "contact_by_post": rng.random() < 0.15,
        "do_not_contact": rng.random() < 0.02,
        "interpreter_needed": interpreter,
        "interpreter_language": INTERPRETER_LANGUAGES[ethnicity] if interpreter else "",
        "registered_gp_ods": registered_practice,
    }


# --- Driving one referral through the services, on the story clock ------------------------------


@dataclass
class Actors:
    referrer: object
    organisation: Organisation
    coordinator: object
    instructor: object


def _journey_for(demo: Demo, case: Case, report: SeedReport, today: datetime.date):
    """The case's journey, or None when its patient already has their demo referral."""
    patient = _find_patient(demo.organisations[case.referrer], case.patient)
    if patient is not None and patient.referrals.exists():
        return None
    programme_spec = next(spec for spec in PROGRAMMES if spec.key == case.programme)
    actors = Actors(
        referrer=demo.user(case.referrer, Role.REFERRER),
        organisation=demo.organisations[case.referrer],
        coordinator=demo.user(programme_spec.operator, Role.COORDINATOR),
        instructor=demo.user(programme_spec.operator, Role.INSTRUCTOR),
    )
    story_ends = today - datetime.timedelta(days=round(365.25 * case.years_ago))
    return Journey(demo, case, programme_spec, actors, patient, report, story_ends)


def _find_patient(organisation, fields: dict) -> Patient | None:
    """The referring organisation's own record of the case's patient, if seeded before."""
    records = Patient.objects.filter(organisation=organisation)
    if fields["nhs_number"]:
        return records.filter(nhs_number=fields["nhs_number"]).first()
    return records.filter(
        nhs_number__isnull=True,
        given_name=fields["given_name"],
        family_name=fields["family_name"],
        date_of_birth=fields["date_of_birth"],
    ).first()


def _create_draft(demo, case, programme_spec, patient, actors, rng) -> Referral:
    today = timezone.localdate()
    programme = demo.programmes[case.programme]
    reasons = rng.sample(programme_spec.conditions, k=rng.choice([1, 1, 2]))
    systolic = rng.randint(112, 168)
    diastolic = rng.randint(66, min(96, systolic - 30))
    cardiac = case.programme == "cardiac"
    fields = {
        "reasons": reasons,
        "bp_systolic": systolic,
        "bp_diastolic": diastolic,
        "bp_measured_on": today - datetime.timedelta(days=rng.randint(3, 60)),
        "heart_rate_medication": cardiac or rng.random() < 0.1,
        "medication_notes": "Bisoprolol 2.5 mg, atorvastatin 80 mg, aspirin 75 mg"
        if cardiac
        else rng.choice(["", "", "Amlodipine 5 mg", "Metformin 500 mg twice daily", "Sertraline"]),
        "relevant_history": rng.choice(HISTORY[case.programme]),
        "risk_tier": rng.choice([RiskTier.MEDIUM, RiskTier.HIGH])
        if cardiac
        else rng.choices([RiskTier.LOW, RiskTier.MEDIUM], weights=[70, 30])[0],
        "priority": Priority.URGENT if rng.random() < 0.08 else Priority.ROUTINE,
        "programme": programme,
        "preferred_facility": _preferred_facility(demo, case, patient.postcode),
        "consent_referral": True,
        "consent_share_outcomes": rng.random() >= 0.12,
        "consent_research": rng.random() < 0.75,
        "exclusions_present": [],
    }
    if case.status == Status.DRAFT:
        # Drafts are unfinished: some still need consent taken, one a BP recheck.
        variant = case.rank % 3
        if variant == 0:
            fields["consent_referral"] = False
            fields["consent_share_outcomes"] = False
            fields["consent_research"] = False
        elif variant == 1:
            fields["bp_systolic"], fields["bp_diastolic"] = 184, 102
            fields["relevant_history"] += " BP high today: recheck in a week before sending."
    return services.referral_create_draft(
        by=actors.referrer, organisation=actors.organisation, patient=patient, **fields
    )


def _preferred_facility(demo, case, postcode: str) -> Facility | None:
    district = postcode.split(" ")[0]
    for programme_class in demo.classes[case.programme]:
        if district in programme_class.facility.postcode_districts:
            return programme_class.facility
    return None


@dataclass
class Dates:
    """The days a journey is built around, planned backwards from where it must end."""

    submit: datetime.date
    accept: datetime.date | None = None
    book: datetime.date | None = None
    first_session: datetime.date | None = None  # the class day the sessions start
    waitlisted_first: bool = False  # accepted onto the waiting list, booked from it later
    questions: bool = False  # the coordinator asks the referrer something before triage


DAY = datetime.timedelta(days=1)
# What a gym platform names a participant's own workout.
GYM_ACTIVITIES = ("Gym", "Gym", "Swim", "Cycle and treadmill", "Strength circuit")
WEEK = datetime.timedelta(weeks=1)


class Journey:
    """Takes one case from a draft to its planned final state through the services, as the real
    people would, each step at its moment in the story (`steps` yields the moments)."""

    def __init__(self, demo, case, programme_spec, actors, patient, report, story_ends):
        self.demo = demo
        self.case = case
        self.spec = programme_spec
        self.actors = actors
        self.patient = patient
        self.report = report
        self.today = story_ends  # nothing in this journey happens on or after this day
        self.rng = random.Random(case.seed)
        self.referral: Referral | None = None
        self.moment: datetime.datetime | None = None
        self.participant: Participant | None = None

    # --- Time -----------------------------------------------------------------------------------

    def at(self, day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))
        return self.next_moment(moment)

    def office(self, day: datetime.date) -> datetime.datetime:
        """A time in office hours on `day` (or just after the last step, if that was later)."""
        return self.at(day, self.rng.randint(9, 16), self.rng.randrange(0, 60, 5))

    def soon(self, minutes: int = 10) -> datetime.datetime:
        return self.next_moment(self.moment + datetime.timedelta(minutes=minutes))

    def next_moment(self, moment: datetime.datetime) -> datetime.datetime:
        """Steps of one journey happen one after another: never before (or with) the last one."""
        if self.moment is not None and moment <= self.moment:
            moment = self.moment + datetime.timedelta(minutes=5)
        self.moment = moment
        return moment

    def working_days(self, day: datetime.date, count: int) -> datetime.date:
        return add_working_days(day, count)

    def working_day_on_or_before(self, day: datetime.date) -> datetime.date:
        while not is_working_day(day):
            day -= DAY
        return day

    def class_day_on_or_before(self, day: datetime.date) -> datetime.date:
        weekday = self.placement_class().weekday
        return day - datetime.timedelta(days=(day.weekday() - weekday) % 7)

    @property
    def day(self) -> datetime.date:
        """The day of the journey's last step."""
        return timezone.localdate(self.moment)

    # --- The plan -------------------------------------------------------------------------------

    def plan(self) -> Dates:
        """Where this journey's dates fall, counted back from the end of its story."""
        rng, status, today, weeks = self.rng, self.case.status, self.today, self.spec.duration_weeks
        sla = self.spec.triage_sla_days
        if status == Status.SUBMITTED:
            # About half are past the programme's triage service level and not yet actioned.
            back = sla + rng.randint(1, 8) if self.case.rank % 2 == 0 else rng.randint(1, sla - 1)
            return Dates(submit=self.working_days(today, -back))
        if status == Status.INFO_REQUESTED:
            return Dates(submit=self.working_days(today, -rng.randint(3, 12)))
        if status == Status.ACCEPTED:
            questions = rng.random() < 0.2
            submit = self.working_days(today, -rng.randint(8, 15))
            accept = self.working_days(submit, rng.randint(1, 3) + 4 * questions)
            return Dates(submit=submit, accept=accept, questions=questions)
        if status in (Status.DECLINED, Status.CANCELLED):
            # A cancellation may come after booking, a few weeks on: room for it before today.
            soonest = 20 if status == Status.DECLINED else 60
            submit = self.working_day_on_or_before(
                today - rng.randint(soonest, STORY_DAYS - 20) * DAY
            )
            return Dates(submit=submit, questions=rng.random() < 0.3)
        if status == Status.WAITLISTED:
            submit = self.working_days(today, -rng.randint(6, 30))
            return Dates(submit=submit, accept=self.working_days(submit, rng.randint(1, 3)))
        # Booked, active, completed, discharged: planned back from the first class.
        if status == Status.BOOKED:
            book = self.working_day_on_or_before(today - rng.randint(1, 6) * DAY)
            first = self.class_day_on_or_before(book + 14 * DAY)
            while first <= today:  # a first session still to come (not even today's)
                first += WEEK
        elif status == Status.ACTIVE:
            last_held = self.class_day_on_or_before(today - DAY)
            first = self.clear_of_bank_holidays(
                last_held - rng.randint(1, weeks - 2) * WEEK,
                earliest=last_held - (weeks - 2) * WEEK,
                latest=last_held - WEEK,
            )
        elif status == Status.COMPLETED:
            latest = today - (weeks + 1) * WEEK
            earliest = today - (STORY_DAYS - 40) * DAY
            first = self.clear_of_bank_holidays(
                self.class_day_on_or_before(
                    latest - rng.randint(0, (latest - earliest).days) * DAY
                ),
                earliest=earliest - 4 * WEEK,
                latest=latest,
            )
        else:  # discharged: left part way through, from about three months ago to eight
            first = self.clear_of_bank_holidays(
                self.class_day_on_or_before(today - rng.randint(80, STORY_DAYS - 40) * DAY),
                earliest=today - STORY_DAYS * DAY,
                latest=today - 80 * DAY,
            )
        if status != Status.BOOKED:
            book = self.working_day_on_or_before(first - rng.randint(3, 10) * DAY)
        waitlisted_first = rng.random() < (0.4 if status == Status.BOOKED else 0.2)
        questions = rng.random() < 0.2
        wait = rng.randint(10, 25) if waitlisted_first else rng.randint(1, 4)
        accept = self.working_days(book, -wait)
        submit = self.working_days(accept, -(rng.randint(1, 4) + 4 * questions))
        return Dates(submit, accept, book, first, waitlisted_first, questions)

    def clear_of_bank_holidays(
        self, first: datetime.date, *, earliest: datetime.date, latest: datetime.date
    ) -> datetime.date:
        """The class day nearest `first` (within the bounds) whose run of weekly sessions has no
        bank holiday, on which the centre is closed, so the sessions add up to those planned;
        `first` itself when there is none."""
        for weeks_away in range(12):
            for candidate in (first - weeks_away * WEEK, first + weeks_away * WEEK):
                run = (candidate + week * WEEK for week in range(self.spec.duration_weeks))
                if earliest <= candidate <= latest and not any(map(is_bank_holiday, run)):
                    return candidate
        return first

    def placement_class(self) -> ProgrammeClass:
        """The class the referral is (or will be) placed in: a planned one, or one at the
        patient's preferred centre among those that never fill."""
        if not hasattr(self, "_class"):
            classes = self.demo.classes[self.case.programme]
            if self.case.programme_class:
                self._class = next(c for c in classes if c.name == self.case.programme_class)
            else:
                open_classes = [
                    c for c in classes if FULL_CLASSES.get(self.case.programme) != c.name
                ]
                preferred = _preferred_facility(self.demo, self.case, self.case.patient["postcode"])
                self._class = next(
                    (c for c in open_classes if preferred and c.facility_id == preferred.pk),
                    open_classes[self.case.number % len(open_classes)],
                )
        return self._class

    # --- The story ------------------------------------------------------------------------------

    def steps(self) -> Steps:
        status = self.case.status
        if status == Status.DRAFT:
            yield self.office(self.today - self.rng.randint(1, 20) * DAY)
            self.create_draft()
            return
        yield from self.story()
        yield from self.referrer_reads_updates()

    def story(self) -> Steps:
        status = self.case.status
        dates = self.plan()
        yield self.office(dates.submit - self.rng.choice([0, 0, 0, 1, 3]) * DAY)
        self.create_draft()
        yield self.office(dates.submit)
        services.referral_submit(referral=self.referral, by=self.actors.referrer)
        if status == Status.SUBMITTED:
            return
        if status == Status.INFO_REQUESTED:
            yield self.office(self.working_days(dates.submit, self.rng.randint(1, 2)))
            self.ask()
            return
        if dates.questions:
            yield from self.ask_and_answer()
        if status == Status.DECLINED:
            yield self.office(self.working_days(self.day, self.rng.randint(1, 4)))
            reason, note = DECLINES[self.case.rank % len(DECLINES)]
            if reason == DeclineReason.UNABLE_TO_CONTACT:
                yield from self.try_to_reach()
            services.referral_decline(
                referral=self.referral, by=self.actors.coordinator, reason=reason, note=note
            )
            return
        if status == Status.CANCELLED:
            yield from self.cancel()
            return
        yield self.office(dates.accept)
        self.accept()
        if status == Status.ACCEPTED:
            return
        moves_away = status == Status.DISCHARGED and self.case.rank % 4 == 3
        if status == Status.WAITLISTED or dates.waitlisted_first or moves_away:
            yield self.soon(20)
            self.waitlist()
        if status == Status.WAITLISTED:
            return
        if moves_away:
            yield from self.moved_away()
            return
        yield self.office(dates.book)
        self.book(dates.first_session)
        if status == Status.BOOKED:
            return
        if status == Status.DISCHARGED:
            yield from self.discharge()
        else:
            yield from self.attend(complete=status == Status.COMPLETED)

    # --- One step each, by the right person -----------------------------------------------------

    def create_draft(self) -> None:
        if self.patient is None:
            self.patient = services.patient_create(
                by=self.actors.referrer, organisation=self.actors.organisation, **self.case.patient
            )
            self.report.created["patients"] += 1
        self.referral = _create_draft(
            self.demo, self.case, self.spec, self.patient, self.actors, self.rng
        )
        self.report.created["referrals"] += 1

    def try_to_reach(self) -> Steps:
        """Three calls on different days, then a letter: the attempts behind "unable to
        contact", logged as the coordinator makes them."""
        day = self.day
        for method, outcome, hour in UNANSWERED_ATTEMPTS:
            day = self.working_days(day, 1)
            yield self.at(day, hour)
            contact_attempt_record(
                referral=self.referral, by=self.actors.coordinator, method=method, outcome=outcome
            )
        yield self.at(self.working_days(day, 5), 10)

    def ask(self) -> str:
        question, answer = self.rng.choice(QUESTIONS_AND_ANSWERS)
        services.referral_request_info(
            referral=self.referral, by=self.actors.coordinator, question=question
        )
        return answer

    def ask_and_answer(self) -> Steps:
        yield self.office(self.working_days(self.day, 1))
        answer = self.ask()
        yield self.office(self.working_days(self.day, self.rng.randint(1, 2)))
        services.referral_answer_info(
            referral=self.referral, by=self.actors.referrer, answer=answer
        )

    def accept(self) -> None:
        programme_class = self.placement_class()
        services.referral_accept(
            referral=self.referral,
            by=self.actors.coordinator,
            facility=programme_class.facility,
            programme_class=programme_class,
            instructor=self.actors.instructor,
            note="Triage call done; suitable for the programme." if self.rng.random() < 0.5 else "",
        )
        self.referral.refresh_from_db()

    def waitlist(self) -> None:
        """Onto the class's waiting list, unless accepting a full class already put it there."""
        if self.referral.status == Status.WAITLISTED:
            return
        services.referral_waitlist(
            referral=self.referral,
            by=self.actors.coordinator,
            note="The patient can only come to this class; on its waiting list for the next place.",
        )

    def book(self, first_day: datetime.date) -> None:
        programme_class = self.placement_class()
        services.referral_book(
            referral=self.referral,
            by=self.actors.coordinator,
            first_session_at=timezone.make_aware(
                datetime.datetime.combine(first_day, programme_class.start_time)
            ),
            note="Induction booked by phone; confirmation letter sent.",
            # The member's number in the operator's leisure management system, made at the
            # induction booking (derived from the case, so no other draw of the story moves).
            membership_number=f"{self.referral.operator.code}-{100000 + self.case.number}",
        )
        self.referral.refresh_from_db()

    def withdraw(self, purpose: str, by, method: str, note: str) -> bool:
        """The patient withdraws a consent they gave (a demo case that never gave it skips)."""
        self.referral.refresh_from_db()
        if not consent_holds(self.referral, purpose):
            return False
        # What was written before the patient changed their mind had gone by then.
        updates_sent(Notification.objects.filter(referral=self.referral))
        consent_record_decision(
            referral=self.referral, by=by, purpose=purpose, method=method, note=note
        )
        return True

    # --- Sessions and outcome measures ----------------------------------------------------------

    def booked_sessions(self) -> list[Session]:
        return list(
            self.referral.sessions.filter(status=Attendance.BOOKED).order_by("scheduled_at")
        )

    def session_end(self, session: Session) -> datetime.datetime:
        minutes = self.placement_class().duration_minutes + self.rng.randint(5, 20)
        return self.next_moment(session.scheduled_at + datetime.timedelta(minutes=minutes))

    def mark(self, session: Session, status: str, note: str = "") -> None:
        services.session_record_attendance(
            session=session, status=status, by=self.actors.instructor, note=note
        )
        if status == Attendance.ATTENDED and self.referral.status == Status.BOOKED:
            # The first attendance moved the referral on (booked to active): pick up its version.
            self.referral.refresh_from_db()

    def gym_visits(self, gym: random.Random, after: Session, before: Session) -> None:
        """Gym visits of the participant's own between two classes, as the centre's gym
        platform sends them in (late, after the later class): none, one or two, on days
        without a class."""
        referral = self.referral
        facility = referral.facility
        if facility is None:
            return
        events = []
        for day in sorted(gym.sample(range(1, 6), gym.choice((0, 1, 1, 2)))):
            at = timezone.localtime(after.scheduled_at).replace(
                hour=gym.choice((7, 12, 17, 18)), minute=gym.randrange(0, 60, 5)
            ) + datetime.timedelta(days=day)
            events.append(
                VisitEvent(
                    event_id=f"egym-{self.case.number}-{at:%Y%m%d%H%M}",
                    facility=facility.public_id,
                    occurred_at=at,
                    membership_number=referral.membership_number,
                    activity=gym.choice(GYM_ACTIVITIES),
                    duration_minutes=gym.randint(25, 70),
                )
            )
        if events and before.scheduled_at > max(e.occurred_at for e in events):
            visits_record(operator=referral.operator, by=self.actors.instructor, events=events)

    def attendance(self, index: int, missed_in_row: int) -> str:
        """The first session attended (which starts the referral); never `dna_limit` missed in
        a row; otherwise mostly attended."""
        if index == 0 or missed_in_row + 1 >= self.spec.dna_limit:
            return Attendance.ATTENDED
        return _weighted(self.rng, ATTENDANCE_WEIGHTS)

    def attend(self, *, complete: bool) -> Steps:
        """Every class before the end of the story (all of them, when the programme completes),
        with measures at baseline, mid-point and exit, then completion and follow-ups."""
        sessions = [
            s for s in self.booked_sessions() if timezone.localdate(s.scheduled_at) < self.today
        ]
        if complete:
            sessions[-1:] = []  # the last is kept to be attended below
        middle = len(self.booked_sessions()) // 2
        has_mid = any(Timepoint.MID in entry["timepoints"] for entry in self.spec.outcome_schedule)
        missed_in_row = 0
        skip_baseline = self.case.status == Status.ACTIVE and self.case.rank % 6 == 5
        withdraws_at = (
            min(2, len(sessions) - 1)
            if self.case.status == Status.ACTIVE and self.case.rank % 10 == 4
            else None
        )
        gym = random.Random(f"gym-{self.case.seed}")  # its own draws: the story's stay put
        for index, session in enumerate(sessions):
            yield self.session_end(session)
            status = self.attendance(index, missed_in_row)
            self.mark(session, status)
            if index and self.spec.self_directed_visits_count:
                self.gym_visits(gym, sessions[index - 1], session)
            missed_in_row = missed_in_row + 1 if status == Attendance.DNA else 0
            if index == 0 and not skip_baseline:
                yield self.soon(5)
                self.record(Timepoint.BASELINE)
            if has_mid and index >= middle and status == Attendance.ATTENDED:
                has_mid = False  # recorded once, at the first session attended from half way
                yield self.soon(5)
                self.record(Timepoint.MID)
            if index == withdraws_at:
                yield self.soon(15)
                self.withdraw(
                    ConsentPurpose.SHARE_PROGRESS,
                    self.actors.instructor,
                    ConsentMethod.IN_PERSON,
                    "Asked after the session that the surgery is not sent updates.",
                )
        operator = self.referral.operator_id
        alerted = self.demo.alerted_operators
        if (
            self.case.status == Status.ACTIVE
            and operator not in alerted
            and seed_alerts(self, OPEN_INCIDENTS[len(alerted) % len(OPEN_INCIDENTS)])
        ):
            alerted.add(operator)
        if not complete:
            return
        last = self.booked_sessions()[0]
        yield self.session_end(last)
        self.mark(last, Attendance.ATTENDED, "Exit assessment done.")
        yield self.soon(5)
        self.record(Timepoint.EXIT)
        yield self.soon(10)
        services.referral_complete(
            referral=self.referral,
            by=self.actors.instructor,
            note="Exit assessment done; patient plans to carry on with a gym membership.",
        )
        completed_on = self.day
        if self.case.rank % 11 == 2:
            letter_on = self.working_days(completed_on, self.rng.randint(5, 15))
            yield self.office(min(letter_on, self.working_days(self.today, -1)))
            self.withdraw(
                ConsentPurpose.EVALUATION,
                self.actors.coordinator,
                ConsentMethod.WRITTEN,
                "Letter after the programme: does not want their results used in evaluations.",
            )
        yield from self.follow_ups(completed_on)

    def follow_ups(self, completed_on: datetime.date) -> Steps:
        """Follow-up measures that have come round: most recorded within a fortnight of the due
        date, one in five still outstanding (the instructor's list of follow-ups due)."""
        due = sorted(
            {
                (add_months(completed_on, months), timepoint)
                for timepoint, months in FOLLOWUP_MONTHS.items()
                if any(timepoint in entry["timepoints"] for entry in self.spec.outcome_schedule)
            }
        )
        for due_on, timepoint in due:
            on = self.working_days(due_on, self.rng.randint(0, 8))
            if on >= self.today or self.rng.random() < 0.2:
                return
            yield self.office(on)
            self.record(timepoint)

    def record(self, timepoint: str) -> None:
        """Every instrument the programme schedules at `timepoint`, answered by this patient."""
        who = self.participant or self.draw_participant()
        for entry in self.spec.outcome_schedule:
            if timepoint not in entry["timepoints"]:
                continue
            assessment_record(
                referral=self.referral,
                instrument=entry["instrument"],
                timepoint=timepoint,
                answers=answers_for(entry["instrument"], timepoint, who),
                by=self.actors.instructor,
                administered_at=self.moment,
            )

    def draw_participant(self) -> Participant:
        referral, patient = self.referral, self.patient
        self.participant = Participant.draw(
            random.Random(self.case.seed + 1),
            age=self.today.year - patient.date_of_birth.year,
            female=patient.sex == Sex.FEMALE,
            bp_systolic=referral.bp_systolic or 135,
            bp_diastolic=referral.bp_diastolic or 82,
            weight_programme=self.case.programme == "weight",
        )
        return self.participant

    def referrer_reads_updates(self) -> Steps:
        """The referrer opened the referral a couple of days after its last news; recent news
        (the last fortnight) is still unread on their dashboard."""
        day = self.working_days(self.day, self.rng.randint(1, 3))
        if day >= self.today - 14 * DAY:
            return
        yield self.office(day)
        services.notifications_mark_read(user=self.actors.referrer, referral=self.referral)

    # --- Endings --------------------------------------------------------------------------------

    def cancel(self) -> Steps:
        """Withdrawn at some point between submission and the first session."""
        stages = ["submitted", "info_requested", "accepted", "waitlisted", "booked"]
        stage = stages[self.case.rank % len(stages)]
        by = self.actors.referrer
        if stage == "info_requested":
            yield self.office(self.working_days(self.day, 1))
            self.ask()
        elif stage in {"accepted", "waitlisted", "booked"}:
            yield self.office(self.working_days(self.day, self.rng.randint(1, 3)))
            self.accept()
            by = self.actors.coordinator
            if stage == "waitlisted":
                yield self.soon(20)
                self.waitlist()
            if stage == "booked":
                yield self.office(self.working_days(self.day, self.rng.randint(1, 4)))
                self.book(self.class_day_on_or_before(self.day + 14 * DAY))
                first = self.booked_sessions()[0]
                yield self.office(timezone.localdate(first.scheduled_at) - 2 * DAY)
                self.mark(first, Attendance.CANCELLED_PATIENT, "Patient rang")
        yield self.office(self.working_days(self.day, self.rng.randint(1, 5)))
        if self.case.rank in (3, 6):
            # The patient takes back their consent: recording it is what cancels the referral.
            self.withdraw(
                ConsentPurpose.REFERRAL,
                by,
                ConsentMethod.TELEPHONE,
                "Rang to say they no longer want to be referred or contacted about it.",
            )
            return
        reason, note = CANCELS[self.case.rank % len(CANCELS)]
        services.referral_cancel(referral=self.referral, by=by, reason=reason, note=note)

    def moved_away(self) -> Steps:
        yield self.office(self.working_days(self.day, self.rng.randint(10, 25)))
        services.referral_discharge(
            referral=self.referral,
            by=self.actors.coordinator,
            reason=DischargeReason.MOVED_AWAY,
            note="Moved to Bradford while on the waiting list.",
        )

    def discharge(self) -> Steps:
        """Left early: after too many missed sessions, by choice, or for medical reasons."""
        variant = self.case.rank % 4
        sessions = self.booked_sessions()
        if variant == 2:  # never started
            first = sessions[0]
            yield self.office(timezone.localdate(first.scheduled_at) - 3 * DAY)
            self.mark(first, Attendance.CANCELLED_PATIENT, "In hospital")
            yield self.soon(30)
            self.discharge_for(
                DischargeReason.MEDICAL, "Admitted for a hip replacement; re-refer after."
            )
            return
        attended = self.rng.randint(2, min(6, len(sessions) - self.spec.dna_limit - 1))
        for index, session in enumerate(sessions[:attended]):
            yield self.session_end(session)
            self.mark(session, Attendance.ATTENDED)
            if index == 0:
                yield self.soon(5)
                self.record(Timepoint.BASELINE)
        if variant == 0:  # the DNA limit
            for session in sessions[attended : attended + self.spec.dna_limit]:
                yield self.session_end(session)
                self.mark(session, Attendance.DNA)
            yield self.office(self.working_days(self.day, 1))
            self.discharge_for(
                DischargeReason.DNA_LIMIT,
                f"Missed {self.spec.dna_limit} sessions in a row; letter sent to the patient.",
            )
            return
        # Stopping by choice: the last measures are taken at the last session they come to.
        yield self.soon(5)
        self.record(Timepoint.EXIT)
        if self.case.rank == 5:
            # Part way through, the patient withdraws consent to the referral: that discharges.
            yield self.soon(10)
            self.withdraw(
                ConsentPurpose.REFERRAL,
                self.actors.instructor,
                ConsentMethod.IN_PERSON,
                "Told me at the session they want to stop and have their referral closed.",
            )
            return
        following = sessions[attended]
        yield self.office(timezone.localdate(following.scheduled_at) - DAY)
        self.mark(following, Attendance.CANCELLED_PATIENT, "Stopping")
        yield self.soon(30)
        self.discharge_for(
            DischargeReason.PATIENT_CHOICE, "Found the sessions too early in the day."
        )

    def discharge_for(self, reason: str, note: str) -> None:
        services.referral_discharge(
            referral=self.referral, by=self.actors.coordinator, reason=reason, note=note
        )


# The demo's open alerts, one per operator: what the instructor logged and did at the time.
OPEN_INCIDENTS = (
    (
        IncidentKind.DIZZINESS,
        "Felt light-headed during the cool-down and sat out the last five minutes.",
        "Sat down with water; blood pressure 128/82 after ten minutes; went home with a friend.",
    ),
    (
        IncidentKind.FALL,
        "Lost balance stepping off the aerobic step and fell onto their left side; grazed elbow.",
        "First aid for the graze; no head injury; checked over for 20 minutes and walked out "
        "unaided. Asked them to see their GP if the hip hurts tomorrow.",
    ),
)


def seed_alerts(journey: Journey, incident: tuple[str, str, str]) -> bool:
    """An open safety alert for the demo: the instructor logs an incident in the latest session
    (called once per operator, on an active referral, with the story clock at the end of that
    session), so each operator's coordinator and instructor see an alert still to acknowledge."""
    latest = (
        journey.referral.sessions.filter(status=Attendance.ATTENDED)
        .order_by("-scheduled_at")
        .first()
    )
    if latest is None:
        return False
    kind, description, immediate_action = incident
    incident_record(
        session=latest,
        by=journey.actors.instructor,
        incident_kind=kind,
        description=description,
        immediate_action=immediate_action,
    )
    return True
