"""Who and what the benchmark measures with: the loaded tier, the heaviest realistic people in
it, and the few rows the bench adds of its own.

Generated data (`demo/scale.py`) has organisations coded `SCALE-` and people at
`@scale.example`, so everything the bench adds is named the same way and `generate_scale_data
--replace` removes it with the rest. What it adds to the generated world is people only: a
commissioner of every generated ICB (the national scope, which the generator has no one for)
and an organisation admin of the largest operator (the manage pages). Its writes go to an
organisation pair of its own (`writes.py`), never to generated referrals.
"""

# SQL text is composed from constant fragments only; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Membership, Organisation, OrganisationKind, Role, User
from demo.scale import CODE_PREFIX, EMAIL_DOMAIN, TIERS, generate_scale_data
from facilities.models import Facility, ProgrammeClass
from referrals.models import Referral

NATIONAL_EMAIL = f"national.commissioner@{EMAIL_DOMAIN}"
ADMIN_EMAIL = f"bench.admin@{EMAIL_DOMAIN}"
ICB_PREFIX = f"{CODE_PREFIX}ICB-"
OPERATOR_PREFIX = f"{CODE_PREFIX}OP-"
# The bench's own referring practice and leisure operator (`writes.py`).
BENCH_PRACTICE_CODE = f"{CODE_PREFIX}BENCH"
BENCH_OPERATOR_CODE = f"{CODE_PREFIX}BENCH-OP"
BENCH_CODES = (BENCH_PRACTICE_CODE, BENCH_OPERATOR_CODE)


class BenchError(Exception):
    """The benchmark cannot run as asked; the message says why and what to do."""


# --- The tier --------------------------------------------------------------------------------


def loaded_tier() -> str | None:
    """The tier whose generated data the database holds (told by its ICBs and operators), or
    None when it holds none."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE code LIKE %s), count(*) FILTER (WHERE code LIKE %s)"
            " FROM accounts_organisation",
            [ICB_PREFIX + "%", OPERATOR_PREFIX + "%"],
        )
        icbs, operators = cursor.fetchone()
    for name, tier in TIERS.items():
        if (tier.icbs, tier.operators) == (icbs, operators):
            return name
    if icbs or operators:
        raise BenchError(
            f"The database holds generated data of no known tier ({icbs} ICBs, {operators} "
            "operators): run `manage.py generate_scale_data --tier S --replace` (or M) first."
        )
    return None


def ensure_tier(tier: str, log: Callable[[str], None]) -> bool:
    """Reuse `tier` when it is loaded, otherwise generate it; True when it was generated now.
    Another tier already loaded is refused: replacing a million referrals is not a side effect
    a benchmark should have."""
    loaded = loaded_tier()
    if loaded == tier:
        log(f"Tier {tier} is loaded: reusing it.")
        settle_report_facts(log)
        return False
    if loaded is not None:
        raise BenchError(
            f"The database holds tier {loaded}, not {tier}: run with --tier {loaded}, or "
            f"replace it first with `manage.py generate_scale_data --tier {tier} --replace`."
        )
    log(f"Tier {tier} is not loaded: generating it (generate_scale_data --tier {tier}).")
    # Only the bench's own rows can be there without a tier; --replace removes them first.
    generate_scale_data(tier, replace=True, log=log)
    settle_report_facts(log)
    return True


def settle_report_facts(log: Callable[[str], None]) -> None:
    """VACUUM the report's fact tables, as autovacuum would have on a live system: a report
    reads them by index-only scans, which need the visibility map VACUUM keeps
    (docs/performance.md); right after a bulk load every row would be fetched from the table."""
    if connection.in_atomic_block:  # VACUUM cannot run in a transaction
        log("Report facts not vacuumed: inside a transaction.")
        return
    with connection.cursor() as cursor:
        for table in ("outcomes_reportreferral", "outcomes_reportoutcome"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    log("Report facts vacuumed (visibility map for index-only scans).")


# --- The people ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """The heaviest realistic user of each page, and what their pages are about."""

    referrer: User  # the busiest clinician
    coordinator: User  # a coordinator of the largest operator
    instructor: User  # an instructor at the facility with the largest caseload
    commissioner: User  # a commissioner of the ICB with the most referrals
    national: User  # the bench's commissioner of every generated ICB
    admin: User  # the bench's organisation admin of the largest operator
    operator: Organisation
    icb: Organisation
    referral: Referral  # the busiest clinician's referral with the longest timeline
    referral_coordinator: User  # a coordinator of that referral's operator
    coordinator_class: ProgrammeClass  # the operator's class with the most participants
    register_class: ProgrammeClass  # the instructor's busiest class ...
    register_day: datetime.date  # ... on its busiest day so far


def _one(sql: str, params: list[Any], what: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        raise BenchError(f"The generated data has no {what}: is the tier fully loaded?")
    return int(row[0])


def _member(organisation_id: int, role: str) -> User:
    user = (
        User.objects.filter(
            memberships__organisation_id=organisation_id,
            memberships__role=role,
            memberships__is_active=True,
            is_active=True,
        )
        .order_by("email")
        .first()
    )
    if user is None:
        raise BenchError(f"No active {role} in organisation {organisation_id}.")
    return user


def _bench_person(email: str, full_name: str, organisations: list[int], role: str) -> User:
    """One of the bench's people (idempotent), holding `role` in each organisation."""
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, None, full_name=full_name)
    for organisation_id in organisations:
        Membership.objects.get_or_create(
            user=user, organisation_id=organisation_id, role=role, defaults={"is_active": True}
        )
    return user


def find_cast() -> Cast:
    """Pick each page's heaviest user from the data, and make the bench's two people."""
    generated = "SELECT id FROM accounts_organisation WHERE code LIKE %s AND code NOT IN (%s, %s)"
    generated_params: list[Any] = [CODE_PREFIX + "%", *BENCH_CODES]
    referrer_id = _one(
        "SELECT referring_clinician_id FROM referrals_referral"
        f" WHERE referring_organisation_id IN ({generated}) AND referring_clinician_id IS NOT NULL"
        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        generated_params,
        "referrer",
    )
    operator_id = _one(
        "SELECT operator_id FROM referrals_referral WHERE operator_id IN"
        " (SELECT id FROM accounts_organisation WHERE code LIKE %s)"
        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        [OPERATOR_PREFIX + "%"],
        "operator with referrals",
    )
    facility_id = _one(
        "SELECT facility_id FROM referrals_referral WHERE status IN ('booked', 'active')"
        " AND facility_id IN (SELECT f.id FROM facilities_facility f"
        " JOIN accounts_organisation o ON o.id = f.operator_id WHERE o.code LIKE %s)"
        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        [OPERATOR_PREFIX + "%"],
        "facility with a caseload",
    )
    icb_id = _one(
        "SELECT pc.organisation_id FROM referrals_referral r"
        " JOIN facilities_programme_commissioners pc ON pc.programme_id = r.programme_id"
        " JOIN accounts_organisation o ON o.id = pc.organisation_id WHERE o.code LIKE %s"
        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        [ICB_PREFIX + "%"],
        "commissioned referrals",
    )
    referral_id = _one(
        "SELECT r.id FROM referrals_referral r"
        " WHERE r.referring_clinician_id = %s AND r.operator_id IS NOT NULL"
        " ORDER BY (SELECT count(*) FROM referrals_referralevent e WHERE e.referral_id = r.id)"
        " DESC, r.id LIMIT 1",
        [referrer_id],
        "submitted referral from the busiest clinician",
    )
    coordinator_class_id = _one(
        "SELECT programme_class_id FROM referrals_referral WHERE operator_id = %s"
        " AND programme_class_id IS NOT NULL"
        " AND status IN ('accepted', 'waitlisted', 'booked', 'active')"
        " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        [operator_id],
        "class with participants",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.programme_class_id, (s.scheduled_at AT TIME ZONE %s)::date"
            " FROM referrals_session s"
            " JOIN facilities_programmeclass c ON c.id = s.programme_class_id"
            " WHERE c.facility_id = %s AND s.scheduled_at < now()"
            " GROUP BY 1, 2 ORDER BY count(*) DESC, 2 DESC, 1 LIMIT 1",
            [timezone.get_current_timezone_name(), facility_id],
        )
        register = cursor.fetchone()
    if register is None:
        raise BenchError("The busiest facility has no past sessions.")
    facility = Facility.objects.get(pk=facility_id)
    instructor = (
        facility.staff.filter(
            memberships__organisation_id=facility.operator_id,
            memberships__role=Role.INSTRUCTOR,
            memberships__is_active=True,
        )
        .order_by("email")
        .first()
    )
    if instructor is None:
        raise BenchError(f"No instructor staffs facility {facility_id}.")
    icbs = list(
        Organisation.objects.filter(
            code__startswith=ICB_PREFIX, kind=OrganisationKind.COMMISSIONER
        ).values_list("id", flat=True)
    )
    with transaction.atomic():
        national = _bench_person(
            NATIONAL_EMAIL, "National Commissioner (bench)", icbs, Role.COMMISSIONER
        )
        admin = _bench_person(
            ADMIN_EMAIL, "Organisation Admin (bench)", [operator_id], Role.ORG_ADMIN
        )
    referral = Referral.objects.get(pk=referral_id)
    return Cast(
        referrer=User.objects.get(pk=referrer_id),
        coordinator=_member(operator_id, Role.COORDINATOR),
        instructor=instructor,
        commissioner=_member(icb_id, Role.COMMISSIONER),
        national=national,
        admin=admin,
        operator=Organisation.objects.get(pk=operator_id),
        icb=Organisation.objects.get(pk=icb_id),
        referral=referral,
        # A submitted referral (the query asks for one with an operator).
        referral_coordinator=_member(cast(int, referral.operator_id), Role.COORDINATOR),
        coordinator_class=ProgrammeClass.objects.get(pk=coordinator_class_id),
        register_class=ProgrammeClass.objects.get(pk=register[0]),
        register_day=register[1],
    )
