"""Forms for notes, activities and stakeholders. They only parse input; the
rules (who, when, which fields per type) are in activities.services."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms

from accounts.models import Contact
from crm.filters import owner_choices, user_label
from crm.forms import two_columns
from crm.permissions import is_manager

from .models import Activity, Connection
from .services import activity_fields

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _helper(*layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.layout = Layout(*layout)
    return helper


class NoteForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Note", max_length=20000
    )
    attachment = forms.FileField(required=False, max_length=500)
    remove_attachment = forms.BooleanField(required=False, label="Remove the attachment")

    def __init__(self, *args, note=None, **kwargs):
        if note is not None:
            kwargs.setdefault("initial", {"title": note.title, "text": note.text})
        super().__init__(*args, **kwargs)
        if note is None or not note.attachment:
            del self.fields["remove_attachment"]
        else:
            self.fields["attachment"].label = "Replace the attachment"
            self.fields["attachment"].help_text = f"Attached now: {note.attachment_name}"
        self.fields["text"].widget.attrs["placeholder"] = "What did you learn?"
        self.helper = _helper(*self.fields)

    def clean(self):
        data = super().clean()
        keeps_file = "remove_attachment" in self.fields and not data.get("remove_attachment")
        empty = not data.get("text", "").strip() and not data.get("attachment") and not keeps_file
        if empty and not self.errors:
            raise forms.ValidationError("Write a note or attach a file.")
        return data

    def service_fields(self) -> dict:
        data = self.cleaned_data
        fields = {"title": data["title"], "text": data["text"]}
        if data.get("attachment"):
            fields["attachment"] = data["attachment"]
        return fields


class ActivityForm(forms.ModelForm):
    """The fields of one activity type (a phone call has a direction and a
    phone number, an appointment a start, end and location, and so on)."""

    class Meta:
        model = Activity
        fields = [
            "subject",
            "owner",
            "due_at",
            "direction",
            "phone_number",
            "email_from",
            "email_to",
            "priority",
            "starts_at",
            "ends_at",
            "location",
            "description",
        ]
        field_classes = {
            "due_at": forms.DateTimeField,
            "starts_at": forms.DateTimeField,
            "ends_at": forms.DateTimeField,
        }
        widgets = {
            "due_at": DateTimeInput(),
            "starts_at": DateTimeInput(),
            "ends_at": DateTimeInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "due_at": "Due",
            "starts_at": "Start",
            "ends_at": "End",
            "email_from": "From",
            "email_to": "To",
        }

    def __init__(self, *args, type: str, user, quick: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = Activity.Type(type)
        # The inline (quick) form on a timeline logs the activity as the user's own;
        # a manager assigns it to someone else on the full form.
        wanted = activity_fields(self.type) | (set() if quick else {"owner"})
        if self.type == Activity.Type.APPOINTMENT:
            wanted -= {"due_at"}  # an appointment is due when it starts
        for name in list(self.fields):
            if name not in wanted:
                del self.fields[name]
        for name in ("due_at", "starts_at", "ends_at"):
            if name in self.fields:
                self.fields[name].input_formats = DATETIME_FORMATS
        if self.type == Activity.Type.APPOINTMENT:
            self.fields["starts_at"].required = True
            self.fields["ends_at"].required = True
        if "direction" in self.fields:
            self.fields["direction"].choices = Activity.Direction.choices
            self.fields["direction"].required = True
            self.initial.setdefault("direction", Activity.Direction.OUTGOING)
        if "priority" in self.fields:
            self.fields["priority"].choices = Activity.Priority.choices
            self.fields["priority"].required = True
        if "email_to" in self.fields:
            self.fields["email_to"].help_text = "Separate several addresses with commas."
        if "owner" in self.fields:
            owner = self.fields["owner"]
            owner.queryset = owner_choices()
            owner.label_from_instance = user_label
            owner.required = False
            if self.instance.pk is None:
                self.initial["owner"] = user.pk
            if not is_manager(user):
                owner.disabled = True
                owner.help_text = "Only a sales manager can assign someone else."
        order = [
            "subject",
            "direction",
            "phone_number",
            "email_from",
            "email_to",
            "starts_at",
            "ends_at",
            "location",
            "priority",
            "due_at",
            "owner",
            "description",
        ]
        pairs = [n for n in order if n in self.fields and n not in ("subject", "description")]
        rows = [
            two_columns(*pairs[i : i + 2])
            if i + 1 < len(pairs)
            else Row(Column(pairs[i], css_class="col-md-6"))
            for i in range(0, len(pairs), 2)
        ]
        self.helper = _helper("subject", *rows, "description")

    def _post_clean(self):
        # The service validates and saves; skip the ModelForm's instance validation
        # (it would check the regarding constraint before the service sets it).
        pass

    def service_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in self.fields if name != "owner"}
        owner = self.cleaned_data.get("owner")
        if owner is not None and not self.fields["owner"].disabled:
            fields["owner"] = owner
        return fields


class StakeholderForm(forms.Form):
    contact = forms.ModelChoiceField(
        queryset=None, widget=forms.HiddenInput, error_messages={"required": "Choose a contact."}
    )
    role = forms.ChoiceField(choices=Connection.Role.choices, initial=Connection.Role.STAKEHOLDER)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(is_active=True)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Connection.Role.choices)


class NewStakeholderForm(forms.ModelForm):
    """A new contact, created inline and added as a stakeholder."""

    role = forms.ChoiceField(choices=Connection.Role.choices, initial=Connection.Role.STAKEHOLDER)
    ignore_duplicates = forms.BooleanField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "job_title", "business_phone"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            two_columns("first_name", "last_name"),
            two_columns("email", "job_title"),
            two_columns("business_phone", "role"),
        )

    def contact_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
