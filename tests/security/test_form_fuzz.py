"""No HTTP 500 for any input to any form field (issue 11, "Input that cannot break it").

Every field of every form in the referral steps, the triage actions, the register, the outcome
forms, the contact log and the outcome schedule editor is posted, one field at a time, with each
kind of bad value below while the rest of the form stays valid: empty, too long (10,000
characters), the wrong type (a word, a 40-digit integer, a negative number) and unicode (a
right-to-left override, emoji, a NUL byte). For each:

- the response is never a 5xx;
- when the page's form refuses the input (built the way the view builds it, with the same data),
  nothing of the organisations involved changed (`helpers.Fingerprint`: every row of practice A
  and operator X, hashed).

Each post runs in a savepoint that is rolled back, so the values of one field are tried against
the same starting state. A companion test posts each page's valid answers and checks they are
accepted, so the bad values really are tried against working forms. The fields are read from the
form classes, so a field added later is fuzzed without changing this file.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django import forms
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from leisure.forms import ContactAttemptForm, MembershipNumberForm
from leisure.views.triage import ACTION_PAGES, _form_for
from manage.forms_schedules import OutcomeScheduleForm
from outcomes import instruments
from outcomes.forms import InstrumentForm
from referrals.consent import RECORDABLE_METHODS, open_decisions
from referrals.forms import (
    AnswerInformationForm,
    CancelReferralForm,
    ClinicalDetailsForm,
    ConsentDecisionForm,
    ConsentForm,
    FindPatientForm,
    PatientForm,
    ProgrammeChoiceForm,
    SafetyScreenForm,
)
from referrals.models import Referral, Session, Status
from referrals.placements import placements_for
from referrals.services import notifications_mark_read
from tests.builders import referral_in_state, session_due_now
from tests.outcomes.instrument_answers import lowest_answers

from .helpers import Fingerprint, client_for

PINNED = timezone.make_aware(datetime.datetime(2026, 11, 4, 10, 30))  # a Wednesday morning

BAD_VALUES = [
    ("empty", ""),
    ("too-long", "x" * 10_000),
    ("word", "not-a-number"),
    ("huge-integer", "9" * 40),
    ("negative", "-1"),
    ("rtl-override", "Ev\u202eil"),
    ("emoji", "\U0001f3c3\u200d\u2640\ufe0f\U0001f4aa"),
    ("nul-byte", "a\x00b"),
]

PATIENT = {
    "nhs_number": "",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "date_of_birth_0": "10",
    "date_of_birth_1": "12",
    "date_of_birth_2": "1960",
    "sex": "F",
    "postcode": "LS6 2AB",
    "phone": "07700 900123",
    "email": "",
    "contact_methods": ["phone"],
    "interpreter_needed": "no",
    "interpreter_language": "",
    "ethnicity": "Z",
}


@dataclass
class Setup:
    """What one page is posted about: the people, and the referral (and session) it needs."""

    people: Any
    referral: Referral | None = None
    session: Session | None = None

    @property
    def reference(self) -> str:
        assert self.referral is not None
        return self.referral.reference


@dataclass(frozen=True)
class Page:
    """One form page: who posts it, about what, its valid answers and how its view builds the
    form (to know whether the form refuses a given post)."""

    name: str
    persona: str
    state: str | None
    url: Callable[[Setup], str]
    valid: Callable[[Setup], dict[str, Any]]
    form: Callable[[Setup, Any], forms.Form | None]
    form_class: type[forms.Form] | None = None
    instrument: str = ""
    # Posted keys outside the form: the version the user saw, where the view reads it.
    extra: tuple[str, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)
    # Where a page has no Django form: whether the posted data is refused.
    refuses: Callable[[Setup, Any], bool] | None = None
    accepted_status: int = 302
    writes: bool = True  # whether valid answers write anything (Find patient only reads)

    def post_keys(self) -> list[str]:
        """Every POST key of the form: a date's three boxes are three keys."""
        if self.instrument:
            fields = InstrumentForm(instrument=instruments.get(self.instrument)).fields
        elif self.form_class is not None:
            fields = self.form_class.base_fields
        else:
            fields = {}
        keys = []
        for name, form_field in fields.items():
            widget = form_field.widget
            if isinstance(widget, forms.MultiWidget):
                keys.extend(f"{name}_{index}" for index in range(len(widget.widgets)))
            else:
                keys.append(name)
        return [*keys, *self.extra]


def _step(name: str) -> Callable[[Setup], str]:
    return lambda s: reverse("referrals:step", args=[s.reference, name])


def _completing(data: Any) -> bool:
    return "save_draft" not in data


def _with_version(setup: Setup, data: dict[str, Any]) -> dict[str, Any]:
    assert setup.referral is not None
    return {**data, "version": str(setup.referral.version)}


def _triage(name: str, state: str, valid: Callable[[Setup], dict[str, Any]]) -> Page:
    return Page(
        name=f"triage-{name}",
        persona="coordinator_x",
        state=state,
        url=lambda s: reverse("triage:action", args=[s.reference, name]),
        valid=lambda s: _with_version(s, valid(s)),
        form=lambda s, data: _form_for(name, s.referral, data),
        form_class=ACTION_PAGES[name].form_class,
        extra=("version",),
    )


def _record(code: str) -> Page:
    definition = instruments.get(code)
    return Page(
        name=f"outcomes-{code}",
        persona="instructor_x",
        state=Status.ACTIVE,
        url=lambda s: reverse("outcomes:record", args=[s.reference, code, "baseline"]),
        valid=lambda s: {
            **{k: str(v) for k, v in lowest_answers(definition).items()},
            "method": "instructor",
        },
        form=lambda s, data: InstrumentForm(data, instrument=definition),
        instrument=code,
    )


def _bp_today() -> dict[str, str]:
    today = timezone.localdate()
    return {
        "bp_measured_on_0": str(today.day),
        "bp_measured_on_1": str(today.month),
        "bp_measured_on_2": str(today.year),
    }


def _not_a_status(setup: Setup, data: Any) -> bool:
    return data.get("status") not in {
        Session.Attendance.ATTENDED,
        Session.Attendance.DNA,
        Session.Attendance.CANCELLED_PATIENT,
        Session.Attendance.CANCELLED_PROVIDER,
    }


def _mark_page(name: str, headers: dict[str, str], accepted_status: int) -> Page:
    return Page(
        name=name,
        persona="instructor_x",
        state=Status.BOOKED,
        url=lambda s: reverse("register:mark", args=[s.session.public_id]),  # type: ignore[union-attr]
        valid=lambda s: {"status": "attended"},
        form=lambda s, data: None,
        extra=("status",),
        headers=headers,
        refuses=_not_a_status,
        accepted_status=accepted_status,
    )


PAGES = [
    Page(
        name="find-patient",
        persona="referrer_a",
        state=None,
        url=lambda s: reverse("referrals:new"),
        valid=lambda s: {"nhs_number": "999 000 0018", "find": "1"},
        form=lambda s, data: FindPatientForm(data),
        form_class=FindPatientForm,
        accepted_status=200,
        writes=False,
    ),
    Page(
        name="new-referral-patient",
        persona="referrer_a",
        state=None,
        url=lambda s: reverse("referrals:new"),
        valid=lambda s: {**PATIENT, "continue": "1"},
        form=lambda s, data: PatientForm(data),
        form_class=PatientForm,
    ),
    Page(
        name="step-patient",
        persona="referrer_a",
        state=Status.DRAFT,
        url=_step("patient"),
        valid=lambda s: {**PATIENT, "continue": "1"},
        form=lambda s, data: PatientForm(data),
        form_class=PatientForm,
    ),
    Page(
        name="step-details",
        persona="referrer_a",
        state=Status.DRAFT,
        url=_step("details"),
        valid=lambda s: _with_version(
            s,
            {
                "reasons": ["38341003"],
                "bp_systolic": "140",
                "bp_diastolic": "85",
                **_bp_today(),
                "heart_rate_medication": "no",
                "medication_notes": "",
                "relevant_history": "",
                "risk_tier": "low",
                "priority": "routine",
            },
        ),
        form=lambda s, data: ClinicalDetailsForm(data, completing=_completing(data)),
        form_class=ClinicalDetailsForm,
        extra=("version",),
    ),
    Page(
        name="step-safety",
        persona="referrer_a",
        state=Status.DRAFT,
        url=_step("safety"),
        valid=lambda s: _with_version(s, {"exclusions": ["none"]}),
        form=lambda s, data: SafetyScreenForm(data, completing=_completing(data)),
        form_class=SafetyScreenForm,
        extra=("version",),
    ),
    Page(
        name="step-programme",
        persona="referrer_a",
        state=Status.DRAFT,
        url=_step("programme"),
        valid=lambda s: _with_version(s, {"placement": placements_for(s.referral).options[0].key}),
        form=lambda s, data: ProgrammeChoiceForm(
            data, options=placements_for(s.referral).options, completing=_completing(data)
        ),
        form_class=ProgrammeChoiceForm,
        extra=("version",),
    ),
    Page(
        name="step-consent",
        persona="referrer_a",
        state=Status.DRAFT,
        url=_step("consent"),
        valid=lambda s: _with_version(
            s,
            {"consent_referral": "on", "consent_share_outcomes": "on", "consent_research": "on"},
        ),
        form=lambda s, data: ConsentForm(data, completing=_completing(data)),
        form_class=ConsentForm,
        extra=("version",),
    ),
    Page(
        name="check-and-send",
        persona="referrer_a",
        state=Status.DRAFT,
        url=lambda s: reverse("referrals:check", args=[s.reference]),
        valid=lambda s: _with_version(s, {}),
        form=lambda s, data: None,
        extra=("version",),
    ),
    Page(
        name="answer-information",
        persona="referrer_a",
        state=Status.INFO_REQUESTED,
        url=lambda s: reverse("referrals:answer", args=[s.reference]),
        valid=lambda s: _with_version(s, {"answer": "Six months, stable."}),
        form=lambda s, data: AnswerInformationForm(data),
        form_class=AnswerInformationForm,
        extra=("version",),
    ),
    Page(
        name="cancel-referral",
        persona="referrer_a",
        state=Status.SUBMITTED,
        url=lambda s: reverse("referrals:cancel", args=[s.reference]),
        valid=lambda s: _with_version(s, {"reason": "patient_withdrew", "note": ""}),
        form=lambda s, data: CancelReferralForm(data),
        form_class=CancelReferralForm,
        extra=("version",),
    ),
    Page(
        name="consent-decision",
        persona="coordinator_x",
        state=Status.ACTIVE,
        url=lambda s: reverse("referrals:consent", args=[s.reference]),
        valid=lambda s: _with_version(
            s, {"choice": "withdrawn:share_progress", "method": "telephone", "note": ""}
        ),
        form=lambda s, data: ConsentDecisionForm(
            data, choices=open_decisions(s.referral), methods=RECORDABLE_METHODS
        ),
        form_class=ConsentDecisionForm,
        extra=("version",),
    ),
    _triage(
        "accept",
        Status.SUBMITTED,
        lambda s: {
            "facility": str(s.people.facility_x.pk),
            "programme_class": str(s.people.class_x.pk),
            "instructor": str(s.people.instructor_x.pk),
            "note": "",
        },
    ),
    _triage("decline", Status.SUBMITTED, lambda s: {"reason": "outside_area", "note": ""}),
    _triage("request_info", Status.SUBMITTED, lambda s: {"question": "Is the pain recent?"}),
    _triage("waitlist", Status.ACCEPTED, lambda s: {"note": ""}),
    _triage(
        "book",
        Status.ACCEPTED,
        lambda s: {
            "first_session_on_0": "",
            "first_session_on_1": "",
            "first_session_on_2": "",
            "first_session_time": "",
            "note": "",
        },
    ),
    _triage("complete", Status.ACTIVE, lambda s: {"note": ""}),
    _triage("discharge", Status.ACTIVE, lambda s: {"reason": "patient_choice", "note": ""}),
    _mark_page("register-mark", {}, 302),
    _mark_page("register-mark-htmx", {"HX-Request": "true"}, 200),
    *(_record(definition.code) for definition in instruments.all_instruments()),
    Page(
        name="contact-attempt",
        persona="coordinator_x",
        state=Status.SUBMITTED,
        url=lambda s: reverse("triage:contact_attempts", args=[s.reference]),
        valid=lambda s: {"method": "phone", "outcome": "no_answer", "note": "Rang twice"},
        form=lambda s, data: ContactAttemptForm(data),
        form_class=ContactAttemptForm,
    ),
    Page(
        name="membership-number",
        persona="coordinator_x",
        state=Status.BOOKED,
        url=lambda s: reverse("triage:membership_number", args=[s.reference]),
        valid=lambda s: _with_version(s, {"membership_number": "AB-1234"}),
        form=lambda s, data: MembershipNumberForm(data, referral=s.referral),
        form_class=MembershipNumberForm,
        extra=("version",),
    ),
    Page(
        name="outcome-schedule",
        persona="admin_x",
        state=None,
        url=lambda s: reverse(
            "manage:programme_outcomes",
            args=[s.people.operator_x.public_id, s.people.programme_x.public_id],
        ),
        valid=lambda s: {"cells": ["phq9:baseline", "phq9:exit"]},
        form=lambda s, data: OutcomeScheduleForm(
            data, schedule=s.people.programme_x.outcome_schedule
        ),
        form_class=OutcomeScheduleForm,
    ),
]
PAGES_BY_NAME = {page.name: page for page in PAGES}


class _Rollback(Exception):
    """Raised to undo one post's writes."""


@pytest.fixture(autouse=True)
def _pinned(frozen_now):
    frozen_now(PINNED)


def _setup(people, page: Page) -> Setup:
    setup = Setup(people=people)
    if page.state is not None:
        setup.referral = referral_in_state(people, page.state)
        # The poster has opened the referral before: a re-shown form that is the referral page
        # (answering a question) marks unread updates read, a read receipt and not the input's.
        notifications_mark_read(user=getattr(people, page.persona), referral=setup.referral)
    if page.name.startswith("register-mark"):
        assert setup.referral is not None
        booked = Session.objects.filter(
            referral=setup.referral, status=Session.Attendance.BOOKED
        ).earliest("scheduled_at")
        setup.session = session_due_now(booked)
    return setup


def _as_post(data: dict[str, Any]) -> MultiValueDict:
    return MultiValueDict({k: v if isinstance(v, list) else [v] for k, v in data.items()})


def _refused(page: Page, setup: Setup, data: dict[str, Any]) -> bool:
    """Whether the page refuses this post on its form (or its own check), before any service."""
    posted = _as_post(data)
    if page.refuses is not None:
        return page.refuses(setup, posted)
    if "version" in data and setup.referral is not None:
        try:
            seen = int(data["version"])
        except ValueError:
            seen = setup.referral.version  # unreadable: the view keeps the current version
        if seen != setup.referral.version:
            return True  # "this referral changed, reload"
    form = page.form(setup, posted)
    return form is not None and not form.is_valid()


def _post(client: Client, page: Page, setup: Setup, data: dict[str, Any]):
    return client.post(page.url(setup), data, headers=page.headers)


def _cause(response) -> str:
    error = getattr(response, "exc_info", None)
    return f"{error[0].__name__}: {error[1]}" if error else ""


def _cases() -> list:
    return [
        pytest.param(page.name, key, id=f"{page.name}-{key}")
        for page in PAGES
        for key in page.post_keys()
    ]


def test_every_page_in_the_scope_is_fuzzed():
    """The referral steps, every triage action, the register, every outcome measure, the contact
    log and the schedule editor."""
    names = set(PAGES_BY_NAME)
    assert {f"triage-{name}" for name in ACTION_PAGES} <= names
    assert {f"outcomes-{d.code}" for d in instruments.all_instruments()} <= names
    assert {"step-patient", "step-details", "step-safety", "step-programme", "step-consent"} <= (
        names
    )
    assert len(_cases()) > 150


@pytest.mark.parametrize("page_name", list(PAGES_BY_NAME))
def test_each_pages_valid_answers_are_accepted(people, page_name):
    """The baseline the bad values are tried against: without one bad field, the page works."""
    page = PAGES_BY_NAME[page_name]
    setup = _setup(people, page)
    client = client_for(getattr(people, page.persona))
    fingerprint = Fingerprint([people.practice_a, people.operator_x])
    before = fingerprint.take()
    data = page.valid(setup)

    assert not _refused(page, setup, data), f"{page.name}: the valid answers are refused"
    response = _post(client, page, setup, data)

    assert response.status_code == page.accepted_status, (
        f"{page.name}: HTTP {response.status_code} {_cause(response)}"
    )
    if page.writes:
        assert fingerprint.take() != before, f"{page.name}: the valid answers changed nothing"


@pytest.mark.parametrize(("page_name", "key"), _cases())
def test_no_5xx_and_nothing_changes_on_a_refusal(people, page_name, key):
    page = PAGES_BY_NAME[page_name]
    setup = _setup(people, page)
    client = client_for(getattr(people, page.persona))
    fingerprint = Fingerprint([people.practice_a, people.operator_x])
    before, before_rows = fingerprint.take(), fingerprint.rows()
    failures = []
    for label, value in BAD_VALUES:
        data = {**page.valid(setup), key: value}
        refused = _refused(page, setup, data)
        try:
            with transaction.atomic():
                response = _post(client, page, setup, data)
                if response.status_code >= 500:
                    failures.append(f"{label}: HTTP {response.status_code} {_cause(response)}")
                elif refused and fingerprint.take() != before:
                    changes = str(fingerprint.changes(before_rows))
                    failures.append(f"{label}: refused, yet changed {changes[:600]}")
                raise _Rollback
        except _Rollback:
            pass
    assert not failures, f"{page.name} {key}:\n" + "\n".join(failures)
