"""The retention rule: what is kept, for how long, and what happens after.

- A referral that ended (a final state, `Referral.status_changed_at`) more than
  `PORTAL_RETENTION_YEARS` ago is pseudonymised: its free text (medication notes, history, the
  notes on its timeline, sessions and consent decisions, what its safety alerts say happened and
  was done) and external ids (UBRN, BaRS id, the leisure membership number, on it and its
  visits) are
  cleared, and the bodies of delivered notifications emptied. The coded facts the reports count
  (status, dates, programme, facility, reasons, attendance, assessment answers and scores, timeline
  states and reason codes, consent decisions)
  stay, so report figures for past periods do not change.
- A patient record is pseudonymised only when every referral on it is past retention: names,
  contact details, gender identity and interpreter language cleared; the NHS number replaced by a
  keyed hash (`nhs_number_pseudonym`, so records of one person can still be told apart and counted
  once); the postcode cut to its district; the date of birth moved to the earliest day of the birth
  year that still gives the same age on each referral date (reports band age at referral).
- Apps above governance register shorter rules for records of their own
  (`register_retention_step`): leisure clears an uploaded attendance file and its rows' values
  `PORTAL_IMPORT_RETENTION_DAYS` after the upload.
- A draft untouched for `PORTAL_DRAFT_RETENTION_MONTHS` is deleted (it was never sent, so no one
  else holds it and no report counts it), and so is a patient record left with no referral.

`retention_plan(now)` says what would be done and changes nothing; `retention_apply(plan)` does it
in batches, one transaction each, re-checking every row under a lock, so it is idempotent and a
draft edited after the plan was made is kept.
"""

import datetime
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery
from django.dispatch import Signal
from django.utils import timezone

from referrals.models import (
    FINAL_STATES,
    Alert,
    ConsentRecord,
    Notification,
    Patient,
    Referral,
    ReferralEvent,
    Session,
    Status,
    Visit,
)

from .models import PatientEvent

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from django.db.models import Model

PSEUDONYMISED_NAME = "Pseudonymised"
# What an acknowledged alert's action taken reads once its free text is past retention.
ALERT_ACTION_CLEARED = "Cleared under the retention policy"

PSEUDONYMISE_REFERRAL = "pseudonymise referral"
DELETE_DRAFT = "delete draft"
PSEUDONYMISE_PATIENT = "pseudonymise patient"
DELETE_PATIENT = "delete patient"
ACTIONS = (PSEUDONYMISE_REFERRAL, DELETE_DRAFT, PSEUDONYMISE_PATIENT, DELETE_PATIENT)

# Delivered, dead or withheld rows will not be sent again; pending ones still might be.
FINISHED_DELIVERY = (
    Notification.DeliveryStatus.SENT,
    Notification.DeliveryStatus.DEAD,
    Notification.DeliveryStatus.WITHHELD,
)


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day `years` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month + 1, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month + 1, day=min(moment.day, 28))


def _age_on(born: datetime.date, day: datetime.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def coarsened_date_of_birth(
    born: datetime.date, referral_dates: "Iterable[datetime.date]"
) -> datetime.date:
    """1 January of the birth year, moved later only as far as needed to keep the age in whole
    years on every referral date (so age bands at referral do not change)."""
    candidate = datetime.date(born.year, 1, 1)
    for day in referral_dates:
        age = _age_on(born, day)
        # The earliest birthday that is still `age` on `day`: the day after `day - (age+1) years`.
        earliest = years_before(day, age + 1) + datetime.timedelta(days=1)
        candidate = max(candidate, earliest)
    return candidate if candidate <= born else born


def nhs_number_pseudonym(nhs_number: str) -> str:
    """A keyed hash of the NHS number: the same person gives the same value, unreadable without
    the key (PORTAL_PSEUDONYM_KEY)."""
    key = settings.PORTAL_PSEUDONYM_KEY.encode()
    return hmac.new(key, nhs_number.encode(), hashlib.sha256).hexdigest()


def postcode_district(postcode: str) -> str:
    return postcode.strip().upper().split(" ")[0] if postcode else ""


# --- What the rule selects ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cutoffs:
    ended_before: datetime.datetime
    drafts_untouched_since: datetime.datetime


def cutoffs(
    now: datetime.datetime, *, years: int | None = None, draft_months: int | None = None
) -> Cutoffs:
    years = settings.PORTAL_RETENTION_YEARS if years is None else years
    months = settings.PORTAL_DRAFT_RETENTION_MONTHS if draft_months is None else draft_months
    local = timezone.localtime(now)
    try:
        ended_before = local.replace(year=local.year - years)
    except ValueError:
        ended_before = local.replace(year=local.year - years, day=28)
    return Cutoffs(ended_before=ended_before, drafts_untouched_since=months_before(local, months))


def past_retention(c: Cutoffs) -> QuerySet[Referral]:
    return Referral.objects.filter(status__in=FINAL_STATES, status_changed_at__lt=c.ended_before)


def stale_drafts(c: Cutoffs) -> QuerySet[Referral]:
    return Referral.objects.filter(status=Status.DRAFT, updated_at__lt=c.drafts_untouched_since)


def _still_kept(c: Cutoffs, patient_ref: str = "pk") -> QuerySet[Referral]:
    """A patient's referrals that are neither past retention nor a stale draft."""
    return (
        Referral.objects.filter(patient=OuterRef(patient_ref))
        .exclude(status__in=FINAL_STATES, status_changed_at__lt=c.ended_before)
        .exclude(status=Status.DRAFT, updated_at__lt=c.drafts_untouched_since)
    )


def patients_to_pseudonymise(c: Cutoffs) -> QuerySet[Patient]:
    ended = past_retention(c).filter(patient=OuterRef("pk"))
    return Patient.objects.filter(pseudonymised_at__isnull=True).filter(
        Exists(ended), ~Exists(_still_kept(c))
    )


def patients_to_delete(c: Cutoffs) -> QuerySet[Patient]:
    """Records whose only referrals are stale drafts, or with none and untouched as long."""
    ended = past_retention(c).filter(patient=OuterRef("pk"))
    drafts = stale_drafts(c).filter(patient=OuterRef("pk"))
    return Patient.objects.filter(~Exists(_still_kept(c)), ~Exists(ended)).filter(
        Exists(drafts) | Q(updated_at__lt=c.drafts_untouched_since)
    )


# --- Other apps' records ------------------------------------------------------------------------


@dataclass(frozen=True)
class RetentionStep:
    """A rule for records of an app above governance (which cannot import them, ADR 0004):
    `due(now)` selects the rows to act on (read only), `apply(ids, now)` acts on them inside the
    batch's transaction, re-checking each under a lock, and returns how many it changed. The plan
    groups them by `organisation` (the name and code field paths) and `oldest_field`."""

    action: str
    due: "Callable[[datetime.datetime], QuerySet[Any]]"
    apply: "Callable[[list[int], datetime.datetime], int]"
    organisation: tuple[str, str]
    oldest_field: str


_steps: dict[str, RetentionStep] = {}


def register_retention_step(step: RetentionStep) -> None:
    """Called from an app's `ready()`; registering the same action again replaces it."""
    _steps[step.action] = step


def _action_order(action: str) -> int:
    order = [*ACTIONS, *_steps]
    return order.index(action) if action in order else len(order)


# --- The plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    organisation: str  # "Name (code)", or "No referral" for a patient record without one
    action: str
    count: int
    # Oldest end (referrals; patients: of their latest referral) or last change (drafts).
    oldest: datetime.datetime | None


@dataclass(frozen=True)
class RetentionPlan:
    now: datetime.datetime
    cutoffs: Cutoffs
    referral_ids: tuple[int, ...]
    draft_ids: tuple[int, ...]
    patient_ids: tuple[int, ...]
    delete_patient_ids: tuple[int, ...]
    rows: tuple[PlanRow, ...]
    # Registered steps' rows: (action, ids).
    step_ids: tuple[tuple[str, tuple[int, ...]], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (
            self.referral_ids
            or self.draft_ids
            or self.patient_ids
            or self.delete_patient_ids
            or any(ids for _, ids in self.step_ids)
        )


def _rows(
    queryset: "QuerySet[Model]",
    organisation_name: F,
    organisation_code: F,
    action: str,
    oldest_field: str,
) -> list[PlanRow]:
    grouped = (
        queryset.order_by()
        .annotate(org_name=organisation_name, org_code=organisation_code)
        .values("org_name", "org_code")
        .annotate(n=Count("pk"), oldest=Min(oldest_field))
    )
    return [
        PlanRow(
            organisation=f"{g['org_name']} ({g['org_code']})" if g["org_code"] else "No referral",
            action=action,
            count=g["n"],
            oldest=g["oldest"],
        )
        for g in grouped
    ]


def retention_plan(
    now: datetime.datetime, *, years: int | None = None, draft_months: int | None = None
) -> RetentionPlan:
    """What the rule would do at `now`. Reads only."""
    c = cutoffs(now, years=years, draft_months=draft_months)
    referrals = past_retention(c).filter(pseudonymised_at__isnull=True)
    drafts = stale_drafts(c)
    patients = patients_to_pseudonymise(c)
    doomed = patients_to_delete(c)
    patient_org = (F("organisation__name"), F("organisation__code"))
    # A patient record's date is the end of its most recent referral (a draft's last change).
    last_end = Subquery(
        Referral.objects.filter(patient=OuterRef("pk"))
        .order_by("-status_changed_at")
        .values("status_changed_at")[:1]
    )
    patients = patients.annotate(last_end=last_end)
    doomed = doomed.annotate(last_end=last_end)
    by_referrer = (F("referring_organisation__name"), F("referring_organisation__code"))
    rows = [
        *_rows(referrals, *by_referrer, PSEUDONYMISE_REFERRAL, "status_changed_at"),
        *_rows(drafts, *by_referrer, DELETE_DRAFT, "updated_at"),
        *_rows(patients, *patient_org, PSEUDONYMISE_PATIENT, "last_end"),
        *_rows(doomed, *patient_org, DELETE_PATIENT, "updated_at"),
    ]
    step_ids = []
    for step in _steps.values():
        due = step.due(now)
        name, code = step.organisation
        rows += _rows(due, F(name), F(code), step.action, step.oldest_field)
        step_ids.append((step.action, tuple(due.order_by("pk").values_list("pk", flat=True))))
    rows.sort(key=lambda row: (row.organisation, _action_order(row.action)))
    return RetentionPlan(
        now=now,
        cutoffs=c,
        referral_ids=tuple(referrals.order_by("pk").values_list("pk", flat=True)),
        draft_ids=tuple(drafts.order_by("pk").values_list("pk", flat=True)),
        patient_ids=tuple(patients.order_by("pk").values_list("pk", flat=True)),
        delete_patient_ids=tuple(doomed.order_by("pk").values_list("pk", flat=True)),
        rows=tuple(rows),
        step_ids=tuple(step_ids),
    )


# --- Applying it ----------------------------------------------------------------------------------


@dataclass
class RetentionResult:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTIONS, 0))

    def as_dict(self) -> dict[str, int]:
        return dict(self.counts)


def _batches(ids: tuple[int, ...]) -> "Iterator[list[int]]":
    size = max(1, settings.PORTAL_RETENTION_BATCH)
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


# Sent inside the batch's transaction with the ids of the referrals just pseudonymised, so that
# apps above governance clear the free text they keep about a referral (leisure's contact log
# notes) in the same transaction, without governance importing them (ADR 0004's inversion).
referrals_pseudonymised = Signal()


def _pseudonymise_referrals(ids: list[int], c: Cutoffs, now: datetime.datetime) -> int:
    locked = list(
        past_retention(c)
        .select_for_update()
        .filter(pk__in=ids, pseudonymised_at__isnull=True)
        .values_list("pk", flat=True)
    )
    if not locked:
        return 0
    ReferralEvent.objects.filter(referral_id__in=locked).exclude(note="").update(note="")
    ConsentRecord.objects.filter(referral_id__in=locked).exclude(note="").update(note="")
    Session.objects.filter(referral_id__in=locked).exclude(notes="").update(notes="")
    # A membership number is an external id, like the UBRN: the visits keep their coded facts.
    Visit.objects.filter(referral_id__in=locked).exclude(membership_number="").update(
        membership_number=""
    )
    # An acknowledged alert keeps a non-empty action taken (a database rule): say it was cleared.
    Alert.objects.filter(referral_id__in=locked).update(description="", immediate_action="")
    Alert.objects.filter(referral_id__in=locked).exclude(action_taken="").update(
        action_taken=ALERT_ACTION_CLEARED
    )
    Notification.objects.filter(referral_id__in=locked, status__in=FINISHED_DELIVERY).update(
        payload={}
    )
    referrals_pseudonymised.send(sender=Referral, referral_ids=locked)
    return Referral.objects.filter(pk__in=locked).update(
        medication_notes="",
        relevant_history="",
        discharge_recommendations="",
        ubrn="",
        bars_service_request_id="",
        membership_number="",
        pseudonymised_at=now,
    )


def _delete_drafts(ids: list[int], c: Cutoffs) -> int:
    locked = list(stale_drafts(c).select_for_update().filter(pk__in=ids))
    for draft in locked:
        draft.delete()
    return len(locked)


def _pseudonymise_patients(ids: list[int], c: Cutoffs, now: datetime.datetime) -> int:
    patients = list(
        patients_to_pseudonymise(c)
        .select_for_update(of=("self",))
        .filter(pk__in=ids)
        .prefetch_related("referrals")
    )
    for patient in patients:
        dates = [r.referred_on for r in patient.referrals.all()]
        Patient.objects.filter(pk=patient.pk).update(
            nhs_number=None,
            nhs_number_pseudonym=nhs_number_pseudonym(patient.nhs_number)
            if patient.nhs_number
            else "",
            given_name="",
            family_name=PSEUDONYMISED_NAME,
            date_of_birth=coarsened_date_of_birth(patient.date_of_birth, dates),
            gender_identity="",
            postcode=postcode_district(patient.postcode),
            phone="",
            email="",
            contact_by_phone=False,
            contact_by_email=False,
            contact_by_post=False,
            interpreter_needed=False,
            interpreter_language="",
            pseudonymised_at=now,
        )
    _forget_patient_history([p.pk for p in patients], keep_latest=True)
    return len(patients)


def _forget_patient_history(patient_ids: list[int], *, keep_latest: bool) -> None:
    """The change history holds every earlier version of a record: past retention those go too.

    A pseudonymised record keeps only its latest (pseudonymised) version; a deleted one keeps
    none, not even the snapshot the delete trigger has just written.
    """
    history = PatientEvent.objects.filter(pgh_obj_id__in=patient_ids)
    if keep_latest:
        latest = (
            PatientEvent.objects.filter(pgh_obj_id=OuterRef("pgh_obj_id"))
            .order_by("-pgh_created_at", "-pgh_id")
            .values("pgh_id")[:1]
        )
        history = history.exclude(pgh_id=Subquery(latest))
    history.delete()


def _delete_patients(ids: list[int], c: Cutoffs) -> int:
    locked = list(patients_to_delete(c).select_for_update().filter(pk__in=ids))
    deleted = [patient.pk for patient in locked]  # delete() clears each instance's pk
    for patient in locked:
        Referral.objects.filter(patient=patient).delete()  # only stale drafts are left
        patient.delete()
    _forget_patient_history(deleted, keep_latest=False)
    return len(locked)


def _registered_batch(step: RetentionStep, now: datetime.datetime) -> Callable[[list[int]], int]:
    return lambda ids: step.apply(ids, now)


def retention_apply(plan: RetentionPlan) -> RetentionResult:
    """Do what the plan says, a batch per transaction; rows that no longer qualify are skipped."""
    c, now, result = plan.cutoffs, timezone.now(), RetentionResult()
    steps: list[tuple[str, tuple[int, ...], Callable[[list[int]], int]]] = [
        (
            PSEUDONYMISE_REFERRAL,
            plan.referral_ids,
            lambda ids: _pseudonymise_referrals(ids, c, now),
        ),
        (DELETE_DRAFT, plan.draft_ids, lambda ids: _delete_drafts(ids, c)),
        (PSEUDONYMISE_PATIENT, plan.patient_ids, lambda ids: _pseudonymise_patients(ids, c, now)),
        (DELETE_PATIENT, plan.delete_patient_ids, lambda ids: _delete_patients(ids, c)),
    ]
    for action, ids in plan.step_ids:
        registered = _steps.get(action)
        if registered is not None:
            steps.append((action, ids, _registered_batch(registered, now)))
    for action, ids, step in steps:
        result.counts.setdefault(action, 0)
        for batch in _batches(ids):
            with transaction.atomic():
                result.counts[action] += step(batch)
    return result
