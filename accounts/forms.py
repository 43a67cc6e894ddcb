"""Create and edit forms for accounts and contacts."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Layout, Row
from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from crm.permissions import is_manager

from .filters import owner_choices, user_label
from .models import Account, Contact


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field when the form
    has one, else at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def two_columns(*names: str) -> Row:
    return Row(*(Column(name, css_class="col-md-6") for name in names))


def section(title: str, *fields) -> Div:
    """A titled group of fields in a form."""
    heading = HTML(
        format_html(
            '<h2 class="h6 text-uppercase text-body-secondary border-bottom pb-1 mb-3">{}</h2>',
            title,
        )
    )
    return Div(heading, *fields, css_class="mb-3")


class OwnedRecordForm(forms.ModelForm):
    """A form for a record with an owner: the owner defaults to the acting user,
    and only a manager may pick another (for a rep the field is disabled, so
    the server ignores whatever is posted)."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        owner.queryset = owner_choices()
        owner.label_from_instance = user_label
        if self.instance.pk is None:
            self.initial["owner"] = user.pk
        if not is_manager(user):
            owner.disabled = True
            owner.help_text = "Only a sales manager can assign another owner."
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = self.get_layout()

    def get_layout(self) -> Layout:
        raise NotImplementedError


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
