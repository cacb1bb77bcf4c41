"""The URL matrix (issue 9, item 6): every URL pattern, as every kind of user, with own- and
other-organisation objects, by GET and POST.

Nothing of world "other" is reachable by the users asking (see `helpers`), so for every request:
no 5xx; no identifier of an "other" patient or member in the response, unless the request
carried it itself; and no row of "other" changed. Platform staff on /admin/ and on the audit
search (/audit/, which shows them every organisation's trail by design) are the one legitimate
exception to the last two. Each request runs in a savepoint that is rolled back, so
one request's writes never mask or cause another's result, and the worlds are built once.

Failures are collected and reported together, one line each, rather than stopping at the first.
"""

import logging
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import coverage
import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from referrals.models import Referral, Status

from .helpers import Fingerprint, build_worlds, client_for, identifiers, leaked, personas
from .urlmatrix import Case, all_cases, missing_fillers, patterns

# Every kind of requester (helpers.personas), a test each. The whole matrix is about 18,000
# requests, 150 s of CPU without coverage; `make test` spreads the roles over its processes.
ROLES = [
    "anonymous",
    "referrer",
    "coordinator",
    "instructor",
    "commissioner",
    "practice_admin",
    "operator_admin",
    "platform_staff",
    "no_membership",
    "deactivated_referrer",
    "deactivated_coordinator",
]


# Pages that show platform staff every organisation's data on purpose.
PLATFORM_WIDE = ("admin/", "audit/")


class _Rollback(Exception):
    """Raised to undo one request's writes."""


@pytest.fixture
def quiet_request_log():
    """Thousands of expected 403s and 404s would each be logged as a warning."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture
def untraced():
    """Coverage tracing paused while the matrix runs. Its ~18,000 requests go through code the
    rest of the suite covers (and must keep covering on its own); tracing them cost 55% more CPU
    (coordinator: 27.3 s traced, 17.6 s not), about a minute of `make test`'s wall time."""
    cov = coverage.Coverage.current()
    if cov is None:
        yield
        return
    cov.stop()
    try:
        yield
    finally:
        cov.start()


@pytest.fixture
def matrix(people, quiet_request_log):
    own, other = build_worlds(people)
    return SimpleNamespace(
        own=own,
        other=other,
        users=personas(people, own, other),
        cases=all_cases(own, other),
        secrets=identifiers(other),
        fingerprint=Fingerprint(other.organisations),
    )


def test_every_url_keyword_has_a_filler():
    """A new URL with a new keyword fails here first, naming what to add."""
    problems = [problem for p in patterns() for problem in missing_fillers(p)]
    assert not problems, "\n".join(problems)


def test_the_matrix_reaches_every_pattern_with_both_worlds(matrix):
    names = {p.name for p in patterns()}
    assert {"home", "account_login", "admin:index", "referrals:detail", "manage:members"} <= names
    covered = {c.pattern.route for c in matrix.cases}
    assert covered == {p.route for p in patterns()}
    with_objects = [c for c in matrix.cases if c.worlds != "none"]
    assert {c.worlds for c in with_objects} == {"own", "other", "own+other"}
    # The other world's objects really are there to be asked for.
    assert any(c.touches_other and "reference" in c.values for c in with_objects)
    assert len(matrix.secrets) > 40
    assert list(matrix.users) == ROLES


def _version(case: Case) -> int:
    reference = case.values.get("reference")
    if reference is None:
        return 1
    return Referral.objects.values_list("version", flat=True).get(reference=reference)


def _bodies(case: Case, other) -> list[dict]:
    """A plausible form carrying the object's version and the answers the portal's workflow
    forms ask for (to any other form, an empty one); and, on pages without objects, a search and
    a Find patient for an other-world patient by NHS number. What the matrix asks is whether a
    role's POST writes or leaks; each form's own empty and bad values are
    tests/security/test_form_fuzz.py's, which need not be sent again by every role."""
    plausible = {
        "version": _version(case),
        "status": "attended",
        "reason": "other",
        "note": "matrix",
        "question": "Matrix question?",
        "answer": "Matrix answer",
        "confirm": "yes",
        "post": "yes",
        "first_session_at": "2031-01-01T10:00",
    }
    bodies = [plausible]
    if case.worlds == "none":
        nhs_number = other.referral(Status.ACTIVE).patient.nhs_number
        bodies.append({"q": nhs_number, "find": "", "nhs_number": nhs_number})
    return bodies


class Matrix:
    def __init__(self, data):
        self.data = data
        self.failures: list[str] = []
        self.requests = 0
        self.before = data.fingerprint.take()
        self.before_rows = data.fingerprint.rows()

    def run(self, role: str, client: Client, case: Case, method: str, body: dict | None):
        exempt = role == "platform_staff" and case.pattern.route.startswith(PLATFORM_WIDE)
        url = case.url
        # What the request carried is no leak, nor is the requester's own email on their pages.
        asked = " ".join([url, *(str(v) for v in (body or {}).values()), client.email])
        session = client.cookies.get(settings.SESSION_COOKIE_NAME)
        label = f"{role} {method.upper()} {url} [{case.worlds}] body={sorted(body or {})}"
        try:
            with transaction.atomic():
                writes = self.data.fingerprint.writes()
                response = self._send(client, method, url, body)
                responses = [response]
                if body and "q" in body and response.status_code == 302:
                    location = urlsplit(response["Location"]).path
                    if location.startswith("/"):
                        responses.append(self._send(client, "get", location, None))
                for r in responses:
                    self._check(label, r, asked, exempt)
                # Hash the other world again only when the request wrote to its tables at all.
                wrote = self.data.fingerprint.writes() != writes
                if not exempt and wrote and self.data.fingerprint.take() != self.before:
                    changes = self.data.fingerprint.changes(self.before_rows)
                    self.failures.append(f"{label}: changed the other world: {changes}")
                raise _Rollback
        except _Rollback:
            pass
        if session is not None:
            client.cookies[settings.SESSION_COOKIE_NAME] = session.value

    def _send(self, client: Client, method: str, url: str, body):
        self.requests += 1
        if method == "get":
            return client.get(url)
        return client.post(url, body)

    def _check(self, label: str, response, asked: str, exempt: bool) -> None:
        if response.status_code >= 500:
            error = getattr(response, "exc_info", None)
            cause = f"{error[0].__name__}: {error[1]}" if error else ""
            self.failures.append(f"{label}: HTTP {response.status_code} {cause}")
        if not exempt:
            found = leaked(response, self.data.secrets, asked=asked)
            if found:
                self.failures.append(f"{label}: HTTP {response.status_code} shows {found}")


@pytest.mark.parametrize("role", ROLES)
def test_every_url_as_each_role_with_own_and_other_objects(matrix, role, untraced):
    """One role a test, so that `make test` spreads the roles over its processes."""
    started, cpu_started = time.monotonic(), time.process_time()
    user = matrix.users[role]
    client = client_for(user)
    client.email = user.email if user else "(anonymous)"
    run = Matrix(matrix)  # after signing in, which stamps last_login on the user
    for case in matrix.cases:
        run.run(role, client, case, "get", None)
        for body in _bodies(case, matrix.other):
            run.run(role, client, case, "post", body)
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
    print(
        f"URL matrix as {role}: {run.requests} requests, {len(matrix.cases)} cases, "
        f"{elapsed:.1f} s wall, {cpu:.1f} s CPU"
    )
    assert run.requests >= 2 * len(matrix.cases)
    assert not run.failures, f"{len(run.failures)} failures:\n" + "\n".join(run.failures)
    assert run.data.fingerprint.take() == run.before


def test_a_csrf_enforcing_client_cannot_post_anything(matrix):
    """Without the token a real browser form carries, every POST is refused and changes nothing:
    the matrix's test client skips CSRF checks, which stands for an attacker with a session."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(matrix.own.coordinator)
    before = matrix.fingerprint.take()
    own = Fingerprint(matrix.own.organisations)
    own_before = own.take()
    refused = {}
    for case in matrix.cases:
        if case.worlds in {"own", "none"} and not case.pattern.route.startswith("admin/"):
            response = client.post(case.url, {"version": 1, "status": "attended"})
            refused[case.url] = response.status_code
    assert set(refused.values()) == {403}, {u: s for u, s in refused.items() if s != 403}
    assert matrix.fingerprint.take() == before
    assert own.take() == own_before


def test_the_checks_see_a_leak_and_a_write_when_there_is_one(matrix):
    """Positive control: the other world's own referrer does see its patient, and its
    coordinator's accept does change its rows, so the matrix's silence means something."""
    other = matrix.other
    referral = other.referral(Status.SUBMITTED)
    client = client_for(other.referrer)
    page = client.get(f"/referrals/{referral.reference}/")
    assert referral.patient.family_name in leaked(page, matrix.secrets)
    before = matrix.fingerprint.take()
    coordinator = client_for(other.coordinator)
    response = coordinator.post(
        f"/triage/{referral.reference}/decline/",
        {"reason": "outside_area", "note": "", "version": referral.version},
    )
    assert response.status_code == 302
    assert matrix.fingerprint.take() != before


def test_the_fingerprint_sees_a_write_to_the_other_world_however_it_is_skipped(matrix):
    """The matrix hashes the other world only when its tables saw a write: a write there moves
    the count and changes the hash; a read moves neither."""
    before_writes, before = matrix.fingerprint.writes(), matrix.fingerprint.take()
    referral = matrix.other.referral(Status.ACTIVE)
    Referral.objects.filter(pk=referral.pk).update(version=referral.version)  # a no-op update

    assert Referral.objects.filter(pk=referral.pk).exists()
    assert matrix.fingerprint.writes() == before_writes + 1
    assert matrix.fingerprint.take() == before  # same values: the hash cannot tell
    Referral.objects.filter(pk=referral.pk).update(version=referral.version + 1)
    assert matrix.fingerprint.writes() == before_writes + 2
    assert matrix.fingerprint.take() != before
