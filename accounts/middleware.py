"""Require a second factor for staff before they reach any page with patient data."""

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.shortcuts import redirect

# Pages a signed-in user without MFA may still reach: sign-in/out, MFA set-up, password pages.
_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/favicon")


class RequireMfaMiddleware:
    """With PORTAL_REQUIRE_MFA on, a signed-in user without TOTP is sent to set it up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_enrol(request):
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _must_enrol(request) -> bool:
        if not settings.PORTAL_REQUIRE_MFA or not request.user.is_authenticated:
            return False
        if request.path.startswith(_EXEMPT_PREFIXES):
            return False
        return not Authenticator.objects.filter(
            user=request.user, type=Authenticator.Type.TOTP
        ).exists()
