"""The programme report page and its CSV export: aggregates only, never a patient.

Filters arrive by GET: they name programmes, facilities, organisations and dates, not patients.
A programme, facility or organisation outside the user's report scope is refused with 404, as if
it did not exist.
"""

import csv
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from accounts.permissions import Permission, has_permission
from accounts.validation import PortalDateField
from referrals.web import neutralise

from . import reports
from .replica import reading_reports

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest
    from accounts.models import User

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ReportFilterForm(forms.Form):
    programme = forms.ModelChoiceField(
        queryset=None, required=False, to_field_name="public_id", empty_label="All programmes"
    )
    facility = forms.ModelChoiceField(
        queryset=None, required=False, to_field_name="public_id", empty_label="All facilities"
    )
    referring_organisation = forms.ModelChoiceField(
        label="Referring organisation",
        queryset=None,
        required=False,
        to_field_name="public_id",
        empty_label="All referring organisations",
    )
    referred_from = PortalDateField(label="Referred from", required=False, widget=DATE_WIDGET)
    referred_to = PortalDateField(label="Referred to", required=False, widget=DATE_WIDGET)

    SCOPED = ("programme", "facility", "referring_organisation")

    def __init__(self, *args: Any, user: "User", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = reports.programmes_reportable_by(user).order_by("name")
        self.fields["facility"].queryset = reports.facilities_reportable_by(user).order_by("name")
        self.fields[
            "referring_organisation"
        ].queryset = reports.referring_organisations_reportable_by(user).order_by("name")

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        start, end = cleaned.get("referred_from"), cleaned.get("referred_to")
        if start and end and start > end:
            self.add_error("referred_to", "Referred to must be the same as or after referred from")
        return cleaned

    def filters(self) -> reports.ReportFilters:
        return reports.ReportFilters(**self.cleaned_data)

    def out_of_scope(self) -> bool:
        # These are select lists: any error means an id the user was never offered.
        return any(name in self.errors for name in self.SCOPED)


def _report_request(
    request: "AuthenticatedHttpRequest",
) -> tuple[ReportFilterForm, reports.Report | None]:
    if not has_permission(request.user, Permission.REPORT_VIEW):
        raise PermissionDenied("Reports are for coordinators and commissioners.")
    form = ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        if form.out_of_scope():
            raise Http404("No such programme, facility or organisation in your reports")
        return form, None
    with reading_reports():  # on the replica, where there is one
        return form, reports.programme_report(request.user, form.filters())


@login_required
def report(request: "AuthenticatedHttpRequest") -> HttpResponse:
    form, report = _report_request(request)
    suppress = reports.suppresses_small_numbers(request.user)
    context = {"form": form, "suppressed": suppress, "querystring": request.GET.urlencode()}
    if report is not None:
        context.update(
            headline=reports.headline_rows(report, suppress),
            outcomes=reports.outcome_rows(report, suppress),
            breakdowns=reports.breakdown_rows(report, suppress),
        )
    return render(request, "reports/report.html", context)


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").


class _Echo:
    """A file-like object whose write returns what it was given: csv.writer's rows, one line
    at a time, for a streaming response."""

    def write(self, value: str) -> str:
        return value


def _csv_rows(
    form: ReportFilterForm, report: reports.Report, suppress: bool
) -> Iterator[tuple[Any, ...]]:
    yield ("Section", "Group", "Measure", "Value")
    filters = form.cleaned_data
    for name in ReportFilterForm.SCOPED:
        yield ("Filter", form.fields[name].label or name.title(), "", filters[name] or "All")
    for name in ("referred_from", "referred_to"):
        yield ("Filter", form.fields[name].label, "", filters[name] or "Any")
    yield ("Filter", "Small numbers suppressed", "", "Yes" if suppress else "No")
    for key, value in reports.headline_rows(report, suppress):
        yield ("Headline", "All", key, value)
    section = "Outcome change (baseline to exit)"
    for row in reports.outcome_rows(report, suppress):
        group = f"{row['instrument']}: {row['score']}"
        yield (section, group, "n", row["n"])
        yield (section, group, "Mean change", row["mean_change"])
        yield (section, group, "95% CI lower", row["ci_low"])
        yield (section, group, "95% CI upper", row["ci_high"])
    measures = ("referrals", "accepted", "started", "completed", "uptake", "completion")
    for title, breakdown in reports.breakdown_rows(report, suppress).items():
        for row in breakdown:
            for measure in measures:
                yield (title, row["group"], measure.capitalize(), row[measure])


@login_required
def export_csv(request: "AuthenticatedHttpRequest") -> HttpResponse | StreamingHttpResponse:
    """The report as CSV, streamed row by row as it is written (the figures are worked out
    first: an error is a page, never half a file)."""
    form, report = _report_request(request)
    if report is None:
        return render(request, "reports/report.html", {"form": form}, status=400)
    suppress = reports.suppresses_small_numbers(request.user)
    writer = csv.writer(_Echo())
    lines = (
        writer.writerow([neutralise(cell) for cell in row])
        for row in _csv_rows(form, report, suppress)
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="programme-report.csv"'
    return response
