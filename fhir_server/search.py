"""Search: parameters parsed into filters, results paged into searchset Bundles.

A resource type (`ResourceType`) says which rows a client may see (`visible`), how each search
parameter filters them, and how a row becomes resources (`expand`: one row can be several, as one
assessment is an Observation per score). Paging is by a cursor over the rows (`_page`, written
into the `next` link by the server, opaque to the client), so a page never holds more than
`_count` resources even when a row expands to several. A parameter the server does not support is
refused with an OperationOutcome rather than ignored, so a client never mistakes an unfiltered
result for a filtered one.
"""

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .outcome import NOT_SUPPORTED, VALUE, FhirError, Issue, refused

DEFAULT_COUNT = 20
MAX_COUNT = 100
# Parameters every search takes; `_format` is accepted and ignored (there is one format).
CONTROL = {"_count", "_page", "_include", "_format", "_total"}
PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")


@dataclass(frozen=True)
class Param:
    """A search parameter: its FHIR type and how one value filters the rows of a segment
    (`filter(value, segment key)`)."""

    type: str
    documentation: str
    filter: Callable[[str, str], Q]


class Rows(Protocol):
    """What paging needs of a segment's rows: a queryset's `count`, `filter` and slicing (also
    met by `types_directory.Listed`, resources built from code)."""

    def count(self) -> int: ...

    def filter(self, *args: Any, **kwargs: Any) -> "Rows": ...

    def __getitem__(self, index: slice, /) -> Iterable[Any]: ...


@dataclass
class Segment:
    """One source of rows: a queryset in a fixed order and how each row becomes resources.
    `key` tells a parameter which source it filters (a type served from two tables)."""

    rows: Rows
    expand: Callable[[Any], list[dict]]
    key: str = ""


@dataclass
class Page:
    resources: list[dict]
    rows: list[Any]
    next_cursor: str | None
    total: int | None
    included: list[dict] = field(default_factory=list)


def token(value: str) -> tuple[str | None, str]:
    """`system|code` → (system, code); `code` → (None, code); `|code` → ("", code)."""
    if "|" in value:
        system, _, code = value.partition("|")
        return system, code
    return None, value


def reference_id(value: str, resource_type: str) -> str:
    """`Patient/123`, a full URL ending so, or a bare id → the id."""
    marker = f"{resource_type}/"
    if marker in value:
        return value.rsplit(marker, 1)[1].split("/")[0]
    return value


def _moment(raw: str, name: str) -> tuple[datetime.datetime, datetime.datetime]:
    """The span a date or dateTime search value names (a day is all of it)."""
    when = parse_datetime(raw) if "T" in raw else None
    if when is not None:
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        return when, when
    day = parse_date(raw) if len(raw) == 10 else None
    if day is None:
        raise refused(
            400,
            VALUE,
            f"{name}: {raw!r} is not a FHIR date or dateTime (2026-01-31, 2026-01-31T09:00:00Z).",
            name,
        )
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1) - datetime.timedelta(microseconds=1)


def date_filter(fields: str | dict[str, str], name: str) -> Callable[[str, str], Q]:
    """A `date` parameter on a field (or one per segment key), with FHIR's prefixes
    (ge2026-01-01, lt…)."""

    def build(value: str, key: str) -> Q:
        field_name = fields if isinstance(fields, str) else fields[key]
        prefix, raw = ("eq", value)
        if value[:2] in PREFIXES:
            prefix, raw = value[:2], value[2:]
        start, end = _moment(raw, name)
        return {
            "eq": Q(**{f"{field_name}__gte": start, f"{field_name}__lte": end}),
            "ne": ~Q(**{f"{field_name}__gte": start, f"{field_name}__lte": end}),
            "gt": Q(**{f"{field_name}__gt": end}),
            "sa": Q(**{f"{field_name}__gt": end}),
            "ge": Q(**{f"{field_name}__gte": start}),
            "lt": Q(**{f"{field_name}__lt": start}),
            "eb": Q(**{f"{field_name}__lt": start}),
            "le": Q(**{f"{field_name}__lte": end}),
            "ap": Q(**{f"{field_name}__gte": start - datetime.timedelta(days=1)})
            & Q(**{f"{field_name}__lte": end + datetime.timedelta(days=1)}),
        }[prefix]

    return build


def any_of(values: Iterable[str], build: Callable[[str], Q]) -> Q:
    """Comma-separated values are alternatives (OR)."""
    alternatives = [build(value) for value in values]
    if any(not condition for condition in alternatives):
        return Q()  # an alternative that holds for every row (Django drops an empty Q in `|`)
    combined = Q(pk__in=[])
    for condition in alternatives:
        combined |= condition
    return combined


def nothing() -> Q:
    return Q(pk__in=[])


def count_of(params: dict[str, list[str]]) -> int:
    raw = (params.get("_count") or [str(DEFAULT_COUNT)])[-1]
    try:
        count = int(raw)
    except ValueError:
        raise refused(400, VALUE, "_count must be a whole number.", "_count") from None
    if count < 0:
        raise refused(400, VALUE, "_count must not be negative.", "_count")
    return min(count, MAX_COUNT)


def _cursor(params: dict[str, list[str]]) -> tuple[int, int]:
    raw = (params.get("_page") or ["0.0"])[-1]
    try:
        row, _, sub = raw.partition(".")
        position = int(row), int(sub or 0)
    except ValueError:
        raise refused(400, VALUE, "_page is not a page this server gave.", "_page") from None
    if position[0] < 0 or position[1] < 0:
        raise refused(400, VALUE, "_page is not a page this server gave.", "_page")
    return position


def filtered(
    segments: list[Segment], params: dict[str, list[str]], known: dict[str, Param]
) -> list[Segment]:
    """The segments narrowed by every parameter (repeats are AND, commas OR). Unknown
    parameters and modifiers are refused."""
    unknown = sorted(name for name in params if name not in known and name not in CONTROL)
    if unknown:
        raise FhirError(
            400,
            [
                Issue(
                    NOT_SUPPORTED,
                    f"This server does not support the search parameter {name!r} here; see "
                    "/fhir/metadata for those it does.",
                    (name,),
                )
                for name in unknown
            ],
        )
    for name, values in params.items():
        if name not in CONTROL and any(not value for value in values):
            raise refused(400, VALUE, f"{name} needs a value.", name)
    narrowed = []
    for segment in segments:
        rows = segment.rows
        for name, values in params.items():
            if name in CONTROL:
                continue
            param = known[name]

            def build(v: str, p: Param = param, k: str = segment.key) -> Q:
                return p.filter(v, k)

            for value in values:
                rows = rows.filter(any_of(value.split(","), build))
        narrowed.append(Segment(rows=rows, expand=segment.expand, key=segment.key))
    return narrowed


def page_of(segments: list[Segment], params: dict[str, list[str]]) -> Page:
    """A page of at most `_count` resources from the segments, in order, from the cursor."""
    count = count_of(params)
    position, first_sub = _cursor(params)
    sizes = [segment.rows.count() for segment in segments]
    total = sum(sizes)
    resources: list[dict] = []
    rows: list[Any] = []
    next_cursor: str | None = None
    while count and position < total and next_cursor is None:
        index, local = 0, position
        while local >= sizes[index]:
            local -= sizes[index]
            index += 1
        segment = segments[index]
        for row in segment.rows[local : local + count]:
            expanded = segment.expand(row)
            shown = expanded[first_sub:]
            room = count - len(resources)
            if len(shown) > room:
                next_cursor = f"{position}.{first_sub + room}"
                shown = shown[:room]
            resources.extend(shown)
            if shown:
                rows.append(row)
            if next_cursor is not None:
                break
            position, first_sub = position + 1, 0
            if len(resources) == count:
                if position < total:
                    next_cursor = f"{position}.0"
                break
    return Page(resources=resources, rows=rows, next_cursor=next_cursor, total=total)


def link_url(base: str, params: dict[str, list[str]], **changes: str) -> str:
    merged = {name: list(values) for name, values in params.items() if name != "_page"}
    for name, value in changes.items():
        merged[name] = [value]
    query = urlencode([(name, value) for name, values in merged.items() for value in values])
    return f"{base}?{query}" if query else base


def searchset(base: str, params: dict[str, list[str]], page: Page, *, with_total: bool) -> dict:
    """The searchset Bundle: matches (and `_include`d resources), with self/next links."""
    resource_base = base.rsplit("/", 1)[0]
    links = [{"relation": "self", "url": link_url(base, params)}]
    if page.next_cursor is not None:
        links.append({"relation": "next", "url": link_url(base, params, _page=page.next_cursor)})
    bundle: dict = {"resourceType": "Bundle", "type": "searchset", "link": links}
    if with_total:
        bundle["total"] = page.total
    bundle["entry"] = [
        {
            "fullUrl": f"{resource_base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
            "search": {"mode": mode},
        }
        for mode, resources in (("match", page.resources), ("include", page.included))
        for resource in resources
    ]
    if not bundle["entry"]:
        del bundle["entry"]
    return bundle
