"""The API's shapes of a lead and of the lifecycle actions' answers. Only
shapes: every write goes through leads.services, which checks the rules."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account, Contact
from accounts.services import ACCOUNT_EDITABLE_FIELDS, CONTACT_EDITABLE_FIELDS
from activities.models import REGARDING_FIELDS, Activity, Connection, Note
from activities.services import COMMON_FIELDS, TYPE_FIELDS
from crm.models import Currency, ProcessFlow, ProcessStage
from leads.models import Lead
from leads.services import EDITABLE_FIELDS
from opportunities.models import Opportunity
from opportunities.services import EDITABLE_FIELDS as OPPORTUNITY_FIELDS

MAX_ID = 2**63 - 1  # a database's largest key: anything above is no record


def record_id(**kwargs) -> serializers.IntegerField:
    """A record's id given by the client (no lookup here)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class RejectsUnknownFields:
    """A body naming a field the operation does not have is refused (400, the
    field named in `errors`), not quietly half-read: a typo such as
    `create_acount` must not qualify a lead with the defaults. A read-only field
    sent back (a record's `id` or `state`, as read) is known, and ignored."""

    IGNORED = frozenset({"csrfmiddlewaretoken"})  # a browser session's form post

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields) - self.IGNORED)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This operation has no such field."] for name in unknown}
                )
        return super().to_internal_value(data)


class Serializer(RejectsUnknownFields, serializers.Serializer):
    pass


class ModelSerializer(RejectsUnknownFields, serializers.ModelSerializer):
    pass


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


class LeadSerializer(ModelSerializer):
    currency = CurrencyField(required=False, allow_null=True)
    score = serializers.IntegerField(
        source="score_or_none",
        read_only=True,
        allow_null=True,
        help_text="Chance of qualifying, 0-100, from the published scoring model; null "
        "until scored. Why: GET …/leads/{id}/score.",
    )
    score_grade = serializers.CharField(read_only=True, help_text="A to D; empty until scored.")
    score_trend = serializers.ChoiceField(
        choices=Lead.ScoreTrend.choices, read_only=True, allow_blank=True
    )

    class Meta:
        model = Lead
        fields = [*READ_ONLY, "score", "score_grade", "score_trend", *sorted(EDITABLE_FIELDS)]
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


class QualifySerializer(Serializer):
    """QualifyLead's parameters (Dynamics 365): which records to create, the
    opportunity's currency, records to link instead, and whether to go ahead
    despite possible duplicates."""

    create_account = serializers.BooleanField(required=False, allow_null=True, default=None)
    create_contact = serializers.BooleanField(required=False, allow_null=True, default=None)
    create_opportunity = serializers.BooleanField(required=False, allow_null=True, default=None)
    currency = CurrencyField(required=False, allow_null=True)
    existing_account = record_id(required=False, allow_null=True)
    existing_contact = record_id(required=False, allow_null=True)
    ignore_duplicates = serializers.BooleanField(required=False, default=False)


DISQUALIFY_CHOICES = [(r.value, r.label) for r in Lead.DISQUALIFY_REASONS]


class DisqualifySerializer(Serializer):
    status_reason = serializers.ChoiceField(choices=DISQUALIFY_CHOICES)


BULK_MAX = 1000


def lead_ids(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=record_id(),
        min_length=1,
        max_length=BULK_MAX,
        help_text=f"Lead ids, at most {BULK_MAX}.",
        **kwargs,
    )


class LeadChoiceSerializer(Serializer):
    """How one lead's possible duplicates are settled in a bulk qualify."""

    lead = record_id()
    existing_account = record_id(required=False, allow_null=True)
    existing_contact = record_id(required=False, allow_null=True)
    ignore_duplicates = serializers.BooleanField(required=False)


class BulkQualifySerializer(QualifySerializer):
    leads = lead_ids()
    choices = LeadChoiceSerializer(many=True, required=False)

    def get_fields(self):
        fields = super().get_fields()
        del fields["existing_account"], fields["existing_contact"]  # one lead's: see choices
        return fields

    def validate(self, attrs):
        strays = sorted({c["lead"] for c in attrs.get("choices", [])} - set(attrs["leads"]))
        if strays:
            listed = ", ".join(map(str, strays))
            raise serializers.ValidationError(
                {"choices": [f"These leads are not among the leads to qualify: {listed}."]}
            )
        return super().validate(attrs)


class BulkDisqualifySerializer(DisqualifySerializer):
    leads = lead_ids()


class OutcomeProblemSerializer(Serializer):
    """Why one lead was not changed: a problem's `code` and `detail` (and, for
    duplicates, the matching `accounts` and `contacts`)."""

    code = serializers.CharField()
    detail = serializers.CharField()


class OutcomeSerializer(Serializer):
    lead = serializers.IntegerField()
    ok = serializers.BooleanField()
    account = serializers.IntegerField(allow_null=True, required=False)
    contact = serializers.IntegerField(allow_null=True, required=False)
    opportunity = serializers.IntegerField(allow_null=True, required=False)
    problem = OutcomeProblemSerializer(allow_null=True)


class BulkOutcomeSerializer(Serializer):
    outcomes = OutcomeSerializer(many=True)
    done = serializers.IntegerField(help_text="How many leads were changed.")


class QualifyAnswerSerializer(Serializer):
    """The qualified lead and the records it is linked to, created or existing."""

    lead = LeadSerializer()
    account = serializers.IntegerField(allow_null=True)
    contact = serializers.IntegerField(allow_null=True)
    opportunity = serializers.IntegerField(allow_null=True)
    created_account = serializers.BooleanField()
    created_contact = serializers.BooleanField()


class LeadPageSerializer(Serializer):
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


class OpportunitySerializer(ModelSerializer):
    currency = CurrencyField(required=False)

    class Meta:
        model = Opportunity
        fields = [*OPPORTUNITY_READ_ONLY, *sorted(OPPORTUNITY_FIELDS)]
        read_only_fields = OPPORTUNITY_READ_ONLY
        extra_kwargs = {"owner": {"required": False}}


class OpportunityPageSerializer(Serializer):
    results = OpportunitySerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="The next page's URL, if any.")


class CloseSerializer(Serializer):
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


class CurrencySerializer(ModelSerializer):
    class Meta:
        model = Currency
        fields = ["id", "code", "name", "symbol", "exchange_rate", "is_active"]


class UserSerializer(Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class StageSerializer(ModelSerializer):
    class Meta:
        model = ProcessStage
        fields = ["id", "name", "entity", "order"]


class ProcessFlowSerializer(ModelSerializer):
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


# --- Accounts and contacts ---------------------------------------------------------------------

STAMPS = ("id", "created_at", "modified_at")


class AccountSerializer(ModelSerializer):
    class Meta:
        model = Account
        fields = [*STAMPS, *sorted(ACCOUNT_EDITABLE_FIELDS)]
        read_only_fields = STAMPS
        extra_kwargs = {"owner": {"required": False}}


class ContactSerializer(ModelSerializer):
    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Contact
        fields = [*STAMPS, "full_name", *sorted(CONTACT_EDITABLE_FIELDS)]
        read_only_fields = STAMPS
        extra_kwargs = {"owner": {"required": False}}


# --- The timeline: notes, activities, stakeholders -----------------------------------------------


class RegardingSerializer(ModelSerializer):
    """A record on a timeline regards exactly one lead, account, contact or
    opportunity, given by its id when it is created and fixed after."""

    regarding_fields: tuple[str, ...] = REGARDING_FIELDS

    def get_fields(self):
        fields = super().get_fields()
        for name in self.regarding_fields:
            fields[name].required = False
            fields[name].allow_null = True
            fields[name].read_only = self.instance is not None
        return fields

    def validate(self, data):
        if self.instance is None:
            given = [name for name in self.regarding_fields if data.get(name) is not None]
            if len(given) != 1:
                raise serializers.ValidationError(
                    {"regarding": [f"Give exactly one of {', '.join(self.regarding_fields)}."]}
                )
            data["regarding"] = data.pop(given[0])
            for name in self.regarding_fields:
                data.pop(name, None)
        return data


class NoteSerializer(RegardingSerializer):
    attachment = serializers.FileField(
        write_only=True, required=False, help_text="A file (multipart/form-data)."
    )
    remove_attachment = serializers.BooleanField(write_only=True, required=False)
    attachment_url = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = [
            *STAMPS,
            *REGARDING_FIELDS,
            "title",
            "text",
            "author",
            "attachment",
            "remove_attachment",
            "attachment_name",
            "attachment_size",
            "attachment_url",
        ]
        read_only_fields = (*STAMPS, "author", "attachment_name", "attachment_size")

    def get_attachment_url(self, note) -> str | None:
        if not note.attachment_name:
            return None
        request = self.context.get("request")
        path = f"/api/v1/notes/{note.pk}/attachment"
        return request.build_absolute_uri(path) if request else path


ACTIVITY_TYPE_FIELDS = sorted(set().union(*TYPE_FIELDS.values()))


class ActivitySerializer(RegardingSerializer):
    class Meta:
        model = Activity
        fields = [
            *STAMPS,
            *REGARDING_FIELDS,
            "type",
            "status",
            "owner",
            *sorted(COMMON_FIELDS),
            *ACTIVITY_TYPE_FIELDS,
            "completed_at",
        ]
        read_only_fields = (*STAMPS, "status", "completed_at")
        extra_kwargs = {"owner": {"required": False}}

    def get_fields(self):
        fields = super().get_fields()
        fields["type"].read_only = self.instance is not None  # an activity keeps its type
        return fields

    def validate(self, data):
        data = super().validate(data)
        kind = self.instance.type if self.instance is not None else data.get("type")
        if kind in TYPE_FIELDS:
            foreign = sorted(
                name
                for name in ACTIVITY_TYPE_FIELDS
                if name in data and name not in TYPE_FIELDS[kind] and data[name] not in ("", None)
            )
            if foreign:
                label = Activity.Type(kind).label.lower()
                raise serializers.ValidationError(
                    {name: [f"A {label} has no {name.replace('_', ' ')}."] for name in foreign}
                )
            for name in ACTIVITY_TYPE_FIELDS:
                if name not in TYPE_FIELDS[kind]:
                    data.pop(name, None)
        return data


class StakeholderSerializer(RegardingSerializer):
    """A contact connected to a lead or an opportunity with a role."""

    regarding_fields = ("lead", "opportunity")

    class Meta:
        model = Connection
        fields = ["id", "lead", "opportunity", "contact", "role", "created_by", "created_at"]
        read_only_fields = ("id", "created_by", "created_at")

    def get_fields(self):
        fields = super().get_fields()
        fields["contact"].read_only = self.instance is not None  # change the role, not who
        return fields


class ReasonSerializer(Serializer):
    feature = serializers.CharField()
    label = serializers.CharField()
    value = serializers.CharField()
    sentence = serializers.CharField()
    points = serializers.IntegerField(help_text="This field's share of the score, in points.")


class ScorePointSerializer(Serializer):
    score = serializers.IntegerField()
    scored_at = serializers.DateTimeField()


class LeadScoreSerializer(Serializer):
    """Why the lead scores what it does: the base score and each field's points
    add up to the score (the model's own terms)."""

    score = serializers.IntegerField(allow_null=True)
    grade = serializers.CharField(allow_blank=True)
    trend = serializers.CharField(allow_blank=True)
    base = serializers.IntegerField(allow_null=True)
    reasons = ReasonSerializer(many=True)
    history = ScorePointSerializer(many=True)
