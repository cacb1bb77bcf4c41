"""Outcome pages through Django's test client: access per page, recording, errors, alerts."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from outcomes.models import Assessment
from outcomes.services import assessment_record
from referrals.models import Alert, Referral, ReferralEvent, Status
from tests.builders import referral_in_state
from tests.outcomes.helpers import PHQ9_CALM, SCHEDULE, WALK_BASELINE, WALK_EXIT

# Until config/urls.py mounts outcomes/ (remove this and tests/outcomes/urls.py then).


@pytest.fixture
def active(people):
    people.programme_x.outcome_schedule = SCHEDULE
    people.programme_x.save()
    return referral_in_state(people, Status.ACTIVE)


def progress_url(referral):
    return reverse("outcomes:progress", args=[referral.reference])


def record_url(referral, instrument="phq9", timepoint="baseline"):
    return reverse("outcomes:record", args=[referral.reference, instrument, timepoint])


def phq9_post(**overrides):
    data = {f"q{n}": "0" for n in range(1, 10)}
    data["method"] = "instructor"
    data.update({key: str(value) for key, value in overrides.items()})
    return data


def walk(people, referral, timepoint, answers):
    assessment_record(
        referral=referral,
        instrument="six_minute_walk",
        timepoint=timepoint,
        answers=answers,
        by=people.instructor_x,
    )


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["progress", "record", "due"])
def test_anonymous_visitors_are_sent_to_sign_in(client, people, active, page):
    url = {
        "progress": progress_url(active),
        "record": record_url(active),
        "due": reverse("outcomes:due"),
    }[page]
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response.url


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("instructor_x", 200),
        ("coordinator_x", 200),
        ("referrer_a", 200),  # consent to share progress stands
        ("instructor_y", 404),
        ("coordinator_y", 404),
        ("referrer_b", 404),
        ("commissioner", 404),
    ],
)
def test_progress_page_access(client, people, active, persona, expected):
    client.force_login(getattr(people, persona))
    assert client.get(progress_url(active)).status_code == expected


def test_referrer_without_consent_to_share_is_refused_progress(client, people, active):
    Referral.objects.filter(pk=active.pk).update(consent_share_outcomes=False)
    client.force_login(people.referrer_a)
    assert client.get(progress_url(active)).status_code == 403
    # The operator's staff still see it.
    client.force_login(people.coordinator_x)
    assert client.get(progress_url(active)).status_code == 200


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("instructor_x", 200),
        ("coordinator_x", 403),
        ("referrer_a", 403),
        ("instructor_y", 404),
        ("referrer_b", 404),
        ("commissioner", 404),
    ],
)
def test_record_page_access(client, people, active, persona, expected):
    client.force_login(getattr(people, persona))
    assert client.get(record_url(active)).status_code == expected
    posted = client.post(record_url(active), phq9_post()).status_code
    assert posted == (302 if expected == 200 else expected)
    assert Assessment.objects.count() == (1 if expected == 200 else 0)


def test_record_page_unknown_instrument_or_timepoint_is_404(client, people, active):
    client.force_login(people.instructor_x)
    assert client.get(record_url(active, instrument="nope")).status_code == 404
    assert client.get(record_url(active, timepoint="someday")).status_code == 404


@pytest.mark.parametrize(("persona", "expected"), [("instructor_x", 200), ("coordinator_x", 403)])
def test_due_page_is_for_instructors(client, people, active, persona, expected):
    client.force_login(getattr(people, persona))
    response = client.get(reverse("outcomes:due"))
    assert response.status_code == expected
    if expected == 200:
        assert active.reference in response.content.decode()


# --- Recording --------------------------------------------------------------------------------


def test_form_shows_radios_from_the_instrument(client, people, active):
    client.force_login(people.instructor_x)
    html = client.get(record_url(active)).content.decode()
    assert "Little interest or pleasure in doing things" in html
    assert html.count('type="radio" name="q1"') == 4
    assert 'name="total"' not in html  # scores are never typed in


def test_number_items_are_text_inputs(client, people, active):
    client.force_login(people.instructor_x)
    html = client.get(record_url(active, "physical_measures")).content.decode()
    assert 'name="weight_kg"' in html and 'inputmode="decimal"' in html


def test_recording_computes_scores_and_redirects_to_progress(client, people, active):
    client.force_login(people.instructor_x)
    response = client.post(record_url(active), phq9_post(q1=3, q2=3, q3=2, method="paper"))

    assert response.status_code == 302
    assert response.url == progress_url(active)
    assessment = Assessment.objects.get()
    assert assessment.scores["total"] == 8
    assert assessment.scores["band"] == "mild"
    assert assessment.method == "paper"
    assert assessment.answers["q1"] == 3


def test_posted_score_fields_are_ignored(client, people, active):
    client.force_login(people.instructor_x)
    client.post(record_url(active), {**phq9_post(), "total": "27", "scores": "x"})
    assert Assessment.objects.get().scores["total"] == 0


def test_missing_answers_show_errors_and_save_nothing(client, people, active):
    client.force_login(people.instructor_x)
    data = phq9_post(q4=2)
    del data["q3"]
    response = client.post(record_url(active), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "nhsuk-error-summary" in html
    assert 'id="id_q3_error"' in html
    # The other answers are kept: q4 stays on "2", q1 on "0"; q3, not answered, has none ticked.
    assert 'name="q4" value="2" id="id_q4_2" checked>' in html
    assert 'name="q1" value="0" id="id_q1_0" checked>' in html
    assert html.count(" checked>") == 9  # q1, q2, q4 to q9 and the method
    assert not any(f'id="id_q3_{value}" checked' in html for value in range(4))
    assert not Assessment.objects.exists()


def test_instrument_range_errors_show_on_their_field(client, people, active):
    client.force_login(people.instructor_x)
    response = client.post(
        record_url(active, "six_minute_walk"), {"distance_m": "5000", "method": "instructor"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_distance_m_error"' in html
    # The message names the measurement, as the error summary shows it apart from the field.
    assert "Distance walked in 6 minutes must be between 0 and 1000 m (got 5000)" in html
    assert not Assessment.objects.exists()


def test_state_errors_show_at_the_top(client, people, active):
    client.force_login(people.instructor_x)
    response = client.post(record_url(active, "phq9", "followup_3m"), phq9_post())
    assert response.status_code == 400
    assert "cannot be recorded while the referral is active" in response.content.decode()
    assert not Assessment.objects.exists()


def test_item9_shows_safety_guidance_and_alerts(client, people, active):
    client.force_login(people.instructor_x)
    response = client.post(record_url(active), phq9_post(q9=1))

    assert response.status_code == 200
    html = response.content.decode()
    assert "nhsuk-warning-callout" in html
    assert "Samaritans" in html
    assert "have been emailed" in html
    alert = Alert.objects.get(referral=active)
    assert alert.kind == Alert.Kind.PHQ9_ITEM9
    assert active.events.filter(action="safety_alert").get() == alert.event


def test_finding_3_high_bp_recorded_at_the_centre_shows_a_warning_after_saving(
    client, people, active
):
    client.force_login(people.instructor_x)
    response = client.post(
        record_url(active, "physical_measures", "baseline"),
        {
            "weight_kg": "82.5",
            "height_cm": "175",
            "bp_systolic": "200",
            "bp_diastolic": "115",
            "method": "instructor",
        },
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "nhsuk-warning-callout" in html
    assert "Blood pressure 200/115 mmHg" in html
    assert Alert.objects.get(referral=active).kind == Alert.Kind.BLOOD_PRESSURE


def test_normal_measures_save_without_a_warning(client, people, active):
    client.force_login(people.instructor_x)
    response = client.post(
        record_url(active, "physical_measures", "baseline"),
        {
            "weight_kg": "82.5",
            "height_cm": "175",
            "bp_systolic": "130",
            "bp_diastolic": "85",
            "resting_hr": "70",
            "method": "instructor",
        },
    )

    assert response.status_code == 302
    assert not Alert.objects.exists()


def test_re_recording_prefills_and_writes_a_correction(client, people, active):
    client.force_login(people.instructor_x)
    client.post(record_url(active), phq9_post(q1=1))
    html = client.get(record_url(active)).content.decode()
    assert "Saving again replaces those answers" in html
    client.post(record_url(active), phq9_post(q1=2))

    assert Assessment.objects.get().scores["total"] == 2
    assert active.events.filter(kind=ReferralEvent.Kind.CORRECTION).count() == 1


# --- Progress ---------------------------------------------------------------------------------


def test_progress_page_shows_chart_table_and_change(client, people, active):
    walk(people, active, "baseline", WALK_BASELINE)
    walk(people, active, "exit", WALK_EXIT)
    client.force_login(people.referrer_a)
    html = client.get(progress_url(active)).content.decode()

    assert 'role="img"' in html
    assert 'id="chart-six_minute_walk-data"' in html
    assert "chart.umd.min.js" in html
    assert "+80" in html
    assert "Meaningful change: yes" in html
    # Referrers see progress but cannot record.
    assert "Record outcome measures" not in html


def test_progress_page_without_measures(client, people, active):
    client.force_login(people.instructor_x)
    html = client.get(progress_url(active)).content.decode()
    assert "No outcome measures recorded yet." in html
    assert "chart.umd.min.js" not in html
    assert record_url(active) in html  # the schedule links to recording


def test_summary_partial_renders_for_the_referral_page(people, active):
    from django.template.loader import render_to_string

    from outcomes.selectors import outcome_summary

    assessment_record(
        referral=active,
        instrument="phq9",
        timepoint="baseline",
        answers=PHQ9_CALM,
        by=people.instructor_x,
    )
    html = render_to_string(
        "outcomes/partials/outcome_summary.html",
        {"summary": outcome_summary(active), "referral": active},
    )
    # PHQ-9 declares its meaningful change (5 points): with a baseline only, nothing to judge.
    assert "PHQ-9" in html and "No threshold set" not in html
    assert progress_url(active) in html


BP = {"bp_systolic": 130, "bp_diastolic": 80}
GPPAQ_DESK_WORKER = {
    "occupation": "sitting",
    "exercise": "lt1",
    "cycling": "none",
    "walking": "none",
    "housework": "none",
    "gardening": "none",
    "walking_pace": "steady",
}


def test_outputs_are_named_by_their_label_on_the_referral_and_progress_pages(
    client, people, active
):
    for instrument, answers in (
        ("gppaq", GPPAQ_DESK_WORKER),
        ("physical_measures", {"weight_kg": 82.5, "height_cm": 175.0, **BP}),
    ):
        assessment_record(
            referral=active,
            instrument=instrument,
            timepoint="baseline",
            answers=answers,
            by=people.instructor_x,
        )
    client.force_login(people.instructor_x)

    for url in (progress_url(active), reverse("referrals:detail", args=[active.reference])):
        html = client.get(url).content.decode()
        assert "Physical Activity Index" in html
        assert "BMI (kg/m²)" in html
        assert ">Pai<" not in html and "Pai " not in html


# --- Finding 11 (issue 11): the PHQ-9 form's messages, and one success message -----------------

PHQ9_QUESTIONS = {
    1: "Little interest or pleasure in doing things",
    3: "Trouble falling or staying asleep, or sleeping too much",
    9: "Thoughts that you would be better off dead or of hurting yourself in some way",
}


def test_finding_11_an_empty_phq9_names_each_question_in_its_error(client, people, active):
    client.force_login(people.instructor_x)

    response = client.post(record_url(active), {})

    page = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." not in page
    errors = response.context["form"].errors
    assert errors["q3"] == [f"Answer question 3: {PHQ9_QUESTIONS[3]}"]
    assert errors["method"] == ["Select how these answers were collected"]
    for number in range(1, 10):
        # The error summary links each message to its question's first answer.
        assert f'<a href="#id_q{number}_0">Answer question {number}: ' in page
        assert f'id="id_q{number}_0"' in page
    assert not Assessment.objects.exists()


def test_finding_11_an_answer_outside_the_scale_names_its_question(client, people, active):
    client.force_login(people.instructor_x)

    response = client.post(record_url(active), phq9_post(q9="7"))

    assert response.status_code == 400
    assert response.context["form"].errors["q9"] == [
        f"Choose one of the answers to question 9: {PHQ9_QUESTIONS[9]}"
    ]
    assert not Assessment.objects.exists()


def test_finding_11_a_saved_measure_shows_its_success_message_once(client, people, active):
    client.force_login(people.instructor_x)

    response = client.post(record_url(active), phq9_post(), follow=True)

    assert response.status_code == 200
    assert response.content.decode().count("PHQ-9 (baseline) recorded.") == 1


def test_finding_9_the_due_page_lists_no_ended_referral(client, people, frozen_now):
    frozen_now(timezone.make_aware(datetime.datetime(2026, 11, 2, 9, 0)))
    people.programme_x.outcome_schedule = SCHEDULE
    people.programme_x.save()
    booked = referral_in_state(people, Status.BOOKED)
    completed = referral_in_state(people, Status.COMPLETED)
    discharged = referral_in_state(people, Status.DISCHARGED)
    frozen_now(timezone.make_aware(datetime.datetime(2026, 12, 2, 9, 0)))
    client.force_login(people.instructor_x)

    page = client.get(reverse("outcomes:due")).content.decode()

    assert booked.reference in page
    # The completed referral's follow-ups are not due for months; its exit is not chased here.
    assert completed.reference not in page
    assert discharged.reference not in page
