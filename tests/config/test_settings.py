"""Settings come from the environment; production refuses to start without what it cannot
default, and passes Django's deployment checklist when given it (CONVENTIONS.md, config/)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "PORTAL_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "portal.example.nhs.uk",
    "DATABASE_URL": "postgres://portal@db.example.nhs.uk:5432/portal",
    "REDIS_URL": "redis://redis.example.nhs.uk:6379/0",
    "DEFAULT_FROM_EMAIL": "Referral Portal <noreply@portal.example.nhs.uk>",
}


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the project's Python with exactly `env` (plus PATH), so nothing leaks in from CI."""
    return subprocess.run(  # noqa: S603
        [sys.executable, *args],
        cwd=BASE_DIR,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def import_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_python("-c", "import config.settings", env=env)


def test_production_settings_import_with_every_required_value():
    result = import_settings(PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "DEFAULT_FROM_EMAIL"]
)
def test_production_refuses_to_start_without_a_required_value(missing):
    env = {name: value for name, value in PRODUCTION_ENV.items() if name != missing}

    result = import_settings(env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{missing} must be set" in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_refuses_an_empty_required_value(missing):
    result = import_settings(PRODUCTION_ENV | {missing: ""})

    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_allowed_hosts_of_only_commas():
    result = import_settings(PRODUCTION_ENV | {"ALLOWED_HOSTS": " , ,"})

    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_development_needs_no_environment_at_all():
    result = run_python(
        "-c",
        "from config import settings; print(settings.DEBUG, settings.SECRET_KEY != '')",
        env={},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True True"


@pytest.mark.parametrize("portal_env", ["development", "production"])
@pytest.mark.parametrize("url", ["sqlite:///portal.db", "mysql://portal@db.example/portal"])
def test_a_database_other_than_postgresql_is_refused(portal_env, url):
    result = import_settings(PRODUCTION_ENV | {"PORTAL_ENV": portal_env, "DATABASE_URL": url})

    assert result.returncode != 0
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr


def test_production_turns_debug_off_and_secures_cookies():
    result = run_python(
        "-c",
        "from config import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000, "
        "s.PORTAL_REQUIRE_MFA)",
        env=PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"] + ["True"] * 5


def test_check_deploy_in_production_reports_no_warnings():
    result = run_python(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize("name", ["PORTAL_SESSION_IDLE_MINUTES", "PORTAL_SESSION_MAX_HOURS"])
def test_a_session_limit_below_one_is_refused(name):
    result = import_settings(PRODUCTION_ENV | {name: "0"})

    assert result.returncode != 0
    assert "must be at least 1" in result.stderr


def test_the_session_limits_and_sign_in_lockout_come_from_the_environment():
    env = PRODUCTION_ENV | {
        "PORTAL_SESSION_IDLE_MINUTES": "15",
        "PORTAL_SESSION_MAX_HOURS": "12",
        "PORTAL_SIGNIN_FAILURE_LIMIT": "5",
        "PORTAL_SIGNIN_LOCKOUT_MINUTES": "30",
    }
    result = run_python(
        "-c",
        "from config import settings as s; print(s.PORTAL_SESSION_IDLE_MINUTES, "
        "s.SESSION_COOKIE_AGE, s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()))",
        env=env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["15", str(12 * 3600), "5", str(30 * 60)]


def test_sign_in_is_guarded_by_axes_first_and_last(settings):
    # The backend refuses a locked-out pair before any password check; the middleware, last,
    # turns the refusal into the lockout page.
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_production_keeps_the_security_headers_behind_whitenoise():
    result = run_python(
        "-c",
        "from config import settings as s; print(' '.join(s.MIDDLEWARE[:4]))",
        env=PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "config.health.HealthCheckMiddleware",  # probes answered before the host check
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "config.security.SecurityHeadersMiddleware",
    ]


def test_a_reports_replica_is_a_second_database_the_router_reads_reports_from():
    """REPORTS_DATABASE_URL adds the `reports` database (a mirror of the primary in tests);
    without it there is none (tests/outcomes/test_reports_replica.py reads from a real copy)."""
    code = (
        "from config import settings as s; import json; "
        "r = s.DATABASES.get('reports'); "
        "print(json.dumps([r and r['HOST'], r and r['TEST'], s.DATABASE_ROUTERS]))"
    )
    replica = "postgres://portal@replica.example.nhs.uk:5432/portal"
    result = run_python("-c", code, env={**PRODUCTION_ENV, "REPORTS_DATABASE_URL": replica})
    assert result.returncode == 0, result.stderr
    host, test, routers = json.loads(result.stdout)
    assert host == "replica.example.nhs.uk"
    assert test == {"MIRROR": "default"}
    assert routers == ["outcomes.replica.ReportsReplicaRouter"]

    without = run_python("-c", code, env=PRODUCTION_ENV)
    assert json.loads(without.stdout)[0] is None
