"""Every URL path and name the portal served before the apps were split still leads to the same
page: the table is what `main` resolved at the time (issue 10), written down, not derived from the
URLconf under test. A page that moves app keeps its path, its name and its view's name."""

import pytest
from django.urls import get_resolver, resolve, reverse
from django.urls.resolvers import URLResolver

# (path, URL name, view function name)
URL_MAP = [
    ("/", "home", "home"),
    ("/session/keep-alive/", "session_keep_alive", "session_keep_alive"),
    (
        "/referrals/ER-23456789/discharge-summary/",
        "referral_discharge_summary",
        "discharge_summary",
    ),
    ("/referrals/", "referrals:dashboard", "dashboard"),
    ("/referrals/search/clear/", "referrals:clear_search", "clear_search"),
    ("/referrals/new/", "referrals:new", "new_referral"),
    ("/referrals/ER-23456789/", "referrals:detail", "referral_detail"),
    ("/referrals/ER-23456789/edit/patient/", "referrals:step", "edit_step"),
    ("/referrals/ER-23456789/check/", "referrals:check", "check_answers"),
    ("/referrals/ER-23456789/confirmation/", "referrals:confirmation", "confirmation"),
    ("/referrals/ER-23456789/answer/", "referrals:answer", "answer_information"),
    ("/referrals/ER-23456789/cancel/", "referrals:cancel", "cancel_referral"),
    ("/referrals/ER-23456789/consent/", "referrals:consent", "record_consent"),
    (
        "/referrals/ER-23456789/alerts/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/acknowledge/",
        "referrals:alert_acknowledge",
        "acknowledge_alert",
    ),
    ("/referrals/ER-23456789/letter/", "referrals:letter", "patient_letter"),
    ("/triage/", "triage:worklist", "worklist"),
    ("/triage/search/clear/", "triage:clear_search", "clear_search"),
    ("/triage/classes/", "triage:classes", "classes"),
    ("/triage/classes/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/", "triage:class", "class_detail"),
    ("/triage/ER-23456789/accept/", "triage:action", "action"),
    (
        "/triage/ER-23456789/contact-attempts/",
        "triage:contact_attempts",
        "contact_attempts",
    ),
    (
        "/triage/ER-23456789/membership-number/",
        "triage:membership_number",
        "membership_number",
    ),
    ("/triage/imports/", "triage:imports", "imports"),
    ("/triage/imports/unmatched/", "triage:unmatched", "unmatched"),
    (
        "/triage/imports/unmatched/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/",
        "triage:unmatched_resolve",
        "unmatched_resolve",
    ),
    ("/triage/imports/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/", "triage:import", "import_detail"),
    (
        "/triage/imports/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/mapping/",
        "triage:import_mapping",
        "import_mapping",
    ),
    (
        "/triage/imports/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/progress/",
        "triage:import_progress",
        "import_progress",
    ),
    (
        "/triage/imports/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/rejected.csv",
        "triage:import_rejected",
        "import_rejected",
    ),
    ("/today/", "register:today", "today"),
    (
        "/today/classes/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/2026-03-02/",
        "register:register",
        "class_register",
    ),
    ("/today/sessions/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/mark/", "register:mark", "mark"),
    (
        "/today/sessions/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/incident/",
        "register:incident",
        "log_incident",
    ),
    ("/today/caseload/", "register:caseload", "caseload"),
    ("/manage/", "manage:index", "index"),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/facilities/",
        "manage:facilities",
        "facility_list",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/facilities/new/",
        "manage:facility_create",
        "facility_create",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/facilities/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/",
        "manage:facility_edit",
        "facility_edit",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/programmes/",
        "manage:programmes",
        "programme_list",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/programmes/new/",
        "manage:programme_create",
        "programme_create",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/programmes/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/",
        "manage:programme_edit",
        "programme_edit",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/programmes/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/outcomes/",
        "manage:programme_outcomes",
        "programme_outcomes",
    ),
    ("/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/classes/", "manage:classes", "class_list"),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/classes/new/",
        "manage:class_create",
        "class_create",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/classes/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/",
        "manage:class_edit",
        "class_edit",
    ),
    ("/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/members/", "manage:members", "member_list"),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/members/invite/",
        "manage:member_invite",
        "member_invite",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/members/m1/deactivate/",
        "manage:member_deactivate",
        "member_deactivate",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/api-clients/",
        "manage:api_clients",
        "api_client_list",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/api-clients/new/",
        "manage:api_client_create",
        "api_client_create_page",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/api-clients/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/rotate/",
        "manage:api_client_rotate",
        "api_client_rotate_page",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/api-clients/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/revoke/",
        "manage:api_client_revoke",
        "api_client_revoke_page",
    ),
    (
        "/manage/0b7f3c1e-2a4d-4e5f-8a9b-1c2d3e4f5a6b/subject-access/",
        "manage:subject_access",
        "subject_access",
    ),
    ("/outcomes/due/", "outcomes:due", "due"),
    ("/outcomes/ER-23456789/", "outcomes:progress", "progress"),
    ("/outcomes/ER-23456789/record/phq9/baseline/", "outcomes:record", "record"),
    ("/reports/", "reports:report", "report"),
    ("/reports/export.csv", "reports:export_csv", "export_csv"),
    ("/audit/", "audit:search", "search"),
    ("/audit/export.csv", "audit:export", "export_csv"),
]

# Third-party pages the portal links to by name.
THIRD_PARTY = [
    ("/accounts/login/", "account_login"),
    ("/accounts/logout/", "account_logout"),
    ("/accounts/password/reset/", "account_reset_password"),
    ("/accounts/2fa/", "mfa_index"),
    ("/admin/", "admin:index"),
]


@pytest.mark.parametrize(("path", "name", "view_name"), URL_MAP)
def test_path_resolves_to_the_same_page(path, name, view_name):
    match = resolve(path)

    assert match.view_name == name
    assert match.func.__name__ == view_name
    assert reverse(name, args=match.args, kwargs=match.kwargs) == path


@pytest.mark.parametrize(("path", "name"), THIRD_PARTY)
def test_third_party_pages_keep_their_paths(path, name):
    assert reverse(name) == path
    assert resolve(path).view_name == name


def _named_routes(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            if pattern.namespace and namespace:
                inner = f"{namespace}:{pattern.namespace}"
            yield from _named_routes(pattern.url_patterns, inner)
        elif pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_every_page_of_ours_is_in_the_table():
    """A new page is added to the table on purpose, so a renamed one cannot slip through. The
    API's routes (`api:`, and django-oauth-toolkit's token endpoint) are not pages: their paths
    are its published contract, pinned by tests/api (test_referral_writes.API_ROUTES); nor are
    the FHIR server's (`fhir:`), whose contract is its CapabilityStatement."""
    ours = {
        name
        for name in _named_routes(get_resolver().url_patterns)
        if not name.startswith(
            (
                "admin:",
                "account_",
                "mfa_",
                "socialaccount_",
                "usersessions_",
                "api:",
                "fhir:",
                "oauth2-",
            )
        )
    }

    assert ours == {name for _, name, _ in URL_MAP}
