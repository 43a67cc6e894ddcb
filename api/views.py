"""The REST API's views: parse, call one service, shape the answer. The rules
(ownership, the lifecycle, duplicates, gating) are the services'; their
refusals become problem+json answers (api.problems)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Account, Contact
from crm.models import Currency, ProcessFlow
from leads import csv_export, services
from leads.exceptions import LeadChanged
from leads.models import Lead
from opportunities import services as opportunity_services
from opportunities.filters import OpportunityFilter
from opportunities.models import Opportunity
from opportunities.selectors import opportunity_list

from .idempotency import idempotent
from .problems import problem
from .serializers import (
    CloseSerializer,
    CurrencySerializer,
    DisqualifySerializer,
    LeadPageSerializer,
    LeadSerializer,
    OpportunityPageSerializer,
    OpportunitySerializer,
    ProcessFlowSerializer,
    QualifyAnswerSerializer,
    QualifySerializer,
    UserSerializer,
    choice_lists,
)

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def etag_of(record) -> str:
    """The record's version, as HTTP sees it: it changes with every save."""
    return f'"{record.pk}-{int(record.modified_at.timestamp() * 1_000_000)}"'


def matches_version(request, record) -> bool:
    """Whether the If-Match header (if any) names the record's current version."""
    header = request.headers.get("If-Match", "").strip()
    return not header or header == "*" or etag_of(record) in {t.strip() for t in header.split(",")}


def expected_version(request, lead: Lead):
    """With If-Match, the version the client read: a lead changed since answers
    412 (LeadChanged), as the edit form does 409 for a stale page."""
    if not matches_version(request, lead):
        raise LeadChanged()
    return lead.modified_at if request.headers.get("If-Match", "").strip() else None


def with_etag(response: Response, record) -> Response:
    response["ETag"] = etag_of(record)
    return response


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


def currency_codes() -> dict[int, str]:
    return dict(Currency.objects.values_list("pk", "code"))


LIST_PARAMETERS = [
    OpenApiParameter("limit", int, description=f"Leads per page, 1 to {MAX_LIMIT}."),
    OpenApiParameter("cursor", str, description="The `next` link's cursor."),
    OpenApiParameter(
        "view", str, enum=["my", "open", "closed", "all"], description="As the lead lists."
    ),
    OpenApiParameter("q", str, description="Search: name, company, email or topic."),
    OpenApiParameter("sort", str, description="A list column, `-` for descending."),
    OpenApiParameter("rating", str),
    OpenApiParameter("lead_source", str),
    OpenApiParameter("status_reason", str),
    OpenApiParameter("owner", int),
]


class LeadList(APIView):
    @extend_schema(
        operation_id="leads_list", parameters=LIST_PARAMETERS, responses=LeadPageSerializer
    )
    def get(self, request):
        """The leads of a list, as the lead list pages filter, search and sort
        them, a page at a time (keyset cursor: as fast at any depth)."""
        limit = page_limit(request)
        params = request.query_params.copy()
        for name in ("limit", "cursor"):
            params.pop(name, None)
        page = csv_export.list_page(
            user=request.user,
            params=params,
            after=request.query_params.get("cursor") or None,
            per_page=limit,
        )
        context = {"request": request, "currency_codes": currency_codes()}
        return Response(
            {
                "results": LeadSerializer(page.object_list, many=True, context=context).data,
                "next": next_link(request, page.next_cursor if page.has_next else None),
            }
        )

    @extend_schema(
        operation_id="leads_create", request=LeadSerializer, responses={201: LeadSerializer}
    )
    @idempotent
    def post(self, request):
        """Create an open lead (routed when no owner is given), as the New lead form."""
        serializer = LeadSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        lead = services.create_lead(user=request.user, **serializer.validated_data)
        response = Response(LeadSerializer(lead, context={"request": request}).data, status=201)
        response["Location"] = request.build_absolute_uri(f"{request.path}{lead.pk}/")
        return with_etag(response, lead)


class LeadDetail(APIView):
    @extend_schema(operation_id="leads_retrieve", responses=LeadSerializer)
    def get(self, request, pk: int):
        lead = get_object_or_404(Lead, pk=pk)
        return with_etag(Response(LeadSerializer(lead, context={"request": request}).data), lead)

    @extend_schema(
        operation_id="leads_update",
        request=LeadSerializer,
        responses=LeadSerializer,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER)],
    )
    def patch(self, request, pk: int):
        """Change an open lead's fields; with If-Match, only the version read."""
        lead = get_object_or_404(Lead, pk=pk)
        serializer = LeadSerializer(
            lead, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        lead = services.update_lead(
            lead=lead,
            user=request.user,
            expected_modified_at=expected_version(request, lead),
            **serializer.validated_data,
        )
        return with_etag(Response(LeadSerializer(lead, context={"request": request}).data), lead)

    @extend_schema(operation_id="leads_delete", responses={204: None})
    def delete(self, request, pk: int):
        services.delete_lead(lead=get_object_or_404(Lead, pk=pk), user=request.user)
        return Response(status=204)


class LeadQualify(APIView):
    @extend_schema(
        operation_id="leads_qualify",
        request=QualifySerializer,
        responses={200: QualifyAnswerSerializer, 409: OpenApiTypes.OBJECT},
    )
    @idempotent
    def post(self, request, pk: int):
        """QualifyLead: the account, contact and opportunity created or linked.
        Possible duplicates answer 409 with the matching accounts and contacts:
        send again with existing_account / existing_contact, or ignore_duplicates."""
        lead = get_object_or_404(Lead, pk=pk)
        options = QualifySerializer(data=request.data)
        options.is_valid(raise_exception=True)
        chosen = dict(options.validated_data)
        for name, model in (("existing_account", Account), ("existing_contact", Contact)):
            if chosen.get(name) is not None:
                found = model.objects.filter(pk=chosen[name]).first()
                if found is None:
                    raise drf.ValidationError({name: ["No such record."]})
                chosen[name] = found
        chosen = {k: v for k, v in chosen.items() if v is not None}
        result = services.qualify_lead(lead=lead, user=request.user, **chosen)
        lead = result.lead
        lead.refresh_from_db()
        return with_etag(
            Response(
                {
                    "lead": LeadSerializer(lead, context={"request": request}).data,
                    "account": lead.qualified_account_id,
                    "contact": lead.qualified_contact_id,
                    "opportunity": lead.qualified_opportunity_id,
                    "created_account": result.account is not None,
                    "created_contact": result.contact is not None,
                }
            ),
            lead,
        )


class LeadDisqualify(APIView):
    @extend_schema(
        operation_id="leads_disqualify", request=DisqualifySerializer, responses=LeadSerializer
    )
    @idempotent
    def post(self, request, pk: int):
        lead = get_object_or_404(Lead, pk=pk)
        body = DisqualifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        lead = services.disqualify_lead(
            lead=lead, user=request.user, reason=body.validated_data["status_reason"]
        )
        return with_etag(Response(LeadSerializer(lead, context={"request": request}).data), lead)


class LeadReactivate(APIView):
    @extend_schema(operation_id="leads_reactivate", request=None, responses=LeadSerializer)
    @idempotent
    def post(self, request, pk: int):
        lead = services.reactivate_lead(lead=get_object_or_404(Lead, pk=pk), user=request.user)
        return with_etag(Response(LeadSerializer(lead, context={"request": request}).data), lead)


# --- Opportunities --------------------------------------------------------------------------


def _decode_cursor(value: str):
    """(created_at, id) from an opportunities cursor; 400 when it is not one."""
    try:
        created, pk = json.loads(base64.urlsafe_b64decode(value.encode()).decode())
        return datetime.fromisoformat(created), int(pk)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise drf.ValidationError({"cursor": ["Not a cursor this API gave."]}) from None


def _encode_cursor(opportunity: Opportunity) -> str:
    raw = json.dumps([opportunity.created_at.isoformat(), opportunity.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode()


OPPORTUNITY_PARAMETERS = [
    OpenApiParameter("limit", int, description=f"Opportunities per page, 1 to {MAX_LIMIT}."),
    OpenApiParameter("cursor", str, description="The `next` link's cursor."),
    OpenApiParameter("q", str, description="Search: topic, account or contact."),
    OpenApiParameter("state", str, enum=["open", "won", "lost"]),
    OpenApiParameter("stage", int),
    OpenApiParameter("owner", int),
    OpenApiParameter("mine", bool),
    OpenApiParameter("close_after", OpenApiTypes.DATE),
    OpenApiParameter("close_before", OpenApiTypes.DATE),
]


class OpportunityList(APIView):
    @extend_schema(
        operation_id="opportunities_list",
        parameters=OPPORTUNITY_PARAMETERS,
        responses=OpportunityPageSerializer,
    )
    def get(self, request):
        """Opportunities, newest first, filtered as the opportunity list, a page
        at a time (keyset cursor)."""
        limit = page_limit(request)
        params = request.query_params.copy()
        for name in ("limit", "cursor", "sort"):
            params.pop(name, None)
        found = OpportunityFilter(params or None, queryset=opportunity_list(), request=request)
        if found.is_bound and not found.is_valid():
            raise drf.ValidationError(found.errors)
        rows = found.qs if found.is_bound else opportunity_list()
        cursor = request.query_params.get("cursor")
        if cursor:
            created, pk = _decode_cursor(cursor)
            rows = rows.filter(Q(created_at__lt=created) | Q(created_at=created, pk__lt=pk))
        page = list(rows.order_by("-created_at", "-pk")[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        following = next_link(request, _encode_cursor(page[-1]) if more else None)
        context = {"request": request, "currency_codes": currency_codes()}
        return Response(
            {
                "results": OpportunitySerializer(page, many=True, context=context).data,
                "next": following,
            }
        )

    @extend_schema(
        operation_id="opportunities_create",
        request=OpportunitySerializer,
        responses={201: OpportunitySerializer},
    )
    @idempotent
    def post(self, request):
        serializer = OpportunitySerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        opportunity = opportunity_services.create_opportunity(
            user=request.user, **serializer.validated_data
        )
        response = Response(
            OpportunitySerializer(opportunity, context={"request": request}).data, status=201
        )
        response["Location"] = request.build_absolute_uri(f"{request.path}{opportunity.pk}/")
        return with_etag(response, opportunity)


def _opportunity_answer(request, opportunity: Opportunity) -> Response:
    data = OpportunitySerializer(opportunity, context={"request": request}).data
    return with_etag(Response(data), opportunity)


class OpportunityDetail(APIView):
    @extend_schema(operation_id="opportunities_retrieve", responses=OpportunitySerializer)
    def get(self, request, pk: int):
        return _opportunity_answer(request, get_object_or_404(Opportunity, pk=pk))

    @extend_schema(
        operation_id="opportunities_update",
        request=OpportunitySerializer,
        responses=OpportunitySerializer,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER)],
    )
    def patch(self, request, pk: int):
        opportunity = get_object_or_404(Opportunity, pk=pk)
        if not matches_version(request, opportunity):
            return problem(412, "opportunity_changed", "Someone changed it since you read it.")
        serializer = OpportunitySerializer(
            opportunity, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        opportunity = opportunity_services.update_opportunity(
            opportunity=opportunity, user=request.user, **serializer.validated_data
        )
        return _opportunity_answer(request, opportunity)


def _move(service, operation_id: str, summary: str):
    class Move(APIView):
        @extend_schema(
            operation_id=operation_id,
            summary=summary,
            request=None,
            responses={200: OpportunitySerializer, 409: OpenApiTypes.OBJECT},
        )
        @idempotent
        def post(self, request, pk: int):
            opportunity = service(
                opportunity=get_object_or_404(Opportunity, pk=pk), user=request.user
            )
            return _opportunity_answer(request, opportunity)

    Move.__name__ = Move.__qualname__ = operation_id.title().replace("_", "")
    return Move


OpportunityNextStage = _move(
    opportunity_services.move_to_next_stage,
    "opportunities_next_stage",
    "Next stage: refused (422 required_steps_missing) while a required step is empty.",
)
OpportunityPreviousStage = _move(
    opportunity_services.move_to_previous_stage,
    "opportunities_previous_stage",
    "Previous stage: never gated.",
)
OpportunityReopen = _move(
    opportunity_services.reopen_opportunity,
    "opportunities_reopen",
    "Reopen a won or lost opportunity at the stage it closed at.",
)


class OpportunityClose(APIView):
    @extend_schema(
        operation_id="opportunities_close", request=CloseSerializer, responses=OpportunitySerializer
    )
    @idempotent
    def post(self, request, pk: int):
        body = CloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        opportunity = opportunity_services.close_opportunity(
            opportunity=get_object_or_404(Opportunity, pk=pk),
            user=request.user,
            **body.validated_data,
        )
        return _opportunity_answer(request, opportunity)


# --- Read-only lists ---------------------------------------------------------------------------


class CurrencyList(APIView):
    @extend_schema(operation_id="currencies_list", responses=CurrencySerializer(many=True))
    def get(self, request):
        """Every currency, with its exchange rate to the organisation's base currency."""
        rows = Currency.objects.order_by("code")
        return Response(CurrencySerializer(rows, many=True).data)


class UserList(APIView):
    @extend_schema(operation_id="users_list", responses=UserSerializer(many=True))
    def get(self, request):
        """The active users a record can be assigned to."""
        rows = get_user_model().objects.filter(is_active=True).order_by("username")
        return Response(UserSerializer(rows, many=True).data)


class ProcessFlowList(APIView):
    @extend_schema(operation_id="process_flows_list", responses=ProcessFlowSerializer(many=True))
    def get(self, request):
        """The business process flows, each with its stages in order."""
        rows = ProcessFlow.objects.prefetch_related("stages").order_by("name")
        return Response(ProcessFlowSerializer(rows, many=True).data)


class ChoiceLists(APIView):
    @extend_schema(operation_id="choices_list", responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """The values and labels of every choice field: lead sources, ratings,
        industries, status reasons, disqualify and close reasons."""
        return Response(choice_lists())
