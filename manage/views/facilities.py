"""The operator admin's pages (/manage/): facilities, programmes and classes.

Only an org admin may use them: anyone else signed in gets 403, and an admin gets 404 for an
operator they do not administer or for its objects (the selectors never find them). Views are
thin: they fetch through the selectors, validate with forms and write through the services.
"""

from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.models import Organisation, OrganisationKind
from accounts.permissions import Permission, has_permission
from accounts.selectors import active_instructors_of, organisations_managed_by
from facilities import selectors, services
from facilities.models import Facility, Programme, ProgrammeClass
from outcomes.schedules import describe_schedule
from referrals.web import apply_service_errors

from ..forms import ClassForm, FacilityForm, ProgrammeForm

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from django.db.models import Model, QuerySet

    from accounts.http import AuthenticatedHttpRequest

PAGE_SIZE = 50
_Found = TypeVar("_Found")  # what `_found_or_404` looks up


def _operator_or_404(request: "AuthenticatedHttpRequest", operator_id: "UUID") -> Organisation:
    if not has_permission(request.user, Permission.FACILITY_MANAGE):
        raise PermissionDenied("Only organisation admins can manage facilities.")
    try:
        return selectors.operator_managed_by(request.user, operator_id)
    except Organisation.DoesNotExist as missing:
        raise Http404("No operator you manage has that id") from missing


def _found_or_404(lookup: "Callable[..., _Found]", *args: Any) -> "_Found":
    try:
        return lookup(*args)
    except (Facility.DoesNotExist, Programme.DoesNotExist, ProgrammeClass.DoesNotExist) as e:
        raise Http404("Not found at this operator") from e


def _form_page(
    request: HttpRequest,
    form: forms.Form,
    *,
    save: "Callable[[Any], object]",
    template: str,
    context: dict[str, Any],
    done: str,
    done_url: str,
) -> HttpResponse:
    """Show the form; on a valid POST call `save`, which may refuse with a ValidationError."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, done.format(saved))
            return redirect(done_url)
    return render(request, template, {**context, "form": form})


def _list_page(
    request: HttpRequest,
    template: str,
    operator: Organisation,
    rows: "QuerySet[Model]",
    **context: Any,
) -> HttpResponse:
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, template, {"operator": operator, "page_obj": page, "rows": page, **context}
    )


# --- Overview ------------------------------------------------------------------------------------


@login_required
def index(request: "AuthenticatedHttpRequest") -> HttpResponse:
    organisations = organisations_managed_by(request.user)
    if not organisations:
        raise PermissionDenied("Only organisation admins can use the manage pages.")
    return render(
        request,
        "manage/index.html",
        {
            "organisations": selectors.organisation_summaries(organisations),
            "operator_kind": OrganisationKind.LEISURE_OPERATOR,
        },
    )


# --- Facilities ----------------------------------------------------------------------------------


@login_required
def facility_list(request: "AuthenticatedHttpRequest", operator: "UUID") -> HttpResponse:
    operator = _operator_or_404(request, operator)
    return _list_page(
        request, "manage/facility_list.html", operator, selectors.facilities_of(operator)
    )


@login_required
def facility_create(request: "AuthenticatedHttpRequest", operator: "UUID") -> HttpResponse:
    operator = _operator_or_404(request, operator)
    form = FacilityForm(
        request.POST if request.method == "POST" else None,
        instructors=active_instructors_of(operator),
    )
    return _form_page(
        request,
        form,
        save=lambda f: services.facility_create(
            by=request.user, operator=operator, staff=f.cleaned_data["staff"], **f.service_fields()
        ),
        template="manage/facility_form.html",
        context={"operator": operator, "facility": None},
        done="{} added",
        done_url=_url("manage:facilities", operator),
    )


@login_required
def facility_edit(
    request: "AuthenticatedHttpRequest", operator: "UUID", facility: "UUID"
) -> HttpResponse:
    operator = _operator_or_404(request, operator)
    facility = _found_or_404(selectors.facility_of, operator, facility)
    form = FacilityForm(
        request.POST if request.method == "POST" else None,
        initial=FacilityForm.initial_from(facility),
        instructors=active_instructors_of(operator),
    )
    return _form_page(
        request,
        form,
        save=lambda f: services.facility_update(
            by=request.user, facility=facility, staff=f.cleaned_data["staff"], **f.service_fields()
        ),
        template="manage/facility_form.html",
        context={"operator": operator, "facility": facility},
        done="{} saved",
        done_url=_url("manage:facilities", operator),
    )


# --- Programmes ----------------------------------------------------------------------------------


@login_required
def programme_list(request: "AuthenticatedHttpRequest", operator: "UUID") -> HttpResponse:
    operator = _operator_or_404(request, operator)
    return _list_page(
        request, "manage/programme_list.html", operator, selectors.programmes_of(operator)
    )


@login_required
def programme_create(request: "AuthenticatedHttpRequest", operator: "UUID") -> HttpResponse:
    operator = _operator_or_404(request, operator)
    form = ProgrammeForm(request.POST if request.method == "POST" else None)
    return _form_page(
        request,
        form,
        save=lambda f: services.programme_create(
            by=request.user, operator=operator, **f.service_fields()
        ),
        template="manage/programme_form.html",
        context={"operator": operator, "programme": None},
        done="{} added",
        done_url=_url("manage:programmes", operator),
    )


@login_required
def programme_edit(
    request: "AuthenticatedHttpRequest", operator: "UUID", programme: "UUID"
) -> HttpResponse:
    operator = _operator_or_404(request, operator)
    programme = _found_or_404(selectors.programme_of, operator, programme)
    form = ProgrammeForm(
        request.POST if request.method == "POST" else None,
        initial=ProgrammeForm.initial_from(programme),
    )
    return _form_page(
        request,
        form,
        save=lambda f: services.programme_update(
            by=request.user, programme=programme, **f.service_fields()
        ),
        template="manage/programme_form.html",
        context={
            "operator": operator,
            "programme": programme,
            "outcome_schedule": describe_schedule(programme.outcome_schedule),
        },
        done="{} saved",
        done_url=_url("manage:programmes", operator),
    )


# --- Classes -------------------------------------------------------------------------------------


@login_required
def class_list(request: "AuthenticatedHttpRequest", operator: "UUID") -> HttpResponse:
    operator = _operator_or_404(request, operator)
    return _list_page(request, "manage/class_list.html", operator, selectors.classes_of(operator))


def _class_form(
    request: HttpRequest, operator: Organisation, programme_class: ProgrammeClass | None = None
) -> ClassForm:
    programmes, facilities = selectors.class_choices_for(operator, keep=programme_class)
    return ClassForm(
        request.POST if request.method == "POST" else None,
        initial=ClassForm.initial_from(programme_class) if programme_class else None,
        programmes=programmes,
        facilities=facilities,
        instructors=active_instructors_of(operator),
    )


@login_required
def class_create(request: "AuthenticatedHttpRequest", operator: "UUID") -> HttpResponse:
    operator = _operator_or_404(request, operator)
    return _form_page(
        request,
        _class_form(request, operator),
        save=lambda f: services.class_create(
            by=request.user, instructors=f.cleaned_data["instructors"], **f.service_fields()
        ),
        template="manage/class_form.html",
        context={"operator": operator, "programme_class": None},
        done="{.name} added",
        done_url=_url("manage:classes", operator),
    )


@login_required
def class_edit(
    request: "AuthenticatedHttpRequest", operator: "UUID", programme_class: "UUID"
) -> HttpResponse:
    operator = _operator_or_404(request, operator)
    programme_class = _found_or_404(selectors.class_of, operator, programme_class)
    return _form_page(
        request,
        _class_form(request, operator, programme_class),
        save=lambda f: services.class_update(
            by=request.user,
            programme_class=programme_class,
            instructors=f.cleaned_data["instructors"],
            **f.service_fields(),
        ),
        template="manage/class_form.html",
        context={"operator": operator, "programme_class": programme_class},
        done="{.name} saved",
        done_url=_url("manage:classes", operator),
    )


def _url(name: str, organisation: Organisation) -> str:
    return reverse(name, args=[organisation.public_id])
