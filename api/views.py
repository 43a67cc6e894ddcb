"""The REST API's views: parse, call one service, shape the answer. The rules
(ownership, the lifecycle, duplicates, gating) are the services'; their
refusals become problem+json answers (api.problems)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Account, Contact
from crm.models import Currency
from leads import csv_export, services
from leads.exceptions import LeadChanged
from leads.models import Lead

from .serializers import (
    DisqualifySerializer,
    LeadPageSerializer,
    LeadSerializer,
    QualifyAnswerSerializer,
    QualifySerializer,
)

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def etag_of(lead: Lead) -> str:
    """The lead's version, as HTTP sees it: it changes with every save."""
    return f'"{lead.pk}-{int(lead.modified_at.timestamp() * 1_000_000)}"'


def expected_version(request, lead: Lead):
    """With If-Match, the version the client read: a lead changed since answers
    412 (LeadChanged), as the edit form does 409 for a stale page."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return None
    if header != "*" and etag_of(lead) not in {tag.strip() for tag in header.split(",")}:
        raise LeadChanged()
    return lead.modified_at


def with_etag(response: Response, lead: Lead) -> Response:
    response["ETag"] = etag_of(lead)
    return response


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
        try:
            limit = int(request.query_params.get("limit", DEFAULT_LIMIT))
        except ValueError:
            raise drf.ValidationError({"limit": ["A whole number."]}) from None
        if not 1 <= limit <= MAX_LIMIT:
            raise drf.ValidationError({"limit": [f"From 1 to {MAX_LIMIT}."]})
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
        following = None
        if page.has_next:
            query = request.query_params.copy()
            query["cursor"] = page.next_cursor
            following = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            {
                "results": LeadSerializer(page.object_list, many=True, context=context).data,
                "next": following,
            }
        )

    @extend_schema(
        operation_id="leads_create", request=LeadSerializer, responses={201: LeadSerializer}
    )
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
    def post(self, request, pk: int):
        lead = services.reactivate_lead(lead=get_object_or_404(Lead, pk=pk), user=request.user)
        return with_etag(Response(LeadSerializer(lead, context={"request": request}).data), lead)
