"""What the lists share: a cursor over ids, and one access record per page of patient data."""

from typing import Any

from django.db.models import Model
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from audit.models import AccessKind
from audit.services import audit_read


class OldestFirst(CursorPagination):
    """A cursor over ids: rows added between calls come on later pages, and none is repeated or
    skipped. A `page_size` or `cursor` that is not one is a 400 naming it: DRF would ignore the
    one and answer 404 to the other (and a 500 to a cursor whose position is not an id)."""

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request: Request) -> int:
        sent = request.query_params.getlist(self.page_size_query_param)
        if not sent:
            return self.page_size
        if len(sent) > 1 or not (sent[0].isascii() and sent[0].isdigit()) or int(sent[0]) < 1:
            raise ValidationError(
                {
                    self.page_size_query_param: f"Send one whole number from 1; above "
                    f"{self.max_page_size} means {self.max_page_size}"
                }
            )
        return min(int(sent[0]), self.max_page_size)

    def decode_cursor(self, request: Request) -> Cursor | None:
        refused = ValidationError(
            {self.cursor_query_param: "Send the cursor of a `next` or `previous` link as it came"}
        )
        if len(request.query_params.getlist(self.cursor_query_param)) > 1:
            raise refused
        try:
            cursor: Cursor | None = super().decode_cursor(request)
        except NotFound as bad:
            raise refused from bad
        position = cursor.position if cursor else None
        if position is not None and not (position.isascii() and position.isdigit()):
            raise refused  # positions are ids (`ordering`)
        return cursor

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    f"Rows a page (default {self.page_size}); above {self.max_page_size} means "
                    f"{self.max_page_size}."
                )
        return parameters


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
