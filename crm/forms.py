"""Form helpers every app shares, and the sign-in form."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Layout, Row
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.html import format_html

from .filters import owner_choices, user_label
from .permissions import is_manager


class LoginForm(AuthenticationForm):
    """Django's login form, with the username's length checked.

    AuthenticationForm sets the field's max_length after the field is built, so
    no validator enforces it; an over-long name would reach authentication and
    the login-throttling log (a 255-character column) and fail there.
    """

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


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


class StepsForm(forms.ModelForm):
    """The active stage's steps of a record, filled in on the stage bar: a model
    form over the steps' fields (`fields`, built per stage with steps_form()),
    styled for the bar, labelled with the steps' names (`labels`); `required`
    names the steps that gate Next stage (marked, not enforced here: saving some
    steps and leaving others for later is fine)."""

    def __init__(
        self,
        *args,
        required: frozenset[str] = frozenset(),
        labels: dict[str, str] | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.label = (labels or {}).get(name, field.label)
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")
            if isinstance(widget, forms.Textarea):
                widget.attrs["rows"] = 2
            if isinstance(field, forms.DateField):
                widget.input_type = "date"
            field.required_step = name in required

    def changes(self) -> dict:
        """The fields the user changed, as service keyword arguments."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in self.fields}


def steps_form(model, base: type[StepsForm], fields: list[str]) -> type[StepsForm]:
    """A StepsForm class (`base`, an app's, with its own pickers) over `fields` of `model`."""
    return forms.modelform_factory(model, form=base, fields=fields)
