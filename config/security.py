"""The response headers that harden every page: the one home of the browser-side policy.

- Content-Security-Policy: scripts, styles, fonts and connections from this host only, and no
  inline script or style at all, so an injected `<script>` or `style=` does nothing. Templates
  keep every script and style in static files (tests/security/test_templates_csp_clean.py).
- Permissions-Policy: the portal uses no camera, microphone, location, payment or devices, so
  no page (nor anything injected into one) may ask for them.
- Cache-Control: no-store on every response to a signed-in user. Pages, printouts and exports
  showing patient data are all behind sign-in, and a shared clinical PC must not keep copies of
  them in its browser cache or show them again from the back button after sign-out.

Static files are exempt: they hold no patient data and should be cached. A hand-written
middleware rather than django-csp: the policy is three fixed headers, with no nonces or
per-view exceptions to manage.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control

CONTENT_SECURITY_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    # The TOTP set-up page shows its QR code as a data: SVG.
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}

# Features Chromium, Firefox and Safari all recognise (an unknown name is a console error).
PERMISSIONS_POLICY_FEATURES = [
    "accelerometer",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "usb",
]


def content_security_policy() -> str:
    return "; ".join(
        f"{directive} {' '.join(sources)}" for directive, sources in CONTENT_SECURITY_POLICY.items()
    )


def permissions_policy() -> str:
    return ", ".join(f"{feature}=()" for feature in PERMISSIONS_POLICY_FEATURES)


class SecurityHeadersMiddleware:
    """Adds the policy headers to every response, and no-store to a signed-in user's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.csp = content_security_policy()
        self.permissions = permissions_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            return response
        # DEBUG's technical 404 and 500 pages are styled inline; local runs only.
        if not (settings.DEBUG and response.status_code in {404, 500}):
            response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault("Permissions-Policy", self.permissions)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response
