"""The API's shapes of a lead and of the lifecycle actions' answers. Only
shapes: every write goes through leads.services, which checks the rules."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.models import Currency, ProcessFlow, ProcessStage
from leads.models import Lead
from leads.services import EDITABLE_FIELDS
from opportunities.models import Opportunity
from opportunities.services import EDITABLE_FIELDS as OPPORTUNITY_FIELDS

READ_ONLY = (
    "id",
    "state",
    "stage",
    "qualified_account",
    "qualified_contact",
    "qualified_opportunity",
    "created_at",
    "modified_at",
)


@extend_schema_field(
    {"type": "string", "description": "An ISO 4217 code, e.g. USD.", "example": "USD"}
)
class CurrencyField(serializers.RelatedField):
    """A currency by its ISO code ("USD"). Read from the codes the view put in the
    context (one query for a whole page), else looked up."""

    default_error_messages = {"unknown": "{code!r} is not a currency code."}

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Currency.objects.all())
        super().__init__(**kwargs)

    def use_pk_only_optimization(self) -> bool:
        return True

    def to_representation(self, value):
        codes = self.context.get("currency_codes")
        if codes is None:
            codes = self.context["currency_codes"] = dict(
                Currency.objects.values_list("pk", "code")
            )
        return codes.get(value.pk)

    def to_internal_value(self, data):
        found = self.get_queryset().filter(code__iexact=str(data)).first()
        if found is None:
            self.fail("unknown", code=str(data)[:20])
        return found


class LeadSerializer(serializers.ModelSerializer):
    currency = CurrencyField(required=False, allow_null=True)

    class Meta:
        model = Lead
        fields = [*READ_ONLY, *sorted(EDITABLE_FIELDS)]
        read_only_fields = READ_ONLY
        extra_kwargs = {
            # The owner rules are the service's (only a manager assigns another owner).
            "owner": {"required": False},
            "status_reason": {"required": False},
        }

    def validate_status_reason(self, value):
        open_reasons = {Lead.StatusReason.NEW, Lead.StatusReason.CONTACTED}
        if value and value not in open_reasons:
            raise serializers.ValidationError("An open lead's status is New or Contacted.")
        return value


class QualifySerializer(serializers.Serializer):
    """QualifyLead's parameters (Dynamics 365): which records to create, the
    opportunity's currency, records to link instead, and whether to go ahead
    despite possible duplicates."""

    create_account = serializers.BooleanField(required=False, allow_null=True, default=None)
    create_contact = serializers.BooleanField(required=False, allow_null=True, default=None)
    create_opportunity = serializers.BooleanField(required=False, allow_null=True, default=None)
    currency = CurrencyField(required=False, allow_null=True)
    existing_account = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    existing_contact = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    ignore_duplicates = serializers.BooleanField(required=False, default=False)


class DisqualifySerializer(serializers.Serializer):
    status_reason = serializers.ChoiceField(
        choices=[(r.value, r.label) for r in Lead.DISQUALIFY_REASONS]
    )


class QualifyAnswerSerializer(serializers.Serializer):
    """The qualified lead and the records it is linked to, created or existing."""

    lead = LeadSerializer()
    account = serializers.IntegerField(allow_null=True)
    contact = serializers.IntegerField(allow_null=True)
    opportunity = serializers.IntegerField(allow_null=True)
    created_account = serializers.BooleanField()
    created_contact = serializers.BooleanField()


class LeadPageSerializer(serializers.Serializer):
    results = LeadSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's URL, if any.")


# What only the lifecycle services change (the moves, close and reopen).
OPPORTUNITY_READ_ONLY = (
    "id",
    "state",
    "status_reason",
    "stage",
    "originating_lead",
    "actual_revenue",
    "actual_close_date",
    "created_at",
    "modified_at",
)


class OpportunitySerializer(serializers.ModelSerializer):
    currency = CurrencyField(required=False)

    class Meta:
        model = Opportunity
        fields = [*OPPORTUNITY_READ_ONLY, *sorted(OPPORTUNITY_FIELDS)]
        read_only_fields = OPPORTUNITY_READ_ONLY
        extra_kwargs = {"owner": {"required": False}}


class OpportunityPageSerializer(serializers.Serializer):
    results = OpportunitySerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's URL, if any.")


class CloseSerializer(serializers.Serializer):
    """Close as Won or Lost, as Dynamics' Close Opportunity dialog."""

    won = serializers.BooleanField()
    status_reason = serializers.ChoiceField(
        choices=Opportunity.StatusReason.choices, required=False, allow_null=True
    )
    actual_revenue = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, allow_null=True
    )
    close_date = serializers.DateField(required=False, allow_null=True)


def serialized(record) -> dict:
    """A record as the API shows it (a webhook's `data`)."""
    if isinstance(record, Lead):
        return dict(LeadSerializer(record).data)
    if isinstance(record, Opportunity):
        return dict(OpportunitySerializer(record).data)
    data = {"id": record.pk, "object": record._meta.model_name}
    for field in ("subject", "title", "text", "type", "status", "due_at", "created_at"):
        if hasattr(record, field):
            value = getattr(record, field)
            data[field] = value.isoformat() if hasattr(value, "isoformat") else value
    for regarding in ("lead_id", "account_id", "contact_id", "opportunity_id"):
        if getattr(record, regarding, None):
            data[regarding.removesuffix("_id")] = getattr(record, regarding)
    return data


class CurrencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Currency
        fields = ["id", "code", "name", "symbol", "exchange_rate", "is_active"]


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ProcessStage
        fields = ["id", "name", "entity", "order"]


class ProcessFlowSerializer(serializers.ModelSerializer):
    stages = serializers.SerializerMethodField()

    class Meta:
        model = ProcessFlow
        fields = ["id", "name", "is_default", "stages"]

    @extend_schema_field(StageSerializer(many=True))
    def get_stages(self, flow) -> list:
        ordered = sorted(flow.stages.all(), key=lambda stage: (stage.order, stage.pk))
        return StageSerializer(ordered, many=True).data


def choice_lists() -> dict:
    def values(choices) -> list[dict]:
        return [{"value": value, "label": str(label)} for value, label in choices]

    return {
        "lead_source": values(Lead._meta.get_field("lead_source").choices),
        "rating": values(Lead._meta.get_field("rating").choices),
        "industry": values(Lead._meta.get_field("industry").choices),
        "lead_status_reason": values(Lead.StatusReason.choices),
        "disqualify_reason": values((r.value, r.label) for r in Lead.DISQUALIFY_REASONS),
        "opportunity_status_reason": values(Opportunity.StatusReason.choices),
        "purchase_timeframe": values(Lead._meta.get_field("purchase_timeframe").choices),
        "purchase_process": values(Lead._meta.get_field("purchase_process").choices),
    }
