"""What every filtered, searchable list page shares (the referrer's dashboard, the worklist), and
pages read without counting the list (those and the class list and caseload)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.htmx import is_htmx

from .forms import SearchForm

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
U = TypeVar("U")
M = TypeVar("M", bound=Model)


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


# --- Pages without a count ---------------------------------------------------------------------

# Deeper than this is not a page anyone reads; it also keeps OFFSET within bounds.
MAX_PAGE = 10_000


def page_number(value: str | None) -> int:
    """The page asked for: a whole number from 1 to MAX_PAGE; anything else is the first page."""
    if not value or not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_PAGE)):
        return 1
    return min(max(int(value), 1), MAX_PAGE)


class Sliceable(Protocol[T_co]):
    """A queryset, or a list: what can be read a slice at a time."""

    def __getitem__(self, index: slice, /) -> Iterable[T_co]: ...


@dataclass(frozen=True)
class ListPage(Generic[T]):
    """One page of a list, found without counting the list (the `Page` of the pagination
    templates). Counting a long list costs as much as reading it all, and nobody needs "page
    40 of 170": one row more than the page is read, and only says that a next page exists."""

    rows: list[T]
    number: int
    size: int
    has_next: bool
    # The list's length when the page knows it anyway (the caseload's summary counts it).
    total: int | None = None

    @property
    def object_list(self) -> list[T]:
        """The rows, by the name Django's `Page` gives them."""
        return self.rows

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.size + len(self.rows) if self.rows else 0

    @property
    def past_the_end(self) -> bool:
        """An empty page after the first: the list got shorter, or the address was typed."""
        return not self.rows and self.number > 1

    def map(self, build: Callable[[T], U]) -> "ListPage[U]":
        """The same page with each row built into what the page shows (for the page's rows
        only, never the list's)."""
        return ListPage(
            [build(row) for row in self.rows], self.number, self.size, self.has_next, self.total
        )


def page_without_count(
    rows: "Sliceable[T]", page: str | None, size: int, total: int | None = None
) -> ListPage[T]:
    """The page `page` (a query-string value) of `rows`, in one query of size + 1 rows."""
    number = page_number(page)
    offset = (number - 1) * size
    return _page(list(rows[offset : offset + size + 1]), number, size, total)


def page_of_rows(
    queryset: "QuerySet[M]",
    page: str | None,
    size: int,
    total: int | None = None,
    *,
    keys_from: "QuerySet[Any] | None" = None,
) -> ListPage[M]:
    """`page_without_count` for an ordered queryset, still in one query: the page's keys are
    found first, by a subquery that reads the list's index alone, and only those rows are
    joined to what they show and counted. Otherwise the database joins (and counts) every row
    it skips to reach a later page (OFFSET), and sorts them all first.

    `keys_from`: the same list in the same order without what only the rows show (annotations,
    joins), when `queryset` has them.
    """
    number = page_number(page)
    offset = (number - 1) * size
    keys = (queryset if keys_from is None else keys_from).values("pk")[offset : offset + size + 1]
    return _page(list(queryset.filter(pk__in=keys)), number, size, total)


def _page(found: list[T], number: int, size: int, total: int | None) -> ListPage[T]:
    """The page from its rows read with one more: that one only says there is a next page."""
    return ListPage(
        rows=found[:size], number=number, size=size, has_next=len(found) > size, total=total
    )
