"""accounts.services: an org admin invites people by email and deactivates memberships; a
deactivated person with no other role is signed out everywhere."""

import re
import threading

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import Membership, Role, User
from tests.facilities.helpers import org_admin
from tests.factories import TEST_PASSWORD


def invite(people, **overrides):
    fields = {
        "by": people.admin_x,
        "organisation": people.operator_x,
        "email": "  New.Instructor@Example.org ",
        "full_name": "Nia Instructor",
        "role": Role.INSTRUCTOR,
        **overrides,
    }
    return services.member_invite(**fields)


def link_in(message) -> str:
    match = re.search(r"https?://\S+/accounts/password/reset/key/\S+/", message.body)
    assert match, message.body
    return match.group(0)


def signed_in_sessions(user) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get(SESSION_KEY) == str(user.pk))


# --- Inviting ------------------------------------------------------------------------------------


def test_inviting_someone_new_creates_them_without_a_password_and_emails_a_link(people):
    membership = invite(people)

    user = membership.user
    assert (user.email, user.full_name) == ("new.instructor@example.org", "Nia Instructor")
    assert not user.has_usable_password()
    assert (membership.organisation, membership.role, membership.is_active) == (
        people.operator_x,
        Role.INSTRUCTOR,
        True,
    )
    [message] = mail.outbox
    assert message.to == ["new.instructor@example.org"]
    assert message.subject == "You have been invited to the Referral Portal"
    assert "Operator X" in message.body
    assert "instructor" in message.body
    assert "no patient information" in message.body
    assert link_in(message) in message.alternatives[0][0]


def test_the_invitation_link_lets_them_set_a_password_and_sign_in(client, people):
    invite(people)
    path = link_in(mail.outbox[0]).split("://", 1)[1].split("/", 1)[1]

    # allauth moves the key into the session and redirects to a key-less URL.
    set_password = client.get(f"/{path}", follow=True)
    assert set_password.status_code == 200
    response = client.post(
        set_password.redirect_chain[-1][0],
        {"password1": "a-long-new-passphrase", "password2": "a-long-new-passphrase"},
    )
    assert response.status_code == 302

    user = User.objects.get(email="new.instructor@example.org")
    assert user.check_password("a-long-new-passphrase")
    signed_in = client.post(
        reverse("account_login"), {"login": user.email, "password": "a-long-new-passphrase"}
    )
    assert signed_in.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)
    # The link works once.
    client.logout()
    again = client.get(f"/{path}", follow=True)
    assert again.context["token_fail"]


def test_inviting_someone_who_already_has_an_account_adds_the_role(people):
    membership = invite(people, email=people.coordinator_y.email.upper(), role=Role.COORDINATOR)

    assert membership.user == people.coordinator_y
    assert people.coordinator_y.memberships.filter(is_active=True).count() == 2
    people.coordinator_y.refresh_from_db()
    assert people.coordinator_y.check_password(TEST_PASSWORD)
    [message] = mail.outbox
    assert message.subject == "You have been added to Operator X on the Referral Portal"
    assert "/accounts/password/reset/key/" not in message.body
    assert "/accounts/login/" in message.body


def test_an_existing_account_without_a_name_takes_the_name_given(people):
    User.objects.filter(pk=people.coordinator_y.pk).update(full_name="")

    membership = invite(people, email=people.coordinator_y.email, role=Role.COORDINATOR)

    assert membership.user.full_name == "Nia Instructor"


def test_an_invited_person_who_never_set_a_password_gets_a_fresh_link(people):
    invite(people)
    invite(people, role=Role.COORDINATOR)

    assert len(mail.outbox) == 2
    assert link_in(mail.outbox[1])


def test_inviting_an_existing_member_to_the_same_role_is_refused(people):
    with pytest.raises(ValidationError) as refused:
        invite(people, email=people.coordinator_x.email, role=Role.COORDINATOR)
    assert refused.value.message_dict["email"] == [
        "coordinator.x@example.org is already a coordinator at Operator X"
    ]
    assert not mail.outbox


def test_inviting_a_deactivated_member_again_reactivates_the_membership(people):
    membership = people.coordinator_x.memberships.get()
    services.member_deactivate(by=people.admin_x, membership=membership)

    again = invite(people, email=people.coordinator_x.email, role=Role.COORDINATOR)

    assert again.pk == membership.pk
    assert Membership.objects.get(pk=membership.pk).is_active


@pytest.mark.parametrize(
    ("organisation", "role"),
    [("operator_x", Role.REFERRER), ("practice_a", Role.COORDINATOR), ("operator_x", "boss")],
)
def test_the_role_must_suit_the_kind_of_organisation(people, organisation, role):
    by = people.admin_x if organisation == "operator_x" else people.admin_a
    with pytest.raises(ValidationError) as refused:
        invite(people, by=by, organisation=getattr(people, organisation), role=role)
    assert "role" in refused.value.message_dict
    assert not User.objects.filter(email="new.instructor@example.org").exists()


def test_a_gp_practice_admin_invites_a_referrer(people):
    membership = invite(
        people, by=people.admin_a, organisation=people.practice_a, role=Role.REFERRER
    )
    assert membership.organisation == people.practice_a


@pytest.mark.parametrize("persona", ["coordinator_x", "instructor_x", "referrer_a", "admin_a"])
def test_only_the_organisations_admin_may_invite(people, persona):
    with pytest.raises(PermissionDenied):
        invite(people, by=getattr(people, persona))
    assert not User.objects.filter(email="new.instructor@example.org").exists()
    assert not mail.outbox


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [({"email": "not-an-email"}, "email"), ({"full_name": "  "}, "full_name")],
)
def test_an_invitation_needs_an_email_and_a_name(people, fields, error_field):
    with pytest.raises(ValidationError) as refused:
        invite(people, **fields)
    assert error_field in refused.value.message_dict


def test_a_switched_off_account_is_not_invited(people):
    User.objects.filter(pk=people.coordinator_y.pk).update(is_active=False)
    with pytest.raises(ValidationError, match="switched off"):
        invite(people, email=people.coordinator_y.email, role=Role.COORDINATOR)


def test_when_the_email_cannot_be_sent_nobody_is_invited(people, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)

    with pytest.raises(ValidationError, match="could not be sent"):
        invite(people)
    assert not User.objects.filter(email="new.instructor@example.org").exists()


# --- Deactivating --------------------------------------------------------------------------------


def test_deactivating_someone_with_no_other_role_signs_them_out(client, people):
    client.force_login(people.coordinator_x)
    other = org_admin(people.operator_y)
    others_client = Client()
    others_client.force_login(other)
    assert signed_in_sessions(people.coordinator_x) == 1

    services.member_deactivate(by=people.admin_x, membership=people.coordinator_x.memberships.get())

    assert not Membership.objects.get(user=people.coordinator_x).is_active
    assert signed_in_sessions(people.coordinator_x) == 0
    assert signed_in_sessions(other) == 1
    assert client.get(reverse("home")).status_code == 302


def test_someone_with_another_role_stays_signed_in(client, people):
    Membership.objects.create(
        user=people.coordinator_x, organisation=people.operator_y, role=Role.COORDINATOR
    )
    client.force_login(people.coordinator_x)

    services.member_deactivate(
        by=people.admin_x,
        membership=people.coordinator_x.memberships.get(organisation=people.operator_x),
    )

    assert signed_in_sessions(people.coordinator_x) == 1
    assert client.get(reverse("home")).status_code == 200


def test_a_deactivated_instructor_leaves_the_operators_facilities_and_classes(people):
    people.class_x.instructors.add(people.instructor_x)

    services.member_deactivate(by=people.admin_x, membership=people.instructor_x.memberships.get())

    assert not people.facility_x.staff.exists()
    assert not people.class_x.instructors.exists()
    assert people.instructor_y in people.facility_y.staff.all()


def test_deactivating_twice_changes_nothing_more(people):
    membership = people.coordinator_x.memberships.get()
    services.member_deactivate(by=people.admin_x, membership=membership)
    again = services.member_deactivate(by=people.admin_x, membership=membership)
    assert not again.is_active


def test_the_last_admin_of_an_organisation_stays(people):
    own = people.admin_x.memberships.get()
    with pytest.raises(ValidationError, match="needs at least one active admin"):
        services.member_deactivate(by=people.admin_x, membership=own)
    assert Membership.objects.get(pk=own.pk).is_active


def test_an_admin_cannot_remove_their_own_last_admin_role(people):
    org_admin(people.operator_x)
    own = people.admin_x.memberships.get()
    with pytest.raises(ValidationError, match="your own last admin role"):
        services.member_deactivate(by=people.admin_x, membership=own)
    assert Membership.objects.get(pk=own.pk).is_active


def test_one_admin_may_deactivate_another(people):
    second = org_admin(people.operator_x)
    membership = second.memberships.get()

    services.member_deactivate(by=people.admin_x, membership=membership)

    assert not Membership.objects.get(pk=membership.pk).is_active


@pytest.mark.parametrize("persona", ["coordinator_x", "instructor_x", "admin_a", "commissioner"])
def test_only_the_organisations_admin_may_deactivate(people, persona):
    membership = people.coordinator_x.memberships.get()
    with pytest.raises(PermissionDenied):
        services.member_deactivate(by=getattr(people, persona), membership=membership)
    assert Membership.objects.get(pk=membership.pk).is_active


def test_another_operators_admin_cannot_deactivate(people):
    admin_y = org_admin(people.operator_y)
    with pytest.raises(PermissionDenied):
        services.member_deactivate(by=admin_y, membership=people.coordinator_x.memberships.get())


def test_end_sessions_skips_expired_and_anonymous_sessions(client, people):
    anonymous = SessionStore()
    anonymous["visited"] = True
    anonymous.create()
    client.force_login(people.coordinator_x)

    assert services.end_sessions_of(people.coordinator_x) == 1
    assert Session.objects.filter(session_key=anonymous.session_key).exists()


def test_a_non_database_session_engine_is_a_configuration_error(people, settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    with pytest.raises(ImproperlyConfigured):
        services.end_sessions_of(people.coordinator_x)


# --- Two admins at once --------------------------------------------------------------------------


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_admins_removing_each_other_at_once_leave_one_admin(people):
    second = org_admin(people.operator_x)
    first_membership = people.admin_x.memberships.get()
    second_membership = second.memberships.get()
    barrier = threading.Barrier(2)
    outcomes = []
    removed_by = {}

    def deactivate(by, membership):
        try:
            barrier.wait(timeout=10)
            services.member_deactivate(by=by, membership=membership)
            outcomes.append("ok")
            removed_by[membership.pk] = by.pk
        except PermissionDenied:
            # The loser waits for the winner, who has just removed the loser's admin role.
            outcomes.append("refused")
        except Exception as error:  # anything else is the test's failure to report
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=deactivate, args=(people.admin_x, second_membership)),
        threading.Thread(target=deactivate, args=(second, first_membership)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["ok", "refused"]
    # The loser changed nothing: the one admin left is the winner, who removed the other.
    [(removed, winner)] = removed_by.items()
    admins = Membership.objects.filter(
        organisation=people.operator_x, role=Role.ORG_ADMIN, is_active=True
    )
    assert list(admins.values_list("user_id", flat=True)) == [winner]
    assert not Membership.objects.get(pk=removed).is_active
