"""The REST API's views: parse, call one service, shape the answer. The rules
(ownership, the lifecycle, duplicates, gating) are the services'; their
refusals become problem+json answers (api.problems)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers as drf
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Account, Contact
from crm.models import Currency, ProcessFlow
from leads import csv_export, scoring, services
from leads.listing.sorts import SORTS
from leads.models import Lead, LeadSource, Rating
from leads.selectors import VIEWS
from opportunities import services as opportunity_services
from opportunities.filters import OpportunityFilter
from opportunities.models import Opportunity
from opportunities.selectors import opportunity_list

from .idempotency import idempotent
from .paging import MAX_LIMIT, next_link, page_limit
from .problems import describe
from .records import (
    IF_MATCH,
    RecordDetail,
    RecordList,
    action,
    at_version_read,
    documented,
    with_etag,
)
from .serializers import (
    BulkDisqualifySerializer,
    BulkOutcomeSerializer,
    BulkQualifySerializer,
    CloseSerializer,
    CurrencySerializer,
    DisqualifySerializer,
    LeadPageSerializer,
    LeadScoreSerializer,
    LeadSerializer,
    OpportunitySerializer,
    ProcessFlowSerializer,
    QualifyAnswerSerializer,
    QualifySerializer,
    UserSerializer,
    choice_lists,
)


def currency_codes() -> dict[int, str]:
    return dict(Currency.objects.values_list("pk", "code"))


LIST_PARAMETERS = [
    OpenApiParameter("limit", int, description=f"Leads per page, 1 to {MAX_LIMIT}."),
    OpenApiParameter("cursor", str, description="The `next` link's cursor."),
    OpenApiParameter("view", str, enum=list(VIEWS), description="As the lead lists."),
    OpenApiParameter("q", str, description="Search: name, company, email or topic."),
    OpenApiParameter(
        "sort",
        str,
        enum=[*SORTS, *(f"-{key}" for key in SORTS)],
        description="A list column, `-` for descending.",
    ),
    OpenApiParameter("rating", str, enum=list(Rating.values)),
    OpenApiParameter("lead_source", str, enum=list(LeadSource.values)),
    OpenApiParameter("status_reason", str, enum=list(Lead.StatusReason.values)),
    OpenApiParameter("owner", int),
    OpenApiParameter("created_after", OpenApiTypes.DATE),
    OpenApiParameter("created_before", OpenApiTypes.DATE),
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
            strict=True,
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


_, detail_lead = documented("leads", what="leads")


@detail_lead
class LeadDetail(RecordDetail):
    queryset = Lead.objects.all()
    serializer_class = LeadSerializer
    record_name = "lead"
    updates = staticmethod(services.update_lead)
    deletes = staticmethod(services.delete_lead)


def linked_records(options: dict) -> dict:
    """Qualify's options with the existing account and contact ids made records
    (400 when there is no such record), and the options not given left out."""
    chosen = dict(options)
    for name, model in (("existing_account", Account), ("existing_contact", Contact)):
        if chosen.get(name) is not None:
            found = model.objects.filter(pk=chosen[name]).first()
            if found is None:
                raise drf.ValidationError({name: ["No such record."]})
            chosen[name] = found
    return {k: v for k, v in chosen.items() if v is not None}


class LeadQualify(APIView):
    @extend_schema(
        operation_id="leads_qualify",
        request=QualifySerializer,
        responses=QualifyAnswerSerializer,
        parameters=[IF_MATCH],
    )
    @idempotent
    def post(self, request, pk: int):
        """QualifyLead: the account, contact and opportunity created or linked.
        Possible duplicates answer 409 with the matching accounts and contacts:
        send again with existing_account / existing_contact, or ignore_duplicates."""
        lead = get_object_or_404(Lead, pk=pk)
        options = QualifySerializer(data=request.data)
        options.is_valid(raise_exception=True)
        chosen = linked_records(options.validated_data)
        result = at_version_read(
            request,
            lead,
            lambda lead: services.qualify_lead(lead=lead, user=request.user, **chosen),
        )
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


class LeadScore(APIView):
    @extend_schema(operation_id="leads_score", responses=LeadScoreSerializer)
    def get(self, request, pk: int):
        """The lead's score, grade and trend, the reasons for it (each field's
        sentence and points, largest first) and its score history."""
        lead = get_object_or_404(Lead, pk=pk)
        explanation = scoring.explain(lead)
        return Response(
            LeadScoreSerializer(
                {
                    "score": lead.score_or_none,
                    "grade": lead.score_grade,
                    "trend": lead.score_trend,
                    "base": explanation.base if explanation else None,
                    "reasons": explanation.reasons if explanation else [],
                    "history": scoring.history(lead),
                }
            ).data
        )


class LeadDisqualify(APIView):
    @extend_schema(
        operation_id="leads_disqualify",
        request=DisqualifySerializer,
        responses=LeadSerializer,
        parameters=[IF_MATCH],
    )
    @idempotent
    def post(self, request, pk: int):
        lead = get_object_or_404(Lead, pk=pk)
        body = DisqualifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["status_reason"]
        lead = at_version_read(
            request,
            lead,
            lambda lead: services.disqualify_lead(lead=lead, user=request.user, reason=reason),
        )
        return with_etag(Response(LeadSerializer(lead, context={"request": request}).data), lead)


LeadReactivate = action(
    Lead,
    LeadSerializer,
    "lead",
    services.reactivate_lead,
    "leads_reactivate",
    "Reactivate a qualified or disqualified lead: Open / New again.",
)


def _outcomes(ids: list[int], found: dict[int, Lead], results) -> Response:
    """One outcome per lead id asked for, in the order asked: done (with the
    linked records) or refused (with the refusal's problem)."""
    done = {result.lead.pk: result for result in results}
    outcomes = []
    for pk in ids:
        result = done.get(pk)
        if result is None:
            refusal = {"code": "not_found", "detail": "No such lead."}
        elif result.error is not None:
            refusal = describe(result.error)
        else:
            lead = result.lead
            outcomes.append(
                {
                    "lead": pk,
                    "ok": True,
                    "account": lead.qualified_account_id,
                    "contact": lead.qualified_contact_id,
                    "opportunity": lead.qualified_opportunity_id,
                    "problem": None,
                }
            )
            continue
        outcomes.append({"lead": pk, "ok": False, "problem": refusal})
    return Response({"outcomes": outcomes, "done": sum(o["ok"] for o in outcomes)})


def _leads_of(ids: list[int]) -> dict[int, Lead]:
    return Lead.objects.in_bulk(ids)


class LeadsQualify(APIView):
    @extend_schema(
        operation_id="leads_bulk_qualify",
        request=BulkQualifySerializer,
        responses=BulkOutcomeSerializer,
    )
    @idempotent
    def post(self, request):
        """Qualify many leads with the same options; `choices` settles a lead's
        duplicates (an existing account or contact, or ignore them). One lead's
        refusal does not stop the others: each has its outcome."""
        body = BulkQualifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        options = dict(body.validated_data)
        ids = list(dict.fromkeys(options.pop("leads")))
        per_lead = {
            choice.pop("lead"): linked_records(choice) for choice in options.pop("choices", [])
        }
        found = _leads_of(ids)
        results = services.qualify_leads(
            leads=[found[pk] for pk in ids if pk in found],
            user=request.user,
            per_lead=per_lead,
            **linked_records(options),
        )
        return _outcomes(ids, found, results)


class LeadsDisqualify(APIView):
    @extend_schema(
        operation_id="leads_bulk_disqualify",
        request=BulkDisqualifySerializer,
        responses=BulkOutcomeSerializer,
    )
    @idempotent
    def post(self, request):
        """Disqualify many leads with one status reason, each with its outcome."""
        body = BulkDisqualifySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ids = list(dict.fromkeys(body.validated_data["leads"]))
        found = _leads_of(ids)
        results = services.disqualify_leads(
            leads=[found[pk] for pk in ids if pk in found],
            user=request.user,
            reason=body.validated_data["status_reason"],
        )
        return _outcomes(ids, found, results)


# --- Opportunities --------------------------------------------------------------------------


list_opportunities, detail_opportunity = documented("opportunities", what="opportunities")


@list_opportunities
class OpportunityList(RecordList):
    """Opportunities, newest first, filtered and searched as the opportunity list
    (`q`: topic, account or contact), a page at a time (keyset cursor)."""

    queryset = opportunity_list()
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilter
    sorts = {"id": "pk", "created": "created_at", "name": "name"}
    default_sort = "-created"
    creates = staticmethod(opportunity_services.create_opportunity)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "currency_codes": currency_codes()}


@detail_opportunity
class OpportunityDetail(RecordDetail):
    queryset = Opportunity.objects.all()
    serializer_class = OpportunitySerializer
    record_name = "opportunity"
    updates = staticmethod(opportunity_services.update_opportunity)
    deletes = staticmethod(opportunity_services.delete_opportunity)


def _opportunity_action(service, operation_id: str, summary: str, body=None):
    return action(
        Opportunity, OpportunitySerializer, "opportunity", service, operation_id, summary, body
    )


OpportunityNextStage = _opportunity_action(
    opportunity_services.move_to_next_stage,
    "opportunities_next_stage",
    "Next stage: refused (422 required_steps_missing) while a required step is empty.",
)
OpportunityPreviousStage = _opportunity_action(
    opportunity_services.move_to_previous_stage,
    "opportunities_previous_stage",
    "Previous stage: never gated.",
)
OpportunityReopen = _opportunity_action(
    opportunity_services.reopen_opportunity,
    "opportunities_reopen",
    "Reopen a won or lost opportunity at the stage it closed at.",
)
OpportunityClose = _opportunity_action(
    opportunity_services.close_opportunity,
    "opportunities_close",
    "Close as Won or Lost, with a status reason, actual revenue and close date.",
    body=CloseSerializer,
)


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
