"""What every filtered, searchable list page shares (the referrer's dashboard, the worklist)."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.htmx import is_htmx

from .forms import SearchForm


def remember_search(request: HttpRequest, session_key: str, url_name: str) -> HttpResponse:
    """Keep a POSTed search term in the session and go back to the list.

    Search terms can be names or NHS numbers, so they never go into a URL (URLs end up in server
    and proxy logs); the list's other filters, which are not patient data, stay in the URL.
    """
    form = SearchForm(request.POST)
    request.session[session_key] = form.data.get("q", "").strip()[:100]
    query = request.GET.urlencode()
    return redirect(f"{reverse(url_name)}{'?' + query if query else ''}")


def search_form_for(search: str) -> SearchForm:
    """The search box showing the remembered term, bound so that a term that cannot be an NHS
    number says so on the box (the list simply finds nothing for it)."""
    return SearchForm({"q": search}) if search else SearchForm()


def forget_search(request: HttpRequest, session_key: str, url_name: str) -> HttpResponse:
    if request.method == "POST":
        request.session.pop(session_key, None)
    return redirect(url_name)


def querystring_without_page(request: HttpRequest) -> str:
    querystring = request.GET.copy()
    querystring.pop("page", None)
    return querystring.urlencode()


def render_list(
    request: HttpRequest, page_template: str, results_template: str, context: dict[str, Any]
) -> HttpResponse:
    """The whole page, or only the results when htmx asks after a filter change."""
    template = results_template if is_htmx(request) else page_template
    return render(request, template, context)
