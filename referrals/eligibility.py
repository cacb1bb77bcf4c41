"""Whether a patient may be referred to a programme: age range and the hard safety exclusions."""

from typing import TYPE_CHECKING

from django.utils import timezone

from clinical.conditions import Exclusion, exclusions_with_bp

if TYPE_CHECKING:
    import datetime

    from facilities.models import Programme

    from .models import Referral


def exclusions_met(referral: "Referral") -> set[str]:
    """Exclusions that apply to this referral: those declared, plus a resting BP of 180/100+."""
    return set(
        exclusions_with_bp(referral.exclusions_present, referral.bp_systolic, referral.bp_diastolic)
    )


def safety_screen_to_answer_again(referral: "Referral") -> bool:
    """The screen was answered, then the BP fell below 180/100 and the draft service set the
    answer aside: its ticks are kept for the referrer to review, without an answer time."""
    return referral.safety_screened_at is None and bool(referral.exclusions_present)


def eligibility_problems(
    referral: "Referral", programme: "Programme", *, today: "datetime.date | None" = None
) -> list[str]:
    """Plain-English reasons the patient cannot go to `programme`; empty when they can."""
    today = today or timezone.localdate()
    problems = []
    age = referral.patient.age_on(today)
    if not programme.age_is_eligible(age):
        upper = f" to {programme.max_age}" if programme.max_age is not None else " or over"
        problems.append(f"{programme.name} is for people aged {programme.min_age}{upper}.")
    for code in sorted(exclusions_met(referral) & set(programme.exclusions)):
        problems.append(f"{Exclusion(code).label} excludes the patient from {programme.name}.")
    return problems
