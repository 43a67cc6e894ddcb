from django.db.models import Count, Sum
from django.shortcuts import render

from leads.models import Lead
from opportunities.models import Opportunity


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
        Opportunity.objects.values("stage__name", "stage__order", "state", "currency__code")
        .annotate(count=Count("id"), budget=Sum("budget_amount"))
        .order_by("stage__order", "state", "currency__code")
    )
    return render(
        request,
        "crm/reports.html",
        {
            "lead_rows": lead_rows,
            "lead_total": sum(r["count"] for r in lead_rows),
            "opportunity_rows": list(opportunities),
        },
    )
