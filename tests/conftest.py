"""Shared fixtures: the named personas (tests/personas.py), fast password hashing and a stopped
clock."""

import pytest
from django.test import override_settings

from accounts import session_timeout
from tests import personas

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with the personas built once and committed: every test that rolls
    back (all but the transactional ones) finds them there, instead of inserting them again."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        if not personas.present():  # a kept database (--reuse-db) has them already
            personas.build()


@pytest.fixture(autouse=True)
def still_session(request, monkeypatch):
    """A request stamps the session's last activity (a write) when the last stamp is 15 s old,
    so on a slow run the stamp, and its queries, would fall on a measured request at random:
    stamp once an hour instead, except where the stamping is what is tested (`session_clock`)."""
    if request.node.get_closest_marker("session_clock") is None:
        monkeypatch.setattr(session_timeout, "ACTIVITY_RESOLUTION_SECONDS", 3600)


@pytest.fixture
def people(db):
    """The personas, as fresh objects. A transactional test (`transaction=True`, a live server)
    ends by emptying every table, so after one the personas are built again: committed, for the
    transactional tests that follow (pytest-django runs them after the rest), or, should a
    rolled-back test ever come later, inside that test's transaction."""
    if not personas.present():
        personas.build()
    return personas.load()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs ~0.3 s a user; the personas would make every test slow."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture
def frozen_now(monkeypatch):
    """`frozen_now(moment)` stops the clock at `moment` (an aware datetime) for the rest of the
    test, so expectations built on "today" (working days, bank holidays, ages) mean the same on
    any day: `django.utils.timezone.now` returns it, and so `timezone.localdate()`, the services
    and `auto_now` fields see it, as do the model fields whose default is `timezone.now` (Django
    caches that function on the field, as referrals/demo.py's clock also allows for). The
    database's own NOW() is not stopped."""
    from django.apps import apps
    from django.utils import timezone

    real_now = timezone.now

    def freeze(moment):
        assert timezone.is_aware(moment), "freeze the clock at an aware datetime"
        monkeypatch.setattr(timezone, "now", lambda: moment)
        for model in apps.get_models():
            for model_field in model._meta.concrete_fields:
                if getattr(model_field, "default", None) is real_now:
                    monkeypatch.setattr(model_field, "_get_default", lambda: moment)
        return moment

    return freeze


@pytest.fixture(autouse=True)
def _broker_circuit_closed():
    """Each test starts with the broker circuit closed (`delivery.broker`): a test that stopped
    the broker leaves no open circuit to the next, and closes it after itself."""
    from delivery.broker import circuit

    circuit.close()
    yield
    circuit.close()
