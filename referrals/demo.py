"""Demo data for `manage.py seed_demo`: a small, realistic Leeds scheme in every referral state.

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

from accounts.models import Membership, Organisation, OrganisationKind, Role
from facilities.models import Facility, Programme, ProgrammeClass

from . import services
from .conditions import Condition, Exclusion
from .consent import consent_holds, consent_record_decision
from .models import (
    ConsentMethod,
    ConsentPurpose,
    Ethnicity,
    Patient,
    Priority,
    Referral,
    RiskTier,
    Session,
    Sex,
    Status,
)
from .nhs_numbers import synthetic_nhs_numbers
from .reasons import CancelReason, DeclineReason, DischargeReason

# A public demo value, printed on every run: never use the demo outside a local or demo machine.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105
DEMO_URL = "http://127.0.0.1:8000/"
SEED = 2026

Kind = OrganisationKind
C = Condition
X = Exclusion
Attendance = Session.Attendance

# --- Organisations and people ------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationSpec:
    key: str
    kind: str
    name: str
    code: str
    shared_mailbox: str = ""


ORGANISATIONS = [
    OrganisationSpec(
        "beech", Kind.GP_PRACTICE, "Beech Grove Surgery", "B86001", "referrals@beechgrove.demo"
    ),
    OrganisationSpec(
        "meanwood", Kind.GP_PRACTICE, "Meanwood Health Centre", "B86002", "admin@meanwood.demo"
    ),
    OrganisationSpec(
        "msk", Kind.MSK_SERVICE, "Leeds Community MSK Service", "RY6M1", "msk.hub@leedsmsk.demo"
    ),
    OrganisationSpec("active", Kind.LEISURE_OPERATOR, "Active Leeds", "ACTLDS"),
    OrganisationSpec("northern", Kind.LEISURE_OPERATOR, "Northern Leisure Trust", "NLT01"),
    OrganisationSpec("icb", Kind.COMMISSIONER, "West Yorkshire ICB", "QWO"),
]


@dataclass(frozen=True)
class UserSpec:
    email: str
    full_name: str
    organisation: str | None  # None: platform staff, who belong to no organisation
    role: str | None
    registration: str = ""
    facilities: tuple[str, ...] = ()  # facility keys an instructor works at


USERS = [
    UserSpec("gp@beechgrove.demo", "Dr Asha Patel", "beech", Role.REFERRER, "GMC 7012345"),
    UserSpec("gp@meanwood.demo", "Dr Tom Hargreaves", "meanwood", Role.REFERRER, "GMC 7123456"),
    UserSpec("physio@leedsmsk.demo", "Sian Morgan", "msk", Role.REFERRER, "HCPC PH123456"),
    UserSpec("manager@beechgrove.demo", "Karen Whitley", "beech", Role.ORG_ADMIN),
    UserSpec("coordinator@activeleeds.demo", "Jess Oduya", "active", Role.COORDINATOR),
    UserSpec(
        "instructor@activeleeds.demo",
        "Liam Brennan",
        "active",
        Role.INSTRUCTOR,
        facilities=("kirkstall", "holtpark"),
    ),
    UserSpec("admin@activeleeds.demo", "Priya Sandhu", "active", Role.ORG_ADMIN),
    UserSpec("coordinator@northernleisure.demo", "Mark Ellis", "northern", Role.COORDINATOR),
    UserSpec(
        "instructor@northernleisure.demo",
        "Hannah Kowalczyk",
        "northern",
        Role.INSTRUCTOR,
        facilities=("meanwoodvalley", "richmondhill"),
    ),
    UserSpec("commissioner@wyicb.demo", "Rachel Greenwood", "icb", Role.COMMISSIONER),
    UserSpec("admin@referralportal.demo", "Platform Administrator", None, None),
]

# --- Facilities, programmes and classes --------------------------------------------------------


@dataclass(frozen=True)
class FacilitySpec:
    key: str
    operator: str
    name: str
    address: str
    postcode: str
    districts: tuple[str, ...]
    accessibility: str


FACILITIES = [
    FacilitySpec(
        "kirkstall",
        "active",
        "Kirkstall Leisure Centre",
        "Kirkstall Lane\nKirkstall\nLeeds",
        "LS5 3BE",
        ("LS4", "LS5", "LS6", "LS13"),
        "Step-free entrance and lift to the gym; pool hoist; accessible changing room with "
        "shower; hearing loop at reception. Blue badge bays by the main door.",
    ),
    FacilitySpec(
        "holtpark",
        "active",
        "Holt Park Active",
        "Holtdale Approach\nHolt Park\nLeeds",
        "LS16 7RX",
        ("LS16", "LS17", "LS18"),
        "Fully accessible: level access throughout, Changing Places toilet, warm-water "
        "therapy pool with ramp and hoist, inclusive fitness (IFI) equipment.",
    ),
    FacilitySpec(
        "meanwoodvalley",
        "northern",
        "Meanwood Valley Wellbeing Centre",
        "Green Road\nMeanwood\nLeeds",
        "LS6 4LB",
        ("LS6", "LS7", "LS17"),
        "Ground-floor studio and gym; accessible toilet; no pool. Limited parking: the 51 and "
        "52 buses stop outside.",
    ),
    FacilitySpec(
        "richmondhill",
        "northern",
        "Richmond Hill Pool and Gym",
        "Pontefract Lane\nRichmond Hill\nLeeds",
        "LS9 8AB",
        ("LS8", "LS9", "LS14", "LS15"),
        "Lift to first-floor gym; pool with steps and a portable hoist (ask at reception); "
        "accessible changing cubicles; quiet hour on Sunday mornings.",
    ),
]


@dataclass(frozen=True)
class ClassSpec:
    facility: str
    name: str
    weekday: int
    start: datetime.time
    capacity: int
    duration_minutes: int = 60


@dataclass(frozen=True)
class ProgrammeSpec:
    key: str
    operator: str
    name: str
    description: str
    conditions: tuple[str, ...]
    min_age: int
    max_age: int | None
    exclusions: tuple[str, ...]
    duration_weeks: int
    planned_sessions: int
    dna_limit: int
    triage_sla_days: int
    outcome_schedule: list[dict]
    classes: tuple[ClassSpec, ...]
    # Patients are born in these years, which keeps them in the age range for years to come.
    birth_years: tuple[int, int] = (1940, 2000)

    @property
    def sessions_per_week(self) -> int:
        return max(1, round(self.planned_sessions / self.duration_weeks))


def _schedule(**timepoints_by_instrument) -> list[dict]:
    return [
        {"instrument": instrument, "timepoints": list(timepoints)}
        for instrument, timepoints in timepoints_by_instrument.items()
    ]


T = datetime.time
ALL_EXCLUSIONS = tuple(X.values)
CARDIAC_EXCLUSIONS = (
    X.RESTING_BP_180_100,
    X.UNSTABLE_ANGINA,
    X.UNCONTROLLED_ARRHYTHMIA,
    X.RECENT_MI_OR_STROKE,
    X.UNCONTROLLED_HEART_FAILURE,
    X.ACUTE_ILLNESS,
)
FOLLOW_UPS = ("followup_3m", "followup_6m", "followup_12m")

PROGRAMMES = [
    ProgrammeSpec(
        key="eor",
        operator="active",
        name="Exercise on referral (12 weeks)",
        description="Twelve weeks of supervised gym and group exercise, two sessions a week, "
        "for adults with a long-term condition or risk factor (NICE PH54).",
        conditions=(
            C.HYPERTENSION,
            C.TYPE_2_DIABETES,
            C.PREDIABETES,
            C.OBESITY,
            C.OVERWEIGHT,
            C.HYPERCHOLESTEROLAEMIA,
            C.DEPRESSION,
            C.ANXIETY,
            C.ASTHMA,
            C.COPD,
        ),
        min_age=16,
        max_age=None,
        exclusions=ALL_EXCLUSIONS,
        duration_weeks=12,
        planned_sessions=24,
        dna_limit=3,
        triage_sla_days=5,
        outcome_schedule=_schedule(
            gppaq=("baseline", "exit", *FOLLOW_UPS),
            swemwbs=("baseline", "exit"),
            physical_measures=("baseline", "exit"),
        ),
        classes=(
            ClassSpec("kirkstall", "Monday gym circuit", 0, T(10, 0), 12),
            ClassSpec("holtpark", "Wednesday evening gym", 2, T(18, 0), 14),
            ClassSpec("kirkstall", "Friday lunchtime circuit", 4, T(13, 30), 10),
        ),
    ),
    ProgrammeSpec(
        key="cardiac",
        operator="active",
        name="Cardiac rehab phase IV",
        description="Long-term maintenance exercise after cardiac rehabilitation phase III, led "
        "by BACPR-qualified instructors.",
        conditions=(C.ISCHAEMIC_HEART_DISEASE, C.HEART_FAILURE, C.HYPERTENSION),
        min_age=18,
        max_age=None,
        exclusions=CARDIAC_EXCLUSIONS,
        duration_weeks=12,
        planned_sessions=24,
        dna_limit=2,
        triage_sla_days=3,
        outcome_schedule=_schedule(
            physical_measures=("baseline", "exit"),
            six_minute_walk=("baseline", "exit"),
            gppaq=("baseline", "exit", "followup_6m"),
        ),
        classes=(ClassSpec("holtpark", "Heart health circuit", 1, T(11, 0), 10, 75),),
        birth_years=(1940, 1985),
    ),
    ProgrammeSpec(
        key="falls",
        operator="active",
        name="Falls prevention",
        description="Strength and balance (FaME/Otago) for older adults at risk of falling: "
        "weekly classes for 24 weeks plus home exercises.",
        conditions=(C.FALLS_RISK, C.OSTEOPOROSIS, C.STROKE_HISTORY),
        min_age=60,
        max_age=None,
        exclusions=(
            X.RESTING_BP_180_100,
            X.UNSTABLE_ANGINA,
            X.UNCONTROLLED_ARRHYTHMIA,
            X.RECENT_MI_OR_STROKE,
            X.ACUTE_ILLNESS,
        ),
        duration_weeks=24,
        planned_sessions=24,
        dna_limit=3,
        triage_sla_days=10,
        outcome_schedule=_schedule(
            sit_to_stand_30s=("baseline", "mid", "exit"),
            gppaq=("baseline", "exit"),
        ),
        classes=(
            ClassSpec("holtpark", "Steady and strong", 3, T(10, 30), 12),
            ClassSpec("kirkstall", "Strength and balance", 1, T(14, 0), 10),
        ),
        birth_years=(1940, 1962),
    ),
    ProgrammeSpec(
        key="back",
        operator="northern",
        name="MSK back pain",
        description="Eight-week exercise and education course for persistent low back and neck "
        "pain, run with the community MSK service.",
        conditions=(C.LOW_BACK_PAIN, C.NECK_PAIN, C.CHRONIC_PAIN),
        min_age=18,
        max_age=None,
        exclusions=(X.RESTING_BP_180_100, X.UNSTABLE_ANGINA, X.ACUTE_ILLNESS),
        duration_weeks=8,
        planned_sessions=16,
        dna_limit=2,
        triage_sla_days=5,
        outcome_schedule=_schedule(
            msk_hq=("baseline", "exit", "followup_3m"),
            gppaq=("baseline", "exit"),
        ),
        classes=(
            ClassSpec("meanwoodvalley", "Back in action (evening)", 0, T(18, 30), 12),
            ClassSpec("richmondhill", "Back in action (morning)", 3, T(10, 0), 10),
        ),
    ),
    ProgrammeSpec(
        key="escape",
        operator="northern",
        name="ESCAPE-pain knee and hip",
        description="ESCAPE-pain: twelve sessions over six weeks of exercise and self-management "
        "for chronic knee and hip pain.",
        conditions=(C.KNEE_OSTEOARTHRITIS, C.HIP_OSTEOARTHRITIS, C.CHRONIC_PAIN),
        min_age=45,
        max_age=None,
        exclusions=(X.RESTING_BP_180_100, X.UNSTABLE_ANGINA, X.ACUTE_ILLNESS),
        duration_weeks=6,
        planned_sessions=12,
        dna_limit=2,
        triage_sla_days=5,
        outcome_schedule=_schedule(
            msk_hq=("baseline", "exit", "followup_3m"),
            sit_to_stand_30s=("baseline", "exit"),
        ),
        classes=(
            ClassSpec("meanwoodvalley", "ESCAPE-pain", 1, T(10, 0), 10, 90),
            ClassSpec("richmondhill", "ESCAPE-pain", 2, T(14, 0), 10, 90),
        ),
        birth_years=(1940, 1978),
    ),
    ProgrammeSpec(
        key="weight",
        operator="northern",
        name="Healthy weight",
        description="Twelve weekly sessions combining a group workout with healthy-eating "
        "support, for adults living with overweight, obesity or prediabetes.",
        conditions=(C.OBESITY, C.OVERWEIGHT, C.PREDIABETES, C.TYPE_2_DIABETES),
        min_age=18,
        max_age=75,
        exclusions=(
            X.RESTING_BP_180_100,
            X.UNSTABLE_ANGINA,
            X.UNCONTROLLED_ARRHYTHMIA,
            X.RECENT_MI_OR_STROKE,
            X.UNCONTROLLED_DIABETES,
            X.ACUTE_ILLNESS,
        ),
        duration_weeks=12,
        planned_sessions=12,
        dna_limit=3,
        triage_sla_days=5,
        outcome_schedule=_schedule(
            physical_measures=("baseline", "mid", "exit", "followup_6m"),
            gppaq=("baseline", "exit", "followup_3m"),
            swemwbs=("baseline", "exit"),
        ),
        classes=(
            ClassSpec("richmondhill", "Healthy weight Saturday", 5, T(9, 30), 16),
            ClassSpec("meanwoodvalley", "Healthy weight midweek", 2, T(18, 0), 14),
        ),
        birth_years=(1955, 2000),
    ),
]

# --- Referrals: how many end in each state, and who they come from ------------------------------

STATUS_COUNTS = {
    Status.DRAFT: 8,
    Status.SUBMITTED: 15,
    Status.INFO_REQUESTED: 6,
    Status.ACCEPTED: 8,
    Status.WAITLISTED: 10,
    Status.BOOKED: 12,
    Status.ACTIVE: 30,
    Status.COMPLETED: 34,
    Status.DECLINED: 7,
    Status.DISCHARGED: 12,
    Status.CANCELLED: 8,
}
PATIENTS_WITHOUT_NHS_NUMBER = 5
# Referrals that ended long ago (status, years back), played through the services with the clock
# turned back, so that `manage.py retention --dry-run` on the demo has real work to report.
HISTORIC_CASES = [
    (Status.COMPLETED, 9),
    (Status.COMPLETED, 10),
    (Status.DISCHARGED, 9),
    (Status.DECLINED, 10),
    (Status.CANCELLED, 9),
]

REFERRER_WEIGHTS = {"beech": 45, "meanwood": 35, "msk": 20}
PROGRAMME_WEIGHTS = {
    "beech": {"eor": 34, "cardiac": 10, "falls": 12, "back": 12, "escape": 10, "weight": 22},
    "meanwood": {"eor": 34, "cardiac": 10, "falls": 12, "back": 12, "escape": 10, "weight": 22},
    "msk": {"back": 60, "escape": 40},
}

GIVEN_NAMES = {
    Sex.FEMALE: [
        "Margaret", "Susan", "Linda", "Patricia", "Karen", "Julie", "Sarah", "Emma", "Claire",
        "Joanne", "Helen", "Rachel", "Laura", "Gemma", "Jennifer", "Pauline", "Christine",
        "Elaine", "Dorothy", "Jean", "Sharon", "Nicola", "Lisa", "Amy", "Hannah", "Sophie",
    ],
    Sex.MALE: [
        "David", "John", "Michael", "Paul", "Andrew", "Mark", "Stephen", "Peter", "Richard",
        "Ian", "Gary", "Steven", "Christopher", "James", "Robert", "Kevin", "Darren", "Craig",
        "Anthony", "Keith", "Brian", "Graham", "Daniel", "Matthew", "Thomas", "Liam",
    ],
}  # fmt: skip
FAMILY_NAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Wilson", "Walker", "Wood", "Thompson", "Robinson",
    "Wright", "White", "Hall", "Green", "Jackson", "Hargreaves", "Sutcliffe", "Ackroyd", "Hirst",
    "Holmes", "Atkinson", "Shaw", "Lister", "Firth", "Barraclough", "Whiteley", "Dobson",
    "Marsden", "Crowther", "Booth", "Pickles", "Hudson", "Metcalfe", "Clarke", "Fletcher",
]  # fmt: skip
# Names for some other communities in Leeds, by the NHS ethnic category.
NAMES_BY_ETHNICITY = {
    Ethnicity.ASIAN_PAKISTANI: (
        ["Nasreen", "Shazia", "Farzana", "Aisha", "Rukhsana"],
        ["Mohammed", "Imran", "Tariq", "Asif", "Zahid"],
        ["Khan", "Hussain", "Akhtar", "Iqbal", "Mahmood", "Ahmed"],
    ),
    Ethnicity.ASIAN_INDIAN: (
        ["Priya", "Harpreet", "Sunita", "Manjit", "Anjali"],
        ["Rajesh", "Sukhdev", "Arjun", "Harjit", "Vikram"],
        ["Patel", "Singh", "Kaur", "Sharma", "Gill", "Sandhu"],
    ),
    Ethnicity.ASIAN_BANGLADESHI: (
        ["Rokeya", "Shirin", "Nazma"],
        ["Abdul", "Shahid", "Rahim"],
        ["Begum", "Uddin", "Miah", "Rahman"],
    ),
    Ethnicity.BLACK_AFRICAN: (
        ["Grace", "Ama", "Ngozi", "Blessing", "Adaeze"],
        ["Kwame", "Chidi", "Emmanuel", "Tendai", "Oluwaseun"],
        ["Okafor", "Mensah", "Adeyemi", "Moyo", "Osei", "Eze"],
    ),
    Ethnicity.BLACK_CARIBBEAN: (
        ["Marcia", "Beverley", "Yvonne", "Donna"],
        ["Winston", "Delroy", "Clive", "Leroy"],
        ["Campbell", "Williams", "Brown", "Francis", "Henry"],
    ),
    Ethnicity.WHITE_OTHER: (
        ["Anna", "Marta", "Katarzyna", "Agnieszka", "Ioana"],
        ["Piotr", "Tomasz", "Marek", "Andrei", "Lukas"],
        ["Nowak", "Kowalski", "Wisniewski", "Popescu", "Horvat"],
    ),
    Ethnicity.CHINESE: (
        ["Mei", "Li Na", "Xiu"],
        ["Wei", "Jian", "Hao"],
        ["Chen", "Wong", "Li", "Zhang"],
    ),
}
ETHNICITY_WEIGHTS = {
    Ethnicity.WHITE_BRITISH: 64,
    Ethnicity.WHITE_IRISH: 2,
    Ethnicity.WHITE_OTHER: 5,
    Ethnicity.MIXED_WHITE_BLACK_CARIBBEAN: 2,
    Ethnicity.MIXED_WHITE_ASIAN: 1,
    Ethnicity.ASIAN_PAKISTANI: 6,
    Ethnicity.ASIAN_INDIAN: 3,
    Ethnicity.ASIAN_BANGLADESHI: 1,
    Ethnicity.BLACK_AFRICAN: 4,
    Ethnicity.BLACK_CARIBBEAN: 2,
    Ethnicity.CHINESE: 1,
    Ethnicity.OTHER: 1,
    Ethnicity.NOT_STATED: 6,
    Ethnicity.NOT_KNOWN: 2,
}
INTERPRETER_LANGUAGES = {
    Ethnicity.ASIAN_PAKISTANI: "Urdu",
    Ethnicity.ASIAN_INDIAN: "Punjabi",
    Ethnicity.ASIAN_BANGLADESHI: "Bengali",
    Ethnicity.WHITE_OTHER: "Polish",
    Ethnicity.CHINESE: "Cantonese",
}
OTHER_LEEDS_DISTRICTS = ["LS1", "LS2", "LS3", "LS10", "LS11", "LS12", "LS19", "LS25", "LS28"]
# Inward codes never use C, I, K, M, O or V.
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

HISTORY = {
    "eor": [
        "Sedentary job, keen to get more active. No cardiac history.",
        "Hypertension controlled on amlodipine. Walks the dog most days.",
        "Low mood since redundancy; exercise suggested as part of the plan.",
        "Type 2 diabetes on metformin, HbA1c 56 mmol/mol. No hypos.",
        "Mild asthma, uses salbutamol before exercise.",
    ],
    "cardiac": [
        "NSTEMI 8 months ago, PCI to LAD. Completed phase III rehab.",
        "Stable heart failure (HFrEF, EF 40%), NYHA II. Cardiology happy for exercise.",
        "CABG last year, phase III completed, wants to keep going.",
    ],
    "falls": [
        "Two falls in the last year, no injuries. Lives alone.",
        "Osteoporosis on alendronate; fear of falling limits going out.",
        "Stroke 2 years ago, mild left-sided weakness, walks with a stick.",
    ],
    "back": [
        "Non-specific low back pain for 9 months; physio advised graded exercise.",
        "Neck and shoulder pain, desk worker. No red flags.",
        "Chronic low back pain, STarT Back medium risk.",
    ],
    "escape": [
        "Knee OA, both knees, worse on stairs. Not wanting surgery yet.",
        "Hip OA, on the waiting list for review; wants to stay active meanwhile.",
        "Knee pain for 3 years, X-ray shows moderate OA medial compartment.",
    ],
    "weight": [
        "BMI 34, prediabetes (HbA1c 44 mmol/mol). Motivated to change.",
        "BMI 38, type 2 diabetes, struggles with joint pain when walking.",
        "Weight gain since stopping work; would like group support.",
    ],
}
QUESTIONS_AND_ANSWERS = [
    (
        "Please confirm the most recent resting blood pressure and when it was taken.",
        "Rechecked at the practice this week: 138/84, seated, after 5 minutes' rest.",
    ),
    (
        "Is the patient taking anything that affects heart rate, such as a beta blocker?",
        "Yes: bisoprolol 2.5 mg once daily. Now added to the medication notes.",
    ),
    (
        "Has the patient had any chest pain at rest since their last review?",
        "No chest pain at rest; GTN not used in the last 6 months.",
    ),
    (
        "Does the patient need an interpreter or anyone with them for the induction?",
        "No interpreter needed; their daughter would like to come to the first session.",
    ),
    (
        "Could you send the latest HbA1c and confirm there have been no recent hypos?",
        "HbA1c 52 mmol/mol last month, no hypos reported.",
    ),
]
DECLINES = [
    (
        DeclineReason.NOT_ELIGIBLE,
        "On the triage call the patient reported chest pain on exertion last week: advised to "
        "see their GP before starting.",
    ),
    (DeclineReason.OUTSIDE_AREA, "Patient has moved to Harrogate; signposted to the local scheme."),
    (DeclineReason.PATIENT_DECLINED, "Patient would rather exercise on their own for now."),
    (DeclineReason.UNABLE_TO_CONTACT, "Three calls on different days and a letter, no reply."),
    (DeclineReason.DUPLICATE, "Already referred to this programme by the MSK service."),
    (DeclineReason.OTHER, "Programme not suitable for wheelchair users yet; offered 1:1 instead."),
]
CANCELS = [
    (CancelReason.PATIENT_WITHDREW, "Patient phoned the surgery: starting a new job, no time."),
    (CancelReason.REFERRER_WITHDREW, "Referred in error to the wrong programme."),
    (CancelReason.NO_LONGER_APPROPRIATE, "Awaiting a cardiology opinion after a new ECG change."),
    (CancelReason.DUPLICATE, "Duplicate of an earlier referral."),
]


# --- The seed -----------------------------------------------------------------------------------


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
