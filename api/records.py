"""The shape every record resource of the API shares: a list (filters from the
UI list's FilterSet, keyset pages, sorts) that creates, and a detail that reads
with an ETag, changes with If-Match and deletes. A resource names its model,
serializer and filters, and the service calls that write; the rules stay there."""

from __future__ import annotations

from django.db import transaction
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.response import Response

from crm.services import RecordChanged

from .idempotency import idempotent
from .paging import Keyset

IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description="The ETag read: a record changed since answers 412, and nothing is saved or done.",
)


def etag_of(record) -> str:
    """The record's version, as HTTP sees it: it changes with every save."""
    return f'"{record.pk}-{int(record.modified_at.timestamp() * 1_000_000)}"'


def if_match(request) -> str:
    return request.headers.get("If-Match", "").strip()


def matches_version(request, record) -> bool:
    """Whether the If-Match header (if any) names the record's current version."""
    header = if_match(request)
    return not header or header == "*" or etag_of(record) in {t.strip() for t in header.split(",")}


def expected_version(request, record):
    """With If-Match, the version the client read, for the update service to
    check under its lock; a version already gone answers 412 (RecordChanged)."""
    if not matches_version(request, record):
        raise RecordChanged(record)
    return record.modified_at if if_match(request) else None


def at_version_read(request, record, call):
    """`call(record)`; with If-Match, in one transaction with the record locked and
    checked to be still at the version read (412, nothing done, if not). An action
    or a delete honours the header as a change does."""
    if not if_match(request) or not hasattr(record, "modified_at"):
        return call(record)
    with transaction.atomic():
        current = type(record).objects.select_for_update().get(pk=record.pk)
        if not matches_version(request, current):
            raise RecordChanged(current)
        return call(current)


def with_etag(response: Response, record) -> Response:
    if hasattr(record, "modified_at"):
        response["ETag"] = etag_of(record)
    return response


class RecordList(generics.ListAPIView):
    """GET: a page of rows; POST: create one through `make`."""

    pagination_class = Keyset
    filter_backends = [DjangoFilterBackend]
    sorts = {"id": "pk", "created": "created_at"}
    default_sort = "-id"
    creates = None  # the create service: staticmethod(create_x), called with user= and the data

    def make(self, data: dict):
        return self.creates(user=self.request.user, **data)

    @idempotent
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = self.make(dict(serializer.validated_data))
        response = Response(self.get_serializer(record).data, status=201)
        response["Location"] = request.build_absolute_uri(f"{request.path}{record.pk}/")
        return with_etag(response, record)


class RecordView(generics.GenericAPIView):
    def answer(self, record) -> Response:
        """The record as its serializer shows it, with its ETag."""
        return with_etag(Response(self.get_serializer(record).data), record)


def action(
    model, serializer, record_name: str, service, operation_id: str, summary: str, body=None
):
    """POST …/{id}/<action>: `service(<record_name>=the record, user=…, **body's
    data)` (a lifecycle action, idempotent with a key), answered with the record
    as `serializer` shows it. `body`, if any, is the serializer of its options."""

    class Action(RecordView):
        queryset = model.objects.all()
        serializer_class = serializer

        @extend_schema(
            operation_id=operation_id,
            summary=summary,
            request=body,
            responses=serializer,
            parameters=[IF_MATCH] if hasattr(model, "modified_at") else [],
        )
        @idempotent
        def post(self, request, *args, **kwargs):
            options = {}
            if body is not None:
                given = body(data=request.data)
                given.is_valid(raise_exception=True)
                options = dict(given.validated_data)
            done = at_version_read(
                request,
                self.get_object(),
                lambda record: service(**{record_name: record}, user=request.user, **options),
            )
            return self.answer(done)

    Action.__name__ = Action.__qualname__ = operation_id.title().replace("_", "")
    return Action


# GET with an ETag; PATCH through the `updates` service (If-Match honoured, as the
# version the service checks under its lock); DELETE through `deletes`. Both services
# take the record as the keyword `record_name`. (Comments, not a docstring: the schema
# shows a view's docstring as each operation's description.)
class RecordDetail(RecordView):
    record_name = ""
    updates = deletes = None  # staticmethod(update_x), staticmethod(delete_x)

    def change(self, record, data: dict, expected_modified_at):
        return self.updates(
            **{self.record_name: record},
            user=self.request.user,
            expected_modified_at=expected_modified_at,
            **data,
        )

    def remove(self, record) -> None:
        self.deletes(**{self.record_name: record}, user=self.request.user)

    def get(self, request, *args, **kwargs):
        """The record, with its version as the ETag."""
        return self.answer(self.get_object())

    def patch(self, request, *args, **kwargs):
        """Change the record's fields; with If-Match, only the version read (412 if
        someone changed it since)."""
        record = self.get_object()
        serializer = self.get_serializer(record, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        expected = expected_version(request, record) if hasattr(record, "modified_at") else None
        return self.answer(self.change(record, dict(serializer.validated_data), expected))

    def delete(self, request, *args, **kwargs):
        """Delete the record, as its page's Delete does (with the same permissions);
        with If-Match, only the version read (412 if someone changed it since)."""
        at_version_read(request, self.get_object(), self.remove)
        return Response(status=204)


def documented(name: str, *, what: str, versioned: bool = True):
    """Name a resource's operations `{name}_list`, `_create`, `_retrieve`,
    `_update`, `_delete` (as the lead and opportunity operations are named)."""
    update = [IF_MATCH] if versioned else []

    def list_view(view):
        return extend_schema_view(
            get=extend_schema(operation_id=f"{name}_list", summary=f"List {what}"),
            post=extend_schema(
                operation_id=f"{name}_create", responses={201: view.serializer_class}
            ),
        )(view)

    def detail_view(view):
        return extend_schema_view(
            get=extend_schema(operation_id=f"{name}_retrieve"),
            patch=extend_schema(operation_id=f"{name}_update", parameters=update),
            delete=extend_schema(
                operation_id=f"{name}_delete",
                responses={204: None},
                parameters=update,
            ),
        )(view)

    return list_view, detail_view
