"""Two organisations' systems take one referral from draft to completed over HTTP (issue 12).

A GP practice's system and a leisure operator's system each get a token from the token endpoint
and call /api/v1/ on a live server, as an integration does: version (If-Match) on every change to
the referral, an Idempotency-Key on every POST. Each polls the events feed as it goes, keeping the
`next` it was given, and must read every change it may see exactly once, in order: the referral's
timeline as its people see it on the referral page, and nothing of a referral it may not see.

The feed hands out an event only once every transaction that began before it has ended, server-
wide (ADR 0007), so the test commits as it goes (a live server needs that anyway) and a poll waits
until what it expects has come: another process's open transaction may hold it back a moment.
"""

import datetime
import time
import uuid

import pytest
import requests
from django.db.models import F

from outcomes.schedules import programme_set_outcome_schedule
from referrals import services
from referrals.models import Referral, ReferralEvent, Session
from referrals.selectors import referral_timeline_for
from tests.factories import PatientFactory, _nhs_numbers

GP_SCOPES = ["referrals:read", "referrals:write", "outcomes:read"]
SWEMWBS = "swemwbs"
FEELING_SO_SO = {f"q{n}": 3 for n in range(1, 8)}  # raw 21
FEELING_BETTER = {f"q{n}": 4 for n in range(1, 8)}  # raw 28
# The timeline entry each first mark of a session makes (`referrals.services.SESSION_MARKS`).
MARK_EVENTS = {
    "attended": "attended",
    "dna": "dna",
    "cancelled_patient": "session_cancelled",
    "cancelled_provider": "session_cancelled",
}
# An event waits for every transaction of this database that began before it: here only the
# live server's own requests, which commit at once, so a moment.
FEED_TIMEOUT = 30.0


class System:
    """An organisation's system: its own token from POST /oauth/token/, its own feed cursor."""

    def __init__(self, base_url: str, credentials) -> None:
        self.base_url = base_url
        self.user = credentials.client.user
        self.http = requests.Session()
        token = self.http.post(
            f"{base_url}/oauth/token/",
            data={
                "grant_type": "client_credentials",
                "client_id": credentials.client_id,
                "client_secret": credentials.client_secret,
            },
            timeout=10,
        )
        assert token.status_code == 200, token.text
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        self.cursor: str | None = None
        self.events: list[dict] = []  # every event read from the feed, in the order read

    def call(self, method: str, path: str, expect: int = 200, **kwargs) -> requests.Response:
        response = self.http.request(method, f"{self.base_url}/api/v1/{path}", timeout=10, **kwargs)
        assert response.status_code == expect, (method, path, response.text)
        return response

    def get(self, path: str, **params) -> dict:
        return self.call("GET", path, params=params).json()

    def post(self, path: str, body: dict, etag=None, expect=200, key=None) -> requests.Response:
        """A POST with an Idempotency-Key (a new one unless given), and the referral's ETag when
        it changes one."""
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        if etag is not None:
            headers["If-Match"] = etag
        return self.call("POST", path, expect, json=body, headers=headers)

    def poll(self) -> list[dict]:
        """One call to the feed from the cursor kept; the cursor moves to its `next`."""
        body = self.get("events/", **({"after": self.cursor} if self.cursor else {}))
        self.cursor = body["next"]
        self.events += body["events"]
        return body["events"]

    def catch_up(self, expect: int) -> list[str]:
        """Poll until `expect` new events have come (or time runs out): their actions."""
        new: list[dict] = []
        deadline = time.monotonic() + FEED_TIMEOUT
        while len(new) < expect and time.monotonic() < deadline:
            got = self.poll()
            new += got
            if not got:
                time.sleep(0.1)
        return [event["action"] for event in new]


def referral_path(reference: str, suffix: str = "") -> str:
    return f"referrals/{reference}/{suffix}"


def sessions_of(system: System, reference: str) -> list[dict]:
    return system.get("sessions/", referral=reference)["results"]


def weeks_go_by(referral: Referral, weeks: int) -> None:
    """The clock is the one thing HTTP cannot move: the booked sessions move `weeks` back."""
    Session.objects.filter(referral=referral).update(
        scheduled_at=F("scheduled_at") - datetime.timedelta(weeks=weeks)
    )


@pytest.mark.django_db(transaction=True)
def test_a_referral_from_draft_to_completed_over_http_read_from_the_feed_exactly_once(
    live_server, people, client_of
):
    # The operator's admin asks for SWEMWBS at the start and at the end of programme X.
    programme_set_outcome_schedule(
        programme=people.programme_x,
        schedule=[{"instrument": SWEMWBS, "timepoints": ["baseline", "exit"]}],
        by=people.admin_x,
    )
    gp = System(live_server.url, client_of(people.practice_a, GP_SCOPES, name="GP system"))
    leisure = System(live_server.url, client_of(people.operator_x, name="Leisure system"))

    # --- The GP practice's system makes a draft, changes it and sends it -----------------------
    programme = people.programme_x
    draft = gp.post(
        "referrals/",
        {
            "patient": {
                "nhs_number": next(_nhs_numbers),
                "given_name": "Ada",
                "family_name": "Lovelace",
                "date_of_birth": "1970-05-17",
                "sex": "F",
                "postcode": "LS6 2AB",
                "phone": "0113 496 0123",
                "contact_methods": ["phone"],
            },
            "reasons": ["38341003"],  # hypertension
            "bp_systolic": 142,
            "bp_diastolic": 88,
            "heart_rate_medication": False,
            "risk_tier": "low",
            "exclusions_present": [],
            "programme": str(programme.public_id),
            "preferred_facility": str(people.facility_x.public_id),
            "consent_referral": True,
            "consent_share_outcomes": True,
        },
        expect=201,
    )
    reference = draft.json()["reference"]
    referral = Referral.objects.get(reference=reference)
    changed = gp.call(
        "PATCH",
        referral_path(reference),
        json={"priority": "urgent"},
        headers={"If-Match": draft.headers["ETag"]},
    )
    assert (changed.headers["ETag"], changed.json()["priority"]) == ('"2"', "urgent")
    assert gp.catch_up(1) == ["create"]
    # A draft is the practice's own: the operator's system sees nothing of it, and its poll
    # reads past the draft's creation (the feed is past it: the GP's system has read it).
    leisure.call("GET", referral_path(reference), expect=404)
    assert leisure.poll() == []

    submitted = gp.post(referral_path(reference, "submit/"), {}, changed.headers["ETag"])
    assert submitted.json()["status"] == "submitted"
    assert gp.catch_up(1) == ["submit"]

    # --- The operator's system finds it and accepts it into programme X's class ----------------
    waiting = leisure.get("referrals/", status="submitted")["results"]
    assert [row["reference"] for row in waiting] == [reference]
    assert leisure.catch_up(1) == ["submit"]
    read = leisure.call("GET", referral_path(reference))
    (the_class,) = [
        row
        for row in leisure.get("classes/")["results"]
        if row["programme"]["id"] == str(programme.public_id)
    ]
    accepted = leisure.post(
        referral_path(reference, "actions/accept/"),
        {"facility": the_class["facility"]["id"], "programme_class": the_class["id"]},
        read.headers["ETag"],
    )

    # Meanwhile, at practice B and operator Y, people refer another patient through the pages.
    elsewhere = services.referral_create_draft(
        by=people.referrer_b,
        organisation=people.practice_b,
        patient=PatientFactory(organisation=people.practice_b, postcode="M1 1AE"),
        reasons=["38341003"],
        bp_systolic=130,
        bp_diastolic=80,
        heart_rate_medication=False,
        risk_tier="low",
        exclusions_present=[],
        programme=people.programme_y,
        preferred_facility=people.facility_y,
        consent_referral=True,
        consent_share_outcomes=True,
    )
    services.referral_submit(referral=elsewhere, by=people.referrer_b)
    services.referral_accept(
        referral=elsewhere, by=people.coordinator_y, facility=people.facility_y
    )

    booked = leisure.post(referral_path(reference, "actions/book/"), {}, accepted.headers["ETag"])
    assert booked.json()["status"] == "booked"
    assert leisure.catch_up(2) == ["accept", "book"]
    assert gp.catch_up(2) == ["accept", "book"]
    booked_sessions = sessions_of(leisure, reference)
    assert len(booked_sessions) >= 10
    assert {s["status"] for s in booked_sessions} == {"booked"}

    # --- The baseline measure the programme asks for, then the programme starts ----------------
    (offered,) = [
        p for p in leisure.get("programmes/")["results"] if p["id"] == str(programme.public_id)
    ]
    schedule = offered["outcome_schedule"]
    assert {"instrument": SWEMWBS, "timepoints": ["baseline", "exit"]} in schedule
    assessments = referral_path(reference, "assessments/")
    baseline = {"instrument": SWEMWBS, "timepoint": "baseline", "answers": FEELING_SO_SO}
    leisure.post(assessments, baseline, expect=201)
    started = leisure.post(referral_path(reference, "actions/start/"), {}, booked.headers["ETag"])
    assert started.json()["status"] == "active"
    assert leisure.catch_up(2) == ["assessment_recorded", "start"]

    # --- The weeks go by; the register is sent for every booked session ------------------------
    weeks_go_by(referral, programme.duration_weeks + 1)
    marks = ["attended"] * len(booked_sessions)
    marks[1], marks[4] = "dna", "dna"
    marks[2], marks[3] = "cancelled_patient", "cancelled_provider"
    for session, mark in zip(booked_sessions, marks, strict=True):
        leisure.post(f"sessions/{session['id']}/attendance/", {"status": mark})
    # The register said session 5 was missed; the instructor corrects it.
    leisure.post(f"sessions/{booked_sessions[4]['id']}/attendance/", {"status": "attended"})
    # Each mark is a change on the timeline, and so on the feed: the correction too.
    marked = [MARK_EVENTS[mark] for mark in marks] + ["attendance_corrected"]
    assert leisure.catch_up(len(marked)) == marked
    assert [s["status"] for s in sessions_of(leisure, reference)] == [
        *marks[:4],
        "attended",
        *marks[5:],
    ]

    # --- The exit measure, and the programme is complete ---------------------------------------
    exit_measure = {**baseline, "timepoint": "exit", "answers": FEELING_BETTER}
    key = str(uuid.uuid4())
    recorded = leisure.post(assessments, exit_measure, expect=201, key=key)
    # The answer was lost on the way back: the system sends the request again with its key.
    again = leisure.post(assessments, exit_measure, expect=201, key=key)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == recorded.json()
    current = leisure.call("GET", referral_path(reference))
    completed = leisure.post(
        referral_path(reference, "actions/complete/"),
        {"recommendations": "Keep up the circuits."},
        current.headers["ETag"],
    )
    assert completed.json()["status"] == "completed"
    assert leisure.catch_up(2) == ["assessment_recorded", "complete"]
    # The practice's patient agreed to share progress: it reads the same story.
    story = ["assessment_recorded", "start", *marked, "assessment_recorded", "complete"]
    assert gp.catch_up(len(story)) == story

    # --- What each system read is its people's view of the timeline, once, in order -----------
    for system in (gp, leisure):
        assert system.poll() == []  # nothing new after the end
        read_ids = [event["id"] for event in system.events]
        assert len(read_ids) == len(set(read_ids))
        assert {event["referral"] for event in system.events} == {reference}
    # The changes were made one after another, so the feed's order (by writing transaction) is
    # the timeline's (by time): the page's rule decides what each organisation sees.
    gp_view = [str(e.public_id) for e in referral_timeline_for(gp.user, referral)]
    assert [event["id"] for event in gp.events] == gp_view
    leisure_view = list(referral_timeline_for(leisure.user, referral))
    # The operator's poll read past the draft's creation, which it could not see then: its feed
    # of the referral starts at the submission.
    assert leisure_view[0].action == "create"
    assert [event["id"] for event in leisure.events] == [str(e.public_id) for e in leisure_view[1:]]
    # Operator Y's referral, made in the middle, was read past by both systems, unseen.
    elsewhere_txids = ReferralEvent.objects.filter(referral=elsewhere).values_list(
        "txid", flat=True
    )
    assert len(elsewhere_txids) == 3  # create, submit, accept
    for system in (gp, leisure):
        last_read = ReferralEvent.objects.get(public_id=system.events[-1]["id"])
        assert max(elsewhere_txids) < last_read.txid

    # --- The GP's view at the end -------------------------------------------------------------
    final = gp.get(referral_path(reference))
    assert final["status"] == "completed"
    measures = gp.get(assessments)["results"]
    assert [(m["instrument"], m["timepoint"]) for m in measures] == [
        (SWEMWBS, "baseline"),
        (SWEMWBS, "exit"),
    ]
    assert measures[0]["scores"]["raw"] == 21 and measures[1]["scores"]["raw"] == 28
    assert all(m["answers"] is None for m in measures)  # the scores, as the progress page shows
