"""allauth behaviour for a closed staff portal."""

from allauth.account.adapter import DefaultAccountAdapter


class PortalAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Accounts are created by organisation admins (or platform staff), never by self sign-up.
        return False
