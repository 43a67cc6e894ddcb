"""Pages of the API's lists: `limit` rows after a keyset `cursor`, so that page
ten thousand costs what page one does (no OFFSET), and a `next` link."""

from __future__ import annotations

import base64
import binascii
import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from rest_framework import serializers as drf
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def page_limit(request) -> int:
    """The `limit` asked for (DEFAULT_LIMIT when none); 400 outside 1 to MAX_LIMIT."""
    try:
        limit = int(request.query_params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise drf.ValidationError({"limit": ["A whole number."]}) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise drf.ValidationError({"limit": [f"From 1 to {MAX_LIMIT}."]})
    return limit


def next_link(request, cursor: str | None) -> str | None:
    """This request's URL with `cursor` for the next page, or None on the last."""
    if cursor is None:
        return None
    query = request.query_params.copy()
    query["cursor"] = cursor
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def page_schema(results: dict) -> dict:
    return {
        "type": "object",
        "required": ["results", "next"],
        "properties": {
            "results": results,
            "next": {
                "type": ["string", "null"],
                "format": "uri",
                "description": "The next page's URL; null on the last page.",
            },
        },
    }


class Keyset(BasePagination):
    """Rows in the order of the view's `sort` parameter (one of its `sorts`,
    a key to a non-null field; `-` for descending; `default_sort` when none),
    the primary key breaking ties, and a cursor naming the last row's sort value
    and key: the next page is the rows after it, found through the index."""

    def paginate_queryset(self, queryset: QuerySet, request, view=None):
        self.request = request
        limit = page_limit(request)
        sort = request.query_params.get("sort") or view.default_sort
        field = view.sorts.get(sort.removeprefix("-"))
        if field is None:
            choices = ", ".join(sorted(view.sorts))
            raise drf.ValidationError({"sort": [f"One of {choices}, with - to reverse."]})
        descending = sort.startswith("-")
        after = "lt" if descending else "gt"
        cursor = request.query_params.get("cursor")
        if cursor:
            value, pk = self._decode(cursor, sort, queryset.model, field)
            if field == "pk":
                queryset = queryset.filter(**{f"pk__{after}": pk})
            else:
                queryset = queryset.filter(
                    Q(**{f"{field}__{after}": value}) | Q(**{field: value, f"pk__{after}": pk})
                )
        keys = ["pk"] if field == "pk" else [field, "pk"]
        rows = list(queryset.order_by(*(f"-{k}" if descending else k for k in keys))[: limit + 1])
        self.cursor = self._encode(sort, field, rows[limit - 1]) if len(rows) > limit else None
        return rows[:limit]

    @staticmethod
    def _encode(sort: str, field: str, row) -> str:
        value = None if field == "pk" else row._meta.get_field(field).value_to_string(row)
        return base64.urlsafe_b64encode(json.dumps([sort, value, row.pk]).encode()).decode()

    @staticmethod
    def _decode(cursor: str, sort: str, model, field: str):
        try:
            given, value, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
            if given != sort or not isinstance(pk, int):
                raise ValueError
            if field != "pk":
                value = model._meta.get_field(field).to_python(value)
            return value, pk
        except (ValueError, TypeError, UnicodeDecodeError, binascii.Error, DjangoValidationError):
            raise drf.ValidationError(
                {"cursor": ["Not a cursor this list gave with this sort."]}
            ) from None

    def get_paginated_response(self, data) -> Response:
        return Response({"results": data, "next": next_link(self.request, self.cursor)})

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return page_schema(schema)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        sorts = sorted(view.sorts)
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"Rows per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "The `next` link's cursor.",
                "schema": {"type": "string"},
            },
            {
                "name": "sort",
                "in": "query",
                "required": False,
                "description": f"The order, `-` for descending (default `{view.default_sort}`).",
                "schema": {"type": "string", "enum": [*sorts, *(f"-{s}" for s in sorts)]},
            },
        ]
