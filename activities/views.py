from django.core.paginator import Paginator
from django.shortcuts import render

from .models import Activity


def my_activities(request):
    """The signed-in user's activities, open ones first by due date."""
    activities = Activity.objects.filter(owner=request.user).select_related(
        "lead", "account", "contact", "opportunity"
    )
    status = request.GET.get("status", Activity.Status.OPEN)
    if status in Activity.Status.values:
        activities = activities.filter(status=status)
    kind = request.GET.get("type", "")
    if kind in Activity.Type.values:
        activities = activities.filter(type=kind)
    activities = activities.order_by("due_at", "pk")
    page = Paginator(activities, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "activities/activity_list.html",
        {
            "page": page,
            "status": status,
            "type": kind,
            "statuses": Activity.Status.choices,
            "types": Activity.Type.choices,
        },
    )
