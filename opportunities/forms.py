"""Opportunity create/edit form and the close dialog's form."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils import timezone

from accounts.models import Account, Contact
from crm.forms import OwnedRecordForm, StepsForm, section, two_columns
from crm.models import Currency, OrganizationSettings

from .models import Opportunity
from .services import STEP_FIELDS

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ContactChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Contact) -> str:
        return f"{obj.full_name} ({obj.account.name})" if obj.account_id else obj.full_name


class OpportunityForm(OwnedRecordForm):
    contact = ContactChoiceField(
        label="Customer: contact", queryset=Contact.objects.none(), required=False
    )

    class Meta:
        model = Opportunity
        fields = [
            "name",
            "account",
            "contact",
            "currency",
            "budget_amount",
            "estimated_revenue",
            "estimated_close_date",
            "purchase_timeframe",
            "purchase_process",
            "owner",
            "description",
            *STEP_FIELDS,
        ]
        labels = {
            "name": "Topic",
            "account": "Customer: account",
            "budget_amount": "Budget amount",
            "estimated_revenue": "Est. revenue",
            "estimated_close_date": "Est. close date",
            "complete_final_proposal": "Complete final proposal",
            "final_decision_date": "Confirm decision date",
        }
        help_texts = {
            "account": "The customer: the account when there is one, else the contact.",
            "contact": "The contact at the customer (or the customer, without an account).",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "customer_need": forms.Textarea(attrs={"rows": 2}),
            "proposed_solution": forms.Textarea(attrs={"rows": 2}),
            "estimated_close_date": DATE_INPUT,
            "final_decision_date": DATE_INPUT,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.order_by("name", "pk")
        self.fields["account"].empty_label = "—"
        self.fields["contact"].queryset = Contact.objects.select_related("account")
        self.fields["contact"].empty_label = "—"
        self.fields["currency"].queryset = Currency.objects.filter(is_active=True)
        if self.instance.pk is None and not self.initial.get("currency"):
            default = OrganizationSettings.load().default_currency
            self.initial["currency"] = default.pk if default else None

    def get_layout(self) -> Layout:
        return Layout(
            section(
                "Opportunity",
                two_columns("name", "owner"),
                two_columns("account", "contact"),
                Row(
                    Column("currency", css_class="col-md-2"),
                    Column("budget_amount", css_class="col-md-5"),
                    Column("estimated_revenue", css_class="col-md-5"),
                ),
                two_columns("estimated_close_date", "purchase_timeframe"),
                two_columns("purchase_process"),
                "description",
            ),
            section(
                "Develop",
                two_columns("customer_need", "proposed_solution"),
                two_columns("identify_stakeholders", "identify_competitors"),
            ),
            section(
                "Propose",
                two_columns("identify_sales_team", "develop_proposal"),
                two_columns("complete_internal_review", "present_proposal"),
            ),
            section(
                "Close",
                two_columns("complete_final_proposal", "present_final_proposal"),
                two_columns("final_decision_date", "send_thank_you"),
                two_columns("file_debrief"),
            ),
        )

    def clean(self):
        cleaned = super().clean()
        account, contact = cleaned.get("account"), cleaned.get("contact")
        if "account" in self.errors or "contact" in self.errors:
            return cleaned
        if not account and not contact:
            self.add_error("account", "Choose the customer: an account, a contact or both.")
        return cleaned


class CloseOpportunityForm(forms.Form):
    """What the Close as Won / Close as Lost dialogs post."""

    OUTCOMES = {
        "won": Opportunity.State.WON,
        "lost": Opportunity.State.LOST,
    }

    outcome = forms.ChoiceField(
        choices=[("won", "Won"), ("lost", "Lost")], widget=forms.HiddenInput
    )
    status_reason = forms.ChoiceField(label="Status reason", choices=())
    actual_revenue = forms.DecimalField(
        label="Actual revenue", required=False, min_value=0, max_digits=14, decimal_places=2
    )
    close_date = forms.DateField(label="Close date", required=False, widget=DATE_INPUT)

    def __init__(self, *args, outcome: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        outcome = outcome or self.data.get("outcome")
        states = [self.OUTCOMES[outcome]] if outcome in self.OUTCOMES else self.OUTCOMES.values()
        self.fields["status_reason"].choices = [
            (reason.value, reason.label)
            for state in states
            for reason in Opportunity.STATUS_REASONS_BY_STATE[state]
        ]
        if outcome:
            self.initial.setdefault("outcome", outcome)
        self.initial.setdefault("close_date", timezone.localdate())
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout("outcome", "status_reason", "actual_revenue", "close_date")

    @property
    def won(self) -> bool:
        return self.cleaned_data["outcome"] == "won"


class OpportunityStepsForm(StepsForm):
    """The opportunity's active stage's steps on the stage bar."""
