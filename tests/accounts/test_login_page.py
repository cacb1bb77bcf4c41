"""Finding 11 (issue 11): on the sign-in page, Tab goes from the email box to the password box,
then to Sign in; "Forgot your password?" comes after them (it was between email and password,
as allauth's hint for the password)."""

import re

from django.urls import reverse


def _positions(page: str, *patterns: str) -> list[int]:
    found = []
    for pattern in patterns:
        match = re.search(pattern, page)
        assert match, f"{pattern!r} not on the page"
        found.append(match.start())
    return found


def test_finding_11_sign_in_tab_order_is_email_password_sign_in_then_forgot(client, db):
    page = client.get(reverse("account_login")).content.decode()

    # Tab follows the document order (nothing sets a tabindex).
    assert "tabindex" not in page
    email, password, submit, forgot = _positions(
        page,
        r'<input[^>]*name="login"',
        r'<input[^>]*name="password"',
        r'<button[^>]*type="submit"',
        r'<a href="/accounts/password/reset/"[^>]*>Forgot your password\?</a>',
    )
    assert email < password < submit < forgot
    assert page.count("Forgot your password?") == 1
    # The password box has no hint any more (the link was that hint).
    assert 'id="id_password_helptext"' not in page
