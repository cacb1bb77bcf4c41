"""A completed referral from practice A to operator X with outcomes, a referral of practice B to
operator Y, and the resources of each: what the read, search and cross-organisation tests read."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from outcomes.services import assessment_record
from referrals.models import Referral
from tests.builders import referral_in_state

PHQ9 = {f"q{n}": 2 for n in range(1, 10)} | {"q9": 0}
PHQ9_BETTER = {f"q{n}": 1 for n in range(1, 10)} | {"q9": 0}
MEASURES = {"weight_kg": 82.5, "height_cm": 170, "bp_systolic": 138, "bp_diastolic": 84}


@dataclass
class World:
    a: Referral  # practice A → operator X, completed, with PHQ-9 and physical measures
    b: Referral  # practice B → operator Y, booked

    def resources_of_a(self) -> dict[str, list[str]]:
        """Every resource of A's referral, by type: what no other organisation may read."""
        a = self.a
        assessments = list(a.assessments.order_by("id"))
        return {
            "Patient": [str(a.patient.public_id)],
            "ServiceRequest": [a.reference],
            "Task": [a.reference],
            "Composition": [a.reference],
            "Observation": [
                f"{a.reference}-bp",
                *(f"{x.public_id}-total" for x in assessments if x.instrument == "phq9"),
            ],
            "QuestionnaireResponse": [
                f"{a.reference}-safety-screen",
                *(str(x.public_id) for x in assessments),
            ],
        }


def build_world(people) -> World:
    a = referral_in_state(people, "active")
    start = timezone.now() - datetime.timedelta(days=90)
    for instrument, timepoint, answers, days in (
        ("phq9", "baseline", PHQ9, 0),
        ("physical_measures", "baseline", MEASURES, 0),
        ("phq9", "exit", PHQ9_BETTER, 84),
    ):
        assessment_record(
            referral=a,
            instrument=instrument,
            timepoint=timepoint,
            answers=answers,
            by=people.instructor_x,
            administered_at=start + datetime.timedelta(days=days),
        )
    a.refresh_from_db()
    from referrals import services

    services.referral_complete(referral=a, by=people.coordinator_x, recommendations="Keep walking.")
    a.refresh_from_db()
    b = _referral_of_b(people)
    return World(a=a, b=b)


def _referral_of_b(people) -> Referral:
    from referrals import services
    from tests.factories import PatientFactory

    draft = services.referral_create_draft(
        by=people.referrer_b,
        organisation=people.practice_b,
        patient=PatientFactory(organisation=people.practice_b),
        reasons=["38341003"],
        bp_systolic=130,
        bp_diastolic=80,
        heart_rate_medication=False,
        risk_tier="low",
        programme=people.programme_y,
        preferred_facility=people.facility_y,
        consent_referral=True,
        consent_share_outcomes=True,
        exclusions_present=[],
    )
    services.referral_submit(referral=draft, by=people.referrer_b)
    draft.refresh_from_db()
    return draft
