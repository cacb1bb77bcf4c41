"""The organisation admin's API clients (/manage/<organisation>/api-clients/): list, create,
rotate the secret, revoke (ADR 0006, docs/api.md).

A secret is shown once, on the page that made it, and that page is never stored by the browser
(`Cache-Control: no-store`): the database holds only its hash. Only the organisation's admins get
in (403 for anyone else signed in, 404 for another organisation's admin); clients are named in
URLs by their public id.
"""

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from accounts.api_clients import (
    IssuedCredentials,
    api_client_create,
    api_client_revoke,
    api_client_rotate,
    api_clients_of,
)
from accounts.models import ApiClient, Organisation
from referrals.web import apply_service_errors

from ..forms_api_clients import ApiClientForm
from .members import _organisation_or_404

if TYPE_CHECKING:
    from uuid import UUID

    from accounts.http import AuthenticatedHttpRequest


def _list_url(organisation: Organisation) -> str:
    return reverse("manage:api_clients", args=[organisation.public_id])


def _client_or_404(organisation: Organisation, client_id: "UUID") -> ApiClient:
    try:
        return ApiClient.objects.select_related("organisation", "application").get(
            organisation=organisation, public_id=client_id
        )
    except ApiClient.DoesNotExist as missing:
        raise Http404("No such API client") from missing


def _show_secret(
    request: "AuthenticatedHttpRequest", organisation: Organisation, issued: IssuedCredentials
) -> HttpResponse:
    response = render(
        request,
        "manage/api_client_secret.html",
        {
            "organisation": organisation,
            "issued": issued,
            "token_url": request.build_absolute_uri(reverse("oauth2-token")),
        },
    )
    add_never_cache_headers(response)
    return response


@login_required
def api_client_list(request: "AuthenticatedHttpRequest", organisation: "UUID") -> HttpResponse:
    organisation = _organisation_or_404(request, organisation)
    return render(
        request,
        "manage/api_client_list.html",
        {"organisation": organisation, "clients": api_clients_of(organisation)},
    )


@login_required
def api_client_create_page(
    request: "AuthenticatedHttpRequest", organisation: "UUID"
) -> HttpResponse:
    organisation = _organisation_or_404(request, organisation)
    form = ApiClientForm(
        request.POST if request.method == "POST" else None, organisation=organisation
    )
    if request.method == "POST" and form.is_valid():
        try:
            issued = api_client_create(
                organisation=organisation,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                by=request.user,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            return _show_secret(request, organisation, issued)
    return render(
        request,
        "manage/api_client_form.html",
        {"organisation": organisation, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def api_client_rotate_page(
    request: "AuthenticatedHttpRequest", organisation: "UUID", client: "UUID"
) -> HttpResponse:
    organisation = _organisation_or_404(request, organisation)
    found = _client_or_404(organisation, client)
    if request.method == "POST" and found.is_active:
        issued = api_client_rotate(client=found, by=request.user)
        return _show_secret(request, organisation, issued)
    return render(
        request,
        "manage/api_client_confirm.html",
        {"organisation": organisation, "client": found, "action": "rotate"},
    )


@login_required
def api_client_revoke_page(
    request: "AuthenticatedHttpRequest", organisation: "UUID", client: "UUID"
) -> HttpResponse:
    organisation = _organisation_or_404(request, organisation)
    found = _client_or_404(organisation, client)
    if request.method == "POST":
        api_client_revoke(client=found, by=request.user)
        messages.success(request, f"{found.name} is revoked: it can no longer get a token.")
        return redirect(_list_url(organisation))
    return render(
        request,
        "manage/api_client_confirm.html",
        {"organisation": organisation, "client": found, "action": "revoke"},
    )
