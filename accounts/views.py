"""The session keep-alive behind "Stay signed in"."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST


@require_POST
@login_required
def session_keep_alive(request: HttpRequest) -> HttpResponse:
    """Nothing to do: reaching here is activity (accounts/session_timeout.py records it)."""
    return HttpResponse(status=204)
