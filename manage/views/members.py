"""The organisation admin's member pages (/manage/<organisation>/members/): list, invite,
deactivate. They work for every kind of organisation.

Only an org admin of the organisation may use them: anyone else signed in gets 403, another
organisation's admin gets 404. Members are named in URLs by a signed token, never their key.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts import selectors, services
from accounts.models import Membership, Organisation
from accounts.permissions import Permission, has_permission
from referrals.web import apply_service_errors

from ..forms_members import ConfirmForm, InviteMemberForm

if TYPE_CHECKING:
    from uuid import UUID

    from accounts.http import AuthenticatedHttpRequest

PAGE_SIZE = 50


def _organisation_or_404(
    request: "AuthenticatedHttpRequest", organisation_id: "UUID"
) -> Organisation:
    if not has_permission(request.user, Permission.ORGANISATION_MANAGE):
        raise PermissionDenied("Only organisation admins can manage members.")
    try:
        return selectors.organisation_managed_by(request.user, organisation_id)
    except Organisation.DoesNotExist as missing:
        raise Http404("No organisation you manage has that id") from missing


def _members_url(organisation: Organisation) -> str:
    return reverse("manage:members", args=[organisation.public_id])


@dataclass(frozen=True)
class MemberRow:
    membership: Membership
    token: str
    is_you: bool
    can_deactivate: bool


@login_required
def member_list(request: "AuthenticatedHttpRequest", organisation: "UUID") -> HttpResponse:
    organisation = _organisation_or_404(request, organisation)
    page = Paginator(selectors.members_of(organisation), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [
        MemberRow(
            membership=m,
            token=selectors.member_token(m),
            is_you=m.user_id == request.user.pk,
            can_deactivate=m.is_active,
        )
        for m in page.object_list
    ]
    return render(
        request,
        "manage/member_list.html",
        {"organisation": organisation, "page_obj": page, "rows": rows},
    )


@login_required
def member_invite(request: "AuthenticatedHttpRequest", organisation: "UUID") -> HttpResponse:
    organisation = _organisation_or_404(request, organisation)
    form = InviteMemberForm(
        request.POST if request.method == "POST" else None, organisation=organisation
    )
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.member_invite(
                by=request.user, organisation=organisation, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{membership.user.email} is now "
                f"{services.with_article(membership.get_role_display())} at {organisation.name}. "
                "We have emailed them.",
            )
            return redirect(_members_url(organisation))
    return render(
        request, "manage/member_invite.html", {"organisation": organisation, "form": form}
    )


@login_required
def member_deactivate(
    request: "AuthenticatedHttpRequest", organisation: "UUID", member: str
) -> HttpResponse:
    organisation = _organisation_or_404(request, organisation)
    try:
        membership = selectors.membership_in(organisation, member)
    except Membership.DoesNotExist as missing:
        raise Http404("No such member") from missing
    if not membership.is_active:
        messages.info(request, f"{membership.user} is already deactivated.")
        return redirect(_members_url(organisation))
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_deactivate(by=request.user, membership=membership)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{membership.user} is no longer "
                f"{services.with_article(membership.get_role_display())} at {organisation.name}.",
            )
            return redirect(_members_url(organisation))
    return render(
        request,
        "manage/member_deactivate.html",
        {"organisation": organisation, "membership": membership, "form": form},
    )
