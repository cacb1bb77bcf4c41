"""Finding 9 (issue 11): the organisation sets each programme's outcome schedule itself, on
/manage/, as a grid of measures by timepoints shown by name; the rules are checked, a refusal
changes nothing, and each change is in the programme's history with who made it."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.models import Role
from facilities.models import Programme
from governance.models import ProgrammeEvent
from tests.factories import member


def schedule_url(people, programme=None, operator=None) -> str:
    programme = programme or people.programme_x
    operator = operator or people.operator_x
    return reverse("manage:programme_outcomes", args=[operator.public_id, programme.public_id])


def edit_url(people) -> str:
    return reverse(
        "manage:programme_edit", args=[people.operator_x.public_id, people.programme_x.public_id]
    )


def saved_schedule(people) -> list:
    return Programme.objects.get(pk=people.programme_x.pk).outcome_schedule


def test_finding_9_the_programme_page_shows_the_schedule_by_name_with_a_way_to_change_it(
    client, people
):
    Programme.objects.filter(pk=people.programme_x.pk).update(
        outcome_schedule=[{"instrument": "phq9", "timepoints": ["baseline", "exit"]}]
    )
    client.force_login(people.admin_x)

    page = client.get(edit_url(people)).content.decode()

    assert "Patient Health Questionnaire-9 (PHQ-9): baseline, exit" in page
    assert "phq9" not in page
    assert "Platform staff can change it" not in page
    assert schedule_url(people) in page


def test_finding_9_the_schedule_editor_is_a_grid_of_named_checkboxes(client, people):
    Programme.objects.filter(pk=people.programme_x.pk).update(
        outcome_schedule=[{"instrument": "gppaq", "timepoints": ["baseline", "exit"]}]
    )
    client.force_login(people.admin_x)

    response = client.get(schedule_url(people))

    page = response.content.decode()
    assert response.status_code == 200
    assert "General Practice Physical Activity Questionnaire (GPPAQ)" in page
    assert "Six-minute walk test (6MWT)" in page
    for timepoint in ["Baseline", "Mid-programme", "Exit", "3-month follow-up"]:
        assert f">{timepoint}</th>" in page
    # Each box has a label that says what it is (the timepoint shown, for a phone, where the
    # column headings are hidden); the saved ones are ticked.
    label = re.search(r'<label[^>]*for="id_cells_0">(.*?)</label>', page).group(1)
    assert (
        re.sub(r"<[^>]+>", "", label)
        == "General Practice Physical Activity Questionnaire at Baseline"
    )
    assert '<span class="portal-schedule-grid__timepoint">Baseline</span>' in label
    assert 'value="gppaq:baseline" checked' in page
    assert 'value="gppaq:mid">' in page
    assert 'value="gppaq:exit" checked' in page


def test_finding_9_the_admin_changes_the_schedule_and_the_history_says_who(client, people):
    client.force_login(people.admin_x)

    response = client.post(
        schedule_url(people),
        {"cells": ["phq9:baseline", "phq9:exit", "gppaq:baseline", "gppaq:followup_3m"]},
    )

    assert response.status_code == 302
    assert response.url == edit_url(people)
    assert saved_schedule(people) == [
        {"instrument": "gppaq", "timepoints": ["baseline", "followup_3m"]},
        {"instrument": "phq9", "timepoints": ["baseline", "exit"]},
    ]
    event = ProgrammeEvent.objects.filter(pgh_obj_id=people.programme_x.pk).latest("pgh_id")
    assert event.pgh_context.metadata["user"] == people.admin_x.pk
    page = client.get(schedule_url(people)).content.decode()
    assert "Change history" in page
    assert f"by {escape(str(people.admin_x))}" in page  # a made-up name may be O'Neill
    assert "General Practice Physical Activity Questionnaire (GPPAQ): baseline, 3-month" in page


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (["phq9:exit"], "also choose baseline, because change is measured from baseline"),
        (["phq9:someday"], "Choose only the measures and timepoints shown"),
        (["nothing:baseline"], "Choose only the measures and timepoints shown"),
        (["x" * 10_000], "Choose only the measures and timepoints shown"),
        (["phq9:baseline\x00"], "Choose only the measures and timepoints shown"),
    ],
)
def test_a_schedule_that_breaks_the_rules_is_a_message_and_changes_nothing(
    client, people, cells, message
):
    Programme.objects.filter(pk=people.programme_x.pk).update(
        outcome_schedule=[{"instrument": "gppaq", "timepoints": ["baseline"]}]
    )
    client.force_login(people.admin_x)

    response = client.post(schedule_url(people), {"cells": cells})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'href="#id_cells_0"' in response.content.decode()  # the error summary's link
    assert 'id="id_cells_0"' in response.content.decode()
    assert saved_schedule(people) == [{"instrument": "gppaq", "timepoints": ["baseline"]}]


def test_clearing_every_box_leaves_the_programme_without_measures(client, people):
    client.force_login(people.admin_x)

    response = client.post(schedule_url(people), {})

    assert response.status_code == 302
    assert saved_schedule(people) == []


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("coordinator_x", 403),
        ("instructor_x", 403),
        ("referrer_a", 403),
        ("commissioner", 403),
        ("admin_a", 404),  # an admin, but of a practice: no operator of theirs has that id
        ("admin_y", 404),  # another operator's admin
    ],
)
def test_the_schedule_page_is_for_the_operators_admins_only(client, people, persona, expected):
    people.admin_y = member(people.operator_y, Role.ORG_ADMIN, "admin.y@example.org")
    client.force_login(getattr(people, persona))
    before = saved_schedule(people)

    assert client.get(schedule_url(people)).status_code == expected
    assert client.post(schedule_url(people), {"cells": ["phq9:baseline"]}).status_code == expected
    assert saved_schedule(people) == before


def test_another_operators_programme_is_not_found_under_this_operator(client, people):
    client.force_login(people.admin_x)

    url = schedule_url(people, programme=people.programme_y, operator=people.operator_x)

    assert client.get(url).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, people):
    response = client.get(schedule_url(people))

    assert response.status_code == 302
    assert "/accounts/login/" in response.url


@pytest.mark.parametrize("changes", [1, 8])
def test_the_schedule_page_runs_constant_queries(
    client, people, changes, django_assert_max_num_queries
):
    client.force_login(people.admin_x)
    for n in range(changes):
        timepoints = ["baseline", "exit"] if n % 2 else ["baseline"]
        client.post(schedule_url(people), {"cells": [f"phq9:{t}" for t in timepoints]})

    with django_assert_max_num_queries(14):
        response = client.get(schedule_url(people))

    assert response.status_code == 200
    assert len(response.context["history"]) == changes + 1  # and the programme as created
