"""Organisation admins' writes about people: inviting members and deactivating them.

Each runs in one transaction and checks ORGANISATION_MANAGE on the organisation before changing
anything. Memberships are never deleted: a deactivated one stays as a record of who had access.
"""

import logging
from importlib import import_module

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import ROLES_BY_KIND, Membership, Organisation, Role, User
from .permissions import Permission, forget_cached_permissions, has_permission

logger = logging.getLogger(__name__)

EMAIL_NOT_SENT = (
    "The invitation email could not be sent, so nobody was invited. Try again in a few minutes."
)


def with_article(role_label: str) -> str:
    """'an instructor', 'a coordinator': for sentences about a role."""
    label = role_label.lower()
    return f"{'an' if label[:1] in 'aeiou' else 'a'} {label}"


def _refuse_unless_admin(by: User, organisation: Organisation) -> None:
    if not has_permission(by, Permission.ORGANISATION_MANAGE, organisation):
        raise PermissionDenied("Only an admin of this organisation can change its members.")


# --- Inviting ------------------------------------------------------------------------------------


def member_invite(
    *, by: User, organisation: Organisation, email: str, full_name: str, role: str
) -> Membership:
    """Give the person with this email address a role in the organisation, and tell them.

    Someone new gets an account with no usable password and an email with a link to set one
    (allauth's password-reset token: it works once, for PASSWORD_RESET_TIMEOUT). Someone who
    already has an account gets the membership and an email saying so; if they never set a
    password, they get a fresh set-password link. The email names the organisation and the role
    only: never a patient. If it cannot be sent, nothing is saved.
    """
    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    with transaction.atomic():
        _refuse_unless_admin(by, organisation)
        _check_invitation(organisation, email, role)
        user = User.objects.select_for_update().filter(email__iexact=email).first()
        if user is None:
            user = _new_invited_user(email, full_name)
        elif not user.is_active:
            raise ValidationError(
                {
                    "email": "This person's account has been switched off. "
                    "Ask platform staff to switch it back on."
                }
            )
        elif full_name and not user.full_name:
            user.full_name = full_name
            user.save(update_fields=["full_name"])
        membership = _grant(user, organisation, role)
        _send_invitation(by=by, membership=membership)
    return membership


def _check_invitation(organisation: Organisation, email: str, role: str) -> None:
    errors = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter an email address in the correct format, like name@example.com"
    if role not in ROLES_BY_KIND[organisation.kind]:
        errors["role"] = (
            f"A {organisation.get_kind_display().lower()} cannot have that role: choose one "
            "from the list"
        )
    if errors:
        raise ValidationError(errors)


def _new_invited_user(email: str, full_name: str) -> User:
    if not full_name:
        raise ValidationError({"full_name": "Enter the person's full name"})
    user = User(email=email, full_name=full_name)
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as clash:  # invited by someone else a moment ago
        raise ValidationError({"email": "This person was invited a moment ago"}) from clash
    return user


def _grant(user: User, organisation: Organisation, role: str) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .filter(user=user, organisation=organisation, role=role)
        .first()
    )
    if membership is not None and membership.is_active:
        raise ValidationError(
            {
                "email": f"{user.email} is already {with_article(membership.get_role_display())}"
                f" at {organisation.name}"
            }
        )
    if membership is None:
        membership = Membership(user=user, organisation=organisation, role=role)
        membership.full_clean()
    membership.is_active = True
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as clash:
        raise ValidationError({"email": "This person was given that role a moment ago"}) from clash
    forget_cached_permissions(user)
    return membership


def set_password_link(user: User) -> str:
    path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(user),
            "key": default_token_generator.make_token(user),
        },
    )
    return f"{settings.PORTAL_BASE_URL}{path}"


def _send_invitation(*, by: User, membership: Membership) -> None:
    user = membership.user
    needs_password = not user.has_usable_password()
    context = {
        "user": user,
        "invited_by": by.get_full_name(),
        "organisation": membership.organisation.name,
        "role": with_article(membership.get_role_display()),
        "set_password_link": set_password_link(user) if needs_password else "",
        "link_valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // (24 * 60 * 60)),
        "sign_in_link": f"{settings.PORTAL_BASE_URL}{reverse('account_login')}",
        "password_reset_link": f"{settings.PORTAL_BASE_URL}{reverse('account_reset_password')}",
    }
    subject = (
        "You have been invited to the Referral Portal"
        if needs_password
        else f"You have been added to {membership.organisation.name} on the Referral Portal"
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("accounts/emails/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("accounts/emails/invitation.html", context), "text/html"
    )
    try:
        message.send()
    except Exception as error:
        # SMTP errors can quote addresses back; log only the kind of failure.
        logger.warning("Invitation email not sent (%s)", type(error).__name__)
        raise ValidationError(EMAIL_NOT_SENT, code="email_not_sent") from error


# --- Deactivating --------------------------------------------------------------------------------


def member_deactivate(*, by: User, membership: Membership) -> Membership:
    """Take a role away from someone. Deactivating again changes nothing.

    An organisation always keeps at least one active admin, and an admin cannot remove their own
    last admin role (another admin, or platform staff, can). An instructor leaves the operator's
    facility staff and classes. Someone left with no active membership anywhere is signed out
    everywhere at once.
    """
    with transaction.atomic():
        # The organisation's row first, then the membership's: changes to one organisation's
        # members queue up in the same order, so two admins removing each other at the same
        # moment cannot both succeed (which would leave it with no admin) nor deadlock.
        Organisation.objects.select_for_update().filter(pk=membership.organisation_id).first()
        locked = (
            Membership.objects.select_for_update(of=("self",))
            .select_related("organisation", "user")
            .get(pk=membership.pk)
        )
        _refuse_unless_admin(by, locked.organisation)
        if not locked.is_active:
            return locked
        if locked.role == Role.ORG_ADMIN:
            _keep_an_admin(by, locked)
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        if locked.role == Role.INSTRUCTOR:
            _unassign_instructor(locked)
        user = locked.user
        if not user.memberships.filter(is_active=True, organisation__is_active=True).exists():
            sessions_ended = end_sessions_of(user)
            logger.info("Member deactivated; %d session(s) ended", sessions_ended)
    forget_cached_permissions(locked.user)
    if by.pk == locked.user_id:
        forget_cached_permissions(by)
    membership.is_active = False
    return locked


def _keep_an_admin(by: User, membership: Membership) -> None:
    others = Membership.objects.filter(
        organisation=membership.organisation,
        role=Role.ORG_ADMIN,
        is_active=True,
        user__is_active=True,
    ).exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError(
            f"{membership.organisation.name} needs at least one active admin: invite another "
            "admin before deactivating this one"
        )
    if membership.user_id == by.pk:
        own_other_admin_roles = Membership.objects.filter(
            user=by, role=Role.ORG_ADMIN, is_active=True, organisation__is_active=True
        ).exclude(pk=membership.pk)
        if not own_other_admin_roles.exists():
            raise ValidationError(
                "You cannot remove your own last admin role: ask another admin to do it"
            )


def _unassign_instructor(membership: Membership) -> None:
    """Take the instructor off the operator's facilities and classes (through the user's side
    of those relations, as accounts sits below facilities)."""
    operator_id = membership.organisation_id
    user = membership.user
    user.facilities_worked.remove(*user.facilities_worked.filter(operator_id=operator_id))
    user.classes_taught.remove(*user.classes_taught.filter(programme__operator_id=operator_id))


def end_sessions_of(user: User) -> int:
    """Delete every unexpired session signed in as `user`; returns how many.

    Sessions are stored in the database (django.contrib.sessions) and keyed by a random id, so
    finding a user's sessions means decoding each unexpired one: a scan of all current sessions,
    fine for a staff portal's few thousand, and done only when someone loses their last role.
    Deleting through the session store also clears any cached copy (cached_db).
    """
    engine = import_module(settings.SESSION_ENGINE)
    store_class = engine.SessionStore
    if not hasattr(store_class, "get_model_class"):
        raise ImproperlyConfigured(
            "Ending a member's sessions needs a database session engine (db or cached_db)"
        )
    model = store_class.get_model_class()
    user_key = str(user.pk)
    keys = [
        session.session_key
        for session in model.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(store_class().decode(session.session_data).get(SESSION_KEY)) == user_key
    ]
    for key in keys:
        store_class(session_key=key).delete()
    return len(keys)
