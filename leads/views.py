"""Lead pages. Views are thin: they parse input, call one service and turn its
refusal into a message or a form error."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Account, Contact
from crm.forms import add_service_errors
from crm.http import safe_next
from crm.models import OrganizationSettings, ProcessStage
from crm.permissions import can_change, can_delete, ensure_can_change, ensure_can_delete, is_manager
from crm.records import read_only_message
from crm.views import steps_view, switch_process_view

from . import bulk, csv_export, exports, scoring, selectors, services
from .exceptions import DuplicatesFound, LeadChanged, LeadError, error_message
from .filters import LeadFilter
from .forms import DisqualifyForm, LeadForm, LeadStepsForm, QualifyForm, loaded_time
from .listing import lead_page
from .listing.sorts import VIEW_DEFAULT_SORTS
from .models import BulkAction, Lead, LeadExport


def get_lead(pk: int) -> Lead:
    try:
        return selectors.lead_for_page(pk)
    except Lead.DoesNotExist:
        raise Http404("No such lead.") from None


def get_lead_for_change(request, pk: int) -> Lead:
    """The lead, if the user may change it (its owner or a manager); 403 otherwise."""
    lead = get_lead(pk)
    ensure_can_change(request.user, lead)
    return lead


def _refuse_inactive(request, lead: Lead):
    messages.error(request, f"Nothing was changed. {read_only_message(lead)}")
    return redirect(lead)


def _safe_next(request) -> str:
    """The list page to return to, if it is a URL of this site."""
    return safe_next(request, reverse("leads:list"))


def lead_list(request):
    view = request.GET.get("view", selectors.DEFAULT_VIEW)
    if view not in selectors.VIEWS:
        view = selectors.DEFAULT_VIEW
    base = selectors.lead_list(user=request.user, view=view)
    lead_filter = LeadFilter(request.GET or None, queryset=base)
    leads = lead_filter.qs if lead_filter.is_bound else base
    page = lead_page(
        leads,
        sort=request.GET.get("sort") or VIEW_DEFAULT_SORTS.get(view),
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        per_page=django_settings.LEADS_PER_PAGE,
        view=view,
        user=request.user,
        narrowed_by=lead_filter.narrowing(),
        search=(lead_filter.form.cleaned_data.get("q") or "") if lead_filter.is_valid() else "",
    )
    active_filters = bool(
        lead_filter.is_bound
        and any(v for k, v in request.GET.items() if k not in ("view", "sort", "after", "before"))
    )
    return render(
        request,
        "leads/lead_list.html",
        {
            "view": view,
            "views": selectors.VIEWS,
            "view_title": selectors.VIEWS[view],
            "filter": lead_filter,
            "page": page,
            "sort": page.sort,
            "active_filters": active_filters,
            # Only open leads can be qualified or disqualified: Closed Leads offers neither.
            "bulk_actions": view != "closed",
            # Scores are for open leads: a closed lead's is where it stopped.
            "show_score": view != "closed",
            "qualify_form": _qualify_form(),
            "disqualify_reasons": Lead.DISQUALIFY_REASONS,
        },
    )


def _qualify_form(data=None, *, lead: Lead | None = None) -> QualifyForm:
    """The qualify dialog as the organisation settings ask for it, for `lead`
    (or for a bulk qualify)."""
    settings = OrganizationSettings.load()
    return QualifyForm(
        data,
        ask_records=not settings.create_records_on_qualify,
        lead=lead,
        default_currency=settings.default_currency,
    )


def lead_detail(request, pk: int):
    lead = get_lead(pk)
    return render(
        request,
        "leads/lead_detail.html",
        {
            "lead": lead,
            "record": lead,
            "can_change": can_change(request.user, lead),
            "can_delete": can_delete(request.user, lead),
            "disqualify_reasons": Lead.DISQUALIFY_REASONS,
            "qualify_form": _qualify_form(lead=lead),
        },
    )


def lead_score(request, pk: int):
    """The lead's score explained, with its history: the lead page loads it
    after the page (htmx); opened directly, it is a page of its own."""
    lead = get_lead(pk)
    context = {
        "lead": lead,
        "explanation": scoring.explain(lead),
        "chart": scoring.chart(scoring.history(lead)),
    }
    if request.headers.get("HX-Request"):
        return render(request, "leads/_score_panel.html", context)
    return render(request, "leads/score.html", context)


def lead_create(request):
    can_assign = is_manager(request.user)
    form = LeadForm(request.POST or None, user=request.user, can_assign=can_assign)
    if request.method == "POST" and form.is_valid():
        try:
            fields = form.service_fields()
            if not can_assign:
                # A rep's own new lead stays theirs; routing is for leads created
                # without an owner (a manager leaving the field blank, imports).
                fields["owner"] = request.user
            lead = services.create_lead(user=request.user, **fields)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Lead “{lead.topic}” created.")
            return redirect(lead)
    return render(request, "leads/lead_form.html", {"form": form, "lead": None})


def lead_edit(request, pk: int):
    lead = get_lead_for_change(request, pk)
    if not lead.is_active:
        return _refuse_inactive(request, lead)
    can_assign = is_manager(request.user)
    form = LeadForm(request.POST or None, instance=lead, user=request.user, can_assign=can_assign)
    status = 200
    if request.method == "POST" and form.is_valid():
        changed = {k: v for k, v in form.service_fields().items() if k in form.changed_data}
        try:
            services.update_lead(
                lead=Lead(pk=lead.pk),
                user=request.user,
                expected_modified_at=form.cleaned_data.get("loaded_modified_at"),
                **changed,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except LeadChanged as exc:
            form.add_error(None, exc.message)
            status = 409
        except LeadError as exc:
            messages.error(request, exc.message)
            return redirect(lead)
        else:
            messages.success(request, "Lead saved.")
            return redirect(lead)
    return render(request, "leads/lead_form.html", {"form": form, "lead": lead}, status=status)


def _as_fields(options: dict) -> dict[str, str]:
    """The qualify dialog's answers as the hidden fields that carry them to the
    duplicate warning's next step."""
    return {
        k: ("yes" if v is True else "no" if v is False else str(v.pk)) for k, v in options.items()
    }


def lead_steps(request, pk: int, edit: bool = False):
    """The lead's Qualify steps on its stage bar, read or (`edit`) filled in (htmx)."""
    lead = get_lead(pk)

    def save(**changes):
        return services.update_lead(
            lead=Lead(pk=lead.pk),
            user=request.user,
            expected_modified_at=form_time(request),
            **changes,
        )

    return steps_view(
        request,
        lead,
        edit=edit,
        form_class=LeadStepsForm,
        editable=services.EDITABLE_FIELDS,
        save=save,
        refusals=(LeadError,),
    )


def form_time(request) -> datetime | None:
    """When the steps form was loaded (its hidden field), for update_lead's check."""
    try:
        return loaded_time(request.POST.get("loaded_modified_at"))
    except ValidationError:
        return None


def lead_switch_process(request, pk: int):
    """ "Switch process" on the lead's stage bar."""
    lead = get_lead(pk)
    return switch_process_view(
        request,
        lead,
        entity=ProcessStage.Entity.LEAD,
        switch=lambda flow: services.switch_lead_process(lead=lead, user=request.user, flow=flow),
        refusals=(LeadError,),
    )


def _picked(model, value):
    if not value:
        return None
    try:
        return model.objects.get(pk=int(value))
    except (ValueError, model.DoesNotExist):
        raise ValidationError(f"The chosen {model._meta.verbose_name} no longer exists.") from None


@require_POST
def lead_qualify(request, pk: int):
    lead = get_lead_for_change(request, pk)
    if not lead.is_active:
        return _refuse_inactive(request, lead)
    form = _qualify_form(request.POST, lead=lead)
    if not form.asked(request.POST):
        # A bare Qualify (no script for the dialog): ask on a page of its own.
        return render(
            request, "leads/qualify.html", {"lead": lead, "form": _qualify_form(lead=lead)}
        )
    if not form.is_valid():
        return render(request, "leads/qualify.html", {"lead": lead, "form": form}, status=400)
    options = form.options()
    try:
        existing_account = _picked(Account, request.POST.get("existing_account"))
        existing_contact = _picked(Contact, request.POST.get("existing_contact"))
        result = services.qualify_lead(
            lead=lead,
            user=request.user,
            existing_account=existing_account,
            existing_contact=existing_contact,
            ignore_duplicates=request.POST.get("resolved") == "1",
            **options,
        )
    except DuplicatesFound as exc:
        return render(
            request,
            "leads/duplicates.html",
            {
                "lead": lead,
                "accounts": exc.accounts,
                "contacts": exc.contacts,
                "options": _as_fields(options),
            },
        )
    except (LeadError, ValidationError) as exc:
        messages.error(request, f"The lead was not qualified: {error_message(exc)}")
        return redirect(lead)
    created = [
        f"{label} “{obj}”"
        for label, obj in (
            ("account", result.account),
            ("contact", result.contact),
            ("opportunity", result.opportunity),
        )
        if obj is not None
    ]
    summary = f" Created {', '.join(created)}." if created else " No new records were created."
    messages.success(request, f"Lead qualified.{summary}")
    return redirect(result.opportunity or lead)


@require_POST
def lead_disqualify(request, pk: int):
    lead = get_lead_for_change(request, pk)
    if not lead.is_active:
        return _refuse_inactive(request, lead)
    form = DisqualifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a reason to disqualify the lead; nothing was changed.")
        return redirect(lead)
    try:
        services.disqualify_lead(lead=lead, user=request.user, reason=form.cleaned_data["reason"])
    except LeadError as exc:
        messages.error(request, f"The lead was not disqualified: {error_message(exc)}")
    else:
        messages.success(request, f"Lead disqualified: {lead.get_status_reason_display()}.")
    return redirect(lead)


@require_POST
def lead_reactivate(request, pk: int):
    lead = get_lead_for_change(request, pk)
    try:
        services.reactivate_lead(lead=lead, user=request.user)
    except LeadError as exc:
        messages.error(request, f"The lead was not reactivated: {error_message(exc)}")
    else:
        messages.success(request, "Lead reactivated: it is open again.")
    return redirect(lead)


@require_POST
def lead_delete(request, pk: int):
    lead = get_lead(pk)
    ensure_can_delete(request.user, lead)
    try:
        services.delete_lead(lead=lead, user=request.user)
    except LeadError as exc:
        messages.error(request, f"The lead was not deleted: {error_message(exc)}")
        return redirect(lead)
    messages.success(request, f"Lead “{lead.topic}” deleted.")
    return redirect("leads:list")


def _selected_ids(request) -> list[int]:
    ids = []
    for value in request.POST.getlist("lead_ids"):
        try:
            ids.append(int(value))
        except ValueError:
            continue
    return [i for i in ids if 0 < i < 2**63]  # no lead has another id


def _selected_leads(ids: list[int]) -> list[Lead]:
    return list(Lead.objects.filter(pk__in=ids).select_related("owner").order_by("pk"))


def _record_id(value: str) -> int | None:
    """A chosen record's id from a radio button: None for "create new"; 0 (no
    record's id, so the service says it no longer exists) for anything else."""
    if not value:
        return None
    return int(value) if value.isdigit() and 0 < int(value) < 2**63 else 0


def _duplicate_answers(request, ids: list[int]) -> dict[int, dict]:
    """How the rep resolved each lead's duplicates on the bulk result page: the
    matching account and contact to link, or none (create new records)."""
    if request.POST.get("resolved") != "1":
        return {}
    return {
        i: {
            "existing_account": _record_id(request.POST.get(f"existing_account_{i}", "")),
            "existing_contact": _record_id(request.POST.get(f"existing_contact_{i}", "")),
            "ignore_duplicates": True,
        }
        for i in ids
    }


def _bulk_result(request, results, *, action: str, options: dict | None = None):
    succeeded = [r for r in results if r.ok]
    failed = [(r, error_message(r.error)) for r in results if not r.ok]
    duplicates = [
        {
            "lead": r.lead,
            "accounts": r.error.accounts,
            "contacts": r.error.contacts,
            "suffix": f"_{r.lead.pk}",
        }
        for r in results
        if isinstance(r.error, DuplicatesFound)
    ]
    if succeeded:
        messages.success(request, f"{len(succeeded)} of {len(results)} lead(s) {action}.")
    refused = len(failed) - len(duplicates)
    if refused:
        messages.error(request, f"{refused} lead(s) could not be {action}; see below.")
    if duplicates:
        messages.warning(
            request,
            f"{len(duplicates)} lead(s) may duplicate existing records: resolve them below to "
            "qualify them too.",
        )
    return render(
        request,
        "leads/bulk_result.html",
        {
            "action": action,
            "succeeded": succeeded,
            "failed": [(r, why) for r, why in failed if not isinstance(r.error, DuplicatesFound)],
            "duplicates": duplicates,
            "options": _as_fields(options or {}),
            "total": len(results),
            "next": _safe_next(request),
        },
    )


def _every_lead_of_the_list(request) -> bool:
    """Whether the rep chose every open lead of the list, not a page's selection."""
    return request.POST.get("all_matching") == "1"


def _start_bulk(request, action: str, options: dict):
    """Every open lead of the list: a background job, and the page that follows it."""
    try:
        found = bulk.start_bulk_action(
            user=request.user, action=action, query=request.POST.get("query", ""), options=options
        )
    except LeadError as exc:
        messages.error(request, error_message(exc))
        return redirect(_safe_next(request))
    return redirect(found)


@require_POST
def lead_bulk_qualify(request):
    ids = _selected_ids(request)
    every = _every_lead_of_the_list(request)
    if not ids and not every:
        messages.error(request, "Select at least one lead to qualify.")
        return redirect(_safe_next(request))
    form = _qualify_form(request.POST)
    if not form.asked(request.POST) or not form.is_valid():
        messages.error(
            request,
            "Choose Yes or No for account, contact and opportunity, and a currency from the "
            "list; nothing was changed.",
        )
        return redirect(_safe_next(request))
    options = form.options()
    if every:
        return _start_bulk(request, BulkAction.Action.QUALIFY, options)
    results = services.qualify_leads(
        leads=_selected_leads(ids),
        user=request.user,
        per_lead=_duplicate_answers(request, ids),
        **options,
    )
    return _bulk_result(request, results, action="qualified", options=options)


@require_POST
def lead_bulk_disqualify(request):
    ids = _selected_ids(request)
    every = _every_lead_of_the_list(request)
    if not ids and not every:
        messages.error(request, "Select at least one lead to disqualify.")
        return redirect(_safe_next(request))
    form = DisqualifyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a reason to disqualify the leads; nothing was changed.")
        return redirect(_safe_next(request))
    if every:
        return _start_bulk(
            request, BulkAction.Action.DISQUALIFY, {"reason": form.cleaned_data["reason"]}
        )
    results = services.disqualify_leads(
        leads=_selected_leads(ids), user=request.user, reason=form.cleaned_data["reason"]
    )
    return _bulk_result(request, results, action="disqualified")


def lead_bulk_status(request, pk: int):
    """A bulk action in the background: how far it got (htmx asks again until it
    has finished), and each lead it could not act on, with why."""
    found = get_object_or_404(BulkAction.objects.select_related("owner"), pk=pk)
    if found.owner_id != request.user.pk:
        raise PermissionDenied("Only the person who started this bulk action sees it.")
    refused = found.outcomes.filter(ok=False).select_related("lead")
    context = {
        "bulk": found,
        "refused": Paginator(refused.order_by("pk"), 50).get_page(request.GET.get("page")),
    }
    if request.headers.get("HX-Request"):
        response = render(request, "leads/_bulk_status.html", context)
        if found.status == BulkAction.Status.DONE:
            response["HX-Trigger"] = "notificationsChanged"
        return response
    return render(request, "leads/bulk_status.html", context)


def lead_export(request):
    """The list view the query string shows (view, filters, search, sort) as a CSV
    file, streamed; a list too big for that is offered to a worker instead."""
    query = request.GET.urlencode()
    if exports.too_big_to_stream(user=request.user, query=query):
        return render(
            request,
            "leads/export_confirm.html",
            {"query": query, "limit": exports.stream_max_rows()},
        )
    lines = csv_export.csv_lines(csv_export.lead_rows(user=request.user, params=request.GET))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    return response


@require_POST
def lead_export_start(request):
    export = exports.start_export(user=request.user, query=request.POST.get("query", ""))
    return redirect(export)


def _own_export(request, pk: int) -> LeadExport:
    export = get_object_or_404(LeadExport, pk=pk)
    exports.ensure_can_download(request.user, export)
    return export


def lead_export_status(request, pk: int):
    """The export being prepared (htmx asks again until it is ready), then its link."""
    export = _own_export(request, pk)
    template = "leads/_export_status.html" if request.headers.get("HX-Request") else None
    response = render(
        request,
        template or "leads/export_status.html",
        {"export": export, "list_query": export.query},
    )
    if template and export.status != LeadExport.Status.QUEUED:
        response["HX-Trigger"] = "notificationsChanged"
    return response


def lead_export_download(request, pk: int):
    export = _own_export(request, pk)
    if export.status != LeadExport.Status.READY or not export.file:
        return render(request, "leads/export_status.html", {"export": export}, status=410)
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=export.file_name)
