"""What the data lists share: a cursor over ids, and one access record per page of patient data."""

from typing import Any

from django.db.models import Model
from rest_framework import generics
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import AccessKind
from audit.services import audit_read


class OldestFirst(CursorPagination):
    """A cursor over ids: rows added between calls come on later pages, and none is repeated or
    skipped."""

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class NewestFirst(OldestFirst):
    ordering = "-id"


class AuditedList(generics.ListAPIView):
    """A list that shows patient data: each page writes one access record naming the referrals
    (and so the patients) it shows, in one INSERT, so a page costs the same queries at any size."""

    pagination_class = OldestFirst

    def referrals_shown(self, rows: list[Any]) -> list[Model]:
        raise NotImplementedError

    def paginate_queryset(self, queryset: Any) -> list[Any] | None:
        page: list[Any] | None = super().paginate_queryset(queryset)
        self._shown = list(page) if page is not None else []
        return page

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().list(request, *args, **kwargs)
        audit_read(request, AccessKind.API, referrals=self.referrals_shown(self._shown))
        return response
