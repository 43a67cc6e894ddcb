"""The notifications pages: the bell in the top bar (its unread count, asked for
by htmx after the page has loaded, so no page pays a query for it), the list
with email preferences, and opening or marking notifications read; and the
managers' page of background jobs, with their errors and a Retry."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import events, jobs
from .models import Job, Notification
from .permissions import is_manager


class EmailPreferencesForm(forms.Form):
    kinds = forms.MultipleChoiceField(
        label="Also email me when",
        choices=Notification.Kind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


def notification_list(request):
    page = Paginator(Notification.objects.filter(user=request.user), 50).get_page(
        request.GET.get("page")
    )
    form = EmailPreferencesForm(initial={"kinds": events.email_kinds(request.user)})
    return render(
        request,
        "crm/notifications.html",
        {"page": page, "form": form, "has_email": bool(request.user.email)},
    )


def bell(request):
    return render(request, "crm/_bell.html", {"unread": events.unread_count(request.user)})


@require_POST
def open_notification(request, pk: int):
    notification = events.mark_read(user=request.user, notification_id=pk)
    if notification is None:
        raise Http404("No such notification.")
    url = notification.url
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return redirect(url)
    return redirect("notifications:list")


@require_POST
def mark_all_read(request):
    events.mark_read(user=request.user)
    messages.success(request, "All notifications are marked read.")
    return redirect("notifications:list")


@require_POST
def email_preferences(request):
    form = EmailPreferencesForm(request.POST)
    if form.is_valid():
        events.set_email_kinds(user=request.user, kinds=form.cleaned_data["kinds"])
        messages.success(request, "Your email preferences are saved.")
    else:
        messages.error(request, "Choose from the kinds listed; nothing was changed.")
    return redirect("notifications:list")


# --- The managers' view of background jobs -----------------------------------------------


def _ensure_manager(request) -> None:
    if not is_manager(request.user):
        raise PermissionDenied("Only sales managers see the background jobs.")


def job_list(request):
    """Queued, running, failed and finished jobs, newest first, with their errors."""
    _ensure_manager(request)
    status = request.GET.get("status", "")
    found = Job.objects.select_related("created_by")
    if status in Job.Status.values:
        found = found.filter(status=status)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "crm/jobs.html",
        {"page": page, "status": status, "statuses": Job.Status.choices},
    )


@require_POST
def job_retry(request, pk: int):
    _ensure_manager(request)
    job = get_object_or_404(Job, pk=pk)
    if jobs.retry(job):
        messages.success(request, f"“{job.label}” is queued again.")
    else:
        messages.error(request, f"“{job.label}” has not failed; only a failed job is retried.")
    return redirect(reverse("jobs:list") + "?status=failed")
