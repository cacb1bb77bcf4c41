"""Navigation for the base layout, built from what the signed-in user may do."""

from django.urls import reverse

from .permissions import Permission, active_memberships, has_permission


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "current_memberships": []}
    items = [("Home", reverse("home"))]
    if has_permission(user, Permission.REFERRAL_CREATE):
        items.append(("Your referrals", reverse("referrals:dashboard")))
    if has_permission(user, Permission.REFERRAL_TRIAGE):
        items.append(("Triage", reverse("triage:worklist")))
    if has_permission(user, Permission.SESSION_RECORD):
        items.append(("Today", reverse("register:today")))
    if has_permission(user, Permission.ASSESSMENT_RECORD):
        items.append(("Outcomes due", reverse("outcomes:due")))
    if has_permission(user, Permission.REPORT_VIEW):
        items.append(("Reports", reverse("reports:report")))
    if has_permission(user, Permission.ORGANISATION_MANAGE):
        items.append(("Manage", reverse("manage:index")))
    items.append(("Account security", reverse("mfa_index")))
    if user.is_staff:
        items.append(("Platform admin", reverse("admin:index")))
    path = request.path
    nav_items = [
        {
            "label": label,
            "href": href,
            "current": path == href or (href != "/" and path.startswith(href)),
        }
        for label, href in items
    ]
    return {"nav_items": nav_items, "current_memberships": active_memberships(user)}
