"""What a token may reach: each view names the scope it needs (`required_scope`, or one for reads
and one for writes); who may see or change which object stays with `has_permission`."""

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission


class ClientHasScope(BasePermission):
    message = "The token does not carry the scope this needs."

    def has_permission(self, request: Any, view: Any) -> bool:
        token = request.auth
        if token is None or request.user is None:
            return False
        needed = required_scope(view, request.method)
        return needed is not None and token.allow_scopes([needed])


def required_scope(view: Any, method: str) -> str | None:
    """The scope a view needs for `method`: `read_scope` for safe methods and `write_scope`
    otherwise, or `required_scope` for both. None (so refused) when the view names none."""
    scope = getattr(view, "required_scope", None)
    if scope:
        return scope
    return getattr(view, "read_scope" if method in SAFE_METHODS else "write_scope", None)
