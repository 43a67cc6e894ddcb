from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.text import Truncator

from . import services
from .models import ImportJob

NOT_IMPORTED = ""
HEADER_LABEL_CHARS = 40


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Comma, semicolon or tab separated; UTF-8 or Windows/Latin-1 text.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("upload", "Upload"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = services.max_bytes()
        # Checked before reading it: Django has it on disk already, not in memory.
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; the limit is "
                f"{limit / 1_048_576:.0f} MB. Split it into smaller files."
            )
        return upload


class MappingForm(forms.Form):
    """For each lead field, the column it comes from; and what to do with duplicates."""

    default_topic = forms.CharField(
        label="Topic for rows without one",
        max_length=200,
        required=False,
        help_text="Used when no column is the topic, or a row's topic is empty.",
    )
    duplicates = forms.ChoiceField(
        label="Leads that already exist (same email or phone as a lead or contact)",
        choices=[("skip", "Skip them"), ("import", "Import them anyway")],
        initial="skip",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, job: ImportJob, fields: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        self.lead_fields = fields
        # Every lead field lists every column: short labels keep the page small
        # (at most IMPORT_MAX_COLUMNS columns reach this form).
        columns = [(NOT_IMPORTED, "— not imported —")] + [
            (str(i), Truncator(header).chars(HEADER_LABEL_CHARS) or f"Column {i + 1}")
            for i, header in enumerate(job.headers)
        ]
        mapped = {}
        for name in fields:
            self.fields[name] = forms.ChoiceField(
                label=services.field_label(name),
                choices=columns,
                required=False,
                initial=str(job.mapping[name]) if name in job.mapping else NOT_IMPORTED,
            )
            mapped[name] = self.fields.pop(name)
        # The column choices first, then the options.
        self.fields = {**mapped, **self.fields}
        self.helper = FormHelper()
        self.helper.add_input(Submit("start", "Import"))

    def clean(self):
        cleaned = super().clean()
        mapping = self.mapping()
        used = list(mapping.values())
        if len(used) != len(set(used)):
            raise forms.ValidationError("Each column can fill only one field.")
        missing = services.missing_required(mapping, cleaned.get("default_topic") or "")
        if missing:
            raise forms.ValidationError(
                f"These required columns are missing: {'; '.join(missing)}. "
                "Choose the column for each."
            )
        return cleaned

    def mapping(self) -> dict[str, int]:
        data = getattr(self, "cleaned_data", {})
        return {name: int(data[name]) for name in self.lead_fields if data.get(name)}
