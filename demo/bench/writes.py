"""Create-and-submit throughput: a patient, a draft and its submission, through the services the
API and the FHIR endpoint use, from one process and from four.

The referrals go from the bench's own practice (`SCALE-BENCH`) to the bench's own operator
(`SCALE-BENCH-OP`, no commissioner), so no generated worklist, report or count changes while the
benchmark runs; they are deleted before and after, so reruns do not drift. Each process has its
own database connection (forked with none open) and NHS numbers of its own.
"""

# SQL text is composed from constant fragments only; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

import datetime
import multiprocessing
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import EmailUpdates, Membership, Organisation, OrganisationKind, Role, User
from demo.data import PROGRAMMES
from demo.scale import EMAIL_DOMAIN
from facilities.models import Facility, Programme, ProgrammeClass
from referrals import services
from referrals.models import Sex

from .results import ThroughputResult, WritesResult
from .world import BENCH_OPERATOR_CODE, BENCH_PRACTICE_CODE

REFERRER_EMAIL = f"bench.referrer@{EMAIL_DOMAIN}"
# NHS numbers per process (about 100,000): more than any process makes in a run.
TEST_RANGE_START = 999_000_000
STEMS_PER_PROCESS = 110_000
NUMBERS_PER_PROCESS = 100_000


@dataclass(frozen=True)
class BenchWorld:
    practice: Organisation
    operator: Organisation
    referrer: User
    programme: Programme
    facility: Facility


def bench_world() -> BenchWorld:
    """The bench's practice, referrer, operator, facility, programme and class (idempotent).
    Status updates go to the referrer by email (each one), as most practices have them; the
    webhook is off until the outbox section turns it on."""
    spec = next(p for p in PROGRAMMES if p.key == "eor")
    with transaction.atomic():
        practice, _ = Organisation.objects.get_or_create(
            code=BENCH_PRACTICE_CODE,
            defaults={
                "kind": OrganisationKind.GP_PRACTICE,
                "name": "Bench Surgery",
                "shared_mailbox": f"bench.updates@{EMAIL_DOMAIN}",
            },
        )
        Organisation.objects.filter(pk=practice.pk).update(
            email_updates=EmailUpdates.EACH, webhook_enabled=False, webhook_url=""
        )
        operator, _ = Organisation.objects.get_or_create(
            code=BENCH_OPERATOR_CODE,
            defaults={
                "kind": OrganisationKind.LEISURE_OPERATOR,
                "name": "Bench Leisure",
                "shared_mailbox": f"bench.bookings@{EMAIL_DOMAIN}",
            },
        )
        referrer = User.objects.filter(email=REFERRER_EMAIL).first()
        if referrer is None:
            referrer = User.objects.create_user(
                REFERRER_EMAIL, None, full_name="Dr Bench Referrer",
                professional_registration="GMC 7000000",
            )  # fmt: skip
        Membership.objects.get_or_create(user=referrer, organisation=practice, role=Role.REFERRER)
        facility, _ = Facility.objects.get_or_create(
            operator=operator,
            name="Bench Leisure Centre",
            defaults={"address": "1 Bench Street", "postcode": "LS1 4AP"},
        )
        programme, _ = Programme.objects.get_or_create(
            operator=operator,
            name=spec.name,
            defaults={
                "description": spec.description,
                "conditions": list(spec.conditions),
                "min_age": spec.min_age,
                "max_age": spec.max_age,
                "exclusions": list(spec.exclusions),
                "duration_weeks": spec.duration_weeks,
                "planned_sessions": spec.planned_sessions,
                "dna_limit": spec.dna_limit,
                "triage_sla_days": spec.triage_sla_days,
                "outcome_schedule": spec.outcome_schedule,
                "self_directed_visits_count": spec.self_directed_visits_count,
            },
        )
        ProgrammeClass.objects.get_or_create(
            programme=programme,
            facility=facility,
            name="Bench circuit",
            defaults={"weekday": 0, "start_time": datetime.time(10), "capacity": 12},
        )
    return BenchWorld(practice, operator, referrer, programme, facility)


def delete_bench_referrals(world: BenchWorld) -> int:
    """Delete the bench practice's referrals, patients and all that hangs off them, and the
    change history its patients left; the generated data is not touched."""
    referrals = "SELECT id FROM referrals_referral WHERE referring_organisation_id = %(org)s"
    statements = [
        f"DELETE FROM referrals_notification WHERE referral_id IN ({referrals})",
        f"DELETE FROM referrals_alert WHERE referral_id IN ({referrals})",
        f"DELETE FROM referrals_session WHERE referral_id IN ({referrals})",
        f"DELETE FROM referrals_consentrecord WHERE referral_id IN ({referrals})",
        f"DELETE FROM referrals_referralevent WHERE referral_id IN ({referrals})",
        "DELETE FROM referrals_referral WHERE referring_organisation_id = %(org)s",
        "DELETE FROM referrals_patient WHERE organisation_id = %(org)s",
        "DELETE FROM audit_patientevent WHERE organisation_id = %(org)s",
    ]
    deleted = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, {"org": world.practice.pk})
            deleted += max(cursor.rowcount, 0)
    return deleted


def create_and_submit(world: BenchWorld, nhs_number: str, index: int) -> None:
    """What a GP system's FHIR referral message does (`fhir_server/process.py`): the patient
    record, the draft with every answer, and the submission, in one transaction."""
    with transaction.atomic():
        patient = services.patient_record_for_referral(
            by=world.referrer,
            organisation=world.practice,
            fields={
                "nhs_number": nhs_number,
                "given_name": "Bench",
                "family_name": f"Patient{index}",
                "date_of_birth": datetime.date(1950 + index % 50, 1 + index % 12, 1 + index % 28),
                "sex": (Sex.FEMALE, Sex.MALE)[index % 2],
                "postcode": "LS6 2AB",
                "phone": "0113 496 0000",
            },
        )
        referral = services.referral_create_draft(
            by=world.referrer,
            organisation=world.practice,
            patient=patient,
            reasons=[world.programme.conditions[0]],
            bp_systolic=138,
            bp_diastolic=84,
            heart_rate_medication=False,
            risk_tier="low",
            programme=world.programme,
            preferred_facility=world.facility,
            consent_referral=True,
            consent_share_outcomes=True,
            consent_research=True,
            exclusions_present=[],
        )
        services.referral_submit(referral=referral, by=world.referrer)


def _numbers(process: int) -> Iterator[str]:
    """Valid NHS numbers from the 999 test range, a stretch of its own for each process (about
    10 stems in 11 make a valid number)."""
    first = TEST_RANGE_START + process * STEMS_PER_PROCESS
    for stem in range(first, first + STEMS_PER_PROCESS):
        digits = str(stem)
        check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(digits)) % 11
        if check != 10:
            yield digits + str(0 if check == 11 else check)


def _work(process: int, world: BenchWorld, seconds: float, ready: Any, go: Any, out: Any) -> None:
    """One process: a warm-up referral, then as many as fit in `seconds` after `go`."""
    made = errors = 0
    error = ""
    elapsed = 0.0
    try:
        numbers = _numbers(process)
        create_and_submit(world, next(numbers), process * NUMBERS_PER_PROCESS)
        ready.put(process)
        go.wait()
        started = time.monotonic()
        for index, number in enumerate(numbers, start=process * NUMBERS_PER_PROCESS + 1):
            if time.monotonic() - started >= seconds:
                break
            try:
                create_and_submit(world, number, index)
                made += 1
            except Exception as failure:  # counted and reported, the run goes on
                errors += 1
                error = f"{type(failure).__name__}: {failure}"
        elapsed = time.monotonic() - started
    except Exception:
        error = traceback.format_exc(limit=3)
        ready.put(process)
    finally:
        connections.close_all()
        out.put((made, errors, elapsed, error))


def throughput(world: BenchWorld, *, processes: int, seconds: float) -> ThroughputResult:
    """Referrals created and submitted per second by `processes` processes at once."""
    context = multiprocessing.get_context("fork")
    connections.close_all()  # each child opens its own
    ready, out, go = context.Queue(), context.Queue(), context.Event()
    children = [
        context.Process(target=_work, args=(n, world, seconds, ready, go, out))
        for n in range(processes)
    ]
    for child in children:
        child.start()
    for _ in children:
        ready.get(timeout=120)
    go.set()
    results = [out.get(timeout=seconds + 120) for _ in children]
    for child in children:
        child.join(30)
    made = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    wall = max(r[2] for r in results)
    first_error = next((r[3] for r in results if r[3]), "")
    return ThroughputResult(
        processes=processes,
        referrals=made,
        seconds=wall,
        errors=errors,
        error=first_error.splitlines()[-1] if first_error and not made else "",
    )


def queries_per_referral(world: BenchWorld) -> tuple[int, int]:
    """(queries, savepoint statements) of one create-and-submit, after a first one has warmed
    the process up."""
    numbers = _numbers(9)
    create_and_submit(world, next(numbers), 9 * NUMBERS_PER_PROCESS)
    with CaptureQueriesContext(connection) as captured:
        create_and_submit(world, next(numbers), 9 * NUMBERS_PER_PROCESS + 1)
    savepoints = sum("SAVEPOINT" in query["sql"] for query in captured.captured_queries)
    return len(captured) - savepoints, savepoints


def measure_writes(
    world: BenchWorld, *, seconds: float, process_counts: tuple[int, ...] = (1, 4)
) -> WritesResult:
    delete_bench_referrals(world)
    try:
        queries, savepoints = queries_per_referral(world)
        result = WritesResult(queries_per_referral=queries, savepoints_per_referral=savepoints)
        delete_bench_referrals(world)
        for processes in process_counts:
            result.runs.append(throughput(world, processes=processes, seconds=seconds))
            delete_bench_referrals(world)
    finally:
        delete_bench_referrals(world)
    return result
