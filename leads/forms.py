import json
from datetime import datetime
from typing import Any

from crispy_forms.bootstrap import Tab, TabHolder
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row
from django import forms
from django.urls import reverse

from accounts.models import Account, Contact
from accounts.selectors import duplicate_accounts, duplicate_contacts
from crm.forms import StepsForm
from crm.models import Currency

from . import services
from .models import Lead

SUMMARY_FIELDS = [
    "topic",
    "first_name",
    "last_name",
    "company_name",
    "job_title",
    "business_phone",
    "mobile_phone",
    "email",
    "existing_account",
    "existing_contact",
]
DETAIL_FIELDS = [
    "industry",
    "preferred_contact_method",
    "do_not_email",
    "do_not_call",
    "lead_source",
    "rating",
    "budget_amount",
    "currency",
    "purchase_timeframe",
    "purchase_process",
    "decision_maker_identified",
    "description",
    "website",
    "status_reason",
]


class LeadForm(forms.ModelForm):
    """The lead form: a Summary tab and a Details tab. Saving goes through the services."""

    # When the editor loaded the lead (its modified_at, to the microsecond):
    # update_lead refuses the save if someone else saved the lead since.
    loaded_modified_at = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Lead
        fields = [*SUMMARY_FIELDS, *DETAIL_FIELDS, "owner"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, user, can_assign: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status_reason"].choices = [
            (v, label)
            for v, label in Lead.StatusReason.choices
            if v in Lead.STATUS_REASONS_BY_STATE[Lead.State.OPEN]
        ]
        self.fields["status_reason"].initial = Lead.StatusReason.NEW
        self.fields["currency"].queryset = Currency.objects.filter(is_active=True)
        self.fields["lead_source"].required = False
        if can_assign:
            self.fields["owner"].queryset = self.fields["owner"].queryset.filter(is_active=True)
            self.fields["owner"].initial = user.pk
            self.fields["owner"].required = False
        else:
            del self.fields["owner"]
        if self.instance.pk is not None:
            self.fields["loaded_modified_at"].initial = self.instance.modified_at.isoformat()
        else:
            del self.fields["loaded_modified_at"]
        limit_pickers(self.fields, self.instance)
        if self.instance.pk is None:
            self._fill_on_pick()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            TabHolder(
                Tab(
                    "Summary",
                    "topic",
                    Row(
                        Column("first_name", css_class="col-md-6"),
                        Column("last_name", css_class="col-md-6"),
                    ),
                    Row(
                        Column("company_name", css_class="col-md-6"),
                        Column("job_title", css_class="col-md-6"),
                    ),
                    Row(
                        Column("business_phone", css_class="col-md-6"),
                        Column("mobile_phone", css_class="col-md-6"),
                    ),
                    "email",
                    Row(
                        Column("existing_account", css_class="col-md-6"),
                        Column("existing_contact", css_class="col-md-6"),
                    ),
                    *(["owner"] if can_assign else []),
                    *(["loaded_modified_at"] if self.instance.pk is not None else []),
                ),
                Tab(
                    "Details",
                    Row(
                        Column("industry", css_class="col-md-6"),
                        Column("preferred_contact_method", css_class="col-md-6"),
                    ),
                    Row(
                        Column(Field("do_not_email"), css_class="col-md-6"),
                        Column(Field("do_not_call"), css_class="col-md-6"),
                    ),
                    Row(
                        Column("lead_source", css_class="col-md-4"),
                        Column("rating", css_class="col-md-4"),
                        Column("status_reason", css_class="col-md-4"),
                    ),
                    Row(
                        Column("budget_amount", css_class="col-md-6"),
                        Column("currency", css_class="col-md-6"),
                    ),
                    Row(
                        Column("purchase_timeframe", css_class="col-md-6"),
                        Column("purchase_process", css_class="col-md-6"),
                    ),
                    "decision_maker_identified",
                    "website",
                    "description",
                ),
            )
        )

    def _fill_on_pick(self) -> None:
        """Picking an existing account or contact fills a new lead's empty fields
        in the browser (reference 004: only when creating a lead)."""
        self.fields["existing_account"].widget.attrs.update(
            {
                "data-fill-url": reverse("accounts:lookup") + "?id=",
                "data-fill-map": json.dumps(services.FILL_FROM_ACCOUNT),
            }
        )
        self.fields["existing_contact"].widget.attrs.update(
            {
                "data-fill-url": reverse("accounts:contact_lookup") + "?id=",
                "data-fill-map": json.dumps(services.FILL_FROM_CONTACT),
            }
        )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None:
            cleaned = services.filled_from_existing(cleaned)
        return cleaned

    def clean_loaded_modified_at(self) -> datetime | None:
        return loaded_time(self.cleaned_data.get("loaded_modified_at"))

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("loaded_modified_at", None)
        if "owner" in data and data["owner"] is None:
            data.pop("owner")
        return data


def _contact_label(contact: Contact) -> str:
    extra = contact.email or (contact.account.name if contact.account_id else "")
    return f"{contact.full_name} ({extra})" if extra else contact.full_name


def loaded_time(value: str | None) -> datetime | None:
    """When the editor loaded the lead, from the form's hidden field."""
    if not value:
        return None
    try:
        loaded = datetime.fromisoformat(value)
    except ValueError:
        raise forms.ValidationError("This form is out of date; reload the lead.") from None
    return loaded if loaded.tzinfo else None


def limit_pickers(fields: dict, lead: Lead) -> None:
    """The existing account and contact pickers of a lead form (either may be
    absent): on a new lead, every active record; on a saved lead, only the
    records matching the duplicate rules (and the one already chosen)."""
    account_field = fields.get("existing_account")
    contact_field = fields.get("existing_contact")
    if account_field is not None:
        account_field.label = "Existing account"
    if contact_field is not None:
        contact_field.label = "Existing contact"
        contact_field.label_from_instance = _contact_label
    if lead.pk is None:
        if account_field is not None:
            account_field.queryset = Account.objects.filter(is_active=True).order_by("name")
        if contact_field is not None:
            contact_field.queryset = (
                Contact.objects.filter(is_active=True)
                .select_related("account")
                .order_by("last_name", "first_name")
            )
        return
    if account_field is not None:
        account_ids = set(
            duplicate_accounts(company_name=lead.company_name).values_list("pk", flat=True)
        )
        if lead.existing_account_id:
            account_ids.add(lead.existing_account_id)
        account_field.queryset = Account.objects.filter(pk__in=account_ids).order_by("name")
        account_field.help_text = "Accounts matching this lead's company name."
    if contact_field is not None:
        contact_ids = set(
            duplicate_contacts(
                email=lead.email, first_name=lead.first_name, last_name=lead.last_name
            ).values_list("pk", flat=True)
        )
        if lead.existing_contact_id:
            contact_ids.add(lead.existing_contact_id)
        contact_field.queryset = Contact.objects.filter(pk__in=contact_ids).select_related(
            "account"
        )
        contact_field.help_text = "Contacts matching this lead's email or name."


class LeadStepsForm(StepsForm):
    """The lead's Qualify steps on the stage bar, with the existing account and
    contact pickers of the edit form; a save made after someone else's is
    refused (update_lead's check) rather than overwriting it."""

    loaded_modified_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit_pickers(self.fields, self.instance)
        self.fields["loaded_modified_at"].initial = self.instance.modified_at.isoformat()

    def clean_loaded_modified_at(self) -> datetime | None:
        return loaded_time(self.cleaned_data.get("loaded_modified_at"))

    def changes(self) -> dict:
        changed = super().changes()
        changed.pop("loaded_modified_at", None)
        return changed


class OptionalSelect(forms.Select):
    """A select for an optional field: Django's Select reads its first choice to
    decide on the `required` attribute, one more query for a model choice."""

    def use_required_attribute(self, initial: Any) -> bool:
        return False


class QualifyForm(forms.Form):
    """The qualify dialog: the currency of the opportunity, always (reference 004:
    "You must also select the currency in which to calculate the opportunity"),
    and Yes/No per record type when the organisation does not create them all
    without asking (`ask_records`). The currency is preset to `lead`'s, else the
    organisation default; with no lead (a bulk qualify) it may be left to each
    lead's own."""

    YES_NO = [("yes", "Yes"), ("no", "No")]
    RECORDS = ("create_account", "create_contact", "create_opportunity")

    create_account = forms.TypedChoiceField(
        choices=YES_NO, coerce=lambda v: v == "yes", widget=forms.RadioSelect, label="Account"
    )
    create_contact = forms.TypedChoiceField(
        choices=YES_NO, coerce=lambda v: v == "yes", widget=forms.RadioSelect, label="Contact"
    )
    create_opportunity = forms.TypedChoiceField(
        choices=YES_NO, coerce=lambda v: v == "yes", widget=forms.RadioSelect, label="Opportunity"
    )
    currency = forms.ModelChoiceField(
        queryset=Currency.objects.filter(is_active=True),
        required=False,
        empty_label="Each lead's currency, else the default",
        widget=OptionalSelect(attrs={"class": "form-select"}),
        help_text="The opportunity's currency; a budget in another currency is converted.",
    )

    def __init__(
        self,
        *args: Any,
        ask_records: bool,
        lead: Lead | None = None,
        default_currency: Currency | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.ask_records = ask_records
        if not ask_records:
            for name in self.RECORDS:
                del self.fields[name]
        currency = self.fields["currency"]
        if lead is not None:
            currency.initial = lead.currency_id or getattr(default_currency, "pk", None)
            currency.empty_label = None if currency.initial else "The default currency"

    def asked(self, data: Any) -> bool:
        """Whether `data` answers the dialog (a bare Qualify button posts nothing)."""
        return not self.ask_records or "create_account" in data

    def options(self) -> dict[str, Any]:
        """The answers as qualify_lead's keyword arguments (unanswered ones left out)."""
        return {k: v for k, v in self.cleaned_data.items() if v is not None}


class DisqualifyForm(forms.Form):
    reason = forms.ChoiceField(
        choices=[(r.value, r.label) for r in Lead.DISQUALIFY_REASONS],
        error_messages={"required": "Choose a reason to disqualify the lead."},
    )
