"""What other apps add to the referral page: the leisure side's actions, the outcome summary,
the delivery log.

Those apps sit above `referrals` (they build on the referral), so the page cannot import them;
each registers a section here from its `AppConfig.ready`, as apps register with the admin. A
section returns the context entries its part of `referrals/detail.html` reads. ADR 0004.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.models import User

from .models import Referral


@dataclass(frozen=True)
class Viewer:
    user: User
    # The referrer's side, as opposed to the provider's: sees less without consent to share.
    is_referrer: bool


Section = Callable[[Viewer, Referral], dict[str, Any]]
_sections: dict[str, Section] = {}


def register_section(name: str, section: Section) -> None:
    """Add (or replace, when ready() runs again) the section called `name`."""
    _sections[name] = section


def sections_context(viewer: Viewer, referral: Referral) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for section in _sections.values():
        context.update(section(viewer, referral))
    return context
