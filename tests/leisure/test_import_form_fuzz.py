"""No HTTP 500 for any input to the attendance import's forms, and nothing changes when one is
refused (issue 14; the same bad values as `tests/security/test_form_fuzz.py`, whose harness
reads a form's fields from its class: the mapping form's fields come from the uploaded file's
headers and status words, so it is fuzzed here, one field at a time, from a real draft)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leisure.forms_import import MappingForm
from leisure.models import AttendanceImport, ImportMapping, ImportRowProblem
from referrals.models import Visit
from tests.security.test_form_fuzz import BAD_VALUES

from .test_import_pages import _draft, _mapping_post, _unmatched_rows, queued, scheme  # noqa: F401


def _state():
    return (
        list(ImportMapping.objects.values_list("name", "mapping")),
        list(AttendanceImport.objects.values_list("status", "mapping_id", "total_rows")),
        list(ImportRowProblem.objects.values_list("resolved_at", "resolved_referral_id")),
        Visit.objects.count(),
    )


MAPPING_KEYS = list(_mapping_post())


@pytest.mark.parametrize("key", MAPPING_KEYS)
def test_the_mapping_page_takes_any_value_of_any_field(client, people, key):
    draft = _draft(people)
    client.force_login(people.coordinator_x)
    url = reverse("triage:import_mapping", args=[draft.public_id])
    assert set(MAPPING_KEYS) <= set(
        MappingForm(
            headers=("Date", "Time", "Member No", "Activity", "Status"),
            status_words=("Attended",),
            status_column="Status",
        ).fields
    )
    for label, value in BAD_VALUES:
        before = _state()
        response = client.post(url, _mapping_post(**{key: value}))
        assert response.status_code < 500, f"{key}={label}: HTTP {response.status_code}"
        if response.status_code == 200:  # refused on the form: nothing saved
            assert _state() == before, f"{key}={label} changed something"
        else:  # a value that means "not in the file" or "ignore" is a valid answer
            AttendanceImport.objects.filter(pk=draft.pk).update(mapping=None)
            ImportMapping.objects.all().delete()


@pytest.mark.parametrize("key", ["mapping", "name", "operator", "file"])
def test_the_upload_page_takes_any_value_of_any_field(client, people, key):
    client.force_login(people.coordinator_x)
    for label, value in BAD_VALUES:
        data = {"mapping": "", "name": "Legend", key: value}
        if key != "file":
            data["file"] = SimpleUploadedFile("visits.csv", b"Date,Member\r\n2026-01-02,M1\r\n")
        before = _state()
        response = client.post(reverse("triage:imports"), data)
        assert response.status_code < 500, f"{key}={label}: HTTP {response.status_code}"
        if response.status_code == 200:
            assert _state() == before, f"{key}={label} changed something"
        AttendanceImport.objects.all().delete()


@pytest.mark.parametrize("key", ["referral", "q"])
def test_the_resolve_page_takes_any_value(client, people, scheme, queued, key):  # noqa: F811
    _unmatched_rows(people, queued, 1)
    row = ImportRowProblem.objects.get(kind="unmatched")
    client.force_login(people.coordinator_x)
    url = reverse("triage:unmatched_resolve", args=[row.public_id])
    for label, value in BAD_VALUES:
        before = _state()
        data = {"q": scheme.reference, "referral": scheme.reference, key: value}
        response = client.post(url, data)
        assert response.status_code < 500, f"{key}={label}: HTTP {response.status_code}"
        if key == "referral":
            assert response.status_code == 200 and _state() == before, f"{key}={label}"
