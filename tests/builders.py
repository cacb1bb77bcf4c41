"""Put a referral into any state the way the product does: through the workflow services."""

import datetime

from django.utils import timezone

from referrals import services
from referrals.models import Referral, Session, Status

# The shortest route from draft to each state, as service actions.
ROUTES = {
    Status.DRAFT: [],
    Status.SUBMITTED: ["submit"],
    Status.INFO_REQUESTED: ["submit", "request_info"],
    Status.ACCEPTED: ["submit", "accept"],
    Status.WAITLISTED: ["submit", "accept", "waitlist"],
    Status.BOOKED: ["submit", "accept", "book"],
    Status.ACTIVE: ["submit", "accept", "book", "start"],
    Status.COMPLETED: ["submit", "accept", "book", "start", "complete"],
    Status.DECLINED: ["submit", "decline"],
    Status.DISCHARGED: ["submit", "accept", "book", "start", "discharge"],
    Status.CANCELLED: ["submit", "cancel"],
}


def new_draft(people, *, patient=None, **fields) -> Referral:
    from tests.factories import PatientFactory

    defaults = {
        "reasons": ["38341003"],
        "bp_systolic": 142,
        "bp_diastolic": 88,
        "heart_rate_medication": False,
        "risk_tier": "low",
        "programme": people.programme_x,
        "preferred_facility": people.facility_x,
        "consent_referral": True,
        "consent_share_outcomes": True,
        "consent_research": True,
        "exclusions_present": [],
    }
    defaults.update(fields)
    return services.referral_create_draft(
        by=people.referrer_a,
        organisation=people.practice_a,
        patient=patient or PatientFactory(organisation=people.practice_a),
        **defaults,
    )


def session_due_now(session: Session) -> Session:
    """Let time pass until the booked session is under way (bookings must be in the future):
    it started an hour ago, or at midnight if that was yesterday, so it is on today's register
    whatever the hour the test runs."""
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    Session.objects.filter(pk=session.pk).update(
        scheduled_at=max(now - datetime.timedelta(hours=1), midnight)
    )
    session.refresh_from_db()
    return session


def run_action(people, referral: Referral, action: str):
    """Perform one workflow action by the persona whose job it is."""
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    if action == "start":
        # Started the way it happens in a centre: the first session is marked attended.
        session = Session.objects.filter(referral=referral).order_by("scheduled_at").first()
        session_due_now(session)
        services.session_record_attendance(
            session=session, status=Session.Attendance.ATTENDED, by=people.instructor_x
        )
        referral.refresh_from_db()
        return referral.events.latest("created_at")
    actors_and_fields = {
        "submit": (people.referrer_a, {}),
        "request_info": (people.coordinator_x, {"question": "Is the knee pain recent?"}),
        "answer_info": (people.referrer_a, {"answer": "Six months, stable."}),
        "accept": (
            people.coordinator_x,
            {
                "facility": people.facility_x,
                "programme_class": people.class_x,
                "instructor": people.instructor_x,
            },
        ),
        "decline": (people.coordinator_x, {"reason": "outside_area"}),
        "waitlist": (people.coordinator_x, {}),
        "book": (people.coordinator_x, {"first_session_at": tomorrow}),
        "complete": (people.coordinator_x, {}),
        "discharge": (people.coordinator_x, {"reason": "patient_choice"}),
        "cancel": (people.referrer_a, {"reason": "patient_withdrew"}),
    }
    if action in actors_and_fields:
        by, fields = actors_and_fields[action]
        return services.ACTION_SERVICES[action](referral=referral, by=by, **fields)
    raise ValueError(f"No route for action {action!r}")


def referral_in_state(people, status: str, **fields) -> Referral:
    referral = new_draft(people, **fields)
    for action in ROUTES[status]:
        run_action(people, referral, action)
    referral.refresh_from_db()
    assert referral.status == status
    return referral
