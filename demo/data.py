"""The Leeds demo scheme as data: organisations, people, facilities, programmes and classes, and
the mix of patients and cases `demo/seed.py` builds from them. Tables only; no code runs here."""


# Seeded, repeatable randomness is the point here; none of it protects anything.

from __future__ import annotations

import datetime
from dataclasses import dataclass

from accounts.models import ApiScope, OrganisationKind, Role
from clinical.conditions import Condition, Exclusion
from clinical.reasons import CancelReason, DeclineReason
from referrals.models import (
    Ethnicity,
    Session,
    Sex,
    Status,
)

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

# API clients (ADR 0006) with a known id and the public demo secret, so that docs/api.md's
# examples run against `make run` as they are. Like the password: never outside a demo machine.
DEMO_API_SECRET = "demo-api-secret-2026"  # noqa: S105


@dataclass(frozen=True)
class ApiClientSpec:
    organisation: str
    name: str
    client_id: str
    scopes: tuple[str, ...]


API_CLIENTS = [
    ApiClientSpec(
        "active",
        "Active Leeds booking system",
        "demo-activeleeds-booking",
        (
            ApiScope.REFERRALS_READ,
            ApiScope.REFERRALS_WRITE,
            ApiScope.ATTENDANCE_WRITE,
            ApiScope.OUTCOMES_READ,
            ApiScope.OUTCOMES_WRITE,
        ),
    ),
    ApiClientSpec(
        "beech",
        "Beech Grove clinical system",
        "demo-beechgrove-gp",
        (ApiScope.REFERRALS_READ, ApiScope.REFERRALS_WRITE, ApiScope.OUTCOMES_READ),
    ),
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
    # On the patient's letter: Ofcom's numbers for drama (0113 496 0000 to 0999), never a real one.
    phone: str = ""
    email: str = ""


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
        phone="0113 496 0101",
        email="kirkstall@activeleeds.demo",
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
        phone="0113 496 0202",
        email="holtpark@activeleeds.demo",
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
        phone="0113 496 0303",
        email="meanwood@northernleisure.demo",
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
        phone="0113 496 0404",
        email="richmondhill@northernleisure.demo",
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
    # Gym visits of the participant's own count toward adherence (and are seeded as check-ins).
    self_directed_visits_count: bool = False


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

# Each class meets once a week and a patient is booked into one class, so a programme plans one
# session a week: `planned_sessions` is its `duration_weeks`, and the registers add up to it.
# Exercise on referral also counts gym visits of the participant's own (a day counts once): it
# plans two a week, a class and a gym day.
PROGRAMMES = [
    ProgrammeSpec(
        key="eor",
        operator="active",
        name="Exercise on referral (12 weeks)",
        description="Twelve weeks of supervised gym and group exercise, one class a week plus "
        "gym visits of their own and a home plan, for adults with a long-term condition or risk "
        "factor (NICE PH54).",
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
        self_directed_visits_count=True,
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
        planned_sessions=12,
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
        description="Eight-week exercise and education course (one class a week) for "
        "persistent low back and neck pain, run with the community MSK service.",
        conditions=(C.LOW_BACK_PAIN, C.NECK_PAIN, C.CHRONIC_PAIN),
        min_age=18,
        max_age=None,
        exclusions=(X.RESTING_BP_180_100, X.UNSTABLE_ANGINA, X.ACUTE_ILLNESS),
        duration_weeks=8,
        planned_sessions=8,
        dna_limit=2,
        triage_sla_days=5,
        outcome_schedule=_schedule(
            mskhq=("baseline", "exit", "followup_3m"),
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
        description="ESCAPE-pain: six weekly sessions of exercise and self-management for "
        "chronic knee and hip pain.",
        conditions=(C.KNEE_OSTEOARTHRITIS, C.HIP_OSTEOARTHRITIS, C.CHRONIC_PAIN),
        min_age=45,
        max_age=None,
        exclusions=(X.RESTING_BP_180_100, X.UNSTABLE_ANGINA, X.ACUTE_ILLNESS),
        duration_weeks=6,
        planned_sessions=6,
        dna_limit=2,
        triage_sla_days=5,
        outcome_schedule=_schedule(
            mskhq=("baseline", "exit", "followup_3m"),
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

# The story: every referral happens within the last STORY_DAYS (about nine months) before the day
# the seed runs, and historic ones end about `years` before it.
STORY_DAYS = 270
# Classes that end the story full, with a waiting list: the referrals that end holding a place in
# one of these programmes (accepted, booked, active) fill the class first, and every referral that
# ends on a waiting list waits for one of them (so the waiting list is for a full class).
FULL_CLASSES = {"eor": "Friday lunchtime circuit", "back": "Back in action (morning)"}
# How a booked session turns out for someone attending the programme (per cent).
ATTENDANCE_WEIGHTS = {"attended": 84, "dna": 9, "cancelled_patient": 7}

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
