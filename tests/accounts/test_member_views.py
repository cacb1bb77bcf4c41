"""The member pages (/manage/<organisation>/members/): list, invite and deactivate, for an
operator and for a GP practice. Access per page is covered with the other manage pages in
tests/facilities/test_views.py."""

from django.core import mail
from django.urls import reverse

from accounts.models import Membership, Role, User
from accounts.selectors import member_token
from tests.facilities.helpers import org_admin


def url(name, *args):
    return reverse(f"manage:{name}", args=args)


def test_the_member_list_shows_everyone_with_their_role_and_status(client, people):
    people.coordinator_x.memberships.update(is_active=False)
    client.force_login(people.admin_x)

    response = client.get(url("members", people.operator_x.public_id))

    rows = response.context["rows"]
    assert [(r.membership.user, r.can_deactivate) for r in rows][-1] == (
        people.coordinator_x,
        False,
    )
    assert {r.membership.user for r in rows} == {
        people.admin_x,
        people.instructor_x,
        people.coordinator_x,
    }
    assert [r.is_you for r in rows if r.membership.user == people.admin_x] == [True]
    content = response.content.decode()
    assert "Deactivated" in content
    assert people.coordinator_y.email not in content


def test_admin_invites_a_new_instructor(client, people):
    client.force_login(people.admin_x)
    response = client.post(
        url("member_invite", people.operator_x.public_id),
        {"full_name": "Nia Instructor", "email": "nia@example.org", "role": Role.INSTRUCTOR},
    )

    assert response.status_code == 302
    assert response.url == url("members", people.operator_x.public_id)
    membership = Membership.objects.get(user__email="nia@example.org")
    assert (membership.organisation, membership.role) == (people.operator_x, Role.INSTRUCTOR)
    assert mail.outbox[0].to == ["nia@example.org"]
    listing = client.get(response.url).content.decode()
    assert "nia@example.org is now an instructor at Operator X. We have emailed them." in listing


def test_the_invite_form_offers_only_roles_that_suit_the_organisation(client, people):
    client.force_login(people.admin_x)
    operator_roles = client.get(url("member_invite", people.operator_x.public_id)).context["form"]
    client.force_login(people.admin_a)
    practice_roles = client.get(url("member_invite", people.practice_a.public_id)).context["form"]

    assert [c for c, _ in operator_roles.fields["role"].choices] == [
        Role.COORDINATOR,
        Role.INSTRUCTOR,
        Role.ORG_ADMIN,
    ]
    assert [c for c, _ in practice_roles.fields["role"].choices] == [Role.REFERRER, Role.ORG_ADMIN]


def test_an_invitation_with_mistakes_keeps_what_was_typed(client, people):
    client.force_login(people.admin_a)
    response = client.post(
        url("member_invite", people.practice_a.public_id),
        {"full_name": "Dr Grace Hopper", "email": "grace@", "role": Role.COORDINATOR},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"email", "role"}
    content = response.content.decode()
    assert "There is a problem" in content
    assert 'value="Dr Grace Hopper"' in content
    assert 'value="grace@"' in content
    assert not User.objects.filter(email__startswith="grace").exists()
    assert not mail.outbox


def test_inviting_an_existing_member_again_is_a_form_error(client, people):
    client.force_login(people.admin_x)
    response = client.post(
        url("member_invite", people.operator_x.public_id),
        {"full_name": "C", "email": people.coordinator_x.email, "role": Role.COORDINATOR},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "coordinator.x@example.org is already a coordinator at Operator X"
    ]


def test_a_gp_practice_admin_invites_a_referrer(client, people):
    client.force_login(people.admin_a)
    response = client.post(
        url("member_invite", people.practice_a.public_id),
        {"full_name": "Dr New", "email": "dr.new@example.nhs.uk", "role": Role.REFERRER},
    )
    assert response.status_code == 302
    assert Membership.objects.get(user__email="dr.new@example.nhs.uk").role == Role.REFERRER


def test_admin_deactivates_a_coordinator_after_confirming(client, people):
    membership = people.coordinator_x.memberships.get()
    page = url("member_deactivate", people.operator_x.public_id, member_token(membership))
    client.force_login(people.admin_x)

    confirm = client.get(page)
    assert confirm.status_code == 200
    assert Membership.objects.get(pk=membership.pk).is_active
    response = client.post(page)

    assert response.status_code == 302
    assert not Membership.objects.get(pk=membership.pk).is_active
    assert client.get(page).status_code == 302  # already deactivated: back to the list


def test_the_last_admin_is_told_why_they_cannot_be_deactivated(client, people):
    membership = people.admin_x.memberships.get()
    page = url("member_deactivate", people.operator_x.public_id, member_token(membership))
    client.force_login(people.admin_x)

    response = client.post(page)

    assert response.status_code == 200
    assert "Operator X needs at least one active admin" in response.content.decode()
    assert Membership.objects.get(pk=membership.pk).is_active


def test_a_member_token_for_another_organisation_is_404(client, people):
    client.force_login(org_admin(people.operator_y))
    token = member_token(people.coordinator_x.memberships.get())
    page = url("member_deactivate", people.operator_y.public_id, token)
    assert client.get(page).status_code == 404
    assert client.post(page).status_code == 404
    assert people.coordinator_x.memberships.get().is_active
