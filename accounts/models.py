"""Users, the organisations they work for, and the role they hold in each."""

import base64
import secrets
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .validation import validate_single_line_text


class OrganisationKind(models.TextChoices):
    GP_PRACTICE = "gp_practice", "GP practice"
    MSK_SERVICE = "msk_service", "MSK service"
    LEISURE_OPERATOR = "leisure_operator", "Leisure operator"
    COMMISSIONER = "commissioner", "Commissioner"


REFERRING_KINDS = frozenset({OrganisationKind.GP_PRACTICE, OrganisationKind.MSK_SERVICE})


class Role(models.TextChoices):
    REFERRER = "referrer", "Referrer"
    COORDINATOR = "coordinator", "Coordinator"
    INSTRUCTOR = "instructor", "Instructor"
    ORG_ADMIN = "org_admin", "Organisation admin"
    COMMISSIONER = "commissioner", "Commissioner"
    # An organisation's own system, through an API client (ADR 0006): never a person.
    SYSTEM = "system", "Connected system"


# Which roles make sense in which kind of organisation (DOMAIN.md, "People and organisations").
# Typed by str: a kind read from the database is a str, equal to (so found as) its key.
# A person's roles only: a system's membership (Role.SYSTEM) fits every kind, and is made by
# `accounts.api_clients` alone.
ROLES_BY_KIND: dict[str, set[str]] = {
    OrganisationKind.GP_PRACTICE: {Role.REFERRER, Role.ORG_ADMIN},
    OrganisationKind.MSK_SERVICE: {Role.REFERRER, Role.ORG_ADMIN},
    OrganisationKind.LEISURE_OPERATOR: {Role.COORDINATOR, Role.INSTRUCTOR, Role.ORG_ADMIN},
    OrganisationKind.COMMISSIONER: {Role.COMMISSIONER, Role.ORG_ADMIN},
}
# What a system does in each kind of organisation: the people's roles it acts in (ADR 0006).
# Never an organisation admin: a system does not manage people, clients or facilities.
SYSTEM_ROLES: dict[str, tuple[str, ...]] = {
    OrganisationKind.GP_PRACTICE: (Role.REFERRER,),
    OrganisationKind.MSK_SERVICE: (Role.REFERRER,),
    OrganisationKind.LEISURE_OPERATOR: (Role.COORDINATOR, Role.INSTRUCTOR),
    OrganisationKind.COMMISSIONER: (Role.COMMISSIONER,),
}


class EmailUpdates(models.TextChoices):
    """How status updates about referrals reach a referrer by email."""

    EACH = "each", "One email for each update"
    DAILY_DIGEST = "daily_digest", "One daily digest of the day's updates"
    NONE = "none", "No email (updates still show in the portal)"


WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - the format marker, not a secret


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def validate_webhook_secret(value: str) -> None:
    try:
        key = base64.b64decode(value.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True)
    except ValueError:
        key = b""
    if not value.startswith(WEBHOOK_SECRET_PREFIX) or not 24 <= len(key) <= 64:
        raise ValidationError(
            "Use a secret of the form whsec_ followed by 24 to 64 bytes in base64",
            code="webhook_secret_format",
        )


class HttpsURLField(models.URLField):
    """A URL field whose form assumes https:// when the scheme is left off, as webhooks need."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("Users sign in with an email address, so one is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address; there are no usernames."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200, blank=True, validators=[validate_single_line_text])
    # GMC, NMC or HCPC number: a referral records who is clinically responsible for it.
    professional_registration = models.CharField(
        max_length=30, blank=True, validators=[validate_single_line_text]
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Platform staff who may use the Django admin."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_case_insensitive_unique"),
        ]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Organisation(models.Model):
    """A GP practice, MSK service, leisure operator or commissioner."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    name = models.CharField(max_length=200, validators=[validate_single_line_text])
    # ODS code for NHS bodies, the operator's own code for leisure operators.
    code = models.CharField(max_length=20, unique=True)
    shared_mailbox = models.EmailField(
        blank=True, help_text="Where status updates go when the referrer has no email of their own."
    )
    # A leisure operator's duty mailbox: safety alerts go here at once, and again when nobody
    # acknowledges them in time (`referrals/alerts.py`, `delivery/reminders.py`).
    safety_mailbox = models.EmailField(
        blank=True,
        help_text="Leisure operators: where safety alerts are emailed, besides the coordinators.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # How this organisation hears about its referrals (DOMAIN.md, "Keeping referrers informed").
    email_updates = models.CharField(
        max_length=20,
        choices=EmailUpdates.choices,
        default=EmailUpdates.EACH,
        help_text="Referrers may choose otherwise for themselves in their membership.",
    )
    webhook_enabled = models.BooleanField(
        "send webhooks",
        default=False,
        help_text="Send each status update to the organisation's system as a signed FHIR message.",
    )
    webhook_url = HttpsURLField(
        "webhook URL",
        max_length=500,
        blank=True,
        help_text="An https address on the public internet that accepts the POSTed messages.",
    )
    webhook_secret = models.CharField(
        "webhook signing secret",
        max_length=100,
        default=new_webhook_secret,
        validators=[validate_webhook_secret],
        help_text="Shared with the receiving system so it can verify signatures (whsec_…).",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=OrganisationKind.values),
                name="organisation_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(email_updates__in=EmailUpdates.values),
                name="organisation_email_updates_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(webhook_enabled=False) | ~models.Q(webhook_url=""),
                name="organisation_webhook_enabled_has_url",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def is_referrer_kind(self) -> bool:
        return self.kind in REFERRING_KINDS


class Membership(models.Model):
    """A user's role in one organisation. A user may belong to several organisations."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # A referrer's own choice of status-update emails; blank follows the organisation's.
    email_updates = models.CharField(
        max_length=20,
        choices=EmailUpdates.choices,
        blank=True,
        help_text="Leave blank to follow the organisation's choice.",
    )

    class Meta:
        ordering = ["organisation__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="membership_unique_role_per_org"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(email_updates="")
                | models.Q(email_updates__in=EmailUpdates.values),
                name="membership_email_updates_valid",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "role"], name="membership_org_role_idx")]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} at {self.organisation.name}"

    def clean(self):
        if not self.organisation_id:
            return
        if self.role not in ROLES_BY_KIND[self.organisation.kind] | {Role.SYSTEM}:
            raise ValidationError(
                {
                    "role": f"A {self.get_role_display().lower()} cannot belong to a "
                    f"{self.organisation.get_kind_display().lower()}."
                }
            )


class ApiScope(models.TextChoices):
    """What an API client may be granted; each endpoint needs one (ADR 0006)."""

    REFERRALS_READ = "referrals:read", "Read referrals, patients on them and the events feed"
    REFERRALS_WRITE = "referrals:write", "Create, send and act on referrals"
    ATTENDANCE_WRITE = "attendance:write", "Record attendance at sessions"
    OUTCOMES_READ = "outcomes:read", "Read outcome measures"
    OUTCOMES_WRITE = "outcomes:write", "Record outcome measures"
    REPORTS_READ = "reports:read", "Read programme reports"


# The scopes that fit each kind of organisation's work (a GP system never records attendance).
SCOPES_BY_KIND: dict[str, tuple[str, ...]] = {
    OrganisationKind.GP_PRACTICE: (
        ApiScope.REFERRALS_READ,
        ApiScope.REFERRALS_WRITE,
        ApiScope.OUTCOMES_READ,
    ),
    OrganisationKind.MSK_SERVICE: (
        ApiScope.REFERRALS_READ,
        ApiScope.REFERRALS_WRITE,
        ApiScope.OUTCOMES_READ,
    ),
    OrganisationKind.LEISURE_OPERATOR: tuple(ApiScope),
    OrganisationKind.COMMISSIONER: (ApiScope.REPORTS_READ,),
}


class ApiClient(models.Model):
    """An organisation's system, calling `/api/v1/` with OAuth2 client credentials.

    It owns the django-oauth-toolkit application (its client id and hashed secret) and a system
    user with one `Role.SYSTEM` membership, through which every permission rule applies to it as
    to a person of the organisation (ADR 0006). Written only by `accounts.api_clients`.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="api_clients"
    )
    name = models.CharField(max_length=100, validators=[validate_single_line_text])
    scopes = ArrayField(models.CharField(max_length=30, choices=ApiScope.choices))
    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.PROTECT,
        related_name="api_client",
    )
    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="api_client")
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        ordering = ["organisation__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="apiclient_name_unique_per_organisation",
            ),
            models.CheckConstraint(
                condition=models.Q(scopes__contained_by=ApiScope.values) & ~models.Q(scopes=[]),
                name="apiclient_scopes_valid",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.organisation.name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
