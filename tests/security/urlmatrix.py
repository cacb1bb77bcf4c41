"""Every URL pattern, filled with objects of one world or another.

`patterns()` walks the URLconf (allauth and the admin included), so a new URL is in the matrix
the day it is added. `FILLERS` says, for each URL keyword, which values a world offers for it; a
keyword without a filler stops the matrix with "add a filler for kwarg X in URL Y", so no new
URL escapes it by having a new keyword.
"""

import datetime
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone
from django.utils.http import int_to_base36

from accounts.models import Membership, User
from accounts.selectors import member_token
from leisure.views.triage import ACTION_PAGES
from outcomes.models import Assessment, Timepoint
from referrals.models import Notification, Patient, Referral, ReferralEvent, Session, Status
from referrals.views.wizard import STEPS
from referrals.workflow import ACTIONS

from .helpers import World


@dataclass(frozen=True)
class Pattern:
    """One endpoint: its route as written, its name, and the keywords it needs."""

    route: str
    name: str
    kwargs: tuple[str, ...]
    converters: dict

    def url(self, values: dict) -> str:
        """The path for these values, checked to resolve back to this very pattern."""
        path = self.route
        for key, value in values.items():
            converter = self.converters.get(key)
            text = str(converter.to_url(value) if converter else value)
            path = re.sub(rf"\(\?P<{key}>[^)]*\)", lambda _m, t=text: t, path)
            path = re.sub(rf"<(?:\w+:)?{key}>", lambda _m, t=text: t, path)
        path = "/" + path.replace("^", "").replace("$", "")
        match = resolve(path)
        assert match.route.replace("^", "") == self.route.replace("^", ""), (
            f"{path} resolves to {match.route}, not {self.route}"
        )
        return path


def _walk(resolvers, prefix="", namespace="", converters=None) -> Iterator[Pattern]:
    for entry in resolvers:
        pattern = entry.pattern
        piece = str(pattern)
        if isinstance(pattern, RegexPattern) and prefix:
            piece = piece.lstrip("^")
        here = {**(converters or {}), **getattr(pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            space = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + piece, space, here)
        elif isinstance(entry, URLPattern):
            route = prefix + piece
            names = re.findall(r"<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route)
            yield Pattern(route, f"{namespace}{entry.name}", tuple(names), here)
        assert isinstance(pattern, RoutePattern | RegexPattern), pattern


# The API, the FHIR server and the token endpoint take no session: a person signed in to the pages
# gets a 401 from every one of them (tests/api/test_clients.py, tests/fhir_server). Their own
# matrices are tests/api (each endpoint with the scope missing, a client of another organisation
# and an expired token) and tests/fhir_server/test_cross_organisation.py (each resource type).
NOT_FOR_PEOPLE = ("api/v1/", "fhir/", "oauth/")


def patterns() -> list[Pattern]:
    """Every URL pattern of the project but static and media files, and the API's."""
    prefixes = (settings.STATIC_URL, settings.MEDIA_URL)
    skip = (*(p.lstrip("/") for p in prefixes if p and p.strip("/")), *NOT_FOR_PEOPLE)
    return [p for p in _walk(get_resolver().url_patterns) if not p.route.startswith(skip)]


# --- Fillers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filler:
    """The values a world offers for one URL keyword. `scoped` fillers name an organisation's
    object (worth mixing one world's parent with the other's child); others are plain values."""

    values: Callable[[World, Pattern, dict], list]
    scoped: bool = True


# Which referral state makes each page do its real work, by URL name.
REFERENCE_STATES = {
    "referrals:detail": [*Status.values, "answered"],
    "referrals:step": [Status.DRAFT],
    "referrals:check": [Status.DRAFT],
    "referrals:confirmation": [Status.SUBMITTED],
    "referrals:answer": [Status.INFO_REQUESTED],
    "referrals:cancel": [Status.SUBMITTED, Status.BOOKED],
    "referral_discharge_summary": [Status.COMPLETED, Status.DISCHARGED],
    "outcomes:progress": [Status.ACTIVE, Status.COMPLETED],
    "outcomes:record": [Status.ACTIVE],
}
DEFAULT_REFERENCE_STATES = [Status.SUBMITTED, Status.ACTIVE]


def _reference(world: World, pattern: Pattern, done: dict) -> list[str]:
    if pattern.name == "triage:action":
        # A referral in a state the action starts from, so the form is shown and may be posted.
        sources = ACTIONS[done["name"]].sources
        states = [s for s in [*Status.values, "answered"] if s in sources][:1]
    else:
        states = REFERENCE_STATES.get(pattern.name, DEFAULT_REFERENCE_STATES)
    return [world.referral(s).reference for s in states]


def _class_day(world: World, pattern: Pattern, done: dict) -> list[datetime.date]:
    booked = Session.objects.filter(programme_class__public_id=done.get("class_id")).first()
    days = [timezone.localdate()]
    if booked:
        days.append(timezone.localdate(booked.scheduled_at))
    return days


def _admin_model(pattern: Pattern):
    found = re.match(r"admin/(\w+)/(\w+)/", pattern.route)
    assert found, f"add a filler for kwarg object_id in URL {pattern.route}"
    return apps.get_model(found.group(1), found.group(2))


def _access_record(world: World, referral: Referral):
    """The world's referrer reading its own referral: an audit row for the admin's change page."""
    from audit.models import AccessKind, AccessRecord
    from audit.services import audit_read_by

    record = AccessRecord.objects.filter(organisation=world.practice).order_by("pk").first()
    if record is None:
        audit_read_by(
            world.referrer,
            AccessKind.REFERRAL_PAGE,
            organisation=world.practice,
            role="referrer",
            referrals=[referral],
            patients=[referral.patient_id],
        )
        record = AccessRecord.objects.filter(organisation=world.practice).order_by("pk").first()
    return record


def _axes_record(world: World, model) -> object:
    extra = {"failures_since_start": 1} if model._meta.model_name == "accessattempt" else {}
    record, _ = model.objects.get_or_create(
        username=world.referrer.email,
        ip_address="192.0.2.1",
        defaults={"user_agent": "matrix", "path_info": "/accounts/login/", **extra},
    )
    return record


def _alert(world: World, referral: Referral):
    """An alert the world's instructor raised on its active referral, for the admin's pages."""
    from referrals.alerts import alert_raise
    from referrals.models import Alert, AlertKind

    return Alert.objects.filter(referral=referral).order_by("pk").first() or alert_raise(
        referral=referral,
        kind=AlertKind.INCIDENT,
        incident_kind="fall",
        summary="Fall in the session",
        description="Slipped on the mat.",
        immediate_action="First aid.",
        by=world.instructor,
    )


def _contact_attempt(world: World):
    """An attempt the world's coordinator logged to reach a submitted referral's patient."""
    from leisure.contact import contact_attempt_record
    from leisure.models import ContactAttempt

    submitted = world.referral(Status.SUBMITTED)
    return ContactAttempt.objects.filter(referral=submitted).first() or contact_attempt_record(
        referral=submitted, by=world.coordinator, method="phone", outcome="no_answer"
    )


def _admin_object(world: World, model) -> object:
    active = world.referral(Status.ACTIVE)
    objects = {
        Patient: lambda: active.patient,
        Referral: lambda: active,
        ReferralEvent: lambda: active.events.order_by("pk").first(),
        Session: lambda: active.sessions.order_by("pk").first(),
        Notification: lambda: (
            Notification.objects.filter(referral__in=world.referrals.values())
            .order_by("pk")
            .first()
        ),
        Assessment: lambda: Assessment.objects.get(referral=active),
        apps.get_model("referrals", "Alert"): lambda: _alert(world, active),
        apps.get_model("leisure", "ContactAttempt"): lambda: _contact_attempt(world),
        apps.get_model("referrals", "Visit"): lambda: _visit(world, active),
        User: lambda: world.referrer,
        Membership: lambda: world.membership(),
        apps.get_model("accounts", "Organisation"): lambda: world.practice,
        apps.get_model("audit", "AccessRecord"): lambda: _access_record(world, active),
        apps.get_model("facilities", "Facility"): lambda: world.facility,
        apps.get_model("facilities", "Programme"): lambda: world.programme,
        apps.get_model("facilities", "ProgrammeClass"): lambda: world.programme_class,
        apps.get_model("auth", "Group"): lambda: world.group,
        apps.get_model("account", "EmailAddress"): lambda: world.referrer.emailaddress_set.first(),
        apps.get_model("mfa", "Authenticator"): lambda: model.objects.get(
            pk=world.authenticator_id
        ),
        # django-axes' sign-in records: one of each for the world's referrer.
        apps.get_model("axes", "AccessAttempt"): lambda: _axes_record(world, model),
        apps.get_model("axes", "AccessLog"): lambda: _axes_record(world, model),
        apps.get_model("axes", "AccessFailureLog"): lambda: _axes_record(world, model),
    }
    assert model in objects, f"add an admin object for {model._meta.label} in {__name__}"
    return objects[model]()


def _visit(world: World, active):
    """A self-directed visit on the world's active referral, as a gym platform sends it."""
    from django.utils import timezone

    from referrals.models import Visit

    return Visit.objects.get_or_create(
        operator=active.operator,
        source=Visit.Source.CHECKIN,
        source_event_id="matrix-visit-1",
        defaults={
            "referral": active,
            "occurred_at": timezone.now(),
            "created_at": timezone.now(),
            "recorded_by": world.instructor,
        },
    )[0]


def _object_id(world: World, pattern: Pattern, done: dict) -> list:
    if "content_type_id" in done:
        model = ContentType.objects.get_for_id(done["content_type_id"]).model_class()
        return [_admin_object(world, model).pk]
    return [_admin_object(world, _admin_model(pattern)).pk]


def _member(world: World, pattern: Pattern, done: dict) -> list[str]:
    from accounts.models import Organisation

    organisation = Organisation.objects.get(public_id=done["organisation"])
    return [member_token(world.membership(organisation))]


def _api_client(world: World, pattern: Pattern, done: dict) -> list:
    """A client of the organisation in the URL (made once per world and organisation)."""
    from accounts.api_clients import api_client_create
    from accounts.models import SCOPES_BY_KIND, ApiClient, Organisation

    organisation = Organisation.objects.get(public_id=done["organisation"])
    client = ApiClient.objects.filter(organisation=organisation).first()
    if client is None:
        client = api_client_create(
            organisation=organisation,
            name="Matrix system",
            scopes=SCOPES_BY_KIND[organisation.kind],
            by=None,
        ).client
    return [client.public_id]


MATRIX_VISITS = (
    b"Date,Time,Member No,Activity,Status\r\n"
    b"2026-02-02,10:00,MATRIX-UNKNOWN,Aquafit,Attended\r\n"
    b"31/02/2026,10:00,MATRIX-UNKNOWN,Aquafit,Attended\r\n"
)


def _attendance_imports(world: World) -> list:
    """The world's attendance imports: a draft with its mapping and one run to the end (with a
    rejected and an unmatched row), made once per world without a worker."""
    from leisure.imports.mappings import import_mapping_save
    from leisure.imports.reading import ColumnMapping
    from leisure.imports.run import import_run
    from leisure.imports.uploads import import_upload
    from leisure.models import AttendanceImport, ImportMapping, ImportStatus

    found = list(AttendanceImport.objects.filter(operator=world.operator).order_by("pk"))
    if found:
        return found
    mapping = ImportMapping.objects.filter(operator=world.operator).first() or (
        import_mapping_save(
            operator=world.operator,
            name="Matrix system",
            mapping=ColumnMapping(
                date="Date",
                time="Time",
                membership_number="Member No",
                activity="Activity",
                status="Status",
                status_values={"Attended": "attended"},
            ),
            by=world.coordinator,
        )
    )
    made = [
        import_upload(
            operator=world.operator,
            filename=name,
            data=MATRIX_VISITS,
            by=world.coordinator,
            mapping=mapping,
        )
        for name in ("draft.csv", "done.csv")
    ]
    AttendanceImport.objects.filter(pk=made[1].pk).update(
        status=ImportStatus.UPLOADED, source_name=f"{world.operator.pk}:{mapping.pk}"
    )
    import_run(made[1].pk)
    return made


def _unmatched_rows(world: World) -> list:
    from leisure.models import ImportRowKind, ImportRowProblem

    _attendance_imports(world)
    return list(
        ImportRowProblem.objects.filter(operator=world.operator, kind=ImportRowKind.UNMATCHED)
    )


def _app_labels(world: World, pattern: Pattern, done: dict) -> list[str]:
    return sorted({m._meta.app_label for m in admin.site._registry})


FILLERS: dict[str, Filler] = {
    # Plain values: the same for both worlds, chosen first since others depend on them.
    "name": Filler(lambda w, p, d: list(ACTION_PAGES), scoped=False),
    "step": Filler(lambda w, p, d: list(STEPS), scoped=False),
    "instrument": Filler(lambda w, p, d: ["phq9"], scoped=False),
    "timepoint": Filler(lambda w, p, d: [Timepoint.BASELINE], scoped=False),
    "app_label": Filler(_app_labels, scoped=False),
    "url": Filler(lambda w, p, d: ["no-such-page/"], scoped=False),
    "key": Filler(lambda w, p, d: ["not-a-real-key"], scoped=False),
    "content_type_id": Filler(
        lambda w, p, d: [ContentType.objects.get_for_model(m).pk for m in (Referral, Patient)],
        scoped=False,
    ),
    # Objects of one world.
    "reference": Filler(_reference),
    "public_id": Filler(lambda w, p, d: [w.programme_class.public_id]),
    "class_id": Filler(lambda w, p, d: [w.programme_class.public_id]),
    "day": Filler(_class_day, scoped=False),
    "session_id": Filler(lambda w, p, d: [s.public_id for s in w.sessions()[:2]]),
    "alert_id": Filler(lambda w, p, d: [a.public_id for a in w.alerts()]),
    "import_id": Filler(lambda w, p, d: [i.public_id for i in _attendance_imports(w)]),
    "row_id": Filler(lambda w, p, d: [r.public_id for r in _unmatched_rows(w)]),
    "operator": Filler(lambda w, p, d: [w.operator.public_id]),
    "organisation": Filler(lambda w, p, d: [o.public_id for o in w.organisations]),
    "member": Filler(_member),
    "client": Filler(_api_client),
    "facility": Filler(lambda w, p, d: [w.facility.public_id]),
    "programme": Filler(lambda w, p, d: [w.programme.public_id]),
    "programme_class": Filler(lambda w, p, d: [w.programme_class.public_id]),
    "object_id": Filler(_object_id),
    "id": Filler(lambda w, p, d: [w.referrer.pk]),
    "uidb36": Filler(lambda w, p, d: [int_to_base36(w.referrer.pk)]),
}
# Keywords filled in this order when a pattern has several (later ones read earlier ones).
ORDER = [*(k for k, f in FILLERS.items() if not f.scoped), *(k for k in FILLERS)]


def missing_fillers(pattern: Pattern) -> list[str]:
    return [
        f"add a filler for kwarg {k} in URL {pattern.route}"
        for k in pattern.kwargs
        if k not in FILLERS
    ]


@dataclass(frozen=True)
class Case:
    """One URL to request: which pattern, with whose objects, and the objects themselves."""

    pattern: Pattern
    worlds: str  # "own", "other" or "own+other" (own parent, other child)
    values: dict

    @property
    def url(self) -> str:
        return self.pattern.url(self.values)

    @property
    def touches_other(self) -> bool:
        return "other" in self.worlds


def cases(pattern: Pattern, own: World, other: World) -> list[Case]:
    """Own-world, other-world and (for nested objects) own-parent/other-child fillings."""
    assert not missing_fillers(pattern), missing_fillers(pattern)
    if not pattern.kwargs:
        return [Case(pattern, "none", {})]
    keys = sorted(pattern.kwargs, key=ORDER.index)
    scoped = [k for k in keys if FILLERS[k].scoped]
    plans = {"own": dict.fromkeys(keys, own), "other": dict.fromkeys(keys, other)}
    if len(scoped) > 1:
        plans["own+other"] = {k: (own if k == scoped[0] else other) for k in keys}
    if not scoped:
        plans = {"none": dict.fromkeys(keys, own)}
    out = []
    for label, world_of in plans.items():
        partials: list[dict] = [{}]
        for key in keys:
            partials = [
                {**done, key: value}
                for done in partials
                for value in FILLERS[key].values(world_of[key], pattern, done)
            ]
        out.extend(Case(pattern, label, values) for values in partials)
    return out


def all_cases(own: World, other: World) -> list[Case]:
    return list(itertools.chain.from_iterable(cases(p, own, other) for p in patterns()))
