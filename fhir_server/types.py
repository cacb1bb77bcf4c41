"""What the server serves, type by type: who may read which rows, the search parameters, how a
row becomes resources. `views.py` turns these into read and search endpoints and
`capability.py` into the CapabilityStatement, so the statement lists exactly what is served."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model

from .search import Param, Segment


@dataclass(frozen=True)
class Include:
    """`_include=<Type>:<param>`: the resources a match points at, added to the page."""

    name: str
    target: str
    # The rows the page's rows point at (a queryset, or a list when they are already at hand).
    rows: Callable[[Any, list[Any]], Iterable[Any]]
    expand: Callable[[Any], list[dict]]


@dataclass(frozen=True)
class ResourceType:
    name: str
    scope: str  # "" for conformance resources, which anyone may read
    documentation: str
    # The rows of each source (one per segment) the user may see, in a fixed order; given the
    # search parameters too, for a type whose rows expand by them (Observation by code).
    sources: Callable[[Any, dict[str, list[str]]], list[Segment]]
    # The row(s) holding the resource with this logical id, among the visible ones.
    read: Callable[[Any, str], dict | None]
    params: dict[str, Param] = field(default_factory=dict)
    includes: tuple[Include, ...] = ()
    # What a page showed of patients, for the access record: (referrals, patients).
    audited: Callable[[list[Any]], tuple[list[Model], list[Model | int]]] | None = None
    total: bool = True
