"""Report pages: the pipeline overview and the lead-source report (managers)."""

import csv
from datetime import date, timedelta

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from crm.models import OrganizationSettings
from crm.money import in_base
from crm.permissions import is_manager
from leads.models import Lead
from opportunities.models import Opportunity

from .selectors import LeadSourceReport, lead_source_report

# The default report period: the last 90 days, today included.
DEFAULT_REPORT_DAYS = 90
# Far enough for any real lead; keeps the day arithmetic away from date.min/max.
REPORT_DATE_VALIDATORS = [
    MinValueValidator(date(1900, 1, 1)),
    MaxValueValidator(date(2999, 12, 31)),
]


def reports_index(request):
    """A pipeline overview: leads by status reason and opportunities by stage and state."""
    leads = (
        Lead.objects.values("state", "status_reason").annotate(count=Count("id")).order_by("state")
    )
    status_labels = dict(Lead.StatusReason.choices)
    lead_rows = [
        {"state": r["state"], "status": status_labels[r["status_reason"]], "count": r["count"]}
        for r in leads
    ]
    opportunities = (
        Opportunity.objects.values("stage__name", "stage__order", "state")
        .annotate(count=Count("id"), budget=Sum(in_base("budget_amount")))
        .order_by("stage__order", "state")
    )
    return render(
        request,
        "reports/index.html",
        {
            "lead_rows": lead_rows,
            "lead_total": sum(r["count"] for r in lead_rows),
            "opportunity_rows": list(opportunities),
            "base_currency": OrganizationSettings.load().base_currency,
            "can_see_manager_reports": is_manager(request.user),
        },
    )


class ReportPeriodForm(forms.Form):
    """The days a report covers, both included; empty ends default to the last 90 days."""

    start = forms.DateField(
        required=False,
        validators=REPORT_DATE_VALIDATORS,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Created from",
    )
    end = forms.DateField(
        required=False,
        validators=REPORT_DATE_VALIDATORS,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Created to",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.layout = Layout(
            Row(
                Column("start", css_class="col-auto"),
                Column("end", css_class="col-auto"),
                Column(
                    StrictButton("Show", type="submit", css_class="btn-primary mt-4"),
                    css_class="col-auto",
                ),
                css_class="align-items-start",
            )
        )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        data["end"] = data.get("end") or timezone.localdate()
        data["start"] = data.get("start") or data["end"] - timedelta(days=DEFAULT_REPORT_DAYS - 1)
        if data["start"] > data["end"]:
            raise forms.ValidationError("The start date must not be after the end date.")
        return data


def lead_source_report_view(request):
    """Leads by source for a period, and what became of them (managers only)."""
    if not is_manager(request.user):
        raise PermissionDenied("Only sales managers see the lead-source report.")
    form = ReportPeriodForm(request.GET)
    report = None
    if form.is_valid():
        report = lead_source_report(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
        if request.GET.get("format") == "csv":
            return _lead_source_csv(report)
        # Show the period the report covers, defaults included.
        form = ReportPeriodForm(initial={"start": report.start, "end": report.end})
    return render(
        request,
        "reports/lead_source_report.html",
        {"form": form, "report": report, "chart": report and _chart_data(report)},
    )


def _chart_data(report: LeadSourceReport) -> dict:
    return {
        "labels": [row.label for row in report.rows],
        "created": [row.created for row in report.rows],
        "qualified": [row.qualified for row in report.rows],
        "disqualified": [row.disqualified for row in report.rows],
    }


def _lead_source_csv(report: LeadSourceReport) -> HttpResponse:
    """The report's figures, one row per source then the total; won value in the
    base currency, then in one column per currency, unconverted (plain numbers, so
    spreadsheets can sum them)."""
    filename = f"lead-sources_{report.start.isoformat()}_{report.end.isoformat()}.csv"
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    writer = csv.writer(response)
    writer.writerow(
        [
            "Lead source",
            "Leads created",
            "Qualified",
            "Disqualified",
            "Qualification rate (%)",
            "Opportunities won",
            f"Won value {report.base_currency or 'base currency'} (all currencies)",
            *(f"Won value {code}" for code in report.currencies),
            "Average days to qualify",
        ]
    )
    for row in [*report.rows, report.total]:
        rate, days = row.qualification_rate, row.avg_days_to_qualify
        writer.writerow(
            [
                row.label,
                row.created,
                row.qualified,
                row.disqualified,
                "" if rate is None else f"{rate:.1f}",
                row.won,
                f"{row.won_base:.2f}",
                *(f"{value:.2f}" for value in row.won_values),
                "" if days is None else f"{days:.1f}",
            ]
        )
    return response
