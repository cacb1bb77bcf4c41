"""Every write that matters to a referral: one function per business action, actor named.

Each state change runs in one transaction that locks the referral row, checks the actor's
permission for this referral, the referral's version (optimistic locking: a stale copy loses) and
the state table, then writes the new state, its ReferralEvent and its outbox rows together. A
refused change raises before anything is written.
"""

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Organisation, Role
from accounts.permissions import (
    Permission,
)
from accounts.validation import check_field_value
from clinical.conditions import bp_is_excluded, exclusions_with_bp
from clinical.reasons import CancelReason, DeclineReason, DischargeReason
from facilities.models import Facility, ProgrammeClass

from .consent import record_consent_at_submission
from .eligibility import eligibility_problems, safety_screen_to_answer_again
from .events import event_recorded
from .model_checks import check_in_python, explain_refusal, save_checked
from .models import (
    FINAL_STATES,
    Notification,
    Patient,
    Referral,
    ReferralEvent,
    Session,
    Status,
    normalise_membership_number,
)
from .places import holding_places, waitlist_queue_length
from .selectors import unread_updates_for
from .transitions import (
    acting_organisation,
    copy_state,
    refuse_unless,
    release_future_sessions,
    transition,
)
from .visits import visits_attach_unmatched
from .workflow import ReferralChanged, WorkflowError
from .working_days import is_bank_holiday

if TYPE_CHECKING:
    from django.db.models import TextChoices

    from accounts.models import User
    from facilities.models import Programme

# How far ahead a first session may be booked: further is a typing slip, not a plan.
BOOKING_HORIZON = datetime.timedelta(days=366)

# Fields a draft may be created or edited with; state, consent times and routing are not among them.
DRAFT_FIELDS = frozenset(
    {
        "reasons",
        "bp_systolic",
        "bp_diastolic",
        "bp_measured_on",
        "heart_rate_medication",
        "medication_notes",
        "relevant_history",
        "exclusions_present",
        "risk_tier",
        "priority",
        "programme",
        "preferred_facility",
        "consent_referral",
        "consent_share_outcomes",
        "consent_research",
        "ubrn",
        "draft_step",
    }
)


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _require_reason(reason: str, choices: "type[TextChoices]", note: str) -> None:
    if reason not in choices.values:
        raise ValidationError({"reason": "Choose a reason from the list"})
    if reason == "other" and not (note or "").strip():
        raise ValidationError({"note": "Say why, as the reason is 'Other'"})


# --- Patients and drafts -----------------------------------------------------------------------


def patient_create(*, by: "User", organisation: Organisation, **fields: Any) -> Patient:
    """Record a new patient of `organisation`; validated like any form input."""
    refuse_unless(by, Permission.REFERRAL_CREATE, organisation)
    patient = Patient(organisation=organisation, **fields)
    save_checked(patient)
    return patient


def _refuse_other_organisations_patient(patient: Patient, organisation: Organisation) -> None:
    if patient.organisation_id != organisation.pk:
        raise PermissionDenied("This patient record belongs to another organisation.")


def patient_record_for_referral(
    *,
    by: "User",
    organisation: Organisation,
    fields: dict[str, Any],
    patient: Patient | None = None,
) -> Patient:
    """`organisation`'s record of the patient a referral is about, created or brought up to date.

    The referrer has the patient in front of them (and the GP record), so their answers become
    the current details of their own record. An NHS number already on their organisation's file
    means the same person: that record is updated rather than a duplicate made. Another
    organisation's record of the same person is never read or changed here: each organisation's
    referrals show the details that organisation gave.
    """
    refuse_unless(by, Permission.REFERRAL_CREATE, organisation)
    nhs_number = fields.get("nhs_number")
    if patient is None and nhs_number:
        patient = Patient.objects.filter(organisation=organisation, nhs_number=nhs_number).first()
    if patient is None:
        return patient_create(by=by, organisation=organisation, **fields)
    _refuse_other_organisations_patient(patient, organisation)
    locked: Patient | None = None
    try:
        with transaction.atomic():
            locked = Patient.objects.select_for_update().get(pk=patient.pk)
            for name, value in fields.items():
                setattr(locked, name, value)
            check_in_python(locked, changed=fields)
            locked.save()
    except IntegrityError:
        if locked is not None:  # the database refused the update: say why, as full_clean would
            explain_refusal(locked)
        raise
    return locked


def _keep_safety_screen_true_to_bp(
    referral: Referral, *, by: "User", answered: bool, bp_was_excluded: bool
) -> None:
    """Record the safety screen (when `answered` now) and keep it true to the draft's BP.

    At 180/100 or more the BP exclusion applies whatever was ticked, so an answered screen gets
    it here. When the BP falls below the limit, the answer was given about another reading: it
    is set aside (no answer time or person; the ticks are kept for the referrer to review, never
    unticked for them), so the referral cannot be sent until the screen is answered again.
    """
    if answered:
        referral.safety_screened_at = timezone.now()
        referral.safety_screened_by = by
    if referral.safety_screened_at is None:
        return
    systolic, diastolic = referral.bp_systolic, referral.bp_diastolic
    if bp_is_excluded(systolic, diastolic):
        referral.exclusions_present = exclusions_with_bp(
            referral.exclusions_present, systolic, diastolic
        )
    elif bp_was_excluded and not answered:
        referral.safety_screened_at = None
        referral.safety_screened_by = None


def referral_create_draft(
    *,
    by: "User",
    organisation: Organisation,
    patient: Patient,
    clinician_name: str = "",
    clinician_registration: str = "",
    **fields: Any,
) -> Referral:
    """Start a referral as a draft. The clinician is the user making it, or the one a clinical
    system names when it refers on their behalf (`clinician_name`, `clinician_registration`)."""
    refuse_unless(by, Permission.REFERRAL_CREATE, organisation)
    _refuse_other_organisations_patient(patient, organisation)
    unknown = set(fields) - DRAFT_FIELDS
    if unknown:
        raise ValueError(f"Not draft fields: {', '.join(sorted(unknown))}")
    referral = Referral(
        patient=patient,
        referring_organisation=organisation,
        referring_clinician=by,
        clinician_name=clinician_name or by.get_full_name(),
        clinician_registration=(
            clinician_registration if clinician_name else by.professional_registration
        ),
        **fields,
    )
    if referral.consent_referral:
        referral.consent_recorded_at = timezone.now()
        referral.consent_recorded_by = by
    _keep_safety_screen_true_to_bp(
        referral, by=by, answered="exclusions_present" in fields, bp_was_excluded=False
    )
    check_in_python(referral, exclude=["reference"])
    for _attempt in range(5):
        try:
            with transaction.atomic():
                referral.save()
                ReferralEvent.objects.create(
                    referral=referral,
                    kind=ReferralEvent.Kind.NOTE,
                    action="create",
                    actor=by,
                    actor_organisation=organisation,
                    to_status=Status.DRAFT,
                )
            return referral
        except IntegrityError:
            referral.pk = None
            # A rule of the referral's, checked by the database: say which, as full_clean would.
            explain_refusal(referral, exclude=["reference"])
            # Otherwise a reference collision (about 1 in 480 million per pair): draw another.
            referral.reference = Referral._meta.get_field("reference").get_default()
    raise WorkflowError("Could not allocate a referral reference; try again.")


def referral_update_draft(*, referral: Referral, by: "User", **fields: Any) -> Referral:
    """Change a draft's answers; the safety screen is kept true to the BP they leave."""
    unknown = set(fields) - DRAFT_FIELDS
    if unknown:
        raise ValueError(f"Not draft fields: {', '.join(sorted(unknown))}")
    locked: Referral | None = None
    try:
        with transaction.atomic():
            locked = Referral.objects.select_for_update().get(pk=referral.pk)
            refuse_unless(by, Permission.REFERRAL_EDIT_DRAFT, locked)
            if locked.version != referral.version:
                raise ReferralChanged()
            if locked.status != Status.DRAFT:
                raise WorkflowError("Only a draft can be edited.")
            bp_was_excluded = bp_is_excluded(locked.bp_systolic, locked.bp_diastolic)
            for field, value in fields.items():
                setattr(locked, field, value)
            if locked.consent_referral and locked.consent_recorded_at is None:
                locked.consent_recorded_at = timezone.now()
                locked.consent_recorded_by = by
            if not locked.consent_referral:
                locked.consent_recorded_at = None
                locked.consent_recorded_by = None
            _keep_safety_screen_true_to_bp(
                locked,
                by=by,
                answered="exclusions_present" in fields,
                bp_was_excluded=bp_was_excluded,
            )
            check_in_python(locked, exclude=["reference"], changed=fields)
            locked.version += 1
            locked.save()
    except IntegrityError:
        if locked is not None:  # the database refused the change: say why, as full_clean would
            explain_refusal(locked, exclude=["reference"])
        raise
    copy_state(referral, locked)
    return referral


# --- The referral lifecycle --------------------------------------------------------------------


def _validate_submission(referral: Referral) -> None:
    errors: dict[str, str | list[str]] = {}
    if safety_screen_to_answer_again(referral):
        errors["exclusions_present"] = (
            "Answer the safety screen again: the blood pressure changed after it was answered"
        )
    elif referral.safety_screened_at is None:
        errors["exclusions_present"] = "Complete the safety screen"
    if not referral.reasons:
        errors["reasons"] = "Select at least one reason for referral"
    # Clinical answers the referrer must give: a draft may leave them blank, a referral may not.
    if referral.heart_rate_medication is None:
        errors["heart_rate_medication"] = (
            "Select yes if the patient takes medication that affects heart rate"
        )
    if not referral.risk_tier:
        errors["risk_tier"] = "Select the patient's risk level"
    if not referral.consent_referral:
        errors["consent_referral"] = "The patient must consent to the referral before it is sent"
    if referral.programme is None:
        errors["programme"] = "Choose a programme"
    elif not referral.programme.is_active:
        errors["programme"] = "That programme is no longer taking referrals"
    else:
        problems = eligibility_problems(referral, referral.programme)
        if problems:
            errors["programme"] = problems
    facility, programme = referral.preferred_facility, referral.programme
    if (
        facility is not None
        and programme is not None
        and facility.operator_id != programme.operator_id
    ):
        errors["preferred_facility"] = "Choose a facility that runs this programme"
    if errors:
        raise ValidationError(errors)


def referral_submit(*, referral: Referral, by: "User") -> ReferralEvent:
    now = timezone.now()
    return transition(
        referral,
        by=by,
        action_name="submit",
        validate=_validate_submission,
        changes={
            "operator_id": lambda r: r.programme.operator_id,
            "submitted_at": now,
            "referred_on": timezone.localdate(now),
        },
        then=record_consent_at_submission,
        # What the checks read, with the lock.
        related=("programme", "patient", "preferred_facility"),
    )


def _check_placement(
    referral: Referral,
    facility: Facility,
    programme_class: ProgrammeClass | None,
    instructor: "User | None",
) -> None:
    errors = {}
    if facility.operator_id != referral.operator_id or not facility.is_active:
        errors["facility"] = "Choose one of your active facilities"
    if programme_class is not None and (
        programme_class.programme_id != referral.programme_id
        or programme_class.facility_id != facility.id
        or not programme_class.is_active
    ):
        errors["programme_class"] = "Choose a class of this programme at that facility"
    # cast: the operator is set on submission, and only a submitted referral is accepted.
    if (
        instructor is not None
        and not instructor.memberships.filter(
            organisation_id=cast(int, referral.operator_id), role=Role.INSTRUCTOR, is_active=True
        ).exists()
    ):
        errors["instructor"] = "Choose an instructor who works for your organisation"
    if errors:
        raise ValidationError(errors)


def _membership_number(value: str | None) -> str:
    """A membership number as the referral keeps it (normalised), refused with the model's
    rules (length, hidden characters) under `membership_number`."""
    number = normalise_membership_number(value)
    check_field_value(Referral, "membership_number", number)
    return number


def _with_membership_number(changes: dict[str, Any], membership_number: str | None) -> None:
    """Accept and book take a membership number when one is given; leaving it out (or blank)
    keeps the one the referral has."""
    number = _membership_number(membership_number)
    if number:
        changes["membership_number"] = number


def _lock_class_and_count_taken(programme_class_id: int, *, excluding: Referral) -> int:
    """Lock the class row (so concurrent placements queue up) and count its places in use."""
    ProgrammeClass.objects.select_for_update().get(pk=programme_class_id)
    return holding_places(programme_class_id).exclude(pk=excluding.pk).count()


def referral_accept(
    *,
    referral: Referral,
    by: "User",
    facility: Facility,
    programme_class: ProgrammeClass | None = None,
    instructor: "User | None" = None,
    note: str = "",
    membership_number: str | None = None,
) -> ReferralEvent:
    """Accept into a facility (and class). A full class puts the referral on its waiting list,
    in the same transaction: the referrer hears "accepted" then "waiting list". The patient's
    leisure membership number may be recorded with it."""
    changes: dict[str, Any] = {
        "facility": facility,
        "programme_class": programme_class,
        "instructor": instructor,
    }
    _with_membership_number(changes, membership_number)

    def waitlist_when_full(locked: Referral) -> None:
        if programme_class is None:
            return
        taken = _lock_class_and_count_taken(programme_class.pk, excluding=locked)
        if taken >= programme_class.capacity:
            position = waitlist_queue_length(programme_class) + 1
            transition(
                locked,
                by=by,
                action_name="waitlist",
                note=f"{programme_class.name} is full: number {position} on its waiting list.",
            )

    return transition(
        referral,
        by=by,
        action_name="accept",
        note=note,
        validate=lambda r: _check_placement(r, facility, programme_class, instructor),
        changes=changes,
        then=waitlist_when_full,
    )


# A decline reason that holds only when something else is true of the referral: the check
# returns why the reason cannot be given yet, or None. Registered by the app that knows (leisure:
# "unable to contact" after the programme's logged attempts), so every caller is held to it.
DeclineCheck = Callable[[Referral], str | None]
_decline_checks: dict[str, DeclineCheck] = {}


def register_decline_check(reason: str, check: DeclineCheck) -> None:
    _decline_checks[reason] = check


def referral_decline(
    *, referral: Referral, by: "User", reason: str, note: str = ""
) -> ReferralEvent:
    _require_reason(reason, DeclineReason, note)
    check = _decline_checks.get(reason)
    if check is not None and (refusal := check(referral)):
        raise ValidationError({"reason": refusal})
    return transition(referral, by=by, action_name="decline", reason_code=reason, note=note)


def referral_request_info(*, referral: Referral, by: "User", question: str) -> ReferralEvent:
    question = _require_text(question, "question", "Enter the question for the referrer")
    return transition(referral, by=by, action_name="request_info", note=question)


def referral_answer_info(*, referral: Referral, by: "User", answer: str) -> ReferralEvent:
    answer = _require_text(answer, "answer", "Enter your answer")
    return transition(referral, by=by, action_name="answer_info", note=answer)


def referral_waitlist(*, referral: Referral, by: "User", note: str = "") -> ReferralEvent:
    return transition(referral, by=by, action_name="waitlist", note=note)


def class_session_times(
    programme_class: ProgrammeClass, first_day: datetime.date, weeks: int
) -> list[datetime.datetime]:
    """The class's weekly slot for `weeks` weeks from the first such weekday on or after
    `first_day`, leaving out bank holidays (the centre is closed; the programme runs on)."""
    offset = (programme_class.weekday - first_day.weekday()) % 7
    start = first_day + datetime.timedelta(days=offset)
    days = [start + datetime.timedelta(weeks=week) for week in range(weeks)]
    return [
        timezone.make_aware(datetime.datetime.combine(day, programme_class.start_time))
        for day in days
        if not is_bank_holiday(day)
    ]


def referral_book(
    *,
    referral: Referral,
    by: "User",
    first_session_at: datetime.datetime | None = None,
    note: str = "",
    membership_number: str | None = None,
) -> ReferralEvent:
    """Book the patient's sessions: in a class, every weekly session of the programme from the
    first one; otherwise (1:1 or an initial assessment) the one session given. The patient's
    leisure membership number may be recorded with it (it often is made at booking)."""
    changes: dict[str, Any] = {}
    _with_membership_number(changes, membership_number)

    def validate(locked: Referral) -> None:
        if locked.facility_id is None:
            raise ValidationError({"facility": "Accept the referral into a facility first"})
        if locked.programme_class_id is None and first_session_at is None:
            raise ValidationError({"first_session_at": "Enter when the first session is"})
        if first_session_at is not None and first_session_at <= timezone.now():
            raise ValidationError({"first_session_at": "The first session must be in the future"})
        if first_session_at is not None and timezone.localdate(first_session_at) > (
            timezone.localdate() + BOOKING_HORIZON
        ):
            raise ValidationError({"first_session_at": "The first session must be within a year"})
        if locked.programme_class_id is not None:
            taken = _lock_class_and_count_taken(locked.programme_class_id, excluding=locked)
            if taken >= cast(ProgrammeClass, locked.programme_class).capacity:  # its id is set
                raise ValidationError(
                    {"programme_class": "The class is full: no place is free to book yet"}
                )

    def book_sessions(locked: Referral) -> None:
        if locked.programme_class_id is None:
            # validate() refused a booking outside a class with no first session given.
            times, kind = [cast(datetime.datetime, first_session_at)], Session.Kind.ASSESSMENT
        else:
            first_day = timezone.localdate(
                first_session_at or timezone.now() + datetime.timedelta(days=1)
            )
            times = class_session_times(
                cast(ProgrammeClass, locked.programme_class),  # its id is set
                first_day,
                cast("Programme", locked.programme).duration_weeks,  # required on submission
            )
            times = [t for t in times if t > timezone.now()]
            kind = Session.Kind.CLASS
        existing = set(locked.sessions.values_list("scheduled_at", flat=True))
        Session.objects.bulk_create(
            Session(
                referral=locked,
                programme_class_id=locked.programme_class_id,
                kind=kind,
                scheduled_at=moment,
            )
            for moment in times
            if moment not in existing
        )

    with transaction.atomic():
        event = transition(
            referral,
            by=by,
            action_name="book",
            note=note,
            changes=changes,
            validate=validate,
            then=book_sessions,
        )
        if changes:  # a membership number recorded with the booking
            visits_attach_unmatched(
                Referral.objects.get(pk=referral.pk), by=by, permission=Permission.REFERRAL_BOOK
            )
    return event


def referral_start(*, referral: Referral, by: "User", note: str = "") -> ReferralEvent:
    return transition(referral, by=by, action_name="start", note=note)


def _recommendations(value: str) -> str:
    """The instructor's advice for the referrer: optional, bounded like any free text."""
    value = (value or "").strip()
    check_field_value(Referral, "discharge_recommendations", value, key="recommendations")
    return value


def referral_complete(
    *, referral: Referral, by: "User", note: str = "", recommendations: str = ""
) -> ReferralEvent:
    """Complete the programme; `recommendations` go to the referrer in the discharge summary."""
    recommendations = _recommendations(recommendations)
    return transition(
        referral,
        by=by,
        action_name="complete",
        note=note,
        changes={"discharge_recommendations": recommendations},
        then=release_future_sessions(by, Session.Attendance.CANCELLED_PROVIDER),
    )


def referral_discharge(
    *, referral: Referral, by: "User", reason: str, note: str = "", recommendations: str = ""
) -> ReferralEvent:
    _require_reason(reason, DischargeReason, note)
    recommendations = _recommendations(recommendations)
    return transition(
        referral,
        by=by,
        action_name="discharge",
        reason_code=reason,
        note=note,
        changes={"discharge_recommendations": recommendations},
        then=release_future_sessions(by, Session.Attendance.CANCELLED_PROVIDER),
    )


def referral_cancel(
    *, referral: Referral, by: "User", reason: str, note: str = ""
) -> ReferralEvent:
    _require_reason(reason, CancelReason, note)
    by_patient = reason == CancelReason.PATIENT_WITHDREW
    attendance = (
        Session.Attendance.CANCELLED_PATIENT
        if by_patient
        else Session.Attendance.CANCELLED_PROVIDER
    )
    return transition(
        referral,
        by=by,
        action_name="cancel",
        reason_code=reason,
        note=note,
        then=release_future_sessions(by, attendance),
    )


def referral_set_membership_number(*, referral: Referral, by: "User", number: str) -> Referral:
    """Record, change or (blank) remove the patient's leisure membership number, which visits
    from the operator's systems are matched by. The operator's coordinators (as triage), on a
    referral that has not ended; a stale copy loses (the version), and the timeline says who
    did it. The note names no number: the timeline reaches the referrer (and their system's
    events feed), who has no use for the operator's identifier, and a note cannot be changed, so
    a mistyped number would stay there."""
    number = _membership_number(number)
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        refuse_unless(by, Permission.REFERRAL_TRIAGE, locked)
        if locked.version != referral.version:
            raise ReferralChanged()
        if locked.status == Status.DRAFT or locked.status in FINAL_STATES:
            raise WorkflowError(
                "The membership number can be changed while the referral is open only."
            )
        previous = locked.membership_number
        if previous == number:
            copy_state(referral, locked)
            return referral
        locked.membership_number = number
        locked.version += 1
        locked.save(update_fields=["membership_number", "version", "updated_at"])
        if not previous:
            said = "Leisure membership number recorded"
        elif number:
            said = "Leisure membership number changed"
        else:
            said = "Leisure membership number removed"
        ReferralEvent.objects.create(
            referral=locked,
            kind=ReferralEvent.Kind.NOTE,
            action="membership_number",
            actor=by,
            actor_organisation=acting_organisation(by, Permission.REFERRAL_TRIAGE, locked),
            note=said,
        )
        if visits_attach_unmatched(locked, by=by, permission=Permission.REFERRAL_TRIAGE):
            locked.refresh_from_db()
    copy_state(referral, locked)
    return referral


# --- Sessions ----------------------------------------------------------------------------------


def session_record_attendance(
    *, session: Session, status: str, by: "User", note: str = "", imported: bool = False
) -> Session:
    """Mark a session attended, missed or cancelled; the first attendance makes the referral active.

    `imported`: the mark comes from the operator's own system, in a file its coordinator imports
    (`Permission.ATTENDANCE_IMPORT`), not from the register (`Permission.SESSION_RECORD`).

    Locks the referral first (then the session) so that marks on one referral are serialised and
    the move to active happens exactly once. Marking the same outcome twice changes nothing (a
    double tap on the register); changing a logged outcome is a correction on the timeline.
    """
    if status not in Session.Attendance.values or status == Session.Attendance.BOOKED:
        raise ValidationError({"status": "Choose attended, did not attend or cancelled"})
    check_field_value(Session, "notes", note, key="note")
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=session.referral_id)
        locked = Session.objects.select_for_update().get(pk=session.pk)
        permission = Permission.ATTENDANCE_IMPORT if imported else Permission.SESSION_RECORD
        refuse_unless(by, permission, referral)
        if referral.status not in {Status.BOOKED, Status.ACTIVE}:
            raise WorkflowError("Attendance can only be recorded for a booked or active referral.")
        now = timezone.now()
        happened = status in {Session.Attendance.ATTENDED, Session.Attendance.DNA}
        if happened and timezone.localdate(locked.scheduled_at) > timezone.localdate(now):
            raise ValidationError({"status": "This session has not happened yet"})
        previous = locked.status
        if previous == status:
            copy_state(session, locked)
            return session
        locked.status = status
        locked.logged_by = by
        locked.logged_at = now
        if note:
            locked.notes = note
        locked.save()
        on = f"{timezone.localtime(locked.scheduled_at):%d %B %Y}"
        actor_organisation = acting_organisation(by, permission, referral)
        if previous != Session.Attendance.BOOKED:
            ReferralEvent.objects.create(
                referral=referral,
                kind=ReferralEvent.Kind.CORRECTION,
                action="attendance_corrected",
                actor=by,
                actor_organisation=actor_organisation,
                note=f"Attendance on {on} corrected from "
                f"'{Session.Attendance(previous).label}' to '{Session.Attendance(status).label}'",
                created_at=now,
            )
        if status == Session.Attendance.ATTENDED and referral.status == Status.BOOKED:
            transition(
                referral,
                by=by,
                action_name="start",
                note="First session attended",
                permission=permission,
            )
        elif previous == Session.Attendance.BOOKED:
            # Every first mark is on the timeline (so in the API's events feed); only a missed
            # session is news for the referrer (`PROGRESS_EVENTS`).
            action, note = SESSION_MARKS[status]
            event = ReferralEvent.objects.create(
                referral=referral,
                kind=ReferralEvent.Kind.SESSION,
                action=action,
                actor=by,
                actor_organisation=actor_organisation,
                note=note.format(on=on),
                created_at=now,
            )
            event_recorded.send(sender=ReferralEvent, event=event)
    copy_state(session, locked)
    return session


# A session's first mark on the timeline: (action, note). The first attended session is the
# "start" transition instead.
SESSION_MARKS: dict[str, tuple[str, str]] = {
    Session.Attendance.ATTENDED: ("attended", "Attended on {on}"),
    Session.Attendance.DNA: ("dna", "Did not attend on {on}"),
    Session.Attendance.CANCELLED_PATIENT: ("session_cancelled", "Cancelled by the patient: {on}"),
    Session.Attendance.CANCELLED_PROVIDER: ("session_cancelled", "Cancelled by the centre: {on}"),
}


# Each workflow action's service, called as `ACTION_SERVICES[name](referral=..., by=..., **fields)`
# with the action's own fields (a reason, a note, a placement). Pages and tests dispatch through
# this one map; "start" also happens by itself when the first session is attended.
ACTION_SERVICES: dict[str, Callable[..., ReferralEvent]] = {
    "submit": referral_submit,
    "accept": referral_accept,
    "decline": referral_decline,
    "request_info": referral_request_info,
    "answer_info": referral_answer_info,
    "waitlist": referral_waitlist,
    "book": referral_book,
    "start": referral_start,
    "complete": referral_complete,
    "discharge": referral_discharge,
    "cancel": referral_cancel,
}


def notifications_mark_read(*, user: "User", referral: Referral) -> int:
    """Mark the user's unread in-app updates about a referral as read (they opened it)."""
    return unread_updates_for(user).filter(referral=referral).update(read_at=timezone.now())


def notification_mark_read(*, user: "User", notification: Notification) -> Notification:
    """Mark one of the user's in-app updates read (another's is left alone); marking it again
    keeps the time it was first read."""
    unread_updates_for(user).filter(pk=notification.pk).update(read_at=timezone.now())
    notification.refresh_from_db(fields=["read_at"])
    return notification
