"""Settings for every environment, each value read from the environment.

Local development needs no variables at all: the defaults point at the embedded PostgreSQL and
Redis that `scripts/devservers.py` starts under `.data/`. Production mode (`PORTAL_ENV=production`)
refuses to start when a value it cannot safely default is missing.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


PRODUCTION = os.environ.get("PORTAL_ENV", "development").lower() == "production"


def env_required(name: str, local_default: str) -> str:
    """A value production must be given; local runs get a safe default."""
    value = os.environ.get(name, "")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when PORTAL_ENV=production")
    return local_default


# The embedded servers (scripts/devservers.py) listen here when nothing else is configured.
EMBEDDED_DATA_DIR = BASE_DIR / ".data"
EMBEDDED_DATABASE_URL = (
    "postgres://postgres@" + str(EMBEDDED_DATA_DIR / "postgres").replace("/", "%2F") + "/portal"
)

SECRET_KEY = env_required("SECRET_KEY", "insecure-local-development-key-not-for-production")
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when PORTAL_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django.forms",
    "rest_framework",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "facilities",
    "referrals",
    "outcomes",
    "leisure",
    "delivery",
    "demo",
    "pgtrigger",
    "pghistory",
    "audit",
    "governance",
    "manage",
    "api",
    "fhir_server",
    "axes",
]

MIDDLEWARE = [
    # /healthz and /readyz for orchestrators, before the host check and HTTPS redirect.
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "config.security.SecurityHeadersMiddleware",
    "audit.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.session_timeout.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.RequireMfaMiddleware",
    "audit.middleware.HistoryMiddleware",
    # Last, as axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION or not DEBUG:
    # Gunicorn (production, `make serve`) serves the collected static files through WhiteNoise;
    # locally runserver serves them from static/.
    MIDDLEWARE.insert(2, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"
# Widgets render with the project's templates too (e.g. components/date_input_widget.html).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "accounts.session_timeout.session_timeout",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_required("DATABASE_URL", EMBEDDED_DATABASE_URL),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# Behind PgBouncer in transaction pooling mode (docs/deploy.md), a connection is the client's
# only for one transaction: no server-side cursors (they outlive it). The portal keeps no other
# session state: time zone and isolation are the server's defaults, and the history context
# (pghistory) and audit purge use transaction-local settings.
DATABASE_TRANSACTION_POOLING = env_bool("DATABASE_TRANSACTION_POOLING", default=False)
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_TRANSACTION_POOLING

# An optional read replica for the programme reports (outcomes/replica.py): only their reads
# go there. In tests it mirrors the primary.
REPORTS_DATABASE_URL = os.environ.get("REPORTS_DATABASE_URL", "")
if REPORTS_DATABASE_URL:
    DATABASES["reports"] = {
        **dj_database_url.parse(
            REPORTS_DATABASE_URL,
            conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
            conn_health_checks=True,
        ),
        "TEST": {"MIRROR": "default"},
        "DISABLE_SERVER_SIDE_CURSORS": DATABASE_TRANSACTION_POOLING,
    }
DATABASE_ROUTERS = ["outcomes.replica.ReportsReplicaRouter"]
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured(
        "DATABASE_URL must point at PostgreSQL: the portal runs on nothing else"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_required("REDIS_URL", f"redis+socket://{EMBEDDED_DATA_DIR}/redis/redis.sock")

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out email and address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# Sign-in: email and password only. Accounts are created by organisation admins, never by sign-up.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "accounts.adapters.PortalAccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
# A reset request for an unknown address says the same as for a known one but sends nothing.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
# Failed sign-ins are counted by django-axes (below), in the database. allauth's own limits on
# sign-in are off: they live in one process's memory, and its per-address ones lock every account
# on a shared practice network out after one person's mistakes. Its other limits stay.
ACCOUNT_RATE_LIMITS = {"login": None, "login_failed": None}
# --- Failed sign-ins (accounts/signin_throttle.py) --------------------------------------------
# AXES_FAILURE_LIMIT wrong passwords for one email from one address lock that pair (only) out for
# AXES_COOLOFF_TIME. The count is in PostgreSQL, so every web process sees it. The address is
# REMOTE_ADDR: forwarded headers are not trusted, so behind a proxy the lock is per email.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("PORTAL_SIGNIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=int(os.environ.get("PORTAL_SIGNIN_LOCKOUT_MINUTES", "15"))
)
AXES_RESET_ON_SUCCESS = True
# Only failures are kept (and cleared after the cool-off): a row per successful sign-in, with
# address and browser, would be personal data kept for no purpose.
AXES_DISABLE_ACCESS_LOG = True
AXES_USERNAME_CALLABLE = "accounts.signin_throttle.attempted_email"
AXES_LOCKOUT_CALLABLE = "accounts.signin_throttle.lockout_response"
# Failures logged with the email and address masked; the attempt rows hold them for unlocking.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "password"]

MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Referral Portal"
# Addresses are entered by organisation admins and platform staff, not self-registered, so staff
# can enrol a second factor straight away instead of waiting on a verification email.
MFA_ALLOW_UNVERIFIED_EMAIL = True
# Staff see patient data, so production requires a second factor; the demo does not.
PORTAL_REQUIRE_MFA = env_bool("PORTAL_REQUIRE_MFA", default=PRODUCTION)
# NHS numbers from the 999 test range (never issued to a person) are for demo and test data: a
# live service refuses them, so a test record cannot be mixed up with a real patient.
PORTAL_ALLOW_TEST_NHS_NUMBERS = env_bool("PORTAL_ALLOW_TEST_NHS_NUMBERS", default=not PRODUCTION)

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env_required("DEFAULT_FROM_EMAIL", "Referral Portal <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE

# --- Status-update delivery (delivery/, docs/status-updates.md) ----------------------
# Queuing a delivery after commit must never hold up or fail a request when Redis is down: the
# publish gives up at once instead of retrying, a dead or hung broker costs at most about a
# second, and the sweep below delivers whatever could not be queued.
CELERY_TASK_PUBLISH_RETRY = False
# A request publishes with these connect and socket timeouts (seconds), and after one failure
# not at all until the broker answers again (delivery/broker.py).
PORTAL_BROKER_PUBLISH_TIMEOUT = float(os.environ.get("PORTAL_BROKER_PUBLISH_TIMEOUT", "0.25"))
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 0,
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    # Tasks are short and the sweep re-queues anything a lost worker held: an hour is plenty.
    "visibility_timeout": 3600,
}
# Where sign-in links in emails and the FHIR message source point.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "").rstrip("/") or (
    f"https://{ALLOWED_HOSTS[0]}" if PRODUCTION else "http://127.0.0.1:8000"
)
# The namespace of the portal's FHIR identifier and code systems: names that systems store and
# match on, never fetched, so they must not follow the host the portal happens to run on (unlike
# PORTAL_BASE_URL). Choose one per scheme (a URL the scheme controls) and never change it.
PORTAL_FHIR_NAMESPACE = (
    os.environ.get("PORTAL_FHIR_NAMESPACE", "").rstrip("/")
    or "https://referral-portal.example/fhir"
)
# Retries: exponential backoff from BASE doubling to CAP, each delay jittered by ±20%, then dead
# after MAX_ATTEMPTS. The defaults spread 14 attempts over about 24 hours.
PORTAL_DELIVERY_MAX_ATTEMPTS = int(os.environ.get("PORTAL_DELIVERY_MAX_ATTEMPTS", "14"))
PORTAL_DELIVERY_RETRY_BASE_SECONDS = float(
    os.environ.get("PORTAL_DELIVERY_RETRY_BASE_SECONDS", "60")
)
PORTAL_DELIVERY_RETRY_CAP_SECONDS = float(
    os.environ.get("PORTAL_DELIVERY_RETRY_CAP_SECONDS", str(4 * 60 * 60))
)
# The sweep re-queues what is due and undelivered; rows younger than the grace period are left to
# the task queued after commit, so a healthy system does not queue everything twice.
PORTAL_DELIVERY_SWEEP_SECONDS = float(os.environ.get("PORTAL_DELIVERY_SWEEP_SECONDS", "60"))
PORTAL_DELIVERY_SWEEP_GRACE_SECONDS = float(
    os.environ.get("PORTAL_DELIVERY_SWEEP_GRACE_SECONDS", "30")
)
PORTAL_DELIVERY_SWEEP_BATCH = int(os.environ.get("PORTAL_DELIVERY_SWEEP_BATCH", "1000"))
# One send: the HTTP timeout fits in the task's soft limit, the hard limit kills a stuck task, and
# the lease on the row outlasts the hard limit, so no one else sends it while a worker might.
PORTAL_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("PORTAL_WEBHOOK_TIMEOUT_SECONDS", "10"))
PORTAL_DELIVERY_SOFT_TIME_LIMIT = int(os.environ.get("PORTAL_DELIVERY_SOFT_TIME_LIMIT", "45"))
PORTAL_DELIVERY_TIME_LIMIT = int(os.environ.get("PORTAL_DELIVERY_TIME_LIMIT", "60"))
PORTAL_DELIVERY_LEASE_SECONDS = float(
    os.environ.get("PORTAL_DELIVERY_LEASE_SECONDS", str(PORTAL_DELIVERY_TIME_LIMIT + 30))
)
if not (
    PORTAL_WEBHOOK_TIMEOUT_SECONDS
    < PORTAL_DELIVERY_SOFT_TIME_LIMIT
    <= PORTAL_DELIVERY_TIME_LIMIT
    < PORTAL_DELIVERY_LEASE_SECONDS
):
    raise ImproperlyConfigured(
        "Delivery limits must grow: webhook timeout < soft limit <= hard limit < lease"
    )
# Webhooks go to https addresses on the public internet. Plain http is for local development;
# private and loopback addresses only for tests and a receiver on the same machine.
PORTAL_WEBHOOK_ALLOW_HTTP = env_bool("PORTAL_WEBHOOK_ALLOW_HTTP", default=DEBUG)
PORTAL_WEBHOOK_ALLOW_PRIVATE = env_bool("PORTAL_WEBHOOK_ALLOW_PRIVATE", default=False)
# Local time of day for the daily digest emails and the overdue-triage reminders.
PORTAL_EMAIL_DIGEST_HOUR = int(os.environ.get("PORTAL_EMAIL_DIGEST_HOUR", "7"))
PORTAL_TRIAGE_REMINDER_HOUR = int(os.environ.get("PORTAL_TRIAGE_REMINDER_HOUR", "8"))
# Lets a test point the file email backend somewhere of its own.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / ".data" / "emails"))

CELERY_BEAT_SCHEDULE: dict = {
    "notifications-sweep": {
        "task": "delivery.tasks.notifications_sweep",
        "schedule": PORTAL_DELIVERY_SWEEP_SECONDS,
        # A sweep that could not run in its slot is replaced by the next one, not queued up.
        "options": {"expires": PORTAL_DELIVERY_SWEEP_SECONDS},
    },
    "triage-reminders": {
        "task": "delivery.tasks.triage_reminders_queue",
        "schedule": crontab(hour=PORTAL_TRIAGE_REMINDER_HOUR, minute=0),
    },
}
# --- End of status-update delivery ----------------------------------------------------------

# --- Safety alerts (referrals/alerts.py, docs/architecture.md) ----------------------------------
# A resting heart rate recorded at the centre outside this range (beats a minute) raises an alert,
# as does BP of 180/100 or more. An alert nobody has acknowledged this many hours after it was
# raised goes to the operator's admins and safety mailbox (once); the job looks every few minutes.
PORTAL_ALERT_HR_MIN = int(os.environ.get("PORTAL_ALERT_HR_MIN", "40"))
PORTAL_ALERT_HR_MAX = int(os.environ.get("PORTAL_ALERT_HR_MAX", "120"))
PORTAL_ALERT_ESCALATE_HOURS = float(os.environ.get("PORTAL_ALERT_ESCALATE_HOURS", "4"))
PORTAL_ALERT_ESCALATION_SWEEP_SECONDS = float(
    os.environ.get("PORTAL_ALERT_ESCALATION_SWEEP_SECONDS", "300")
)
if not 0 < PORTAL_ALERT_HR_MIN < PORTAL_ALERT_HR_MAX:
    raise ImproperlyConfigured("PORTAL_ALERT_HR_MIN must be above 0 and below PORTAL_ALERT_HR_MAX")
CELERY_BEAT_SCHEDULE["safety-alert-escalation"] = {
    "task": "delivery.tasks.safety_alerts_escalate",
    "schedule": PORTAL_ALERT_ESCALATION_SWEEP_SECONDS,
    "options": {"expires": PORTAL_ALERT_ESCALATION_SWEEP_SECONDS},
}

# --- Retention (governance/retention.py, docs/architecture.md) ----------------------------------
# Records are kept this many whole years after the referral ends (the NHS records code for adult
# records: 8), then pseudonymised; drafts untouched this many months are deleted.
PORTAL_RETENTION_YEARS = int(os.environ.get("PORTAL_RETENTION_YEARS", "8"))
PORTAL_DRAFT_RETENTION_MONTHS = int(os.environ.get("PORTAL_DRAFT_RETENTION_MONTHS", "6"))
PORTAL_RETENTION_BATCH = int(os.environ.get("PORTAL_RETENTION_BATCH", "500"))
# Days an uploaded attendance file and its rows' values are kept (they name patients): long
# enough to fix and re-import a file and to work the unmatched queue, then cleared.
PORTAL_IMPORT_RETENTION_DAYS = int(os.environ.get("PORTAL_IMPORT_RETENTION_DAYS", "90"))
PORTAL_RETENTION_HOUR = int(os.environ.get("PORTAL_RETENTION_HOUR", "2"))
# Keys the hash that replaces a pseudonymised NHS number. Changing it breaks the link between
# records pseudonymised before and after, so give it its own value rather than rotate SECRET_KEY.
PORTAL_PSEUDONYM_KEY = os.environ.get("PORTAL_PSEUDONYM_KEY", "") or SECRET_KEY
CELERY_BEAT_SCHEDULE["retention"] = {
    "task": "governance.tasks.retention_run",
    "schedule": crontab(hour=PORTAL_RETENTION_HOUR, minute=30),
}
# The API's idempotency keys keep first responses (patient details among them) for a day only.
CELERY_BEAT_SCHEDULE["api-idempotency-keys-purge"] = {
    "task": "api.tasks.idempotency_keys_purge",
    "schedule": crontab(minute=15),
}
# Started attendance imports no worker took (the broker was down) are queued again.
CELERY_BEAT_SCHEDULE["attendance-imports-sweep"] = {
    "task": "leisure.tasks.attendance_imports_sweep",
    "schedule": 60.0,
    "options": {"expires": 60.0},
}

# Scheduled jobs go to a queue of their own, which every worker consumes beside the default one
# (Redis is read in turn, a message from each), so a sweep never waits behind a backlog of
# deliveries, and never expires there: the sweep is the safety net under that backlog.
CELERY_TASK_DEFAULT_QUEUE = "celery"
SCHEDULED_QUEUE = "scheduled"
# Each queue its own exchange and key: a shared default key would put a message on both.
CELERY_TASK_QUEUES = tuple(
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in (CELERY_TASK_DEFAULT_QUEUE, SCHEDULED_QUEUE)
)
CELERY_TASK_ROUTES = {
    entry["task"]: {"queue": SCHEDULED_QUEUE} for entry in CELERY_BEAT_SCHEDULE.values()
}

REST_FRAMEWORK = {
    # /api/v1/ takes OAuth2 client-credentials tokens only (api/authentication.py): no cookies,
    # so no CSRF exposure, and a person's session never reaches the API.
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ClientTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ClientHasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ClientRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON, refusing text PostgreSQL cannot store (NUL, unpaired surrogates) with a 400.
    "DEFAULT_PARSER_CLASSES": ["api.parsers.StorableJSONParser"],
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

# Each API client's request budget (api/throttling.py), counted in Redis across web processes.
PORTAL_API_RATE = os.environ.get("PORTAL_API_RATE", "600/minute")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # Celery's "redis+socket://path" (the embedded Redis) is redis-py's "unix://path".
        "LOCATION": REDIS_URL.replace("redis+socket://", "unix://", 1),
        "KEY_PREFIX": "portal",
        "TIMEOUT": 3600,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
}

# OAuth2 client credentials for organisation systems (ADR 0006, docs/api.md). Tokens last an
# hour; a token carries only its client's scopes (accounts.api_clients.ClientScopes).
OAUTH2_PROVIDER = {
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
    "SCOPES_BACKEND_CLASS": "accounts.api_clients.ClientScopes",
    "PKCE_REQUIRED": True,
    # The OAuth 2.0 Security BCP (RFC 9700) throughout, though only client credentials is used:
    # tokens stored hashed, never read from a query string, no implicit or password grant.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
}

# django-oauth-toolkit's application model, named here because accounts.ApiClient refers to it.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"

SPECTACULAR_SETTINGS = {
    "TITLE": "Referral Portal API",
    "DESCRIPTION": (
        "For the systems of GP practices, MSK services, leisure operators and commissioners. "
        "Every call acts for the client's organisation, under the same rules as its people. "
        "How to get a client and a token: docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    # No validator badge: it would send the schema to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # The token URL in the schema's client-credentials security scheme (api/schema.py).
    "OAUTH2_TOKEN_URL": "/oauth/token/",
    # After drf-spectacular's own: the OpenAPI links between the draft operations (api/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.referral_links",
        "api.schema.throttled_responses",
    ],
    # Several fields are called `status`: each set of choices gets a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "ReferralStatusEnum": "referrals.models.Status",
        "AttendanceEnum": "referrals.models.Attendance",
        "RecordableAttendanceEnum": "api.serializers_data.RECORDABLE_ATTENDANCE",
        # An assessment's timepoint, and those in a programme's outcome schedule.
        "TimepointEnum": "outcomes.models.Timepoint",
    },
}

SESSION_COOKIE_HTTPONLY = True
# Sessions end after this many minutes without a request, and this many hours after sign-in
# (accounts/session_timeout.py); the page warns this many seconds before the idle limit.
PORTAL_SESSION_IDLE_MINUTES = int(os.environ.get("PORTAL_SESSION_IDLE_MINUTES", "30"))
PORTAL_SESSION_MAX_HOURS = int(os.environ.get("PORTAL_SESSION_MAX_HOURS", "8"))
PORTAL_SESSION_WARNING_SECONDS = 120
if PORTAL_SESSION_IDLE_MINUTES < 1 or PORTAL_SESSION_MAX_HOURS < 1:
    raise ImproperlyConfigured(
        "PORTAL_SESSION_IDLE_MINUTES and PORTAL_SESSION_MAX_HOURS must be at least 1"
    )
SESSION_COOKIE_AGE = 60 * 60 * PORTAL_SESSION_MAX_HOURS
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Patient data never reaches logs: the portal logs opaque references only, and nothing here
# enables request-body or SQL logging.
# One JSON object a line in production (config/logs.py), readable lines locally; both carry the
# request id.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "config.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Failures and lockouts (WARNING, email and address masked), not every clean-up.
        "axes": {"level": "WARNING"},
    },
}

# Working days for triage service levels are counted in this part of the UK.
PORTAL_BANK_HOLIDAY_SUBDIVISION = "ENG"
