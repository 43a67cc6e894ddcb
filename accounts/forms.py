"""Create and edit forms for accounts and contacts."""

from __future__ import annotations

from crispy_forms.layout import Layout
from django import forms

from crm.forms import OwnedRecordForm, section, two_columns

from .models import Account, Contact


class AccountForm(OwnedRecordForm):
    class Meta:
        model = Account
        fields = [
            "name",
            "owner",
            "email",
            "phone",
            "website",
            "industry",
            "city",
            "country",
            "description",
        ]
        labels = {"name": "Account name", "website": "Website", "phone": "Main phone"}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def get_layout(self) -> Layout:
        return Layout(
            section(
                "Account information",
                two_columns("name", "owner"),
                two_columns("email", "phone"),
                two_columns("website", "industry"),
                two_columns("city", "country"),
                "description",
            )
        )


class ContactForm(OwnedRecordForm):
    class Meta:
        model = Contact
        fields = [
            "first_name",
            "last_name",
            "job_title",
            "account",
            "email",
            "business_phone",
            "mobile_phone",
            "owner",
            "description",
        ]
        labels = {"account": "Account name"}
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.order_by("name", "pk")
        self.fields["account"].empty_label = "No account (standalone contact)"

    def get_layout(self) -> Layout:
        return Layout(
            section(
                "Contact information",
                two_columns("first_name", "last_name"),
                two_columns("job_title", "account"),
                two_columns("email", "owner"),
                two_columns("business_phone", "mobile_phone"),
                "description",
            )
        )
