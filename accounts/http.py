"""The request a view behind `@login_required` receives: its user is signed in, so a `User`.

Only for annotations (django-stubs' recommendation): Django builds a plain `HttpRequest`, and
`login_required` is what guarantees the user is not anonymous.
"""

from django.http import HttpRequest

from .models import User


class AuthenticatedHttpRequest(HttpRequest):
    user: User
