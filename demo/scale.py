"""`manage.py generate_scale_data`: a national-scale data set for performance work (issue 15).

The demo (`demo/seed.py`) plays each referral through the services, which is the point of a demo
and far too slow for a million referrals. This module writes the same kind of records straight
into the tables with COPY, in chunks, while a second thread streams the previous chunk to
PostgreSQL. What it writes is what the services would have written:

- organisations (GP practices, a few MSK services, leisure operators, ICBs), people with one
  membership each and no usable password, facilities with their instructors as staff,
  programmes (the demo's six as templates) commissioned by the operator's ICB, weekly classes;
- per referral, a patient record of the referring organisation (a valid NHS number from the 999
  test range, unique within the organisation, or none), the referral, its timeline (`create`,
  then one `ReferralEvent` per move of the state table, `referrals/workflow.py`, at increasing
  times, by the person whose job it is and for their organisation), the three consent decisions
  written at submission, the weekly class sessions written at booking (on the class's weekday
  and time, no bank holidays), each marked attended, did not attend or cancelled as it passes
  (with the timeline entry the register writes) and the future ones released by an ending, and
  baseline and exit assessments whose answers and scores come from a pool scored once by the
  instrument library (`outcomes.instruments.score`).

Dates spread over the three years before today (more referrals lately); a referral's journey is
played forward from its creation and stops at the start of today, so recent referrals are still
open and old ones have ended. Everything is drawn from `random.Random(seed)` in a fixed order, so
a seed gives the same rows (dates count back from the day it runs, like the demo's).

Generated organisations have codes starting `SCALE-` and people e-mails at `@scale.example`:
`--replace` deletes exactly those (and everything that hangs off them), never the demo's.
While loading, the transaction runs with `session_replication_role = replica` when the database
user may set it: that skips the change-history triggers (the history of generated rows stays
empty) and the foreign-key triggers (every reference written here is to a row written here or
already present: the tests check them); check constraints and unique indexes still apply.
"""

# Seeded, repeatable randomness is the point here; none of it protects anything.
# ruff: noqa: S311, S608

from __future__ import annotations

import base64
import bisect
import datetime
import io
import itertools
import json
import math
import queue
import random
import threading
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from demo.data import ETHNICITY_WEIGHTS, FAMILY_NAMES, GIVEN_NAMES, NAMES_BY_ETHNICITY, PROGRAMMES
from demo.measures import Participant, answers_for
from outcomes import instruments, report_facts
from referrals.models import REFERENCE_ALPHABET, REFERENCE_PREFIX, Sex
from referrals.working_days import is_bank_holiday

CODE_PREFIX = "SCALE-"
EMAIL_DOMAIN = "scale.example"
YEARS = 3
CHUNK_REFERRALS = 20_000
POOL_SIZE = 300  # scored answer sets per sex
TOP_OPERATOR_SHARE = 0.077  # the largest operator's share of referrals (~77k of 1M)
TOP_CLINICIAN_SHARE = 0.004235  # one clinician's share (~4,235 of 1M)


class ScaleDataError(Exception):
    """Refused: production, or generated data already present without `replace`."""


@dataclass(frozen=True)
class Tier:
    name: str
    referrals: int
    practices: int
    msk_services: int
    operators: int
    facilities: int
    icbs: int


TIERS = {
    "M": Tier("M", 1_000_000, 6_000, 60, 600, 2_700, 42),
    "S": Tier("S", 100_000, 600, 6, 60, 270, 6),
    "XS": Tier("XS", 2_000, 12, 1, 4, 10, 2),
}

# The tables filled, in the order they are loaded (and analysed).
TABLES = (
    "accounts_organisation",
    "accounts_user",
    "accounts_membership",
    "facilities_facility",
    "facilities_facility_staff",
    "facilities_programme",
    "facilities_programme_commissioners",
    "facilities_programmeclass",
    "facilities_programmeclass_instructors",
    "referrals_patient",
    "referrals_referral",
    "referrals_referralevent",
    "referrals_consentrecord",
    "referrals_session",
    "outcomes_assessment",
)

COLUMNS = {
    "accounts_organisation": "id,public_id,kind,name,code,shared_mailbox,safety_mailbox,is_active,"
    "created_at,email_updates,webhook_enabled,webhook_secret,webhook_url",
    "accounts_user": "id,password,is_superuser,email,full_name,professional_registration,"
    "is_active,is_staff,date_joined",
    "accounts_membership": "id,user_id,organisation_id,role,is_active,created_at,email_updates",
    "facilities_facility": "id,public_id,operator_id,name,address,postcode,phone,email,"
    "accessibility_notes,postcode_districts,is_active",
    "facilities_facility_staff": "id,facility_id,user_id",
    "facilities_programme": "id,public_id,operator_id,name,description,conditions,min_age,max_age,"
    "exclusions,duration_weeks,planned_sessions,dna_limit,self_directed_visits_count,"
    "triage_sla_days,contact_attempt_limit,outcome_schedule,is_active",
    "facilities_programme_commissioners": "id,programme_id,organisation_id",
    "facilities_programmeclass": "id,public_id,programme_id,facility_id,name,weekday,start_time,"
    "duration_minutes,capacity,is_active",
    "facilities_programmeclass_instructors": "id,programmeclass_id,user_id",
    "referrals_patient": "id,public_id,organisation_id,nhs_number,given_name,family_name,"
    "date_of_birth,sex,gender_identity,ethnicity,postcode,phone,email,contact_by_phone,"
    "contact_by_email,contact_by_post,do_not_contact,interpreter_needed,interpreter_language,"
    "registered_gp_ods,nhs_number_pseudonym,created_at,updated_at",
    "referrals_referral": "id,reference,patient_id,referring_organisation_id,"
    "referring_clinician_id,clinician_name,clinician_registration,referred_on,reasons,"
    "bp_systolic,bp_diastolic,bp_measured_on,heart_rate_medication,medication_notes,"
    "relevant_history,exclusions_present,safety_screened_at,safety_screened_by_id,risk_tier,"
    "priority,programme_id,preferred_facility_id,operator_id,facility_id,programme_class_id,"
    "instructor_id,consent_referral,consent_share_outcomes,consent_research,consent_recorded_at,"
    "consent_recorded_by_id,draft_step,status,status_changed_at,submitted_at,version,"
    "discharge_recommendations,membership_number,ubrn,bars_service_request_id,created_at,"
    "updated_at",
    "referrals_referralevent": "id,public_id,referral_id,kind,action,actor_id,"
    "actor_organisation_id,from_status,to_status,reason_code,note,created_at",
    "referrals_consentrecord": "id,public_id,referral_id,purpose,decision,method,note,"
    "recorded_by_id,recorded_by_organisation_id,recorded_at",
    "referrals_session": "id,public_id,referral_id,programme_class_id,kind,scheduled_at,status,"
    "logged_by_id,logged_at,notes",
    "outcomes_assessment": "id,public_id,referral_id,instrument,timepoint,answers,scores,method,"
    "recorded_by_id,administered_at,created_at",
}

N = r"\N"  # NULL in COPY's text format
T, F = "t", "f"

# Areas for postcodes: an operator serves one, its practices are there too.
AREAS = [
    "LS",
    "BD",
    "HX",
    "HD",
    "WF",
    "YO",
    "HG",
    "S",
    "DN",
    "HU",
    "M",
    "OL",
    "BL",
    "WN",
    "WA",
    "SK",
    "L",
    "CH",
    "PR",
    "BB",
    "LA",
    "CA",
    "NE",
    "SR",
    "DH",
    "DL",
    "TS",
    "B",
    "WS",
    "WV",
    "DY",
    "CV",
    "ST",
    "DE",
    "NG",
    "LE",
    "LN",
    "PE",
    "CB",
    "IP",
    "NR",
    "CO",
    "CM",
    "SS",
    "RM",
    "IG",
    "E",
    "N",
    "W",
    "SE",
    "SW",
    "NW",
    "EN",
    "HA",
    "UB",
    "TW",
    "KT",
    "CR",
    "BR",
    "DA",
    "ME",
    "CT",
    "TN",
    "BN",
    "RH",
    "GU",
    "RG",
    "OX",
    "SN",
    "BA",
    "BS",
    "GL",
    "HR",
    "WR",
    "TF",
    "SY",
    "EX",
    "PL",
    "TQ",
    "TR",
    "TA",
    "DT",
    "BH",
    "SP",
    "SO",
    "PO",
]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
FACILITY_KINDS = ("Leisure Centre", "Sports Centre", "Pool and Gym", "Fitness Centre", "Hub")
TOWNS = [
    "Northgate",
    "Southfield",
    "Eastbrook",
    "Westwood",
    "Highfield",
    "Lowmoor",
    "Brookside",
    "Millbank",
    "Oakwood",
    "Ashton",
    "Riverside",
    "Hillcrest",
    "Kingsway",
    "Queensbury",
    "Fairfield",
    "Greenhill",
    "Stonebridge",
    "Woodhouse",
    "Parkside",
    "Moorside",
    "Churchfield",
    "Bridgend",
    "Marshside",
    "Longcroft",
    "Redhill",
    "Bramley",
    "Heaton",
    "Denby",
    "Farsley",
    "Otley",
]
OPERATOR_WORDS = ("Active", "Leisure", "Fitness", "Wellbeing", "Sport", "Community Leisure")
ICB_NAMES = ("North", "South", "East", "West", "Central", "Coast", "Vale", "Moor", "Dales")
REASON_CODES = {
    "decline": (
        ("not_eligible", 35),
        ("outside_area", 15),
        ("patient_declined", 40),
        ("duplicate", 10),
    ),
    "discharge": (("patient_choice", 45), ("medical", 30), ("moved_away", 25)),
    "cancel_referrer": (("referrer_withdrew", 50), ("no_longer_appropriate", 50)),
}
NOTES = {
    "decline": "Declined after triage.",
    "request_info": "Please confirm current medication and the latest blood pressure reading.",
    "answer_info": "Medication unchanged; blood pressure rechecked at the practice.",
    "start": "First session attended",
    "complete": "Programme completed.",
    "discharge": "Discharged before the end of the programme.",
    "dna_limit": "Did not attend {limit} sessions in a row.",
    "cancel": "Cancelled.",
}
HISTORY_TEXTS = (
    "",
    "",
    "Sedentary job, keen to get more active.",
    "Hypertension controlled on amlodipine.",
    "Low mood; exercise suggested as part of the plan.",
    "Type 2 diabetes on metformin. No hypos.",
    "Knee pain on stairs, otherwise well.",
    "Mild asthma, uses salbutamol before exercise.",
)
# How a booked session turns out for someone attending (per cent), as in the demo.
ATTENDANCE = (("attended", 84), ("dna", 9), ("cancelled_patient", 7))
# Not every measure is taken: a share of each instrument's baseline and exit go unrecorded.
BASELINE_RECORDED = 0.85
EXIT_RECORDED = 0.7
# Which demo programmes an operator runs: Exercise on referral always, then some of the rest.
PROGRAMME_WEIGHTS = {"eor": 34, "cardiac": 10, "falls": 12, "back": 12, "escape": 10, "weight": 22}
MSK_PROGRAMMES = ("back", "escape")


# --- Small helpers -----------------------------------------------------------------------------


class Ids:
    """Ids for one table, from its sequence: the rows name each other before they are written."""

    def __init__(self, first: int):
        self.next = first

    def take(self) -> int:
        value = self.next
        self.next += 1
        return value


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split `total` by `weights` into whole numbers adding up to it (largest remainder)."""
    scale = total / sum(weights)
    raw = [w * scale for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (counts[i] - raw[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _zipf_exponent(n: int, top_share: float) -> float:
    """The exponent s for which weights 1/k^s give the first of n a share `top_share`."""
    if n <= 1 or top_share <= 1 / n:
        return 0.0
    low, high = 0.0, 5.0
    for _ in range(60):
        mid = (low + high) / 2
        share = 1 / sum(k**-mid for k in range(1, n + 1))
        low, high = (mid, high) if share < top_share else (low, mid)
    return (low + high) / 2


def _copy_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _array(values: Iterable[str]) -> str:
    return "{" + ",".join(values) + "}"


def _bool(value: bool | None) -> str:
    return N if value is None else (T if value else F)


class Clock:
    """Epoch seconds <-> the local wall clock (Europe/London), cached per day."""

    def __init__(self, today: datetime.date):
        self.zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self._days: dict[int, str] = {}
        self._midnight: dict[int, int] = {}
        self._working: dict[int, bool] = {}
        self.today = today.toordinal()
        self.now = self.local(self.today, 0)  # the start of today: the story's end

    def local(self, day: int, seconds: int) -> int:
        """Epoch seconds of `seconds` after local midnight on ordinal `day`."""
        midnight = self._midnight.get(day)
        if midnight is None:
            moment = datetime.datetime.combine(
                datetime.date.fromordinal(day), datetime.time(12), tzinfo=self.zone
            )
            offset = int(moment.utcoffset().total_seconds())  # type: ignore[union-attr]
            midnight = (
                int(
                    datetime.datetime.combine(
                        datetime.date.fromordinal(day), datetime.time.min, tzinfo=datetime.UTC
                    ).timestamp()
                )
                - offset
            )
            self._midnight[day] = midnight
        return midnight + seconds

    def day_of(self, moment: int) -> int:
        """The local day (ordinal) of an epoch moment (the offset is at most an hour)."""
        day = self._utc_day(moment)
        if self.local(day + 1, 0) <= moment:
            return day + 1
        if self.local(day, 0) > moment:
            return day - 1
        return day

    @staticmethod
    def _utc_day(moment: int) -> int:
        return 719163 + moment // 86400  # date(1970, 1, 1).toordinal() == 719163

    def date(self, day: int) -> str:
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = datetime.date.fromordinal(day).isoformat()
        return text

    def stamp(self, moment: int) -> str:
        """Epoch seconds as a timestamptz literal in UTC."""
        day, seconds = divmod(moment, 86400)
        hours, rest = divmod(seconds, 3600)
        return f"{self.date(719163 + day)} {hours:02d}:{rest // 60:02d}:{rest % 60:02d}+00"

    def working(self, day: int) -> bool:
        known = self._working.get(day)
        if known is None:
            date = datetime.date.fromordinal(day)
            known = self._working[day] = date.weekday() < 5 and not is_bank_holiday(date)
        return known

    def working_day_on_or_after(self, day: int) -> int:
        while not self.working(day):
            day += 1
        return day

    def add_working_days(self, day: int, count: int) -> int:
        while count > 0:
            day += 1
            if self.working(day):
                count -= 1
        return day


def _nhs_numbers(stems: int) -> list[str]:
    """The valid numbers among the first `stems` of the 999 test range, in order (about 10 in 11
    are valid; the whole range holds about 909,000)."""
    numbers = []
    weights = (10, 9, 8, 7, 6, 5, 4, 3, 2)
    for stem in range(999_000_000, 999_000_000 + min(stems, 1_000_000)):
        digits = str(stem)
        total = sum(int(d) * w for d, w in zip(digits, weights, strict=True))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            numbers.append(digits + str(check))
    return numbers


# --- Organisations and people ------------------------------------------------------------------


@dataclass
class ProgrammeRow:
    id: int
    key: str
    operator: int
    duration_weeks: int
    dna_limit: int
    min_age: int
    max_age: int | None
    conditions: tuple[str, ...]
    instruments: tuple[str, ...]  # measured at baseline and exit
    weight_programme: bool


@dataclass
class ClassRow:
    id: int
    programme: ProgrammeRow
    facility: int
    weekday: int
    start_seconds: int
    duration_minutes: int
    capacity: int
    name: str
    public_id: str
    start_time: str


@dataclass
class OperatorPlan:
    index: int
    id: int
    code: str
    icb: int
    area: str
    referrals: int
    facilities: list[int] = field(default_factory=list)
    facility_weights: list[float] = field(default_factory=list)
    instructors: dict[int, list[int]] = field(default_factory=dict)  # by facility
    coordinators: list[int] = field(default_factory=list)
    programmes: list[ProgrammeRow] = field(default_factory=list)
    classes: dict[tuple[int, int], list[ClassRow]] = field(default_factory=dict)
    referrers: list[tuple[int, bool, float]] = field(default_factory=list)  # user, msk, weight


@dataclass
class Referrer:
    id: int
    organisation: int
    ods: str
    name: str
    registration: str
    msk: bool


@dataclass
class World:
    operators: list[OperatorPlan]
    referrers: dict[int, Referrer]
    # (operator index, referrer id) per referral, in order
    assignments: list[tuple[int, int]]
    top_clinician: int
    coordinator_emails: list[str]


class Generator:
    def __init__(self, tier: Tier, seed: int, log: Callable[[str], None]):
        self.tier = tier
        self.seed = seed
        self.rng = random.Random(seed)
        self.uuid_rng = random.Random(f"{seed}-uuid")
        self.log = log
        self.counts: Counter[str] = Counter()
        self.clock = Clock(timezone.localdate())
        self.started = time.monotonic()

    def uuid(self) -> str:
        bits = self.uuid_rng.getrandbits(128)
        bits = (bits & ~(0xF000 << 64) | (0x4000 << 64)) & ~(0xC000 << 48) | (0x8000 << 48)
        return f"{bits:032x}"

    # -- Loading -------------------------------------------------------------------------------

    def run(self) -> Counter[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('is_superuser'), "
                "current_setting('session_replication_role')"
            )
            superuser, previous_role = cursor.fetchone()
            if superuser == "on":
                cursor.execute("SET LOCAL session_replication_role = replica")
            else:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self.ids = {table: Ids(self._first_id(cursor, table)) for table in TABLES}
            first_referral = self.ids["referrals_referral"].next
            self.existing_references = self._existing_references(cursor)
        self.writer = Writer(connection, self.counts)
        try:
            world = self._organisations()
            self.writer.flush()
            self.log(f"  organisations, people, facilities, programmes, classes: {self._elapsed()}")
            self._referrals(world)
        finally:
            self.writer.close()
        with connection.cursor() as cursor:
            for table in TABLES:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"GREATEST((SELECT MAX(id) FROM {table}), 1))"
                )
            if superuser == "on":
                cursor.execute(f"SET LOCAL session_replication_role = {previous_role}")
            else:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            started = time.monotonic()
            if superuser == "on":  # the report's facts triggers were off too
                report_facts.rebuild(where=f"id >= {int(first_referral)}", log=self.log)
                self.log(f"  report facts: {time.monotonic() - started:.1f} s")
            started = time.monotonic()
            for table in TABLES:
                cursor.execute(f"ANALYZE {table}")
            self.log(f"  ANALYZE: {time.monotonic() - started:.1f} s")
        self.coordinator_emails = world.coordinator_emails
        return self.counts

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.started:.1f} s"

    @staticmethod
    def _first_id(cursor: Any, table: str) -> int:
        cursor.execute(
            f"SELECT GREATEST(nextval(pg_get_serial_sequence('{table}', 'id')), "
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1)"
        )
        return int(cursor.fetchone()[0])

    @staticmethod
    def _existing_references(cursor: Any) -> set[str]:
        cursor.execute("SELECT reference FROM referrals_referral")
        return {row[0] for row in cursor.fetchall()}

    def _row(self, table: str, *values: object) -> None:
        self.writer.add(table, "\t".join(str(v) for v in values))

    # -- Organisations, people, facilities, programmes ------------------------------------------

    def _organisation(self, kind: str, code: str, name: str, mailbox: str, safety: str) -> int:
        organisation_id = self.ids["accounts_organisation"].take()
        secret = "whsec_" + base64.b64encode(self.rng.randbytes(32)).decode()
        self._row(
            "accounts_organisation", organisation_id, self.uuid(), kind, name, code, mailbox,
            safety, T, self.clock.stamp(self.setup_at), "each", F, secret, "",
        )  # fmt: skip
        return organisation_id

    def _person(
        self, email: str, name: str, registration: str, organisation: int, role: str
    ) -> int:
        user_id = self.ids["accounts_user"].take()
        joined = self.clock.stamp(self.setup_at)
        self._row("accounts_user", user_id, "!", F, email, name, registration, T, F, joined)
        self._row(
            "accounts_membership", self.ids["accounts_membership"].take(), user_id, organisation,
            role, T, joined, "",
        )  # fmt: skip
        return user_id

    def _name(self) -> tuple[str, str]:
        sex = self.rng.choice((Sex.FEMALE, Sex.MALE))
        return self.rng.choice(GIVEN_NAMES[sex]), self.rng.choice(FAMILY_NAMES)

    def _organisations(self) -> World:
        tier, rng, clock = self.tier, self.rng, self.clock
        self.setup_at = clock.local(clock.today - round(365.25 * YEARS) - 30, 9 * 3600)
        # ICBs
        icbs = []
        for index in range(tier.icbs):
            code = f"{CODE_PREFIX}ICB-{index + 1:03d}"
            name = f"NHS {ICB_NAMES[index % len(ICB_NAMES)]} {index + 1} Integrated Care Board"
            icb = self._organisation(
                "commissioner", code, name, f"icb{index + 1}@{EMAIL_DOMAIN}", ""
            )
            given, family = self._name()
            self._person(
                f"commissioner{index + 1}@{EMAIL_DOMAIN}", f"{given} {family}", "", icb,
                "commissioner",
            )  # fmt: skip
            icbs.append(icb)

        # Operators, skewed: the largest takes TOP_OPERATOR_SHARE of the referrals.
        s = _zipf_exponent(tier.operators, TOP_OPERATOR_SHARE)
        operator_weights = [k**-s for k in range(1, tier.operators + 1)]
        operator_referrals = _allocate(tier.referrals, operator_weights)
        facility_counts = [
            1 + extra for extra in _allocate(tier.facilities - tier.operators, operator_weights)
        ]
        operators: list[OperatorPlan] = []
        coordinator_emails = []
        template_keys = list(PROGRAMME_WEIGHTS)
        templates = {spec.key: spec for spec in PROGRAMMES}
        for index in range(tier.operators):
            area = AREAS[index % len(AREAS)]
            number = index + 1
            code = f"{CODE_PREFIX}OP-{number:04d}"
            words = OPERATOR_WORDS[index % len(OPERATOR_WORDS)]
            name = f"{TOWNS[index % len(TOWNS)]} {words} {number}"
            operator_id = self._organisation(
                "leisure_operator", code, name, f"bookings.op{number}@{EMAIL_DOMAIN}",
                f"safety.op{number}@{EMAIL_DOMAIN}",
            )  # fmt: skip
            plan = OperatorPlan(
                index, operator_id, code, icbs[index % len(icbs)], area, operator_referrals[index]
            )
            operators.append(plan)
            for c in range(1 + plan.referrals // 8_000):
                email = f"coordinator{c + 1}.op{number}@{EMAIL_DOMAIN}"
                given, family = self._name()
                plan.coordinators.append(
                    self._person(email, f"{given} {family}", "", operator_id, "coordinator")
                )
                coordinator_emails.append(email)
            # Facilities, each with an instructor or more (one more per ~800 referrals).
            weights = [1 / math.sqrt(k) for k in range(1, facility_counts[index] + 1)]
            per_facility = _allocate(plan.referrals, weights)
            for f_index in range(facility_counts[index]):
                facility_id = self.ids["facilities_facility"].take()
                district = f"{area}{1 + (index * 7 + f_index) % 20}"
                inward = (
                    f"{rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
                )
                postcode = f"{district} {inward}"
                town = TOWNS[(index + f_index) % len(TOWNS)]
                facility_name = (
                    f"{town} {FACILITY_KINDS[f_index % len(FACILITY_KINDS)]} {f_index + 1}"
                )
                self._row(
                    "facilities_facility", facility_id, self.uuid(), operator_id, facility_name,
                    f"{f_index + 1} High Street, {town}", postcode,
                    f"0113 496 {rng.randint(0, 9999):04d}", f"facility{facility_id}@{EMAIL_DOMAIN}",
                    "", _array([district]), T,
                )  # fmt: skip
                plan.facilities.append(facility_id)
                plan.facility_weights.append(weights[f_index])
                plan.instructors[facility_id] = []
                for i in range(1 + per_facility[f_index] // 800):
                    given, family = self._name()
                    user_id = self._person(
                        f"instructor{i + 1}.f{facility_id}@{EMAIL_DOMAIN}", f"{given} {family}",
                        f"REPs {rng.randint(100000, 999999)}", operator_id, "instructor",
                    )  # fmt: skip
                    self._row(
                        "facilities_facility_staff", self.ids["facilities_facility_staff"].take(),
                        facility_id, user_id,
                    )  # fmt: skip
                    plan.instructors[facility_id].append(user_id)
            # Programmes: Exercise on referral and some of the other five.
            extra = rng.sample(template_keys[1:], k=rng.randint(1, 4))
            for key in ["eor", *sorted(extra, key=template_keys.index)]:
                spec = templates[key]
                programme_id = self.ids["facilities_programme"].take()
                measured = tuple(
                    item["instrument"]
                    for item in spec.outcome_schedule
                    if {"baseline", "exit"} <= set(item["timepoints"])
                )
                programme = ProgrammeRow(
                    programme_id, key, operator_id, spec.duration_weeks, spec.dna_limit,
                    spec.min_age, spec.max_age, tuple(spec.conditions), measured,
                    key == "weight",
                )  # fmt: skip
                self._row(
                    "facilities_programme", programme_id, self.uuid(), operator_id, spec.name,
                    _copy_text(spec.description), _array(spec.conditions), spec.min_age,
                    N if spec.max_age is None else spec.max_age, _array(spec.exclusions),
                    spec.duration_weeks, spec.planned_sessions, spec.dna_limit,
                    _bool(spec.self_directed_visits_count), spec.triage_sla_days, 3,
                    json.dumps(spec.outcome_schedule), T,
                )  # fmt: skip
                self._row(
                    "facilities_programme_commissioners",
                    self.ids["facilities_programme_commissioners"].take(), programme_id, plan.icb,
                )  # fmt: skip
                plan.programmes.append(programme)
                for f_index, facility_id in enumerate(plan.facilities):
                    specs = spec.classes[: 2 if per_facility[f_index] > 1_500 else 1]
                    shift = (f_index + index) % len(spec.classes)
                    rotated = spec.classes[shift:] + spec.classes[:shift]
                    rows = []
                    for class_spec in rotated[: len(specs)]:
                        class_id = self.ids["facilities_programmeclass"].take()
                        start = class_spec.start
                        rows.append(
                            ClassRow(
                                class_id,
                                programme,
                                facility_id,
                                class_spec.weekday,
                                start.hour * 3600 + start.minute * 60,
                                class_spec.duration_minutes,
                                class_spec.capacity,
                                class_spec.name,
                                self.uuid(),
                                start.strftime("%H:%M:%S"),
                            )
                        )
                    plan.classes[(programme_id, facility_id)] = rows
                    for row in rows:
                        self._row(
                            "facilities_programmeclass", row.id, row.public_id, programme_id,
                            facility_id, row.name, row.weekday, row.start_time,
                            row.duration_minutes, row.capacity, T,
                        )  # fmt: skip
                        self._row(
                            "facilities_programmeclass_instructors",
                            self.ids["facilities_programmeclass_instructors"].take(), row.id,
                            plan.instructors[facility_id][0],
                        )  # fmt: skip
        # Referring organisations: partitioned among operators by their volume.
        referring = tier.practices + tier.msk_services
        practice_counts = [max(1, c) for c in _allocate(referring, operator_weights)]
        while sum(practice_counts) > referring:
            practice_counts[practice_counts.index(max(practice_counts))] -= 1
        referrers: dict[int, Referrer] = {}
        msk_left = tier.msk_services
        org_number = 0
        msk_every = max(1, referring // max(1, tier.msk_services))
        for plan in operators:
            for _ in range(practice_counts[plan.index]):
                org_number += 1
                msk = msk_left > 0 and org_number % msk_every == 0
                msk_left -= msk
                kind = "msk_service" if msk else "gp_practice"
                letter = "M" if msk else "P"
                code = f"{CODE_PREFIX}{letter}{org_number:05d}"
                ods = (
                    f"Y{org_number:05d}" if msk else f"{chr(65 + org_number % 26)}{org_number:05d}"
                )
                town = TOWNS[org_number % len(TOWNS)]
                name = f"{town} MSK Service {org_number}" if msk else f"{town} Surgery {org_number}"
                org_id = self._organisation(
                    kind, code, name, f"updates.{letter.lower()}{org_number}@{EMAIL_DOMAIN}", ""
                )
                # One to eight referrers; the first refers most.
                weight = rng.lognormvariate(0, 0.7)
                count = rng.choice((1, 2, 2, 3, 3, 4, 5, 6, 8))
                for r in range(count):
                    given, family = self._name()
                    name_text = f"Dr {given} {family}" if not msk else f"{given} {family}"
                    registration = (
                        f"GMC {rng.randint(1000000, 7999999)}"
                        if not msk
                        else f"HCPC PH{rng.randint(10000, 99999)}"
                    )
                    user_id = self._person(
                        f"referrer{r + 1}.{letter.lower()}{org_number}@{EMAIL_DOMAIN}", name_text,
                        registration, org_id, "referrer",
                    )  # fmt: skip
                    referrers[user_id] = Referrer(
                        user_id, org_id, ods, name_text, registration, msk
                    )
                    plan.referrers.append((user_id, msk, weight / (r + 1)))
        # Who refers each referral: per operator, by the referrers' weights; the top clinician
        # (the largest operator's first referrer) takes TOP_CLINICIAN_SHARE of all referrals.
        assignments: list[tuple[int, int]] = []
        top = operators[0].referrers[0][0]
        top_count = min(round(tier.referrals * TOP_CLINICIAN_SHARE), operators[0].referrals)
        for plan in operators:
            ids = [r[0] for r in plan.referrers]
            weights = [r[2] for r in plan.referrers]
            total = plan.referrals
            chosen: list[int] = []
            if plan.index == 0:
                chosen = [top] * top_count
                ids, weights = ids[1:] or ids, weights[1:] or weights
            counts = _allocate(total - len(chosen), weights)
            for user_id, count in zip(ids, counts, strict=True):
                chosen.extend([user_id] * count)
            rng.shuffle(chosen)
            assignments.extend((plan.index, user_id) for user_id in chosen)
        rng.shuffle(assignments)
        return World(operators, referrers, assignments, top, coordinator_emails)

    # -- Referrals ------------------------------------------------------------------------------

    def _pool(self) -> dict[str, list[list[tuple[str, str]]]]:
        """Per sex, POOL_SIZE participants, each {instrument: (baseline, exit)} as COPY text of
        answers and scores, scored once by the instrument library."""
        rng = random.Random(f"{self.seed}-pool")
        codes = sorted({code for spec in PROGRAMMES for code in _measured(spec.outcome_schedule)})
        pools: dict[str, list[Any]] = {}
        for sex in (Sex.FEMALE, Sex.MALE):
            pools[sex] = []
            for _ in range(POOL_SIZE):
                for weight in (False, True):
                    systolic = rng.randint(118, 168)
                    who = Participant.draw(
                        rng, age=rng.randint(25, 80), female=sex == Sex.FEMALE,
                        bp_systolic=systolic, bp_diastolic=rng.randint(70, min(98, systolic - 30)),
                        weight_programme=weight,
                    )  # fmt: skip
                    entry: dict[str, Any] = {"who": who}
                    for code in codes:
                        pair = []
                        for timepoint in ("baseline", "exit"):
                            answers = answers_for(code, timepoint, who)
                            scores = instruments.score(code, answers)
                            pair.append(
                                (
                                    _copy_text(json.dumps(answers, sort_keys=True)),
                                    _copy_text(json.dumps(scores, sort_keys=True)),
                                )
                            )
                        entry[code] = pair
                    pools[sex].append(entry)
        return pools

    def _references(self) -> Iterator[str]:
        space = len(REFERENCE_ALPHABET) ** 6
        multiplier = 387_420_489  # 3**18: coprime with 28**6, so j -> reference is one-to-one
        offset = random.Random(f"{self.seed}-references").randrange(space)
        for j in itertools.count():
            value = (multiplier * j + offset) % space
            chars = []
            for _ in range(6):
                value, digit = divmod(value, len(REFERENCE_ALPHABET))
                chars.append(REFERENCE_ALPHABET[digit])
            reference = REFERENCE_PREFIX + "".join(chars)
            if reference not in self.existing_references:
                yield reference

    def _referrals(self, world: World) -> None:
        pools = self._pool()
        self.log(f"  answer pool scored by the instrument library: {self._elapsed()}")
        # Unique within an organisation: its patients take every `step`-th number from an offset.
        nhs_numbers = _nhs_numbers(max(20_000, 2 * self.tier.referrals))
        step = 7919 if len(nhs_numbers) % 7919 else 1
        references = self._references()
        per_org: Counter[int] = Counter()
        org_offsets: dict[int, int] = {}
        holders: Counter[int] = Counter()  # places in use per class at the end
        waiting: Counter[int] = Counter()
        classes_by_id: dict[int, ClassRow] = {}
        for plan in world.operators:
            for rows in plan.classes.values():
                for row in rows:
                    classes_by_id[row.id] = row
        journey = Journey(self)
        total = len(world.assignments)
        for number, (operator_index, referrer_id) in enumerate(world.assignments, start=1):
            plan = world.operators[operator_index]
            referrer = world.referrers[referrer_id]
            org = referrer.organisation
            if org not in org_offsets:
                org_offsets[org] = self.rng.randrange(1_000_000)
            index = per_org[org]
            per_org[org] += 1
            nhs = (
                nhs_numbers[(org_offsets[org] + index * step) % len(nhs_numbers)]
                if self.rng.random() > 0.04
                else None
            )
            status, class_row = journey.play(plan, referrer, next(references), nhs, pools)
            if class_row is not None:
                if status in ("accepted", "booked", "active"):
                    holders[class_row] += 1
                elif status == "waitlisted":
                    waiting[class_row] += 1
            if number % CHUNK_REFERRALS == 0 or number == total:
                self.writer.flush()
                self.log(f"  {number:,} of {total:,} referrals: {self._elapsed()}")
        # A class's capacity fits the places in use at the end (full where people wait).
        self.writer.drain()
        changes = []
        for row in classes_by_id.values():
            taken = holders[row.id]
            capacity = taken if waiting[row.id] and taken else max(row.capacity, taken)
            if capacity != row.capacity:
                changes.append((row.id, capacity))
        with connection.cursor() as cursor:
            for start in range(0, len(changes), 5_000):
                part = changes[start : start + 5_000]
                values = ",".join(f"({class_id},{capacity})" for class_id, capacity in part)
                cursor.execute(
                    "UPDATE facilities_programmeclass c SET capacity = v.capacity FROM "
                    f"(VALUES {values}) AS v(id, capacity) WHERE c.id = v.id"
                )


def _measured(schedule: list[dict]) -> list[str]:
    return [
        item["instrument"] for item in schedule if {"baseline", "exit"} <= set(item["timepoints"])
    ]


class Journey:
    """One referral from draft to where it stands today, written as the services would have."""

    def __init__(self, gen: Generator):
        self.gen = gen
        self.rng = gen.rng
        self.clock = gen.clock
        self.days = round(365.25 * YEARS)
        self.facility_cum: dict[int, list[float]] = {}
        self.programme_cum: dict[int, tuple[list[ProgrammeRow], list[float]]] = {}

    # Timestamps in working hours on a working day.
    def _office(self, day: int, early: int = 8 * 3600, late: int = 17 * 3600) -> int:
        day = self.clock.working_day_on_or_after(day)
        return self.clock.local(day, self.rng.randint(early, late))

    def _facility(self, plan: OperatorPlan) -> int:
        cum = self.facility_cum.get(plan.index)
        if cum is None:
            cum = self.facility_cum[plan.index] = list(itertools.accumulate(plan.facility_weights))
        return plan.facilities[bisect.bisect(cum, self.rng.random() * cum[-1])]

    def _programme(self, plan: OperatorPlan, msk: bool) -> ProgrammeRow:
        if msk:
            fitting = [p for p in plan.programmes if p.key in MSK_PROGRAMMES]
            if fitting:
                return self.rng.choice(fitting)
        known = self.programme_cum.get(plan.index)
        if known is None:
            weights = [PROGRAMME_WEIGHTS[p.key] for p in plan.programmes]
            known = self.programme_cum[plan.index] = (
                plan.programmes,
                list(itertools.accumulate(weights)),
            )
        programmes, cum = known
        return programmes[bisect.bisect(cum, self.rng.random() * cum[-1])]

    def play(
        self,
        plan: OperatorPlan,
        referrer: Referrer,
        reference: str,
        nhs: str | None,
        pools: dict[str, list[Any]],
    ) -> tuple[str, int | None]:
        gen, rng, clock = self.gen, self.rng, self.clock
        now = clock.now
        ids = gen.ids
        referral_id = ids["referrals_referral"].take()
        patient_id = ids["referrals_patient"].take()
        clinician = referrer.id
        practice = referrer.organisation
        operator = plan.id
        coordinator = rng.choice(plan.coordinators)
        programme = self._programme(plan, referrer.msk)
        facility = self._facility(plan)
        class_row = rng.choice(plan.classes[(programme.id, facility)])
        instructor = rng.choice(plan.instructors[facility])

        # Created during working hours, more lately than long ago.
        age_days = int(self.days * (1 - rng.random() ** 0.8)) + 1
        created = self._office(clock.today - age_days)
        if created >= now:
            created = self._office(clock.today - age_days - 3)
            while created >= now:
                created -= 86400
        events: list[tuple] = []  # (time, kind, action, actor, org, from, to, reason, note)
        events.append((created, "note", "create", clinician, practice, "", "draft", "", ""))
        status = "draft"
        state: dict[str, Any] = {"status": "draft", "version": 1, "changed": created}

        def move(at: int, action: str, target: str | None, actor: int, org: int, reason: str = "",
                 note: str = "") -> None:  # fmt: skip
            if target is None:  # a session's mark: on the timeline, no move of state
                events.append((at, "session", action, actor, org, "", "", "", note))
                return
            events.append(
                (at, "transition", action, actor, org, state["status"], target, reason, note)
            )
            state["status"] = target
            state["version"] += 1
            state["changed"] = at

        # Patient and what the referrer says.
        sex = rng.choice((Sex.FEMALE, Sex.MALE)) if rng.random() > 0.01 else Sex.NOT_KNOWN
        pool_sex = Sex.MALE if sex == Sex.MALE else Sex.FEMALE
        entry = pools[pool_sex][
            rng.randrange(len(pools[pool_sex])) & ~1 | programme.weight_programme
        ]
        who: Participant = entry["who"]
        ethnicity = _weighted(rng, ETHNICITY_TUPLE)
        given, family = self._patient_name(sex, ethnicity)
        created_day = clock.day_of(created)
        top_age = min(programme.max_age or 90, 90)
        age = rng.randint(max(programme.min_age, 18), top_age)
        birth_day = created_day - age * 365 - rng.randint(30, 330)
        consent_share = rng.random() < 0.92
        consent_research = rng.random() < 0.88
        consented_at = created + rng.randint(60, 600)
        screened_at = consented_at + rng.randint(30, 300)
        reasons = rng.sample(
            programme.conditions, k=min(len(programme.conditions), rng.choice((1, 1, 2)))
        )
        postcode = (
            f"{plan.area}{rng.randint(1, 20)} {rng.randint(1, 9)}"
            f"{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
        )
        is_draft = age_days < 150 and rng.random() < 0.03
        submitted = None
        session_rows: list[tuple] = []  # (scheduled, status, logged_by, logged_at)
        assessments: list[tuple] = []  # (instrument, timepoint, at, by)
        membership_number = ""
        recommendations = ""

        if not is_draft:
            submitted = screened_at + rng.randint(60, 1800)
            if submitted >= now:
                is_draft = True
                submitted = None
        if not is_draft and submitted is not None:
            status = self._journey(
                move, submitted, clinician, practice, coordinator, operator, instructor,
                programme, class_row, session_rows, assessments,
            )  # fmt: skip
            membership_number = (
                f"M{plan.index + 1:03d}-{referral_id % 10_000_000:07d}"
                if status not in ("submitted", "info_requested", "declined", "cancelled")
                and rng.random() < 0.7
                else ""
            )
            if status in ("completed", "discharged"):
                recommendations = "Keep up two sessions a week at the centre or at home."
        placed = status not in ("draft", "submitted", "info_requested", "declined") and any(
            e[2] == "accept" for e in events
        )

        # -- Rows --
        stamp, date = clock.stamp, clock.date
        gen._row(
            "referrals_patient", patient_id, gen.uuid(), practice, nhs or N, given, family,
            date(birth_day), sex, "", ethnicity, postcode, f"07700 900{rng.randint(0, 999):03d}",
            "", T, F, _bool(rng.random() < 0.2), F, F, "", referrer.ods, "", stamp(created),
            stamp(created),
        )  # fmt: skip
        referred_on = date(clock.day_of(submitted)) if submitted else date(created_day)
        bp_day = created_day - rng.randint(0, 60)
        changed = state["changed"]
        gen._row(
            "referrals_referral", referral_id, reference, patient_id, practice, clinician,
            referrer.name, referrer.registration, referred_on, _array(reasons), who.bp_systolic,
            who.bp_diastolic, date(bp_day), _bool(rng.random() < 0.15), "",
            rng.choice(HISTORY_TEXTS), "{}", stamp(screened_at), clinician,
            rng.choices(("low", "medium", "high"), weights=(55, 35, 10))[0],
            "urgent" if rng.random() < 0.05 else "routine", programme.id, N,
            N if status == "draft" else operator, facility if placed else N,
            class_row.id if placed else N, instructor if placed else N,
            T, _bool(consent_share), _bool(consent_research), stamp(consented_at), clinician,
            "check" if status == "draft" else "", status, stamp(changed),
            stamp(submitted) if submitted else N, state["version"], recommendations,
            membership_number, "", "", stamp(created), stamp(changed),
        )  # fmt: skip
        if submitted:
            for purpose, given_consent in (
                ("referral", True),
                ("share_progress", consent_share),
                ("evaluation", consent_research),
            ):
                gen._row(
                    "referrals_consentrecord", ids["referrals_consentrecord"].take(), gen.uuid(),
                    referral_id, purpose, "given" if given_consent else "not_given",
                    "with_referral", "", clinician, practice, stamp(consented_at),
                )  # fmt: skip
        for scheduled, mark, logged_by, logged_at in session_rows:
            gen._row(
                "referrals_session", ids["referrals_session"].take(), gen.uuid(), referral_id,
                class_row.id, "class", stamp(scheduled), mark, logged_by or N,
                stamp(logged_at) if logged_at else N, "",
            )  # fmt: skip
        for code, timepoint, at, by in assessments:
            if code not in programme.instruments:
                continue
            answers, scores = entry[code][0 if timepoint == "baseline" else 1]
            gen._row(
                "outcomes_assessment", ids["outcomes_assessment"].take(), gen.uuid(), referral_id,
                code, timepoint, answers, scores, "instructor", by, stamp(at), stamp(at),
            )  # fmt: skip
        events.sort(key=lambda e: e[0])
        for at, kind, action, actor, org, source, target, reason, note in events:
            gen._row(
                "referrals_referralevent", ids["referrals_referralevent"].take(), gen.uuid(),
                referral_id, kind, action, actor, org, source, target, reason, note, stamp(at),
            )  # fmt: skip
        return status, class_row.id if placed else None

    def _patient_name(self, sex: str, ethnicity: str) -> tuple[str, str]:
        rng = self.rng
        names = NAMES_BY_CATEGORY.get(ethnicity)
        female = sex == Sex.FEMALE or (sex != Sex.MALE and rng.random() < 0.5)
        if names is not None:
            given = rng.choice(names[0] if female else names[1])
            return given, rng.choice(names[2])
        return rng.choice(GIVEN_NAMES[Sex.FEMALE if female else Sex.MALE]), rng.choice(FAMILY_NAMES)

    def _journey(
        self, move: Callable[..., None], submitted: int, clinician: int, practice: int,
        coordinator: int, operator: int, instructor: int, programme: ProgrammeRow,
        class_row: ClassRow, sessions: list[tuple], assessments: list[tuple],
    ) -> str:  # fmt: skip
        """Play the moves after the draft; return the status reached before today."""
        rng, clock, now = self.rng, self.clock, self.clock.now
        move(submitted, "submit", "submitted", clinician, practice)
        day = clock.day_of(submitted)

        # Triage, with perhaps one request for information.
        at = self._office(clock.add_working_days(day, rng.choice((0, 1, 1, 2, 2, 3, 4, 5, 7, 10))))
        if at <= submitted:
            at = submitted + rng.randint(600, 7200)
        if at >= now:
            return "submitted"
        roll = rng.random()
        if roll < 0.07:
            move(
                at,
                "request_info",
                "info_requested",
                coordinator,
                operator,
                note=NOTES["request_info"],
            )
            answer = self._office(clock.add_working_days(clock.day_of(at), rng.randint(1, 6)))
            if answer >= now:
                return "info_requested"
            move(answer, "answer_info", "submitted", clinician, practice, note=NOTES["answer_info"])
            at = self._office(clock.add_working_days(clock.day_of(answer), rng.randint(1, 3)))
            if at >= now:
                return "submitted"
            roll = rng.random() * 0.93 + 0.07
        if roll < 0.16:
            reason = _weighted(rng, REASON_CODES["decline"])
            move(at, "decline", "declined", coordinator, operator, reason, NOTES["decline"])
            return "declined"
        if roll < 0.20:
            reason = _weighted(rng, REASON_CODES["cancel_referrer"])
            move(at, "cancel", "cancelled", clinician, practice, reason, NOTES["cancel"])
            return "cancelled"
        move(at, "accept", "accepted", coordinator, operator)

        # Waiting list, then booking (or an ending before it).
        if rng.random() < 0.12:
            at += rng.randint(1, 5)
            note = f"{class_row.name} is full: number {rng.randint(1, 6)} on its waiting list."
            move(at, "waitlist", "waitlisted", coordinator, operator, note=note)
            at = self._office(clock.add_working_days(clock.day_of(at), rng.randint(5, 30)))
            if at >= now:
                return "waitlisted"
        else:
            at = self._office(clock.add_working_days(clock.day_of(at), rng.randint(1, 6)))
            if at >= now:
                return "accepted"
        roll = rng.random()
        if roll < 0.05:
            move(
                at,
                "cancel",
                "cancelled",
                coordinator,
                operator,
                "patient_withdrew",
                NOTES["cancel"],
            )
            return "cancelled"
        if roll < 0.075:
            move(at, "discharge", "discharged", coordinator, operator, "patient_choice",
                 NOTES["discharge"])  # fmt: skip
            return "discharged"
        booked_at = at
        move(booked_at, "book", "booked", coordinator, operator)

        # The weekly sessions from the first class after booking, bank holidays left out.
        first_day = clock.day_of(booked_at) + 1 + rng.choice((0, 0, 3, 7, 10))
        offset = (class_row.weekday - datetime.date.fromordinal(first_day).weekday()) % 7
        start_day = first_day + offset
        slots = []
        for week in range(programme.duration_weeks):
            slot_day = start_day + 7 * week
            if not is_bank_holiday(datetime.date.fromordinal(slot_day)):
                slots.append(clock.local(slot_day, class_row.start_seconds))
        length = class_row.duration_minutes * 60

        # How this participant turns out: never comes, stops part way, or completes.
        fate = rng.random()
        never = fate < 0.07
        stops_after = rng.randint(1, max(1, len(slots) - 1)) if fate > 0.78 else None
        marks: list[list[Any]] = [[t, "booked", None, None] for t in slots]
        started = False
        streak = 0
        ended: tuple[int, str] | None = None
        status = "booked"
        attended_count = 0
        last_attended = None
        for index, mark in enumerate(marks):
            scheduled = mark[0]
            if never:
                outcome = "dna" if rng.random() < 0.8 else "cancelled_patient"
            else:
                outcome = _weighted(rng, ATTENDANCE)
                if not started and index == 0 and outcome == "cancelled_patient":
                    outcome = "attended" if rng.random() < 0.5 else outcome
            if outcome == "cancelled_patient":
                logged = max(booked_at + 60, scheduled - rng.randint(3600, 2 * 86400))
            else:
                logged = scheduled + length + rng.randint(300, 3 * 3600)
            if logged >= now or scheduled >= now:
                break
            mark[1], mark[2], mark[3] = outcome, instructor, logged
            if outcome == "attended":
                streak = 0
                attended_count += 1
                last_attended = (scheduled, logged)
                if not started:
                    started = True
                    move(logged, "start", "active", instructor, operator, note=NOTES["start"])
                    status = "active"
                    for code in programme.instruments:
                        if rng.random() < BASELINE_RECORDED:
                            assessments.append((code, "baseline", logged + 60, instructor))
                else:
                    self._session_event(move, logged, "attended", scheduled, instructor, operator)
            elif outcome == "dna":
                streak += 1
                self._session_event(move, logged, "dna", scheduled, instructor, operator)
            else:
                self._session_event(
                    move, logged, "cancelled_patient", scheduled, instructor, operator
                )
            if streak >= programme.dna_limit:
                end_at = self._office(clock.add_working_days(clock.day_of(logged), 1))
                if end_at < now:
                    note = NOTES["dna_limit"].format(limit=programme.dna_limit)
                    move(
                        end_at, "discharge", "discharged", coordinator, operator, "dna_limit", note
                    )
                    ended = (end_at, "cancelled_provider")
                break
            if started and stops_after is not None and attended_count >= stops_after:
                end_at = logged + rng.randint(3600, 4 * 86400)
                if end_at < now:
                    reason = _weighted(rng, REASON_CODES["discharge"])
                    if rng.random() < 0.3 and last_attended is not None:
                        for code in programme.instruments:
                            if rng.random() < EXIT_RECORDED:
                                exit_at = last_attended[1] + 120
                                assessments.append((code, "exit", exit_at, instructor))
                    move(end_at, "discharge", "discharged", coordinator, operator, reason,
                         NOTES["discharge"])  # fmt: skip
                    ended = (end_at, "cancelled_provider")
                break
        else:
            # Every session has happened: complete after the last one.
            if started and last_attended is not None:
                end_at = marks[-1][3] + rng.randint(3600, 5 * 86400)
                if end_at < now:
                    for code in programme.instruments:
                        if rng.random() < EXIT_RECORDED:
                            assessments.append((code, "exit", last_attended[1] + 120, instructor))
                    move(
                        end_at,
                        "complete",
                        "completed",
                        instructor,
                        operator,
                        note=NOTES["complete"],
                    )
                    ended = (end_at, "")
            elif not started:
                end_at = self._office(clock.add_working_days(clock.day_of(marks[-1][3] or now), 1))
                if marks and marks[-1][3] and end_at < now:
                    move(end_at, "discharge", "discharged", coordinator, operator, "dna_limit",
                         NOTES["dna_limit"].format(limit=programme.dna_limit))  # fmt: skip
                    ended = (end_at, "cancelled_provider")
        if ended is not None:
            end_at, released = ended
            status = "completed" if released == "" else "discharged"
            for mark in marks:
                if mark[1] == "booked" and mark[0] >= end_at:
                    # An ending releases the sessions still booked (all in its future).
                    mark[1], mark[2], mark[3] = (
                        released or "cancelled_provider",
                        coordinator,
                        end_at,
                    )
        elif started:
            status = "active"
        sessions.extend(tuple(mark) for mark in marks)
        return status

    def _session_event(
        self, move: Callable[..., None], at: int, mark: str, scheduled: int, by: int, org: int
    ) -> None:
        """The register's timeline entry for a session's first mark (not a move of state)."""
        on = datetime.datetime.fromtimestamp(scheduled, self.clock.zone).strftime("%d %B %Y")
        action, note = SESSION_MARKS[mark]
        move(at, action, None, by, org, note=note.format(on=on))


SESSION_MARKS = {
    "attended": ("attended", "Attended on {on}"),
    "dna": ("dna", "Did not attend on {on}"),
    "cancelled_patient": ("session_cancelled", "Cancelled by the patient: {on}"),
}
NAMES_BY_CATEGORY = {str(category): names for category, names in NAMES_BY_ETHNICITY.items()}
ETHNICITY_TUPLE = tuple((str(k), v) for k, v in ETHNICITY_WEIGHTS.items())


# --- Writing ----------------------------------------------------------------------------------


class Writer:
    """Buffers rows per table and COPYs each flushed chunk from a second thread, so PostgreSQL
    ingests one chunk while Python makes the next. Tables are copied in `TABLES` order."""

    def __init__(self, conn: Any, counts: Counter[str]):
        self.raw = conn.connection
        self.counts = counts
        self.buffers: dict[str, list[str]] = {table: [] for table in TABLES}
        self.queue: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def add(self, table: str, line: str) -> None:
        self.buffers[table].append(line)

    def drain(self) -> None:
        """Wait until every queued chunk is in: then the connection is the caller's again."""
        self.flush()
        self.queue.join()
        if self.error is not None:
            raise self.error

    def flush(self) -> None:
        if self.error is not None:
            raise self.error
        for table in TABLES:
            lines = self.buffers[table]
            if lines:
                self.counts[table] += len(lines)
                self.queue.put((table, "\n".join(lines) + "\n"))
                self.buffers[table] = []

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _work(self) -> None:
        cursor = self.raw.cursor()
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                if self.error is None:
                    table, data = item
                    sql = f"COPY {table} ({COLUMNS[table]}) FROM STDIN"
                    cursor.copy_expert(sql, io.StringIO(data))
            except BaseException as error:  # handed to the main thread
                self.error = error
            finally:
                self.queue.task_done()


# --- Entry points -------------------------------------------------------------------------------


@dataclass
class ScaleReport:
    counts: Counter[str]
    seconds: float
    coordinator_emails: list[str]
    deleted: int = 0


def generated_exists() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM accounts_organisation WHERE code LIKE %s)",
            [CODE_PREFIX + "%"],
        )
        return bool(cursor.fetchone()[0])


def _superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser')")
        return cursor.fetchone()[0] == "on"


def delete_generated(log: Callable[[str], None] = lambda message: None) -> int:
    """Delete every generated row (organisations coded SCALE-, people @scale.example) and all
    that hangs off them, inside the caller's transaction."""
    organisations = "SELECT id FROM accounts_organisation WHERE code LIKE 'SCALE-%%'"
    users = f"SELECT id FROM accounts_user WHERE email LIKE '%%@{EMAIL_DOMAIN}'"
    referrals = (
        f"SELECT id FROM referrals_referral WHERE referring_organisation_id IN ({organisations})"
        f" OR operator_id IN ({organisations})"
    )
    statements = [
        "SET LOCAL audit.allow_purge = 'on'",
        # The report's facts go first, by hand: with the triggers that keep them current off
        # (when allowed), the deletes below do not recompute a million referrals' facts.
        *(["SET LOCAL session_replication_role = replica"] if _superuser() else []),
        f"DELETE FROM outcomes_reportoutcome WHERE referral_id IN ({referrals})",
        f"DELETE FROM outcomes_reportreferral WHERE referral_id IN ({referrals})",
        f"DELETE FROM referrals_notification WHERE referral_id IN ({referrals})"
        f" OR recipient_organisation_id IN ({organisations})",
        f"DELETE FROM referrals_alert WHERE referral_id IN ({referrals})",
        f"DELETE FROM referrals_visit WHERE referral_id IN ({referrals})"
        f" OR operator_id IN ({organisations})",
        f"DELETE FROM leisure_contactattempt WHERE referral_id IN ({referrals})",
        f"DELETE FROM outcomes_assessment WHERE referral_id IN ({referrals})",
        f"DELETE FROM referrals_session WHERE referral_id IN ({referrals})",
        f"DELETE FROM referrals_consentrecord WHERE referral_id IN ({referrals})",
        f"DELETE FROM referrals_referralevent WHERE referral_id IN ({referrals})",
        f"DELETE FROM audit_accessrecord WHERE user_id IN ({users})"
        f" OR organisation_id IN ({organisations})",
        f"DELETE FROM referrals_referral WHERE id IN ({referrals})",
        f"DELETE FROM referrals_patient WHERE organisation_id IN ({organisations})",
        "DELETE FROM facilities_programmeclass_instructors WHERE programmeclass_id IN (SELECT c.id"
        " FROM facilities_programmeclass c JOIN facilities_programme p ON p.id = c.programme_id"
        f" WHERE p.operator_id IN ({organisations}))",
        "DELETE FROM facilities_programmeclass WHERE programme_id IN (SELECT id FROM"
        f" facilities_programme WHERE operator_id IN ({organisations}))",
        "DELETE FROM facilities_programme_commissioners WHERE programme_id IN (SELECT id FROM"
        f" facilities_programme WHERE operator_id IN ({organisations}))"
        f" OR organisation_id IN ({organisations})",
        f"DELETE FROM facilities_programme WHERE operator_id IN ({organisations})",
        f"DELETE FROM facilities_facility_staff WHERE user_id IN ({users}) OR facility_id IN"
        f" (SELECT id FROM facilities_facility WHERE operator_id IN ({organisations}))",
        f"DELETE FROM facilities_facility WHERE operator_id IN ({organisations})",
        f"DELETE FROM accounts_membership WHERE user_id IN ({users})"
        f" OR organisation_id IN ({organisations})",
    ]
    deleted = 0
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
            deleted += max(cursor.rowcount, 0)
        if _superuser():
            cursor.execute("SET LOCAL session_replication_role = origin")
    # People and organisations through the ORM: it follows whatever else refers to them.
    from accounts.models import Organisation, User

    deleted += User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").delete()[0]
    deleted += Organisation.objects.filter(code__startswith=CODE_PREFIX).delete()[0]
    log(f"  deleted {deleted:,} previously generated rows")
    return deleted


def generate_scale_data(
    tier: str,
    *,
    seed: int = 15,
    replace: bool = False,
    log: Callable[[str], None] = lambda message: None,
) -> ScaleReport:
    if getattr(settings, "PRODUCTION", False):
        raise ScaleDataError("Refusing to generate scale data in production.")
    if tier not in TIERS:
        raise ScaleDataError(f"Unknown tier {tier!r}: choose one of {', '.join(TIERS)}.")
    started = time.monotonic()
    deleted = 0
    with transaction.atomic():
        if generated_exists():
            if not replace:
                raise ScaleDataError(
                    "The database already holds generated data (organisations coded SCALE-): "
                    "pass --replace to delete it and generate again."
                )
            deleted = delete_generated(log)
        generator = Generator(TIERS[tier], seed, log)
        counts = generator.run()
    return ScaleReport(counts, time.monotonic() - started, generator.coordinator_emails, deleted)
