"""`manage.py seed_demo`: builds the Leeds demo scheme (its tables are in `demo/data.py`).

Everything about a referral goes through the workflow services, by the persona whose job it is, so
the demo's timelines, sessions and outbox rows look exactly like the product's own. Organisations,
facilities, programmes, users and memberships are created with the ORM (they have no services yet).

Running it again creates nothing twice: rows are found by their natural keys (organisation code,
user email, facility, programme and class name, patient NHS number or name and date of birth), and
each demo patient has exactly one demo referral, so a patient who already has one is skipped.
The data comes from fixed seeds, so it is the same on every run and every machine; only dates move,
as they are counted back from today.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from unittest import mock

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organisation, Role
from clinical.reasons import DischargeReason

# A public demo value, printed on every run: never use the demo outside a local or demo machine.
from demo.data import (
    CANCELS,
    DECLINES,
    DEMO_PASSWORD,
    ETHNICITY_WEIGHTS,
    FACILITIES,
    FAMILY_NAMES,
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
    USERS,
    Attendance,
    ProgrammeSpec,
)
from facilities.models import Facility, Programme, ProgrammeClass
from referrals import services
from referrals.consent import consent_holds, consent_record_decision
from referrals.models import (
    ConsentMethod,
    ConsentPurpose,
    Patient,
    Priority,
    Referral,
    RiskTier,
    Session,
    Sex,
    Status,
)
from referrals.nhs_numbers import synthetic_nhs_numbers


@dataclass
class SeedReport:
    created: Counter = field(default_factory=Counter)
    sign_ins: list[tuple[str, str, str]] = field(default_factory=list)  # email, role, organisation


@dataclass
class Demo:
    """What the referral phase needs: the rows the first phase found or made, by key."""

    organisations: dict[str, Organisation]
    users: dict[str, object]  # by email
    facilities: dict[str, Facility]
    programmes: dict[str, Programme]
    classes: dict[str, list[ProgrammeClass]]  # by programme key

    def user(self, organisation_key: str, role: str):
        return next(
            self.users[spec.email]
            for spec in USERS
            if spec.organisation == organisation_key and spec.role == role
        )


def seed_demo(*, log: Callable[[str], None] = lambda message: None) -> SeedReport:
    report = SeedReport()
    with transaction.atomic():
        demo = _seed_organisations_and_people(report)
    log(
        f"Organisations, people, facilities and programmes ready "
        f"({sum(report.created.values())} rows created)."
    )
    cases = _plan_cases()
    for number, case in enumerate(cases, start=1):
        # One transaction a patient: a run that stops half way leaves whole referrals behind.
        with transaction.atomic(), _clock_turned_back(case.years_ago):
            _seed_case(demo, case, report)
        if number % 50 == 0:
            log(f"{number} of {len(cases)} patients and referrals done.")
    return report


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
    years_ago: int = 0  # a historic case, played with the clock turned back this far


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
    return cases


@contextlib.contextmanager
def _clock_turned_back(years: int):
    """Run the services as if it were `years` ago: they stamp events, sessions and outbox rows
    with `timezone.now()`, and the timeline cannot be back-dated afterwards (it is append-only)."""
    if not years:
        yield
        return
    real_now, real_localdate = timezone.now, timezone.localdate
    offset = datetime.timedelta(days=round(365.25 * years))

    def then():
        return real_now() - offset

    def then_localdate(value=None, timezone=None):
        return real_localdate(value or then(), timezone)

    shifted = {real_now: then, real_localdate: then_localdate}
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch("django.utils.timezone.now", then))
        # Field defaults hold the clock function itself (`default=timezone.now`), and Django
        # caches it as the field's `_get_default`: turn those too.
        for model in apps.get_models():
            for model_field in model._meta.concrete_fields:
                default = getattr(model_field, "default", None)
                if callable(default) and default in shifted:
                    stack.enter_context(
                        mock.patch.object(model_field, "_get_default", shifted[default])
                    )
        yield


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


# --- Driving one referral through the services ---------------------------------------------------


@dataclass
class Actors:
    referrer: object
    organisation: Organisation
    coordinator: object
    instructor: object


def _seed_case(demo: Demo, case: Case, report: SeedReport) -> None:
    patient = _find_patient(demo.organisations[case.referrer], case.patient)
    if patient is not None and patient.referrals.exists():
        return
    programme_spec = next(spec for spec in PROGRAMMES if spec.key == case.programme)
    actors = Actors(
        referrer=demo.user(case.referrer, Role.REFERRER),
        organisation=demo.organisations[case.referrer],
        coordinator=demo.user(programme_spec.operator, Role.COORDINATOR),
        instructor=demo.user(programme_spec.operator, Role.INSTRUCTOR),
    )
    if patient is None:
        patient = services.patient_create(
            by=actors.referrer, organisation=actors.organisation, **case.patient
        )
        report.created["patients"] += 1
    rng = random.Random(case.seed)
    referral = _create_draft(demo, case, programme_spec, patient, actors, rng)
    report.created["referrals"] += 1
    journey = Journey(demo, case, programme_spec, referral, actors, rng)
    journey.run()
    referral.refresh_from_db()
    if referral.status != case.status:  # pragma: no cover - a bug in the journeys below
        raise AssertionError(f"Demo referral {referral} ended {referral.status}, not {case.status}")


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
        "preferred_facility": _preferred_facility(demo, case, patient),
        "consent_referral": True,
        "consent_share_outcomes": rng.random() >= 0.12,
        "consent_research": rng.random() < 0.6,
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


def _preferred_facility(demo, case, patient) -> Facility | None:
    district = patient.postcode.split(" ")[0]
    for programme_class in demo.classes[case.programme]:
        if district in programme_class.facility.postcode_districts:
            return programme_class.facility
    return None


@dataclass(frozen=True)
class Slot:
    """When a referral's sessions happen: its class's weekday(s), or 1:1s at a fixed time."""

    weekdays: tuple[int, ...]
    start: datetime.time


class Journey:
    """Takes one draft to its planned final state through the services, as the real people would."""

    def __init__(self, demo, case, programme_spec, referral, actors, rng):
        self.demo = demo
        self.case = case
        self.spec = programme_spec
        self.referral = referral
        self.actors = actors
        self.rng = rng

    def run(self) -> None:
        status = self.case.status
        if status == Status.DRAFT:
            return
        self.submit()
        if status == Status.SUBMITTED:
            if self.rng.random() < 0.3:
                self.ask_and_answer()
            return
        if status == Status.INFO_REQUESTED:
            self.ask()
            return
        if status == Status.DECLINED:
            if self.rng.random() < 0.3:
                self.ask_and_answer()
            reason, note = DECLINES[self.case.rank % len(DECLINES)]
            services.referral_decline(
                referral=self.referral, by=self.actors.coordinator, reason=reason, note=note
            )
            return
        if status == Status.CANCELLED:
            self.cancel()
            return
        if self.rng.random() < 0.2:
            self.ask_and_answer()
        self.accept()
        if status == Status.ACCEPTED:
            return
        if status == Status.WAITLISTED:
            self.waitlist()
            return
        if status == Status.DISCHARGED:
            self.discharge()
            return
        if self.rng.random() < (0.4 if status == Status.BOOKED else 0.2):
            self.waitlist()
        self.book()
        if status == Status.BOOKED:
            return
        if status == Status.ACTIVE:
            self.attend(self.rng.randint(1, self.spec.planned_sessions - 2))
            if self.case.rank % 10 == 4:
                self.withdraw(
                    ConsentPurpose.SHARE_PROGRESS,
                    self.actors.instructor,
                    ConsentMethod.IN_PERSON,
                    "Asked after the session that the surgery is not sent updates.",
                )
            return
        self.attend(self.spec.planned_sessions)
        self.mark(self.next_session(), Attendance.CANCELLED_PROVIDER, "Programme finished")
        services.referral_complete(
            referral=self.referral,
            by=self.actors.instructor,
            note="Exit assessment done; patient plans to carry on with a gym membership.",
        )
        if self.case.rank % 11 == 2:
            self.withdraw(
                ConsentPurpose.EVALUATION,
                self.actors.coordinator,
                ConsentMethod.WRITTEN,
                "Letter after the programme: does not want their results used in evaluations.",
            )

    # One step each, by the right person.

    def withdraw(self, purpose: str, by, method: str, note: str) -> bool:
        """The patient withdraws a consent they gave (a demo case that never gave it skips)."""
        self.referral.refresh_from_db()
        if not consent_holds(self.referral, purpose):
            return False
        consent_record_decision(
            referral=self.referral, by=by, purpose=purpose, method=method, note=note
        )
        return True

    def submit(self) -> None:
        services.referral_submit(referral=self.referral, by=self.actors.referrer)

    def ask(self) -> tuple[str, str]:
        question, answer = self.rng.choice(QUESTIONS_AND_ANSWERS)
        services.referral_request_info(
            referral=self.referral, by=self.actors.coordinator, question=question
        )
        return question, answer

    def ask_and_answer(self) -> None:
        _question, answer = self.ask()
        services.referral_answer_info(
            referral=self.referral, by=self.actors.referrer, answer=answer
        )

    def accept(self) -> None:
        classes = self.demo.classes[self.case.programme]
        preferred = self.referral.preferred_facility_id
        programme_class = next(
            (c for c in classes if c.facility_id == preferred), self.rng.choice(classes)
        )
        one_to_one_first = self.rng.random() < 0.1
        services.referral_accept(
            referral=self.referral,
            by=self.actors.coordinator,
            facility=programme_class.facility,
            programme_class=None if one_to_one_first else programme_class,
            instructor=self.actors.instructor,
            note="Triage call done; suitable for the programme." if self.rng.random() < 0.5 else "",
        )

    def waitlist(self) -> None:
        services.referral_waitlist(
            referral=self.referral,
            by=self.actors.coordinator,
            note="Class full this term; next place expected within 4 weeks.",
        )

    def book(self) -> None:
        services.referral_book(
            referral=self.referral,
            by=self.actors.coordinator,
            first_session_at=self.next_time(),
            note="Induction booked by phone; confirmation letter sent.",
        )

    def cancel(self) -> None:
        # Withdrawn at some point between submission and the first session.
        stages = ["submitted", "info_requested", "accepted", "waitlisted", "booked"]
        stage = stages[self.case.rank % len(stages)]
        by = self.actors.referrer
        if stage == "info_requested":
            self.ask()
        elif stage in {"accepted", "waitlisted", "booked"}:
            self.accept()
            by = self.actors.coordinator
            if stage == "waitlisted":
                self.waitlist()
            if stage == "booked":
                self.book()
                self.mark(self.next_session(), Attendance.CANCELLED_PATIENT, "Patient rang")
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

    def discharge(self) -> None:
        """Left early: after too many missed sessions, by choice, for medical reasons, moving."""
        variant = self.case.rank % 4
        if variant == 0:  # the DNA limit
            self.book()
            self.attend(self.rng.randint(2, 6), then_missed=self.spec.dna_limit)
            self.mark(self.next_session(), Attendance.CANCELLED_PROVIDER, "Discharged")
            reason = DischargeReason.DNA_LIMIT
            note = f"Missed {self.spec.dna_limit} sessions in a row; letter sent to the patient."
        elif variant == 1 and self.case.rank == 5:
            # Part way through, the patient withdraws consent to the referral: that discharges.
            self.book()
            self.attend(self.rng.randint(2, 8))
            self.withdraw(
                ConsentPurpose.REFERRAL,
                self.actors.instructor,
                ConsentMethod.IN_PERSON,
                "Told me at the session they want to stop and have their referral closed.",
            )
            return
        elif variant == 1:
            self.book()
            self.attend(self.rng.randint(2, 8))
            self.mark(self.next_session(), Attendance.CANCELLED_PATIENT, "Stopping")
            reason, note = (
                DischargeReason.PATIENT_CHOICE,
                "Found the sessions too early in the day.",
            )
        elif variant == 2:
            self.book()
            self.mark(self.next_session(), Attendance.CANCELLED_PATIENT, "In hospital")
            reason, note = (
                DischargeReason.MEDICAL,
                "Admitted for a hip replacement; re-refer after.",
            )
        else:
            self.waitlist()
            reason, note = (
                DischargeReason.MOVED_AWAY,
                "Moved to Bradford while on the waiting list.",
            )
        services.referral_discharge(
            referral=self.referral, by=self.actors.coordinator, reason=reason, note=note
        )

    # Sessions.

    def slot(self) -> Slot:
        programme_class = self.referral.programme_class
        if programme_class is None:  # 1:1 sessions before joining a class
            return Slot((self.case.number % 5,), datetime.time(14, 30))
        weekday = programme_class.weekday
        if self.spec.sessions_per_week == 1:
            return Slot((weekday,), programme_class.start_time)
        second = weekday + 2 if weekday <= 2 else weekday - 2
        return Slot(tuple(sorted({weekday, second})), programme_class.start_time)

    def next_time(self) -> datetime.datetime:
        slot = self.slot()
        day = timezone.localdate() + datetime.timedelta(days=1)
        while day.weekday() not in slot.weekdays:
            day += datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(day, slot.start))

    def past_times(self, count: int) -> list[datetime.datetime]:
        """The `count` most recent slots before today, oldest first."""
        slot = self.slot()
        times = []
        day = timezone.localdate() - datetime.timedelta(days=1)
        while len(times) < count:
            if day.weekday() in slot.weekdays:
                times.append(timezone.make_aware(datetime.datetime.combine(day, slot.start)))
            day -= datetime.timedelta(days=1)
        return times[::-1]

    def next_session(self) -> Session:
        return self.referral.sessions.filter(status=Attendance.BOOKED).earliest("scheduled_at")

    def mark(self, session: Session, status: str, note: str = "") -> None:
        services.session_record_attendance(
            session=session, status=status, by=self.actors.instructor, note=note
        )

    def attend(self, count: int, *, then_missed: int = 0) -> None:
        """Sessions already held: the first attended (which makes the referral active), most of
        the rest attended, never `dna_limit` missed in a row unless `then_missed` says so."""
        kind = Session.Kind.CLASS if self.referral.programme_class_id else Session.Kind.ONE_TO_ONE
        missed_in_row = 0
        times = self.past_times(count + then_missed)
        for index, scheduled_at in enumerate(times):
            session = Session.objects.create(
                referral=self.referral,
                programme_class_id=self.referral.programme_class_id,
                kind=Session.Kind.ASSESSMENT if index == 0 else kind,
                scheduled_at=scheduled_at,
            )
            if index >= count:
                status = Attendance.DNA
            elif index == 0 or missed_in_row + 1 >= self.spec.dna_limit:
                status = Attendance.ATTENDED
            else:
                status = self.rng.choices(
                    [Attendance.ATTENDED, Attendance.DNA, Attendance.CANCELLED_PATIENT],
                    weights=[84, 10, 6],
                )[0]
            missed_in_row = missed_in_row + 1 if status == Attendance.DNA else 0
            note = "Baseline assessment done." if index == 0 else ""
            self.mark(session, status, note)
        # Attendance moved the referral on (booked to active): pick up the new version.
        self.referral.refresh_from_db()
