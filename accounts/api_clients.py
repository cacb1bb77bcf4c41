"""API clients (ADR 0006): creating, rotating and revoking them, and the scopes a token may carry.

A client belongs to one organisation. Creating it makes three rows in one transaction: the
system user (no usable password: it never signs in to the pages), its `Role.SYSTEM` membership,
and the django-oauth-toolkit application that holds the client id and the hashed secret. The
secret is returned once, by the call that made it, and never stored in the clear.
"""

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken
from oauth2_provider.scopes import BaseScopes

from .models import SCOPES_BY_KIND, ApiClient, ApiScope, Membership, Organisation, Role, User
from .permissions import Permission, has_permission

if TYPE_CHECKING:
    from collections.abc import Iterable

# The system users' addresses: a reserved top-level domain (RFC 2606), so never a real mailbox.
SYSTEM_EMAIL_DOMAIN = "api-clients.invalid"
SECRET_BYTES = 48


@dataclass(frozen=True)
class IssuedCredentials:
    """What the organisation's admin copies into their system: shown once."""

    client: ApiClient
    client_id: str
    client_secret: str

    def as_json(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "name": self.client.name,
            "organisation": self.client.organisation.code,
            "scopes": list(self.client.scopes),
        }


def _clean_scopes(scopes: "Iterable[str]", organisation: Organisation) -> list[str]:
    chosen = [scope.strip() for scope in scopes if scope and scope.strip()]
    if not chosen:
        raise ValidationError({"scopes": "Choose at least one scope"})
    fitting = SCOPES_BY_KIND[organisation.kind]
    unknown = sorted(set(chosen) - set(ApiScope.values))
    if unknown:
        raise ValidationError(
            {"scopes": f"Unknown scope {', '.join(unknown)}: choose from {', '.join(fitting)}"}
        )
    unfitting = sorted(set(chosen) - set(fitting))
    if unfitting:
        raise ValidationError(
            {
                "scopes": f"A {organisation.get_kind_display().lower()} cannot have "
                f"{', '.join(unfitting)}: choose from {', '.join(fitting)}"
            }
        )
    return [scope for scope in ApiScope.values if scope in chosen]  # in a fixed order


def _refuse_unless_admin(by: User | None, organisation: Organisation) -> None:
    """`by` None is the shell (`create_api_client`), run by whoever operates the platform."""
    if by is not None and not has_permission(by, Permission.ORGANISATION_MANAGE, organisation):
        raise PermissionDenied("Only the organisation's admins manage its API clients.")


def api_client_create(
    *,
    organisation: Organisation,
    name: str,
    scopes: "Iterable[str]",
    by: User | None,
) -> IssuedCredentials:
    """A new client of `organisation` with these scopes; the secret is in the result only."""
    _refuse_unless_admin(by, organisation)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Enter a name for the client, like the system's name"})
    chosen = _clean_scopes(scopes, organisation)
    if not organisation.is_active:
        raise ValidationError("This organisation is not active.")
    secret = secrets.token_urlsafe(SECRET_BYTES)
    with transaction.atomic():
        if ApiClient.objects.filter(
            organisation=organisation, name__iexact=name, revoked_at__isnull=True
        ).exists():
            raise ValidationError({"name": "There is already a client with that name"})
        key = secrets.token_hex(8)
        user = User.objects.create_user(
            email=f"client-{key}@{SYSTEM_EMAIL_DOMAIN}",
            password=None,  # unusable: a system never signs in to the pages
            full_name=f"{name} (API client)",
        )
        membership = Membership(user=user, organisation=organisation, role=Role.SYSTEM)
        membership.full_clean()
        membership.save()
        application = Application(
            name=f"{organisation.code}: {name}"[:255],
            user=user,
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
            client_secret=secret,
            hash_client_secret=True,
            skip_authorization=True,
        )
        application.save()
        client = ApiClient(
            organisation=organisation,
            name=name,
            scopes=chosen,
            application=application,
            user=user,
            created_by=by,
        )
        client.full_clean()
        client.save()
    return IssuedCredentials(client, application.client_id, secret)


def _forget_tokens(application: Application) -> None:
    RefreshToken.objects.filter(application=application).delete()
    AccessToken.objects.filter(application=application).delete()


def api_client_rotate(*, client: ApiClient, by: User | None) -> IssuedCredentials:
    """A new secret for the client; tokens issued with the old one stop working at once."""
    with transaction.atomic():
        locked = (
            ApiClient.objects.select_for_update()
            .select_related("organisation", "application")
            .get(pk=client.pk)
        )
        _refuse_unless_admin(by, locked.organisation)
        if locked.revoked_at is not None:
            raise ValidationError("This client was revoked: create a new one instead.")
        secret = secrets.token_urlsafe(SECRET_BYTES)
        application = locked.application
        application.client_secret = secret
        application.save(update_fields=["client_secret", "updated"])
        _forget_tokens(application)
        locked.secret_rotated_at = timezone.now()
        locked.save(update_fields=["secret_rotated_at"])
    return IssuedCredentials(locked, application.client_id, secret)


def api_client_revoke(*, client: ApiClient, by: User | None) -> ApiClient:
    """Stop the client for good: its tokens, its membership and its user, in one transaction."""
    with transaction.atomic():
        locked = (
            ApiClient.objects.select_for_update()
            .select_related("organisation", "application", "user")
            .get(pk=client.pk)
        )
        _refuse_unless_admin(by, locked.organisation)
        if locked.revoked_at is not None:
            return locked
        application = locked.application
        # A secret nobody was given: the token endpoint refuses the client from now on.
        application.client_secret = secrets.token_urlsafe(SECRET_BYTES)
        application.save(update_fields=["client_secret", "updated"])
        _forget_tokens(application)
        Membership.objects.filter(user=locked.user).update(is_active=False)
        User.objects.filter(pk=locked.user_id).update(is_active=False)
        locked.revoked_at = timezone.now()
        locked.revoked_by = by
        locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked


def active_client_for(application: Application) -> ApiClient | None:
    """The client behind a token's application, if it is still in use."""
    client = (
        ApiClient.objects.select_related("user", "organisation")
        .filter(application=application, revoked_at__isnull=True, organisation__is_active=True)
        .first()
    )
    return client


class ClientScopes(BaseScopes):
    """django-oauth-toolkit's scopes backend: a token may carry only its client's scopes, and
    carries all of them when the request names none."""

    def get_all_scopes(self) -> dict[str, str]:
        return dict(ApiScope.choices)

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        client = active_client_for(application) if application is not None else None
        return list(client.scopes) if client is not None else []

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return self.get_available_scopes(application, request)


def api_clients_of(organisation: Organisation) -> "list[ApiClient]":
    """The organisation's clients for its admin's page: in use first, then revoked."""
    return list(
        ApiClient.objects.filter(organisation=organisation)
        .select_related("created_by", "revoked_by", "application")
        .order_by("revoked_at", "name")
    )
